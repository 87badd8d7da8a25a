"""A durable queue of usage batches on local disk (SQLite), so no record is lost.

Records reach the spool before they are sent and leave it only once the control plane has
acknowledged them: a control-plane outage or an ext_proc restart loses nothing. One row holds
one serialized batch, so the disk work per flush is one insert and, on acknowledgement, one
delete, whatever the number of records.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from protos import usage_pb2


class UsageSpool:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            "payload BLOB NOT NULL)"
        )
        self.records = self.record_count()  # kept up to date by add/remove (a metric reads it)

    def add(
        self, records: list[usage_pb2.UsageRecord],
        failed_attempts: list[usage_pb2.FailedAttempt] | None = None,
    ) -> None:
        if records or failed_attempts:
            batch = usage_pb2.UsageBatch(records=records, failed_attempts=failed_attempts or ())
            payload = batch.SerializeToString()
            self._db.execute("INSERT INTO batches (payload) VALUES (?)", (payload,))
            self.records += len(records)

    def oldest(self) -> tuple[int, usage_pb2.UsageBatch] | None:
        row = self._db.execute("SELECT seq, payload FROM batches ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else (row[0], usage_pb2.UsageBatch.FromString(row[1]))

    def remove(self, seq: int, records: int = 0) -> None:
        """Drop an acknowledged batch of `records` records."""
        self._db.execute("DELETE FROM batches WHERE seq = ?", (seq,))
        self.records = max(0, self.records - records)

    def record_count(self) -> int:
        rows = self._db.execute("SELECT payload FROM batches").fetchall()
        return sum(len(usage_pb2.UsageBatch.FromString(p).records) for (p,) in rows)

    def close(self) -> None:
        self._db.close()
