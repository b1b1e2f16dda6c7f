"""The probe's thin shell: fetch the WSDL, send the read-only requests, time them (the I/O).

Everything it learns goes through the pure modules beside it (``_wsdl``, ``_names``, ``_steps``,
``_report``). It sends three kinds of request and nothing else: ``OrderStatus`` for an order
number that cannot exist, ``MultiAvailableToSell`` for the SKUs given, ``ProductAvailableToSell``
for one product at a time (``ProductFrom`` = ``ProductTo``, never the open range that returns the
whole catalogue). No order, no customer, no journal is ever sent.
"""

from __future__ import annotations

import html
import re
import secrets
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx

from ..._toml_write import Scalar
from ...errors import PayloadError, PrimaProtocolError, PrimaUnavailableError
from .._config import OmlinkConfig
from .._models import SkuCode
from .._xml import (
    AtsRangeRequest,
    AtsSkusRequest,
    OmlinkCodec,
    OrderStatusRequest,
    SoapEnvelope,
    SoapNames,
)
from ._names import SoapProposal, propose_soap_names
from ._report import ProbeReport, build_report
from ._steps import ProbeKind, ProbeStep, WireAnswer, failed_step, read_step
from ._wsdl import WsdlDescription, read_wsdl

__all__ = ["MAX_PRODUCTS", "MAX_SKUS", "probe_prima", "wsdl_url_for"]

#: At most this many SKUs in the one ``MultiAvailableToSell`` (a probe, not a stock run).
MAX_SKUS = 20
#: At most this many single-product ``ProductAvailableToSell`` requests.
MAX_PRODUCTS = 5
_MAX_WSDL_BYTES = 4 * 1024 * 1024
_MAX_REPLY_BYTES = 16 * 1024 * 1024
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_ReadOnly = OrderStatusRequest | AtsSkusRequest | AtsRangeRequest


def wsdl_url_for(endpoint: str) -> str:
    """Where an omlink instance publishes its WSDL: ``<instance-url>/wsdl?targetURI=urn:omlink``."""
    return endpoint.rstrip("/") + "/wsdl?targetURI=urn:omlink"


def _impossible_order_number() -> str:
    return "CTPSPROBE" + secrets.token_hex(4).upper()


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _unreachable(exc: httpx.TransportError, url: str, timeout: float) -> PrimaUnavailableError:
    """One sentence for a request that got no HTTP answer."""
    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    causes = list(_chain(exc))
    tls = next((c for c in causes if isinstance(c, ssl.SSLError)), None)
    if tls is not None:
        reason = getattr(tls, "verify_message", None) or tls.reason or str(tls)
        sentence = (
            f"the TLS handshake with {where} failed ({str(reason).lower().replace('_', ' ')}): "
            f"check that {url} should be https:// and that its certificate is trusted"
        )
    elif any(isinstance(c, ConnectionRefusedError) for c in causes):
        sentence = f"nothing listens at {where} (connection refused): check the host and port"
    elif any(isinstance(c, socket.gaierror) for c in causes):
        sentence = f"the host name {parts.hostname} does not resolve: check the address {url}"
    elif isinstance(exc, httpx.TimeoutException):
        sentence = f"{url} did not answer within {timeout:g} seconds"
    else:
        sentence = f"could not reach {url} ({type(exc).__name__}: {exc})"
    return PrimaUnavailableError(sentence, may_have_been_applied=False)


def _title(body: bytes) -> str:
    found = _TITLE.search(body[:65536].decode("utf-8", "replace"))
    if found is None:
        return ""
    title = " ".join(html.unescape(found.group(1)).split())
    return f" titled {title[:80]!r}" if title else ""


def _looks_like_html(response: httpx.Response, body: bytes) -> bool:
    start = body[:512].lstrip().lower()
    return "html" in response.headers.get("content-type", "").lower() or start.startswith(
        (b"<!doctype html", b"<html")
    )


