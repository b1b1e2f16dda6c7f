"""The WSGI application: OAuth tokens, request recording, faults, errors in the API's shape."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import attrs
from attrs import field, frozen

from ct_prima_sync.errors import (
    AuthenticationError,
    CommercetoolsApiError,
    ConcurrentModificationError,
    ValidationError,
)

from ._extensions import ExtensionRefusedError
from ._faults import CommercetoolsFault, CommercetoolsFaultScript
from ._routes import Call, route
from ._store import Encoded, Store, json_text

__all__ = ["CommercetoolsApp", "CommercetoolsRequestRecord"]

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@frozen(kw_only=True)
class CommercetoolsRequestRecord:
    """A request the fake received. ``headers`` (lower-case names) never hold Authorization;
    ``body`` is empty for the token endpoint, whose form may carry credentials. Only the method,
    path and status appear in ``repr``: queries and bodies may carry personal data. ``status`` is
    the status the fake answered with (None while the request is being answered); ``fault`` the
    kind of the scripted or random fault that answered it, if one did."""

    method: str
    path: str
    query: Mapping[str, tuple[str, ...]] = field(repr=False)
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    status: int | None = None
    fault: str | None = None

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@frozen
class _Token:
    expires_at: datetime
    projects: frozenset[str]


def _auth_error(status: int, code: str, message: str) -> AuthenticationError:
    return AuthenticationError(message, status_code=status, codes=[code])


class CommercetoolsApp:
    """The fake's WSGI callable. Thread-safe: one lock serialises changes to the state."""

    def __init__(
        self,
        *,
        store: Store,
        faults: CommercetoolsFaultScript,
        sleep: Callable[[float], None],
        client_id: str,
        client_secret: str,
        token_lifetime: timedelta,
    ) -> None:
        self.store = store
        self.faults = faults
        self.sleep = sleep
        self.requests: list[CommercetoolsRequestRecord] = []
        self.lock = threading.RLock()
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_lifetime = token_lifetime
        self._tokens: dict[str, _Token] = {}

    def expire_tokens(self) -> None:
        """Make every issued token expired, as if its lifetime had passed."""
        with self.lock:
            past = self.store.clock() - timedelta(seconds=1)
            self._tokens = {k: _Token(past, v.projects) for k, v in self._tokens.items()}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ["REQUEST_METHOD"]).upper()
        path = str(environ.get("PATH_INFO") or "/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        params = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        authorization = headers.pop("authorization", "")
        is_token = path.startswith("/oauth/")
        record = CommercetoolsRequestRecord(
            method=method,
            path=path,
            query={k: tuple(v) for k, v in params.items()},
            headers=dict(headers),
            body=b"" if is_token else body,
        )
        with self.lock:
            self.requests.append(record)
        correlation_id = headers.get("x-correlation-id") or f"projects-{secrets.token_hex(16)}"
        fired = len(self.faults.fired)
        status, payload, extra = self._answer(method, path, params, body, authorization, is_token)
        faults = self.faults.fired[fired:]
        answered = attrs.evolve(record, status=status, fault=faults[-1].kind if faults else None)
        with self.lock:
            for index in range(len(self.requests) - 1, -1, -1):
                if self.requests[index] is record:
                    self.requests[index] = answered
                    break
        data = (payload.text if isinstance(payload, Encoded) else json_text(payload)).encode()
        response_headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(data))),
            ("X-Correlation-ID", correlation_id),
            *extra,
        ]
        start_response(f"{status} {_REASONS.get(status, 'Error')}", response_headers)
        return [data]

    def _answer(  # noqa: PLR0917 (internal helper, called once)
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        authorization: str,
        is_token: bool,
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        latency = self.faults.take(method, path, ("latency",))
        if latency is not None:
            self.sleep(latency.delay)
        fault = self.faults.take(method, path, ("status", "rate_limit"))
        if fault is not None:
            return self._fault_answer(fault)
        try:
            with self.lock:
                self.store.settle()
                if is_token:
                    return 200, self._issue_token(method, path, params, body, authorization), []
                parts = [part for part in path.split("/") if part]
                project = self.store.project(parts[0]) if parts else self.store.project("")
                self._check_token(authorization, project.key)
                call = Call(method=method, path=path, params=params, body=body)
                status, payload = route(self.store, project, parts[1:], call, self.faults)
                return status, payload, []
        except CommercetoolsApiError as error:
            return error.status_code, error_body(error), []

    def _fault_answer(self, fault: CommercetoolsFault) -> tuple[int, Any, list[tuple[str, str]]]:
        if fault.kind == "rate_limit":
            extra = [] if fault.retry_after is None else [("Retry-After", str(fault.retry_after))]
            message = "Too many requests (scripted by FakeCommercetools)."
            return (
                429,
                _body(429, message, [{"code": "TooManyRequests", "message": message}]),
                extra,
            )
        message = f"Scripted failure ({fault.status}) from FakeCommercetools."
        code = "General" if fault.status >= 500 else "InvalidOperation"
        return fault.status, _body(fault.status, message, [{"code": code, "message": message}]), []

    def _issue_token(
        self, method: str, path: str, params: dict[str, list[str]], body: bytes, authorization: str
    ) -> dict[str, Any]:
        if method != "POST" or path.rstrip("/") != "/oauth/token":
            raise _auth_error(400, "invalid_request", "Unsupported token request.")
        if not self._credentials_ok(authorization):
            raise _auth_error(
                401,
                "invalid_client",
                "Please provide valid client credentials using HTTP Basic Authentication.",
            )
        form = {**params, **parse_qs(body.decode("utf-8", "replace"))}
        if form.get("grant_type", [""])[0] != "client_credentials":
            raise _auth_error(400, "unsupported_grant_type", "Unsupported grant type.")
        scopes = " ".join(form.get("scope", [])).split()
        projects = {scope.split(":", 1)[1] for scope in scopes if ":" in scope}
        if not scopes:
            projects = set(self.store.projects)
            scopes = [f"manage_project:{key}" for key in sorted(projects)]
        if not projects or not projects <= set(self.store.projects):
            raise _auth_error(400, "invalid_scope", "The requested scope is invalid or unknown.")
        token = secrets.token_urlsafe(24)
        expires = self.store.clock() + self._token_lifetime
        self._tokens[token] = _Token(expires, frozenset(projects))
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(self._token_lifetime.total_seconds()),
            "scope": " ".join(scopes),
        }

    def _credentials_ok(self, authorization: str) -> bool:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, _, secret = decoded.partition(":")
        return secrets.compare_digest(client_id, self._client_id) and secrets.compare_digest(
            secret, self._client_secret
        )

    def _check_token(self, authorization: str, project_key: str) -> None:
        scheme, _, value = authorization.partition(" ")
        token = self._tokens.get(value) if scheme.lower() == "bearer" else None
        if token is None or token.expires_at <= self.store.clock():
            raise _auth_error(401, "invalid_token", "invalid_token")
        if project_key not in token.projects:
            raise _auth_error(403, "insufficient_scope", "Insufficient scope for this project.")


def _body(status: int, message: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"statusCode": status, "message": message, "errors": errors}


def error_body(error: CommercetoolsApiError) -> dict[str, Any]:
    """The API's error body for one of the library's API errors."""
    message = str(error)
    if isinstance(error, ExtensionRefusedError):
        return _body(error.status_code, message, error.errors)
    errors: list[dict[str, Any]] = [{"code": code, "message": message} for code in error.codes]
    if isinstance(error, ConcurrentModificationError) and error.current_version is not None:
        for item in errors:
            item["currentVersion"] = error.current_version
    body = _body(error.status_code, message, errors)
    if isinstance(error, AuthenticationError) and error.codes:
        body["error"] = error.codes[0]
        if error.codes[0] == "invalid_token":
            body["message"] = "invalid_token"
    if isinstance(error, ValidationError) and not errors:
        body["errors"] = [{"code": "InvalidInput", "message": message}]
    return body
