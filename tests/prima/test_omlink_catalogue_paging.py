"""Whole-catalogue ATS comes in bounded chunks and yields every row exactly once."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ct_prima_sync.errors import PayloadError, PrimaProtocolError
from ct_prima_sync.prima import (
    ManualClock,
    OmlinkClient,
    OmlinkConfig,
    OmlinkSchema,
    SkuCode,
    StockLevel,
)
from ct_prima_sync.prima._xml import AtsRangeRequest, OmlinkCodec, SoapEnvelope

#: An installation that pages the catalogue with a row cap (no public source knows one).
PAGING = OmlinkSchema(ats_max_rows_attribute="MaxRows")


class CatalogueServer:
    """Answers ProductAvailableToSell from a sorted catalogue, honouring MaxRows (or not)."""

    def __init__(self, rows: list[StockLevel], *, honour_max_rows: bool = True) -> None:
        self.rows = sorted(rows, key=lambda r: (r.sku.product, r.sku.matrix, r.depot))
        self.honour = honour_max_rows
        self.codec = OmlinkCodec(PAGING)
        self.envelope = SoapEnvelope()
        self.asked: list[AtsRangeRequest] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        call = self.envelope.unwrap_request(request.content)
        ask = self.codec.decode_request(call.request)
        assert isinstance(ask, AtsRangeRequest)
        self.asked.append(ask)
        rows = [r for r in self.rows if r.sku.product >= ask.product_from]
        if self.honour and ask.max_rows:
            rows = rows[: ask.max_rows]
        reply = self.codec.encode_ats_reply(rows)
        return httpx.Response(200, content=self.envelope.wrap_reply(reply))


def client_for(server: CatalogueServer, chunk: int, *, per_depot: bool = False) -> OmlinkClient:
    clock = ManualClock()
    config = OmlinkConfig(
        endpoint="http://prima.test/x/x",
        ats_chunk_size=chunk,
        rate_limit=1000,
        ats_per_depot=per_depot,
        schema=PAGING,
    )
    return OmlinkClient(
        config, transport=httpx.MockTransport(server), clock=clock, sleep=clock.sleep
    )


def catalogue(sizes: list[int]) -> list[StockLevel]:
    return [
        StockLevel(sku=SkuCode(product=f"P{p:04}", matrix=(f"S{m}",)), available=p * 10 + m)
        for p, count in enumerate(sizes)
        for m in range(count)
    ]


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), max_size=60),
    chunk=st.integers(7, 40),
    honour=st.booleans(),
)
def test_every_row_comes_exactly_once_whatever_the_chunk_boundaries(
    sizes: list[int], chunk: int, honour: bool
) -> None:
    rows = catalogue(sizes)
    server = CatalogueServer(rows, honour_max_rows=honour)
    with client_for(server, chunk, per_depot=True) as client:
        got = list(client.iter_available_to_sell())
    assert sorted(got, key=repr) == sorted(rows, key=repr)
    assert len(got) == len(rows)
    if honour:
        assert all(ask.max_rows == chunk for ask in server.asked)
        assert len(server.asked) <= len(rows) // max(1, chunk - 6) + 2


def test_the_chunk_size_argument_overrides_the_configuration() -> None:
    server = CatalogueServer(catalogue([2] * 50))
    with client_for(server, 500) as client:
        assert len(list(client.iter_available_to_sell(chunk_size=10))) == 100
    assert [a.product_from for a in server.asked[:3]] == ["", "P0004", "P0008"]


def test_one_product_with_more_rows_than_a_chunk_is_a_clear_error() -> None:
    server = CatalogueServer(catalogue([1, 30, 1]))
    with client_for(server, 10) as client, pytest.raises(PrimaProtocolError, match="chunk"):
        list(client.iter_available_to_sell())


def test_a_nonsense_chunk_size_is_refused_at_once() -> None:
    with client_for(CatalogueServer([]), 10) as client, pytest.raises(PayloadError):
        client.iter_available_to_sell(chunk_size=0)


def per_depot(sizes: list[int]) -> list[StockLevel]:
    return [
        StockLevel(sku=row.sku, available=row.available + n, depot=depot)
        for row in catalogue(sizes)
        for n, depot in enumerate(("WH1", "WH2"))
    ]


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(1, 3), max_size=30), chunk=st.integers(7, 20))
def test_an_installation_without_depot_figures_gets_one_total_per_sku(
    sizes: list[int], chunk: int
) -> None:
    rows = per_depot(sizes)
    with client_for(CatalogueServer(rows), chunk) as client:
        got = list(client.iter_available_to_sell())
    expected: dict[SkuCode, int] = {}
    for row in rows:
        expected[row.sku] = expected.get(row.sku, 0) + row.available
    assert {level.sku: level.available for level in got} == expected
    assert len(got) == len(expected)
    assert all(level.depot == "" for level in got)


def test_without_a_row_cap_the_catalogue_comes_in_one_open_request() -> None:
    rows = catalogue([3, 1, 4])
    server = CatalogueServer(rows, honour_max_rows=False)
    clock = ManualClock()
    config = OmlinkConfig(endpoint="http://prima.test/x/x", ats_chunk_size=2, rate_limit=1000)
    with OmlinkClient(
        config, transport=httpx.MockTransport(server), clock=clock, sleep=clock.sleep
    ) as client:
        got = list(client.iter_available_to_sell())
    assert len(server.asked) == 1
    assert (server.asked[0].product_from, server.asked[0].max_rows) == ("", 0)
    assert sorted(got, key=lambda r: (r.sku.product, r.sku.matrix)) == sorted(
        (StockLevel(sku=r.sku, available=r.available) for r in rows),
        key=lambda r: (r.sku.product, r.sku.matrix),
    )
