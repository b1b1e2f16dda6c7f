"""The models package exports every model and enum it defines, in a sorted ``__all__``."""

from __future__ import annotations

import enum
import importlib
import pkgutil

import attrs

from ct_prima_sync.commercetools import _models


def test_models_all_is_sorted_and_every_name_resolves() -> None:
    assert list(_models.__all__) == sorted(_models.__all__)
    for name in _models.__all__:
        assert hasattr(_models, name), name


def test_every_public_model_and_enum_is_exported() -> None:
    defined = set()
    for info in pkgutil.iter_modules(_models.__path__):
        module = importlib.import_module(f"{_models.__name__}.{info.name}")
        for name, value in vars(module).items():
            is_model = isinstance(value, type) and (
                attrs.has(value) or issubclass(value, enum.Enum)
            )
            if is_model and value.__module__ == module.__name__ and not name.startswith("_"):
                defined.add(name)
    # PageEnvelope is the parsing half of PagedQueryResponse, not part of the public surface.
    assert defined - {"PageEnvelope"} <= set(_models.__all__)
