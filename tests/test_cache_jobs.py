"""The result cache, the process pool (`check --jobs N`, `--no-cache`) and engine faults
(issue 14; issue 7: a failing rule, a dying worker, file-too-large)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from harness import parse_case

from migcheck import engine, files, registry
from migcheck.cli import main

REPO = Path(__file__).resolve().parent.parent
FIXTURES = sorted((REPO / "tests" / "fixtures" / "rules").glob("*.sql"))


@pytest.fixture
def realistic(tmp_path, monkeypatch):
    """examples/ (CHANGELOG, migrations with planted flaws, rollbacks) plus every rule fixture's
    files, each fixture in a directory of its own (`fixtures/<fixture>/migrations/...`)."""
    root = tmp_path / "proj"
    shutil.copytree(REPO / "examples", root)
    (root / "migcheck.toml").write_text('migrations = ["migrations"]\n')
    for fx in FIXTURES:
        case = parse_case(fx.read_bytes())
        if case.config_lines:  # its own configuration: it belongs to its own project, not this one
            continue
        for rel, data in case.files.items():
            p = root / "fixtures" / fx.stem.replace(".", "_") / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
    monkeypatch.chdir(root)
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(tmp_path / "cache"))
    return root


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_output_is_identical_with_and_without_cache_and_with_jobs(realistic, capsys, monkeypatch):
    paths = ["migrations", "fixtures"]
    for fmt in ("json", "text"):
        base = run(capsys, "check", "--format", fmt, "--no-cache", "--jobs", "1", *paths)
        assert base[0] == 1 and base[1] and "internal error" not in base[2]
        if fmt == "json":
            rep = json.loads(base[1])
            assert rep["summary"]["files"] > 200 and len(rep["findings"]) > 300
        cold = run(capsys, "check", "--format", fmt, *paths)  # fills the cache
        warm = run(capsys, "check", "--format", fmt, *paths)  # served from it
        monkeypatch.setattr(engine, "POOL_MIN_FILES", 2)  # the pool even for this small project
        pool = run(capsys, "check", "--format", fmt, "--no-cache", "--jobs", "2", *paths)
        pool_cached = run(capsys, "check", "--format", fmt, "--jobs", "2", *paths)
        monkeypatch.setattr(engine, "POOL_MIN_FILES", 200)
        assert cold == base
        assert warm == base
        assert pool == base
        assert pool_cached == base


def test_the_pool_really_runs_in_other_processes(realistic, capsys, monkeypatch, tmp_path):
    """So that the identity test above is not comparing the in-process path with itself."""
    log = tmp_path / "pids"

    def spy(f, ctx):
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return ()

    monkeypatch.setitem(
        registry._RULES, "pid-spy", registry.Rule("pid-spy", "info", "syntax", "test", "file", func=spy)
    )
    monkeypatch.setattr(engine, "POOL_MIN_FILES", 2)
    code, out, err = run(
        capsys, "check", "--no-cache", "--jobs", "2", "--select", "pid-spy,drop-table", "migrations", "fixtures"
    )
    assert code == 1 and err == ""
    pids = log.read_text().split()
    assert len(pids) > 200 and str(os.getpid()) not in pids  # every file checked in a worker
    assert len(set(pids)) == 2


def test_warm_cache_imports_neither_pglast_nor_file_rules(realistic):
    env = {**os.environ, "MIGCHECK_CACHE_DIR": os.environ["MIGCHECK_CACHE_DIR"]}
    probe = (
        "import sys; from migcheck.cli import main; rc = main(['check', '--format', 'json', 'migrations']); "
        "print(sorted(m for m in sys.modules if m == 'pglast' or m.startswith('migcheck.rules.drop_table')), file=sys.stderr); "
        "sys.exit(rc)"
    )
    first = subprocess.run([sys.executable, "-c", probe], cwd=realistic, env=env, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", probe], cwd=realistic, env=env, capture_output=True, text=True)
    assert first.returncode == second.returncode == 1
    assert "'pglast'" in first.stderr
    assert second.stdout == first.stdout
    assert second.stderr.strip().splitlines()[-1] == "[]", second.stderr


def test_a_changed_file_is_checked_again(realistic, capsys):
    p = realistic / "migrations" / "20251022_001_add_lead_status.sql"
    before = run(capsys, "check", "--format", "json", "migrations")
    p.write_text(p.read_text() + "\nDROP TABLE leads;\n")
    after = run(capsys, "check", "--format", "json", "migrations")
    fresh = run(capsys, "check", "--format", "json", "--no-cache", "migrations")
    assert after == fresh and after != before
    assert any(
        f["rule"] == "drop-table" and f["path"].endswith("20251022_001_add_lead_status.sql")
        for f in json.loads(after[1])["findings"]
    )


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"{",
        b"\x00\xff" * 50,
        b'{"files": {"x": 1}, "project": []}',
        b'{"files": {}, "project": {"rules": {"fp": 1, "hits": {"a": [[1]]}}}}',
        b'{"files": {}, "project": {"runs": [{"fp": 1, "hits": {"a": [[1]]}}, 5, []]}}',
        b'{"files": {}, "project": {"runs": "x"}}',
    ],
)
def test_a_corrupt_cache_is_ignored(realistic, capsys, garbage):
    base = run(capsys, "check", "--format", "json", "--no-cache", "migrations")
    run(capsys, "check", "--format", "json", "migrations")
    packs = list((realistic.parent / "cache").glob("v*.json"))
    assert packs
    for p in packs:
        p.write_bytes(garbage)
    assert run(capsys, "check", "--format", "json", "migrations") == base
    assert run(capsys, "check", "--format", "json", "migrations") == base  # and rewritten


def test_corrupt_entries_of_a_valid_pack_are_ignored(realistic, capsys):
    base = run(capsys, "check", "--format", "json", "--no-cache", "migrations")
    run(capsys, "check", "--format", "json", "migrations")
    (pack,) = (realistic.parent / "cache").glob("v*.json")
    data = json.loads(pack.read_text())
    for i, key in enumerate(data["files"]):
        data["files"][key] = [None, 5, "x"] if i % 2 else "nonsense"
    data["project"] = {"rules": {"fp": "nope", "hits": []}}
    pack.write_text(json.dumps(data))
    assert run(capsys, "check", "--format", "json", "migrations") == base
    # entries with the right key (the file's bytes) and damaged results
    run(capsys, "check", "--format", "json", "migrations")
    data = json.loads(pack.read_text())
    for entry in data["project"]["runs"]:
        for rid in entry["hits"]:
            entry["hits"][rid] = [[1, 2]]
    damage = [
        lambda e: e.__setitem__(1, [[1, 2]]),
        lambda e: e.__setitem__(1, [7]),
        lambda e: e.__setitem__(2, [[0] * 8]),
        lambda e: e.__setitem__(3, "x"),
    ]
    for i, entry in enumerate(data["files"].values()):
        damage[i % len(damage)](entry)
    pack.write_text(json.dumps(data))
    assert run(capsys, "check", "--format", "json", "migrations") == base


def _spy_reads(monkeypatch) -> list:
    """The files whose bytes a run reads (``MigrationFile.data``)."""
    from functools import cached_property

    reads = []
    real = files.MigrationFile.__dict__["data"].func

    def data(self):
        reads.append(self.display)
        return real(self)

    prop = cached_property(data)
    prop.__set_name__(files.MigrationFile, "data")
    monkeypatch.setattr(files.MigrationFile, "data", prop)
    return reads


def test_the_stat_memo_serves_unchanged_files_without_reading_them(realistic, capsys, monkeypatch):
    from migcheck import cache

    monkeypatch.setattr(cache.Cache, "RACY_NS", 0)  # the files were written a moment ago
    paths = ["migrations", "fixtures"]
    base = run(capsys, "check", "--format", "json", "--no-cache", *paths)
    assert run(capsys, "check", "--format", "json", *paths) == base  # reads every file, keeps their stat
    reads = _spy_reads(monkeypatch)
    assert run(capsys, "check", "--format", "json", *paths) == base
    assert reads == []  # (not even the file that does not decode: its finding is cached too)


def test_the_stat_memo_sees_a_rewrite_that_keeps_size_and_mtime(realistic, capsys, monkeypatch):
    from migcheck import cache

    monkeypatch.setattr(cache.Cache, "RACY_NS", 0)
    p = realistic / "migrations" / "20251022_001_add_lead_status.sql"
    before = run(capsys, "check", "--format", "json", "migrations")
    run(capsys, "check", "--format", "json", "migrations")  # served from the memo
    st = p.stat()
    text = p.read_text()
    assert "IF NOT EXISTS" in text
    p.write_text(text.replace("IF NOT EXISTS", "/*         */"))  # same size
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same mtime: only the ctime tells
    assert p.stat().st_size == st.st_size and p.stat().st_mtime_ns == st.st_mtime_ns
    after = run(capsys, "check", "--format", "json", "migrations")
    assert after == run(capsys, "check", "--format", "json", "--no-cache", "migrations")
    assert after != before


def test_files_written_during_the_last_seconds_are_not_memoised(realistic, capsys):
    """Racily clean (git's term): a write in the same clock tick as the read could keep the stat."""
    run(capsys, "check", "--format", "json", "migrations")
    (pack,) = (realistic.parent / "cache").glob("v*.json")
    assert json.loads(pack.read_text())["stat"] == {}


def test_corrupt_stat_memo_entries_are_ignored(realistic, capsys, monkeypatch):
    from migcheck import cache

    monkeypatch.setattr(cache.Cache, "RACY_NS", 0)
    base = run(capsys, "check", "--format", "json", "--no-cache", "migrations")
    run(capsys, "check", "--format", "json", "migrations")
    (pack,) = (realistic.parent / "cache").glob("v*.json")
    data = json.loads(pack.read_text())
    assert data["stat"]
    for i, key in enumerate(data["stat"]):
        entry = data["stat"][key]
        data["stat"][key] = [[*entry[:5], "zz", True], [*entry[:5], None, 1], "nonsense", [1, 2]][i % 4]
    data["files"] = {}  # so that every result is computed again from what the memo says
    pack.write_text(json.dumps(data))
    assert run(capsys, "check", "--format", "json", "migrations") == base
    data["stat"] = ["not", "a", "dict"]
    pack.write_text(json.dumps(data))
    assert run(capsys, "check", "--format", "json", "migrations") == base


def test_cache_directory_is_ignored_by_git_and_has_no_temp_files(realistic, capsys, monkeypatch):
    monkeypatch.delenv("MIGCHECK_CACHE_DIR")
    run(capsys, "check", "migrations")
    d = realistic / ".migcheck_cache"
    assert (d / ".gitignore").read_text().strip().endswith("*")
    assert (d / "CACHEDIR.TAG").is_file()
    assert [p.name for p in d.iterdir() if p.name.endswith(".tmp")] == []


def test_unwritable_cache_directory_is_not_an_error(realistic, capsys, monkeypatch, tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "xdg"))
    base = run(capsys, "check", "--no-cache", "migrations")
    assert run(capsys, "check", "migrations") == base


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_jobs_must_be_a_positive_number(realistic, capsys, value):
    code, out, err = run(capsys, "check", "--jobs", value, "migrations")
    assert code == 2 and out == ""
    assert err.startswith("migcheck: error:") and "--jobs" in err


