"""``checkout``: the checkout guard, a commercetools API Extension (docs/checkout.md).

``checkout serve`` runs the extension (uvicorn; the ``checkout`` extra) with the settings file's
``[mapping]`` and ``[checkout]``; ``checkout register`` creates or updates the Extension in
commercetools so that it calls that URL. Both read the Authorization header value commercetools
sends from ``$CT_PRIMA_SYNC_CHECKOUT_AUTHORIZATION``. Exit codes: 0 done; 1 commercetools did not
answer or refused; 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
from typing import Any, TextIO

from ..checkout._register import extension_draft, parse_triggers
from ..checkout._settings import AUTHORIZATION_ENV, MAX_TIMEOUT_MS
from ..commercetools import CommercetoolsClient
from ..mapping import CheckoutConfig, StockCheck
from ..settings import Settings
from ..state import open_store
from ._common import add_settings, load, subparser
from ._exits import EXIT_OK, UsageError

__all__ = ["add_checkout"]

DEFAULT_TRIGGERS = ("cart:Create,Update", "order:Create")


def add_checkout(subparsers: Any) -> None:
    """``checkout serve`` and ``checkout register``."""
    checkout = subparser(
        subparsers,
        "checkout",
        help="the checkout guard: refuse at checkout what Prima would refuse (API Extension)",
    )
    commands = checkout.add_subparsers(title="checkout commands", metavar="COMMAND", required=True)
    serve = subparser(
        commands,
        "serve",
        help="serve the API Extension (needs the checkout extra)",
        description=(
            "Answer commercetools' API Extension calls for carts and orders with the order "
            "mapping's own checks ([mapping], [checkout] of the settings file). Prima is never "
            f"called. The Authorization header commercetools sends is ${AUTHORIZATION_ENV}."
        ),
    )
    add_settings(serve)
    serve.add_argument("--bind", help="address to listen on (default: [checkout] bind)")
    serve.add_argument("--port", type=int, help="port (default: [checkout] port, 8787)")
    serve.set_defaults(handler=_serve)
    register = subparser(
        commands,
        "register",
        help="create or update the API Extension in commercetools",
        description=(
            "Create the Extension ([checkout] key) calling URL, or bring an existing one to "
            "these settings, through the commercetools client ([commercetools] of the settings "
            f"file). The header value commercetools sends is ${AUTHORIZATION_ENV}."
        ),
    )
    add_settings(register)
    register.add_argument("--url", help="where commercetools calls the extension ([checkout] url)")
    register.add_argument(
        "--triggers",
        nargs="+",
        metavar="TYPE:ACTIONS",
        help="what calls it (default: cart:Create,Update order:Create)",
    )
    register.add_argument(
        "--timeout-ms",
        type=int,
        help=f"timeoutInMs, 1 to {MAX_TIMEOUT_MS} (default: [checkout] timeout_in_ms, 2000)",
    )
    register.add_argument(
        "--condition", help="a predicate limiting the calls, e.g. 'country = \"DE\"'"
    )
    register.add_argument("--key", help="the Extension's key (default: [checkout] key)")
    register.set_defaults(handler=_register)


def _authorization() -> str:
    value = os.environ.get(AUTHORIZATION_ENV, "")
    if not value.strip():
        raise UsageError(
            f"set {AUTHORIZATION_ENV} to the Authorization header value commercetools is to send "
            "(e.g. 'Bearer <a long random secret>')"
        )
    return value


def _checkout_config(settings: Settings) -> CheckoutConfig:
    if settings.mapping is None:
        raise UsageError("the checkout guard needs [mapping] in the settings file")
    return settings.checkout.checkout_config(settings.mapping)


def _serve(args: argparse.Namespace, _in: TextIO, out: TextIO, _err: TextIO) -> int:
    settings = load(args)
    config = _checkout_config(settings)
    authorization = _authorization()
    if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("starlette") is None:
        raise UsageError(
            "checkout serve needs the checkout extra: pip install 'ct-prima-sync[checkout]'"
        )
    import uvicorn  # noqa: PLC0415 (the optional extra)

    from ..checkout import app  # noqa: PLC0415 (loads Starlette)

    store = None
    if config.stock is not StockCheck.OFF:
        store = open_store(settings.state_url, busy_timeout=settings.state.busy_timeout)

    def reload() -> CheckoutConfig:
        return _checkout_config(load(args))

    application = app(reload, store, settings=settings.checkout, authorization=authorization)
    # Everything loaded so far lives as long as the server: out of the collector's scans, so that
    # a full collection does not pause a shopper's call (the p99 in benchmarks/bench_checkout).
    gc.collect()
    gc.freeze()
    bind = args.bind or settings.checkout.bind
    port = settings.checkout.port if args.port is None else args.port
    out.write(f"checkout guard on http://{bind}:{port}/ (configuration {_hash(config)})\n")
    out.flush()
    try:
        uvicorn.run(application, host=bind, port=port, log_level="warning")
    finally:
        if store is not None:
            store.close()
    return EXIT_OK


def _hash(config: CheckoutConfig) -> str:
    from ..mapping import config_hash  # noqa: PLC0415

    return config_hash(config.mapping)


def _register(args: argparse.Namespace, _in: TextIO, out: TextIO, _err: TextIO) -> int:
    settings = load(args)
    checkout = settings.checkout
    url = args.url or checkout.url
    if not url:
        raise UsageError("give --url (or [checkout] url): where commercetools calls the extension")
    timeout = checkout.timeout_in_ms if args.timeout_ms is None else args.timeout_ms
    if not 1 <= timeout <= MAX_TIMEOUT_MS:
        raise UsageError(f"--timeout-ms must be between 1 and {MAX_TIMEOUT_MS}, got {timeout}")
    if timeout <= checkout.deadline_margin_ms:
        raise UsageError(
            f"--timeout-ms {timeout} leaves no time to check a cart after the "
            f"{checkout.deadline_margin_ms} ms margin ([checkout] deadline_margin_ms)"
        )
    triggers = parse_triggers(args.triggers or DEFAULT_TRIGGERS, condition=args.condition)
    draft = extension_draft(
        key=args.key or checkout.key,
        url=url,
        triggers=triggers,
        timeout_in_ms=timeout,
        authorization=_authorization(),
    )
    if settings.commercetools is None:
        raise UsageError("checkout register needs [commercetools] in the settings file")
    with CommercetoolsClient(settings.commercetools) as client:
        extension, created = client.extensions.put(draft)
    if timeout != checkout.timeout_in_ms:
        out.write(
            f"note: [checkout] timeout_in_ms is {checkout.timeout_in_ms}: set it to {timeout} "
            "so that the guard's deadline matches\n"
        )
    on = "; ".join(f"{t['resourceTypeId']} {', '.join(t['actions'])}" for t in triggers)
    out.write(
        f"{'created' if created else 'updated'} extension {extension.key!r} (version "
        f"{extension.version}) calling {url} on {on}, timeoutInMs {timeout}\n"
    )
    return EXIT_OK
