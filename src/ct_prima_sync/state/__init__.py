"""Durable sync state: order ledger, held orders, despatch progress, exception queue, customer
map, cursors, stock snapshot, posting batches, singleton-flow locks, each flow's runs and shadow
records, behind one :class:`StateStore` protocol.

``open_store("memory://" | "sqlite:///sync.db" | "postgresql://...")`` returns a migrated store;
every store has the same semantics (see docs/state.md).
"""

from ._dispatch_records import (
    DeliveryRecord,
    DispatchLine,
    DispatchRecord,
    DispatchState,
    ReturnRecord,
    new_dispatch_record,
)
from ._held_records import HeldOrder, HeldRecord, HoldReason
from ._keys import (
    CUSTOMER_KEY_SECRET_ENV,
    customer_key_for_email,
    customer_key_for_id,
    installation_secret,
    migrate_guest_keys,
)
from ._ledger import TRANSITIONS
from ._memory import MemoryStore
from ._migrate import MigrationReport, migrate_state
from ._open import open_store
from ._ops_records import FlowRunRecord, PurgeCounts, ShadowRecord, ShadowVerdict
from ._protocol import StateStore
from ._records import (
    BatchMember,
    BatchStatus,
    CursorValue,
    CustomerMapping,
    ExceptionFilter,
    ExceptionRecord,
    NewOrder,
    OrderLine,
    OrderRecord,
    OrderStatus,
    OrderTotals,
    Owner,
    PostingBatch,
    StockSnapshot,
    StockUpdate,
)
from ._sqlite import SqliteStore
from ._write_backs import WriteBackItem

__all__ = [
    "CUSTOMER_KEY_SECRET_ENV",
    "TRANSITIONS",
    "BatchMember",
    "BatchStatus",
    "CursorValue",
    "CustomerMapping",
    "DeliveryRecord",
    "DispatchLine",
    "DispatchRecord",
    "DispatchState",
    "ExceptionFilter",
    "ExceptionRecord",
    "FlowRunRecord",
    "HeldOrder",
    "HeldRecord",
    "HoldReason",
    "MemoryStore",
    "MigrationReport",
    "NewOrder",
    "OrderLine",
    "OrderRecord",
    "OrderStatus",
    "OrderTotals",
    "Owner",
    "PostingBatch",
    "PurgeCounts",
    "ReturnRecord",
    "ShadowRecord",
    "ShadowVerdict",
    "SqliteStore",
    "StateStore",
    "StockSnapshot",
    "StockUpdate",
    "WriteBackItem",
    "customer_key_for_email",
    "customer_key_for_id",
    "installation_secret",
    "migrate_guest_keys",
    "migrate_state",
    "new_dispatch_record",
    "open_store",
]
