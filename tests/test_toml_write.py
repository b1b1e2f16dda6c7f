"""Merging [prima] settings into a TOML file leaves everything else as it was."""

from __future__ import annotations

import tomllib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ct_prima_sync._toml_write import Scalar, merge_tables, toml_value
from ct_prima_sync.errors import ConfigurationError

SYNC_TOML = """\
# Settings of the live shop. Ask ops before changing anything.
[state]
url = "postgresql://sync@db/sync"   # shared by the workers

[prima]
endpoint = "http://old-host:8080/live/live"  # before the move
rate_limit = 2.5
password_env = "PRIMA_PASSWORD"
unknown_order_error = \"\"\"
Order not
found\"\"\"

[mapping]
file = "mapping.toml"

[engine]
concurrency = 4
scopes = [
  "a",   # with ] and [ in a comment
  ["nested", "]"],
]
"""

UPDATES: dict[str, dict[str, Scalar]] = {
    "prima": {
        "endpoint": "http://prima:8080/live/live",
        "unknown_order_error": "Order not found",
        "encoding": "ISO-8859-1",
    },
    "prima.soap": {"request_parameter": "pcRequest", "qualified_parameters": False},
}


def test_only_the_keys_written_change_and_every_other_line_stays() -> None:
    merged = merge_tables(SYNC_TOML, UPDATES)
    data = tomllib.loads(merged)
    assert data["prima"] == {
        "endpoint": "http://prima:8080/live/live",
        "rate_limit": 2.5,
        "password_env": "PRIMA_PASSWORD",
        "unknown_order_error": "Order not found",
        "encoding": "ISO-8859-1",
        "soap": {"request_parameter": "pcRequest", "qualified_parameters": False},
    }
    replaced = {5, 8, 9, 10}  # the endpoint and unknown_order_error statements
    before = [line for i, line in enumerate(SYNC_TOML.splitlines()) if i not in replaced]
    after = merged.splitlines()
    remaining = iter(after)
    assert all(line in remaining for line in before), "a line was lost or moved"
    assert len(after) == len(before) + 2 + 1 + 4  # the two replaced, encoding, the new table
    assert after.index("[prima.soap]") < after.index("[mapping]")
    assert "# Settings of the live shop. Ask ops before changing anything." in after


def test_merging_twice_changes_nothing_the_second_time() -> None:
    once = merge_tables(SYNC_TOML, UPDATES)
    assert merge_tables(once, UPDATES) == once


def test_a_missing_file_becomes_the_two_tables() -> None:
    merged = merge_tables("", UPDATES)
    assert merged.startswith("[prima]\n")
    assert tomllib.loads(merged)["prima"]["soap"]["request_parameter"] == "pcRequest"


def test_windows_line_endings_are_kept() -> None:
    text = '[state]\r\nurl = "memory://"\r\n'
    merged = merge_tables(text, UPDATES)
    assert "\r\n" in merged
    assert "\n" not in merged.replace("\r\n", "")


@pytest.mark.parametrize(
    "text",
    [
        'prima = { endpoint = "http://x" }\n',
        'prima.endpoint = "http://x"\n',
        '[prima]\nsoap = { operation = "x" }\n',
    ],
)
def test_settings_written_as_dotted_keys_or_inline_tables_are_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match="cannot merge"):
        merge_tables(text, UPDATES)


def test_a_file_that_is_not_toml_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        merge_tables("[prima\n", UPDATES)


@given(st.text(max_size=40))
def test_any_string_round_trips_through_a_toml_value(text: str) -> None:
    assert tomllib.loads(f"v = {toml_value(text)}")["v"] == text


def test_numbers_and_flags_are_toml_values() -> None:
    assert [toml_value(v) for v in (True, False, 3, 60.0)] == ["true", "false", "3", "60.0"]
    with pytest.raises(ValueError, match="finite"):
        toml_value(float("nan"))


_NAMES = st.sampled_from(["url", "rate_limit", "endpoint", "file", "level", "encoding"])
_VALUES = st.one_of(
    st.booleans(),
    st.integers(-1000, 1000),
    st.text(max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=1000, min_value=-1000),
)
_TABLES = st.sampled_from(["state", "prima", "prima.soap", "mapping", "engine", "engine.retry"])


def _line(key: str, value: object) -> str:
    if isinstance(value, Decimal):
        return f"{key} = {value}"
    return f"{key} = {toml_value(value)}"  # type: ignore[arg-type]


@st.composite
def _documents(draw: st.DrawFn) -> tuple[str, dict[str, list[str]]]:
    """A settings file of plain tables with comments, blank lines and a multi-line array."""
    tables = draw(st.lists(_TABLES, unique=True, max_size=5))
    lines: list[str] = [draw(st.sampled_from(["", "# top comment"]))]
    sections: dict[str, list[str]] = {}
    for table in tables:
        body = [f"[{table}]  # the {table} table"]
        for key, value in draw(st.dictionaries(_NAMES, _VALUES, max_size=4)).items():
            body.append(_line(key, value))
            if draw(st.booleans()):
                body.append("# a comment")
        if draw(st.booleans()):
            body += ["list = [", '  "x",  # ]', "  [1, 2],", "]"]
        body.append("")
        sections[table] = body
        lines += body
    return "\n".join(lines) + "\n", sections


@given(
    document=_documents(),
    prima=st.dictionaries(_NAMES, st.one_of(st.booleans(), st.text(max_size=8)), max_size=3),
    soap=st.dictionaries(_NAMES, st.text(max_size=8), max_size=3),
)
def test_merging_into_any_plain_settings_file_keeps_the_other_tables_line_for_line(
    document: tuple[str, dict[str, list[str]]],
    prima: dict[str, Scalar],
    soap: dict[str, Scalar],
) -> None:
    text, sections = document
    merged = merge_tables(text, {"prima": prima, "prima.soap": soap})  # checks the values itself
    parsed = tomllib.loads(merged, parse_float=Decimal)
    assert {k: parsed["prima"][k] for k in prima} == prima
    assert {k: parsed["prima"]["soap"][k] for k in soap} == soap
    merged_lines = merged.split("\n")  # not splitlines(): values may hold U+0085 and the like
    for table, body in sections.items():
        if table in ("prima", "prima.soap"):
            continue
        start = merged_lines.index(body[0])
        assert merged_lines[start : start + len(body)] == body
