"""docs/deploy.md: every command it tells IT to run exists and parses, every file it names is in
the repository, and every module it runs is an agent module."""
from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from farmwatch.agent import cli as agent_cli
from farmwatch.agent import provision
from farmwatch.collector import cli as collector_cli

REPO = Path(__file__).resolve().parents[1]
GUIDE = (REPO / "docs" / "deploy.md").read_text()


def command_lines(program: str) -> list[str]:
    """Each `program …` invocation in the guide's code blocks and inline code, continuations joined."""
    text = GUIDE.replace("\\\n", " ")
    found = re.findall(rf"(?:^|`|sudo (?:-u farmwatch )?)({re.escape(program)} [^`\n#|]*)", text, re.M)
    return [" ".join(line.split()) for line in found]


def parse(parser, line: str):
    argv = [arg for arg in shlex.split(line)[1:] if arg != "…"]
    return parser.parse_args(argv)


def test_guide_names_only_files_that_exist():
    paths = set(re.findall(r"\b((?:packaging|docs|agent|collector)/[\w./-]+\w)", GUIDE))
    assert paths, "the guide names no repository files"
    missing = sorted(p for p in paths if not (REPO / p).exists())
    assert missing == []


def test_guide_runs_only_agent_modules_that_exist():
    modules = set(re.findall(r"-m (farmwatch\.agent\.\w+)", GUIDE))
    assert "farmwatch.agent.provision" in modules
    assert all(importlib.util.find_spec(module) for module in modules)


@pytest.mark.parametrize("line", command_lines("farmwatch-collector"))
def test_collector_commands_in_the_guide_parse(line):
    parse(collector_cli.build_parser(), line.replace(" ID", " 1").replace("C02XK1ABCDEF", "SN1"))


def test_guide_walks_from_token_to_devices():
    commands = command_lines("farmwatch-collector")
    verbs = [" ".join(c.split()[3:5]) for c in commands]
    assert "token create" in verbs and "pki init" in verbs and "serve --listen" in verbs
    assert any(c.split()[3] == "devices" for c in commands)


def test_provision_commands_in_the_guide_parse():
    text = GUIDE.replace("\\\n", " ")
    lines = re.findall(r"-m farmwatch\.agent\.provision\s+(--[^`\n]*)", text)
    assert len(lines) >= 3
    for line in lines:
        args = provision.build_parser().parse_args([a.replace("…", "x") for a in shlex.split(line)])
        assert args.collector and args.ca_cert and args.token_file


def test_agent_commands_in_the_guide_parse():
    lines = command_lines("farmwatch-agent")
    assert any("status" in line for line in lines)
    for line in lines:
        if "enroll" in line:
            line += " --collector h:1 --token-file t --ca-cert c"
        parse(agent_cli.build_parser(), line.replace("…", "/var/lib/farmwatch"))
