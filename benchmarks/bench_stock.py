"""The stock run at catalogue scale (``python -m benchmarks bench_stock``).

1. **A run over 100,000 SKUs x 3 depots with 1% changed** (``SyncEngine.sync_stock``, SQLite
   state). commercetools is a synthetic API (an ``httpx.MockTransport`` handler that renders
   inventory pages on the fly, so its data costs this process no memory) and Prima a synthetic
   ``PrimaGateway``. A first run records the snapshot; then 1% of the entries move and the
   measured run must send exactly those (requests counted by the synthetic API). CPU outside
   I/O is this process's CPU minus the CPU spent inside the three boundaries the engine calls:
   the commercetools client (HTTP, JSON and the records it parses), the Prima gateway and the
   state store. What is left is the engine and its pure plan; goal: under 1 s. Baseline: a bare
   dict diff of the same figures in plain Python (decoded JSON in, the changed entries out).
2. **Push throughput** against ``FakeCommercetools`` whose inventory updates each take a fixed
   latency L (a real sleep), with C writers: writes per second against C/L. Goal: >= 0.8.
3. **Memory**: peak RSS of a fresh process running (1) at 10,000 and at 100,000 SKUs. Goal: the
   larger within 1.5x of the smaller (the baseline).

Environment: ``BENCH_STOCK_PARTS`` (which of 1, 2, 3, default all), ``BENCH_STOCK_SKUS``
(default 100000), ``BENCH_STOCK_LATENCY_MS`` (L, default 20), ``BENCH_STOCK_WRITERS`` (C,
default 8), ``BENCH_STOCK_WRITES`` (entries pushed in 2, default 2000).
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, unquote

import httpx

from ct_prima_sync.commercetools import CommercetoolsClient, CommercetoolsConfig
from ct_prima_sync.engine import EngineConfig, FakeClock, StockRunConfig, SyncEngine
from ct_prima_sync.mapping import MappingConfig
from ct_prima_sync.prima import SkuCode, StockLevel
from ct_prima_sync.state import StateStore, open_store

DEPOTS = ("WH1", "WH2", "WH3")
BUFFER = 2
T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
_STAMP = "2026-11-20T09:00:00.000Z"
_T = TypeVar("_T")

MAPPING = f"""
[[sku.rules]]
pattern = '(?P<product>P\\d+)'
template = "{{product}}"

[depots]
default = "WH1"
stock_channels = {{ "WH1" = "ch-1", "WH2" = "ch-2", "WH3" = "ch-3" }}

[stock]
buffer = {BUFFER}
"""


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"


# -- a synthetic catalogue -----------------------------------------------------------------------
class Catalogue:
    """``skus`` SKUs x 3 depots. Entry n is SKU n // 3 in depot n % 3; its id sorts by n.

    Prima's ATS and commercetools' figures follow from n: commercetools holds what a run wrote
    for Prima's figure before its latest moves (``receive``), so nothing is stored but the moves
    and the entries written.
    """

    def __init__(self, skus: int) -> None:
        self.skus = skus
        self.entries = skus * len(DEPOTS)
        self.moved: dict[int, int] = {}  # entry -> units Prima's ATS rose by since the base
        self.written: dict[int, tuple[int, int]] = {}  # entry -> (version, quantityOnStock)
        self.lock = threading.Lock()

    @staticmethod
    def sku(index: int) -> str:
        return f"P{index:06d}"

    @staticmethod
    def base(index: int, depot: int) -> int:
        return (index * 7 + depot * 3) % 60 + 10

    @staticmethod
    def reserved(index: int) -> int:
        return index % 3

    def ats(self, index: int, depot: int) -> int:
        """Prima's available-to-sell now."""
        return self.base(index, depot) + self.moved.get(index * len(DEPOTS) + depot, 0)

    def receive(self, every: int, offset: int) -> list[int]:
        """Goods arrive in Prima for one entry in ``every`` (from ``offset``); returns which."""
        with self.lock:
            moved = list(range(offset, self.entries, every))
            for n in moved:
                self.moved[n] = self.moved.get(n, 0) + 1
            return moved

    def entry(self, n: int) -> dict[str, Any]:
        index, depot = divmod(n, len(DEPOTS))
        reserved = self.reserved(index)
        with self.lock:
            version, on_stock = self.written.get(n, (1, 0))
        if version == 1:  # as the last run before the moves left it
            on_stock = max(0, self.base(index, depot) - BUFFER) + reserved
        return {
            "id": f"e{n:08d}",
            "version": version,
            "createdAt": _STAMP,
            "lastModifiedAt": _STAMP,
            "sku": self.sku(index),
            "supplyChannel": {"typeId": "channel", "id": f"ch-{depot + 1}"},
            "quantityOnStock": on_stock,
            "availableQuantity": on_stock - reserved,
        }


