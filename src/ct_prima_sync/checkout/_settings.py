"""``[checkout]``: how the checkout extension serves, answers and registers.

The values and their defaults (docs/checkout.md has the whole table)::

    [checkout]
    url = "https://checkout-guard.example.com/"   # where commercetools calls it (register)
    bind = "127.0.0.1"                             # where ``checkout serve`` listens
    port = 8787
    timeout_in_ms = 2000          # the Extension's timeoutInMs (commercetools allows up to 10 s)
    deadline_margin_ms = 300      # answer this long before timeoutInMs, at least 300 ms
    fail_open = true              # past the deadline: accept (true) or refuse (false)
    stock_check = "off"           # "warn" or "refuse" from the last stock snapshot
    refresh_seconds = 30          # re-read the mapping configuration this often
    stock_refresh_seconds = 60    # re-read a SKU's snapshot figure this often
    default_locale = "en"
    [checkout.messages.UNMAPPED_SKU]
    en = "This item cannot be ordered at the moment."

The authorisation header commercetools sends is a secret: it is read from the environment
(:data:`AUTHORIZATION_ENV`), never from the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from attrs import field, frozen

from ..errors import ConfigurationError
from ..mapping._checkout import CheckoutConfig, StockCheck
from ..mapping._config import MappingConfig

__all__ = [
    "AUTHORIZATION_ENV",
    "DEFAULT_TIMEOUT_MS",
    "MAX_TIMEOUT_MS",
    "MIN_DEADLINE_MARGIN_MS",
    "CheckoutSettings",
]

#: The environment variable holding the exact ``Authorization`` header value commercetools sends
#: (the Extension's ``AuthorizationHeader`` destination), e.g. ``Bearer 5f1c...``.
AUTHORIZATION_ENV: Final = "CT_PRIMA_SYNC_CHECKOUT_AUTHORIZATION"
#: commercetools' default ``timeoutInMs``.
DEFAULT_TIMEOUT_MS: Final = 2000
#: The longest ``timeoutInMs`` commercetools accepts (since 2026-03-03).
MAX_TIMEOUT_MS: Final = 10_000
#: The least time between the internal deadline and ``timeoutInMs``: the answer still has to
#: travel back to commercetools.
MIN_DEADLINE_MARGIN_MS: Final = 300


def _port(_instance: object, _attribute: object, value: int) -> None:
    if not 0 <= value < 65536:
        raise ConfigurationError(f"port must be between 0 and 65535, got {value}")


def _timeout(_instance: object, _attribute: object, value: int) -> None:
    if not 1 <= value <= MAX_TIMEOUT_MS:
        raise ConfigurationError(
            f"timeout_in_ms must be between 1 and {MAX_TIMEOUT_MS:,} (commercetools' limit), "
            f"got {value}"
        )


def _positive(_instance: object, attribute: object, value: float) -> None:
    if not value > 0:
        raise ConfigurationError(f"{getattr(attribute, 'name', 'value')} must be positive")


@frozen(kw_only=True)
class CheckoutSettings:
    """``[checkout]``: serving, deadline, fail-open policy, stock check and shopper messages."""

    url: str = ""
    """The extension's public URL, where commercetools calls it (``checkout register``)."""
    key: str = "ct-prima-sync-checkout"
    """The Extension's key in commercetools (``checkout register`` creates or updates it)."""
    bind: str = "127.0.0.1"
    port: int = field(default=8787, validator=_port)
    timeout_in_ms: int = field(default=DEFAULT_TIMEOUT_MS, validator=_timeout)
    deadline_margin_ms: int = MIN_DEADLINE_MARGIN_MS
    fail_open: bool = True
    """Past the deadline: accept the cart with a warning logged (true) or refuse it (false)."""
    stock_check: StockCheck = StockCheck.OFF
    refresh_seconds: float = field(default=30.0, validator=_positive)
    stock_refresh_seconds: float = field(default=60.0, validator=_positive)
    default_locale: str = "en"
    messages: Mapping[str, Mapping[str, str]] = field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if self.deadline_margin_ms < MIN_DEADLINE_MARGIN_MS:
            raise ConfigurationError(
                f"deadline_margin_ms must be at least {MIN_DEADLINE_MARGIN_MS} (the answer must "
                f"reach commercetools before timeoutInMs), got {self.deadline_margin_ms}"
            )
        if self.deadline_margin_ms >= self.timeout_in_ms:
            raise ConfigurationError(
                f"timeout_in_ms ({self.timeout_in_ms}) leaves no time to check a cart after the "
                f"{self.deadline_margin_ms} ms margin: raise timeout_in_ms"
            )

    @property
    def deadline_seconds(self) -> float:
        """How long a cart may take to check before the fail-open (or closed) answer."""
        return (self.timeout_in_ms - self.deadline_margin_ms) / 1000

    def checkout_config(self, mapping: MappingConfig) -> CheckoutConfig:
        """The validator's configuration: ``mapping`` with these messages and stock check."""
        return CheckoutConfig.from_dict(
            {
                "default_locale": self.default_locale,
                "messages": {code: dict(texts) for code, texts in self.messages.items()},
                "stock_check": self.stock_check.value,
            },
            mapping,
            path="checkout",
        )
