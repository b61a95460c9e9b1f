"""The committed generated code is exactly what `make proto` makes from the .proto files."""
from __future__ import annotations

from pathlib import Path

from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parent.parent / "proto"
PACKAGE = PROTO_ROOT / "farmwatch" / "v1"


def test_generated_files_match_the_proto_sources(tmp_path):
    sources = sorted(str(p.relative_to(PROTO_ROOT)) for p in PACKAGE.glob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(["protoc", f"-I{PROTO_ROOT}", f"-I{include}", f"--python_out={tmp_path}",
                        f"--pyi_out={tmp_path}", f"--grpc_python_out={tmp_path}", *sources])
    assert code == 0
    fresh = {p.name: p.read_bytes() for p in (tmp_path / "farmwatch" / "v1").iterdir()}
    committed = {p.name: p.read_bytes() for p in PACKAGE.iterdir()
                 if p.name.endswith(("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"))}
    assert sorted(fresh) == sorted(committed), "run `make proto` and commit the result"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated files {stale}: run `make proto` and commit the result"