class SyntheticApi:
    """The commercetools endpoints a stock run calls, rendered from a :class:`Catalogue`."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth/token":
            return httpx.Response(
                200, json={"access_token": "t", "expires_in": 86400, "token_type": "Bearer"}
            )
        query = parse_qs(request.url.query.decode(), keep_blank_values=True)
        if "/channels/key=" in path:
            self._count("channel")
            key = unquote(path.rsplit("=", 1)[1])
            return httpx.Response(200, json=_channel(key))
        if path.endswith("/orders") or path.endswith("/messages"):
            self._count("poll")
            return httpx.Response(200, json=_page([], 500))
        if path.endswith("/inventory") and request.method == "GET":
            return self._inventory(query)
        if "/inventory/" in path and request.method == "POST":
            return self._update(path.rsplit("/", 1)[1], json.loads(request.content))
        return httpx.Response(404, json={"statusCode": 404, "message": path, "errors": []})

    def _inventory(self, query: dict[str, list[str]]) -> httpx.Response:
        limit = int(query.get("limit", ["20"])[-1])
        last = query.get("var.ctpsLastId", [""])[-1]
        start = int(last[1:]) + 1 if last else 0
        skus = query.get("var.skus")
        if skus is None:
            self._count("scan")
            stop = min(start + limit, self.catalogue.entries)
            numbers: Iterator[int] = iter(range(start, stop))
        else:
            self._count("by_sku")
            wanted = sorted(int(s[1:]) * len(DEPOTS) + d for s in skus for d in range(3))
            numbers = iter([n for n in wanted if n >= start][:limit])
        return httpx.Response(200, json=_page([self.catalogue.entry(n) for n in numbers], limit))

    def _update(self, entry_id: str, body: dict[str, Any]) -> httpx.Response:
        self._count("update")
        n = int(entry_id[1:])
        current = self.catalogue.entry(n)
        (action,) = body["actions"]
        with self.catalogue.lock:
            self.catalogue.written[n] = (body["version"] + 1, action["quantity"])
        reserved = current["quantityOnStock"] - current["availableQuantity"]
        return httpx.Response(
            200,
            json={
                **current,
                "version": body["version"] + 1,
                "quantityOnStock": action["quantity"],
                "availableQuantity": action["quantity"] - reserved,
            },
        )


def _channel(key: str) -> dict[str, Any]:
    return {
        "id": key,
        "version": 1,
        "key": key,
        "roles": ["InventorySupply"],
        "createdAt": _STAMP,
        "lastModifiedAt": _STAMP,
    }


def _page(results: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    return {"limit": limit, "offset": 0, "count": len(results), "results": results}


class SyntheticPrima:
    """The part of a PrimaGateway a stock run uses, from a :class:`Catalogue`."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.requests = 0

    def available_to_sell(self, skus: Sequence[SkuCode]) -> list[StockLevel]:
        self.requests += 1
        ats = self.catalogue.ats
        return [
            StockLevel(sku=code, available=ats(int(code.product[1:]), d), depot=depot)
            for code in skus
            for d, depot in enumerate(DEPOTS)
        ]

    def iter_available_to_sell(self, *, chunk_size: int = 500) -> Iterator[StockLevel]:
        return iter(())


