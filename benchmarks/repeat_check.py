"""One file checked again and again in one process, as `migcheck lsp` does on every change.

    python benchmarks/repeat_check.py ROOT FILE [--runs N]

ROOT is the project root (its migcheck.toml is used), FILE a migration relative to it. Each run
passes the file's text plus a changed comment as the editor's buffer (``engine.check(...,
overlay=)``), so the checked file itself is parsed every time while its unchanged siblings can
come from the memo of ``migcheck.summaries``. Prints each run's wall time; the first run of a
process parses every sibling the cross-file rules need, the later ones show the per-keystroke cost.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from migcheck import config as cfgmod
from migcheck import engine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root")
    ap.add_argument("file")
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    root = Path(args.root).resolve()
    path = root / args.file
    cfg = cfgmod.load(None, root)
    text = path.read_bytes()
    times = []
    for i in range(max(args.runs, 2)):
        buf = text + f"\n-- edit {i}\n".encode()
        t = time.perf_counter()
        engine.check([str(path)], cfg, root, overlay={path: buf})
        times.append(time.perf_counter() - t)
    print("runs (ms):", " ".join(f"{x * 1000:.0f}" for x in times))
    print(
        f"first {times[0] * 1000:.0f} ms, later runs median {statistics.median(times[1:]) * 1000:.0f} ms, "
        f"min {min(times[1:]) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
