"""CommercetoolsClient: one authenticated, retrying, logged way to call the commercetools API.

The client owns the I/O; decisions live in pure modules (``_decode``, ``_retry``, ``_query``).
Every request carries an ``X-Correlation-ID`` (the same one across its retries) that is logged
with the ``extra`` fields ``correlation_id``, ``http_method``, ``path``, ``status_code``,
``attempt`` and ``elapsed_ms`` and attached to every error. Query strings are never logged:
they may carry personal data as predicate variables (an e-mail address, for instance).

Thread safety: one client may be shared by the threads of a pool; the token is fetched once for
all of them.
"""

from __future__ import annotations

import logging
import random as _random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Self

import httpx

from ..errors import ClientClosedError, CommercetoolsTransportError, ConfigurationError
from ._auth import TokenProvider
from ._channels import Channels
from ._config import CommercetoolsConfig
from ._customers import Customers
from ._decode import CORRELATION_HEADER, decode_response
from ._extensions import Extensions
from ._inventory import Inventory
from ._messages import Messages
from ._orders import Orders
from ._payments import Payments
from ._query import MAX_PAGE_SIZE, QueryValue, iter_by_id
from ._redact import redact_httpx_logs_for
from ._retry import call_with_retries

__all__ = ["CommercetoolsClient"]

_log = logging.getLogger("ct_prima_sync.commercetools")

_IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing: ``extract_cookies`` reads no response."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _CookielessHttp(httpx.Client):
    """The HTTP client a :class:`CommercetoolsClient` makes for itself. The commercetools API
    sets no cookies and reads none (a bearer token authorises every request), so none are kept:
    reading every response for them costs about a tenth of a small request's CPU."""

    def __init__(self, *, transport: httpx.BaseTransport | None) -> None:
        super().__init__(transport=transport)
        self._none_kept = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        """Always empty."""
        return self._none_kept

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise ConfigurationError("the commercetools client keeps no cookies")


