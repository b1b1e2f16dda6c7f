"""The public encoding for code steps: the MultiNewOrder string Prima receives, and its reply
read back, with no client and no private names."""

from __future__ import annotations

import pytest

from ct_prima_sync.errors import PrimaRejectedError
from ct_prima_sync.prima import (
    OmlinkSchema,
    SkuCode,
    decode_submit_reply,
    encode_sales_orders,
)
from ct_prima_sync.testing._prima._factory import make_sales_order

from . import real_replies as real


def test_the_request_is_what_prima_receives_with_confirmed_fields_only() -> None:
    order = make_sales_order(
        "WEB-100045", [(SkuCode(product="ETOS", matrix=("F", "050")), 1, "WH1")]
    )
    text = encode_sales_orders([order])
    assert text.startswith(
        '<?xml version="1.0" encoding="ISO-8859-1"?><Request RequestType="MultiNewOrder">'
    )
    assert 'UniqueId="WEB-100045"' in text
    assert 'TPGUID="WEB-100045"' in text
    assert "NetValue" not in text
    extended = encode_sales_orders(
        [order], schema=OmlinkSchema(extended_orders=True), unique_id=lambda _o: "u-1"
    )
    assert 'NetValue="' in extended
    assert 'UniqueId="u-1"' in extended


def test_an_empty_list_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one order"):
        encode_sales_orders([])


def test_the_reply_reads_back_per_order() -> None:
    [accepted] = decode_submit_reply(real.ACCEPTED_WITH_CUSTOMER_CODE, ["WEB-100045"])
    assert (accepted.accepted, accepted.customer_code) == (True, "0000367612")
    [duplicate] = decode_submit_reply(real.E21_DUPLICATE.encode("iso-8859-1"), ["WEB-100045"])
    assert [c.code for c in duplicate.error_codes] == ["E:21"]
    with pytest.raises(PrimaRejectedError, match="SAX parser error"):
        decode_submit_reply(real.WHOLE_REQUEST_SAX_ERROR, ["WEB-1"])
