"""An agent process for kill -9 tests: `python agent_child.py STATE_DIR` reports as fast as it can.

It runs the agent's real schedule (`runner.run_forever`) with a made-up scan; its log lines on
stderr ("report spooled …", "report delivered …") tell the test what was committed.
"""
from __future__ import annotations

import logging
import sys
import threading

from agent_fleet import scanner_for
from farmwatch.agent import run as runner
from farmwatch.agent.state import StateDir


def main(state_dir: str) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    state = StateDir(state_dir)
    device_id = state.load_config().device_id
    runner.run_forever(state, threading.Event(), interval=0.005, scanner=scanner_for(device_id))


if __name__ == "__main__":
    main(sys.argv[1])
