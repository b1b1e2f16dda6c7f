"""How to reach and speak to one Prima installation's omlink service.

Every default lives here. Secrets (``password``, ``header_value``) are excluded from ``repr`` and
never logged. Invalid settings raise :class:`~ct_prima_sync.errors.ConfigurationError` naming the
setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from attrs import field, frozen

from ..errors import ConfigurationError
from ._xml import Encoding, OmlinkSchema, SoapNames

__all__ = ["OmlinkConfig", "RetryPolicy"]

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_RATE_LIMIT = 5.0
DEFAULT_BURST = 5
DEFAULT_MAX_CONCURRENCY = 4
DEFAULT_MAX_WAIT = 30.0
DEFAULT_ATS_CHUNK_SIZE = 500
#: The largest reply read: 64 MiB. A real whole-catalogue ATS reply was 645 KB for 5,395 SKUs
#: (about 120 bytes a SKU), so the cap holds a catalogue of over half a million SKUs (a large
#: retailer's, with room to spare) while bounding what one reply can cost in memory (the parse
#: needs a few times the reply's size).
DEFAULT_MAX_REPLY_BYTES = 64 * 1024 * 1024


@frozen(kw_only=True)
class RetryPolicy:
    """How read-only requests are retried (writes never are).

    Delays grow ``base_delay * 2**(attempt-1)`` up to ``max_delay``, with jitter; a gateway's
    ``Retry-After`` is honoured when it is at most ``max_retry_after`` (longer: give up).
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 10.0
    max_retry_after: float = 60.0

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigurationError("retry.attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < self.base_delay or self.max_retry_after < 0:
            raise ConfigurationError(
                "retry delays must be non-negative, with max_delay >= base_delay"
            )


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ConfigurationError(f"{name} must be positive, got {value!r}")


@frozen(kw_only=True)
class OmlinkConfig:
    """Settings of one omlink installation.

    ``endpoint`` is the SOAP URL (``http://host:8080/<instance>/<instance>``); ``company_id``
    switches to ``comwsomhandler`` on multi-company installations. ``username``/``password`` add
    HTTP basic auth; ``header_name``/``header_value`` a gateway header (an API key). The rate limit
    (``rate_limit`` requests per second, ``burst``) and ``max_concurrency`` are shared by every
    thread using one client; a request that cannot get a slot within ``max_wait`` seconds fails
    without being sent. ``ats_per_depot`` says whether the installation reports ATS per depot
    (``Warehouse`` on each row); ``unknown_order_error`` narrows which ``OrderStatus`` ERROR text
    means "order not known" (empty: every ERROR does, as the public documentation says).
    ``max_reply_bytes`` caps a reply's size: a larger one is refused while it streams in
    (:class:`~ct_prima_sync.errors.PrimaReplyTooLargeError`), without reading the rest.
    """

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, environ: Mapping[str, str] | None = None
    ) -> OmlinkConfig:
        """Settings from a mapping shaped like the settings file's ``[prima]`` table (as
        docs/configuration.md describes it): secrets are named by ``*_env`` keys and read from
        ``environ`` (default ``os.environ``), or by ``*_file`` keys. Raises
        :class:`~ct_prima_sync.errors.SettingsError` listing every problem with its key path."""
        from ..settings import parse_section  # noqa: PLC0415 (the settings import this module)

        config: OmlinkConfig = parse_section("prima", data, environ=environ)
        return config

    endpoint: str
    company_id: str | None = None
    encoding: Encoding = field(default=Encoding.ISO_8859_1, converter=Encoding)
    soap: SoapNames = field(factory=SoapNames)
    schema: OmlinkSchema = field(factory=OmlinkSchema)
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    header_name: str = ""
    header_value: str = field(default="", repr=False)
    rate_limit: float = DEFAULT_RATE_LIMIT
    burst: int = DEFAULT_BURST
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_wait: float = DEFAULT_MAX_WAIT
    retry: RetryPolicy = field(factory=RetryPolicy)
    ats_chunk_size: int = DEFAULT_ATS_CHUNK_SIZE
    ats_per_depot: bool = False
    unknown_order_error: str = ""
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES

    def __attrs_post_init__(self) -> None:
        parts = urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError("endpoint must be an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise ConfigurationError("endpoint must not embed credentials: use username/password")
        if self.company_id is not None and not self.company_id.strip():
            raise ConfigurationError("company_id must be None or a non-empty company id")
        _positive("connect_timeout", self.connect_timeout)
        _positive("read_timeout", self.read_timeout)
        _positive("rate_limit", self.rate_limit)
        if self.max_wait < 0:
            raise ConfigurationError("max_wait must not be negative")
        if self.burst < 1:
            raise ConfigurationError("burst must be at least 1")
        if self.max_concurrency < 1:
            raise ConfigurationError("max_concurrency must be at least 1")
        if self.max_reply_bytes < 1024:
            raise ConfigurationError("max_reply_bytes must be at least 1024")
        if self.ats_chunk_size < 1:
            raise ConfigurationError("ats_chunk_size must be at least 1")
        if bool(self.password) and not self.username:
            raise ConfigurationError("password is set but username is empty")
        if bool(self.header_name) != bool(self.header_value):
            raise ConfigurationError("header_name and header_value go together")
