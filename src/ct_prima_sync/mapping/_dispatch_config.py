"""How the dispatch flow behaves: the status-check schedule, carriers, policies (pure data).

Every default lives here; docs/dispatch.md explains each setting for the people who choose it.
``DispatchConfig.from_dict`` reads the ``[engine.dispatch]`` table of a settings file.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from attrs import field, frozen

from ..errors import ConfigurationError

__all__ = [
    "CancelPolicy",
    "CarrierConfig",
    "CheckInterval",
    "CheckSchedule",
    "DispatchConfig",
]


class CancelPolicy(enum.StrEnum):
    """What happens when Prima cancels an order that commercetools still shows open.

    ``cancel_order``: cancel it in commercetools (order state ``Cancelled``) and raise a finance
    exception so the payment is refunded. ``raise``: change nothing in commercetools and raise an
    ecommerce exception, so customer service decides (cancel and refund, or re-order).
    """

    CANCEL_ORDER = "cancel_order"
    RAISE = "raise"


def _policy(value: str) -> CancelPolicy:
    try:
        return CancelPolicy(value)
    except ValueError:
        choices = ", ".join(p.value for p in CancelPolicy)
        raise ConfigurationError(
            f"dispatch.on_prima_cancel: {value!r} is not one of {choices}"
        ) from None


@frozen(kw_only=True)
class CheckInterval:
    """From ``min_age_hours`` after Prima accepted an order, ask about it every ``every_hours``
    (0: on every run)."""

    min_age_hours: float = field(converter=float)
    every_hours: float = field(converter=float)

    def __attrs_post_init__(self) -> None:
        if self.min_age_hours < 0 or self.every_hours < 0:
            raise ConfigurationError("dispatch.schedule: ages and intervals must not be negative")


#: A fresh order on every run, then hourly from a day old, every four hours from three days,
#: daily from a week.
DEFAULT_INTERVALS: Final = (
    CheckInterval(min_age_hours=0, every_hours=0),
    CheckInterval(min_age_hours=24, every_hours=1),
    CheckInterval(min_age_hours=72, every_hours=4),
    CheckInterval(min_age_hours=168, every_hours=24),
)


def _intervals(value: Any) -> tuple[CheckInterval, ...]:
    tiers = tuple(value)
    if not tiers or tiers[0].min_age_hours != 0:
        raise ConfigurationError("dispatch.schedule.intervals: the first must start at age 0")
    ages = [t.min_age_hours for t in tiers]
    if ages != sorted(ages) or len(set(ages)) != len(ages):
        raise ConfigurationError("dispatch.schedule.intervals: ages must increase")
    return tiers


def _at_least(name: str, minimum: float) -> Any:
    def check(_instance: object, _attribute: object, value: float) -> None:
        if isinstance(value, bool) or not value >= minimum:
            raise ConfigurationError(f"{name} must be at least {minimum}, got {value!r}")

    return check


@frozen(kw_only=True)
class CheckSchedule:
    """When Prima is asked about an order, and how much asking one run may do.

    An order of age ``a`` (since Prima accepted it) is asked about every ``interval(a)``; a run
    asks about at most ``max_checks_per_run`` orders (one Prima request each), most overdue
    first, in batches of ``batch_size`` between which the run renews its lock.
    """

    intervals: tuple[CheckInterval, ...] = field(default=DEFAULT_INTERVALS, converter=_intervals)
    max_checks_per_run: int = field(
        default=500, validator=_at_least("dispatch.schedule.max_checks_per_run", 1)
    )
    batch_size: int = field(default=50, validator=_at_least("dispatch.schedule.batch_size", 1))

    def interval(self, age: timedelta) -> timedelta:
        """How long to wait before asking again about an order of this age."""
        hours = age.total_seconds() / 3600
        chosen = self.intervals[0]
        for tier in self.intervals:
            if hours >= tier.min_age_hours:
                chosen = tier
        return timedelta(hours=chosen.every_hours)


def _check_template(_instance: object, _attribute: object, value: str | None) -> None:
    if value is None:
        return
    names = {n for _, n, _, _ in string.Formatter().parse(value) if n is not None}
    if names - {"tracking_id"}:
        raise ConfigurationError(
            f"dispatch.carriers: tracking_url may only use {{tracking_id}}, not {sorted(names)}"
        )


@frozen(kw_only=True)
class CarrierConfig:
    """How one Prima carrier code appears in commercetools: the carrier ``name`` written to the
    parcels' tracking data and the ``tracking_url`` template (``{tracking_id}`` is replaced)."""

    name: str
    tracking_url: str | None = field(default=None, validator=_check_template)

    def url_for(self, tracking_id: str) -> str | None:
        """The tracking URL of a parcel, or None without a template."""
        if self.tracking_url is None:
            return None
        return self.tracking_url.format(tracking_id=tracking_id)