def _wrong_answer(response: httpx.Response, body: bytes, url: str) -> PrimaProtocolError | None:
    """The sentence for an answer that cannot be the WSDL, or None to go on reading it."""
    asked = f"{url} (redirected to {response.url})" if str(response.url) != url else url
    code = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    if response.status_code >= 400:
        hint = ""
        if response.status_code == 404:
            hint = (
                ": check the instance path (an instance http://host:8080/<instance>/<instance> "
                "publishes its WSDL at that address plus /wsdl?targetURI=urn:omlink)"
            )
        return PrimaProtocolError(f"{asked} answered {code}{_title(body)} instead of a WSDL{hint}")
    if not body.strip():
        return PrimaProtocolError(f"{asked} answered {code} with an empty body instead of a WSDL")
    if _looks_like_html(response, body):
        return PrimaProtocolError(
            f"{asked} answered with an HTML page{_title(body)} instead of a WSDL: the address "
            "leads to a web page, not to the omlink service"
        )
    return None


class _Wire:
    """The HTTP side of one probe: an httpx client, the clock, the size limits."""

    def __init__(
        self,
        config: OmlinkConfig,
        *,
        timeout: float,
        transport: httpx.BaseTransport | None,
        clock: Callable[[], float],
    ) -> None:
        headers = {config.header_name: config.header_value} if config.header_name else {}
        auth = httpx.BasicAuth(config.username, config.password) if config.username else None
        self.timeout = timeout
        self.clock = clock
        self.http = httpx.Client(
            transport=transport, timeout=httpx.Timeout(timeout), headers=headers, auth=auth
        )

    @contextmanager
    def _stream(
        self,
        method: str,
        url: str,
        limit: int,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[tuple[httpx.Response, bytes]]:
        try:
            with self.http.stream(
                method,
                url,
                content=content,
                headers=headers,
                follow_redirects=method == "GET",
            ) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise PrimaProtocolError(
                            f"{url} answered more than {limit // (1024 * 1024)} MB; the probe "
                            "stopped reading"
                        )
                yield response, bytes(body)
        except httpx.TransportError as exc:
            raise _unreachable(exc, url, self.timeout) from None

    def get_wsdl(self, url: str) -> bytes:
        with self._stream("GET", url, _MAX_WSDL_BYTES) as (response, body):
            wrong = _wrong_answer(response, body, url)
        if wrong is not None:
            raise wrong
        return body

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> WireAnswer:
        started = self.clock()
        with self._stream("POST", url, _MAX_REPLY_BYTES, content=body, headers=headers) as (
            response,
            reply,
        ):
            latency = (self.clock() - started) * 1000
            return WireAnswer(
                status=response.status_code,
                content_type=response.headers.get("content-type", ""),
                body=reply,
                latency_ms=round(latency, 1),
            )

    def close(self) -> None:
        self.http.close()


def _read_service(wire: _Wire, url: str) -> tuple[WsdlDescription, SoapProposal, SoapNames]:
    text = wire.get_wsdl(url)
    try:
        wsdl = read_wsdl(text)
    except PayloadError as exc:
        raise PrimaProtocolError(f"{url} answered something that is not a WSDL: {exc}") from None
    proposal = propose_soap_names(wsdl)
    if proposal.names is None:
        raise PrimaProtocolError(f"the WSDL at {url}: {proposal.notes[0]}")
    return wsdl, proposal, proposal.names


def _requests(
    order_number: str, skus: Sequence[SkuCode], products: Sequence[str]
) -> list[tuple[ProbeKind, tuple[str, ...], _ReadOnly]]:
    planned: list[tuple[ProbeKind, tuple[str, ...], _ReadOnly]] = [
        (
            ProbeKind.ORDER_STATUS,
            (order_number,),
            OrderStatusRequest(order_number=order_number),
        )
    ]
    if skus:
        planned.append(
            (ProbeKind.ATS_SKUS, tuple(str(s) for s in skus), AtsSkusRequest(skus=tuple(skus)))
        )
    planned += [
        (ProbeKind.ATS_RANGE, (p,), AtsRangeRequest(product_from=p, product_to=p)) for p in products
    ]
    return planned


def _check_read_only(request: _ReadOnly) -> None:
    # The guard behind the promise: whatever changes here, probe never sends a write.
    if not isinstance(request, OrderStatusRequest | AtsSkusRequest | AtsRangeRequest):
        raise TypeError(f"the probe sends read-only requests only, not {type(request).__name__}")
    if isinstance(request, AtsRangeRequest) and (
        not request.product_from or request.product_from != request.product_to
    ):
        raise PayloadError("ProductAvailableToSell is probed for one given product only")


def _skipped(skus: Sequence[SkuCode], products: Sequence[str]) -> list[str]:
    skipped = []
    if not skus:
        skipped.append(
            "MultiAvailableToSell not probed: give --sku PRODUCT[/MTRX1/...] (or --mapping with "
            "a [sku.table])"
        )
    if not products:
        skipped.append(
            "ProductAvailableToSell not probed: give --product CODE (one product, never the "
            "whole catalogue)"
        )
    return skipped


def probe_prima(
    endpoint: str,
    *,
    company_id: str | None = None,
    skus: Sequence[SkuCode] = (),
    products: Sequence[str] = (),
    wsdl_url: str | None = None,
    username: str = "",
    password: str = "",
    header_name: str = "",
    header_value: str = "",
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.monotonic,
    order_number: str | None = None,
    extra_settings: Mapping[str, Scalar] | None = None,
) -> ProbeReport:
    """Read an omlink installation's WSDL and ask it a few read-only questions.

    ``endpoint`` is the instance URL (the SOAP address); the WSDL is read from ``wsdl_url``
    (default :func:`wsdl_url_for`). ``skus`` (at most :data:`MAX_SKUS`) go in one
    ``MultiAvailableToSell``; each of ``products`` (at most :data:`MAX_PRODUCTS`) in one
    ``ProductAvailableToSell`` with ``ProductFrom`` = ``ProductTo``. ``extra_settings`` join the
    proposed ``[prima]`` table (the environment variable names of secrets, for example).

    A dead or wrong endpoint raises, in one sentence saying what was found instead:
    :class:`PrimaUnavailableError` (connection refused, unknown host, TLS failure, timeout) or
    :class:`PrimaProtocolError` (an HTTP error status, an HTML page, something that is not a WSDL
    or not omlink's). What the requests meet once the WSDL is read is in the report.
    """
    config = OmlinkConfig(
        endpoint=endpoint,
        company_id=company_id,
        username=username,
        password=password,
        header_name=header_name,
        header_value=header_value,
    )
    if len(skus) > MAX_SKUS:
        raise PayloadError(f"give at most {MAX_SKUS} SKUs to probe", path="skus")
    if len(products) > MAX_PRODUCTS:
        raise PayloadError(f"give at most {MAX_PRODUCTS} products to probe", path="products")
    if any(not p.strip() for p in products):
        raise PayloadError(
            "a product to probe needs a code (never the open range)", path="products"
        )
    url = wsdl_url or wsdl_url_for(endpoint)
    wire = _Wire(config, timeout=timeout, transport=transport, clock=clock)
    try:
        wsdl, proposal, names = _read_service(wire, url)
        envelope = SoapEnvelope(names, config.encoding)
        codec = OmlinkCodec(config.schema, config.encoding)
        headers = {
            "Content-Type": envelope.content_type,
            "SOAPAction": envelope.soap_action(company_id),
        }
        steps: list[ProbeStep] = []
        for kind, asked, request in _requests(
            order_number or _impossible_order_number(), skus, products
        ):
            _check_read_only(request)
            body = envelope.wrap_request(codec.encode_request(request), company_id)
            try:
                answer = wire.post(endpoint, body, headers)
            except (PrimaUnavailableError, PrimaProtocolError) as exc:
                steps.append(failed_step(kind, asked, str(exc)))
                continue
            steps.append(read_step(kind, asked, answer, envelope=envelope, codec=codec))
    finally:
        wire.close()
    return build_report(
        endpoint=endpoint,
        wsdl_url=url,
        wsdl=wsdl,
        soap=proposal,
        company_id=company_id,
        steps=steps,
        skipped=_skipped(skus, products),
        extra_settings=extra_settings,
    )