def test_jobs_above_the_cpu_count_is_accepted(realistic, capsys):
    base = run(capsys, "check", "--no-cache", "migrations")
    assert run(capsys, "check", "--no-cache", "--jobs", "512", "migrations") == base


def _inject(monkeypatch, rid, func):
    monkeypatch.setitem(registry._RULES, rid, registry.Rule(rid, "error", "syntax", "test", "file", func=func))


def test_a_failing_rule_in_the_pool_is_an_internal_error_and_other_findings_stay(realistic, capsys, monkeypatch):
    def boom(f, ctx):
        if f.name == "20251025_004_archive_old_leads.sql":
            raise ValueError("kaboom")
        return ()

    _inject(monkeypatch, "exploding-rule", boom)
    monkeypatch.setattr(engine, "POOL_MIN_FILES", 2)
    args = ["check", "--select", "drop-table,exploding-rule", "migrations", "fixtures"]
    one = run(capsys, *args, "--no-cache", "--jobs", "1")
    two = run(capsys, *args, "--no-cache", "--jobs", "2")
    assert one == two
    code, out, err = two
    assert code == 2
    assert "migrations/20251025_004_archive_old_leads.sql:" in out and "error[drop-table]" in out
    assert err.startswith(
        "migcheck: internal error in rule exploding-rule on migrations/20251025_004_archive_old_leads.sql: "
        "ValueError: kaboom"
    )
    # a failed run is never cached: the next run reports the error again
    assert run(capsys, *args, "--jobs", "2") == two
    assert run(capsys, *args, "--jobs", "2") == two


