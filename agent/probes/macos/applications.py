"""Installed software on a Mac: application bundles and launchd jobs.

Bundles come from /Applications (and the folders vendors nest there, such as
/Applications/Utilities or /Applications/Zscaler) and each user's ~/Applications, read
from their Info.plist. LaunchAgents and LaunchDaemons are how remote-control tools keep
running without a window, so every job plist is reported as a "launchd" entry named by
its Label.
"""

from __future__ import annotations

from farmwatch.v1 import report_pb2

from ..context import ProbeContext
from ._plist import read_plist
from ._users import user_homes

APPLICATION_DIRS = ("/Applications",)
LAUNCHD_DIRS = ("/Library/LaunchDaemons", "/Library/LaunchAgents")
_USER_APPLICATIONS = "Applications"
_USER_LAUNCH_AGENTS = "Library/LaunchAgents"
_BUNDLE_SUFFIX = ".app"


def collect(ctx: ProbeContext) -> list[report_pb2.Application]:
    homes = user_homes(ctx)
    folders = [*APPLICATION_DIRS, *(f"{home}/{_USER_APPLICATIONS}" for home in homes)]
    job_folders = [*LAUNCHD_DIRS, *(f"{home}/{_USER_LAUNCH_AGENTS}" for home in homes)]
    bundles = [app for folder in folders for app in application_bundles(ctx, folder)]
    return bundles + [job for folder in job_folders for job in launchd_jobs(ctx, folder)]


def application_bundles(ctx: ProbeContext, folder: str) -> list[report_pb2.Application]:
    """Bundles in ``folder`` and in its plain subfolders, one level down."""
    apps = []
    for name in ctx.list_dir(folder):
        path = f"{folder}/{name}"
        if name.endswith(_BUNDLE_SUFFIX):
            apps.append(bundle_application(ctx, path))
        elif not name.startswith(".") and ctx.is_dir(path):
            apps += [bundle_application(ctx, f"{path}/{inner}") for inner in ctx.list_dir(path)
                     if inner.endswith(_BUNDLE_SUFFIX)]
    return apps


def bundle_application(ctx: ProbeContext, path: str) -> report_pb2.Application:
    info = read_plist(ctx, f"{path}/Contents/Info.plist")
    if info is None:
        ctx.gap(f"{path}: no readable Contents/Info.plist")
        info = {}
    return report_pb2.Application(
        name=path.rsplit("/", 1)[1].removesuffix(_BUNDLE_SUFFIX),  # as Finder shows it
        version=str(info.get("CFBundleShortVersionString") or info.get("CFBundleVersion") or ""),
        path=path,
        bundle_id=str(info.get("CFBundleIdentifier", "")),
        source="app_bundle",
    )


def launchd_jobs(ctx: ProbeContext, folder: str) -> list[report_pb2.Application]:
    jobs = []
    for name in ctx.list_dir(folder):
        if not name.endswith(".plist"):
            continue
        path = f"{folder}/{name}"
        job = read_plist(ctx, path) or {}
        label = str(job.get("Label") or name.removesuffix(".plist"))
        jobs.append(report_pb2.Application(name=label, path=path, bundle_id=label, source="launchd"))
    return jobs
