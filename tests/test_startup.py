"""What a one-file check loads and does before it checks anything (issue 22: one file <= 2x
``python -c "import pglast"``). No timing here: benchmarks/run.py measures; these hold the means."""

from __future__ import annotations

import gc
import re
import sys

import pytest

from migcheck import _entry
from migcheck._lazyre import lazy


@pytest.mark.parametrize(
    "pattern,flags,text",
    [
        (r"^(?P<version>\d+)_(?P<description>.*)\.sql$", 0, "0001_init.sql"),
        (r"^--\s*\+goose\s+up\b.*$", re.I | re.M, "x\n-- +GOOSE Up\nSELECT 1;"),
        (r"\b(TODO|TBD)\b", 0, "no marker"),
    ],
)
def test_a_lazy_pattern_answers_as_the_compiled_one(pattern, flags, text):
    real, late = re.compile(pattern, flags), lazy(pattern, flags)
    for method in ("match", "search", "fullmatch"):
        a, b = getattr(real, method)(text), getattr(late, method)(text)
        assert (a and (a.span(), a.groupdict())) == (b and (b.span(), b.groupdict()))
    assert real.findall(text) == late.findall(text)
    assert real.sub("-", text) == late.sub("-", text)
    assert (late.pattern, late.flags, late.groupindex) == (real.pattern, real.flags, real.groupindex)
    assert [m.span() for m in late.finditer(text)] == [m.span() for m in real.finditer(text)]


def test_a_lazy_pattern_compiles_when_first_used():
    late = lazy(r"(unbalanced")
    with pytest.raises(re.error):  # (an invalid one fails where it is used, with re's own error)
        late.match("x")


@pytest.mark.parametrize("command,collecting", [(["check", "--no-cache"], False), (["rules"], True)])
def test_the_entry_point_collects_no_cycles_while_it_imports(command, collecting, tmp_path, monkeypatch, capsys):
    """The collector is off from the entry point on: on for every command but ``check`` (which
    runs with it off anyway: engine.check), since the others (``lsp``, ``verify``) run for long."""
    (tmp_path / "20250101_001_a.sql").write_text("SELECT 1;\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["migcheck", *command, *(["20250101_001_a.sql"] if command[0] == "check" else [])])
    try:
        _entry.main()
        assert gc.isenabled() is collecting
    finally:
        gc.enable()
    capsys.readouterr()


def _frozen_records():
    import importlib
    import pkgutil

    import migcheck
    from migcheck.model import FrozenRecord

    for info in pkgutil.walk_packages(migcheck.__path__, "migcheck."):
        if info.name.startswith(("migcheck.lsp", "migcheck.verify", "migcheck.__main__")):
            continue
        importlib.import_module(info.name)
    out, todo = [], [FrozenRecord]
    while todo:
        for sub in todo.pop().__subclasses__():
            out.append(sub)
            todo.append(sub)
    return out


def test_every_frozen_record_copies_and_pickles():
    """The types a run imports are ``model.Record``s, not dataclasses (a dataclass compiles its
    methods at import: issue 22); a frozen one is copied and pickled through its ``__init__``,
    which must take its fields in ``__slots__`` order, as a frozen dataclass's can be."""
    import copy
    import inspect
    import pickle

    from migcheck.analysis.locks import Lock

    records = _frozen_records()
    assert Lock in records
    for cls in records:
        params = [p for p in inspect.signature(cls.__init__).parameters][1:]
        assert params == list(cls.__slots__), cls
    lock = Lock("t", "ACCESS EXCLUSIVE", rewrite=True, note="n")
    for other in (copy.copy(lock), copy.deepcopy(lock), pickle.loads(pickle.dumps(lock))):
        assert other == lock and hash(other) == hash(lock) and other is not lock
    assert lock.replace(mode="SHARE") == Lock("t", "SHARE", rewrite=True, note="n")
    with pytest.raises(TypeError):
        lock.replace(mdoe="SHARE")


def test_a_pyproject_above_the_paths_and_the_working_directory_is_parsed_once(tmp_path, monkeypatch):
    """``check FILE`` looks for the configuration from the file's directory up, then (none found)
    from the working directory up: the same pyproject.toml (without [tool.migcheck]) on both ways."""
    from migcheck import config

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    (tmp_path / "db" / "migrations" / "20250101_001_a.sql").write_text("SELECT 1;\n")
    parsed = []
    real = config.tomllib.loads
    monkeypatch.setattr(config.tomllib, "loads", lambda text: parsed.append(text) or real(text))
    runs = config.for_paths(["migrations/20250101_001_a.sql"], tmp_path / "db")
    assert [(c.source, c.root, g) for c, g in runs] == [(None, tmp_path / "db", ["migrations/20250101_001_a.sql"])]
    assert len(parsed) == 1


def test_date_problems_as_calendar_has_them():
    import calendar

    from migcheck.analysis.naming import date_problem

    for y in (1, 1900, 2000, 2023, 2024, 2100, 9999):
        for m in range(1, 13):
            last = calendar.monthrange(y, m)[1]
            for d in range(0, 33):
                text = f"{y:04d}{m:02d}{d:02d}"
                want = None if 1 <= d <= last else f"{calendar.month_name[m]} {y} has no day {d:02d}"
                assert date_problem(text) == want, text


def test_records_compare_and_hash_as_the_dataclasses_they_replace():
    """Equality and hash by the fields' tuple, as a dataclass's (a hash decides a set's order,
    and a set of them may be iterated into a message)."""
    from dataclasses import dataclass

    from migcheck.analysis.locks import Lock
    from migcheck.analysis.schema import Column
    from migcheck.model import Finding

    @dataclass(frozen=True)
    class LockDC:
        relation: str
        mode: str
        rewrite: bool = False
        scan: bool = False
        note: str = ""

    for args in (("t", "SHARE"), ("s.t", "ACCESS EXCLUSIVE", True, False, "n")):
        assert hash(Lock(*args)) == hash(LockDC(*args))
        assert Lock(*args) == Lock(*args) and Lock(*args) != Lock("other", "SHARE")
    same = Column("a", None, True)
    assert same == Column("a", None, True) and same != Column("a", None, False) and same != "a"
    assert Finding("r", "error", "p", 1, 1, "m", "h") != Finding("r", "error", "p", 1, 2, "m", "h")


def test_config_compares_every_field_and_copies_with_changes():
    """Config is a Record (not a dataclass): equality over every field (``stats`` and ``risk``
    too, as the dataclass compared them), its repr without them, ``replace`` as dataclasses'."""
    from pathlib import Path

    from migcheck.config import Config

    base = Config(root=Path("/p"))
    assert base == Config(root=Path("/p")) and base != base.replace(stats="s.json")
    assert base.replace(risk={"high": "error"}) != base and base.replace(fail_on="warning").fail_on == "warning"
    assert "stats" not in repr(base) and "fail_on='error'" in repr(base)
    changed = base.replace(select=("safety",))
    assert (changed.select, base.select, changed.root) == (("safety",), None, Path("/p"))
    assert Config().severity is not Config().severity  # (a fresh dict each, as default_factory made)
    with pytest.raises(TypeError):
        base.replace(presett="goose")


@pytest.mark.parametrize(
    "text",
    ["", "\n", "a", "a\n", "a\nb", "a\n\nb\n", "\n\n\n", "x\r\ny\rz\n", "é\n€\n", "a\r\n", "\r"],
)
def test_line_starts_as_the_line_break_pattern_finds_them(text):
    from migcheck.source import _LINE_BREAK, Positions

    assert Positions(text).line_starts == [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
