"""A durable queue of usage records on local disk (SQLite), so none is lost.

Records go to the spool before they are sent, and leave it only once the control plane has
acknowledged them: a control-plane outage or an ext_proc restart loses nothing.
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
            "CREATE TABLE IF NOT EXISTS spool ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT UNIQUE, payload BLOB)"
        )

    def add(self, records: list[usage_pb2.UsageRecord]) -> None:
        rows = [(r.request_id, r.SerializeToString()) for r in records]
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO spool (request_id, payload) VALUES (?, ?)", rows
            )

    def oldest(self, limit: int) -> list[tuple[int, usage_pb2.UsageRecord]]:
        rows = self._db.execute(
            "SELECT seq, payload FROM spool ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [(seq, usage_pb2.UsageRecord.FromString(payload)) for seq, payload in rows]

    def remove(self, seqs: list[int]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM spool WHERE seq = ?", [(s,) for s in seqs])

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM spool").fetchone()[0])

    def close(self) -> None:
        self._db.close()
