"""migcheck on public repositories' migrations, as a new user runs it (issue 21's evaluation).

    python benchmarks/realworld.py                                   # every repository, a table
    python benchmarks/realworld.py --only ory/kratos,LemmyNet/lemmy  # some of them
    python benchmarks/realworld.py --out /tmp/rw.json                # keep every finding for later
    python benchmarks/realworld.py --results /tmp/rw.json --sample 160 --seed 21
    python benchmarks/realworld.py --results /tmp/rw.json --sample 50 --rules require-concurrent-reindex
    python benchmarks/realworld.py --results /tmp/rw.json --markdown --labels benchmarks/realworld-labels.toml
    python benchmarks/realworld.py --results /tmp/new.json --baseline /tmp/old.json   # what changed
    python benchmarks/realworld.py --migcheck /other/worktree/.venv/bin/migcheck     # another build

What it does:

- reads the repositories from benchmarks/realworld.toml (owner/name, pinned commit, the
  directories to check, the runner the project uses, the matching preset);
- exports each repository's directories at its commit from a bare git mirror
  (``$MIGCHECK_MIRROR``, default /work/.mirror, ``<owner>+<name>/repo``) into a work directory
  (``--work``, default /tmp/migcheck-realworld), never into this repository; the files directly in
  each directory above them come too (``Cargo.toml``, ``diesel.toml``, ``sqitch.plan``,
  ``migration_lock.toml``, ...), since a checkout has them and layout detection reads them;
- runs ``migcheck check --format json --no-cache <dirs>`` from the export's root with no
  configuration of ours, as a new user would (``--with-preset`` names the expected preset instead);
- prints per repository: files, the preset detected (the stderr detection line), findings per
  rule and severity, parse errors, the exit code, the wall time and the CPU time of migcheck's
  processes (steadier than wall time on a shared machine); ``--out`` writes all of it,
  every finding included, as JSON;
- ``--sample N --seed S`` prints a reproducible sample of findings for labelling by hand: spread
  over the repositories (round robin, in a seeded order) and within each over its rules (round
  robin, a seeded random finding of each), with file:line, the statement's text and the message.
  Labels live in a TOML file (``--labels``), keyed on repository, path, line and rule;
  ``--markdown`` prints the tables docs/real-world.md holds, the labelled sample included.

It runs any migcheck: ``--migcheck CMD`` (default: ``migcheck`` beside this interpreter, else on
PATH), so two branches can be compared on the same exports. Exit status: 0, or 2 when a
repository could not be exported or migcheck exited 2 (an internal or usage error).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import resource
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
TABLE = HERE / "realworld.toml"
MIRROR = Path(os.environ.get("MIGCHECK_MIRROR", "/work/.mirror"))
WORK = Path(os.environ.get("MIGCHECK_REALWORLD_DIR", "/tmp/migcheck-realworld"))
ANCESTOR_MAX = 1 << 20  # files above the migration directories larger than this are not exported
EXCERPT_LINES = 14
LABELS = ("true", "false", "debatable")

# Patterns of findings read as false in the labelled sample, counted over all findings with
# --categories: (name, repositories ("*" for all), rules (empty for all), path regex, message regex).
# Read in order; a finding counts in the first category it matches.
CATEGORIES = [
    (
        "popx: a file of another database (.cockroach/.mysql/.sqlite)",
        ("ory/hydra", "ory/keto", "ory/kratos"),
        (),
        r"\.(cockroach|mysql|sqlite3?)(\.autocommit)?\.(up|down)\.sql$",
        "",
    ),
    (
        "popx: duplicate-version of a dialect-neutral file and its .postgres. variant",
        ("ory/hydra", "ory/keto", "ory/kratos"),
        ("duplicate-version",),
        "",
        "",
    ),
    ("pop: Go template placeholders (parse-error)", ("supabase/auth",), ("parse-error",), "", ""),
    (
        "optional downs: one finding per file in a directory without any",
        ("supabase/auth", "goharbor/harbor", "supabase/postgres"),
        ("missing-rollback-file", "empty-rollback"),
        "",
        r"^(?!.*once for the directory)",
    ),
    (
        "sqitch: SQL files outside deploy/ and revert/ (test/, queries/, perf/)",
        ("BeeeOn/server-db",),
        (),
        r"^pgsql/(?!deploy/|revert/)",
        "",
    ),
    (
        "Prisma: guideline rules",
        ("documenso/documenso",),
        (
            "file-naming",
            "missing-header",
            "missing-transaction",
            "missing-if-exists",
            "missing-if-not-exists",
            "changelog-missing",
            "rls-disabled",
            "mixed-changes",
        ),
        "",
        "",
    ),
    ("mixed-changes under a runner's layout", ("*",), ("mixed-changes",), "", ""),
    (
        "maragudk read as golang-migrate: `_up.sql`/`_down.sql` names, several files per number",
        ("harness/harness",),
        ("file-naming", "duplicate-version"),
        "",
        "",
    ),
]


def load_table(path: Path, only: list[str] | None) -> list[dict]:
    repos = tomllib.loads(path.read_text())["repo"]
    if only:
        unknown = set(only) - {r["name"] for r in repos}
        if unknown:
            sys.exit(f"realworld: not in {path}: {', '.join(sorted(unknown))}")
        repos = [r for r in repos if r["name"] in only]
    return repos


def git_dir(name: str) -> Path:
    base = MIRROR / name.replace("/", "+") / "repo"
    return base / ".git" if (base / ".git").is_dir() else base


def git(gd: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["git", f"--git-dir={gd}", *args], check=True, capture_output=True, **kw)


def export(repo: dict, work: Path) -> Path:
    """The repository's directories at its commit under ``work`` (once; reused afterwards)."""
    dest = work / f"{repo['name'].replace('/', '+')}@{repo['commit'][:12]}"
    done = dest / ".realworld-exported"
    if done.exists():
        return dest
    gd = git_dir(repo["name"])
    if not gd.is_dir():
        raise RuntimeError(f"no mirror at {gd}: fetch {repo['name']} first")
    wanted = list(repo["paths"])
    parents = {str(a) for p in repo["paths"] for a in Path(p).parents}
    for parent in sorted(parents):
        spec = [] if parent == "." else [parent.rstrip("/") + "/"]
        out = git(gd, "ls-tree", "-l", repo["commit"], *spec).stdout.decode()
        for line in out.splitlines():
            meta, path = line.split("\t", 1)
            _mode, kind, _sha, size = meta.split()
            if kind == "blob" and size != "-" and int(size) <= ANCESTOR_MAX:
                wanted.append(path)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", f"--git-dir={gd}", "archive", repo["commit"], "--", *wanted],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    tar = subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, capture_output=True)
    archive.stdout.close()
    err = archive.stderr.read().decode()
    if archive.wait() != 0 or tar.returncode != 0:
        raise RuntimeError(f"git archive of {repo['name']} failed: {err.strip() or tar.stderr.decode()}")
    done.write_text(repo["commit"] + "\n")
    return dest


