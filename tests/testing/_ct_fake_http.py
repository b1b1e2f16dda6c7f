"""What the commercetools fake's HTTP tests share: a clock the tests move, and a client signed
in to the fake (its own token, through the fake's in-process transport)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from ct_prima_sync.testing import FakeCommercetools

__all__ = ["Clock", "signed_in"]


class Clock:
    """The fake's clock: 2026-11-01 12:00 UTC until a test moves it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def signed_in(fake: FakeCommercetools) -> httpx.Client:
    """An HTTP client of ``fake`` with a bearer token (the caller closes it)."""
    http = httpx.Client(transport=fake.transport(), base_url=fake.base_url)
    reply = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(fake.client_id, fake.client_secret),
    )
    http.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
    return http
