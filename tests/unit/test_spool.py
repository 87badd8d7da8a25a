"""The usage spool keeps records across a restart until they are acknowledged."""

from __future__ import annotations

from pathlib import Path

import grpc

from ext_proc.spool import UsageSpool
from ext_proc.usage_shipper import BATCH_SIZE, UsageShipper
from protos import usage_pb2


def record(request_id: str, tokens: int = 3) -> usage_pb2.UsageRecord:
    return usage_pb2.UsageRecord(request_id=request_id, total_tokens=tokens, status=200)


def ids(batch: usage_pb2.UsageBatch) -> list[str]:
    return [r.request_id for r in batch.records]


def test_batches_survive_reopen_in_order(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    spool = UsageSpool(path)
    spool.add([record("a"), record("b", 7)])
    spool.add([record("c")])
    spool.close()
    reopened = UsageSpool(path)
    oldest = reopened.oldest()
    assert oldest is not None and ids(oldest[1]) == ["a", "b"]
    assert oldest[1].records[1].total_tokens == 7
    assert reopened.record_count() == 3


def test_removed_batch_is_gone_and_the_next_is_oldest(tmp_path: Path) -> None:
    spool = UsageSpool(tmp_path / "spool.db")
    spool.add([record("a")])
    spool.add([record("b")])
    first = spool.oldest()
    assert first is not None
    spool.remove(first[0])
    second = spool.oldest()
    assert second is not None and ids(second[1]) == ["b"]


def test_empty_add_writes_nothing(tmp_path: Path) -> None:
    spool = UsageSpool(tmp_path / "spool.db")
    spool.add([])
    assert spool.oldest() is None and spool.record_count() == 0


async def test_shipper_keeps_records_when_the_control_plane_is_down(tmp_path: Path) -> None:
    spool = UsageSpool(tmp_path / "spool.db")
    channel = grpc.aio.insecure_channel("127.0.0.1:9")  # nothing listens on the discard port
    shipper = UsageShipper(spool, channel)
    for i in range(BATCH_SIZE + 5):
        shipper.submit(record(f"r{i}"))
    await shipper.close()
    assert spool.record_count() == BATCH_SIZE + 5
    await channel.close()
