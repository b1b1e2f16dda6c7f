"""The probe's report: what the WSDL says, what each read-only request met, the settings that
follow, and what only the Prima administrator can answer (pure: built from plain data).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from attrs import frozen

from ..._toml_write import Scalar, toml_value
from .._config import DEFAULT_READ_TIMEOUT
from .._xml import Encoding, SoapNames
from ._names import SoapProposal
from ._steps import ProbeKind, ProbeStep
from ._wsdl import WsdlDescription, WsdlMessage

__all__ = ["ProbeReport", "build_report"]

_ENCODINGS = {"ISO-8859-1": Encoding.ISO_8859_1, "LATIN-1": Encoding.ISO_8859_1}
_ENCODINGS |= {"LATIN1": Encoding.ISO_8859_1, "UTF-8": Encoding.UTF_8, "UTF8": Encoding.UTF_8}

#: A read timeout below this many times the slowest answer seen is raised to it.
_TIMEOUT_HEADROOM = 10


@frozen(kw_only=True)
class ProbeReport:
    """Everything one probe found; :meth:`render` for people, :meth:`as_dict` for JSON."""

    endpoint: str
    wsdl_url: str
    wsdl: WsdlDescription
    soap: SoapProposal
    company_id: str | None = None
    steps: tuple[ProbeStep, ...] = ()
    skipped: tuple[str, ...] = ()
    """Probes not run, and why (no SKU or product given)."""
    notes: tuple[str, ...] = ()
    """What the WSDL and the answers showed that the settings cannot express, or that is odd."""
    questions: tuple[str, ...] = ()
    """What only the Prima administrator can answer."""
    settings: Mapping[str, Mapping[str, Scalar]] = attrs.field(factory=dict)
    """The tables to write: ``prima`` and ``prima.soap``."""

    @property
    def ok(self) -> bool:
        """True when the SOAP names were read and every probe request was answered as expected."""
        return self.soap.names is not None and all(step.ok for step in self.steps)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-able data."""
        return {
            "ok": self.ok,
            "endpoint": self.endpoint,
            "wsdl_url": self.wsdl_url,
            "wsdl": attrs.asdict(self.wsdl),
            "soap": {
                "style": self.soap.style,
                "names": attrs.asdict(self.soap.names) if self.soap.names else None,
            },
            "company_id": self.company_id,
            "probes": [_step_dict(step) for step in self.steps],
            "skipped": list(self.skipped),
            "notes": list(self.notes),
            "questions": list(self.questions),
            "settings": {table: dict(values) for table, values in self.settings.items()},
        }

    def render(self) -> str:
        """The report as text for people."""
        lines = [f"Prima at {self.endpoint}", f"WSDL read from {self.wsdl_url}"]
        wsdl = self.wsdl
        lines.append(
            f"  SOAP {wsdl.soap_version}, {self.soap.style or 'style unknown'}, "
            + _qualified(self.soap.names)
        )
        lines.append(f"  service location in the WSDL: {wsdl.location or '(none)'}")
        lines += [
            f"  {op.name}: in {_message(op.input)}, out {_message(op.output)}, "
            f"soapAction {op.soap_action!r}"
            for op in wsdl.operations
        ]
        lines += ["", "Read-only requests (nothing that writes was sent):"]
        for step in self.steps:
            lines += _step_lines(step)
        lines += [f"  --    {skipped}" for skipped in self.skipped]
        if self.notes:
            lines += ["", "Notes:", *(f"  - {note}" for note in self.notes)]
        if self.settings:
            lines += ["", "Settings (--write-settings FILE merges them into FILE):"]
            for table, values in self.settings.items():
                lines.append(f"  [{table}]")
                lines += [f"  {key} = {toml_value(value)}" for key, value in values.items()]
        if self.questions:
            lines += ["", "Ask the Prima administrator:", *(f"  - {q}" for q in self.questions)]
        return "\n".join(lines) + "\n"


def _qualified(names: SoapNames | None) -> str:
    if names is None:
        return "no omlink operation"
    return "parameters qualified" if names.qualified_parameters else "parameters unqualified"


def _message(message: WsdlMessage | None) -> str:
    if message is None:
        return "?"
    params = ", ".join(
        f"{{{p.namespace}}}{p.name}" if p.namespace else p.name for p in message.parameters
    )
    return f"{{{message.namespace}}}{message.element}({params})"


def _step_dict(step: ProbeStep) -> dict[str, Any]:
    data = attrs.asdict(step)
    data["kind"] = str(step.kind)
    return data


