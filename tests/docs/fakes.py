"""The systems a documentation snippet talks to: the fakes, wherever the snippet says.

A snippet shows how a host builds its clients (``CommercetoolsClient(CommercetoolsConfig(...))``,
``OmlinkClient(OmlinkConfig(endpoint=...))``). While the snippets of a page run, a client built
without a transport of its own is connected to the page's ``FakeCommercetools`` (one per project
key, accepting the credentials the snippet gives, holding orders with the numbers the guides use)
or to a ``PrimaEmulator``; a client given a transport (a snippet about the fakes themselves) is
left as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import pytest

import ct_prima_sync.commercetools as commercetools_package
import ct_prima_sync.prima as prima_package
from ct_prima_sync.commercetools import CommercetoolsClient, CommercetoolsConfig
from ct_prima_sync.prima import OmlinkClient, OmlinkConfig
from ct_prima_sync.testing import FakeCommercetools, PrimaEmulator, PrimaWorld, seed_catalogue
from ct_prima_sync.testing.factories import LineSpec, make_order

#: The order numbers the guides look up; the fake commercetools of every page holds them.
ORDER_NUMBERS: Final = ("WEB-1001", "2026-000123")

#: Environment variables the snippets read their credentials from.
ENVIRONMENT: Final = {"CTP_CLIENT_ID": "docs-client-id", "CTP_CLIENT_SECRET": "docs-secret"}


class DocsSystems:
    """The fakes behind one page's snippets."""

    def __init__(self) -> None:
        self.shops: dict[str, FakeCommercetools] = {}
        self.world = PrimaWorld()
        seed_catalogue(self.world, seed=1)
        self.emulator = PrimaEmulator(self.world)

    def shop(self, config: CommercetoolsConfig) -> FakeCommercetools:
        """The fake project for ``config``, made on first use with its credentials."""
        fake = self.shops.get(config.project_key)
        if fake is None:
            fake = FakeCommercetools(
                project_key=config.project_key,
                client_id=config.client_id,
                client_secret=config.client_secret,
                seed=1,
            )
            for seed, number in enumerate(ORDER_NUMBERS):
                fake.add_order(
                    make_order(
                        order_number=number,
                        seed=seed,
                        lines=[LineSpec(sku="TEE-RED-M", quantity=1, unit_price=11900)],
                    )
                )
            self.shops[config.project_key] = fake
        return fake


@contextmanager
def routed_to_fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[DocsSystems]:
    """Clients the snippets build without a transport reach the fakes while this is open."""
    systems = DocsSystems()

    class DocsCommercetoolsClient(CommercetoolsClient):
        def __init__(self, config: CommercetoolsConfig, **kwargs: Any) -> None:
            if kwargs.get("transport") is None and kwargs.get("http_client") is None:
                kwargs["transport"] = systems.shop(config).transport()
            super().__init__(config, **kwargs)

    class DocsOmlinkClient(OmlinkClient):
        def __init__(self, config: OmlinkConfig, **kwargs: Any) -> None:
            if kwargs.get("transport") is None and kwargs.get("http") is None:
                kwargs["transport"] = systems.emulator.transport()
            super().__init__(config, **kwargs)

    monkeypatch.setattr(commercetools_package, "CommercetoolsClient", DocsCommercetoolsClient)
    monkeypatch.setattr(prima_package, "OmlinkClient", DocsOmlinkClient)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    yield systems
