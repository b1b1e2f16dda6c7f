"""Every exception the library raises, as one documented tree.

```
CtPrimaSyncError
├── ConfigurationError              a setting is missing or invalid: fix the configuration
│   ├── SettingsError               a settings file has problems; lists each with its key path
│   └── PrimaSoapMismatchError      (also a PrimaError, below)
├── MoneyError
│   ├── CurrencyMismatchError       two amounts in different currencies were combined
│   └── InvalidMoneyError           an amount could not be read or represented exactly
├── PayloadError                    a payload from outside does not have the documented shape;
│                                   carries the field path (``order.lineItems[3].price.value``)
├── CommercetoolsError              anything from the commercetools side; carries correlation_id
│   ├── CommercetoolsTransportError the request did not get an HTTP answer (connect, read, timeout)
│   ├── ClientClosedError           the client was closed; it refuses further requests
│   └── CommercetoolsApiError       the API answered with an error status; carries status_code and
│       │                           the API's error codes
│       ├── AuthenticationError     401/403, or the token endpoint refused the credentials
│       ├── NotFoundError           404
│       ├── ValidationError         400 (InvalidInput, InvalidOperation, DuplicateField, ...)
│       ├── ConcurrentModificationError  409, with current_version when the API sent it
│       ├── RateLimitedError        429, with retry_after in seconds when the API sent it
│       └── ServiceUnavailableError 5xx
├── PrimaError                      anything from the Prima side
│   ├── PrimaUnavailableError       no usable answer; may_have_been_applied tells whether the
│   │                               request may have taken effect (ambiguous) or surely did not
│   │   └── PrimaRateLimitedError   429 (or 503) with Retry-After from a gateway in front of Prima
│   ├── PrimaRejectedError          RequestStatus="ERROR": a business rejection with Prima's text
│   ├── PrimaSoapMismatchError      Prima's SOAP layer refused the envelope (a SOAP Client fault):
│   │                               the SOAP names or style do not fit the installation
│   └── PrimaProtocolError          a reply that is not well-formed, hostile or of the wrong shape
│       └── PrimaReplyTooLargeError a reply larger than max_reply_bytes, refused as it streamed
├── UnknownKindError                an exception kind no flow raises (names the known ones)
├── AlertDeliveryError              an alert did not reach one or more of its channels (webhook,
│                                   e-mail); names the channels, never the alert's content
└── StateError                      the state store failed or holds something unexpected
    ├── LeaseLostError              the worker no longer holds the order's lease: stop work on it
    ├── StateNotFoundError          open_store(..., create=False) found no state at the URL
    ├── InvalidTransitionError      the ledger's state machine forbids this status change
    ├── DuplicateRecordError        a unique key (order number, Prima reference, ...) is taken
    └── ExceptionNotFoundError      no exception with that id, or it is already resolved
```

Rules every subclass keeps: messages say what to fix; no secret (client secret, token, password)
and no personal data (names, e-mail addresses, postal addresses, phone numbers) ever appears in a
message, an attribute that is rendered by ``repr`` or ``str``, or a chained exception's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .prima._models import PrimaErrorCode

__all__ = [
    "AlertDeliveryError",
    "AuthenticationError",
    "ClientClosedError",
    "CommercetoolsApiError",
    "CommercetoolsError",
    "CommercetoolsTransportError",
    "ConcurrentModificationError",
    "ConfigurationError",
    "CtPrimaSyncError",
    "CurrencyMismatchError",
    "DuplicateRecordError",
    "ExceptionNotFoundError",
    "InvalidMoneyError",
    "InvalidTransitionError",
    "LeaseLostError",
    "MoneyError",
    "NotFoundError",
    "PayloadError",
    "PrimaError",
    "PrimaProtocolError",
    "PrimaRateLimitedError",
    "PrimaRejectedError",
    "PrimaReplyTooLargeError",
    "PrimaSoapMismatchError",
    "PrimaUnavailableError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "SettingsError",
    "StateError",
    "StateNotFoundError",
    "UnknownKindError",
    "ValidationError",
]


class CtPrimaSyncError(Exception):
    """Base of every exception raised by ct_prima_sync."""


class ConfigurationError(CtPrimaSyncError, ValueError):
    """A setting is missing or invalid. The message names the setting and what it accepts."""


class SettingsError(ConfigurationError):
    """A settings file has one or more problems.

    ``file`` names the file; ``problems`` holds each problem (its ``where`` is the key path such as
    ``[prima] rate_limit``, its ``message`` what is expected). One problem reads as one line.
    """

    def __init__(self, file: str, problems: Sequence[object]) -> None:
        self.file = file
        self.problems: tuple[object, ...] = tuple(problems)
        if len(self.problems) == 1:
            text = f"settings {file}: {self.problems[0]}"
        else:
            lines = "".join(f"\n  {p}" for p in self.problems)
            text = f"settings {file} have {len(self.problems)} problems:{lines}"
        super().__init__(text)


class MoneyError(CtPrimaSyncError, ValueError):
    """An amount could not be combined, read or represented exactly."""


class CurrencyMismatchError(MoneyError):
    """Two amounts in different currencies (or fraction digits) were combined."""


class InvalidMoneyError(MoneyError):
    """An amount could not be parsed or represented exactly (bad shape, float, too many digits)."""


class PayloadError(CtPrimaSyncError, ValueError):
    """A payload from outside the library does not have the documented shape.

    ``path`` names the offending field, for example ``lineItems[3].price.value.centAmount``.
    """

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class CommercetoolsError(CtPrimaSyncError):
    """Something went wrong talking to commercetools.

    ``correlation_id`` is the ``X-Correlation-ID`` the request carried: quote it to commercetools
    support.
    """

    def __init__(self, message: str, *, correlation_id: str | None = None) -> None:
        super().__init__(message)
        self.correlation_id = correlation_id


class CommercetoolsTransportError(CommercetoolsError):
    """The request got no HTTP answer (connection refused or reset, timeout)."""


class ClientClosedError(CommercetoolsError):
    """The client was closed (``close()`` or the end of its ``with`` block); create a new one."""


class CommercetoolsApiError(CommercetoolsError):
    """The API answered with an error status.

    ``codes`` holds the ``errors[].code`` values of the error body (``InvalidInput``,
    ``ConcurrentModification``, ...), in the order the API sent them.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        codes: Sequence[str] = (),
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message, correlation_id=correlation_id)
        self.status_code = status_code
        self.codes: tuple[str, ...] = tuple(codes)


