"""Post the markdown report (``migcheck check --format markdown``) as one pull request comment and
update that same comment on every push, found again by the report's hidden marker. Where the
token may not write (a pull request from a fork) or there is no pull request (a push), the report
goes to the job summary (``$GITHUB_STEP_SUMMARY``) instead. Standard library only: it runs with
the Python the action set up, before or without migcheck's dependencies.

Environment: REPORT (the markdown file), GITHUB_TOKEN, and what the runner sets: GITHUB_API_URL,
GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_STEP_SUMMARY. Exit 0 unless the report is missing:
a comment that cannot be posted is a warning (the check step reports the findings anyway).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

MARKER = "<!-- migcheck:report -->"  # the first line of every report (migcheck.report.markdown_report.MARKER)
EMPTY = "No migration file was checked."  # what the report says when a pull request changes no migration


def _event() -> dict:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


class Api:
    def __init__(self, token: str, base: str, repo: str):
        self.token, self.base, self.repo = token, base.rstrip("/"), repo

    def call(self, method: str, path: str, body: dict | None = None):
        req = urllib.request.Request(
            f"{self.base}/repos/{self.repo}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode("utf-8"),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "Content-Type": "application/json",
                "User-Agent": "migcheck-action",
            },
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            data = resp.read()
        return json.loads(data) if data else None

    def find(self, number: int) -> int | None:
        """The id of the pull request's comment that holds the marker (the oldest, if several)."""
        page = 1
        while True:
            comments = self.call("GET", f"/issues/{number}/comments?per_page=100&page={page}") or []
            for c in comments:
                if MARKER in (c.get("body") or ""):
                    return c["id"]
            if len(comments) < 100:
                return None
            page += 1


def summary(report: str, why: str | None) -> None:
    """The report in the job summary, and why it is not a comment."""
    if why:
        print(f"::notice title=migcheck::{why}; the report is in the job summary")
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(report if report.endswith("\n") else report + "\n")
    else:
        sys.stdout.write(report)


def main() -> int:
    try:
        with open(os.environ["REPORT"], encoding="utf-8") as fh:
            report = fh.read()
    except (KeyError, OSError) as exc:
        print(f"::error title=migcheck::no markdown report to post ({exc})")
        return 2
    event = _event()
    pr = event.get("pull_request") or {}
    number = pr.get("number")
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    if not number:
        summary(report, None)  # a push: no pull request to comment on
        return 0
    head = ((pr.get("head") or {}).get("repo") or {}).get("full_name")
    if head and head != repo:
        summary(report, "a pull request from a fork: the token may not comment")
        return 0
    api = Api(os.environ.get("GITHUB_TOKEN", ""), os.environ.get("GITHUB_API_URL", "https://api.github.com"), repo)
    try:
        existing = api.find(number)
        if existing is not None:
            api.call("PATCH", f"/issues/comments/{existing}", {"body": report})
            print(f"migcheck: updated the report comment on pull request #{number}")
        elif EMPTY in report:
            print("migcheck: no migration changed, no comment")
        else:
            api.call("POST", f"/issues/{number}/comments", {"body": report})
            print(f"migcheck: posted the report on pull request #{number}")
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403, 404):
            summary(
                report,
                f"cannot comment on pull request #{number} (HTTP {exc.code}: the token needs "
                "`pull-requests: write`, which a pull request from a fork does not get)",
            )
        else:
            print(f"::warning title=migcheck::commenting on pull request #{number} failed: HTTP {exc.code}")
            summary(report, None)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"::warning title=migcheck::commenting on pull request #{number} failed: {exc}")
        summary(report, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
