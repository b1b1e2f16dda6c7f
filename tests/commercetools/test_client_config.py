"""CommercetoolsConfig: regions or explicit URLs, validation naming the setting, masked secret."""

from __future__ import annotations

from typing import Any

import pytest

from ct_prima_sync.commercetools import REGIONS, CommercetoolsConfig, RetryPolicy, Timeouts
from ct_prima_sync.errors import ConfigurationError


def config(**overrides: Any) -> CommercetoolsConfig:
    settings: dict[str, Any] = {
        "project_key": "my-shop",
        "client_id": "cid",
        "client_secret": "top-secret",
        "region": "europe-west1.gcp",
    }
    settings.update(overrides)
    return CommercetoolsConfig(**settings)


def test_a_region_gives_the_api_and_auth_hosts() -> None:
    c = config()
    assert c.resolved_api_url == "https://api.europe-west1.gcp.commercetools.com"
    assert c.resolved_auth_url == "https://auth.europe-west1.gcp.commercetools.com"
    assert set(REGIONS) >= {"us-central1.gcp", "eu-central-1.aws"}


def test_explicit_urls_win_over_the_region_and_lose_their_trailing_slash() -> None:
    c = config(region=None, api_url="http://127.0.0.1:8989/", auth_url="http://127.0.0.1:8989")
    assert c.resolved_api_url == "http://127.0.0.1:8989"
    assert c.resolved_auth_url == "http://127.0.0.1:8989"


def test_scopes_may_be_given_as_one_space_separated_string() -> None:
    assert config(scopes="view_orders:my-shop manage_products:my-shop").scopes == (
        "view_orders:my-shop",
        "manage_products:my-shop",
    )


def test_the_client_secret_never_appears_in_the_repr() -> None:
    assert "top-secret" not in repr(config())
    assert "cid" in repr(config())


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"project_key": "My Shop"}, "project_key"),
        ({"client_id": " "}, "client_id"),
        ({"client_secret": ""}, "client_secret"),
        ({"region": "mars-1"}, "region"),
        ({"region": None}, "region"),
        ({"region": None, "api_url": "https://a", "auth_url": "ftp://x"}, "auth_url"),
        ({"api_url": "https://user:pw@api.test"}, "api_url"),
        ({"api_url": "https://api.test?x=1"}, "api_url"),
        ({"scopes": ("view orders",)}, "scopes"),
        ({"token_refresh_margin": -1}, "token_refresh_margin"),
        ({"user_agent": "a\nb"}, "user_agent"),
        ({"correlation_id_prefix": "a b"}, "correlation_id_prefix"),
    ],
)
def test_invalid_settings_are_configuration_errors_naming_the_setting(
    overrides: dict[str, Any], setting: str
) -> None:
    with pytest.raises(ConfigurationError, match=setting) as caught:
        config(**overrides)
    assert "top-secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("build", "setting"),
    [
        (lambda: RetryPolicy(max_attempts=0), "max_attempts"),
        (lambda: RetryPolicy(jitter=1.5), "jitter"),
        (lambda: RetryPolicy(backoff_base=0), "backoff_base"),
        (lambda: RetryPolicy(backoff_base=5, backoff_cap=1), "backoff_cap"),
        (lambda: RetryPolicy(max_retry_after=-1), "max_retry_after"),
        (lambda: Timeouts(read=0), "read"),
    ],
)
def test_invalid_retry_and_timeout_settings_are_refused(build: Any, setting: str) -> None:
    with pytest.raises(ConfigurationError, match=setting):
        build()


def test_settings_must_be_given_by_keyword() -> None:
    with pytest.raises(TypeError):
        CommercetoolsConfig("my-shop", "cid", "secret")  # type: ignore[call-arg]


def test_the_client_its_settings_and_every_update_action_are_exported_by_the_package() -> None:
    import ct_prima_sync.commercetools as package
    from ct_prima_sync.commercetools import _actions

    wire_helpers = {"action_to_json", "draft_to_json"}
    for name in [*(set(_actions.__all__) - wire_helpers), "CommercetoolsClient", "PollResult"]:
        assert name in package.__all__, name
    assert package.__all__ == sorted(package.__all__, key=lambda n: (not n.isupper(), n))
