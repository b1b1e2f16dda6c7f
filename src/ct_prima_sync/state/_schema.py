"""Versioned schema migrations, one ordered list per SQL dialect.

Each migration is a list of statements applied in one transaction together with its row in
``schema_version``. Never edit a released migration: append a new one. Both dialects must reach
the same logical schema at every version (the agreement tests check the behaviour).
"""

from __future__ import annotations

from typing import Final

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

_SQLITE_V1: Final = [
    # Times are ISO-8601 text in UTC with microseconds, so text order is time order.
    """CREATE TABLE orders (
        order_id TEXT PRIMARY KEY,
        order_number TEXT UNIQUE,
        status TEXT NOT NULL CHECK (status IN ('new', 'claimed', 'mapped', 'customer_resolved',
            'submitting', 'submitted', 'done', 'failed', 'excepted')),
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_expires_at TEXT,
        next_attempt_at TEXT,
        prima_reference TEXT UNIQUE,
        submission_started_at TEXT,
        last_error TEXT,
        currency TEXT NOT NULL,
        fraction_digits INTEGER NOT NULL,
        net_minor INTEGER NOT NULL,
        tax_minor INTEGER NOT NULL,
        gross_minor INTEGER NOT NULL,
        ct_version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX orders_claim_idx ON orders (status, created_at, order_id)",
    """CREATE TABLE exceptions (
        exception_id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        owner TEXT NOT NULL CHECK (owner IN ('finance', 'operations', 'ecommerce')),
        order_id TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        occurrences INTEGER NOT NULL,
        transient INTEGER NOT NULL,
        next_retry_at TEXT,
        resolved_at TEXT,
        resolution_note TEXT
    )""",
    """CREATE UNIQUE INDEX exceptions_open_key ON exceptions (kind, order_id)
        WHERE resolved_at IS NULL""",
    "CREATE INDEX exceptions_due_idx ON exceptions (next_retry_at) WHERE resolved_at IS NULL",
    """CREATE TABLE customer_map (
        key TEXT PRIMARY KEY, account_code TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE cursors (
        name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE stock_snapshot (
        sku TEXT NOT NULL, depot TEXT NOT NULL, last_ats INTEGER, last_pushed INTEGER,
        updated_at TEXT NOT NULL, PRIMARY KEY (sku, depot))""",
    """CREATE TABLE posting_batches (
        batch_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'closed', 'posted')),
        created_at TEXT NOT NULL,
        closed_at TEXT,
        posted_at TEXT,
        prima_reference TEXT
    )""",
    """CREATE TABLE batch_members (
        batch_id TEXT NOT NULL REFERENCES posting_batches (batch_id),
        kind TEXT NOT NULL,
        order_id TEXT NOT NULL,
        currency TEXT NOT NULL,
        fraction_digits INTEGER NOT NULL,
        net_minor INTEGER NOT NULL,
        tax_minor INTEGER NOT NULL,
        gross_minor INTEGER NOT NULL,
        PRIMARY KEY (batch_id, order_id),
        UNIQUE (kind, order_id)
    )""",
    """CREATE TABLE flow_locks (
        name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at TEXT NOT NULL)""",
]

_POSTGRES_V1: Final = [
    # COLLATE "C": keys sort by code point, exactly as the other stores sort them.
    """CREATE TABLE orders (
        order_id TEXT COLLATE "C" PRIMARY KEY,
        order_number TEXT COLLATE "C" UNIQUE,
        status TEXT NOT NULL CHECK (status IN ('new', 'claimed', 'mapped', 'customer_resolved',
            'submitting', 'submitted', 'done', 'failed', 'excepted')),
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_expires_at TIMESTAMPTZ,
        next_attempt_at TIMESTAMPTZ,
        prima_reference TEXT UNIQUE,
        submission_started_at TIMESTAMPTZ,
        last_error TEXT,
        currency TEXT NOT NULL,
        fraction_digits INTEGER NOT NULL,
        net_minor BIGINT NOT NULL,
        tax_minor BIGINT NOT NULL,
        gross_minor BIGINT NOT NULL,
        ct_version BIGINT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE INDEX orders_claim_idx ON orders (status, created_at, order_id)",
    """CREATE TABLE exceptions (
        exception_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind TEXT COLLATE "C" NOT NULL,
        owner TEXT NOT NULL CHECK (owner IN ('finance', 'operations', 'ecommerce')),
        order_id TEXT COLLATE "C" NOT NULL DEFAULT '',
        detail JSONB NOT NULL,
        first_seen TIMESTAMPTZ NOT NULL,
        last_seen TIMESTAMPTZ NOT NULL,
        occurrences INTEGER NOT NULL,
        transient BOOLEAN NOT NULL,
        next_retry_at TIMESTAMPTZ,
        resolved_at TIMESTAMPTZ,
        resolution_note TEXT
    )""",
    """CREATE UNIQUE INDEX exceptions_open_key ON exceptions (kind, order_id)
        WHERE resolved_at IS NULL""",
    "CREATE INDEX exceptions_due_idx ON exceptions (next_retry_at) WHERE resolved_at IS NULL",
    """CREATE TABLE customer_map (
        key TEXT COLLATE "C" PRIMARY KEY, account_code TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE cursors (
        name TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE stock_snapshot (
        sku TEXT COLLATE "C" NOT NULL, depot TEXT COLLATE "C" NOT NULL, last_ats BIGINT,
        last_pushed BIGINT, updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (sku, depot))""",
    """CREATE TABLE posting_batches (
        batch_id TEXT COLLATE "C" PRIMARY KEY,
        kind TEXT COLLATE "C" NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'closed', 'posted')),
        created_at TIMESTAMPTZ NOT NULL,
        closed_at TIMESTAMPTZ,
        posted_at TIMESTAMPTZ,
        prima_reference TEXT
    )""",
    """CREATE TABLE batch_members (
        batch_id TEXT COLLATE "C" NOT NULL REFERENCES posting_batches (batch_id),
        kind TEXT COLLATE "C" NOT NULL,
        order_id TEXT COLLATE "C" NOT NULL,
        currency TEXT NOT NULL,
        fraction_digits INTEGER NOT NULL,
        net_minor BIGINT NOT NULL,
        tax_minor BIGINT NOT NULL,
        gross_minor BIGINT NOT NULL,
        PRIMARY KEY (batch_id, order_id),
        UNIQUE (kind, order_id)
    )""",
    """CREATE TABLE flow_locks (
        name TEXT COLLATE "C" PRIMARY KEY, owner TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)""",
]

# v2: the engine looks up an order's open exceptions when the order finally goes through.
_V2: Final = ["CREATE INDEX exceptions_order_idx ON exceptions (order_id)"]

# v3: who resolved an exception, beside the note (``resolve --by``).
_V3: Final = ["ALTER TABLE exceptions ADD COLUMN resolved_by TEXT"]

# v4: despatch progress. One row per order Prima accepted (followed while ``open``; the due index
# keeps the "which orders to ask Prima about" query bounded), its deliveries append-only with a
# unique key per order (the ledger's last line against writing a delivery twice).
_SQLITE_V4: Final = [
    """CREATE TABLE dispatch_orders (
        order_id TEXT PRIMARY KEY REFERENCES orders (order_id),
        order_number TEXT,
        prima_reference TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'shipped', 'cancelled', 'closed')),
        accepted_at TEXT NOT NULL,
        next_check_at TEXT,
        last_checked_at TEXT,
        checks INTEGER NOT NULL,
        prima_status TEXT NOT NULL,
        ct_order_state TEXT NOT NULL,
        lines TEXT NOT NULL,
        returns TEXT NOT NULL,
        first_despatched_on TEXT,
        last_despatched_on TEXT,
        finished_at TEXT,
        revision INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        CHECK ((state = 'open') = (next_check_at IS NOT NULL))
    )""",
    """CREATE INDEX dispatch_due_idx ON dispatch_orders (next_check_at, accepted_at, order_id)
        WHERE state = 'open'""",
    """CREATE TABLE dispatch_deliveries (
        order_id TEXT NOT NULL REFERENCES dispatch_orders (order_id),
        delivery_key TEXT NOT NULL,
        despatch_ref TEXT NOT NULL,
        despatched_on TEXT NOT NULL,
        items TEXT NOT NULL,
        written_at TEXT NOT NULL,
        shipping_key TEXT,
        carrier TEXT NOT NULL,
        tracking_ids TEXT NOT NULL,
        PRIMARY KEY (order_id, delivery_key)
    )""",
]

_POSTGRES_V4: Final = [
    """CREATE TABLE dispatch_orders (
        order_id TEXT COLLATE "C" PRIMARY KEY REFERENCES orders (order_id),
        order_number TEXT COLLATE "C",
        prima_reference TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'shipped', 'cancelled', 'closed')),
        accepted_at TIMESTAMPTZ NOT NULL,
        next_check_at TIMESTAMPTZ,
        last_checked_at TIMESTAMPTZ,
        checks INTEGER NOT NULL,
        prima_status TEXT NOT NULL,
        ct_order_state TEXT NOT NULL,
        lines JSONB NOT NULL,
        returns JSONB NOT NULL,
        first_despatched_on DATE,
        last_despatched_on DATE,
        finished_at TIMESTAMPTZ,
        revision INTEGER NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        CHECK ((state = 'open') = (next_check_at IS NOT NULL))
    )""",
    """CREATE INDEX dispatch_due_idx ON dispatch_orders (next_check_at, accepted_at, order_id)
        WHERE state = 'open'""",
    """CREATE TABLE dispatch_deliveries (
        order_id TEXT COLLATE "C" NOT NULL REFERENCES dispatch_orders (order_id),
        delivery_key TEXT COLLATE "C" NOT NULL,
        despatch_ref TEXT NOT NULL,
        despatched_on DATE NOT NULL,
        items JSONB NOT NULL,
        written_at TIMESTAMPTZ NOT NULL,
        shipping_key TEXT,
        carrier TEXT NOT NULL,
        tracking_ids JSONB NOT NULL,
        PRIMARY KEY (order_id, delivery_key)
    )""",
]

# v5: each flow's runs (health, metrics), what shadow runs would have sent (going live), and
# when an exception's free text was scrubbed (retention, erasure requests).
_SHADOW_VERDICTS: Final = "('would_send', 'would_except', 'not_checked', 'sent_held')"
_SQLITE_V5: Final = [
    """CREATE TABLE flow_runs (
        flow TEXT PRIMARY KEY,
        last_started_at TEXT,
        last_finished_at TEXT,
        last_succeeded_at TEXT,
        last_failed_at TEXT,
        last_failure TEXT,
        last_duration_seconds REAL,
        last_counts TEXT NOT NULL DEFAULT '{}',
        runs INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        total_seconds REAL NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE flow_totals (
        flow TEXT NOT NULL, name TEXT NOT NULL, total INTEGER NOT NULL,
        PRIMARY KEY (flow, name))""",
    f"""CREATE TABLE shadow_orders (
        order_id TEXT PRIMARY KEY,
        order_number TEXT,
        mode TEXT NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN {_SHADOW_VERDICTS}),
        kinds TEXT NOT NULL DEFAULT '',
        currency TEXT,
        fraction_digits INTEGER,
        net_minor INTEGER,
        tax_minor INTEGER,
        gross_minor INTEGER,
        lines INTEGER NOT NULL DEFAULT 0,
        new_customer INTEGER NOT NULL DEFAULT 0,
        customer_key TEXT,
        payload TEXT,
        recorded_at TEXT NOT NULL,
        purged_at TEXT
    )""",
    "CREATE INDEX shadow_orders_recorded_idx ON shadow_orders (recorded_at)",
    "CREATE INDEX shadow_orders_customer_idx ON shadow_orders (customer_key)",
    "ALTER TABLE exceptions ADD COLUMN purged_at TEXT",
    "CREATE INDEX exceptions_resolved_idx ON exceptions (resolved_at) WHERE purged_at IS NULL",
]
_POSTGRES_V5: Final = [
    """CREATE TABLE flow_runs (
        flow TEXT COLLATE "C" PRIMARY KEY,
        last_started_at TIMESTAMPTZ,
        last_finished_at TIMESTAMPTZ,
        last_succeeded_at TIMESTAMPTZ,
        last_failed_at TIMESTAMPTZ,
        last_failure TEXT,
        last_duration_seconds DOUBLE PRECISION,
        last_counts JSONB NOT NULL DEFAULT '{}',
        runs BIGINT NOT NULL DEFAULT 0,
        failures BIGINT NOT NULL DEFAULT 0,
        consecutive_failures BIGINT NOT NULL DEFAULT 0,
        total_seconds DOUBLE PRECISION NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE flow_totals (
        flow TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL, total BIGINT NOT NULL,
        PRIMARY KEY (flow, name))""",
    f"""CREATE TABLE shadow_orders (
        order_id TEXT COLLATE "C" PRIMARY KEY,
        order_number TEXT COLLATE "C",
        mode TEXT NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN {_SHADOW_VERDICTS}),
        kinds TEXT NOT NULL DEFAULT '',
        currency TEXT,
        fraction_digits INTEGER,
        net_minor BIGINT,
        tax_minor BIGINT,
        gross_minor BIGINT,
        lines INTEGER NOT NULL DEFAULT 0,
        new_customer BOOLEAN NOT NULL DEFAULT FALSE,
        customer_key TEXT COLLATE "C",
        payload JSONB,
        recorded_at TIMESTAMPTZ NOT NULL,
        purged_at TIMESTAMPTZ
    )""",
    "CREATE INDEX shadow_orders_recorded_idx ON shadow_orders (recorded_at)",
    "CREATE INDEX shadow_orders_customer_idx ON shadow_orders (customer_key)",
    "ALTER TABLE exceptions ADD COLUMN purged_at TIMESTAMPTZ",
    "CREATE INDEX exceptions_resolved_idx ON exceptions (resolved_at) WHERE purged_at IS NULL",
]


def _v6(text: str) -> list[str]:
    """v6: order lines per SKU and depot until Prima has the order (the stock flow's pending
    figure, one indexed query), and exceptions about a subject other than an order (a SKU in a
    depot), one open per kind, order and subject."""
    return [
        f"""CREATE TABLE order_lines (
            order_id {text} NOT NULL REFERENCES orders (order_id),
            sku {text} NOT NULL,
            depot {text} NOT NULL,
            quantity BIGINT NOT NULL CHECK (quantity > 0),
            PRIMARY KEY (order_id, sku, depot)
        )""",
        "CREATE INDEX order_lines_sku_idx ON order_lines (sku, depot)",
        f"ALTER TABLE exceptions ADD COLUMN subject {text} NOT NULL DEFAULT ''",
        "DROP INDEX exceptions_open_key",
        """CREATE UNIQUE INDEX exceptions_open_key ON exceptions (kind, order_id, subject)
            WHERE resolved_at IS NULL""",
    ]


def _v7(text: str, ts: str) -> list[str]:
    """v7: orders the order flow holds back (not yet due, waiting for payment) with their lines,
    pending for the stock flow until they enter the ledger or stop being held."""
    return [
        f"""CREATE TABLE held_orders (
            order_id {text} PRIMARY KEY,
            order_number {text},
            ct_version BIGINT NOT NULL,
            reason TEXT NOT NULL CHECK (reason IN ('not_yet_due', 'awaiting_payment')),
            held_since {ts} NOT NULL,
            checked_at {ts} NOT NULL
        )""",
        "CREATE INDEX held_orders_checked_idx ON held_orders (checked_at, order_id)",
        f"""CREATE TABLE held_lines (
            order_id {text} NOT NULL REFERENCES held_orders (order_id),
            sku {text} NOT NULL,
            depot {text} NOT NULL,
            quantity BIGINT NOT NULL CHECK (quantity > 0),
            PRIMARY KEY (order_id, sku, depot)
        )""",
        "CREATE INDEX held_lines_sku_idx ON held_lines (sku, depot)",
    ]


def _v8_batches(text: str) -> list[str]:
    """v8 (both dialects): a posting batch knows its period, currency and sequence, and keeps the
    journal it posts (JSON), so a retry after an outage sends exactly the same lines."""
    return [
        f"ALTER TABLE posting_batches ADD COLUMN period {text} NOT NULL DEFAULT ''",
        f"ALTER TABLE posting_batches ADD COLUMN currency {text} NOT NULL DEFAULT ''",
        "ALTER TABLE posting_batches ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE posting_batches ADD COLUMN journal TEXT",
        "CREATE INDEX posting_batches_period_idx ON posting_batches (kind, period, currency)",
    ]


# v8: a batch member is one entry of an order (its sale, a charge, a refund, a cancellation), so an
# order may be in several batches of one kind, each entry in exactly one.
_SQLITE_V8: Final = [
    *_v8_batches("TEXT"),
    """CREATE TABLE batch_members_v8 (
        batch_id TEXT NOT NULL REFERENCES posting_batches (batch_id),
        kind TEXT NOT NULL,
        order_id TEXT NOT NULL,
        entry TEXT NOT NULL DEFAULT '',
        currency TEXT NOT NULL,
        fraction_digits INTEGER NOT NULL,
        net_minor INTEGER NOT NULL,
        tax_minor INTEGER NOT NULL,
        gross_minor INTEGER NOT NULL,
        PRIMARY KEY (batch_id, order_id, entry),
        UNIQUE (kind, order_id, entry)
    )""",
    """INSERT INTO batch_members_v8 (batch_id, kind, order_id, entry, currency, fraction_digits,
        net_minor, tax_minor, gross_minor)
        SELECT batch_id, kind, order_id, '', currency, fraction_digits, net_minor, tax_minor,
        gross_minor FROM batch_members""",
    "DROP TABLE batch_members",
    "ALTER TABLE batch_members_v8 RENAME TO batch_members",
    "CREATE INDEX batch_members_order_idx ON batch_members (order_id)",
]
_POSTGRES_V8: Final = [
    *_v8_batches('TEXT COLLATE "C"'),
    """ALTER TABLE batch_members ADD COLUMN entry TEXT COLLATE "C" NOT NULL DEFAULT ''""",
    "ALTER TABLE batch_members DROP CONSTRAINT batch_members_pkey",
    "ALTER TABLE batch_members DROP CONSTRAINT batch_members_kind_order_id_key",
    "ALTER TABLE batch_members ADD PRIMARY KEY (batch_id, order_id, entry)",
    "ALTER TABLE batch_members ADD UNIQUE (kind, order_id, entry)",
    "CREATE INDEX batch_members_order_idx ON batch_members (order_id)",
]


def _v9(nulls_first: str, text: str, stamp: str) -> list[str]:
    """v9: one index per claim branch (``_claim.BRANCHES``), each read in order with a LIMIT so
    a claim costs the same at any backlog: failed orders by when their retry is due, work in
    progress by lease expiry (released leases, NULL, first). New orders use ``orders_claim_idx``.
    And the request budgets every worker shares (``_budget``): one row per budget."""
    return [
        f"CREATE TABLE request_budgets (name {text} PRIMARY KEY, tat {stamp})",
        """CREATE INDEX orders_retry_idx ON orders (next_attempt_at, order_id)
            WHERE status = 'failed'""",
        f"""CREATE INDEX orders_lease_idx ON orders (lease_expires_at{nulls_first}, order_id)
            WHERE status IN ('claimed', 'mapped', 'customer_resolved', 'submitting',
                'submitted')""",
    ]


def _v10(stamp: str) -> list[str]:
    """v10: the write-back queue (``_write_backs``): an order in Prima whose reference is not on
    the commercetools order yet is retried from ``write_back_due_at`` (NULL: nothing queued),
    each failed attempt counted; one partial index reads the due ones in order."""
    return [
        f"ALTER TABLE orders ADD COLUMN write_back_due_at {stamp}",
        "ALTER TABLE orders ADD COLUMN write_back_attempts INTEGER NOT NULL DEFAULT 0",
        """CREATE INDEX orders_write_back_idx ON orders (write_back_due_at, order_id)
            WHERE write_back_due_at IS NOT NULL""",
    ]


#: dialect -> ordered (version, statements); versions start at 1 and only ever grow (a version
#: may be skipped while parallel lines of work each reserve their own number).
#: dialect -> ordered (version, statements); versions start at 1 and have no gaps.
MIGRATIONS: Final[dict[str, list[tuple[int, list[str]]]]] = {
    "sqlite": [
        (1, _SQLITE_V1),
        (2, _V2),
        (3, _V3),
        (4, _SQLITE_V4),
        (5, _SQLITE_V5),
        (6, _v6("TEXT")),
        (7, _v7("TEXT", "TEXT")),
        (8, _SQLITE_V8),
        (9, _v9("", "TEXT", "TEXT")),
        (10, _v10("TEXT")),
    ],
    "postgresql": [
        (1, _POSTGRES_V1),
        (2, _V2),
        (3, _V3),
        (4, _POSTGRES_V4),
        (5, _POSTGRES_V5),
        (6, _v6('TEXT COLLATE "C"')),
        (7, _v7('TEXT COLLATE "C"', "TIMESTAMPTZ")),
        (8, _POSTGRES_V8),
        (9, _v9(" NULLS FIRST", 'TEXT COLLATE "C"', "TIMESTAMPTZ")),
        (10, _v10("TIMESTAMPTZ")),
    ],
}

#: The schema version this library writes and expects.
SCHEMA_VERSION: Final = 10

CREATE_VERSION_TABLE: Final = {
    "sqlite": """CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)""",
    "postgresql": """CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())""",
}
