"""``migcheck lsp``: the language server for editors (optional extra ``migcheck[lsp]``).

This module is the click command only; pygls and lsprotocol are imported when it runs, so the
base install stays lean and ``migcheck check`` never pays for them.
"""

from __future__ import annotations

import click

INSTALL_HINT = "pip install 'migcheck[lsp]'"


def _missing() -> str | None:
    """Why the server cannot start (the extra is missing or too old), or None."""
    try:
        import lsprotocol.types  # noqa: F401
        from pygls.lsp.server import LanguageServer  # noqa: F401  (pygls 2 moved it here)
    except ImportError as exc:
        name = getattr(exc, "name", None) or "pygls"
        if name.startswith("pygls.lsp") or "LanguageServer" in str(exc):
            return f"`migcheck lsp` needs pygls 2 (an older pygls is installed): {INSTALL_HINT}"
        return f"`migcheck lsp` needs the lsp extra ({name.split('.')[0]} is not installed): {INSTALL_HINT}"
    return None


@click.command("lsp")
@click.option(
    "--stdio",
    is_flag=True,
    help="Talk over stdin/stdout (the default and only transport; accepted because editors pass it).",
)
def lsp(stdio: bool) -> int:
    """Run the language server (diagnostics as you type, quick fixes, lock hovers) on stdio."""
    problem = _missing()
    if problem:
        raise click.ClickException(problem)
    from .server import serve

    serve()
    return 0