# -- timing the I/O --------------------------------------------------------------------------------
class IoTimer:
    """Adds up the CPU time (of whichever thread) spent inside wrapped calls, and inside the
    iteration of the iterators they return; a wrapped call inside another counts once."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def _timed(self, name: str, step: Callable[[], _T]) -> _T:
        if getattr(self._local, "inside", False):
            return step()
        self._local.inside = True
        started = time.thread_time()
        try:
            return step()
        finally:
            spent = time.thread_time() - started
            self._local.inside = False
            with self._lock:
                self.seconds[name] = self.seconds.get(name, 0.0) + spent

    def wrap(self, name: str, call: Callable[..., _T]) -> Callable[..., _T]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            result = self._timed(name, lambda: call(*args, **kwargs))
            if isinstance(result, Iterator):
                return self._iterate(name, result)
            return result

        return timed

    def _iterate(self, name: str, items: Iterator[Any]) -> Iterator[Any]:
        # A page at a time inside the timed section: timing each item would cost more than
        # what is measured, and whole lists would change the memory the run needs.
        while batch := self._timed(name, lambda: list(itertools.islice(items, 500))):
            yield from batch


class TimedStore:
    """A state store whose every call counts as I/O."""

    def __init__(self, store: StateStore, timer: IoTimer) -> None:
        self._store = store
        self._timer = timer

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        return self._timer.wrap("store", attribute) if callable(attribute) else attribute


def _engine(
    catalogue: Catalogue, store: StateStore, timer: IoTimer | None
) -> tuple[SyncEngine, SyntheticApi, SyntheticPrima, CommercetoolsClient]:
    api = SyntheticApi(catalogue)
    prima = SyntheticPrima(catalogue)
    client = CommercetoolsClient(
        CommercetoolsConfig(
            project_key="bench",
            client_id="id",
            client_secret="secret",  # noqa: S106 (a synthetic API's credential)
            api_url="https://api.bench.invalid",
            auth_url="https://auth.bench.invalid",
        ),
        transport=httpx.MockTransport(api),
    )
    if timer is not None:
        # The commercetools client is I/O: HTTP, JSON and the records it parses them into.
        client.request = timer.wrap("commercetools", client.request)  # type: ignore[method-assign]
        client.iter_query = timer.wrap("commercetools", client.iter_query)  # type: ignore[method-assign]
        for method in ("levels", "levels_by_skus", "update_resolving_conflicts", "create", "get"):
            setattr(
                client.inventory,
                method,
                timer.wrap("commercetools", getattr(client.inventory, method)),
            )
        prima.available_to_sell = timer.wrap("prima", prima.available_to_sell)  # type: ignore[method-assign]
        store = cast(StateStore, TimedStore(store, timer))
    engine = SyncEngine(
        commercetools=client,
        prima=prima,  # type: ignore[arg-type]
        store=store,
        mapping=MappingConfig.from_toml(MAPPING),
        config=EngineConfig(
            worker_id="bench",
            concurrency=1,
            initial_cursor=T0,
            stock=StockRunConfig(concurrency=4, catalogue_every_seconds=0),
        ),
        clock=FakeClock(T0),
    )
    return engine, api, prima, client


def run_at_scale(skus: int, database: Path) -> dict[str, Any]:
    """A first run (records the snapshot), 1% of entries moved, the measured run."""
    catalogue = Catalogue(skus)
    catalogue.receive(100, 0)
    with open_store(f"sqlite:///{database}") as store:
        first, _, _, client = _engine(catalogue, store, None)
        with client:
            warm = first.sync_stock()
        moved = catalogue.receive(100, 37)
        timer = IoTimer()
        engine, api, prima, client = _engine(catalogue, store, timer)
        with client:
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            summary = engine.sync_stock()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "skus": skus,
        "warm_updated": warm.updated,
        "moved": len(moved),
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "failed": summary.failed,
        "reasons": summary.reasons,
        "problems": summary.problems,
        "requests": dict(api.counts),
        "prima_requests": prima.requests,
        "cpu": cpu,
        "wall": wall,
        "io": dict(timer.seconds),
        "peak_rss_kb": _peak_rss_kb(),
    }


def _peak_rss_kb() -> int:
    """This process's peak resident set (kB): ``VmHWM``, which a new program starts afresh
    (``ru_maxrss`` carries over the peak of the process it was forked from)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _baseline(skus: int) -> float:
    """CPU seconds of the least a diff can do: decoded entries in, changed ones out."""
    catalogue = Catalogue(skus)
    catalogue.receive(100, 37)
    pages = [
        json.loads(
            json.dumps([catalogue.entry(n) for n in range(s, min(s + 500, catalogue.entries))])
        )
        for s in range(0, catalogue.entries, 500)
    ]
    ats = {
        (catalogue.sku(i), f"ch-{d + 1}"): catalogue.ats(i, d)
        for i in range(skus)
        for d in range(len(DEPOTS))
    }
    gc.collect()
    started = time.process_time()
    changed = []
    for page in pages:
        for entry in page:
            available = ats[(entry["sku"], entry["supplyChannel"]["id"])]
            reserved = entry["quantityOnStock"] - entry["availableQuantity"]
            send = max(0, available - BUFFER) + reserved
            if send != entry["quantityOnStock"]:
                changed.append((entry["id"], send))
    spent = time.process_time() - started
    assert len(changed) == len(range(37, catalogue.entries, 100))
    return spent


