"""OAuth2 client-credentials tokens for commercetools: fetched once, shared, refreshed early.

One :class:`TokenProvider` serves every thread of a client. The first caller that finds no valid
token fetches one while the others wait for it (one request, not one per thread). A token is
refreshed ``token_refresh_margin`` seconds before it expires (at most half its lifetime early),
and :meth:`TokenProvider.invalidate` drops it when the API answered 401 so the next call fetches
a fresh one. Token values never appear in ``repr``, logs or exception messages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from attrs import field, frozen

from ..errors import AuthenticationError, CommercetoolsApiError, PayloadError

__all__ = ["AccessToken", "TokenProvider", "parse_token_response"]


@frozen(kw_only=True)
class AccessToken:
    """A bearer token and the monotonic time after which it must not be used."""

    value: str = field(repr=False)
    refresh_at: float
    scopes: tuple[str, ...] = ()


def parse_token_response(data: object, *, now: float, margin: float) -> AccessToken:
    """Read the token endpoint's JSON reply into an :class:`AccessToken`.

    ``now`` is the monotonic clock when the request was sent; the token is due for refresh
    ``min(margin, expires_in / 2)`` seconds before it expires.
    """
    if not isinstance(data, Mapping):
        raise PayloadError("token response is not a JSON object", path="oauth/token")
    value = data.get("access_token")
    if not isinstance(value, str) or not value:
        raise PayloadError("missing access_token", path="oauth/token.access_token")
    token_type = data.get("token_type", "Bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise PayloadError("token_type is not Bearer", path="oauth/token.token_type")
    expires_in = data.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
        raise PayloadError("expires_in must be a positive integer", path="oauth/token.expires_in")
    scope = data.get("scope", "")
    scopes = tuple(scope.split()) if isinstance(scope, str) else ()
    early = min(margin, expires_in / 2)
    return AccessToken(value=value, refresh_at=now + expires_in - early, scopes=scopes)


class TokenProvider:
    """Hands out a valid bearer token, fetching a new one only when needed. Thread-safe.

    ``fetch`` performs the token request and returns the decoded JSON reply (raising the typed
    errors of :mod:`ct_prima_sync.errors`); ``clock`` is a monotonic clock in seconds.
    """

    def __init__(
        self,
        fetch: Callable[[], Any],
        *,
        clock: Callable[[], float],
        margin: float,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._margin = margin
        self._lock = threading.Lock()
        self._token: AccessToken | None = None

    def __repr__(self) -> str:
        return f"<TokenProvider cached={self._token is not None}>"

    def token(self) -> str:
        """A bearer token valid for now; fetches one if none is cached or it is due."""
        with self._lock:
            current = self._token
            if current is not None and self._clock() < current.refresh_at:
                return current.value
            started = self._clock()
            try:
                data = self._fetch()
            except CommercetoolsApiError as exc:
                if 400 <= exc.status_code < 500 and exc.status_code != 429:
                    raise AuthenticationError(
                        "the token endpoint refused the client credentials or scopes "
                        f"({', '.join(exc.codes) or exc.status_code}); "
                        "check client_id, client_secret and scopes",
                        status_code=exc.status_code,
                        codes=exc.codes,
                        correlation_id=exc.correlation_id,
                    ) from None
                raise
            self._token = parse_token_response(data, now=started, margin=self._margin)
            return self._token.value

    def invalidate(self, value: str) -> None:
        """Forget ``value`` if it is still the cached token (the API refused it with a 401)."""
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None
