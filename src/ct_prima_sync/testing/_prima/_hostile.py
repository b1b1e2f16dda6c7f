"""Malformed and hostile replies the emulator sends when a fault asks for them.

Each is a document a safe client must refuse with a typed error and nothing else: no entity
expansion (billion laughs), no file read (external entity), no crash on a cut-off or foreign
document.
"""

from __future__ import annotations

from ...prima._xml import Encoding
from ._faults import PrimaFaultKind

__all__ = ["bad_document", "truncated"]

_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def _billion_laughs(encoding: Encoding) -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return (
        f'<?xml version="1.0" encoding="{encoding.value}"?>'
        f"<!DOCTYPE Envelope [{''.join(entities)}]>"
        f'<soap:Envelope xmlns:soap="{_SOAP}"><soap:Body><Reply RequestStatus="OK">&lol9;'
        "</Reply></soap:Body></soap:Envelope>"
    )


def _external_entity(encoding: Encoding) -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding.value}"?>'
        '<!DOCTYPE Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'<soap:Envelope xmlns:soap="{_SOAP}"><soap:Body><Reply RequestStatus="OK">&xxe;'
        "</Reply></soap:Body></soap:Envelope>"
    )


def _wrong_root(encoding: Encoding) -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding.value}"?>'
        '<Catalogue RequestStatus="OK"><Item Product="TEE1001"/></Catalogue>'
    )


def bad_document(kind: PrimaFaultKind, encoding: Encoding) -> str:
    """The hostile or foreign document for ``kind`` (not TRUNCATED_XML: see :func:`truncated`)."""
    if kind is PrimaFaultKind.BILLION_LAUGHS:
        return _billion_laughs(encoding)
    if kind is PrimaFaultKind.EXTERNAL_ENTITY:
        return _external_entity(encoding)
    return _wrong_root(encoding)


def truncated(document: bytes) -> bytes:
    """The first half of a document: never well-formed."""
    return document[: max(1, len(document) // 2)]
