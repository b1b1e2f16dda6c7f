"""``prima``: commands that talk to a Prima installation directly; ``prima probe``, first contact.

The command is thin: :func:`ct_prima_sync.prima.probe_prima` does the work, and
:func:`ct_prima_sync._toml_write.merge_tables` writes the settings. Exit codes: 0 everything
probed was answered as expected; 1 the probe ran but a request failed or a reply could not be read
(the report says which); 2 a usage error, or a dead or wrong endpoint (one sentence saying what was
found instead).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any, TextIO

from .._toml_write import Scalar, merge_tables
from ..errors import ConfigurationError, PayloadError, PrimaError
from ..mapping import MappingConfig
from ..prima import SkuCode
from ..prima._probe import MAX_PRODUCTS, MAX_SKUS, ProbeReport, probe_prima
from ._common import add_format, subparser
from ._exits import EXIT_ISSUES, EXIT_OK, UsageError
from ._output import write_json

__all__ = ["add_prima"]

#: SKUs taken from the mapping's SKU table when none are given.
_SKUS_FROM_MAPPING = 3


def add_prima(subparsers: Any) -> None:
    """``prima``: commands that talk to a Prima installation directly (``prima probe``)."""
    prima = subparser(subparsers, "prima", help="talk to a Prima installation directly (probe)")
    commands = prima.add_subparsers(title="prima commands", metavar="COMMAND", required=True)
    probe = subparser(
        commands,
        "probe",
        help="read an installation's WSDL, ask read-only questions, propose [prima] settings",
        description=(
            "Read the omlink WSDL of a Prima installation and send it read-only requests only "
            "(OrderStatus for an order number that cannot exist, MultiAvailableToSell for the "
            "SKUs given, ProductAvailableToSell for one product at a time); report how it "
            "speaks and the [prima] settings that make the library speak the same way. Nothing "
            "that writes (no order, no customer) is ever sent. Exit code 0 when every request "
            "was answered as expected, 1 when one failed, 2 for a dead or wrong endpoint."
        ),
    )
    probe.add_argument("--endpoint", required=True, help="the instance URL (the SOAP address)")
    probe.add_argument(
        "--wsdl", help="the WSDL's URL (default: ENDPOINT/wsdl?targetURI=urn:omlink)"
    )
    probe.add_argument("--company-id", help="probe through comwsomhandler with this company id")
    probe.add_argument(
        "--sku",
        action="extend",
        nargs="+",
        default=[],
        metavar="SKU",
        help=f"Prima SKUs PRODUCT[/MTRX1/...] for MultiAvailableToSell (at most {MAX_SKUS})",
    )
    probe.add_argument(
        "--product",
        action="extend",
        nargs="+",
        default=[],
        metavar="CODE",
        help=f"products for ProductAvailableToSell, one request each (at most {MAX_PRODUCTS})",
    )
    probe.add_argument("--mapping", help="mapping.toml: without --sku, take SKUs from [sku.table]")
    probe.add_argument("--username", default="", help="HTTP basic auth user")
    probe.add_argument("--password-env", help="environment variable holding the password")
    probe.add_argument("--header-name", default="", help="a gateway header (an API key)")
    probe.add_argument("--header-value-env", help="environment variable holding its value")
    probe.add_argument("--timeout", type=float, default=30.0, help="seconds per request (30)")
    add_format(probe)
    probe.add_argument(
        "--write-settings",
        metavar="FILE",
        help="write (or merge into) FILE's [prima] and [prima.soap] tables; the rest stays",
    )
    probe.set_defaults(handler=_run_probe)


def _sku(text: str) -> SkuCode:
    product, *matrix = text.split("/")
    try:
        return SkuCode(product=product.strip(), matrix=tuple(m.strip() for m in matrix))
    except PayloadError as exc:
        raise UsageError(f"--sku {text!r}: {exc}") from None


def _mapping_skus(name: str) -> list[SkuCode]:
    try:
        config = MappingConfig.from_toml(Path(name).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read mapping {name}: {exc.strerror or exc}") from None
    except ConfigurationError as exc:
        raise UsageError(f"invalid mapping {name}: {exc}") from None
    table = config.sku.table
    return [table[sku] for sku in sorted(table)][:_SKUS_FROM_MAPPING]


def _secret(variable: str | None, option: str) -> str:
    if not variable:
        return ""
    value = os.environ.get(variable)
    if value is None:
        raise UsageError(f"{option}: the environment variable {variable} is not set")
    return value


def _extra_settings(args: argparse.Namespace) -> dict[str, Scalar]:
    """What the written [prima] table keeps of the command line: names, never secrets."""
    extra: dict[str, Scalar] = {}
    if args.username:
        extra["username"] = args.username
    if args.password_env:
        extra["password_env"] = args.password_env
    if args.header_name:
        extra["header_name"] = args.header_name
    if args.header_value_env:
        extra["header_value_env"] = args.header_value_env
    return extra


def write_settings(path: Path, report: ProbeReport) -> None:
    """Merge the report's settings into ``path`` (created if missing), atomically."""
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read settings {path}: {exc}") from None
    try:
        merged = merge_tables(existing, report.settings)
    except ConfigurationError as exc:
        raise UsageError(f"settings {path} were not changed: {exc}") from None
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            temporary = Path(handle.name)
            handle.write(merged)
        if path.exists():
            temporary.chmod(path.stat().st_mode)
        temporary.replace(path)
    except OSError as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise UsageError(f"cannot write settings {path}: {exc.strerror or exc}") from None


def _run_probe(args: argparse.Namespace, _stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    skus = [_sku(text) for text in args.sku]
    if not skus and args.mapping:
        skus = _mapping_skus(args.mapping)
    if any(not p.strip() for p in args.product):
        raise UsageError("--product needs a product code (the probe never asks for them all)")
    try:
        report = probe_prima(
            args.endpoint,
            company_id=args.company_id,
            skus=skus,
            products=[p.strip() for p in args.product],
            wsdl_url=args.wsdl,
            username=args.username,
            password=_secret(args.password_env, "--password-env"),
            header_name=args.header_name,
            header_value=_secret(args.header_value_env, "--header-value-env"),
            timeout=args.timeout,
            extra_settings=_extra_settings(args),
        )
    except (PrimaError, PayloadError, ConfigurationError) as exc:
        # A dead or wrong endpoint is the address to fix: exit 2, not "Prima had a problem" (1).
        raise UsageError(str(exc)) from None
    if args.format == "json":
        write_json(report.as_dict(), stdout)
    else:
        stdout.write(report.render())
    if args.write_settings:
        target = Path(args.write_settings)
        write_settings(target, report)
        stderr.write(f"wrote [prima] and [prima.soap] to {target}\n")
    if not report.ok:
        failed = sum(1 for step in report.steps if not step.ok)
        stderr.write(f"{failed} probe request(s) were not answered as expected: see the report\n")
        return EXIT_ISSUES
    return EXIT_OK
