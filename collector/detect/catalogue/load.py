"""Reading a catalogue folder (or one file): validate every document, then build the catalogue."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from farmwatch.collector.detect.catalogue.build import build_catalogue
from farmwatch.collector.detect.catalogue.index import Catalogue
from farmwatch.collector.detect.catalogue.model import CatalogueError
from farmwatch.collector.detect.catalogue.validate import check_document, check_unique_ids

BUNDLED = Path(__file__).parents[2] / "signatures"


# The folder beside the data that holds the JSON Schema of a signature file, not signatures.
SCHEMA_FOLDER = "schema"


def _read_json(path: Path, name: str) -> tuple[Any, list[str]]:
    try:
        return json.loads(path.read_text(encoding="utf-8")), []
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{name}: cannot read: {exc}"]
    except json.JSONDecodeError as exc:
        return None, [f"{name}: not valid JSON: {exc}"]


def signature_files(path: Path) -> list[tuple[str, Path]]:
    """`(name, file)` for every signature file in a folder, at any depth (`remote_tools/anydesk.json`,
    `hardware/pikvm.json`, a company's `local_tools.json`), or for the one file `path`.

    A file is named by its path in the folder, so a problem points at it. Files come in the order of
    their names without `.json` (`remote_tools/vnc` before `remote_tools/vnc-connect`), which is
    the order of their entries in the catalogue."""
    if not path.is_dir():
        return [(path.name, path)]
    files = [f for f in path.rglob("*.json") if f.relative_to(path).parts[0] != SCHEMA_FOLDER]
    return sorted(((f.relative_to(path).as_posix(), f) for f in files),
                  key=lambda named: named[1].relative_to(path).with_suffix("").parts)


def _read_documents(path: Path) -> tuple[list[tuple[str, dict]], list[str]]:
    if not path.exists():
        return [], [f"{path}: no such file or folder"]
    documents, problems = [], []
    for name, file in signature_files(path):
        doc, read_problems = _read_json(file, name)
        found = read_problems or check_document(name, doc)
        problems += found
        if not found:
            documents.append((name, doc))
    problems += check_unique_ids(documents)
    return documents, problems


def validate_catalogue(path: str | Path | None = None) -> list[str]:
    """Human-readable problems (file and entry named) in a catalogue folder or file; [] if valid."""
    return _read_documents(Path(path) if path else BUNDLED)[1]


@functools.lru_cache(maxsize=1)
def _bundled() -> Catalogue:
    return _load(BUNDLED)


def _load(path: Path) -> Catalogue:
    documents, problems = _read_documents(path)
    if problems:
        raise CatalogueError(problems)
    return build_catalogue(documents)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and index a catalogue folder (default: the bundled one, loaded once and cached).

    Raises `CatalogueError` listing every problem when a file does not validate.
    """
    return _bundled() if path is None else _load(Path(path))
