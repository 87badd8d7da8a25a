"""User-facing errors: an HTTP status plus an OpenAI-format error body.

Pipeline steps raise `GatewayError`; the servicer turns it into an immediate response in
exactly one place. Anything else is internal and becomes a generic 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson


@dataclass(frozen=True, slots=True)
class GatewayError(Exception):
    status: int
    message: str
    type: str = "invalid_request_error"
    code: str | None = None
    param: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # e.g. retry-after

    def body(self) -> bytes:
        return error_body(self.message, self.type, self.code, self.param)


def error_body(message: str, type_: str, code: str | None, param: str | None = None) -> bytes:
    error = {"message": message, "type": type_, "param": param, "code": code}
    return orjson.dumps({"error": error})


def invalid_api_key(message: str) -> GatewayError:
    return GatewayError(401, message, "invalid_request_error", "invalid_api_key")


def bad_request(message: str, param: str | None = None, code: str | None = None) -> GatewayError:
    return GatewayError(400, message, "invalid_request_error", code, param)


def model_not_found(model: str) -> GatewayError:
    message = f"The model `{model}` does not exist or you do not have access to it."
    return GatewayError(404, message, "invalid_request_error", "model_not_found", "model")


def unknown_url(method: str, path: str) -> GatewayError:
    message = f"Invalid URL ({method} {path})"
    return GatewayError(404, message, "invalid_request_error", "unknown_url")


def internal_error(request_id: str) -> GatewayError:
    message = f"The gateway failed to process the request (request id {request_id})."
    return GatewayError(500, message, "server_error", "internal_error")


def rate_limiter_unavailable() -> GatewayError:
    """Fail-closed answer when the shared counters cannot be reached.

    A 429 with Retry-After, not a 503: every OpenAI SDK backs off and retries a 429, and
    Envoy's local-reply mapper rewrites the body of 5xx replies (a 503 would lose this one).
    The code tells it apart from a real limit.
    """
    message = "The gateway cannot check rate limits right now; please retry shortly."
    return GatewayError(429, message, "server_error", "rate_limiter_unavailable",
                        headers=(("retry-after", "1"),))


def budget_unavailable() -> GatewayError:
    """Fail-closed answer when the budget counters cannot be reached: a hard budget is not
    waived because Redis is down. 503 with Retry-After; Envoy passes it through unchanged
    because the servicer marks it as the gateway's own reply (see `messages.immediate`)."""
    message = "The gateway cannot check spending budgets right now; please retry shortly."
    return GatewayError(503, message, "server_error", "budget_unavailable",
                        headers=(("retry-after", "1"),))
