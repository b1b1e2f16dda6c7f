"""From a WSDL description to the :class:`SoapNames` that make the client speak the same way (pure).

The omlink operations are found by name (``wsomhandler``, ``comwsomhandler``, ignoring case), or
failing that among operations named like a handler, by shape (one parameter; two). The company
operation's parameter that the plain one lacks is the company id. Anything the names cannot
express (parameters in another namespace than their operation, mixed qualification, encoded use)
becomes a note, so the report says what to ask about instead of guessing silently.
"""

from __future__ import annotations

from attrs import frozen

from .._xml import SoapNames
from ._wsdl import WsdlDescription, WsdlMessage, WsdlOperation, WsdlParameter

__all__ = ["SoapProposal", "propose_soap_names"]

_DEFAULTS = SoapNames()


@frozen(kw_only=True)
class SoapProposal:
    """The SOAP names read from a WSDL (None when it describes no omlink operation) and notes."""

    names: SoapNames | None
    style: str = ""
    """``document/literal`` or ``rpc/literal`` (``.../encoded`` when the WSDL says so)."""
    notes: tuple[str, ...] = ()


def _by_shape(description: WsdlDescription, count: int) -> WsdlOperation | None:
    """The one operation named like an omlink handler that takes ``count`` parameters."""
    found = [
        op
        for op in description.operations
        if "omhandler" in op.name.lower()
        and op.input is not None
        and len(op.input.parameters) == count
    ]
    return found[0] if len(found) == 1 else None


def _find_operations(
    description: WsdlDescription, notes: list[str]
) -> tuple[WsdlOperation | None, WsdlOperation | None]:
    plain = description.operation(_DEFAULTS.operation)
    company = description.operation(_DEFAULTS.company_operation)
    if plain is None and company is None:
        plain, company = _by_shape(description, 1), _by_shape(description, 2)
        notes.extend(
            f"no operation is called wsomhandler or comwsomhandler; {op.name} was taken by its "
            "name and parameters: confirm it with the administrator"
            for op in (plain, company)
            if op is not None
        )
    return plain, company


def _reply_parameter(message: WsdlMessage | None, notes: list[str]) -> str:
    if message is None or not message.parameters:
        notes.append("the WSDL names no reply parameter; the library reads the first with text")
        return _DEFAULTS.reply_parameter
    candidates = [p for p in message.parameters if p.name.lower() != "result"]
    chosen = (candidates or list(message.parameters))[0]
    if len(message.parameters) > 1:
        notes.append(
            f"the response has {len(message.parameters)} parameters "
            f"({', '.join(p.name for p in message.parameters)}); {chosen.name} is taken as the "
            "reply (the library reads the first one that has text)"
        )
    return chosen.name


def _company_split(
    company: WsdlOperation, request_parameter: str | None, notes: list[str]
) -> tuple[str, str, bool] | None:
    """(company parameter, request parameter, company first) of the company operation."""
    params = list(company.input.parameters) if company.input is not None else []
    if len(params) != 2:
        notes.append(
            f"{company.name} takes {len(params)} parameters, not a company id and a request: "
            "multi-company calls cannot be configured from this WSDL"
        )
        return None
    names = [p.name for p in params]
    if request_parameter in names:
        request_index = names.index(request_parameter)
    else:
        hinted = [i for i, n in enumerate(names) if "comp" in n.lower()]
        request_index = 1 - hinted[0] if len(hinted) == 1 else 1
        if request_parameter is not None:
            notes.append(
                f"{company.name} names its request parameter {names[request_index]!r}, "
                f"wsomhandler {request_parameter!r}: the library uses one name for both"
            )
    company_index = 1 - request_index
    return names[company_index], names[request_index], company_index < request_index


def _qualification(
    params: list[WsdlParameter], request_parameter: str, namespace: str, notes: list[str]
) -> bool:
    qualified = {p.qualified for p in params}
    if len(qualified) > 1:
        request = next((p for p in params if p.name == request_parameter), params[0])
        notes.append(
            "some parameters are qualified and some are not; the library sends all of them as "
            f"the request parameter is sent ({'' if request.qualified else 'un'}qualified)"
        )
        return request.qualified
    others = sorted({p.namespace for p in params if p.namespace and p.namespace != namespace})
    if others:
        notes.append(
            f"parameters are in namespace {others[0]}, not their operation's {namespace}; the "
            "library sends them in the operation's namespace"
        )
    return qualified == {True}


def propose_soap_names(description: WsdlDescription) -> SoapProposal:
    """The :class:`SoapNames` a WSDL asks for, with notes on what they cannot express."""
    notes: list[str] = []
    plain, company = _find_operations(description, notes)
    base = plain or company
    if base is None or base.input is None:
        listed = ", ".join(op.name for op in description.operations) or "none"
        return SoapProposal(
            names=None,
            notes=(
                f"the WSDL describes no omlink operation (wsomhandler, comwsomhandler); its "
                f"operations: {listed}",
                *notes,
            ),
        )
    style = f"{base.style}/{base.use}"
    if base.use == "encoded":
        notes.append(
            "the binding uses SOAP encoding (use=encoded); the library sends literal XML, which "
            "encoded services usually accept: ask for a literal binding if calls are refused"
        )
    namespace = base.input.namespace
    if company is not None and company.input is not None and company.input.namespace != namespace:
        notes.append(
            f"{company.name} is in namespace {company.input.namespace}, {base.name} in "
            f"{namespace}: the library uses one namespace for both"
        )
    request_parameter: str | None = None
    if plain is not None and plain.input is not None:
        params = list(plain.input.parameters)
        if len(params) != 1:
            notes.append(
                f"{plain.name} takes {len(params)} parameters; the library sends one request string"
            )
        request_parameter = params[0].name if params else None
    split = _company_split(company, request_parameter, notes) if company is not None else None
    if company is None:
        notes.append("the WSDL has no comwsomhandler: the installation takes no company id")
    if plain is None:
        notes.append("the WSDL has no wsomhandler: every call needs a company id (company_id)")
    company_parameter, split_request, company_first = split or (
        _DEFAULTS.company_parameter,
        None,
        _DEFAULTS.company_parameter_first,
    )
    request_parameter = request_parameter or split_request or _DEFAULTS.request_parameter
    all_params = [p for op in (plain, company) if op and op.input for p in op.input.parameters]
    qualified = base.style != "rpc" and _qualification(
        all_params, request_parameter, namespace, notes
    )
    suffix = _DEFAULTS.response_suffix
    if base.output is not None:
        if base.output.element.startswith(base.input.element) and (
            base.output.element != base.input.element
        ):
            suffix = base.output.element[len(base.input.element) :]
        else:
            notes.append(
                f"the response element {base.output.element} is not the request element plus a "
                "suffix; the library reads any response element"
            )
    names = SoapNames(
        service_namespace=namespace,
        operation=plain.input.element if plain and plain.input else _DEFAULTS.operation,
        company_operation=(
            company.input.element if company and company.input else _DEFAULTS.company_operation
        ),
        request_parameter=request_parameter,
        company_parameter=company_parameter,
        reply_parameter=_reply_parameter(base.output, notes),
        response_suffix=suffix,
        qualified_parameters=qualified,
        company_parameter_first=company_first,
        soap_action=plain.soap_action if plain else "",
        company_soap_action=company.soap_action if company else "",
    )
    return SoapProposal(names=names, style=style, notes=tuple(dict.fromkeys(notes)))