def test_a_worker_that_dies_fails_the_run_loudly(realistic, capsys, monkeypatch):
    main_pid = os.getpid()

    def die(f, ctx):
        if os.getpid() != main_pid:  # only in a worker: this process must survive to report
            os._exit(7)
        return ()

    _inject(monkeypatch, "dying-rule", die)
    monkeypatch.setattr(engine, "POOL_MIN_FILES", 2)
    code, out, err = run(
        capsys, "check", "--no-cache", "--jobs", "2", "--select", "drop-table,dying-rule", "migrations", "fixtures"
    )
    assert code == 2
    assert out == ""  # no partial result that could look clean
    assert err.startswith("migcheck: error: internal error: a worker process died")
    assert "--jobs 1" in err


def test_file_too_large_is_a_finding_and_the_file_is_never_read(realistic, capsys, monkeypatch):
    big = realistic / "migrations" / "20251029_008_huge_dump.sql"
    with open(big, "wb") as fh:  # a sparse 50 MB file: no disk space, no memory
        fh.truncate(50 << 20)
    real = Path.read_bytes

    def guarded(self):
        assert self.name != big.name, "a file above max-file-size was read"
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", guarded)
    code, out, err = run(capsys, "check", "--format", "json", "--no-cache", "--select", "drop-table", "migrations")
    assert code == 1 and err == ""
    found = [f for f in json.loads(out)["findings"] if f["path"].endswith(big.name)]
    assert [(f["rule"], f["line"], f["column"]) for f in found] == [("file-too-large", 1, 1)]
    assert (
        found[0]["message"] == "the file is 50 MB, above the 10 MB limit (`max-file-size`): migcheck did not check it"
    )


