"""Route a decoded omlink request to the world and encode the world's answer as a reply string."""

from __future__ import annotations

from collections.abc import Callable

from attrs import frozen

from ...errors import PrimaRejectedError
from ...prima._xml import (
    AtsRangeRequest,
    AtsSkusRequest,
    CancelOrderRequest,
    CustomerCreateRequest,
    CustomerFindRequest,
    DepotListRequest,
    DespatchDetailsRequest,
    OmlinkCodec,
    OmlinkRequest,
    OrderReturnRequest,
    OrderStatusRequest,
    PostJournalRequest,
    SubmitOrdersRequest,
)
from ._requests import PrimaRequestKind
from ._world import PrimaWorld

__all__ = ["Route", "route"]


@frozen(kw_only=True)
class Route:
    """What a request is (kind and business keys) and how to answer it (``run`` gives the reply)."""

    kind: PrimaRequestKind
    keys: tuple[str, ...]
    request_type: str
    run: Callable[[], str]


def route(world: PrimaWorld, codec: OmlinkCodec, request: OmlinkRequest) -> Route:
    """The route for ``request``; its ``run`` turns business rejections into ERROR replies."""
    kind, keys, answer = _classify(world, codec, request)
    request_type = codec.request_type_of(request)

    def run() -> str:
        try:
            return answer()
        except PrimaRejectedError as exc:
            return codec.encode_error_reply(request_type, exc.request_error)

    return Route(kind=kind, keys=keys, request_type=request_type, run=run)


def _classify(
    world: PrimaWorld, codec: OmlinkCodec, request: OmlinkRequest
) -> tuple[PrimaRequestKind, tuple[str, ...], Callable[[], str]]:
    match request:
        case SubmitOrdersRequest(orders=orders, unique_ids=unique_ids):
            return (
                PrimaRequestKind.SUBMIT_ORDERS,
                tuple(o.order_number for o in orders),
                lambda: codec.encode_submit_reply(world.submit_orders(orders), unique_ids),
            )
        case OrderStatusRequest(order_number=number):
            return (
                PrimaRequestKind.ORDER_STATUS,
                (number,),
                lambda: codec.encode_order_status_reply(world.order_status(number)),
            )
        case DespatchDetailsRequest(order_number=number):
            return (
                PrimaRequestKind.DESPATCH_DETAILS,
                (number,),
                lambda: codec.encode_despatch_reply(world.despatch_details(number)),
            )
        case AtsSkusRequest(skus=skus):
            return (
                PrimaRequestKind.AVAILABLE_TO_SELL,
                tuple(str(s) for s in skus),
                lambda: codec.encode_ats_reply(world.available_to_sell(skus), skus=True),
            )
        case AtsRangeRequest(product_from=low, product_to=high, max_rows=max_rows):

            def ats_range() -> str:
                levels = world.catalogue_available_to_sell(product_from=low, product_to=high)
                return codec.encode_ats_reply(levels[:max_rows] if max_rows else levels)

            return (PrimaRequestKind.CATALOGUE_AVAILABLE_TO_SELL, (low, high), ats_range)
        case CustomerFindRequest(account_code=code, email=email):
            return (
                PrimaRequestKind.FIND_CUSTOMER,
                (code,) if code else (),
                lambda: codec.encode_customer_find_reply(
                    world.find_customer(account_code=code, email=email)
                ),
            )
        case CustomerCreateRequest(details=details):
            return (
                PrimaRequestKind.CREATE_CUSTOMER,
                (details.external_id,) if details.external_id else (),
                lambda: codec.encode_customer_create_reply(world.create_customer(details)),
            )
        case DepotListRequest():
            return (
                PrimaRequestKind.LIST_DEPOTS,
                (),
                lambda: codec.encode_depot_list_reply(world.list_depots()),
            )
        case PostJournalRequest(batch=batch):
            return (
                PrimaRequestKind.POST_JOURNAL,
                (batch.batch_id,),
                lambda: codec.encode_journal_reply(world.post_journal(batch)),
            )
        case CancelOrderRequest(order_number=number, reason=reason):

            def cancel() -> str:
                world.cancel_order(number, reason=reason)
                return codec.encode_ack_reply(codec.request_type_of(request), number)

            return (PrimaRequestKind.CANCEL_ORDER, (number,), cancel)
        case OrderReturnRequest(order_number=number, lines=lines):

            def record_return() -> str:
                world.record_return(number, lines)
                return codec.encode_ack_reply(codec.request_type_of(request), number)

            return (
                PrimaRequestKind.RECORD_RETURN,
                (number, *(line.return_reference for line in lines)),
                record_return,
            )
