"""The settings file's [prima.soap] table: the SOAP names the probe writes, read back by run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ct_prima_sync.errors import ConfigurationError
from ct_prima_sync.prima import SoapNames
from ct_prima_sync.settings import load_settings

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
        ('[prima.soap]\nrequest_param = "x"\n', r"\[prima.soap\] request_param: unknown key"),
        (
            '[prima.soap]\nqualified_parameters = "no"\n',
            r"\[prima.soap\] qualified_parameters: expected true or false",
        ),
        ("[prima.soap]\noperation = 3\n", r"\[prima.soap\] operation: expected a string"),
        ('soap = "names"\n', r"\[prima\] soap: expected a table"),
    ],
)
def test_a_wrong_soap_setting_is_named_with_its_key_path(
    tmp_path: Path, extra: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        _load(tmp_path, extra)
