"""Fill farmwatch-agent.mobileconfig.template with a collector address, its CA and a token.

    python packaging/macos/render_mobileconfig.py --collector collector.example.com:7443 \\
        --ca-cert /srv/fw/pki/ca.crt --token-file token.txt --organization "Example Corp" \\
        --out farmwatch-agent.mobileconfig

Upload the result to Jamf Pro (Configuration Profiles → Upload) or Kandji (Library → Custom
Profile). The values are checked the way the agent will check them, so a profile that renders
is one the agent can enroll with. The payload UUIDs are derived from the organization and the
collector: rendering again with a new token gives the same profile identity, so the MDM
replaces the installed profile instead of adding a second one.
"""
from __future__ import annotations

import argparse
import plistlib
import re
import sys
import uuid
from pathlib import Path

from farmwatch.agent.provision import PROFILE_DOMAIN, EnrollmentSettings, ProvisionError

TEMPLATE = Path(__file__).resolve().parent / "farmwatch-agent.mobileconfig.template"
PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")
OPTIONAL = {"SERVER_NAME"}  # an empty optional value drops its key from the payload


def profile_uuids(organization: str, collector: str) -> dict[str, str]:
    scope = f"{PROFILE_DOMAIN}|{organization}|{collector}"
    return {name: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}|{name}")).upper()
            for name in ("PROFILE_UUID", "PAYLOAD_UUID")}


def fill(node, values: dict[str, str]):
    """`node` with every "${NAME}" string replaced; dict keys whose optional value is empty dropped."""
    if isinstance(node, dict):
        filled = {key: fill(value, values) for key, value in node.items()}
        return {key: value for key, value in filled.items() if value is not None}
    if isinstance(node, list):
        return [fill(item, values) for item in node]
    if isinstance(node, str):
        match = PLACEHOLDER.fullmatch(node)
        if match is None:
            if PLACEHOLDER.search(node):
                raise ValueError(f"placeholder inside other text in the template: {node!r}")
            return node
        name = match.group(1)
        if name not in values:
            raise ValueError(f"the template asks for {name}, which nothing provides")
        if values[name]:
            return values[name]
        if name in OPTIONAL:
            return None
        raise ValueError(f"{name} must not be empty")
    return node


def render(settings: EnrollmentSettings, organization: str, template: Path = TEMPLATE) -> bytes:
    settings.check()
    values = {
        "COLLECTOR": settings.collector,
        "CA_CERTIFICATE": settings.ca_pem.decode().strip(),
        "ENROLLMENT_TOKEN": settings.token.strip(),
        "SERVER_NAME": settings.server_name,
        "ORGANIZATION": organization,
        **profile_uuids(organization, settings.collector),
    }
    with open(template, "rb") as handle:
        profile = fill(plistlib.load(handle), values)
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the farmwatch agent's configuration profile.")
    parser.add_argument("--collector", required=True, metavar="HOST:PORT")
    parser.add_argument("--ca-cert", required=True, type=Path, metavar="FILE", help="HOME/pki/ca.crt")
    parser.add_argument("--token-file", required=True, type=Path, metavar="FILE")
    parser.add_argument("--server-name", default="", metavar="NAME",
                        help="TLS name on the collector's certificate, when it differs from HOST")
    parser.add_argument("--organization", required=True, help="shown in System Settings → Profiles")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE")
    args = parser.parse_args(argv)
    try:
        settings = EnrollmentSettings(collector=args.collector, ca_pem=args.ca_cert.read_bytes(),
                                      token=args.token_file.read_text(), server_name=args.server_name)
        data = render(settings, args.organization)
    except (OSError, ProvisionError, ValueError) as exc:
        print(f"render_mobileconfig: error: {exc}", file=sys.stderr)
        return 1
    args.out.write_bytes(data)
    args.out.chmod(0o600)  # it carries a live enrollment token
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
