"""Hypothesis profiles for the fuzz tests.

``ci`` (the default): bounded, runs in the normal test suite in a few seconds.
``long``: many examples, for a fuzzing session; run it on its own, e.g.

    timeout 700 .venv/bin/python -m pytest tests/fuzz --hypothesis-profile=long -x -q -p no:cacheprovider

(pass ``tests/fuzz`` explicitly: this conftest must be loaded before the hypothesis plugin reads
``--hypothesis-profile``, which happens only for the paths given on the command line.)
"""

import atexit
import json
import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

settings.register_profile("ci", max_examples=150, **_COMMON)
# long-run usage: `pytest tests/fuzz --hypothesis-profile=long` (stop it with `timeout`)
settings.register_profile("long", max_examples=1_000_000, **_COMMON)

# --hypothesis-profile on the command line wins; otherwise the bounded profile
if settings.get_current_profile_name() == "default":
    settings.load_profile("ci")


# Examples run, per test: written to $MIGCHECK_FUZZ_COUNT (if set) every 200 examples and at the
# end, so a long run stopped by `timeout` still says how many inputs it tried.

COUNTS: dict[str, int] = {}


def _dump() -> None:
    path = os.environ.get("MIGCHECK_FUZZ_COUNT")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(COUNTS, fh)


def count_example(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1
    if COUNTS[name] % 200 == 0:
        _dump()


atexit.register(_dump)
