"""Every admin API error in OpenAI's error format, converted here and nowhere else."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from control_plane.crud import Conflict, Invalid, NotFound
from control_plane.key_policy import PolicyViolation

_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
          409: "conflict_error", 422: "invalid_request_error", 429: "rate_limit_error"}
_CODES = {401: "invalid_token", 403: "permission_denied", 404: "not_found"}


def error_response(
    status: int, message: str, *, param: str | None = None, code: str | None = None,
    headers: dict[str, str] | None = None, details: list[Any] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"message": message, "type": _TYPES.get(status, "api_error"),
                             "param": param, "code": code}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers,
                          code=_CODES.get(exc.status_code))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"param": field_path(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()
    ]
    first = problems[0] if problems else {"param": None, "message": "invalid request"}
    message = f"{first['param']}: {first['message']}" if first["param"] else first["message"]
    return error_response(422, message, param=first["param"], code="validation_error",
                          details=problems)


async def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return error_response(404, str(exc), code="not_found")


async def _conflict(_: Request, exc: Exception) -> JSONResponse:
    return error_response(409, str(exc), code="conflict")


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Invalid)
    return error_response(422, f"{exc.param}: {exc}", param=exc.param, code="validation_error")


async def _policy_violation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PolicyViolation)
    return error_response(403, str(exc), param=exc.param, code="key_policy_violation")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(Invalid, _invalid)
    app.add_exception_handler(PolicyViolation, _policy_violation)
