"""``migrate_state``: bring an existing store up to date, schema and data.

Opening a store applies its missing schema migrations (``_schema``); what needs more than SQL
(the installation secret, for guest keys) is done here. ``ct-prima-sync migrate`` runs it; later
versions add their data migrations to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from attrs import frozen

from ._keys import migrate_guest_keys

if TYPE_CHECKING:
    from ._protocol import StateStore

__all__ = ["MigrationReport", "migrate_state"]


@frozen(kw_only=True)
class MigrationReport:
    """What :func:`migrate_state` did. ``schema_from``/``schema_to``: the schema version before
    and after the store was opened (None for the memory store, which has no schema);
    ``guest_keys_rewritten``: guest keys of earlier versions rewritten with the secret."""

    schema_from: int | None
    schema_to: int | None
    guest_keys_rewritten: int

    def as_dict(self) -> dict[str, int | None]:
        """A JSON-able form."""
        return {
            "schema_from": self.schema_from,
            "schema_to": self.schema_to,
            "guest_keys_rewritten": self.guest_keys_rewritten,
        }


def migrate_state(store: StateStore, *, customer_key_secret: str, now: datetime) -> MigrationReport:
    """Finish migrating an opened ``store``: rewrite guest keys of earlier versions with the
    installation secret. Idempotent."""
    schema_to = store.schema_version() if hasattr(store, "schema_version") else None
    return MigrationReport(
        schema_from=getattr(store, "migrated_from", None),
        schema_to=schema_to,
        guest_keys_rewritten=migrate_guest_keys(store, secret=customer_key_secret, now=now),
    )
