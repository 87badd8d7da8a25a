"""Real alert receivers on loopback: an HTTP webhook server and an SMTP sink (aiosmtpd)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def signature_ok(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """The `X-OMG-Signature` check a webhook receiver makes: HMAC-SHA256 of `timestamp.body`."""
    signed = headers["x-omg-timestamp"].encode() + b"." + body
    mac = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["x-omg-signature"], f"sha256={mac}")


class WebhookReceiver:
    """A real HTTP server on loopback that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def for_budget(self, budget_id: str) -> list[tuple[dict[str, str], bytes]]:
        return self.where("budget_id", budget_id)

    def where(self, field: str, value: str) -> list[tuple[dict[str, str], bytes]]:
        """Alerts whose `data[field]` is `value`, in arrival order."""
        return [(headers, body) for headers, body in list(self.received)
                if json.loads(body)["data"].get(field) == value]


@dataclass
class MailSink:
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"

    def about(self, needle: str) -> list[Any]:
        return [m for m in self.messages if needle.encode() in m.content]