@pytest.mark.parametrize(
    "value,expect",
    [('"1KB"', 1024), ('"2.5MB"', int(2.5 * (1 << 20))), ("4096", 4096), ("false", None), ('" 10 mb "', 10 << 20)],
)
def test_max_file_size_values(tmp_path, value, expect):
    from migcheck import config

    (tmp_path / "migcheck.toml").write_text(f"max-file-size = {value}\n")
    assert config.load(tmp_path / "migcheck.toml").max_file_size == expect


@pytest.mark.parametrize("value", ['"10 parsecs"', "0", "-5", '""', "true", "[1]"])
def test_bad_max_file_size_is_a_config_error(realistic, capsys, value):
    (realistic / "migcheck.toml").write_text(f"max-file-size = {value}\n")
    code, out, err = run(capsys, "check", "migrations")
    assert code == 2 and out == ""
    assert "'max-file-size' must be a size" in err


def test_rule_index_is_up_to_date():
    """rules/_index.py lists every rule so that a run imports only the rule modules it needs.
    After adding or editing a rule module, regenerate it: `python -m migcheck.registry`."""
    r = subprocess.run(
        [sys.executable, "-c", "from migcheck import registry; print(registry.index_source(), end='')"],
        capture_output=True,
        text=True,
        check=True,
    )
    index = REPO / "src" / "migcheck" / "rules" / "_index.py"
    assert r.stdout == index.read_text(encoding="utf-8"), (
        "src/migcheck/rules/_index.py is out of date: run `python -m migcheck.registry`"
    )


