"""migcheck against squawk (Rust), sqlfluff and pgrubic: a generated corpus and real repositories (issues 14, 22).

    .venv/bin/python benchmarks/run.py                     # both modes below, 3 runs each
    .venv/bin/python benchmarks/run.py --mode repos --only LemmyNet/lemmy,supabase/storage
    .venv/bin/python benchmarks/run.py --n 5300 --runs 1 --no-peers     # memory at 10,048 files (the target: 10,000)
    .venv/bin/python benchmarks/run.py --n 10000 --runs 1 --no-peers    # 10,000 migrations: 19,005 files
    .venv/bin/python benchmarks/run.py --peer-sample 500   # sqlfluff/pgrubic on the first 500 files only

What it does, whole-corpus mode (``--mode corpus``):

- generates the corpus with benchmarks/gen_corpus.py (seed 1) under /tmp/migcheck-bench/ unless it
  exists;
- installs the peers into benchmark venvs under /tmp, never into the project's venv:
  /tmp/migcheck-bench/venv311 (``squawk-cli``, ``sqlfluff``) with this interpreter and
  /tmp/migcheck-bench/venv312 (``pgrubic``, which needs Python 3.12) with the first Python 3.12
  found (``$BENCH_PY312``, ``python3.12`` on PATH, or pyenv's);
- runs migcheck from a snapshot of ``src/migcheck`` (copied to /tmp, byte-compiled once, as an
  installed package is), so other work in the tree cannot change it mid-run and the cache's code
  key is stable; the project's venv provides pglast and click;
- runs every tool several times, alternating (A B C A B C ...), and prints min/median wall time,
  peak RSS (the largest process of the run's process tree) and the ratio to migcheck;
- one changed file: a warm run after one migration of the corpus was edited (a new comment line,
  different on every run), the pre-commit and editor case in a 3,500-migration directory;
- the one-file case: ``python -c pass``, ``python -c "import pglast"``, ``migcheck check one.sql``
  (cold: ``--no-cache``; warm: cached) and squawk on the same file, for a file of the corpus
  (6,634 siblings) and for one of ``examples/migrations`` (a small project: the one-file target);
- the ratios "like for like": squawk's default output prints a code frame for every finding
  (17 MB on the default corpus) and costs it about 0.6 s more than its JSON, so migcheck's JSON is
  compared with squawk's JSON and migcheck's default text with squawk's default.

Per-repository mode (``--mode repos``): every repository of benchmarks/realworld.toml (the real-world
evaluation's table: owner/name, pinned commit, migration directories), exported from its bare git
mirror by ``realworld.export``, checked as a user runs it: ``migcheck check --format json
<directories>`` from the export's root, no configuration (the layout detected), cold (``--no-cache``)
and warm, against ``squawk --reporter json`` on the same ``.sql`` files; alternating, per
repository and summed.

Output identity (issue 22), both modes, before timing: the corpus's and each repository's output is
compared byte for byte across ``--no-cache``, ``--no-cache --jobs 1``, the run that fills the cache
(the pool, from 200 files) and the warm runs (per-file results, then the one kept answer); with
``--against REF`` (e.g. ``main``) also with the output of REF's ``src/migcheck`` (``git archive``,
its own cache directory), ``--no-cache``.

Exit codes of the linters are ignored (the corpus has planted flaws); a run that fails to start
is reported.
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(os.environ.get("MIGCHECK_BENCH_DIR", "/tmp/migcheck-bench"))

# Runs the command given in argv, then prints its wall time and the peak RSS (KB) of the largest
# process in its tree (RUSAGE_CHILDREN covers every reaped descendant).
_WRAP = r"""
import resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
dt = time.perf_counter() - t
if r.returncode not in (0, 1):
    sys.stderr.write(r.stderr.decode(errors="replace")[-2000:])
