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
        self._pending_attempts: list[usage_pb2.FailedAttempt] = []
        self._wake = asyncio.Event()
        self._backoff = 0.0

    def submit(self, record: usage_pb2.UsageRecord) -> None:
        """Hot path: O(1), no I/O."""
        self._pending.append(record)
        if len(self._pending) >= BATCH_SIZE:
            self._wake.set()

    def submit_failed_attempt(self, attempt: usage_pb2.FailedAttempt) -> None:
        """Hot path: O(1), no I/O; travels with the next batch of usage records."""
        self._pending_attempts.append(attempt)

    @property
    def backlog(self) -> int:
        """Records not acknowledged yet: pending in memory plus spooled on disk."""
        return len(self._pending) + self._spool.records

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_SECONDS + self._backoff)
            self._wake.clear()
            await self.flush_once()

    async def flush_once(self) -> None:
        """Spool what is pending, then drain the spool. Records that arrive meanwhile wait
        for the next tick, so a busy gateway sends a few large batches, not many small ones."""
        oldest = await self._persist_and_peek()
        while await self._send_oldest(oldest):
            oldest = await asyncio.to_thread(self._spool.oldest)

    def _take_pending(
        self,
    ) -> tuple[list[usage_pb2.UsageRecord], list[usage_pb2.FailedAttempt]]:
        """On the event loop (submit appends there too): at most one batch."""
        records, self._pending = self._pending[:BATCH_SIZE], self._pending[BATCH_SIZE:]
        attempts, self._pending_attempts = self._pending_attempts, []
        return records, attempts

    async def _persist_and_peek(self) -> tuple[int, usage_pb2.UsageBatch] | None:
        """Spool what is pending and return the oldest batch, in one worker-thread hop."""
        records, attempts = self._take_pending()

        def work() -> tuple[int, usage_pb2.UsageBatch] | None:
            self._spool.add(records, attempts)
            return self._spool.oldest()

        return await asyncio.to_thread(work)

    async def _send_oldest(self, oldest: tuple[int, usage_pb2.UsageBatch] | None) -> bool:
        """Send one batch; True when it was acknowledged and more may wait."""
        if oldest is None:
            return False
        seq, batch = oldest
        try:
            await self._stub.Report(batch, timeout=10)
        except grpc.aio.AioRpcError as exc:
            self._note_failure(exc, len(batch.records))
            return False
        await asyncio.to_thread(self._spool.remove, seq, len(batch.records))
        if self._backoff:
            log.info("usage delivery resumed")
        self._backoff = 0.0
        return True

    def _note_failure(self, exc: grpc.aio.AioRpcError, count: int) -> None:
        if not self._backoff:
            log.warning(
                "usage delivery failed (%s); %d+ records kept in the spool, retrying",
                exc.code().name,
                count,
            )
        self._backoff = min(MAX_BACKOFF_SECONDS, max(0.2, self._backoff * 2))

    async def close(self) -> None:
        """On shutdown: everything pending goes to disk; one last delivery is tried."""
        oldest = await self._persist_and_peek()
        while self._pending:
            oldest = await self._persist_and_peek()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._send_oldest(oldest), 2)
