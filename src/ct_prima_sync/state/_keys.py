"""Customer-map keys: who a commercetools customer is, without personal data in the state.

A registered customer's key is its commercetools id (``id:<id>``). A guest checkout has only an
e-mail address, which must never be stored; an unsalted hash of it would not do either, since a
stolen state file could be matched against a list of addresses. A guest's key is therefore an
HMAC-SHA256, keyed with the installation's secret (the environment variable
:data:`CUSTOMER_KEY_SECRET_ENV`), over the SHA-256 of the normalised address. Keys written by
earlier versions (``email-sha256:<hash>``, the hash alone) are rewritten by
:func:`migrate_guest_keys` with nothing but the secret: the HMAC's input is that very hash.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from ._protocol import StateStore

__all__ = [
    "CUSTOMER_KEY_SECRET_ENV",
    "customer_key_for_email",
    "customer_key_for_id",
    "installation_secret",
    "migrate_guest_keys",
]

#: The environment variable that holds the installation secret guest customers' keys are made
#: with (at least :data:`MIN_SECRET_LENGTH` characters; keep it with the state's backups).
CUSTOMER_KEY_SECRET_ENV: Final = "CT_PRIMA_SYNC_CUSTOMER_KEY_SECRET"  # noqa: S105 (a name)
MIN_SECRET_LENGTH: Final = 16

#: Guest keys before the installation secret: the bare SHA-256 of the address.
LEGACY_EMAIL_PREFIX: Final = "email-sha256:"
EMAIL_PREFIX: Final = "email-hmac:"


def check_secret(secret: str) -> str:
    """``secret`` if it can key guest customers; a ConfigurationError that says what to set."""
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            f"the customer key secret must have at least {MIN_SECRET_LENGTH} characters: set "
            f"{CUSTOMER_KEY_SECRET_ENV} to a random string (python -c 'import secrets; "
            "print(secrets.token_hex(32))') and keep it with the state's backups"
        )
    return secret


def installation_secret(explicit: str | None, environ: Mapping[str, str]) -> str:
    """The installation secret: ``explicit`` if given, else :data:`CUSTOMER_KEY_SECRET_ENV` from
    ``environ``; a ConfigurationError naming the variable when neither is set (the sync keys no
    guest without it, rather than fall back to a key anyone could recompute)."""
    secret = explicit or environ.get(CUSTOMER_KEY_SECRET_ENV, "")
    if not secret:
        raise ConfigurationError(
            "the sync needs an installation secret for guest customers' keys: set the "
            f"environment variable {CUSTOMER_KEY_SECRET_ENV} to a random string of at least "
            f"{MIN_SECRET_LENGTH} characters (python -c 'import secrets; "
            "print(secrets.token_hex(32))') and keep it with the state's backups"
        )
    return check_secret(secret)


def customer_key_for_id(customer_id: str) -> str:
    """The customer-map key for a registered commercetools customer."""
    return f"id:{customer_id}"


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def _keyed(digest: str, secret: str) -> str:
    mac = hmac.new(check_secret(secret).encode("utf-8"), digest.encode("ascii"), hashlib.sha256)
    return EMAIL_PREFIX + mac.hexdigest()


def legacy_customer_key_for_email(email: str) -> str:
    """The guest key versions before the installation secret wrote (to find, and erase, rows
    :func:`migrate_guest_keys` has not rewritten yet)."""
    return LEGACY_EMAIL_PREFIX + _email_digest(email)


def customer_key_for_email(email: str, *, secret: str) -> str:
    """The customer-map key for a guest checkout: an HMAC-SHA256 keyed with the installation
    ``secret`` over the SHA-256 of the normalised (trimmed, lower-case) address.

    Neither the address nor an unkeyed hash of it is ever stored.
    """
    return _keyed(_email_digest(email), secret)


def migrate_guest_keys(store: StateStore, *, secret: str, now: datetime) -> int:
    """Rewrite the guest keys of earlier versions (``email-sha256:...``) as keyed ones, in one
    transaction, without the addresses; returns how many were rewritten. Idempotent."""
    check_secret(secret)
    return store.rename_customer_keys(
        LEGACY_EMAIL_PREFIX,
        lambda key: _keyed(key.removeprefix(LEGACY_EMAIL_PREFIX), secret),
        now=now,
    )
