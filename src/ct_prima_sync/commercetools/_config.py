"""Settings of the commercetools client: where to connect, as whom, how long to wait, how to retry.

Every default lives in this module as a constant. Validation happens when the object is built and
raises :class:`~ct_prima_sync.errors.ConfigurationError` naming the setting. The client secret is
kept out of ``repr`` and is never logged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from attrs import Attribute, field, frozen

from ..errors import ConfigurationError

__all__ = [
    "DEFAULT_CORRELATION_ID_PREFIX",
    "DEFAULT_USER_AGENT",
    "REGIONS",
    "CommercetoolsConfig",
    "RetryPolicy",
    "Timeouts",
]

REGIONS: Final = (
    "us-central1.gcp",
    "us-east-2.aws",
    "europe-west1.gcp",
    "eu-central-1.aws",
    "australia-southeast1.gcp",
)
DEFAULT_USER_AGENT: Final = "ct-prima-sync"
DEFAULT_CORRELATION_ID_PREFIX: Final = "ct-prima-sync/"

DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_READ_TIMEOUT: Final = 30.0
DEFAULT_WRITE_TIMEOUT: Final = 30.0
DEFAULT_POOL_TIMEOUT: Final = 10.0

DEFAULT_MAX_ATTEMPTS: Final = 5
DEFAULT_BACKOFF_BASE: Final = 0.5
DEFAULT_BACKOFF_CAP: Final = 30.0
DEFAULT_JITTER: Final = 0.25
DEFAULT_MAX_RETRY_AFTER: Final = 120.0
DEFAULT_TOKEN_REFRESH_MARGIN: Final = 300.0

_PROJECT_KEY: Final = re.compile(r"^[a-z0-9_-]{2,36}$")
_SCOPE: Final = re.compile(r"^[A-Za-z0-9_:.-]+$")


def _positive(instance: object, attribute: Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(f"{attribute.name} must be a positive number of seconds")


@frozen(kw_only=True)
class Timeouts:
    """How long one HTTP request may wait, in seconds, per phase (see ``httpx.Timeout``)."""

    connect: float = field(default=DEFAULT_CONNECT_TIMEOUT, validator=_positive)
    read: float = field(default=DEFAULT_READ_TIMEOUT, validator=_positive)
    write: float = field(default=DEFAULT_WRITE_TIMEOUT, validator=_positive)
    pool: float = field(default=DEFAULT_POOL_TIMEOUT, validator=_positive)


@frozen(kw_only=True)
class RetryPolicy:
    """When and how long to wait before trying a failed request again.

    The wait before retry ``n`` (1-based) is ``min(backoff_cap, backoff_base * 2 ** (n - 1))``,
    stretched by a random factor in ``[1 - jitter, 1 + jitter]`` and never above ``backoff_cap``.
    A ``Retry-After`` from the API replaces it; one longer than ``max_retry_after`` is not waited
    for: the :class:`~ct_prima_sync.errors.RateLimitedError` goes to the caller instead.
    ``max_attempts`` counts the first try: ``1`` disables retries.
    """

    max_attempts: int = field(default=DEFAULT_MAX_ATTEMPTS)
    backoff_base: float = field(default=DEFAULT_BACKOFF_BASE, validator=_positive)
    backoff_cap: float = field(default=DEFAULT_BACKOFF_CAP, validator=_positive)
    jitter: float = field(default=DEFAULT_JITTER)
    max_retry_after: float = field(default=DEFAULT_MAX_RETRY_AFTER, validator=_positive)

    @max_attempts.validator
    def _check_attempts(self, attribute: Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigurationError("max_attempts must be an integer of at least 1")

    @jitter.validator
    def _check_jitter(self, attribute: Attribute[float], value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ConfigurationError("jitter must be a number between 0 and 1")

    def __attrs_post_init__(self) -> None:
        if self.backoff_cap < self.backoff_base:
            raise ConfigurationError("backoff_cap must not be smaller than backoff_base")


def _scopes(value: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    return tuple(value)


def _check_url(name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{name} must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise ConfigurationError(f"{name} must not carry credentials; use client_id/client_secret")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"{name} must not have a query string or fragment")
    return url.rstrip("/")


@frozen(kw_only=True)
class CommercetoolsConfig:
    """How to reach one commercetools project.

    Give either ``region`` (one of :data:`REGIONS`; the hosts are derived from it) or both
    ``api_url`` and ``auth_url`` (tests, proxies, regions newer than this library). ``scopes``
    are the OAuth scopes to ask for, for example ``("manage_orders:my-project",)``; leave empty
    to get every scope of the API client. ``client_secret`` never appears in ``repr`` or logs.
    """

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, environ: Mapping[str, str] | None = None
    ) -> CommercetoolsConfig:
        """Settings from a mapping shaped like the settings file's ``[commercetools]`` table (as
        docs/configuration.md describes it): secrets are named by ``*_env`` keys and read from
        ``environ`` (default ``os.environ``), or by ``*_file`` keys. Raises
        :class:`~ct_prima_sync.errors.SettingsError` listing every problem with its key path."""
        from ..settings import parse_section  # noqa: PLC0415 (the settings import this module)

        config: CommercetoolsConfig = parse_section("commercetools", data, environ=environ)
        return config

    project_key: str
    client_id: str
    client_secret: str = field(repr=False)
    region: str | None = None
    api_url: str | None = None
    auth_url: str | None = None
    scopes: tuple[str, ...] = field(default=(), converter=_scopes)
    timeouts: Timeouts = field(factory=Timeouts)
    retry: RetryPolicy = field(factory=RetryPolicy)
    token_refresh_margin: float = field(default=DEFAULT_TOKEN_REFRESH_MARGIN)
    user_agent: str = DEFAULT_USER_AGENT
    correlation_id_prefix: str = DEFAULT_CORRELATION_ID_PREFIX

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.project_key, str) or not _PROJECT_KEY.match(self.project_key):
            raise ConfigurationError(
                "project_key must be 2 to 36 characters of a-z, 0-9, '-' or '_'"
            )
        if not isinstance(self.client_id, str) or not self.client_id.strip():
            raise ConfigurationError("client_id must be a non-empty string")
        if not isinstance(self.client_secret, str) or not self.client_secret.strip():
            raise ConfigurationError("client_secret must be a non-empty string")
        for scope in self.scopes:
            if not isinstance(scope, str) or not _SCOPE.match(scope):
                raise ConfigurationError(
                    "scopes must be names like 'view_orders:<project_key>' without spaces"
                )
        if self.region is not None and self.region not in REGIONS:
            raise ConfigurationError(
                f"region must be one of {', '.join(REGIONS)}; "
                "for another host set api_url and auth_url"
            )
        if self.region is None and (self.api_url is None or self.auth_url is None):
            raise ConfigurationError("set region, or both api_url and auth_url")
        for name in ("api_url", "auth_url"):
            value = getattr(self, name)
            if value is not None:
                _check_url(name, value)
        if (
            isinstance(self.token_refresh_margin, bool)
            or not isinstance(self.token_refresh_margin, int | float)
            or self.token_refresh_margin < 0
        ):
            raise ConfigurationError("token_refresh_margin must be a number of seconds >= 0")
        if not self.user_agent or any(c in self.user_agent for c in "\r\n"):
            raise ConfigurationError("user_agent must be a non-empty single line")
        if any(c in self.correlation_id_prefix for c in "\r\n \t"):
            raise ConfigurationError("correlation_id_prefix must not contain whitespace")

    @property
    def resolved_api_url(self) -> str:
        """The API base URL without a trailing slash, from ``api_url`` or the region."""
        if self.api_url is not None:
            return _check_url("api_url", self.api_url)
        return f"https://api.{self.region}.commercetools.com"

    @property
    def resolved_auth_url(self) -> str:
        """The auth base URL without a trailing slash, from ``auth_url`` or the region."""
        if self.auth_url is not None:
            return _check_url("auth_url", self.auth_url)
        return f"https://auth.{self.region}.commercetools.com"
