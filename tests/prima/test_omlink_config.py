"""OmlinkConfig: defaults that match the public examples, validation, secrets kept out of reprs."""

from __future__ import annotations

import pytest

from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.prima import (
    Encoding,
    OmlinkConfig,
    OmlinkSchema,
    RequestTypeNames,
    RetryPolicy,
    SoapNames,
)


def test_defaults_follow_the_public_examples() -> None:
    config = OmlinkConfig(endpoint="http://host:8080/live/live")
    assert config.encoding is Encoding.ISO_8859_1
    assert config.soap.service_namespace == "urn:omlink"
    assert (config.soap.operation, config.soap.company_operation) == (
        "wsomhandler",
        "comwsomhandler",
    )
    names = config.schema.request_types
    assert (names.submit_orders, names.order_status) == ("MultiNewOrder", "OrderStatus")
    assert (names.ats_range, names.ats_skus) == ("ProductAvailableToSell", "MultiAvailableToSell")
    assert config.company_id is None


def test_the_encoding_can_be_given_by_name() -> None:
    config = OmlinkConfig(endpoint="https://h/x", encoding="UTF-8")
    assert config.encoding is Encoding.UTF_8


@pytest.mark.parametrize(
    "settings",
    [
        {"endpoint": "ftp://host/x"},
        {"endpoint": "not a url"},
        {"endpoint": "http://user:pw@host/x"},
        {"endpoint": "http://h/x", "company_id": " "},
        {"endpoint": "http://h/x", "read_timeout": 0},
        {"endpoint": "http://h/x", "rate_limit": 0},
        {"endpoint": "http://h/x", "burst": 0},
        {"endpoint": "http://h/x", "max_concurrency": 0},
        {"endpoint": "http://h/x", "ats_chunk_size": 0},
        {"endpoint": "http://h/x", "max_wait": -1},
        {"endpoint": "http://h/x", "password": "x"},
        {"endpoint": "http://h/x", "header_name": "X-Key"},
    ],
)
def test_invalid_settings_are_configuration_errors(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        OmlinkConfig(**settings)  # type: ignore[arg-type]


def test_a_bad_endpoint_error_does_not_echo_the_credentials() -> None:
    with pytest.raises(ConfigurationError) as caught:
        OmlinkConfig(endpoint="http://user:hunter2@host/x")
    assert "hunter2" not in str(caught.value)


def test_invalid_nested_settings_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy(attempts=0)
    with pytest.raises(ConfigurationError):
        RequestTypeNames(customer_find="OrderStatus")
    with pytest.raises(ConfigurationError):
        RequestTypeNames(depot_list="")
    with pytest.raises(ConfigurationError):
        OmlinkSchema(attribute_names={"Email": "bad name"})


def test_secrets_never_show_in_the_repr() -> None:
    config = OmlinkConfig(
        endpoint="https://h/x",
        username="svc",
        password="hunter2",
        header_name="X-Api-Key",
        header_value="k-123",
        soap=SoapNames(request_parameter="input"),
    )
    assert "hunter2" not in repr(config)
    assert "k-123" not in repr(config)
    assert "svc" not in repr(config)
