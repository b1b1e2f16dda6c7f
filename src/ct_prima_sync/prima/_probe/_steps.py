"""One read-only probe request and what its answer says (pure: the answer's bytes in, a step out).

Each step records what was asked, how long the answer took, what came back (the reply's anatomy),
whether the library's own codec could read it, and the settings the answer suggests (``offers``):
the "unknown order" text of an ``OrderStatus`` ERROR, whether stock rows carry a depot.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from attrs import evolve, field, frozen

from ...errors import (
    PrimaProtocolError,
    PrimaRejectedError,
    PrimaSoapMismatchError,
    PrimaUnavailableError,
)
from .._xml import OmlinkCodec, SoapEnvelope
from ._reply import ReplyShape, describe_reply, unknown_order_marker

__all__ = ["ProbeKind", "ProbeStep", "WireAnswer", "failed_step", "read_step"]


class ProbeKind(enum.StrEnum):
    """The read-only requests the probe sends (nothing else is ever sent)."""

    ORDER_STATUS = "OrderStatus"
    ATS_SKUS = "MultiAvailableToSell"
    ATS_RANGE = "ProductAvailableToSell"


@frozen(kw_only=True)
class WireAnswer:
    """What came back over HTTP for one request."""

    status: int
    content_type: str
    body: bytes = field(repr=False)
    latency_ms: float


@frozen(kw_only=True)
class ProbeStep:
    """One probe request and its outcome."""

    kind: ProbeKind
    asked: tuple[str, ...]
    """The business keys sent: the impossible order number, the SKUs, the product."""
    ok: bool
    outcome: str
    """One sentence: what happened."""
    latency_ms: float | None = None
    http_status: int | None = None
    content_type: str = ""
    reply: ReplyShape | None = None
    library: str = ""
    """What the library's codec made of the reply, or why it could not read it."""
    notes: tuple[str, ...] = ()
    offers: Mapping[str, object] = field(factory=dict)
    """Settings this answer suggests (``unknown_order_error``, ``ats_per_depot``)."""


def failed_step(kind: ProbeKind, asked: tuple[str, ...], sentence: str) -> ProbeStep:
    """A step whose request got no HTTP answer."""
    return ProbeStep(kind=kind, asked=asked, ok=False, outcome=sentence)


def _unwrap(answer: WireAnswer, envelope: SoapEnvelope, kind: ProbeKind) -> tuple[str, str]:
    """(reply string, "") or ("", the sentence saying why there is none)."""
    if answer.status >= 300 and answer.status != 500:
        return "", f"the service answered HTTP {answer.status} to the SOAP call"
    try:
        return envelope.unwrap_reply(answer.body, kind.value), ""
    except PrimaSoapMismatchError as exc:
        return "", (
            "the SOAP service refused the call made with the names read from the WSDL "
            f"(Client fault: {exc.fault}); ask the administrator for the WSDL the service uses"
        )
    except PrimaUnavailableError as exc:
        return "", f"the service failed to answer ({exc})"
    except PrimaProtocolError as exc:
        return "", f"the answer is not a SOAP response ({exc})"


def _order_status(step: ProbeStep, reply: str, codec: OmlinkCodec) -> ProbeStep:
    shape = step.reply
    assert shape is not None
    try:
        report = codec.decode_order_status_reply(reply)
    except PrimaRejectedError as exc:
        text = exc.request_error or shape.error
        marker = unknown_order_marker(text, step.asked[0])
        step = evolve(
            step,
            ok=True,
            outcome=f"Prima does not know the order, as expected; it said {text!r}",
            library="an unknown order",
        )
        if marker:
            return evolve(step, offers={"unknown_order_error": marker})
        return evolve(
            step,
            notes=(
                "the ERROR text holds nothing but the order number: leave unknown_order_error "
                "empty (every OrderStatus ERROR then reads as an unknown order)",
            ),
        )
    except PrimaProtocolError as exc:
        return evolve(step, outcome="the reply could not be read", library=f"not readable: {exc}")
    return evolve(
        step,
        outcome=f"Prima answered OK (status {report.raw!r}) for an order number that cannot exist",
        library=f"status {report.status.value}",
        notes=("ask how OrderStatus tells an order number Prima has never seen",),
    )


def _stock(step: ProbeStep, reply: str, codec: OmlinkCodec) -> ProbeStep:
    shape = step.reply
    assert shape is not None
    try:
        levels = codec.decode_ats_reply(reply, skus=step.kind is ProbeKind.ATS_SKUS)
    except PrimaRejectedError as exc:
        return evolve(
            step, outcome=f"Prima refused the request: {exc.request_error!r}", library="a refusal"
        )
    except PrimaProtocolError as exc:
        return evolve(step, outcome="the reply could not be read", library=f"not readable: {exc}")
    notes: list[str] = []
    if len(levels) != shape.rows:
        notes.append(f"the reply has {shape.rows} row(s); the library read {len(levels)}")
    if step.kind is ProbeKind.ATS_SKUS:
        missing = sorted(set(step.asked) - {str(level.sku) for level in levels})
        if missing:
            notes.append(f"no stock row came back for {', '.join(missing)}")
    offers: dict[str, object] = {}
    if levels:
        offers["ats_per_depot"] = any(level.depot for level in levels)
    rows = f"{len(levels)} stock row(s)"
    return evolve(
        step,
        ok=True,
        outcome=f"Prima answered with {rows}",
        library=rows,
        notes=tuple(notes),
        offers=offers,
    )


def read_step(
    kind: ProbeKind,
    asked: tuple[str, ...],
    answer: WireAnswer,
    *,
    envelope: SoapEnvelope,
    codec: OmlinkCodec,
) -> ProbeStep:
    """The step for ``answer``: its reply's anatomy and what the library made of it."""
    step = ProbeStep(
        kind=kind,
        asked=asked,
        ok=False,
        outcome="",
        latency_ms=answer.latency_ms,
        http_status=answer.status,
        content_type=answer.content_type,
    )
    reply, failure = _unwrap(answer, envelope, kind)
    if failure:
        return evolve(step, outcome=failure)
    try:
        shape = describe_reply(reply)
    except PrimaProtocolError as exc:
        return evolve(step, outcome=f"the reply string is not XML ({exc})")
    step = evolve(step, reply=shape)
    step = (
        _order_status(step, reply, codec)
        if kind is ProbeKind.ORDER_STATUS
        else _stock(step, reply, codec)
    )
    if not shape.status_at:
        step = evolve(step, notes=(*step.notes, "the reply carries no RequestStatus"))
    return step