def part_scale(skus: int) -> None:
    """Part 1: requests counted, CPU outside I/O, against the bare diff."""
    print(f"1. stock run over {skus:,} SKUs x {len(DEPOTS)} depots, 1% changed ({_load()})")
    with tempfile.TemporaryDirectory() as tmp:
        result = run_at_scale(skus, Path(tmp) / "sync.db")
    io_cpu = sum(result["io"].values())
    outside = result["cpu"] - io_cpu
    base = _baseline(skus)
    requests = result["requests"]
    exact = (
        result["updated"] == result["moved"] == requests.get("update", 0)
        and result["reasons"] == {"ats_changed": result["moved"]}
        and not result["problems"]
    )
    print(
        f"  moved {result['moved']:,} entries; the run updated {result['updated']:,}, "
        f"left {result['unchanged']:,}, failed {result['failed']} "
        f"({'exactly the changed ones' if exact else 'NOT the changed ones'})"
    )
    print(
        "  requests: "
        + ", ".join(f"{kind} {count:,}" for kind, count in sorted(requests.items()))
        + f"; Prima MultiAvailableToSell calls {result['prima_requests']:,}"
    )
    print(
        f"  wall {result['wall']:.2f} s, CPU {result['cpu']:.2f} s, of which I/O "
        + ", ".join(f"{k} {v:.2f}" for k, v in sorted(result["io"].items()))
    )
    print(f"  CPU outside I/O       {outside:6.3f} s   (goal < 1 s)")
    print(f"  baseline: bare diff   {base:6.3f} s")
    print(f"  ratio                 {outside / base:6.1f}x")
    if not exact:
        raise SystemExit("the stock run did not send exactly the changed entries")


