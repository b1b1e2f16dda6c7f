"""``python -m ct_prima_sync.cli``: the same as the ``ct-prima-sync`` command."""

from . import main

raise SystemExit(main())
