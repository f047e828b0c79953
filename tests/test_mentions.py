"""perfile.mentions answers "does the text name it" from the file's words summary exactly as a
lower-case substring search of its text would (issue 22: lazy summaries by name)."""

from hypothesis import given, settings
from hypothesis import strategies as st

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
    assert perfile.mentions(Text(text), names) == any(n in text.lower() for n in names)


def test_a_file_that_cannot_be_read_names_nothing():
    """(the history readers skip such a file: its empty text would hold the empty name)"""
    broken = Text("DROP TABLE leads;", ("encoding-error", "not UTF-8", None))
    assert not perfile.mentions(broken, ["leads"]) and not perfile.mentions(broken, [""])
    assert not perfile.mentions(broken, ["my table"])


def test_words_are_the_distinct_runs():
    assert (
        perfile.words(Text("ALTER TABLE public.Leads ADD x$1 int; -- leads"))
        == "add\nalter\nint\nleads\npublic\ntable\nx$1"
    )
