"""perfile.mentions answers "does the text name it" from the file's words summary exactly as a
lower-case substring search of its text would (issue 22: lazy summaries by name)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from migcheck.analysis import perfile


class Text:
    """What ``mentions`` reads of a file: its text (no digest: the summary is not memoised)."""

    digest = None

    def __init__(self, text: str):
        self.text = text


ALPHABET = st.sampled_from(list("abAB_$1 \n.;'\"()-é"))


@settings(max_examples=400, deadline=None)
@given(text=st.text(ALPHABET, max_size=60), name=st.text(ALPHABET, min_size=1, max_size=6))
def test_mentions_is_the_substring_search(text, name):
    name = name.lower()
    assert perfile.mentions(Text(text), [name]) == (name in text.lower())


def test_words_are_the_distinct_runs():
    assert perfile.words(Text("ALTER TABLE public.Leads ADD x$1 int; -- leads")) == \
        "add\nalter\nint\nleads\npublic\ntable\nx$1"
