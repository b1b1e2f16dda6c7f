"""The omlink codec: request and reply XML strings, both directions, for client and emulator.

Client side: ``encode_request`` builds a request string; ``decode_*_reply`` reads a reply string
into models, raising :class:`~ct_prima_sync.errors.PrimaRejectedError` for
``RequestStatus="ERROR"`` and :class:`~ct_prima_sync.errors.PrimaProtocolError` for anything
malformed, hostile or of the wrong shape (and nothing else).
Server side (the emulator): ``decode_request`` reads a request string into a typed request
(:class:`~ct_prima_sync.errors.PayloadError` when it is not one), and ``encode_*_reply`` /
``encode_error_reply`` build replies. Both sides share one schema, so they agree by construction.
"""

from ._base import parse_order_status
from ._reply_reader import ReplyReader
from ._reply_writer import ReplyWriter
from ._requests import RequestCodec

__all__ = ["OmlinkCodec", "parse_order_status"]


class OmlinkCodec(RequestCodec, ReplyWriter, ReplyReader):
    """Builds and reads omlink XML strings for one installation's schema and encoding.

    ``OmlinkCodec(schema, encoding)``: requests with :meth:`encode_request` /
    :meth:`decode_request`, replies with the ``encode_*_reply`` / ``decode_*_reply`` pairs.
    Stateless and thread-safe.
    """
