"""Long fuzz session: run each property of tests/fuzz for a wall-time budget, report inputs and crashes.

    python benchmarks/fuzz_long.py                 # default budgets, about 12 minutes in all
    python benchmarks/fuzz_long.py --minutes 30    # scale every budget to 30 minutes in all
    python benchmarks/fuzz_long.py --only mutated  # one property

Each property runs in its own ``pytest --hypothesis-profile=long -x`` process under ``nice`` (other
work keeps the CPUs), stopped with SIGINT when its budget is spent. The examples each one tried
are counted by tests/fuzz/conftest.py (``$MIGCHECK_FUZZ_COUNT``). A property that fails stops
early: pytest prints hypothesis's shrunk reproducer; add it to tests/fuzz/test_regressions.py.
Exit status: 0 when no property failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (counter name, pytest node id, share of the total time)
PROPERTIES = [
    ("mutated", "tests/fuzz/test_fuzz_pipeline.py::test_mutated_fixtures", 0.35),
    ("sqlish", "tests/fuzz/test_fuzz_pipeline.py::test_sqlish_text", 0.30),
    ("arbitrary", "tests/fuzz/test_fuzz_pipeline.py::test_arbitrary_bytes", 0.15),
    ("split", "tests/fuzz/test_split_differential.py::test_split_agrees_on_spliced_statements", 0.10),
    ("nested", "tests/fuzz/test_fuzz_pipeline.py::test_deep_nesting", 0.10),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=12.0, help="total wall time (default 12)")
    ap.add_argument(
        "--only", action="append", choices=[p[0] for p in PROPERTIES], help="run only this property (repeatable)"
    )
    args = ap.parse_args(argv)
    chosen = [p for p in PROPERTIES if not args.only or p[0] in args.only]
    share = sum(p[2] for p in chosen)
    results = []
    for name, node, part in chosen:
        budget = args.minutes * 60 * part / share
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
            count_file = fh.name
        env = dict(os.environ, MIGCHECK_FUZZ_COUNT=count_file)
        cmd = [
            "nice",
            "-n",
            "10",
            "timeout",
            "-s",
            "INT",
            "-k",
            "120",
            f"{budget:.0f}",
            sys.executable,
            "-u",
            "-m",
            "pytest",
            node,
            "--hypothesis-profile=long",
            "-x",
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        print(f"== {name}: {budget / 60:.1f} min", flush=True)
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        elapsed = time.monotonic() - start
        try:
            count = json.loads(Path(count_file).read_text(encoding="utf-8") or "{}").get(name, 0)
        except (OSError, ValueError):
            count = 0
        Path(count_file).unlink(missing_ok=True)
        # timeout's status: 124 stopped by its budget; 137 or -9 killed (did not stop within a minute
        # of SIGINT); pytest's: 0 hypothesis ran out of examples, 1 a property failed
        killed = proc.returncode in (137, -9)
        failed = (
            (proc.returncode not in (0, 124) and not killed) or " failed" in proc.stdout or "Falsifying" in proc.stdout
        )
        status = "FAILED" if failed else "killed after SIGINT (no result)" if killed else "no failure"
        results.append(
            {
                "property": name,
                "seconds": round(elapsed),
                "inputs": count,
                "failed": failed,
                "status": status,
                "exit": proc.returncode,
            }
        )
        print(f"   {count} inputs in {elapsed:.0f} s, {status}", flush=True)
        if failed:
            print(proc.stdout[-6000:], proc.stderr[-2000:], sep="\n", flush=True)
    total = sum(r["inputs"] for r in results)
    print(
        json.dumps(
            {"total_inputs": total, "total_seconds": sum(r["seconds"] for r in results), "properties": results},
            indent=2,
        )
    )
    return 1 if any(r["failed"] or r["status"] != "no failure" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