class AuthenticationError(CommercetoolsApiError):
    """The credentials or the token were refused (401, 403, or the token endpoint said no)."""


class NotFoundError(CommercetoolsApiError):
    """The resource does not exist (404)."""


class ValidationError(CommercetoolsApiError):
    """The API refused the request as invalid (400). Retrying the same request will not help."""


class ConcurrentModificationError(CommercetoolsApiError):
    """The resource changed since it was read (409).

    ``current_version`` is the version the API reported, when it reported one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 409,
        codes: Sequence[str] = ("ConcurrentModification",),
        correlation_id: str | None = None,
        current_version: int | None = None,
    ) -> None:
        super().__init__(
            message, status_code=status_code, codes=codes, correlation_id=correlation_id
        )
        self.current_version = current_version


class RateLimitedError(CommercetoolsApiError):
    """Too many requests (429). ``retry_after`` is the wait in seconds the API asked for, if any."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 429,
        codes: Sequence[str] = (),
        correlation_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, status_code=status_code, codes=codes, correlation_id=correlation_id
        )
        self.retry_after = retry_after


class ServiceUnavailableError(CommercetoolsApiError):
    """The API answered with a server error (5xx) and retries did not help."""


class PrimaError(CtPrimaSyncError):
    """Something went wrong talking to Prima."""


class PrimaUnavailableError(PrimaError):
    """Prima gave no usable answer.

    ``may_have_been_applied`` is True when the request reached Prima (or may have) and the answer
    was lost: a write must then be checked (order status) before it is sent again. It is False
    when the request surely had no effect (connection refused, rate limited before sending).
    """

    def __init__(self, message: str, *, may_have_been_applied: bool) -> None:
        super().__init__(message)
        self.may_have_been_applied = may_have_been_applied