def test_a_rule_module_missing_from_the_index_still_runs(monkeypatch):
    """A rule added without regenerating the index is imported at load time (slower, still right)."""
    probe = (
        "import sys; from migcheck import registry; from migcheck.rules import _index\n"
        "_index.MODULES = {k: v for k, v in _index.MODULES.items() if k != 'drop_table'}\n"
        "rules = registry.load()\n"
        "print('migcheck.rules.drop_table' in sys.modules, rules['drop-table'].func is not None, "
        "'migcheck.rules.truncate' in sys.modules, registry.impl(rules['truncate']) is not None)"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["True", "True", "False", "True"]


# --- the process-level memo of the cross-file rules' summaries (migcheck.summaries) -----------


def _project_from(tmp_path, fixture: str) -> Path:
    root = tmp_path / "memo"
    for rel, data in parse_case((REPO / "tests" / "fixtures" / "rules" / fixture).read_bytes()).files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    (root / "migcheck.toml").write_text('migrations = ["migrations"]\n')
    return root


def _in_process(root: Path, paths: list[str], fresh: bool = False) -> list[tuple]:
    """``engine.check`` as `migcheck lsp` runs it: in this process, again and again."""
    from migcheck import config as cfgmod
    from migcheck import summaries

    if fresh:
        summaries.clear()
    result = engine.check([str(root / p) for p in paths], cfgmod.load(None, root), root)
    return [(f.rule, f.path, f.line, f.column, f.message) for f in result.findings]


@pytest.mark.parametrize(
    "fixture,checked,sibling,old,new",
    [
        # mixed-changes: the foreign key a sibling declares ties the two tables of the checked file
        (
            "mixed-changes.clean-project.sql",
            ["migrations/20251023_002_billing.sql"],
            "migrations/20251022_001_invoices.sql",
            "REFERENCES companies (id)",
            "REFERENCES customers (id)",
        ),
        # rollback-incomplete: the definition an earlier migration gave the view the checked one re-creates
        (
            "rollback-incomplete.redefine.sql",
            ["migrations/20250101_003_lead_view_v3.sql", "migrations/rollback/20250101_003_rollback.sql"],
            "migrations/20250101_002_lead_view_v2.sql",
            "SELECT id, email, score FROM",
            "SELECT id, score FROM",
        ),
        # changing-column-type (analysis.locking.history): the type an earlier migration gave the column
        (
            "changing-column-type.renamed.sql",
            ["migrations/20250103_001_widen.sql"],
            "migrations/20250101_001_create_leads.sql",
            "email varchar(100)",
            "email integer",
        ),
    ],
)
def test_memo_follows_a_sibling_edited_on_disk(tmp_path, fixture, checked, sibling, old, new):
    from migcheck import summaries

    root = _project_from(tmp_path, fixture)
    before = _in_process(root, checked, fresh=True)
    assert _in_process(root, checked) == before  # served from the memo
    hits = summaries.stats["hits"]
    assert hits > 0
    p = root / sibling
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new))  # same process, same memo: the edit must be seen
    after = _in_process(root, checked)
    assert summaries.stats["hits"] > hits  # the other siblings still come from the memo
    assert after != before
    assert after == _in_process(root, checked, fresh=True)  # what a new process finds
    p.write_text(text)  # put back as it was: the first result again
    assert _in_process(root, checked) == before


def test_memo_is_bounded(tmp_path, monkeypatch):
    from migcheck import summaries

    monkeypatch.setattr(summaries, "MAX_ENTRIES", 3)
    summaries.clear()
    root = _project_from(tmp_path, "rollback-incomplete.redefine.sql")
    first = _in_process(root, ["migrations/20250101_005_bulk_update.sql"])
    assert len(summaries._MEMO) == 3
    assert _in_process(root, ["migrations/20250101_005_bulk_update.sql"]) == first
    summaries.clear()


