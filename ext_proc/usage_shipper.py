"""Ships usage records to the control plane: spool first, send, forget on acknowledgement."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import grpc

from ext_proc.spool import UsageSpool
from protos import usage_pb2, usage_pb2_grpc

log = logging.getLogger("omg.ext_proc.usage")

BATCH_SIZE = 500
FLUSH_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 2.0


class UsageShipper:
    def __init__(self, spool: UsageSpool, channel: grpc.aio.Channel) -> None:
        self._spool = spool
        self._stub = usage_pb2_grpc.UsageServiceStub(channel)
        self._pending: list[usage_pb2.UsageRecord] = []
        self._wake = asyncio.Event()
        self._backoff = 0.0

    def submit(self, record: usage_pb2.UsageRecord) -> None:
        """Hot path: O(1), no I/O."""
        self._pending.append(record)
        if len(self._pending) >= BATCH_SIZE:
            self._wake.set()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_SECONDS + self._backoff)
            self._wake.clear()
            await self.flush_once()

    async def flush_once(self) -> None:
        await self._persist_pending()
        while await self._send_oldest():
            pass

    async def _persist_pending(self) -> None:
        if self._pending:
            records, self._pending = self._pending, []
            await asyncio.to_thread(self._spool.add, records)

    async def _send_oldest(self) -> bool:
        """Send one batch; True when a full batch went and more may wait."""
        batch = await asyncio.to_thread(self._spool.oldest, BATCH_SIZE)
        if not batch:
            return False
        request = usage_pb2.UsageBatch(records=[record for _, record in batch])
        try:
            await self._stub.Report(request, timeout=10)
        except grpc.aio.AioRpcError as exc:
            self._note_failure(exc, len(batch))
            return False
        await asyncio.to_thread(self._spool.remove, [seq for seq, _ in batch])
        if self._backoff:
            log.info("usage delivery resumed")
        self._backoff = 0.0
        return len(batch) == BATCH_SIZE

    def _note_failure(self, exc: grpc.aio.AioRpcError, count: int) -> None:
        if not self._backoff:
            log.warning(
                "usage delivery failed (%s); %d+ records kept in the spool, retrying",
                exc.code().name,
                count,
            )
        self._backoff = min(MAX_BACKOFF_SECONDS, max(0.2, self._backoff * 2))

    async def close(self) -> None:
        await self._persist_pending()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._send_oldest(), 2)
