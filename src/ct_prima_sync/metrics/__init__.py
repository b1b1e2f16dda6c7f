"""Prometheus metrics for ct-prima-sync, from the state store (the ``metrics`` extra:
``pip install 'ct-prima-sync[metrics]'``).

Every value is read from the store when it is collected (each flow's runs and cumulative counts,
the ledger, the exception queue), so a scrape says the same whichever worker or cron job did the
work, and a textfile written after a run is as true as the HTTP endpoint:

- :func:`write_textfile`: for cron jobs; node exporter's textfile collector scrapes the file
  (``ct-prima-sync run`` writes it when ``[metrics] textfile`` is set).
- :func:`serve_metrics`: an HTTP endpoint for long-running hosts (``ct-prima-sync metrics``).
- :class:`StoreCollector`: register it in a host's own registry.

The metric names and labels are listed in docs/monitoring.md.
"""

from ._collector import METRIC_PREFIX, StoreCollector, metric_families, registry_for
from ._expose import serve_metrics, write_textfile

__all__ = [
    "METRIC_PREFIX",
    "StoreCollector",
    "metric_families",
    "registry_for",
    "serve_metrics",
    "write_textfile",
]