print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)
"""


def sh(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def venv(path: Path, python: str, packages: list[str]) -> Path:
    bindir = path / "bin"
    if not (bindir / "python").exists():
        sh(python, "-m", "venv", path)
    missing = [p for p in packages if not (bindir / p.split("-cli")[0].split("==")[0]).exists()]
    if missing:
        sh(bindir / "python", "-m", "pip", "install", "-q", *packages, stdout=subprocess.DEVNULL)
    return bindir


def python312() -> str | None:
    cands = [
        os.environ.get("BENCH_PY312"),
        *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python"))),
        shutil.which("python3.12"),
    ]
    for c in cands:  # a pyenv shim may exist without a configured 3.12: try each
        if (
            c
            and subprocess.run(
                [c, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"], capture_output=True
            ).returncode
            == 0
        ):
            return c
    return None


def snapshot(ref: str | None = None) -> tuple[Path, dict]:
    """A byte-compiled copy of ``src/migcheck`` (the work tree's, or git ``ref``'s) and the
    environment that runs it."""
    snap = BENCH / ("migcheck-src" if ref is None else "migcheck-ref")
    if snap.exists():
        shutil.rmtree(snap)
    snap.mkdir(parents=True)
    if ref is None:
        shutil.copytree(REPO / "src" / "migcheck", snap / "migcheck", ignore=shutil.ignore_patterns("__pycache__"))
    else:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", ref, "src/migcheck"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "--strip-components=1", "-C", str(snap)], input=archive, check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(snap)
    env["PYTHONPYCACHEPREFIX"] = str(BENCH / ("pycache" if ref is None else "pycache-ref"))
    env["MIGCHECK_CACHE_DIR"] = str(BENCH / ("cache" if ref is None else "cache-ref"))
    sh(sys.executable, "-m", "compileall", "-q", snap / "migcheck", env=env)
    return snap, env


def same_every_way(label: str, mig: list, env: dict, cwd: Path, against: dict | None, mismatches: list[str]) -> None:
    """Issue 22's done-when: the output of ``mig`` is the same bytes whatever the path through the
    engine (``--no-cache``, ``--jobs 1``, the run that fills an empty cache, the warm runs: per-file
    results, then the kept answer) and, with ``--against REF`` (``against``: its environment), the
    same as REF's code gives (``--no-cache``). A difference is added to ``mismatches``."""
    shutil.rmtree(env["MIGCHECK_CACHE_DIR"], ignore_errors=True)
    cold = [*mig, "--no-cache"]
    outs = {
        "--no-cache": _output(cold, env, cwd),
        "--no-cache --jobs 1": _output([*cold, "--jobs", "1"], env, cwd),
        "filling the cache": _output(mig, env, cwd),
        "warm (per-file results)": _output(mig, env, cwd),
        "warm (one answer)": _output(mig, env, cwd),
    }
    if against is not None:
        outs["before (--against, --no-cache)"] = _output(cold, against, cwd)
    if len(set(outs.values())) != 1:
        mismatches.append(f"{label}: " + ", ".join(f"{k} {len(v)} bytes" for k, v in outs.items()))


def measure(cmd: list, env: dict, cwd: Path) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, "-c", _WRAP, *map(str, cmd)], env=env, cwd=cwd, capture_output=True, text=True
    )
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"{cmd[0]} failed: {out.stderr[-2000:]}")
    dt, rss, code = out.stdout.split()
    if int(code) not in (0, 1):
        print(f"  warning: {' '.join(map(str, cmd))[:80]} exited {code}: {out.stderr.strip()[-300:]}", file=sys.stderr)
    return float(dt), int(rss)