# -- 2. push throughput ----------------------------------------------------------------------------
class WriteSpan:
    """When the first write of a run started and the last one ended (monotonic seconds)."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last = 0.0
        self._lock = threading.Lock()

    def wrap(self, call: Callable[..., _T]) -> Callable[..., _T]:
        def timed(*args: Any, **kwargs: Any) -> _T:
            with self._lock:
                if self.first is None:
                    self.first = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                with self._lock:
                    self.last = max(self.last, time.perf_counter())

        return timed


def part_throughput(writes: int, latency: float, writers: int) -> None:
    """Part 2: writes per second against C/L on the commercetools fake."""
    from ct_prima_sync.testing import FakeCommercetools, FakePrima, PrimaWorld
    from ct_prima_sync.testing.scenario import connect_commercetools

    print(f"2. push throughput, {writes} writes, L = {latency * 1000:.0f} ms, C = {writers}")
    fake = FakeCommercetools(seed=3, sleep=time.sleep)
    fake.add_channel("ch-1")
    world = PrimaWorld()
    world.add_depot("WH1")
    for n in range(writes):
        code = SkuCode(product=f"P{n:06d}")
        world.add_product(code)
        world.set_stock(code, "WH1", 50)
        fake.add_inventory(f"P{n:06d}", 0, supply_channel="ch-1")
    fake.faults.latency(latency, method="POST", path="/inventory/")
    mapping = MappingConfig.from_toml(MAPPING.replace(', "WH2" = "ch-2", "WH3" = "ch-3"', ""))
    span = WriteSpan()
    with open_store("memory://") as store, connect_commercetools(fake) as client:
        client.inventory.update_resolving_conflicts = span.wrap(  # type: ignore[method-assign]
            client.inventory.update_resolving_conflicts
        )
        engine = SyncEngine(
            commercetools=client,
            prima=FakePrima(world, sleep=lambda _s: None),
            store=store,
            mapping=mapping,
            config=EngineConfig(
                worker_id="bench",
                initial_cursor=T0,
                # One chunk: the push is measured, not the reads between chunks.
                stock=StockRunConfig(
                    concurrency=writers, chunk_size=writes, catalogue_every_seconds=0
                ),
            ),
        )
        started = time.perf_counter()
        summary = engine.sync_stock()
        wall = time.perf_counter() - started
    assert summary.updated == writes, summary
    assert span.first is not None
    pushed = span.last - span.first
    rate = writes / pushed
    ideal = writers / latency
    print(f"  push     {rate:8.1f} writes/s (first write to last: {pushed:.2f} s; {_load()})")
    print(f"  run      {writes / wall:8.1f} writes/s over the whole run ({wall:.2f} s)")
    print(f"  C/L      {ideal:8.1f} writes/s (baseline)")
    print(f"  ratio    {rate / ideal:8.2f}   (goal >= 0.8)")


# -- 3. memory -------------------------------------------------------------------------------------
def _peak_in_child(skus: int) -> dict[str, Any]:
    code = (
        "import json, sys, tempfile, pathlib\n"
        "from benchmarks.bench_stock import run_at_scale\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        f"    result = run_at_scale({skus}, pathlib.Path(tmp) / 'sync.db')\n"
        "print(json.dumps(result))\n"
    )
    done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def part_memory(large: int) -> None:
    """Part 3: peak RSS of a fresh process at 10,000 and at ``large`` SKUs."""
    small = max(1, large // 10)
    print(f"3. peak RSS of a whole process (two runs each), {small:,} vs {large:,} SKUs")
    base = _peak_in_child(small)
    big = _peak_in_child(large)
    ratio = big["peak_rss_kb"] / base["peak_rss_kb"]
    print(f"  {small:>7,} SKUs: {base['peak_rss_kb'] / 1024:7.1f} MiB (baseline)")
    print(f"  {large:>7,} SKUs: {big['peak_rss_kb'] / 1024:7.1f} MiB")
    print(f"  ratio            {ratio:7.2f}x   (goal <= 1.5x)")


def main() -> None:
    """Run the parts named in ``BENCH_STOCK_PARTS`` (default all)."""
    parts = set(re.findall(r"\d", os.environ.get("BENCH_STOCK_PARTS", "123")))
    skus = int(os.environ.get("BENCH_STOCK_SKUS", "100000"))
    if "1" in parts:
        part_scale(skus)
    if "2" in parts:
        part_throughput(
            int(os.environ.get("BENCH_STOCK_WRITES", "2000")),
            float(os.environ.get("BENCH_STOCK_LATENCY_MS", "20")) / 1000,
            int(os.environ.get("BENCH_STOCK_WRITERS", "8")),
        )
    if "3" in parts:
        part_memory(skus)


if __name__ == "__main__":
    main()
