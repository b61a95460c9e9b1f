"""Regenerate the scenario corpus: one AgentReport JSON per scenario, in a folder named for its verdict.

    .venv/bin/python tests/scenarios/build.py            # rewrite the committed corpus and README table
    .venv/bin/python tests/scenarios/build.py --out DIR  # write corpus and README elsewhere (tests compare)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from google.protobuf import json_format

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import linux_laptop  # noqa: E402  (the folder is not a package; the path line above makes these importable)
import macos_laptop  # noqa: E402
import windows_laptop  # noqa: E402
from assemble import build_report  # noqa: E402
from catalogue import SCENARIOS, Scenario  # noqa: E402

LAPTOPS = {
    "windows": (windows_laptop.IDENTITY, windows_laptop.content, ()),
    "macos": (macos_laptop.IDENTITY, macos_laptop.content, macos_laptop.PROBE_ERRORS),
    "linux": (linux_laptop.IDENTITY, linux_laptop.content, ()),
}
TABLE_BEGIN, TABLE_END = "<!-- scenario-table:begin -->", "<!-- scenario-table:end -->"


def report_json(scenario: Scenario) -> str:
    """The report as `json_format.MessageToJson(..., preserving_proto_field_name=True, indent=1)` prints it.

    MessageToJson is json.dumps over MessageToDict; going through the dict lets us sort the one
    protobuf map (agent_stats.probe_seconds), whose iteration order changes between processes.
    """
    identity, content, probe_errors = LAPTOPS[scenario.os]
    report = build_report(scenario.name, identity, content(), scenario.delta, probe_errors)
    data = json_format.MessageToDict(report, preserving_proto_field_name=True)
    stats = data["agent_stats"]
    stats["probe_seconds"] = dict(sorted(stats["probe_seconds"].items()))
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def write_corpus(out: Path) -> list[Path]:
    names = [s.name for s in SCENARIOS]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise SystemExit(f"duplicate scenario names: {sorted(duplicates)}")
    written = []
    for scenario in SCENARIOS:
        path = out / scenario.verdict / f"{scenario.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report_json(scenario), encoding="utf-8")
        written.append(path)
    return written


def remove_stale(out: Path, written: list[Path]) -> None:
    """Drop reports of scenarios that were renamed or moved to another verdict folder."""
    keep = set(written)
    for verdict in sorted({s.verdict for s in SCENARIOS}):
        for path in (out / verdict).glob("*.json"):
            if path not in keep:
                path.unlink()


def scenario_table() -> str:
    summary = ", ".join(f"{n} {verdict}" for verdict, n in Counter(s.verdict for s in SCENARIOS).items())
    rows = [f"{len(SCENARIOS)} scenarios: {summary}.", "",
            "| folder | scenario | OS | what it represents | research fact |", "| --- | --- | --- | --- | --- |"]
    rows += [f"| {s.verdict} | `{s.name}` | {s.os} | {s.what} | {s.fact} |" for s in SCENARIOS]
    return "\n".join(rows)


def write_readme(target: Path) -> None:
    """This folder's README with the scenario table regenerated, written to `target`."""
    text = (HERE / "README.md").read_text(encoding="utf-8")
    head, rest = text.split(TABLE_BEGIN, 1)
    _, tail = rest.split(TABLE_END, 1)
    target.write_text(f"{head}{TABLE_BEGIN}\n{scenario_table()}\n{TABLE_END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="corpus root (default: this folder)")
    args = parser.parse_args(argv)
    written = write_corpus(args.out)
    remove_stale(args.out, written)
    write_readme(args.out / "README.md")
    print(f"wrote {len(written)} scenarios under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
