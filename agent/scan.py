"""One scan of the machine: every probe, each in its own time budget, into one report."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psutil
from google.protobuf import json_format
from google.protobuf.message import Message

from farmwatch.v1 import report_pb2

from .probes import PROBES, Collect, Probe, ProbeContext
from .probes.context import SysrootError

__all__ = ["SysrootError", "build_report", "report_to_json"]

# Command lines are the one part of a report any user can make as large as they like (Linux
# allows ~2 MB of arguments per process); past these limits they are cut, so that a report
# always fits the collector's message limit (4 MiB) and cannot be kept from it.
ARGUMENT_MAX_CHARS = 4096
COMMAND_LINE_MAX_CHARS = 16384
REPORT_COMMAND_LINES_MAX_CHARS = 512 * 1024
# probe name → the worker thread of a run that outlived its budget and has not ended yet
_stuck_workers: dict[str, threading.Thread] = {}
_stuck_lock = threading.Lock()


@dataclass
class _ProbeRun:
    """One probe running in a worker thread; the scan reads it only once it finished."""

    ctx: ProbeContext
    result: Any = None
    failure: BaseException | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)

    def run(self, collect: Collect) -> None:
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            self.result = collect(self.ctx)
        except Exception as exc:  # noqa: BLE001 - a probe bug must not end the scan
            self.failure = exc
        finally:
            self.seconds = time.perf_counter() - started
            self.cpu_seconds = time.thread_time() - cpu_started
            self.done.set()


def build_report(
    sysroot: str | os.PathLike | None = None,
    *,
    probe_budget_seconds: float = 10.0,
    probes: Mapping[str, Collect] | None = None,
) -> report_pb2.AgentReport:
    """Scan the live machine (sysroot None) or a tree standing in for one.

    ``sequence`` is left at 0: the runner numbers reports. ``probes`` replaces the
    registry (tests, or a runner that wants a subset). Raises SysrootError when
    ``sysroot`` is not a directory."""
    wall_started, cpu_started = time.perf_counter(), time.thread_time()
    ctx = ProbeContext.create(sysroot)
    report = report_pb2.AgentReport(report_id=str(uuid.uuid4()))
    report.collected_at.FromDatetime(ctx.now)
    probe_cpu = 0.0
    for name, collect in (PROBES if probes is None else probes).items():
        run = _run_probe(ctx.for_probe(name), collect, probe_budget_seconds)
        probe_cpu += _record_probe(report, name, _report_field(name, collect), run, probe_budget_seconds)
    report.device_id = report.host.serial_number
    _fit_command_lines(report)
    stats = report.agent_stats
    stats.wall_seconds = time.perf_counter() - wall_started
    stats.cpu_seconds = time.thread_time() - cpu_started + probe_cpu
    stats.rss_bytes = psutil.Process().memory_info().rss
    return report


def _fit_command_lines(report: report_pb2.AgentReport) -> None:
    """Cut overlong command lines. The report's budget goes to the shortest ones first, so a few
    huge command lines cannot push out the short ones rules read (`ssh -R …`, `--IPCport`)."""
    budget, cut = REPORT_COMMAND_LINES_MAX_CHARS, 0
    for process in sorted(report.processes, key=lambda p: sum(map(len, p.cmdline))):
        kept = _clipped(process.cmdline, min(COMMAND_LINE_MAX_CHARS, budget))
        if kept is not None:
            process.cmdline[:] = kept
            cut += 1
        budget -= sum(map(len, process.cmdline))
    if cut:
        report.probe_errors.add(probe="processes", error=f"command lines of {cut} process(es) cut to fit "
                                f"the report ({ARGUMENT_MAX_CHARS} characters an argument, {COMMAND_LINE_MAX_CHARS} "
                                f"a process, {REPORT_COMMAND_LINES_MAX_CHARS} in all)")


def _clipped(arguments, limit: int) -> list[str] | None:
    """The arguments cut to `limit` characters (the program always kept), or None if they fit."""
    kept, used = [], 0
    for index, argument in enumerate(arguments):
        if len(argument) > ARGUMENT_MAX_CHARS:
            argument = f"{argument[:ARGUMENT_MAX_CHARS]}…[{len(argument) - ARGUMENT_MAX_CHARS} characters cut]"
        if kept and used + len(argument) > limit:
            left = len(arguments) - index
            kept.append(f"…[{left} argument{'s' if left > 1 else ''} cut]")
            break
        kept.append(argument)
        used += len(argument)
    return None if kept == list(arguments) else kept


def report_to_json(report: report_pb2.AgentReport, indent: int | None = 2) -> str:
    return json_format.MessageToJson(report, preserving_proto_field_name=True, indent=indent)


def _run_probe(ctx: ProbeContext, collect: Collect, budget_seconds: float) -> _ProbeRun | None:
    """The probe's run, or None when its previous run is still stuck: a probe hung on a
    dead mount or driver would otherwise leave one more thread behind every scan."""
    with _stuck_lock:
        previous = _stuck_workers.get(ctx.probe)
        if previous is not None and previous.is_alive():
            return None
    run = _ProbeRun(ctx=ctx)
    # A daemon thread: a probe stuck in a hung read must not keep the agent from exiting.
    worker = threading.Thread(target=run.run, args=(collect,), name=f"probe-{ctx.probe}", daemon=True)
    worker.start()
    if not run.done.wait(budget_seconds):
        with _stuck_lock:
            _stuck_workers[ctx.probe] = worker
    return run


def _report_field(name: str, collect: Collect) -> str:
    """Where a probe's result goes in the report: its declared field; a bare collect function
    standing in for a registered probe (tests) fills that probe's field."""
    probe = collect if isinstance(collect, Probe) else PROBES.get(name)
    return name if probe is None else probe.field


def _record_probe(report: report_pb2.AgentReport, name: str, field_name: str, run: _ProbeRun | None,
                  budget_seconds: float) -> float:
    """Put a probe's outcome into the report, in `field_name`; returns the CPU it used."""
    if run is None or not run.done.is_set():
        report.agent_stats.probes_skipped.append(name)
        report.agent_stats.probe_seconds[name] = 0.0 if run is None else budget_seconds
        reason = "its previous run is still stuck" if run is None else f"still running after {budget_seconds:g} s"
        report.probe_errors.add(probe=name, error=f"skipped: {reason}")
        return 0.0
    report.agent_stats.probe_seconds[name] = run.seconds
    report.probe_errors.extend(run.ctx.errors)
    if run.failure is not None:
        report.probe_errors.add(probe=name, error=f"failed: {type(run.failure).__name__}: {run.failure}")
    elif run.result is not None:
        _place(report, field_name, run.result)
    return run.cpu_seconds


def _place(report: report_pb2.AgentReport, field_name: str, result: Any) -> None:
    if isinstance(result, Message):
        getattr(report, field_name).CopyFrom(result)
    else:
        getattr(report, field_name).extend(result)
