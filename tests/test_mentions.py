"""perfile.mentions answers "does the text name it" from the file's words summary exactly as a
lower-case substring search of its text without its comments would (issue 22: lazy summaries by
name; a comment edited leaves the words, and what read them, as they were)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from migcheck import source
from migcheck.analysis import perfile


class Text:
    """What ``mentions`` reads of a file: its text (no digest: the summary is not memoised)."""

    digest = None

    def __init__(self, text: str, problem=None):
        self.text = "" if problem else text
        self.read_problem = problem


ALPHABET = st.sampled_from(list("abAB_$1 \n.;'\"()-é"))


@settings(max_examples=400, deadline=None)
@given(text=st.text(ALPHABET, max_size=60), names=st.lists(st.text(ALPHABET, max_size=6), min_size=1, max_size=3))
def test_mentions_is_the_substring_search(text, names):
    names = [n.lower() for n in names]
    code = without_comments(text).lower()
    assert perfile.mentions(Text(text), names) == any(n in code for n in names)


def without_comments(text: str) -> str:
    """The text with each comment ``source.comments`` finds replaced by a space."""
    out, last = [], 0
    for c in source.comments(text, source.Positions(text)):
        out.append(text[last : c.start])
        last = c.start + len(c.text)
    return " ".join([*out, text[last:]]) if out else text


ALPHABET_SQL = st.sampled_from([*"ab_$ \n;'\"-*/", "--", "/*", "*/", "$$", "E'", "\\"])


@settings(max_examples=400, deadline=None)
@given(text=st.lists(ALPHABET_SQL, max_size=40).map("".join), name=st.sampled_from(["a", "b", "ab", "a_b", "$"]))
def test_comments_hold_no_words(text, name):
    """Comments, strings and dollar quotes mixed: a name is found outside the comments only."""
    assert perfile.mentions(Text(text), [name]) == (name in without_comments(text).lower())


def test_a_comment_adds_no_words():
    sql = "ALTER TABLE leads ADD note text; -- orders\n/* accounts */"
    assert perfile.words(Text(sql)) == perfile.words(Text(sql.replace("orders", "x").replace("accounts", "y")))
    assert not perfile.mentions(Text(sql), ["orders"]) and not perfile.mentions(Text(sql), ["accounts"])
    assert perfile.mentions(Text("SELECT '-- orders';"), ["orders"])  # (a string is no comment)
    assert perfile.mentions(Text("DO $$ BEGIN -- orders\nEND $$;"), ["orders"])  # (a body's comment stays)


def test_a_file_that_cannot_be_read_names_nothing():
    """(the history readers skip such a file: its empty text would hold the empty name)"""
    broken = Text("DROP TABLE leads;", ("encoding-error", "not UTF-8", None))
    assert not perfile.mentions(broken, ["leads"]) and not perfile.mentions(broken, [""])
    assert not perfile.mentions(broken, ["my table"])


def test_words_are_the_distinct_runs():
    assert (
        perfile.words(Text("ALTER TABLE public.Leads ADD x$1 int; -- orders"))
        == "add\nalter\nint\nleads\npublic\ntable\nx$1"
    )