def migcheck_command(given: str | None) -> list[str]:
    if given:
        return shlex.split(given)
    beside = Path(sys.executable).with_name("migcheck")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("migcheck")
    return [found] if found else [sys.executable, "-m", "migcheck"]


def detected_preset(stderr: str) -> str:
    """The preset named by the detection line (``--preset NAME``), or ""."""
    for line in stderr.splitlines():
        if line.startswith("migcheck: detected") and "--preset " in line:
            return line.split("--preset ", 1)[1].split()[0].rstrip(",")
    return ""


def run(repo: dict, root: Path, cmd: list[str], with_preset: bool) -> dict:
    args = [*cmd, "check", "--format", "json", "--no-cache"]
    if with_preset and repo.get("preset"):
        args += ["--preset", repo["preset"]]
    args += repo["paths"]
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("MIGCHECK_CACHE_DIR", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(args, cwd=root, capture_output=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stderr = proc.stderr.decode(errors="replace")
    res = {
        "name": repo["name"],
        "commit": repo["commit"],
        "runner": repo["runner"],
        "preset": repo.get("preset", ""),
        "paths": repo["paths"],
        "note": repo.get("note", ""),
        "exit": proc.returncode,
        "wall": round(wall, 2),
        "cpu": round(cpu, 2),
        "stderr": stderr.strip(),
        "detected": detected_preset(stderr),
        "named_preset": bool(with_preset and repo.get("preset")),
    }
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        res["error"] = (stderr.strip().splitlines() or ["no JSON on stdout"])[-1]
        res.update(findings=[], summary={}, kinds={})
        return res
    findings = [f for f in doc["findings"] if not f.get("suppressed")]
    for f in findings:
        f["repo"] = repo["name"]
    res["findings"] = findings
    res["summary"] = doc["summary"]
    res["kinds"] = dict(collections.Counter(f["kind"] for f in doc["files"]))
    return res


def counts(res: dict) -> dict[str, collections.Counter]:
    by_rule: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for f in res["findings"]:
        by_rule[f["rule"]][f["severity"]] += 1
    return by_rule


def parse_errors(res: dict) -> tuple[int, int]:
    pe = [f for f in res["findings"] if f["rule"] == "parse-error"]
    return len(pe), len({f["path"] for f in pe})


def preset_cell(res: dict) -> str:
    if res.get("named_preset"):
        return f"{res['preset']} (named)"
    got = res["detected"] or "none (guidelines)"
    if res["preset"] and res["detected"] != res["preset"]:
        return f"{got}; must name `{res['preset']}`"
    if not res["preset"] and res["detected"]:
        return f"{got} (no preset fits the runner)"
    if not res["preset"]:
        return f"{got}; no preset fits"
    return got


def print_text(results: list[dict]) -> None:
    for res in results:
        s = res["summary"]
        pe, pe_files = parse_errors(res)
        print(f"== {res['name']} @ {res['commit'][:12]}  runner: {res['runner']}  preset: {preset_cell(res)}")
        if res.get("error"):
            print(f"   ERROR (exit {res['exit']}): {res['error']}")
            continue
        print(
            f"   files {s.get('files')} {res['kinds']}  errors {s.get('errors')}  warnings {s.get('warnings')}"
            f"  infos {s.get('infos')}  parse errors {pe} in {pe_files} files  exit {res['exit']}"
            f"  wall {res['wall']:.2f} s  cpu {res.get('cpu', 0):.2f} s"
        )
        for rule, c in sorted(counts(res).items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
            print(f"   {sum(c.values()):6d}  {rule}  " + " ".join(f"{k}={v}" for k, v in sorted(c.items())))


def cpu_cell(res: dict) -> str:
    return f"{res['cpu']:.1f}" if "cpu" in res else "-"


def md_tables(results: list[dict], baseline: list[dict] | None) -> list[str]:
    base = {r["name"]: r for r in baseline or []}
    out = [
        "| repository | commit | runner | preset (detected) | files | errors | warnings | infos | parse errors (files) | exit | wall s | cpu s |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for res in results:
        s = res["summary"]
        pe, pe_files = parse_errors(res)

        def cell(key: str, res=res) -> str:
            now = res["summary"].get(key, "-")
            old = base.get(res["name"], {}).get("summary", {}).get(key)
            return f"{old} → {now}" if old is not None and old != now else str(now)

        out.append(
            f"| {res['name']} | `{res['commit'][:12]}` | {res['runner']} | {preset_cell(res)} | "
            f"{s.get('files', '-')} | {cell('errors')} | {cell('warnings')} | {cell('infos')} | "
            f"{pe} ({pe_files}) | {res['exit']} | {res['wall']:.1f} | {cpu_cell(res)} |"
        )
    out += ["", "Findings per rule (not suppressed; `rule n`, the baseline's count first where it changed):", ""]
    for res in results:
        now = {r: sum(c.values()) for r, c in counts(res).items()}
        old = {r: sum(c.values()) for r, c in counts(base[res["name"]]).items()} if res["name"] in base else {}
        rules = sorted(set(now) | set(old), key=lambda r: (-now.get(r, 0), -old.get(r, 0), r))
        cells = []
        for r in rules:
            if old and old.get(r, 0) != now.get(r, 0):
                cells.append(f"`{r}` {old.get(r, 0)} → {now.get(r, 0)}")
            else:
                cells.append(f"`{r}` {now.get(r, 0)}")
        out.append(f"- **{res['name']}**: " + (", ".join(cells) or "none"))
    return out


def fid(f: dict) -> tuple:
    return (f["repo"], f["path"], f["line"], f["rule"])


def sample(results: list[dict], n: int, seed: int) -> list[dict]:
    """Round robin over the repositories (seeded order), within each over its rules (seeded order),
    one seeded random finding of the rule at a time."""
    rng = random.Random(seed)
    pools = {}
    for res in sorted(results, key=lambda r: r["name"]):
        by_rule: dict[str, list] = collections.defaultdict(list)
        for f in sorted(res["findings"], key=lambda f: (f["path"], f["line"], f["column"], f["rule"])):
            by_rule[f["rule"]].append(f)
        rules = sorted(by_rule)
        rng.shuffle(rules)
        for r in rules:
            rng.shuffle(by_rule[r])
        pools[res["name"]] = collections.deque((r, by_rule[r]) for r in rules)
    order = sorted(pools)
    rng.shuffle(order)
    picked: list[dict] = []
    while len(picked) < n and any(pools.values()):
        for name in order:
            pool = pools[name]
            if not pool or len(picked) >= n:
                continue
            rule, items = pool.popleft()
            picked.append(items.pop())
            if items:
                pool.append((rule, items))
    return picked


def excerpt(root: Path, f: dict) -> list[str]:
    try:
        lines = (root / f["path"]).read_text(errors="replace").splitlines()
    except OSError as e:
        return [f"(cannot read: {e})"]
    start = f["line"] - 1
    end = f.get("end_line") or f["line"]
    chunk = lines[start : min(end, start + EXCERPT_LINES)]
    more = end - start - len(chunk)
    return [ln[:200] for ln in chunk] + ([f"... ({more} more lines)"] if more > 0 else [])


def load_labels(path: Path | None) -> dict[tuple, dict]:
    if not path or not path.exists():
        return {}
    labels = {}
    for lab in tomllib.loads(path.read_text()).get("label", []):
        if lab["label"] not in LABELS:
            sys.exit(f"realworld: {path}: label must be one of {LABELS}: {lab}")
        labels[(lab["repo"], lab["path"], lab["line"], lab["rule"])] = lab
    return labels


def print_sample(picked: list[dict], roots: dict[str, Path], labels: dict[tuple, dict]) -> None:
    for i, f in enumerate(picked, 1):
        lab = labels.get(fid(f))
        tag = f"  [{lab['label']}: {lab['reason']}]" if lab else ""
        print(f"#{i} {f['repo']} {f['severity']}[{f['rule']}] {f['path']}:{f['line']}:{f['column']}{tag}")
        print(f"   {f['message']}")
        root = roots.get(f["repo"])
        for ln in excerpt(root, f) if root else []:
            print(f"   | {ln}")
        print()


def md_sample(picked: list[dict], labels: dict[tuple, dict]) -> list[str]:
    out = ["| # | repository | rule | file:line | label | reason |", "| ---: | --- | --- | --- | --- | --- |"]
    tally: collections.Counter = collections.Counter()
    for i, f in enumerate(picked, 1):
        lab = labels.get(fid(f))
        tally[lab["label"] if lab else "unlabelled"] += 1
        short = f["path"].rsplit("/", 2)
        where = "/".join(short[-2:]) if len(short) > 1 else f["path"]
        reason = (lab["reason"] if lab else "").replace("|", "\\|")
        out.append(
            f"| {i} | {f['repo']} | `{f['rule']}` | `{where}:{f['line']}` | {lab['label'] if lab else '?'} | {reason} |"
        )
    total = len(picked)
    out += [
        "",
        "Sample: "
        + ", ".join(f"{k} {tally[k]} ({100 * tally[k] / total:.1f}%)" for k in (*LABELS, "unlabelled") if tally[k])
        + f", of {total}.",
    ]
    areas: collections.Counter = collections.Counter()
    for f in picked:
        lab = labels.get(fid(f))
        if lab and lab["label"] == "false":
            areas[lab.get("area", "?")] += 1
    if areas:
        out += [
            "",
            "False findings of the sample by the area that should fix them:",
            "",
            "| area | false findings |",
            "| --- | ---: |",
        ]
        out += [f"| {area} | {n} |" for area, n in areas.most_common()]
    return out


def md_survival(results: list[dict], labels: dict[tuple, dict], first_pass: str) -> list[str]:
    """What became of the findings labelled in pass ``first_pass``: still reported or gone, by label."""
    present = {fid(f) for res in results for f in res["findings"]}
    names = {res["name"] for res in results}
    tally: collections.Counter = collections.Counter()
    for key, lab in labels.items():
        if lab.get("pass") == first_pass and key[0] in names:
            tally[(lab["label"], key in present)] += 1
    out = [f"| labelled in `{first_pass}` | still reported | gone |", "| --- | ---: | ---: |"]
    out += [f"| {k} | {tally[(k, True)]} | {tally[(k, False)]} |" for k in LABELS]
    return out


def categories(results: list[dict]) -> collections.Counter:
    """How many findings fall in each of CATEGORIES (first match wins)."""
    import re

    pats = [
        (name, repos, set(rules), re.compile(path) if path else None, re.compile(msg) if msg else None)
        for name, repos, rules, path, msg in CATEGORIES
    ]
    out: collections.Counter = collections.Counter()
    for res in results:
        for f in res["findings"]:
            for name, repos, rules, path, msg in pats:
                if (
                    ("*" in repos or res["name"] in repos)
                    and (not rules or f["rule"] in rules)
                    and (not path or path.search(f["path"]))
                    and (not msg or msg.search(f["message"]))
                ):
                    out[name] += 1
                    break
    return out


def md_categories(results: list[dict], baseline: list[dict] | None) -> list[str]:
    now, old = categories(results), categories(baseline) if baseline else None
    total = sum(len(r["findings"]) for r in results)
    out = ["| category (read as false in the sample) | findings |", "| --- | ---: |"]
    for name, *_ in CATEGORIES:
        cell = f"{old[name]} → {now[name]}" if old is not None and old[name] != now[name] else str(now[name])
        out.append(f"| {name} | {cell} |")
    out.append(f"| all findings in these categories, of {total} | {sum(now.values())} |")
    return out


def gone_labels(results: list[dict], labels: dict[tuple, dict]) -> list[dict]:
    """Labelled findings of the checked repositories that the results no longer report."""
    present = {fid(f) for res in results for f in res["findings"]}
    names = {res["name"] for res in results}
    return [lab for key, lab in labels.items() if key[0] in names and key not in present]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", type=Path, default=TABLE, help="the repositories (TOML)")
    ap.add_argument("--only", help="comma-separated owner/name list")
    ap.add_argument("--work", type=Path, default=WORK, help="where the exports go")
    ap.add_argument("--migcheck", help="the migcheck command to run (default: beside this Python, else PATH)")
    ap.add_argument("--with-preset", action="store_true", help="name the expected preset instead of detecting")
    ap.add_argument("--build", default="", help="which build this is (e.g. main@4d1f3ad), kept with the results")
    ap.add_argument("--out", type=Path, help="write the results (every finding) as JSON")
    ap.add_argument("--results", type=Path, help="read results written by --out instead of running")
    ap.add_argument("--baseline", type=Path, help="earlier results: show counts that changed")
    ap.add_argument("--sample", type=int, default=0, help="print N sampled findings for labelling")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--labels", type=Path, help="labels (TOML) to show with the sample")
    ap.add_argument("--rules", help="comma-separated rule ids: sample only their findings (e.g. a new rule's)")
    ap.add_argument("--markdown", action="store_true", help="print the tables of docs/real-world.md")
    ap.add_argument("--categories", action="store_true", help="count the findings of the known-false categories")
    ap.add_argument("--survival", metavar="PASS", help="with --labels: what became of the findings labelled in PASS")
    a = ap.parse_args(argv)

    repos = load_table(a.table, a.only.split(",") if a.only else None)
    roots: dict[str, Path] = {}
    failed = False
    if a.results:
        results = [r for r in json.loads(a.results.read_text())["results"] if r["name"] in {x["name"] for x in repos}]
        meta = json.loads(a.results.read_text()).get("migcheck", "")
    else:
        cmd = migcheck_command(a.migcheck)
        meta = subprocess.run([*cmd, "--version"], capture_output=True, text=True).stdout.strip()
        meta += f" ({a.build})" if a.build else ""
        results = []
        for repo in repos:
            try:
                root = export(repo, a.work)
            except (RuntimeError, subprocess.CalledProcessError) as e:
                print(f"realworld: {repo['name']}: {e}", file=sys.stderr)
                failed = True
                continue
            res = run(repo, root, cmd, a.with_preset)
            failed |= res["exit"] == 2
            results.append(res)
            print(
                f"realworld: {repo['name']}: exit {res['exit']}, {len(res['findings'])} findings, {res['wall']:.1f} s",
                file=sys.stderr,
            )
        if a.out:
            a.out.write_text(json.dumps({"migcheck": meta, "results": results}) + "\n")
    for repo in repos:
        dest = a.work / f"{repo['name'].replace('/', '+')}@{repo['commit'][:12]}"
        if dest.exists():
            roots[repo["name"]] = dest
    baseline = json.loads(a.baseline.read_text())["results"] if a.baseline else None
    labels = load_labels(a.labels)
    pool = results
    if a.rules:
        keep = set(a.rules.split(","))
        pool = [{**r, "findings": [f for f in r["findings"] if f["rule"] in keep]} for r in results]
    picked = sample(pool, a.sample, a.seed) if a.sample else []

    if a.markdown:
        print(f"migcheck: {meta}\n")
        print("\n".join(md_tables(results, baseline)))
        if a.categories:
            print()
            print("\n".join(md_categories(results, baseline)))
        if picked:
            print()
            print("\n".join(md_sample(picked, labels)))
        if a.survival:
            print()
            print("\n".join(md_survival(results, labels, a.survival)))
    else:
        if not a.sample:
            print_text(results)
        if a.categories:
            for name, n in categories(results).items():
                print(f"{n:6d}  {name}")
        print_sample(picked, roots, labels)
    if labels:
        gone = gone_labels(results, labels)
        print(f"\nlabelled findings no longer reported: {len(gone)}", file=sys.stderr)
        for lab in gone:
            print(f"  {lab['repo']} {lab['rule']} {lab['path']}:{lab['line']} ({lab['label']})", file=sys.stderr)
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