class PrimaRateLimitedError(PrimaUnavailableError):
    """A gateway in front of Prima refused the request for now (429, or 503 with Retry-After).

    ``retry_after`` is the wait in seconds it asked for, if any. A 429 was surely not applied; a
    503 may have been (``may_have_been_applied`` says which).
    """

    def __init__(
        self, message: str, *, may_have_been_applied: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(message, may_have_been_applied=may_have_been_applied)
        self.retry_after = retry_after


class PrimaRejectedError(PrimaError):
    """Prima answered ``RequestStatus="ERROR"``: a business rejection, not a transport failure.

    ``request_error`` is Prima's error text as a person should read it (its "DEV MODE Stack
    Trace" tails removed); ``raw_error`` the text exactly as sent; ``codes`` its ``(E:nnn)``
    parts (:class:`~ct_prima_sync.prima.PrimaErrorCode`); ``request_type`` the request that was
    sent.
    """

    def __init__(
        self,
        request_error: str,
        *,
        request_type: str = "",
        codes: Sequence[PrimaErrorCode] = (),
        raw_error: str = "",
    ) -> None:
        label = f"Prima rejected {request_type}" if request_type else "Prima rejected the request"
        super().__init__(f"{label}: {request_error}")
        self.request_error = request_error
        self.request_type = request_type
        self.codes: tuple[PrimaErrorCode, ...] = tuple(codes)
        self.raw_error = raw_error or request_error


class PrimaSoapMismatchError(PrimaError, ConfigurationError):
    """Prima's SOAP layer refused the request envelope (a SOAP ``Client`` fault).

    Omlink carries every business answer inside its reply string, so a Client fault means the
    envelope itself did not fit: the operation or parameter names, their namespace, qualified or
    unqualified parameters (``OmlinkConfig.soap``). Nothing was applied, and every request will
    meet the same fault until the settings change: ``ct-prima-sync prima probe`` reads the right
    ones from the installation's WSDL. ``fault`` is the server's fault text, ``request_type`` the
    request that was refused. A :class:`ConfigurationError` as well: a sync run stops on it.
    """

    def __init__(self, fault: str, *, request_type: str = "") -> None:
        what = request_type or "the request"
        shown = " ".join(fault.split())  # one line, whatever the service wrote
        if len(shown) > 300:
            shown = shown[:297] + "..."
        super().__init__(
            f"Prima's SOAP service refused the envelope of {what} (SOAP Client fault: "
            f"{shown or 'no fault text'}): the [prima.soap] settings (operation and parameter "
            "names, namespace, qualified parameters) do not match this installation's WSDL; "
            "`ct-prima-sync prima probe --endpoint URL --write-settings FILE` reads them"
        )
        self.fault = fault
        self.request_type = request_type


class PrimaProtocolError(PrimaError):
    """Prima's reply is not well-formed XML, is hostile (entities, DTDs) or has the wrong shape."""


class PrimaReplyTooLargeError(PrimaProtocolError):
    """Prima's reply grew past ``OmlinkConfig.max_reply_bytes`` and was refused while it
    streamed in (the rest was never read). ``limit`` is the cap in bytes, ``received`` how many
    bytes had arrived (or the declared ``Content-Length``) when it was refused."""

    def __init__(self, message: str, *, limit: int, received: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.received = received


class AlertDeliveryError(CtPrimaSyncError):
    """An alert did not reach some of its channels; ``failed`` names them (``webhook``,
    ``email``), each with the reason (a status code, a connection error's kind)."""

    def __init__(self, message: str, *, failed: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.failed = tuple(failed)


class UnknownKindError(CtPrimaSyncError, ValueError):
    """An exception kind no flow raises was asked for (a typo, most likely); the message lists
    the known kinds."""


class StateError(CtPrimaSyncError):
    """The state store failed, or holds something it should not."""


class LeaseLostError(StateError):
    """The worker's lease on an order expired or was taken over; its write was refused.

    Stop working on the order: another worker owns it now.
    """


class StateNotFoundError(StateError):
    """There is no state store at the URL (no SQLite file, no tables in the PostgreSQL schema);
    raised by ``open_store(url, create=False)``, which never creates one."""


class InvalidTransitionError(StateError):
    """The order ledger's state machine does not allow this status change."""


class DuplicateRecordError(StateError):
    """A unique key is already taken (order number, Prima reference, batch id or batch member)."""


class ExceptionNotFoundError(StateError, LookupError):
    """No open exception has that id (it never existed, or it was resolved already)."""