def test_summaries_persisted_in_the_pack_serve_a_new_process(tmp_path, capsys, monkeypatch):
    """A one-file `check` with a cache: the siblings' summaries come from the pack (no parse), an
    edited sibling is summarised again, a corrupt entry is ignored; the output is always what
    `--no-cache` prints."""
    from migcheck import summaries

    root = _project_from(tmp_path, "mixed-changes.clean-project.sql")
    monkeypatch.chdir(root)
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(tmp_path / "cache"))
    checked = root / "migrations" / "20251023_002_billing.sql"
    sibling = root / "migrations" / "20251022_001_invoices.sql"

    from migcheck import source

    parsed: list[str] = []  # the texts parsed in a run
    real_parse = source.parse

    def spy(text, pos):
        parsed.append(text)
        return real_parse(text, pos)

    monkeypatch.setattr(source, "parse", spy)

    def once(*extra):
        summaries.clear()  # a new process
        parsed.clear()
        out = run(capsys, "check", "--format", "json", *extra, str(checked))
        return out, dict(summaries.stats)

    first, stats = once()
    assert stats["disk"] == 0 and stats["misses"] > 0
    checked.write_text(
        checked.read_text() + "\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_invoices_due ON invoices (due_on);\n"
    )
    again, stats = once()
    assert stats["disk"] > 0 and parsed == [checked.read_text()]  # only the edited file is parsed
    assert again == once("--no-cache")[0]
    sibling.write_text(sibling.read_text().replace("REFERENCES companies (id)", "REFERENCES customers (id)"))
    edited, stats = once()
    # the edited sibling, summarised again (and the checked file: its result depends on the sibling)
    assert sorted(parsed) == sorted([checked.read_text(), sibling.read_text()]) and edited != again
    assert edited == once("--no-cache")[0]
    for pack in (tmp_path / "cache").glob("v*.json"):
        data = json.loads(pack.read_text())
        assert data["summaries"]
        data["summaries"] = {k: [[1, 2, 3]] for k in data["summaries"]}
        pack.write_text(json.dumps(data))
    checked.write_text(checked.read_text() + "\n")
    assert once()[0][1] == once("--no-cache")[0][1]
    summaries.clear()


def test_a_parser_upgrade_invalidates_the_cache(realistic, capsys, monkeypatch, tmp_path):
    """What pglast parsed is only valid for that pglast: another installed parser opens another pack."""
    from migcheck import cache

    assert run(capsys, "check", "migrations")[0] == 1
    packs = {p.name for p in (tmp_path / "cache").glob("v*.json")}
    assert len(packs) == 1
    real = cache._library_fingerprint
    assert real(("pglast",)) == real(("pglast",)) != real(("pglast", "sqlglot"))
    monkeypatch.setattr(cache, "_library_fingerprint", lambda names: "another pglast")
    assert run(capsys, "check", "migrations")[0] == 1
    assert len({p.name for p in (tmp_path / "cache").glob("v*.json")} - packs) == 1


def test_a_large_run_keeps_every_summary_it_needs_whatever_the_memo_bound(realistic, capsys, monkeypatch):
    """summaries.hold: a run over many files must not evict its own files' summaries mid-run
    (the main process would parse those files again: 16,000 parses at 19,000 files)."""
    from migcheck import source, summaries

    parses = []
    real = source.parse
    monkeypatch.setattr(source, "parse", lambda text, pos: parses.append(1) or real(text, pos))

    def count(bound):
        monkeypatch.setattr(summaries, "MAX_ENTRIES", bound)
        summaries.clear()
        parses.clear()
        out = run(capsys, "check", "--format", "json", "--no-cache", "--jobs", "1", "migrations", "fixtures")
        return len(parses), out

    roomy, out = count(1_000_000)
    tight, out_tight = count(3)
    assert tight == roomy and out_tight == out
    assert len(summaries._MEMO) <= 3  # trimmed back to the bound once the run is over
    summaries.clear()


