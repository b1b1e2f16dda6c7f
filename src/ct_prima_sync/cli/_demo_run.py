"""The demo itself: the order, stock and dispatch flows on the embedded default, with nothing
to set up.

SQLite state in a local file, the bundled commercetools fake and the Prima emulator (spoken to
over its omlink SOAP protocol by the real client), a realistic catalogue and a few hundred orders
including bad ones; a stock pass, then one full order sync and a report of what happened, then a
second stock pass after a delivery arrived in Prima, saying how many entries changed and why.
Then the warehouse despatches some orders in full and some in part and cancels one, one dispatch
run passes that on, and the report shows the deliveries that reached commercetools.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from ..engine import EngineConfig, SyncEngine
from ..mapping import CarrierConfig, DispatchConfig
from ..money import Money
from ..prima import OmlinkClient, OmlinkConfig
from ..state import open_store
from ..testing import FakeCommercetools, PrimaEmulator, PrimaOrder
from ..testing.scenario import build_scenario, connect_commercetools
from ._demo_stock import receive_goods, stock_report, stock_the_shop

__all__ = ["run_demo"]

_EMULATOR_ENDPOINT = "http://prima-emulator.invalid/omlink/omlink"
_DEMO_KEY_SECRET = "ct-prima-sync-demo-only"  # noqa: S105 (the demo's own, never a real one)
#: The emulator answers despatch details, so the demo shows deliveries with parcels; an
#: installation without them gets the documented fallback (docs/dispatch.md).
_DISPATCH = DispatchConfig(
    despatch_details=True,
    carriers={"DPD": CarrierConfig(name="DPD", tracking_url="https://track.example/{tracking_id}")},
    parcel_type_key="parcel-tracking",
)


def run_demo(
    *,
    database: Path,
    orders: int = 300,
    bad_every: int = 25,
    seed: int = 0,
    out: TextIO,
    on_engine: Callable[[Callable[[], None]], None] = lambda _stop: None,
) -> int:
    """Run the demo on a new SQLite file ``database``; returns the process exit code (0 when every
    good order reached Prima once). ``on_engine`` receives the engine's stop function."""
    started = time.perf_counter()
    scenario = build_scenario(orders=orders, bad_every=bad_every, seed=seed)
    rng = random.Random(seed)  # noqa: S311 (demo data, not security)
    stock_the_shop(scenario.world, scenario.commercetools, rng)
    # Strict, as a real installation: it takes only what public sources confirm, and the one
    # request the demo opts in to (despatch details, [engine.dispatch] despatch_details).
    emulator = PrimaEmulator(scenario.world, strict=True, opted_in=frozenset({"despatch_details"}))
    prima_config = OmlinkConfig(
        endpoint=_EMULATOR_ENDPOINT, rate_limit=2000.0, burst=50, ats_per_depot=True
    )
    out.write(
        f"Seeded a commercetools fake with {orders} orders ({len(scenario.bad)} of them bad) and a "
        f"Prima emulator with {len(scenario.world.skus())} SKUs in "
        f"{len(scenario.world.list_depots())} depots ({time.perf_counter() - started:.1f} s).\n"
        f"State: {database} (look around: ct-prima-sync exceptions --state sqlite:///{database})"
        "\n\n"
    )
    with (
        open_store(f"sqlite:///{database}") as store,
        connect_commercetools(scenario.commercetools) as commercetools,
        OmlinkClient(prima_config, transport=emulator.transport()) as prima,
    ):
        engine = SyncEngine(
            commercetools=commercetools,
            prima=prima,
            store=store,
            mapping=scenario.mapping,
            config=EngineConfig(
                worker_id="demo",
                initial_cursor=scenario.first_order_at - timedelta(days=1),
                concurrency=4,
                # The demo's throw-away state needs no secret of the installation's.
                customer_key_secret=_DEMO_KEY_SECRET,
                dispatch=_DISPATCH,
            ),
        )
        on_engine(engine.request_stop)
        opening = engine.sync_stock()
        stock_report(out, "Stock pass before the orders", opening)
        pending = sum(store.pending_stock().values())
        out.write(f"  ({pending} units of orders not yet in Prima were held back as pending.)\n\n")
        clock = time.perf_counter()
        summary = engine.sync_orders()
        if summary.stopped:
            out.write(f"Stopped after {summary.processed} orders; {summary.released} released.\n")
            return 1
        seconds = time.perf_counter() - clock
        again = engine.sync_orders()
        ct_gross = sum(
            o["taxedPrice"]["totalGross"]["centAmount"]
            for o in scenario.commercetools.orders()
            if o["orderNumber"] in set(scenario.good)
        )
        _report(
            out,
            prima_orders=scenario.world.orders(),
            engine=engine,
            posted=summary.posted,
            seconds=seconds,
            ct_gross=ct_gross,
        )
        out.write(
            f"\nA second run right after posted {again.posted} and queued {again.excepted}: "
            "each order reaches Prima exactly once.\n"
        )
        received = receive_goods(scenario.world, rng)
        after = engine.sync_stock()
        out.write("\n")
        stock_report(out, f"Stock pass after the orders and a delivery of {received} SKUs", after)
        out.write(
            "  Orders Prima accepted left pending and entered Prima's available-to-sell: the "
            "shop's figures did not move for them.\n"
        )
        submissions = scenario.world.submission_counts()
        lost = [n for n in scenario.good if submissions[n] != 1]
        dispatched = _dispatch(out, engine=engine, emulator=emulator, ct=scenario.commercetools)
        stock_ok = opening.ok and after.ok
        posted_all = summary.posted == len(scenario.good)
        return 1 if lost or not posted_all or not dispatched or not stock_ok else 0


