"""Seed a world with a realistic fashion catalogue: styles x colours x sizes, depots and stock."""

from __future__ import annotations

import random
from collections.abc import Sequence

from attrs import frozen

from ...errors import ConfigurationError
from ...prima import Depot, SkuCode
from ._world import PrimaWorld

__all__ = ["PrimaCatalogue", "seed_catalogue"]

_STYLES = ("TEE", "POLO", "SHIRT", "CHINO", "JEAN", "KNIT", "HOOD", "JACKET", "DRESS", "SKIRT")
_COLOURS = ("BLK", "NAVY", "WHT", "GREY", "RED", "OLIVE", "SAND", "BLUE")

_DEPOTS = (("WH1", "Main warehouse"), ("WH2", "North warehouse"), ("STORE1", "Flagship store"))


@frozen(kw_only=True)
class PrimaCatalogue:
    """What :func:`seed_catalogue` put into the world."""

    skus: tuple[SkuCode, ...]
    depots: tuple[Depot, ...]


def seed_catalogue(
    world: PrimaWorld,
    *,
    seed: int = 0,
    products: int = 10,
    colours_per_product: int = 3,
    sizes: Sequence[str] = ("S", "M", "L", "XL"),
    depots: int = 2,
    max_stock: int = 40,
) -> PrimaCatalogue:
    """Fill ``world`` with products x colours x sizes, depots and stock, the same for the same seed.

    Product codes look like ``TEE1003``; matrix codes are (colour, size). Each SKU gets between 0
    and ``max_stock`` units in each depot, so some SKUs are out of stock somewhere.
    """
    if not 1 <= depots <= len(_DEPOTS):
        raise ConfigurationError(f"depots must be between 1 and {len(_DEPOTS)}")
    if not 1 <= colours_per_product <= len(_COLOURS):
        raise ConfigurationError(f"colours_per_product must be between 1 and {len(_COLOURS)}")
    if products < 1 or max_stock < 0 or not sizes:
        raise ConfigurationError("products must be positive, max_stock non-negative, sizes given")
    rng = random.Random(seed)
    opened = tuple(world.add_depot(code, name) for code, name in _DEPOTS[:depots])
    skus: list[SkuCode] = []
    for number in range(products):
        product = f"{_STYLES[number % len(_STYLES)]}{1001 + number}"
        for colour in rng.sample(_COLOURS, colours_per_product):
            for size in sizes:
                sku = SkuCode(product=product, matrix=(colour, size))
                world.add_product(sku, f"{product} {colour} {size}")
                for depot in opened:
                    world.set_stock(sku, depot.code, rng.randint(0, max_stock))
                skus.append(sku)
    return PrimaCatalogue(skus=tuple(skus), depots=opened)
