"""The per-file summaries the cross-file analyses read, declared by name.

A rule that reads other files' summaries names them (``@rule(..., needs=("effects",))``); the
engine and the process pool compute the summaries the enabled rules need of each file while its
parse trees are there, and ship them between processes (``migcheck.summaries``), without knowing
what they are. Each summary is memoised on the file's bytes; none holds a parse tree.

One walk of the statements makes the one summary the schema model replays: ``effects``
(``analysis.effects``, with the ``analysis.specs`` facts of each statement); ``history`` (what the
rollback rules' index of earlier migrations reads) is a view of it, computed without a parse.
``schema`` (the indexes and foreign keys ``mixed-changes`` relates tables by) stays a light walk
of its own: it is read of every sibling by a one-file check where nothing else needs their
effects (``relations.file_schema``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .. import summaries


def _effects(f) -> None:
    from . import effects, rollback

    if rollback.readable(f):
        effects.file_effects(f)


def _history(f) -> None:
    from . import rollback

    summaries.summary(f, "history", rollback.history_effects)


def _schema(f) -> None:
    from . import relations

    summaries.summary(f, "schema", relations.file_schema)


def _words(f) -> None:
    summaries.summary(f, "words", words)


# name -> (the file kinds it is computed for, the function that computes and memoises it)
KINDS: dict[str, tuple[frozenset[str], Callable[[object], None]]] = {
    "effects": (frozenset({"migration", "rollback"}), _effects),  # the schema effects of each statement
    "history": (frozenset({"migration"}), _history),  # its CREATE/DROP/RENAME effects, for the history index
    "schema": (frozenset({"migration"}), _schema),  # the indexes and foreign keys it declares
    "words": (frozenset({"migration"}), _words),  # the words of its text without comments (``mentions``)
}


def computers(names) -> dict[str, list[Callable[[object], None]]]:
    """By file kind, the functions that compute the summaries ``names`` (in declaration order)."""
    out: dict[str, list[Callable[[object], None]]] = {}
    for name, (kinds, compute) in KINDS.items():
        if name in names:
            for kind in sorted(kinds):
                out.setdefault(kind, []).append(compute)
    return out


# --- which files name a table, by their words ----------------------------------------------------
# The readers of a migration's history (the lock rules, the rollback rules' index) look only at
# the earlier migrations whose statements name the object, as a lower-case substring (a superset
# of the exact matches). A name made of word characters can only occur inside one run of them, so
# the distinct runs of the file's text without its comments, joined by line feeds, answer that
# question exactly: the ``words`` summary, kept in the cache beside the pack, so a one-file check
# of a directory of thousands reads none of the other files' text. Without the comments, an edit
# of a comment leaves the words as they were: the results that read them (the cache's semantic
# fingerprint) are kept.

_RUN = re.compile(r"[\w$]+")
_WORDLIKE = re.compile(r"[\w$]*\Z")
_COMMENT_START = re.compile(r"--|/\*")
_UNREADABLE = "\0"  # (the words of a file that cannot be read: it names nothing, not even "")


def code(f) -> str:
    """``f``'s text without its comments (PostgreSQL's scanner finds them: ``source.comments``;
    each is replaced by a space, so the words on either side stay apart). Where the scanner stops
    (an unterminated string or comment), the rest is kept as it is; another dialect's text is
    kept whole: the text then holds more words, never fewer."""
    text = f.text
    if not _COMMENT_START.search(text) or getattr(getattr(f, "config", None), "dialect", "postgres") != "postgres":
        return text
    from .. import source

    pieces = []
    last = 0
    for c in source.comments(text, source.Positions(text)):
        pieces.append(text[last : c.start])
        last = c.start + len(c.text)
    if not pieces:
        return text
    pieces.append(text[last:])
    return " ".join(pieces)


def words(f) -> str:
    """The distinct runs of word characters (and ``$``) of ``f``'s lower-case text without its
    comments (``code``), one a line."""
    if f.read_problem:
        return _UNREADABLE
    return "\n".join(sorted(set(_RUN.findall(code(f).lower()))))


def _lowered(f) -> str:
    return _UNREADABLE if f.read_problem else code(f).lower()


def mentions(f, names: Iterable[str]) -> bool:
    """Does ``f``'s lower-case text without its comments hold one of ``names`` (lower case) as a
    substring? A file that cannot be read holds nothing."""
    names = list(names)
    if all(_WORDLIKE.match(n) for n in names):
        held = summaries.summary(f, "words", words)
    else:  # (a quoted name with other characters: the text itself, memoised but not kept)
        held = summaries.summary(f, "lowered", _lowered)
    return held != _UNREADABLE and any(n in held for n in names)


def unreadable(f) -> bool:
    """Can ``f`` not be read (``MigrationFile.read_problem``)? Answered from its words summary,
    so a reader of other files' summaries does not touch the file itself."""
    return summaries.summary(f, "words", words) == _UNREADABLE


def held_words(f) -> str | None:
    """``f``'s ``words`` summary (its distinct runs of word characters, one a line), or None when
    it cannot be read: ``mentions(f, [n])`` for a word-like ``n`` is ``n in held_words(f)``.
    (The schema model's index of a directory reads it: ``schema._Directory``.)"""
    held = summaries.summary(f, "words", words)
    return None if held == _UNREADABLE else held


def wordlike(name: str) -> bool:
    """Can ``name`` be looked up in ``held_words`` (else ``mentions`` reads the lowered text)?"""
    return _WORDLIKE.match(name) is not None
