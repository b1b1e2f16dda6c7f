"""The public surface: each package's ``__all__`` is sorted, importable and documented, and the
entry points the design promises stay where users find them."""

from __future__ import annotations

import importlib
import inspect

import pytest

PACKAGES = (
    "ct_prima_sync",
    "ct_prima_sync.commercetools",
    "ct_prima_sync.checkout",
    "ct_prima_sync.cli",
    "ct_prima_sync.engine",
    "ct_prima_sync.errors",
    "ct_prima_sync.mapping",
    "ct_prima_sync.metrics",
    "ct_prima_sync.money",
    "ct_prima_sync.prima",
    "ct_prima_sync.settings",
    "ct_prima_sync.state",
    "ct_prima_sync.testing",
)


def _isort_style(symbol: str) -> tuple[int, str]:
    """Constants, then classes, then functions: the order ruff's RUF022 keeps."""
    if symbol.isupper():
        return (0, symbol)
    return (1 if symbol[0].isupper() else 2, symbol)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_package_exports_a_sorted_documented_all(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_style), f"{name}.__all__ is not sorted"
    assert len(exported) == len(set(exported))
    for symbol in exported:
        value = getattr(module, symbol)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name}.{symbol} has no docstring"


def test_the_entry_points_of_the_design_are_importable() -> None:
    from ct_prima_sync.commercetools import CommercetoolsClient, CommercetoolsConfig, parse_order
    from ct_prima_sync.engine import SyncEngine
    from ct_prima_sync.mapping import MappingConfig, map_order, map_order_json
    from ct_prima_sync.prima import OmlinkClient, OmlinkConfig, PrimaGateway
    from ct_prima_sync.state import open_store
    from ct_prima_sync.testing import FakeCommercetools, FakePrima

    assert all(
        (
            CommercetoolsClient,
            CommercetoolsConfig,
            parse_order,
            SyncEngine,
            MappingConfig,
            map_order,
            map_order_json,
            OmlinkClient,
            OmlinkConfig,
            PrimaGateway,
            open_store,
            FakeCommercetools,
            FakePrima,
        )
    )


def test_the_fakes_satisfy_the_gateway_protocol() -> None:
    from ct_prima_sync.prima import PrimaGateway
    from ct_prima_sync.testing import FakePrima

    assert isinstance(FakePrima(), PrimaGateway)
