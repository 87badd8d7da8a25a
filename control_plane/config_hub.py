"""Keeps the gateway state current and fans each change out to its watchers.

Watchers are ext_proc config streams (they get `ConfigUpdate` deltas) and the xDS cache
(it gets the whole new state). A change is noticed right after an admin write
(`refresh()`), and by polling one revision row for writes made elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import models
from control_plane.config_state import (
    EMPTY_STATE,
    GatewayState,
    diff_states,
    full_update,
    load_state,
)
from control_plane.crypto import CredentialCipher
from protos import config_pb2

log = logging.getLogger("omg.control_plane.config")

StateListener = Callable[[GatewayState], None]


class ConfigHub:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cipher: CredentialCipher
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._lock = asyncio.Lock()
        self._state = EMPTY_STATE
        self._version = 0
        self._revision = -1
        self._watchers: set[asyncio.Queue[config_pb2.ConfigUpdate]] = set()
        self._listeners: list[StateListener] = []

    @property
    def state(self) -> GatewayState:
        return self._state

    @property
    def version(self) -> str:
        return str(self._version)

    def add_listener(self, listener: StateListener) -> None:
        self._listeners.append(listener)
        listener(self._state)

    async def refresh(self) -> None:
        async with self._lock:
            async with self._sessions() as session:
                self._revision = await read_revision(session)
                new_state = await load_state(session, self._cipher)
            self._publish(new_state)

    def _publish(self, new_state: GatewayState) -> None:
        update = diff_states(self._state, new_state, str(self._version + 1))
        if update is None:
            self._state = new_state  # fresher budget seeds, nothing to tell anyone
            return
        self._version += 1
        self._state = new_state
        for queue in self._watchers:
            queue.put_nowait(update)
        for listener in self._listeners:
            listener(new_state)
        log.info("config version %d published", self._version)

    async def watch(self) -> AsyncIterator[config_pb2.ConfigUpdate]:
        """A full snapshot, then every delta, for as long as the caller iterates."""
        queue: asyncio.Queue[config_pb2.ConfigUpdate] = asyncio.Queue()
        try:  # a (re)starting ext_proc seeds its budget counters from the newest spend
            await self.refresh()
        except Exception:  # the database may be away: the last state is still good
            log.exception("config refresh for a new watcher failed")
        async with self._lock:
            self._watchers.add(queue)
            first = full_update(self._state, self.version)
        try:
            yield first
            while True:
                yield await queue.get()
        finally:
            self._watchers.discard(queue)

    async def poll_forever(self, every_seconds: float) -> None:
        while True:
            await asyncio.sleep(every_seconds)
            try:
                async with self._sessions() as session:
                    revision = await read_revision(session)
                if revision != self._revision:
                    await self.refresh()
            except Exception:  # the database may be away for a while; keep serving
                log.exception("config poll failed")


async def read_revision(session: AsyncSession) -> int:
    row = await session.get(models.ConfigRevision, 1)
    return row.revision if row is not None else 0


async def bump_revision(session: AsyncSession) -> None:
    """Call inside the transaction of every config write."""
    row = await session.get(models.ConfigRevision, 1)
    if row is None:
        session.add(models.ConfigRevision(id=1, revision=1))
    else:
        row.revision += 1
        session.add(row)
