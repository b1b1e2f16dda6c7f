"""A ``CommercetoolsClient`` on a ``FakeCommercetools``, for the client's and the fake's tests."""

from __future__ import annotations

import random as _random
from collections.abc import Callable

from ct_prima_sync.commercetools import CommercetoolsClient, CommercetoolsConfig
from ct_prima_sync.testing import FakeCommercetools


def client_for(
    fake: FakeCommercetools,
    *,
    sleep: Callable[[float], None] = lambda _: None,
    random: Callable[[], float] = _random.random,
) -> CommercetoolsClient:
    """The client of ``fake``'s project over its in-process transport (never sleeps for real)."""
    config = CommercetoolsConfig(
        project_key=fake.project_key,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        api_url=fake.base_url,
        auth_url=fake.base_url,
    )
    return CommercetoolsClient(config, transport=fake.transport(), sleep=sleep, random=random)