@frozen(kw_only=True)
class DispatchConfig:
    """Everything the dispatch flow decides by (see docs/dispatch.md).

    ``despatch_details``: the Prima installation answers the site-specific despatch-details
    request (lines, quantities, carrier, tracking numbers, date); without it the flow works from
    ``OrderStatus`` alone (the documented fallback). ``carriers`` maps Prima carrier codes
    (any case) to commercetools carrier names and tracking URL templates; the URL is written to
    the parcel's custom field ``tracking_url_field`` of the custom type ``parcel_type_key``
    (which needs that type to exist for ``order-parcel`` resources). ``on_prima_cancel`` is the
    cancellation policy; ``cancel_in_prima`` and ``returns_to_prima`` send cancellations and
    returns recorded in commercetools to Prima (site-specific requests, off by default: without
    them an operations exception is raised). ``shipped_order_state`` (e.g. ``Complete``) and the
    ``*_state_key`` settings change the order state or transition its custom state when the
    shipment state becomes Shipped or Partial, or the order is cancelled. ``stalled_after_hours``:
    an order not (fully) despatched this long after Prima accepted it raises ``ORDER_STALLED``.
    ``follow_since``: orders Prima accepted before this time are not followed (an upgrade of an
    installation with years of orders). ``take_on_per_run`` bounds how many newly accepted orders
    one run starts following; ``lock_seconds`` is the lease of the run's singleton lock;
    ``watch_commercetools`` reads orders changed in commercetools since the previous run
    (cancellations, edits, returns).
    """

    despatch_details: bool = False
    schedule: CheckSchedule = CheckSchedule()
    stalled_after_hours: float = field(
        default=72.0, validator=_at_least("dispatch.stalled_after_hours", 0)
    )
    carriers: Mapping[str, CarrierConfig] = field(factory=dict)
    parcel_type_key: str | None = None
    tracking_url_field: str = "trackingUrl"
    on_prima_cancel: CancelPolicy = field(default=CancelPolicy.RAISE, converter=_policy)
    cancel_in_prima: bool = False
    returns_to_prima: bool = False
    shipped_order_state: str | None = None
    shipped_state_key: str | None = None
    partial_state_key: str | None = None
    cancelled_state_key: str | None = None
    follow_since: datetime | None = None
    take_on_per_run: int = field(default=500, validator=_at_least("dispatch.take_on_per_run", 1))
    lock_seconds: float = field(default=600.0, validator=_at_least("dispatch.lock_seconds", 1))
    watch_commercetools: bool = True

    def __attrs_post_init__(self) -> None:
        if self.parcel_type_key is None and any(c.tracking_url for c in self.carriers.values()):
            raise ConfigurationError(
                "dispatch.parcel_type_key: tracking URLs need a custom type for parcels "
                "(resource type order-parcel) to hold them"
            )
        if self.shipped_order_state not in (None, "Open", "Confirmed", "Complete"):
            raise ConfigurationError(
                "dispatch.shipped_order_state must be Open, Confirmed or Complete"
            )
        if self.follow_since is not None and self.follow_since.tzinfo is None:
            raise ConfigurationError("dispatch.follow_since must be a time with an offset")

    def carrier(self, code: str) -> CarrierConfig:
        """The carrier settings of a Prima carrier code (its own code as the name when none)."""
        folded = code.casefold()
        for key, carrier in self.carriers.items():
            if key.casefold() == folded:
                return carrier
        return CarrierConfig(name=code)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "engine.dispatch") -> DispatchConfig:
        """Read a ``[engine.dispatch]`` table; errors name the setting."""
        known = {a.name for a in cls.__attrs_attrs__}
        unknown = set(data) - known
        if unknown:
            raise ConfigurationError(f"{path}: unknown settings {sorted(unknown)}")
        values: dict[str, Any] = dict(data)
        try:
            if "schedule" in values:
                schedule = dict(values["schedule"])
                if "intervals" in schedule:
                    schedule["intervals"] = tuple(
                        CheckInterval(**dict(tier)) for tier in schedule["intervals"]
                    )
                values["schedule"] = CheckSchedule(**schedule)
            if "carriers" in values:
                values["carriers"] = {
                    str(code): CarrierConfig(**dict(carrier))
                    for code, carrier in dict(values["carriers"]).items()
                }
            if isinstance(values.get("follow_since"), str):
                values["follow_since"] = datetime.fromisoformat(values["follow_since"])
            for name in ("stalled_after_hours", "lock_seconds"):
                if name in values:
                    values[name] = float(values[name])
            return cls(**values)
        except ConfigurationError:
            raise
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"{path}: {exc}") from None
