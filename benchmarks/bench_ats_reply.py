"""Whole-catalogue stock replies: memory and time of reading one, row by row against a tree.

One ``ProductAvailableToSell`` reply of N rows in the real installation's shape (about 120 bytes a
row), read by the codec (``decode_ats_reply``, which reads rows as the XML is parsed and drops
them from the tree) against a baseline in the same run: the same rows read from a whole parsed
tree (``defusedxml`` ``fromstring``, then each row), as the codec did before. Each is measured in
a fresh subprocess: peak RSS growth over the reply's size, and seconds. Linux only (VmHWM).

Environment: ``BENCH_ATS_ROWS`` (default 100,000: about 12 MB).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import gc, sys, time
sys.path.insert(0, sys.argv[3])
from defusedxml.ElementTree import fromstring
from ct_prima_sync.prima._xml import OmlinkCodec
from ct_prima_sync.prima._xml._orders import read_sku
from ct_prima_sync.prima._xml._tree import Names, Node
from ct_prima_sync.errors import PrimaProtocolError
from ct_prima_sync.prima import StockLevel
import real_replies

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) * 1024

def tree(text):
    root = Node(fromstring(text), Names(), PrimaProtocolError)
    return [
        StockLevel(sku=read_sku(row), available=row.integer("AvailableQuantity"),
                   available_date=row.date("AvailableDate", "%d/%m/%Y"))
        for data in root.children("Data") for row in data.children("sku")
    ]

text = real_replies.catalogue_sku_rows(int(sys.argv[2]))
read = OmlinkCodec().decode_ats_reply if sys.argv[1] == "stream" else tree
gc.collect()
open("/proc/self/clear_refs", "w").write("5")
before = hwm()
started = time.perf_counter()
rows = read(text)
print(len(text), len(rows), hwm() - before, time.perf_counter() - started)
"""


def _measure(kind: str, rows: int) -> tuple[int, int, int, float]:
    tests = Path(__file__).resolve().parent.parent / "tests" / "prima"
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", _SCRIPT, kind, str(rows), str(tests)],
        check=True,
        capture_output=True,
        text=True,
    )
    size, count, growth, seconds = done.stdout.split()
    return int(size), int(count), int(growth), float(seconds)


def main() -> None:
    """Print both readers' memory (times the reply's size) and time, and the ratios."""
    if not Path("/proc/self/clear_refs").exists():
        print("skipped: peak RSS is read from Linux's /proc")
        return
    rows = int(os.environ.get("BENCH_ATS_ROWS", "100000"))
    size, count, streamed, stream_s = _measure("stream", rows)
    _, _, whole, tree_s = _measure("tree", rows)
    print(f"reply: {size / 1e6:.1f} MB, {count} rows")
    print(
        f"row by row: peak RSS +{streamed / 1e6:.0f} MB ({streamed / size:.2f} x), {stream_s:.2f} s"
    )
    print(f"whole tree (baseline): +{whole / 1e6:.0f} MB ({whole / size:.2f} x), {tree_s:.2f} s")
    memory, duration = streamed / whole, stream_s / tree_s
    print(f"memory ratio row by row / tree: {memory:.2f}; time ratio: {duration:.2f}")


if __name__ == "__main__":
    main()