def _step_lines(step: ProbeStep) -> list[str]:
    timing = f", {step.latency_ms:.0f} ms" if step.latency_ms is not None else ""
    status = f", HTTP {step.http_status}" if step.http_status is not None else ""
    lines = [
        f"  {'OK' if step.ok else 'FAIL':<5} {step.kind} {' '.join(step.asked)}{timing}{status}",
        f"        {step.outcome}",
    ]
    reply = step.reply
    if reply is not None:
        lines.append(
            f"        reply: root {reply.root}, status at {reply.status_at or '(nowhere)'}"
            + (f" = {reply.status}" if reply.status else "")
            + (f", error at {reply.error_at}" if reply.error_at else "")
            + f", declared encoding {reply.declared_encoding or '(none)'}"
            + f", {reply.size} characters"
        )
        if reply.rows:
            lines.append(
                f"        rows: {reply.rows} <{reply.row_element}> with "
                + ", ".join(reply.row_attributes)
            )
        lines.append(f"        the library reads: {step.library}")
    lines += [f"        note: {note}" for note in step.notes]
    return lines


def _encoding(steps: Sequence[ProbeStep], notes: list[str]) -> Encoding | None:
    declared = {s.reply.declared_encoding.upper() for s in steps if s.reply is not None}
    declared.discard("")
    if len(declared) > 1:
        notes.append(f"replies declare different encodings: {', '.join(sorted(declared))}")
        return None
    if not declared:
        return None
    (name,) = declared
    found = _ENCODINGS.get(name)
    if found is None:
        notes.append(
            f"replies declare {name}, which the library does not speak (ISO-8859-1, UTF-8)"
        )
    return found


def _read_timeout(steps: Sequence[ProbeStep]) -> float | None:
    seen = [s.latency_ms for s in steps if s.latency_ms is not None and s.http_status is not None]
    if not seen:
        return None
    wanted = max(seen) / 1000 * _TIMEOUT_HEADROOM
    return float(math.ceil(wanted)) if wanted > DEFAULT_READ_TIMEOUT else None


def _settings(
    *,
    endpoint: str,
    company_id: str | None,
    names: SoapNames | None,
    steps: Sequence[ProbeStep],
    extra: Mapping[str, Scalar],
    notes: list[str],
) -> dict[str, dict[str, Scalar]]:
    if names is None:
        return {}
    prima: dict[str, Scalar] = {"endpoint": endpoint}
    if company_id is not None:
        prima["company_id"] = company_id
    encoding = _encoding(steps, notes)
    if encoding is not None:
        prima["encoding"] = encoding.value
    for step in steps:
        if step.ok:
            prima.update({k: v for k, v in step.offers.items() if isinstance(v, Scalar)})
    timeout = _read_timeout(steps)
    if timeout is not None:
        prima["read_timeout"] = timeout
    prima.update(extra)
    return {"prima": prima, "prima.soap": attrs.asdict(names)}


def _questions(
    wsdl: WsdlDescription,
    soap: SoapProposal,
    company_id: str | None,
    steps: Sequence[ProbeStep],
) -> list[str]:
    questions: list[str] = []
    if soap.names is not None and wsdl.operation(soap.names.company_operation) and not company_id:
        companies = sorted({s.reply.company for s in steps if s.reply and s.reply.company})
        named = f" (replies name company {', '.join(companies)})" if companies else ""
        questions.append(
            "the service offers comwsomhandler: does the installation keep several companies, "
            f"and which company id do this shop's orders belong to{named}? Then probe again "
            "with --company-id"
        )
    status = next((s for s in steps if s.kind is ProbeKind.ORDER_STATUS), None)
    if status is not None and "unknown_order_error" not in status.offers:
        questions.append(
            "which text does OrderStatus answer for an order number Prima has never seen? "
            "(unknown_order_error)"
        )
    if wsdl.notes or soap.notes:
        questions.append("each note above: the probe could not settle it from the WSDL alone")
    return questions


def build_report(
    *,
    endpoint: str,
    wsdl_url: str,
    wsdl: WsdlDescription,
    soap: SoapProposal,
    company_id: str | None = None,
    steps: Sequence[ProbeStep] = (),
    skipped: Sequence[str] = (),
    extra_settings: Mapping[str, Scalar] | None = None,
) -> ProbeReport:
    """The report for what the probe saw; the settings follow from the WSDL and the answers."""
    notes = [*wsdl.notes, *soap.notes]
    if wsdl.location and wsdl.location.rstrip("/") != endpoint.rstrip("/"):
        notes.append(
            f"the WSDL names {wsdl.location} as the service location; the probe sent its "
            f"requests to {endpoint}, the address given, and the settings keep that one"
        )
    settings = _settings(
        endpoint=endpoint,
        company_id=company_id,
        names=soap.names,
        steps=steps,
        extra=extra_settings or {},
        notes=notes,
    )
    return ProbeReport(
        endpoint=endpoint,
        wsdl_url=wsdl_url,
        wsdl=wsdl,
        soap=soap,
        company_id=company_id,
        steps=tuple(steps),
        skipped=tuple(skipped),
        notes=tuple(dict.fromkeys(notes)),
        questions=tuple(_questions(wsdl, soap, company_id, steps)),
        settings=settings,
    )
