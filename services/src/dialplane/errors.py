"""Errors, and their rendering as ``application/problem+json`` (RFC 9457).

Every error a service raises on purpose is a :class:`DialplaneError`: it carries an HTTP status, a stable
machine-readable ``code`` and a human ``detail``. The handlers installed by :func:`install_error_handlers`
turn it, request-validation errors, HTTP errors, lost database connections and anything unexpected into a
problem document. Unexpected errors are logged with their traceback and answered with a generic 500 body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dialplane.db import is_retryable, is_unavailable, is_unstorable_text

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://dialplane.dev/problems/"

log = structlog.get_logger(__name__)
_KNOWN_STATUSES = frozenset(status.value for status in HTTPStatus)


class DialplaneError(Exception):
    """Base of every error Dialplane raises on purpose."""

    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra: dict[str, Any] = dict(extra or {})
        self.headers: dict[str, str] = dict(headers or {})


class BadRequest(DialplaneError):
    status, code, title = 400, "bad_request", "Bad request"


class Unauthorized(DialplaneError):
    status, code, title = 401, "unauthorized", "Unauthorized"


class Forbidden(DialplaneError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(DialplaneError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DialplaneError):
    status, code, title = 409, "conflict", "Conflict"


class ValidationFailed(DialplaneError):
    status, code, title = 422, "validation_failed", "Validation failed"


class RateLimited(DialplaneError):
    status, code, title = 429, "rate_limited", "Too many requests"


class ServiceUnavailable(DialplaneError):
    status, code, title = 503, "service_unavailable", "Service unavailable"


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response; ``extra`` members are added at the top level."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance is not None:
        body["instance"] = instance
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic/FastAPI validation errors as ``{field, message, type}``, the field a dotted path."""
    return [
        {
            "field": ".".join(str(part) for part in err.get("loc", ()) if part != "body") or "body",
            "message": err.get("msg", "invalid"),
            "type": err.get("type", "invalid"),
        }
        for err in errors
    ]


async def _dialplane_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DialplaneError)
    return problem_response(
        exc.status,
        exc.code,
        exc.title,
        exc.detail,
        instance=request.url.path,
        extra=exc.extra,
        headers=exc.headers,
    )


async def _request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc.errors())
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return problem_response(
        422,
        "validation_failed",
        "Validation failed",
        f"Invalid request: {fields}",
        instance=request.url.path,
        extra={"errors": errors},
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = HTTPStatus(exc.status_code).phrase if exc.status_code in _KNOWN_STATUSES else "Error"
    code = title.lower().replace(" ", "_").replace("-", "_")
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem_response(
        exc.status_code,
        code,
        title,
        detail,
        instance=request.url.path,
        headers=exc.headers,
    )


async def _retry_later(request: Request, exc: Exception) -> JSONResponse:
    log.info("transaction_conflict", error=type(exc).__name__, path=request.url.path)
    return problem_response(
        503,
        "concurrent_update",
        "Service unavailable",
        "A concurrent change to the same data won; retry the request.",
        instance=request.url.path,
        headers={"Retry-After": "1"},
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    if is_retryable(exc):
        return await _retry_later(request, exc)
    log.warning("database_unavailable", error=type(exc).__name__, path=request.url.path)
    return problem_response(
        503,
        "database_unavailable",
        "Service unavailable",
        "The database is unreachable; retry shortly.",
        instance=request.url.path,
        headers={"Retry-After": "5"},
    )


async def _unstorable_text(request: Request, exc: Exception) -> JSONResponse:
    """A value no model check caught (a form field, a header) reached the database with a NUL character."""
    log.info("unstorable_text", path=request.url.path)
    return problem_response(
        400,
        "unstorable_text",
        "Bad request",
        "The request holds text that cannot be stored: a NUL character or bytes that are not UTF-8.",
        instance=request.url.path,
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    if is_retryable(exc):
        return await _retry_later(request, exc)
    if is_unavailable(exc):
        return await _database_unavailable(request, exc)
    if is_unstorable_text(exc):
        return await _unstorable_text(request, exc)
    log.exception("unhandled_error", path=request.url.path)
    return problem_response(
        500,
        "internal_error",
        "Internal error",
        "An unexpected error occurred; it has been logged.",
        instance=request.url.path,
    )


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An error (RFC 9457); a validation failure lists each field's problem in errors.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message", "type"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI document (changed in place) whose error responses are what the handlers send: every
    declared 4xx/5xx, and a ``default`` for the others, is problem+json (FastAPI's own describes its
    ``HTTPValidationError`` as application/json)."""
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if status[:1] in ("4", "5"):
                    response["content"] = content
            responses.setdefault("default", {"description": "An error (problem+json)", "content": content})
    return document


def install_problem_documentation(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document describe its errors as :func:`document_problems` does."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        return document_problems(build())

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of ``app`` as problem+json."""
    app.add_exception_handler(DialplaneError, _dialplane_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for unavailable in (OperationalError, InterfaceError, PoolTimeoutError, OSError):
        app.add_exception_handler(unavailable, _database_unavailable)
    # Other database errors here rather than only under Exception: Starlette re-raises what reaches the
    # Exception handler after answering, and the server logs each as a crash with its traceback.
    app.add_exception_handler(DBAPIError, _unexpected_error)
    app.add_exception_handler(Exception, _unexpected_error)