def table(title: str, rows: list[tuple[str, list[tuple[float, int]]]], ref: str) -> str:
    stats = {
        name: (min(t for t, _ in s), statistics.median(t for t, _ in s), max(r for _, r in s), len(s))
        for name, s in rows
        if s
    }
    base = stats[ref][1]
    lines = [
        f"### {title}",
        "",
        "| tool | runs | min wall | median wall | peak RSS | median / migcheck |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, (mn, med, rss, n) in stats.items():
        lines.append(
            f"| {name} | {n} | {mn * 1000:.0f} ms | {med * 1000:.0f} ms | {rss / 1024:.0f} MB | {med / base:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def one_file_table(title: str, cwd: Path, one: str, env: dict, runs: int, squawk: Path) -> str:
    """``python -c pass``, ``import pglast``, migcheck cold and warm, and squawk on one file of ``cwd``."""
    py = sys.executable
    single = [
        ("python -c pass", [py, "-c", "pass"]),
        ('python -c "import pglast"', [py, "-c", "import pglast"]),
        ("migcheck check one.sql --no-cache", [py, "-m", "migcheck", "check", "--no-cache", one]),
        ("migcheck check one.sql (warm cache)", [py, "-m", "migcheck", "check", one]),
        ("squawk one.sql", [squawk, one]),
    ]
    measure(single[3][1], env, cwd)
    res: dict[str, list] = {name: [] for name, _ in single}
    for _ in range(runs):
        for name, cmd in single:
            res[name].append(measure(cmd, env, cwd))
    floor = min(t for t, _ in res['python -c "import pglast"'])
    text = table(title, list(res.items()), "migcheck check one.sql --no-cache")
    mins = {name: min(t for t, _ in r) for name, r in res.items()}
    return (
        text
        + "".join(
            f"- {name} / `import pglast` (min / min): {mins[name] / floor:.2f}x\n"
            for name in ("migcheck check one.sql --no-cache", "migcheck check one.sql (warm cache)")
        )
        + "\n"
    )


def corpus_mode(args, env: dict, bin311: Path) -> None:
    corpus = BENCH / f"corpus-{args.n}"
    if not (corpus / "migrations").is_dir():
        sh(sys.executable, REPO / "benchmarks" / "gen_corpus.py", corpus, "--n", args.n)
    files = sorted(str(p.relative_to(corpus)) for p in (corpus / "migrations").rglob("*.sql"))
    py = sys.executable
    mig = [py, "-m", "migcheck", "check", "--format", "json"]

    squawk = [bin311 / "squawk", *files]
    # one changed file: a migration of the corpus gets a new comment line before each such run
    migrations = [f for f in files if "rollback" not in f]
    edited = corpus / migrations[len(migrations) // 2]
    original = edited.read_bytes()
    edits = iter(range(1 << 30))

    def edit() -> None:
        edited.write_bytes(original + f"\n-- benchmark edit {next(edits)}\n".encode())

    tools: list[tuple[str, list, object]] = [
        ("migcheck --no-cache", [*mig, "--no-cache"], None),
        ("migcheck --no-cache --jobs 1", [*mig, "--no-cache", "--jobs", "1"], None),
        ("migcheck (warm cache)", mig, None),
        ("migcheck (warm cache, text output)", mig[:4], None),
        ("migcheck (warm cache, one file changed)", mig, edit),
        ("squawk", squawk, None),
        ("squawk --reporter json", [squawk[0], "--reporter", "json", *files], None),
    ]
    identity: list[str] = []
    same_every_way("corpus", mig, env, corpus, args.against_env, identity)
    try:
        measure(mig, env, corpus)  # fills the cache for the warm runs; compiles nothing (done above)
        measure(mig, env, corpus)  # (a pool run keeps no whole answer: this in-process one does)
        measure(mig[:4], env, corpus)
        results: dict[str, list] = {name: [] for name, _, _ in tools}
        for _ in range(args.runs):
            for name, cmd, before in tools:
                if before is not None:
                    before()
                results[name].append(measure(cmd, env, corpus))
                if before is not None:  # back as it was, and the cache warm again for the next tools
                    edited.write_bytes(original)
                    time.sleep(2.1)  # (an answer is kept only once its inputs are older than the racy window)
                    measure(mig, env, corpus)
                    measure(mig[:4], env, corpus)
    finally:
        edited.write_bytes(original)
    peers: dict[str, list] = {}
    scale = 1.0
    if not args.no_peers:
        sample = files[: args.peer_sample] if args.peer_sample else files
        scale = len(files) / len(sample)
        peer_dir = Path(tempfile.mkdtemp(prefix="peer-", dir=BENCH))
        for rel in sample:
            (peer_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(corpus / rel, peer_dir / rel)
        peer_cmds = [
            (
                "sqlfluff --processes 2",
                [bin311 / "sqlfluff", "lint", "--dialect", "postgres", "--processes", "2", "--nofail", "migrations"],
            )
        ]
        p312 = python312()
        if p312:
            bin312 = venv(BENCH / "venv312", p312, ["pgrubic"])
            peer_cmds.append(("pgrubic", [bin312 / "pgrubic", "lint", "migrations"]))
        else:
            print("no Python 3.12 found: pgrubic skipped (set BENCH_PY312)", file=sys.stderr)
        for _ in range(args.peer_runs):
            for name, cmd in peer_cmds:
                dt, rss = measure(cmd, env, peer_dir)
                peers.setdefault(name, []).append((dt * scale, rss))
        shutil.rmtree(peer_dir, ignore_errors=True)

    # one file: a ~2 KB migration from the corpus
    sizes = sorted((abs((corpus / f).stat().st_size - 2048), f) for f in files if "rollback" not in f)
    one = sizes[0][1]
    runs1 = max(args.runs * 3, 5)
    corpus_one = one_file_table(
        f"One file of the corpus ({one}, {len(files) - 1} siblings)", corpus, one, env, runs1, bin311 / "squawk"
    )
    example = "migrations/20251022_001_add_lead_status.sql"
    small_one = one_file_table(
        f"One file of a small project (examples/{example})", REPO / "examples", example, env, runs1, bin311 / "squawk"
    )

    total = sum((corpus / f).stat().st_size for f in files)
    print(
        f"## {platform.node()}: {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at the end\n"
    )
    print(
        f"Corpus: {corpus} ({len(files)} files, {total / 1e6:.1f} MB); one file: {one} "
        f"({(corpus / one).stat().st_size} bytes)\n"
    )
    print(table("Many files", [*results.items(), *peers.items()], "migcheck --no-cache"))
    med = {name: statistics.median(t for t, _ in runs) for name, runs in results.items()}
    # the same output on both sides: squawk's default (tty) output prints a code frame per finding
    # (17 MB here), its JSON does not; migcheck's default is text, and JSON in the table above
    print("Like for like (median / median):\n")
    for mine, theirs in (
        ("migcheck --no-cache", "squawk --reporter json"),
        ("migcheck (warm cache)", "squawk --reporter json"),
        ("migcheck (warm cache, one file changed)", "squawk --reporter json"),
        ("migcheck (warm cache, text output)", "squawk"),
    ):
        print(f"- {mine} / {theirs}: {med[mine] / med[theirs]:.2f}x")
    print()
    if scale != 1.0:
        print(f"(sqlfluff and pgrubic ran on {args.peer_sample} files; their times are scaled by {scale:.1f})\n")
    print(corpus_one)
    print(small_one)
    print(identity_note(identity, args, "the corpus"))


def identity_note(mismatches: list[str], args, what: str) -> str:
    paths = "--no-cache, --no-cache --jobs 1, the run that fills the cache (the pool) and the warm runs"
    before = f", and the same as {args.against}'s" if args.against else ""
    if mismatches:
        return "OUTPUT DIFFERS:\n" + "\n".join(f"- {m}" for m in mismatches) + "\n"
    return f"Output byte-identical across {paths}{before}, {what}.\n"


def _output(cmd: list, env: dict, cwd: Path) -> bytes:
    return subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True).stdout


def repos_mode(args, env: dict, bin311: Path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import realworld  # the real-world evaluation's table and exports (benchmarks/realworld.py)
    except ImportError:
        sys.exit("run.py --mode repos needs benchmarks/realworld.py and realworld.toml (the real-world evaluation)")
    repos = realworld.load_table(realworld.TABLE, args.only.split(",") if args.only else None)
    work = BENCH / "repos"
    py = sys.executable
    rows: list[tuple[str, int, dict[str, list]]] = []
    mismatches: list[str] = []
    for repo in repos:
        try:
            root = realworld.export(repo, work)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"  {repo['name']}: skipped ({exc})", file=sys.stderr)
            continue
        files = sorted(str(p.relative_to(root)) for d in repo["paths"] for p in (root / d).rglob("*.sql"))
        mig = [py, "-m", "migcheck", "check", "--format", "json", *repo["paths"]]
        same_every_way(repo["name"], mig, env, root, args.against_env, mismatches)
        tools = [
            ("migcheck --no-cache", [*mig, "--no-cache"]),
            ("migcheck (warm cache)", mig),
            ("squawk --reporter json", [bin311 / "squawk", "--reporter", "json", *files]),
        ]
        res: dict[str, list] = {name: [] for name, _ in tools}
        for _ in range(args.runs):
            for name, cmd in tools:
                res[name].append(measure(cmd, env, root))
        rows.append((repo["name"], len(files), res))
    print(f"## Per repository ({len(rows)} repositories; load average {os.getloadavg()[0]:.1f} at the end)\n")
    print(
        "Each as a user runs it: `migcheck check --format json <its directories>`, no configuration (layout "
        "detected); squawk on the same .sql files. Median wall time (min in brackets).\n"
    )
    names = ["migcheck --no-cache", "migcheck (warm cache)", "squawk --reporter json"]
    print("| repository | files | " + " | ".join(names) + " | cold / squawk | warm / squawk |")
    print("| --- | --- | " + " | ".join("---" for _ in names) + " | --- | --- |")
    sums = {n: 0.0 for n in names}
    worst = {"cold": 0.0, "warm": 0.0}
    for name, n, res in rows:
        med = {k: statistics.median(t for t, _ in v) for k, v in res.items()}
        mn = {k: min(t for t, _ in v) for k, v in res.items()}
        for k in names:
            sums[k] += med[k]
        cold, warm = med[names[0]] / med[names[2]], med[names[1]] / med[names[2]]
        worst["cold"], worst["warm"] = max(worst["cold"], cold), max(worst["warm"], warm)
        cells = " | ".join(f"{med[k] * 1000:.0f} ms ({mn[k] * 1000:.0f})" for k in names)
        print(f"| {name} | {n} | {cells} | {cold:.2f}x | {warm:.2f}x |")
    total_files = sum(n for _, n, _ in rows)
    if rows:
        cells = " | ".join(f"{sums[k] * 1000:.0f} ms" for k in names)
        print(
            f"| all (sum of medians) | {total_files} | {cells} | {sums[names[0]] / sums[names[2]]:.2f}x | "
            f"{sums[names[1]] / sums[names[2]]:.2f}x |"
        )
        print(f"\nWorst repository: cold {worst['cold']:.2f}x, warm {worst['warm']:.2f}x squawk.\n")
    print(identity_note(mismatches, args, "every repository"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--mode",
        choices=("corpus", "repos", "both"),
        default="both",
        help="the generated corpus, the real repositories, or both (default)",
    )
    ap.add_argument("--n", type=int, default=3500, help="migrations in the corpus (default 3500)")
    ap.add_argument("--runs", type=int, default=3, help="runs of migcheck and squawk (default 3)")
    ap.add_argument("--only", help="repositories of realworld.toml to run (owner/name,...; default all)")
    ap.add_argument("--peer-runs", type=int, default=1, help="runs of sqlfluff and pgrubic (default 1: they are slow)")
    ap.add_argument(
        "--peer-sample",
        type=int,
        default=0,
        help="give sqlfluff and pgrubic only the first N files and scale their time to the corpus (0: all files)",
    )
    ap.add_argument("--no-peers", action="store_true", help="skip sqlfluff and pgrubic")
    ap.add_argument(
        "--against",
        metavar="REF",
        help="also require the output (--no-cache) to be byte-identical to git REF's code (e.g. main)",
    )
    args = ap.parse_args()

    args.against_env = None
    if args.against:
        _, args.against_env = snapshot(args.against)
    snap, env = snapshot()
    bin311 = venv(BENCH / "venv311", sys.executable, ["squawk-cli"] if args.no_peers else ["squawk-cli", "sqlfluff"])
    if args.mode in ("corpus", "both"):
        corpus_mode(args, env, bin311)
    if args.mode in ("repos", "both"):
        repos_mode(args, env, bin311)


if __name__ == "__main__":
    main()
