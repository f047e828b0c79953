"""The ``migcheck`` command's entry point (``python -m migcheck`` too).

The cyclic garbage collector is off from the start: a one-file check is mostly imports, and the
collector's passes over the objects they create (modules, classes, functions: no garbage) were
about 5% of it (issue 22). A check runs with the collector off anyway (``engine.check``); every
other command turns it back on before it runs (``cli.cli``: the editor's server and ``verify``
run for long)."""

from __future__ import annotations

import gc


def main() -> int:
    gc.disable()
    from .cli import main as cli_main

    return cli_main()
