"""Shared test helpers."""

from __future__ import annotations

import socket


def _bound(port: int) -> socket.socket:
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


def free_port() -> int:
    with _bound(0) as sock:
        return int(sock.getsockname()[1])


def free_ports(count: int, block: int = 1) -> list[int]:
    """`count` distinct free ports, the first one starting a run of `block` consecutive free
    ports (ext_proc workers listen on OMG_EXT_PROC_PORT and the ports after it). Every port is
    held while the others are chosen, so no later one lands inside that run."""
    held: list[socket.socket] = []
    try:
        while not held:
            run = [_bound(0)]
            base = run[0].getsockname()[1]
            try:
                run += [_bound(base + offset) for offset in range(1, block)]
            except OSError:
                for sock in run:
                    sock.close()
                continue
            held = run
        held += [_bound(0) for _ in range(count - 1)]
        return [base] + [int(sock.getsockname()[1]) for sock in held[block:]]
    finally:
        for sock in held:
            sock.close()