def _dispatch(
    out: TextIO, *, engine: SyncEngine, emulator: PrimaEmulator, ct: FakeCommercetools
) -> bool:
    """The warehouse despatches some orders in full, some in part, cancels one; one dispatch
    run passes it on. True when every despatch reached commercetools exactly once."""
    engine.sync_dispatch()  # follows every order Prima has; nothing has left the warehouse yet
    orders = [o for o in emulator.world.orders() if sum(ln.quantity for ln in o.order.lines) > 1]
    full, part, cancelled = orders[:5], orders[5:8], orders[8:9]
    parcel = iter(range(1, 10_000))
    for order in full:
        emulator.despatch(
            order.order_number,
            carrier="DPD",
            tracking_numbers=[
                f"1Z{next(parcel):06d}" for _ in range(1 + len(order.order.lines) // 3)
            ],
        )
    for order in part:
        first = order.order.lines[0]
        emulator.despatch(
            order.order_number,
            {first.line_number: 1},
            carrier="DPD",
            tracking_numbers=[f"1Z{next(parcel):06d}"],
        )
    for order in cancelled:
        emulator.cancel(order.order_number)
    summary = engine.sync_dispatch()
    out.write(
        f"\nDispatch: the warehouse despatched {len(full)} orders in full and {len(part)} in "
        f"part, and cancelled {len(cancelled)}. One dispatch run asked Prima about "
        f"{summary.checked} orders and wrote {summary.deliveries} deliveries to commercetools:\n"
    )
    # Prima keys orders by number only (no external id is sent by default).
    ids = {o["orderNumber"]: o["id"] for o in ct.orders()}
    for order in (*full, *part):
        shown = ct.order(ids[order.order_number])
        for delivery in shown.get("shippingInfo", {}).get("deliveries", []):
            tracking = ", ".join(p["trackingData"]["trackingId"] for p in delivery["parcels"])
            units = sum(item["quantity"] for item in delivery["items"])
            out.write(
                f"  {order.order_number}  {shown.get('shipmentState', '-'):<8} delivery "
                f"{delivery['key']}: {units} unit(s), parcels {tracking}\n"
            )
    for order in cancelled:
        raised = [
            f"{r.kind} for {r.owner}" for r in engine.exceptions(order_id=ids[order.order_number])
        ]
        out.write(f"  {order.order_number}  cancelled in Prima: {', '.join(raised)}\n")
    again = engine.sync_dispatch()
    out.write(
        f"A second dispatch run right after wrote {again.deliveries} deliveries: each despatch "
        "reaches commercetools exactly once, and only after Prima confirmed it.\n"
    )
    return summary.deliveries == len(full) + len(part) and again.deliveries == 0


def _report(
    out: TextIO,
    *,
    prima_orders: Sequence[PrimaOrder],
    engine: SyncEngine,
    posted: int,
    seconds: float,
    ct_gross: int,
) -> None:
    # Prima's gross from what it received: the demo's mapping sends VAT-inclusive unit prices
    # (each line's gross is price times quantity less its TrDisc) and VAT-inclusive charges.
    gross: dict[str, Money] = {}
    for prima_order in prima_orders:
        order = prima_order.order
        received = sum(
            (line.price * line.quantity - line.discount for line in order.lines),
            Money.zero(order.currency),
        ) + sum((charge.value for charge in order.charges), Money.zero(order.currency))
        gross[order.currency] = gross.get(order.currency, Money.zero(order.currency)) + received
    rate = posted / seconds if seconds else 0.0
    out.write(f"Posted {posted} sales orders to Prima in {seconds:.2f} s ({rate:.0f} orders/s).\n")
    for amount in gross.values():
        verdict = (
            "equals commercetools' total to the cent"
            if amount.minor_units == ct_gross
            else f"DIFFERS from commercetools' {amount.with_units(ct_gross)}"
        )
        out.write(f"  gross value in Prima {amount}: {verdict}\n")
    queue = sorted(engine.exceptions(), key=lambda r: str(r.detail.get("order_number")))
    out.write(f"\nException queue: {len(queue)} open\n")
    by_owner: dict[str, list[str]] = defaultdict(list)
    for record in queue:
        number = record.detail.get("order_number") or record.order_id or record.subject
        reason = record.detail.get("message") or record.detail.get("request_error") or ""
        by_owner[str(record.owner)].append(f"    {number}  {record.kind}: {reason}")
    counts = Counter(str(r.owner) for r in queue)
    for owner in sorted(by_owner):
        out.write(f"  {owner} ({counts[owner]}):\n")
        out.write("\n".join(by_owner[owner]) + "\n")
    health = engine.health()
    out.write(f"\nLedger: {health.orders_by_status}\n")