@pytest.mark.parametrize("cached", [False, True], ids=["no-cache", "cold-cache"])
def test_a_large_run_keeps_no_file_s_trees_or_text(realistic, monkeypatch, tmp_path, cached):
    """Memory (issue 14): once a file is checked, only its digest and summaries stay; an earlier
    migration parsed again for a later one's history (the lock rules) is freed again too. With an
    empty cache too (issue 22: the project rules' kept results were looked up by every file's
    summaries before the check, which parsed every file and kept its trees: 452 MB instead of
    212 MB at 10,048 files)."""
    from migcheck import config as cfgmod
    from migcheck import parallel, summaries
    from migcheck.cache import Cache

    held = {}
    real_finish, real_serial = parallel._finish, parallel.check_serial

    def kept(project, when, what=("_parsed", "all_statements", "_loaded", "data", "positions")):
        for f in project.files:
            found = set(what) & f.__dict__.keys()
            if found:
                held[f"{when}: {f.display}"] = sorted(found)

    def serial(project, *a, **k):  # (before the check: no file parsed yet; the cache read their bytes)
        kept(project, "before", ("_parsed", "all_statements", "_loaded", "positions"))
        return real_serial(project, *a, **k)

    def finish(project, *a, **k):
        kept(project, "after")
        return real_finish(project, *a, **k)

    monkeypatch.setattr(parallel, "_finish", finish)
    monkeypatch.setattr(parallel, "check_serial", serial)
    summaries.clear()
    cfg = cfgmod.load(None, realistic)
    project = engine.collect(["migrations", "fixtures"], cfg, realistic)
    assert len(project.files) >= engine.POOL_MIN_FILES  # so that the run takes parallel.check_serial
    engine.run(project, cfg, jobs=1, cache=Cache(tmp_path / "empty-cache") if cached else None)
    assert held == {}


def test_filling_the_cache_holds_each_summary_once_and_writes_in_pieces(realistic, monkeypatch, tmp_path):
    """Memory (issue 22: 224-246 MB at 10,048 files, 36 MB of it the save): a summary computed
    for the pack is kept as its JSON text only (not a second time as JSON values), and the pack
    and side file are written a piece at a time, never as one text; a new process reads them."""
    from migcheck import config as cfgmod
    from migcheck import summaries
    from migcheck.cache import Cache

    written: dict[str, tuple[int, int]] = {}  # name -> (bytes, largest piece)
    real_write = Cache._write

    def write(directory, name, text, *a, **k):
        pieces = [text] if isinstance(text, (str, bytes)) else list(text)
        written[name] = (sum(len(p) for p in pieces), max(len(p) for p in pieces))
        return real_write(directory, name, "".join(pieces) if pieces and isinstance(pieces[0], str) else text, *a, **k)

    monkeypatch.setattr(Cache, "_write", staticmethod(write))
    held = []
    real_detach = summaries.detach

    def detach():
        held.extend(v for store in (summaries._DISK_NEW, summaries._SIDE_NEW) for v in store.values())
        real_detach()

    monkeypatch.setattr(summaries, "detach", detach)
    monkeypatch.setattr(summaries, "BATCH", 16)  # (entries a piece: 256, more than this project has)
    summaries.clear()
    cfg = cfgmod.load(None, realistic)
    first = engine.run(
        engine.collect(["migrations", "fixtures"], cfg, realistic), cfg, jobs=1, cache=Cache(tmp_path / "c")
    )
    assert len(held) > 400 and all(type(v) is str for v in held)
    assert {n.rsplit(".", 1)[-1] for n in written} == {"json", "side"}
    for name, (size, largest) in written.items():
        assert size > 20_000 and largest * 10 < size, (name, size, largest)
    summaries.clear()  # a new process: the pack and side file serve it
    monkeypatch.setattr(Cache, "_write", staticmethod(real_write))
    again = engine.run(
        engine.collect(["migrations", "fixtures"], cfg, realistic), cfg, jobs=1, cache=Cache(tmp_path / "c")
    )
    assert [f.sort_key() for f in again.findings] == [f.sort_key() for f in first.findings]
    summaries.clear()


def test_one_file_runs_and_directory_runs_share_results_that_read_the_project(realistic, capsys, monkeypatch):
    """A file rule that read other files (a contextual result) depends on their bytes, not on
    which of them are reported: the pre-commit run of one file of a directory reuses what a run
    over that directory found, and says the same as a run without the cache."""
    directory = "fixtures/changing-column-type/migrations"
    run(capsys, "check", "--format", "json", directory)
    (pack,) = (realistic.parent / "cache").glob("v*.json")
    contextual = sorted(p for p, entry in json.loads(pack.read_text())["files"].items() if entry[5])
    assert contextual, "no file rule read the project: this test needs one"
    checked = []
    real = engine.check_file
    monkeypatch.setattr(engine, "check_file", lambda f, *a: checked.append(f.display) or real(f, *a))
    for path in contextual:
        rel = os.path.relpath(path, realistic)
        warm = run(capsys, "check", "--format", "json", rel)
        assert checked == [], rel
        assert warm == run(capsys, "check", "--format", "json", "--no-cache", rel)
        checked.clear()


