"""The committed generated gRPC code matches what grpcio-tools makes from protos/*.proto."""

from __future__ import annotations

from pathlib import Path

from protos.build import PROTO_DIR, compile_protos


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    compile_protos(tmp_path)
    generated = sorted((tmp_path / "protos").iterdir())
    assert generated, "protoc produced nothing"
    for fresh in generated:
        committed = PROTO_DIR / fresh.name
        assert committed.exists(), f"{fresh.name} is not committed; run `make protos`"
        assert committed.read_bytes() == fresh.read_bytes(), (
            f"protos/{fresh.name} is stale; run `make protos` and commit the result"
        )
