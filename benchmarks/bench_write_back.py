"""The client's CPU per order for the write-back: one ``POST /orders/{id}`` per order
(``Orders.apply``) against groups in one GraphQL request (``Orders.apply_many``).

The commercetools fake serves from a process of its own (``python -c``, loopback HTTP), holding
orders of eight line items each; this process writes ``updateSyncInfo`` back to a share of them
each way and counts its own CPU (``time.process_time``) around that, so the server's work is not
in the figure. Environment: ``BENCH_WRITE_BACK_N`` (orders each way, default 500),
``BENCH_WRITE_BACK_SIZES`` (group sizes, default ``10,25,50``).

For figures the machine's load does not move, run the client under callgrind with and without
orders and divide the difference (docs/engine.md, "CPU per order").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from ct_prima_sync.commercetools import (
    CommercetoolsClient,
    CommercetoolsConfig,
    OrderUpdated,
    ResourceIdentifier,
    UpdateSyncInfo,
)

__all__ = ["main", "serve"]

_CHILD = "import sys\nfrom benchmarks.bench_write_back import serve\nserve(int(sys.argv[1]))\n"
_LINE = {
    "name": {"en": "Shirt"},
    "variant": {"sku": "S-1"},
    "price": {"value": {"currencyCode": "EUR", "centAmount": 1000}},
    "quantity": 1,
}


def serve(n: int) -> None:
    """The child: a fake with ``n`` orders served until its standard input closes."""
    from ct_prima_sync.testing import FakeCommercetools

    fake = FakeCommercetools(project_key="bench", seed=1)
    channel = fake.add_channel("prima-export", roles=["OrderExport"])
    for i in range(n):
        fake.add_order(
            {
                "id": f"o{i}",
                "orderNumber": f"N{i}",
                "totalPrice": {"currencyCode": "EUR", "centAmount": 8000},
                "lineItems": [_LINE] * 8,
            }
        )
    with fake.serve() as url:
        hello = {"url": url, "id": fake.client_id, "secret": fake.client_secret}
        print(json.dumps({**hello, "channel": channel["id"]}), flush=True)
        sys.stdin.read()


def _write_backs(ct: CommercetoolsClient, ids: list[str], size: int, channel: str) -> float:
    actions = [UpdateSyncInfo(channel=ResourceIdentifier.channel(id=channel), external_id="P-1")]
    started = time.process_time()
    if size == 1:
        for order_id in ids:
            ct.orders.apply(order_id, 1, actions)
    else:
        for start in range(0, len(ids), size):
            outcomes = ct.orders.apply_many([(i, 1, actions) for i in ids[start : start + size]])
            if not all(isinstance(o, OrderUpdated) for o in outcomes):
                raise RuntimeError(f"a group did not apply: {outcomes[:3]}")
    return time.process_time() - started


def main() -> None:
    """Print the client's CPU per order, one order per request and in groups."""
    n = int(os.environ.get("BENCH_WRITE_BACK_N", "500"))
    sizes = [1] + [int(s) for s in os.environ.get("BENCH_WRITE_BACK_SIZES", "10,25,50").split(",")]
    child = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", _CHILD, str(n * len(sizes))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        hello: dict[str, Any] = json.loads(child.stdout.readline())
        config = CommercetoolsConfig(
            project_key="bench",
            client_id=hello["id"],
            client_secret=hello["secret"],
            api_url=hello["url"],
            auth_url=hello["url"],
        )
        with CommercetoolsClient(config) as ct:
            ct.channels.get_by_key("prima-export")  # the token, the connection: not counted
            print(f"client CPU per order written back, {n} orders each way", flush=True)
            for index, size in enumerate(sizes):
                ids = [f"o{i}" for i in range(index * n, (index + 1) * n)]
                cpu = _write_backs(ct, ids, size, hello["channel"])
                requests = n if size == 1 else -(-n // size)
                label = "one order per request" if size == 1 else f"groups of {size}"
                print(f"  {label:<24} {cpu / n * 1e6:7.0f} µs/order  {requests} requests")
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=30)
