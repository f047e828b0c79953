"""Two versions of migcheck, alternately, on the same corpus: is a change slower or faster?

    .venv/bin/python benchmarks/ab.py main HEAD                      # 3 runs of each case
    .venv/bin/python benchmarks/ab.py main HEAD --cases cold1 --runs 5

On a shared machine wall time drifts by tens of percent within minutes; running the two versions
in turn (A B B A ...) and comparing CPU time (user + system of the whole process tree, the pool's
workers included) as well as wall time is what makes a ratio mean something.

Cases, on the corpus of benchmarks/gen_corpus.py (--n 3500: 6,635 files) under $MIGCHECK_BENCH_DIR
(default /tmp/migcheck-ab):

- ``cold``: ``check --format json --no-cache`` of the directory (the process pool);
- ``cold1``: the same with ``--jobs 1``;
- ``warm``: the directory with the result cache filled;
- ``one``: one ~2 KB migration, ``--no-cache``, in the big directory;
- ``newfile``: the first check (cache on) of a new migration in the big directory, as pre-commit
  runs one.

Each version runs from a ``git archive`` of its ``src/migcheck`` with this interpreter (pglast and
click from the project's venv).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(os.environ.get("MIGCHECK_BENCH_DIR", "/tmp/migcheck-ab"))
CASES = ("cold", "cold1", "warm", "one", "newfile")


def snapshot(ref: str, tag: str) -> dict:
    dest = BENCH / tag
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "src/migcheck"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(dest), "--strip-components=1"], input=archive.stdout, check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        PYTHONPATH=str(dest),
        PYTHONPYCACHEPREFIX=str(BENCH / f"pycache-{tag}"),
        MIGCHECK_CACHE_DIR=str(BENCH / f"cache-{tag}"),
    )
    shutil.rmtree(BENCH / f"cache-{tag}", ignore_errors=True)
    return env


def run(env: dict, args: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process tree)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "migcheck", *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode not in (0, 1):
        raise SystemExit(f"migcheck {' '.join(args)} exited {r.returncode}: {r.stderr.decode()[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", help="the git ref to compare against (e.g. main)")
    ap.add_argument("new", help="the git ref to measure (e.g. HEAD)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    ap.add_argument("--n", type=int, default=3500, help="migrations in the corpus")
    args = ap.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    corpus = BENCH / f"corpus-{args.n}"
    if not (corpus / "migrations").is_dir():
        subprocess.run(
            [sys.executable, str(REPO / "benchmarks" / "gen_corpus.py"), str(corpus), "--n", str(args.n)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    envs = {"base": snapshot(args.base, "base"), "new": snapshot(args.new, "new")}
    mdir = corpus / "migrations"
    one = min((p for p in mdir.glob("*.sql")), key=lambda p: abs(p.stat().st_size - 2048)).name
    for env in envs.values():  # compile once, fill the caches for "warm" and "newfile"
        run(env, ["check", "--format", "json", "migrations"], corpus)
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    serial = 0
    for i in range(args.runs):
        for tag in ("base", "new") if i % 2 == 0 else ("new", "base"):
            env = envs[tag]
            for case in cases:
                if case == "cold":
                    got = run(env, ["check", "--format", "json", "--no-cache", "migrations"], corpus)
                elif case == "cold1":
                    got = run(env, ["check", "--format", "json", "--no-cache", "--jobs", "1", "migrations"], corpus)
                elif case == "warm":
                    got = run(env, ["check", "--format", "json", "migrations"], corpus)
                elif case == "one":
                    got = run(env, ["check", "--no-cache", f"migrations/{one}"], corpus)
                elif case == "newfile":
                    serial += 1
                    new = mdir / f"99991231_{serial:03d}_bench_new_file.sql"
                    new.write_text(
                        f"BEGIN;\nALTER TABLE accounts ADD COLUMN IF NOT EXISTS c{serial} int;\n"
                        "ALTER TABLE accounts ALTER COLUMN c1 TYPE bigint;\nCOMMIT;\n"
                    )
                    try:
                        got = run(env, ["check", "--format", "json", f"migrations/{new.name}"], corpus)
                    finally:
                        new.unlink()
                else:
                    raise SystemExit(f"unknown case {case}")
                results.setdefault((case, tag), []).append(got)
    print(
        f"{args.base} (base) against {args.new} (new), {args.runs} runs each, alternating; load average "
        f"{os.getloadavg()[0]:.1f} at the end\n"
    )
    print("| case | wall base | wall new | wall new/base | CPU base | CPU new | CPU new/base |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for case in cases:
        b, n = results[(case, "base")], results[(case, "new")]
        wb, wn = statistics.median(x for x, _ in b), statistics.median(x for x, _ in n)
        cb, cn = statistics.median(y for _, y in b), statistics.median(y for _, y in n)
        print(f"| {case} | {wb:.2f} s | {wn:.2f} s | {wn / wb:.2f}x | {cb:.2f} s | {cn:.2f} s | {cn / cb:.2f}x |")


if __name__ == "__main__":
    main()