def test_project_results_of_a_one_file_run_and_a_directory_run_are_both_kept(realistic, capsys, monkeypatch):
    """Alternating pre-commit (one file) and whole-directory runs must not recompute the project
    rules each time (that summarises every sibling)."""
    from migcheck import rules as _  # noqa: F401
    from migcheck.analysis import rollback as rollback_incomplete

    one = "migrations/20251022_001_add_lead_status.sql"
    run(capsys, "check", "--format", "json", "migrations")
    run(capsys, "check", "--format", "json", one)
    calls = []
    real = rollback_incomplete.comparison
    monkeypatch.setattr(rollback_incomplete, "comparison", lambda *a, **k: calls.append(1) or real(*a, **k))
    for args in (["migrations"], [one], ["migrations"]):
        assert run(capsys, "check", "--format", "json", *args) == run(
            capsys, "check", "--format", "json", "--no-cache", *args
        )
    fresh = len(calls)  # the --no-cache runs compare; the cached ones must not
    calls.clear()
    for args in (["migrations"], [one], ["migrations"]):
        run(capsys, "check", "--format", "json", *args)
    assert calls == [] and fresh > 0


def test_after_a_directory_run_a_one_file_run_parses_nothing(realistic, capsys, monkeypatch):
    """The pre-commit case in a large repository: the cache pack (and the side file of the
    rollback rules' effects) hold every sibling's summaries, so a one-file run whose reported set
    is new still parses no file; a damaged or missing side file is ignored."""
    from migcheck import source, summaries

    parses = []
    real = source.parse
    monkeypatch.setattr(source, "parse", lambda text, pos: parses.append(text[:80]) or real(text, pos))
    one = "migrations/20251022_001_add_lead_status.sql"
    expected = run(capsys, "check", "--format", "json", "--no-cache", one)
    for damage in (None, b"{", b'{"effects:postgres:00": 5}', "missing"):
        # each round starts from a run over the directory (and not from its kept answer: the
        # files are older than the racy window by then on a slow machine, and it would be served)
        for pack in [*(realistic.parent / "cache").glob("v*"), *(realistic.parent / "cache").glob("run-*")]:
            pack.unlink()
        summaries.clear()
        run(capsys, "check", "--format", "json", "migrations")
        (side,) = (realistic.parent / "cache").glob("v*.json.side")
        if damage == "missing":
            side.unlink()
        elif damage is not None:
            side.write_bytes(damage)
        summaries.clear()  # a new process: nothing in memory
        parses.clear()
        assert run(capsys, "check", "--format", "json", one) == expected, damage
        if damage is None:
            assert parses == [], f"parsed again: {parses}"
        else:
            assert parses, "the damaged side file was used"


def test_a_pack_of_an_older_format_is_never_read_and_is_pruned(tmp_path, capsys, monkeypatch):
    """The format is in the pack's name and key (cache.FORMAT: 2 since the words summary leaves
    comments out): a pack an older migcheck wrote is not read, and goes with the pruning."""
    from migcheck import cache, source

    root = _project_from(tmp_path, "mixed-changes.clean-project.sql")
    monkeypatch.chdir(root)
    where = tmp_path / "cache"
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(where))
    monkeypatch.setattr(cache, "FORMAT", cache.FORMAT - 1)
    old = run(capsys, "check", "--format", "json", "migrations")
    (older,) = where.glob(f"v{cache.FORMAT}-*.json")
    monkeypatch.setattr(cache, "FORMAT", cache.FORMAT + 1)
    parsed = []
    real = source.parse
    monkeypatch.setattr(source, "parse", lambda *a: parsed.append(1) or real(*a))
    assert run(capsys, "check", "--format", "json", "migrations") == old
    assert parsed  # (checked again: nothing of the older pack was used)
    assert cache._PACK.match(older.name)  # pruned as any pack is, once newer ones pile up
