"""The layout's rules (README "Layout", docs/design.md "Where code goes"), checked so a change that
breaks one is told at once rather than by the next reviewer."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("agent", "analyst", "collector", "common", "demo")
MAX_MODULE_LINES = 500
# A statement the database runs, not a word in prose: the verb and what it acts on.
SQL = re.compile(r"\b(SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|VIEW))")


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO / folder).rglob("*.py") if "_pb2" not in p.name)


def lines_matching(pattern: re.Pattern, files: list[Path]) -> list[str]:
    return [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
            for path in files for number, line in enumerate(path.read_text().splitlines(), 1)
            if pattern.search(line)]


@pytest.mark.parametrize("side, other", [("collector", "agent"), ("agent", "collector")])
def test_neither_side_names_the_other(side, other):
    """Both sides share only farmwatch.common; the other program is named through common.names."""
    assert lines_matching(re.compile(rf"farmwatch.{other}"), python_files(side)) == []


@pytest.mark.parametrize("room", ["common", "analyst"])
def test_shared_rooms_import_neither_side(room):
    """common/ serves both programs and the analyst CLI installs without the collector's extras."""
    assert lines_matching(re.compile(r"^\s*(from|import) farmwatch\.(agent|collector)\b"), python_files(room)) == []


def test_sql_lives_only_in_storage():
    """Every statement the collector runs is under collector/storage/, the seam another engine plugs
    into. Help texts show example queries as quoted text after `help=`/`example=`, which is allowed."""
    outside = [p for p in python_files("collector") if "storage" not in p.relative_to(REPO).parts]
    found = [line for line in lines_matching(SQL, outside)
             if not re.search(r"(help|example|description)=|e\.g\.|ArgumentTypeError|_Refused|query \"", line)]
    assert found == []


def test_no_product_module_is_over_the_limit():
    sizes = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in python_files(*PRODUCT)}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}
