"""Decoding answers: data for successes, one typed error per meaningful status."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ct_prima_sync.commercetools._decode import decode_response, error_codes, read_version
from ct_prima_sync.errors import (
    AuthenticationError,
    CommercetoolsApiError,
    ConcurrentModificationError,
    NotFoundError,
    PayloadError,
    RateLimitedError,
    ServiceUnavailableError,
    ValidationError,
)

NOW = datetime(2026, 10, 21, 7, 28, 0, tzinfo=UTC)


def body(status: int, *codes: str, **extra: object) -> bytes:
    errors = [{"code": c, "message": "value jane@example.com is taken", **extra} for c in codes]
    return json.dumps(
        {"statusCode": status, "message": "jane@example.com", "errors": errors}
    ).encode()


def decode(status: int, content: bytes, headers: dict[str, str] | None = None) -> object:
    return decode_response(
        status, headers or {}, content, method="GET", path="/p/orders/1", correlation_id="cid-9",
        now=NOW,
    )  # fmt: skip


def test_a_success_returns_the_json_body_and_an_empty_body_returns_none() -> None:
    assert decode(200, b'{"id": "o-1"}') == {"id": "o-1"}
    assert decode(204, b"") is None


def test_a_success_that_is_not_json_is_a_payload_error() -> None:
    with pytest.raises(PayloadError):
        decode(200, b"<html>")


@pytest.mark.parametrize(
    ("status", "raised"),
    [
        (400, ValidationError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, ConcurrentModificationError),
        (429, RateLimitedError),
        (500, ServiceUnavailableError),
        (503, ServiceUnavailableError),
        (418, CommercetoolsApiError),
    ],
)
def test_each_error_status_raises_its_typed_error_with_codes_and_correlation_id(
    status: int, raised: type[CommercetoolsApiError]
) -> None:
    with pytest.raises(raised) as caught:
        decode(status, body(status, "InvalidInput", "DuplicateField"))
    assert caught.value.status_code == status
    assert caught.value.codes == ("InvalidInput", "DuplicateField")
    assert caught.value.correlation_id == "cid-9"
    text = str(caught.value)
    assert str(status) in text
    assert "InvalidInput" in text
    assert "cid-9" in text
    assert "jane@example.com" not in text


def test_a_conflict_carries_the_current_version() -> None:
    with pytest.raises(ConcurrentModificationError) as caught:
        decode(409, body(409, "ConcurrentModification", currentVersion=12))
    assert caught.value.current_version == 12


def test_rate_limiting_carries_retry_after_in_seconds() -> None:
    with pytest.raises(RateLimitedError) as caught:
        decode(429, b"", {"Retry-After": "Wed, 21 Oct 2026 07:28:09 GMT"})
    assert caught.value.retry_after == 9.0


def test_the_correlation_id_the_api_echoes_wins() -> None:
    with pytest.raises(NotFoundError) as caught:
        decode(404, b"", {"X-Correlation-ID": "from-api"})
    assert caught.value.correlation_id == "from-api"


def test_error_bodies_that_are_not_json_still_give_the_typed_error() -> None:
    with pytest.raises(ServiceUnavailableError) as caught:
        decode(502, b"<html>Bad gateway</html>")
    assert caught.value.codes == ()


def test_auth_error_bodies_give_their_oauth_error_as_the_code() -> None:
    assert error_codes({"statusCode": 401, "error": "invalid_client"}) == ("invalid_client",)
    assert error_codes({"errors": [{"code": "A"}, {"nocode": 1}, "junk"]}) == ("A",)
    assert error_codes(None) == ()


@pytest.mark.parametrize(
    ("content", "version"),
    [
        (b'{"type": "Order", "id": "o-1", "version": 7, "lineItems": [{"version": 1}]}', 7),
        (b' {"id":"o-\\"1","total":-1.5e3,"paid":true,"x":null,"version":12}', 12),
        # a nested value first: the whole body is decoded, the nested version never read
        (b'{"custom": {"version": 3}, "id": "o-1", "version": 9}', 9),
        (b'{"lineItems": [{"version": 1}], "id": "o-1"}', None),
        (b'{"id": "o-1", "version": "2"}', None),
        (b"[1, 2]", None),
        (b"", None),
    ],
)
def test_read_version_finds_the_top_level_version_only(content: bytes, version: int | None) -> None:
    assert read_version(content) == version


def test_version_only_reads_a_success_s_version_and_errors_as_ever() -> None:
    def decode_version(status: int, content: bytes) -> object:
        return decode_response(
            status, {}, content, method="POST", path="/p/orders/1", correlation_id="cid-9",
            version_only=True,
        )  # fmt: skip

    order = {"type": "Order", "id": "o-1", "version": 4, "lineItems": [{"id": "l-1"}] * 50}
    assert decode_version(200, json.dumps(order).encode()) == 4
    conflict = body(409, "ConcurrentModification", currentVersion=5)
    with pytest.raises(ConcurrentModificationError) as caught:
        decode_version(409, conflict)
    assert caught.value.current_version == 5
    with pytest.raises(PayloadError):
        decode_version(200, b'{"lineItems": [], "version": 1')  # not JSON: read as a whole
