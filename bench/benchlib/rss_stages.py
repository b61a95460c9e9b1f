"""What `farmwatch-agent run` does, step by step in this one fresh process, with VmRSS and
VmHWM after each step; prints a JSON list. Run by bench/agent.py with an enrolled state dir:

    python bench/benchlib/rss_stages.py STATE_DIR

Only the standard library is imported before the agent, so the first step is the bare interpreter.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(state_dir: str) -> None:
    stages = [_stage("interpreter")]
    import farmwatch.agent.cli  # noqa: F401  (the farmwatch-agent entry point's imports come first)
    from farmwatch.agent.run import Agent, run_once
    from farmwatch.agent.state import StateDir

    stages.append(_stage("imports (agent.cli, agent.run)"))
    agent = Agent(StateDir(Path(state_dir)))
    for number in (1, 2, 3):
        delivered = run_once(agent).delivered
        stages.append(_stage(f"report {number}: scan, spool, send ({'delivered' if delivered else 'NOT delivered'})"))
    agent.close()
    print(json.dumps(stages))


def _stage(name: str) -> dict:
    return {"stage": name, "rss_mib": _status_mib("VmRSS"), "peak_mib": _status_mib("VmHWM")}


def _status_mib(field: str) -> float:
    for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no {field} in /proc/self/status")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} STATE_DIR (an enrolled agent's)")
    main(sys.argv[1])
