"""Compile `protos/*.proto` with grpcio-tools into Python modules beside them.

`python -m protos.build [OUT_DIR]` writes into OUT_DIR (default: the repository root), so a
test can compile into a temporary folder and compare with what is committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent
ROOT = PROTO_DIR.parent


def proto_files() -> list[str]:
    return sorted(f"protos/{p.name}" for p in PROTO_DIR.glob("*.proto"))


def compile_protos(out_dir: Path) -> None:
    from grpc_tools import protoc  # build-time dependency only

    (out_dir / "protos").mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{ROOT}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *proto_files(),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    compile_protos(out)


if __name__ == "__main__":
    main()
