"""``import ct_prima_sync.mapping`` is what an iPaaS code step pays on a cold start: it must not
load httpx, the HTTP clients or the engine (benchmarks/bench_import.py measures the time)."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = "import json, sys, ct_prima_sync.mapping; print(json.dumps(sorted(sys.modules)))"


def _loaded_by(code: str) -> set[str]:
    out = subprocess.run(  # noqa: S603 (our own interpreter, fixed code)
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    return set(json.loads(out.stdout))


def test_importing_the_mapping_loads_neither_httpx_nor_the_clients_nor_the_engine() -> None:
    loaded = _loaded_by(CODE)

    assert "httpx" not in loaded
    assert not {m for m in loaded if m.startswith(("httpx.", "httpcore", "ct_prima_sync.engine"))}
    assert "ct_prima_sync.commercetools._client" not in loaded
    assert "ct_prima_sync.prima._client" not in loaded


def test_the_clients_still_load_from_their_packages_when_used() -> None:
    loaded = _loaded_by(
        "import json, sys\n"
        "from ct_prima_sync.commercetools import CommercetoolsClient\n"
        "from ct_prima_sync.prima import OmlinkClient\n"
        "print(json.dumps(sorted(sys.modules)))"
    )

    assert {"httpx", "ct_prima_sync.commercetools._client", "ct_prima_sync.prima._client"} <= loaded
