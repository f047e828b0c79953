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
