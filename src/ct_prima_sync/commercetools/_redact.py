"""Keep commercetools query strings out of httpx's own request log.

httpx logs every request at INFO as ``HTTP Request: GET <full URL> ...``. Our query strings carry
predicate variables, which can be personal data (a customer's e-mail address), so a filter on the
``httpx`` logger drops the query string of URLs on the commercetools hosts the clients of this
process use. Other hosts and other log records pass unchanged.
"""

from __future__ import annotations

import logging
import threading

import httpx

__all__ = ["redact_httpx_logs_for"]

_hosts: set[str] = set()
_lock = threading.Lock()
_installed = False


class _QueryRedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(a, httpx.URL) and a.host in _hosts and a.query for a in record.args
        ):
            record.args = tuple(
                a.copy_with(query=b"redacted")
                if isinstance(a, httpx.URL) and a.host in _hosts
                else a
                for a in record.args
            )
        return True


def redact_httpx_logs_for(*hosts: str) -> None:
    """Redact query strings of requests to ``hosts`` in httpx's log (installed once per process)."""
    global _installed  # noqa: PLW0603 - one filter per process, installed lazily
    with _lock:
        _hosts.update(hosts)
        if not _installed:
            logging.getLogger("httpx").addFilter(_QueryRedactingFilter())
            _installed = True