class CommercetoolsClient:
    """A client for one commercetools project.

    Resources hang off the client: :attr:`orders`, :attr:`customers`, :attr:`channels`,
    :attr:`inventory`, :attr:`payments`, :attr:`messages` and :attr:`extensions`. Use it as a
    context manager, or call :meth:`close`; a closed client raises
    :class:`~ct_prima_sync.errors.ClientClosedError`.

    The I/O seam is ``http_client`` (an ``httpx.Client`` the caller owns and closes) or
    ``transport`` (an ``httpx`` transport, e.g. ``httpx.MockTransport`` in tests, wrapped in a
    client this object owns, which keeps no cookies: the API uses none); give at most one.
    ``sleep``, ``monotonic`` (seconds), ``now`` (timezone-aware wall clock), ``random`` (floats
    in ``[0, 1)``, for jitter) and ``correlation_id_factory`` are injectable so tests never wait
    and stay deterministic.
    """

    def __init__(
        self,
        config: CommercetoolsConfig,
        *,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utc_now,
        random: Callable[[], float] = _random.random,
        correlation_id_factory: Callable[[], str] | None = None,
    ) -> None:
        if http_client is not None and transport is not None:
            raise ConfigurationError("give either http_client or transport, not both")
        self._config = config
        self._owns_http = http_client is None
        self._http = (
            http_client if http_client is not None else _CookielessHttp(transport=transport)
        )
        self._timeout = httpx.Timeout(
            connect=config.timeouts.connect,
            read=config.timeouts.read,
            write=config.timeouts.write,
            pool=config.timeouts.pool,
        )
        self._api_base = f"{config.resolved_api_url}/{config.project_key}"
        self._token_url = f"{config.resolved_auth_url}/oauth/token"
        redact_httpx_logs_for(httpx.URL(self._api_base).host, httpx.URL(self._token_url).host)
        self._sleep = sleep
        self._monotonic = monotonic
        self._now = now
        self._random = random
        self._new_correlation_id = correlation_id_factory or (
            lambda: f"{config.correlation_id_prefix}{uuid.uuid4()}"
        )
        self._tokens = TokenProvider(
            self._fetch_token, clock=monotonic, margin=config.token_refresh_margin
        )
        self._closed = False
        self._close_lock = threading.Lock()
        self.orders: Final = Orders(self)
        self.customers: Final = Customers(self)
        self.channels: Final = Channels(self)
        self.inventory: Final = Inventory(self)
        self.payments: Final = Payments(self)
        self.messages: Final = Messages(self)
        self.extensions: Final = Extensions(self)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<CommercetoolsClient project={self._config.project_key!r} {state}>"

    @property
    def config(self) -> CommercetoolsConfig:
        """The configuration this client was built with."""
        return self._config

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def close(self) -> None:
        """Release the connection pool (if this client created it). Calling it again is a no-op."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        self._check_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ClientClosedError("this CommercetoolsClient is closed; create a new one")

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        json: Any = None,
        retry_ambiguous: bool = False,
        version_only: bool = False,
    ) -> Any:
        """Send one API request below the project (``path`` like ``/orders/{id}``); return JSON
        (``version_only``: only the resource's ``version``, an int or None, read without decoding
        the whole body when it leads, as commercetools sends it; errors are read as ever).

        GET requests are retried on every retryable failure. Other methods are retried only when
        the request surely had no effect (connection refused, 429, 503) unless
        ``retry_ambiguous`` is true: then also after a read timeout or a 502/504, where the first
        attempt may have been applied. Versioned updates are safe to opt in: a replay of an
        applied update fails with 409 instead of applying twice.
        """
        self._check_open()
        if "?" in path or "#" in path:
            raise ConfigurationError("pass query parameters in params, not in the path")
        method = method.upper()
        correlation_id = self._new_correlation_id()
        logged_path = f"/{self._config.project_key}{path}"
        extra: dict[str, object] = {
            "correlation_id": correlation_id,
            "http_method": method,
            "path": logged_path,
        }
        url = f"{self._api_base}{path}"
        refreshed = False
        attempts = 0

        def send(token: str) -> httpx.Response:
            return self._send(
                method,
                url,
                params=params,
                json=json,
                correlation_id=correlation_id,
                token=token,
                extra=extra,
                attempt=attempts,
            )

        def attempt() -> httpx.Response:
            nonlocal refreshed, attempts
            attempts += 1
            token = self._tokens.token()
            response = send(token)
            if response.status_code == 401 and not refreshed:
                # A token may be revoked before its expiry: fetch a new one, try once more.
                refreshed = True
                self._tokens.invalidate(token)
                response = send(self._tokens.token())
            return response

        response = self._with_retries(
            attempt,
            idempotent=method in _IDEMPOTENT_METHODS or retry_ambiguous,
            method=method,
            logged_path=logged_path,
            correlation_id=correlation_id,
            extra=extra,
        )
        return decode_response(
            response.status_code,
            response.headers,
            response.content,
            method=method,
            path=logged_path,
            correlation_id=correlation_id,
            now=self._now(),
            version_only=version_only,
        )

    def iter_query(
        self,
        resource: str,
        *,
        where: str | None = None,
        variables: Mapping[str, QueryValue] | None = None,
        expand: Sequence[str] = (),
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Yield every raw result of ``GET /{resource}`` matching ``where``, paging by id.

        Holds one page in memory at a time. ``variables`` are predicate input variables:
        ``where="customerEmail = :email", variables={"email": "..."}``.
        """
        self._check_open()
        path = "/" + resource.strip("/")

        def fetch(params: list[tuple[str, str]]) -> Any:
            return self.request("GET", path, params=params)

        return iter_by_id(
            fetch, where=where, variables=variables, expand=expand, page_size=page_size
        )

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Sequence[tuple[str, str]],
        json: Any,
        correlation_id: str,
        token: str,
        extra: dict[str, object],
        attempt: int,
    ) -> httpx.Response:
        self._check_open()
        headers = {
            "Authorization": f"Bearer {token}",
            CORRELATION_HEADER: correlation_id,
            "User-Agent": self._config.user_agent,
            "Accept": "application/json",
        }
        started = self._monotonic()
        response = self._http.request(
            method,
            url,
            params=list(params) or None,  # None: the URL is parsed once, not again for no query
            json=json,
            headers=headers,
            timeout=self._timeout,
        )
        self._log_response(response, started, extra, attempt)
        return response

    def _log_response(
        self, response: httpx.Response, started: float, extra: dict[str, object], attempt: int
    ) -> None:
        level = logging.DEBUG if response.status_code < 400 else logging.INFO
        if not _log.isEnabledFor(level):
            return
        elapsed_ms = round((self._monotonic() - started) * 1000)
        _log.log(
            level,
            "commercetools %s %s -> %s in %d ms",
            extra["http_method"],
            extra["path"],
            response.status_code,
            elapsed_ms,
            extra={
                **extra,
                "status_code": response.status_code,
                "attempt": attempt,
                "elapsed_ms": elapsed_ms,
            },
        )

    def _with_retries(
        self,
        attempt: Callable[[], httpx.Response],
        *,
        idempotent: bool,
        method: str,
        logged_path: str,
        correlation_id: str,
        extra: dict[str, object],
    ) -> httpx.Response:
        try:
            return call_with_retries(
                attempt,
                policy=self._config.retry,
                idempotent=idempotent,
                sleep=self._sleep,
                now=self._now,
                random=self._random,
                log_extra=extra,
            )
        except httpx.TransportError as exc:
            if self._closed:
                raise ClientClosedError(
                    "this CommercetoolsClient was closed during the request"
                ) from None
            hint = (
                ""
                if idempotent
                else "; the request may have been applied: read the resource before sending it"
                " again"
            )
            _log.warning(
                "commercetools %s %s got no answer (%s)",
                method,
                logged_path,
                type(exc).__name__,
                extra=extra,
            )
            raise CommercetoolsTransportError(
                f"no answer from commercetools to {method} {logged_path} "
                f"({type(exc).__name__}){hint}; correlation id {correlation_id}",
                correlation_id=correlation_id,
            ) from exc

    def _fetch_token(self) -> Any:
        correlation_id = self._new_correlation_id()
        extra: dict[str, object] = {
            "correlation_id": correlation_id,
            "http_method": "POST",
            "path": "/oauth/token",
        }
        form = {"grant_type": "client_credentials"}
        if self._config.scopes:
            form["scope"] = " ".join(self._config.scopes)
        auth = httpx.BasicAuth(self._config.client_id, self._config.client_secret)
        attempts = 0

        def attempt() -> httpx.Response:
            nonlocal attempts
            attempts += 1
            self._check_open()
            started = self._monotonic()
            response = self._http.post(
                self._token_url,
                data=form,
                auth=auth,
                headers={
                    CORRELATION_HEADER: correlation_id,
                    "User-Agent": self._config.user_agent,
                },
                timeout=self._timeout,
            )
            self._log_response(response, started, extra, attempts)
            return response

        response = self._with_retries(
            attempt,
            idempotent=True,
            method="POST",
            logged_path="/oauth/token",
            correlation_id=correlation_id,
            extra=extra,
        )
        return decode_response(
            response.status_code,
            response.headers,
            response.content,
            method="POST",
            path="/oauth/token",
            correlation_id=correlation_id,
            now=self._now(),
        )
