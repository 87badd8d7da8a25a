"""The usage spool keeps records across a restart until they are acknowledged."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from ext_proc.spool import UsageSpool
from ext_proc.usage_shipper import UsageShipper
from protos import usage_pb2


def record(request_id: str, tokens: int = 3) -> usage_pb2.UsageRecord:
    return usage_pb2.UsageRecord(request_id=request_id, total_tokens=tokens, status=200)


def test_records_survive_reopen_in_order(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    spool = UsageSpool(path)
    spool.add([record("a"), record("b", 7)])
    spool.close()
    reopened = UsageSpool(path)
    assert [(r.request_id, r.total_tokens) for _, r in reopened.oldest(10)] == [("a", 3), ("b", 7)]


def test_duplicate_request_ids_are_spooled_once(tmp_path: Path) -> None:
    spool = UsageSpool(tmp_path / "spool.db")
    spool.add([record("a"), record("a")])
    spool.add([record("a")])
    assert spool.count() == 1


def test_removed_records_are_gone_and_others_stay(tmp_path: Path) -> None:
    spool = UsageSpool(tmp_path / "spool.db")
    spool.add([record("a"), record("b"), record("c")])
    batch = spool.oldest(2)
    spool.remove([seq for seq, _ in batch])
    assert [r.request_id for _, r in spool.oldest(10)] == ["c"]


async def test_shipper_keeps_records_when_the_control_plane_is_down(tmp_path: Path) -> None:
    spool = UsageSpool(tmp_path / "spool.db")
    channel = grpc.aio.insecure_channel("127.0.0.1:9")  # nothing listens on the discard port
    shipper = UsageShipper(spool, channel)
    shipper.submit(record("x"))
    shipper.submit(record("y"))
    await shipper.flush_once()
    assert sorted(r.request_id for _, r in spool.oldest(10)) == ["x", "y"]
    await channel.close()


@pytest.mark.parametrize("count", [0, 1, 1200])
def test_oldest_respects_limit(tmp_path: Path, count: int) -> None:
    spool = UsageSpool(tmp_path / "spool.db")
    spool.add([record(f"r{i}") for i in range(count)])
    assert len(spool.oldest(500)) == min(count, 500)
