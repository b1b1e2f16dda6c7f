"""The settings file's [prima.soap] table: the SOAP names the probe writes, read back by run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ct_prima_sync._settings import load_settings
from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.prima import SoapNames

BASE = '[state]\nurl = "memory://"\n[prima]\nendpoint = "http://prima:8080/live/live"\n'


def _load(tmp_path: Path, extra: str) -> SoapNames:
    path = tmp_path / "sync.toml"
    path.write_text(BASE + extra, encoding="utf-8")
    settings = load_settings(path, {})
    assert settings.prima is not None
    return settings.prima.soap


def test_the_soap_names_are_read_and_the_rest_keep_their_defaults(tmp_path: Path) -> None:
    soap = _load(
        tmp_path,
        '[prima.soap]\nrequest_parameter = "pcRequest"\nqualified_parameters = false\n'
        "company_parameter_first = false\n",
    )
    assert soap == SoapNames(
        request_parameter="pcRequest", qualified_parameters=False, company_parameter_first=False
    )


def test_without_the_table_the_defaults_hold(tmp_path: Path) -> None:
    assert _load(tmp_path, "") == SoapNames()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[prima.soap]\nrequest_param = "x"\n',
            r"\[prima.soap\] has unknown settings \['request_param'\]",
        ),
        (
            '[prima.soap]\nqualified_parameters = "no"\n',
            "qualified_parameters must be true or false",
        ),
        ("[prima.soap]\noperation = 3\n", "operation must be a string"),
        ('soap = "names"\n', r"\[prima.soap\] must be a table"),
    ],
)
def test_a_wrong_soap_setting_is_named(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        _load(tmp_path, extra)
