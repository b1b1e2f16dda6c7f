"""Read an omlink WSDL into what the SOAP layer needs to know: pure, text in, description out.

WSDL 1.1 with a SOAP 1.1 (or 1.2) binding, as OpenEdge web-services adapters publish it: for each
operation its style (document or RPC) and use (literal or encoded), its ``soapAction``, and the
element that travels in the SOAP Body each way with its parameter elements, their names and
namespaces (qualified or not); the service location. Schemas inline in ``types`` are read; what
lies outside the document (``wsdl:import``, ``xsd:import``) is not fetched and is reported in
:attr:`WsdlDescription.notes`, like anything else the reader met but could not use.

Parsed with defusedxml (a WSDL is untrusted input, like every reply). QName attribute values
(``element="tns:wsomhandler"``) need the namespace prefixes in scope at each element, which
ElementTree drops, so the document is read with ``iterparse`` and its ``start-ns`` events.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import defusedxml
from attrs import frozen
from defusedxml.ElementTree import iterparse

from ...errors import PayloadError

__all__ = ["WsdlDescription", "WsdlMessage", "WsdlOperation", "WsdlParameter", "read_wsdl"]

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP11_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


@frozen(kw_only=True)
class WsdlParameter:
    """One parameter element: its name, its namespace (empty: unqualified) and its type."""

    name: str
    namespace: str = ""
    type: str = ""
    """The XML Schema type as ``{namespace}name`` (``{http://www.w3.org/2001/XMLSchema}string``)."""

    @property
    def qualified(self) -> bool:
        """True when the element travels in a namespace."""
        return bool(self.namespace)


@frozen(kw_only=True)
class WsdlMessage:
    """What travels in the SOAP Body one way: a wrapper element and its parameter elements."""

    element: str
    namespace: str
    parameters: tuple[WsdlParameter, ...] = ()


@frozen(kw_only=True)
class WsdlOperation:
    """One operation of the SOAP binding."""

    name: str
    style: str
    """``document`` or ``rpc``."""
    use: str
    """``literal`` or ``encoded``."""
    soap_action: str = ""
    input: WsdlMessage | None = None
    output: WsdlMessage | None = None


@frozen(kw_only=True)
class WsdlDescription:
    """A WSDL as the probe reads it."""

    target_namespace: str
    service: str
    port: str
    location: str
    """The service address the WSDL publishes (may differ from the address it was read at)."""
    soap_version: str
    """``1.1`` or ``1.2`` (of the binding read)."""
    operations: tuple[WsdlOperation, ...]
    notes: tuple[str, ...] = ()
    """What the reader met but could not read or use, one sentence each."""

    def operation(self, name: str) -> WsdlOperation | None:
        """The operation called ``name`` (ignoring case), or None."""
        wanted = name.lower()
        return next((op for op in self.operations if op.name.lower() == wanted), None)


QName = tuple[str, str]


class _Document:
    """A parsed WSDL with the namespace prefixes in scope at each element."""

    def __init__(self, text: str | bytes) -> None:
        if isinstance(text, str):
            # The text is decoded already: drop a declaration that names another encoding.
            text = _DECLARATION.sub("", text, count=1).encode("utf-8")
        self.scopes: dict[int, dict[str, str]] = {}
        stack: list[dict[str, str]] = [{}]
        pending: dict[str, str] = {}
        root: ET.Element | None = None
        try:
            events = iterparse(
                io.BytesIO(text),
                events=("start", "end", "start-ns"),
                forbid_dtd=True,
                forbid_entities=True,
                forbid_external=True,
            )
            for event, item in events:
                if event == "start-ns":
                    prefix, uri = item
                    pending[prefix] = uri
                elif event == "start":
                    scope = {**stack[-1], **pending} if pending else stack[-1]
                    pending = {}
                    self.scopes[id(item)] = scope
                    stack.append(scope)
                    root = item if root is None else root
                else:
                    stack.pop()
        except defusedxml.DefusedXmlException as exc:
            raise PayloadError(f"hostile XML refused ({type(exc).__name__})") from None
        except ET.ParseError as exc:
            raise PayloadError(f"not well-formed XML ({exc})") from None
        if root is None:
            raise PayloadError("the XML has no root element")
        self.root = root

    def qname(self, element: ET.Element, value: str | None) -> QName | None:
        """The ``(namespace, name)`` a QName attribute value stands for at ``element``."""
        if not value:
            return None
        prefix, _, local = value.strip().rpartition(":")
        namespace = self.scopes.get(id(element), {}).get(prefix, "")
        return namespace, local


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _split(tag: str) -> QName:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _type_text(name: QName | None) -> str:
    return _tag(*name) if name and name[0] else (name[1] if name else "")


class _Schemas:
    """The global elements and named complex types of every inline schema."""

    def __init__(self, doc: _Document, notes: list[str]) -> None:
        self.doc = doc
        self.elements: dict[QName, tuple[ET.Element, ET.Element]] = {}
        self.types: dict[QName, tuple[ET.Element, ET.Element]] = {}
        for types in doc.root.iter(_tag(WSDL_NS, "types")):
            for schema in types.iter(_tag(XSD_NS, "schema")):
                tns = schema.get("targetNamespace", "")
                for child in schema:
                    name = child.get("name")
                    if child.tag == _tag(XSD_NS, "element") and name:
                        self.elements[(tns, name)] = (child, schema)
                    elif child.tag == _tag(XSD_NS, "complexType") and name:
                        self.types[(tns, name)] = (child, schema)
                    elif child.tag in (_tag(XSD_NS, "import"), _tag(XSD_NS, "include")):
                        where = child.get("schemaLocation") or child.get("namespace") or "?"
                        notes.append(f"a schema imports {where}, which the probe does not fetch")

    def parameters(self, element: ET.Element, schema: ET.Element) -> list[WsdlParameter] | None:
        """The parameter elements of a global element's content (None: not a sequence)."""
        complex_type = element.find(_tag(XSD_NS, "complexType"))
        if complex_type is None:
            named = self.doc.qname(element, element.get("type"))
            found = self.types.get(named) if named else None
            if found is None:
                return None
            complex_type, schema = found
        group = next(
            (
                child
                for child in complex_type
                if child.tag in {_tag(XSD_NS, t) for t in ("sequence", "all", "choice")}
            ),
            None,
        )
        if group is None:
            return [] if len(complex_type) == 0 else None
        return [self._parameter(child, schema) for child in self._fields(group)]

    def _fields(self, group: ET.Element) -> Iterator[ET.Element]:
        for child in group:
            if child.tag == _tag(XSD_NS, "element"):
                yield child

    def _parameter(self, field: ET.Element, schema: ET.Element) -> WsdlParameter:
        ref = self.doc.qname(field, field.get("ref"))
        if ref is not None:  # a reference to a global element: always in its schema's namespace
            target = self.elements.get(ref)
            kind = self.doc.qname(target[0], target[0].get("type")) if target else None
            return WsdlParameter(name=ref[1], namespace=ref[0], type=_type_text(kind))
        form = field.get("form") or schema.get("elementFormDefault", "unqualified")
        namespace = schema.get("targetNamespace", "") if form == "qualified" else ""
        kind = self.doc.qname(field, field.get("type"))
        return WsdlParameter(name=field.get("name", ""), namespace=namespace, type=_type_text(kind))


def _children(parent: ET.Element, namespace: str, name: str) -> list[ET.Element]:
    return [child for child in parent if child.tag == _tag(namespace, name)]


class _Reader:
    def __init__(self, text: str | bytes) -> None:
        self.doc = _Document(text)
        root = self.doc.root
        if root.tag != _tag(WSDL_NS, "definitions"):
            namespace, name = _split(root.tag)
            where = f" in namespace {namespace}" if namespace else ""
            raise PayloadError(
                f"not a WSDL: the document's root element is <{name}>{where}, not WSDL 1.1 "
                "<definitions>"
            )
        self.tns = root.get("targetNamespace", "")
        self.notes: list[str] = []
        for imported in _children(root, WSDL_NS, "import"):
            self.notes.append(
                f"the WSDL imports {imported.get('location') or imported.get('namespace') or '?'}"
                ", which the probe does not fetch"
            )
        self.schemas = _Schemas(self.doc, self.notes)
        self.messages = {
            (self.tns, m.get("name", "")): _children(m, WSDL_NS, "part")
            for m in _children(root, WSDL_NS, "message")
        }

    def read(self) -> WsdlDescription:
        root = self.doc.root
        binding, soap_ns = self._binding()
        port_name = location = service_name = ""
        if binding is not None:
            service_name, port_name, location = self._address(binding, soap_ns)
        operations: list[WsdlOperation] = []
        if binding is not None:
            port_type = self._port_type(binding)
            default_style = "document"
            soap_binding = binding.find(_tag(soap_ns, "binding"))
            if soap_binding is not None:
                default_style = soap_binding.get("style") or "document"
            operations = [
                self._operation(op, port_type, soap_ns, default_style)
                for op in _children(binding, WSDL_NS, "operation")
            ]
        elif _children(root, WSDL_NS, "binding"):
            self.notes.append("the WSDL has no SOAP binding: the probe reads SOAP 1.1 bindings")
        else:
            self.notes.append("the WSDL has no binding at all")
        if binding is not None and not location:
            self.notes.append("the WSDL names no service location (soap:address) for its port")
        return WsdlDescription(
            target_namespace=self.tns,
            service=service_name,
            port=port_name,
            location=location,
            soap_version="1.2" if soap_ns == SOAP12_BINDING_NS else "1.1",
            operations=tuple(operations),
            notes=tuple(dict.fromkeys(self.notes)),
        )

    def _binding(self) -> tuple[ET.Element | None, str]:
        bindings = _children(self.doc.root, WSDL_NS, "binding")
        for soap_ns in (SOAP11_BINDING_NS, SOAP12_BINDING_NS):
            found = [b for b in bindings if b.find(_tag(soap_ns, "binding")) is not None]
            if found:
                if soap_ns == SOAP12_BINDING_NS:
                    self.notes.append(
                        "the WSDL binds SOAP 1.2 only; the library speaks SOAP 1.1 (ask the "
                        "administrator for the SOAP 1.1 binding)"
                    )
                if len(found) > 1:
                    self.notes.append(
                        f"the WSDL has {len(found)} SOAP bindings; the probe read "
                        f"{found[0].get('name')!r}"
                    )
                return found[0], soap_ns
        return None, SOAP11_BINDING_NS

    def _port_type(self, binding: ET.Element) -> dict[str, ET.Element]:
        wanted = self.doc.qname(binding, binding.get("type"))
        for port_type in _children(self.doc.root, WSDL_NS, "portType"):
            if wanted is None or port_type.get("name") == wanted[1]:
                return {op.get("name", ""): op for op in _children(port_type, WSDL_NS, "operation")}
        self.notes.append(f"the binding's portType {binding.get('type')!r} is missing")
        return {}

    def _address(self, binding: ET.Element, soap_ns: str) -> tuple[str, str, str]:
        name = binding.get("name")
        for service in _children(self.doc.root, WSDL_NS, "service"):
            for port in _children(service, WSDL_NS, "port"):
                bound = self.doc.qname(port, port.get("binding"))
                if bound is not None and bound[1] == name:
                    address = port.find(_tag(soap_ns, "address"))
                    location = address.get("location", "") if address is not None else ""
                    return service.get("name", ""), port.get("name", ""), location
        return "", "", ""

    def _operation(
        self,
        op: ET.Element,
        port_type: dict[str, ET.Element],
        soap_ns: str,
        default_style: str,
    ) -> WsdlOperation:
        name = op.get("name", "")
        soap_op = op.find(_tag(soap_ns, "operation"))
        style = (soap_op.get("style") if soap_op is not None else None) or default_style
        action = (soap_op.get("soapAction") if soap_op is not None else None) or ""
        abstract = port_type.get(name)
        if abstract is None:
            self.notes.append(f"operation {name}: not in the binding's portType")
        messages: dict[str, WsdlMessage | None] = {}
        uses: list[str] = []
        for direction in ("input", "output"):
            bound = op.find(_tag(WSDL_NS, direction))
            body = bound.find(_tag(soap_ns, "body")) if bound is not None else None
            if body is not None:
                uses.append(body.get("use") or "literal")
            declared = abstract.find(_tag(WSDL_NS, direction)) if abstract is not None else None
            message = (
                self.doc.qname(declared, declared.get("message")) if declared is not None else None
            )
            messages[direction] = self._message(name, direction, style, message, body)
        use = "encoded" if "encoded" in uses else "literal"
        return WsdlOperation(
            name=name,
            style=style,
            use=use,
            soap_action=action,
            input=messages["input"],
            output=messages["output"],
        )

    def _message(
        self,
        operation: str,
        direction: str,
        style: str,
        message: QName | None,
        body: ET.Element | None,
    ) -> WsdlMessage | None:
        parts = self.messages.get(message) if message is not None else None
        if parts is None:
            self.notes.append(f"operation {operation}: its {direction} message is missing")
            return None
        if style == "rpc":
            namespace = body.get("namespace", "") if body is not None else ""
            if not namespace:
                self.notes.append(
                    f"operation {operation}: the RPC {direction} names no namespace; the "
                    "WSDL's targetNamespace is assumed"
                )
                namespace = self.tns
            parameters = [
                WsdlParameter(
                    name=part.get("name", ""),
                    type=_type_text(self.doc.qname(part, part.get("type") or part.get("element"))),
                )
                for part in parts
            ]
            element = operation if direction == "input" else operation + "Response"
            return WsdlMessage(element=element, namespace=namespace, parameters=tuple(parameters))
        if len(parts) != 1:
            self.notes.append(
                f"operation {operation}: its document {direction} has {len(parts)} parts; the "
                "probe reads a single wrapper element"
            )
            if not parts:
                return None
        part = parts[0]
        element_name = self.doc.qname(part, part.get("element"))
        if element_name is None:
            self.notes.append(
                f"operation {operation}: its document {direction} part names a type, not an "
                "element; the probe cannot tell the element that travels"
            )
            return None
        found = self.schemas.elements.get(element_name)
        if found is None:
            self.notes.append(
                f"operation {operation}: element {_tag(*element_name)} of its {direction} is not "
                "in the WSDL's schemas"
            )
            return WsdlMessage(element=element_name[1], namespace=element_name[0])
        fields = self.schemas.parameters(*found)
        if fields is None:
            self.notes.append(
                f"operation {operation}: element {element_name[1]} of its {direction} is not a "
                "sequence of parameter elements"
            )
        return WsdlMessage(
            element=element_name[1], namespace=element_name[0], parameters=tuple(fields or ())
        )


def read_wsdl(text: str | bytes) -> WsdlDescription:
    """The operations, parameters, namespaces, style and location a WSDL describes.

    Raises :class:`~ct_prima_sync.errors.PayloadError` when the text is not XML or not a WSDL
    1.1 document; everything else it cannot use is a note in the description.
    """
    return _Reader(text).read()
