"""Git plumbing for ``check --diff REF``: which files changed since the merge base with REF.

Only ``git`` subprocesses, no library. Imported only when ``--diff`` is given.

"Changed" is the working tree against the merge base of REF and HEAD: what the branch
committed since it left REF (``git diff REF...HEAD``) plus staged, unstaged and untracked
(not ignored) changes, which is what a pull request will contain once it is pushed.
Renames count as a deletion and an addition: a deploy tool tracks migrations by name.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from .config import ConfigError
from .engine import Changes


class GitError(ConfigError):
    """``--diff`` cannot work here: not a git repository, unknown ref, no merge base (exit 2)."""


_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)


def _git(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    # settings a user's configuration could set that would change what the commands print
    cmd = [
        "git",
        "-c",
        "diff.relative=false",
        "-c",
        "diff.noprefix=false",
        "-c",
        "core.quotepath=false",
        "--literal-pathspecs",
        *args,
    ]
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise GitError("--diff needs git, and no `git` command was found on PATH") from None
    except OSError as exc:
        raise GitError(f"--diff: cannot run git: {exc}") from None
    if check and proc.returncode != 0:
        detail = os.fsdecode(proc.stderr).strip().splitlines()
        raise GitError(f"--diff: `git {' '.join(args)}` failed: {detail[-1] if detail else f'exit {proc.returncode}'}")
    return proc


def _z_list(data: bytes) -> list[str]:
    return [os.fsdecode(x) for x in data.split(b"\0") if x]


def changes(ref: str, cwd: Path) -> Changes:
    """The files changed since the merge base of ``ref`` and HEAD, as absolute paths in the
    terms of ``cwd`` (so they compare with the paths the engine builds)."""
    top_proc = _git(["rev-parse", "--show-cdup"], cwd, check=False)
    if top_proc.returncode != 0:
        raise GitError(f"--diff needs a git repository, and {cwd} is not inside a git work tree")
    top = Path(os.path.abspath(cwd / os.fsdecode(top_proc.stdout).strip()))

    if not ref or ref.startswith("-"):
        raise GitError(f"--diff: '{ref}' is not a git ref")
    if _git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], top, check=False).returncode != 0:
        raise GitError("--diff: the repository has no commit yet, so there is nothing to compare with")
    target = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], top, check=False)
    if target.returncode != 0:
        hint = ""
        remote, sep, branch = ref.partition("/")
        if sep and branch and _git(["remote"], top, check=False).stdout.split().count(remote.encode()):
            hint = (
                f" (fetch it first: `git fetch origin {branch}`)"
                if remote == "origin"
                else f" (fetch it first: `git fetch {remote} {branch}`)"
            )
        raise GitError(f"--diff: unknown git ref '{ref}'{hint}")
    target_sha = os.fsdecode(target.stdout).strip()

    mb = _git(["merge-base", target_sha, "HEAD"], top, check=False)
    if mb.returncode != 0 or not mb.stdout.strip():
        shallow = os.fsdecode(_git(["rev-parse", "--is-shallow-repository"], top, check=False).stdout).strip()
        hint = (
            (
                " (this clone is shallow: fetch the whole history, e.g. `fetch-depth: 0` for "
                "actions/checkout or `git fetch --unshallow`)"
            )
            if shallow == "true"
            else ""
        )
        raise GitError(f"--diff: '{ref}' and HEAD have no common ancestor{hint}")
    base = os.fsdecode(mb.stdout).strip()

    out = Changes(ref=ref, base=base[:12])
    common = ["-z", "--no-renames", "--no-ext-diff", "--no-textconv", "--ignore-submodules", base, "--"]
    fields = _z_list(_git(["diff", "--name-status", *common], top).stdout)
    # "0<TAB>0<TAB>path": no line changed, only the file mode (binary files say "-<TAB>-")
    same_text = {
        rec.split("\t", 2)[2]
        for rec in _z_list(_git(["diff", "--numstat", *common], top).stdout)
        if rec.startswith("0\t0\t")
    }
    for status, rel in zip(fields[0::2], fields[1::2]):
        path = Path(os.path.abspath(top / rel))
        code = status[:1]
        if code == "A":
            out.added.add(path)
        elif code == "D":
            out.deleted.add(path)
        elif code in ("M", "T", "U") and (code != "M" or rel not in same_text):
            out.modified.add(path)
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], top)
    out.added.update(Path(os.path.abspath(top / rel)) for rel in _z_list(untracked.stdout))

    def locate(path: Path) -> tuple[int, int] | None:
        # in the repository's terms, even when `path` came through a symbolic link
        real = os.path.join(os.path.realpath(os.path.dirname(os.path.abspath(path))), os.path.basename(path))
        rel = os.path.relpath(real, os.path.realpath(top)).replace(os.sep, "/")
        patch = _git(
            ["diff", "-U0", "--text", "--no-color", "--no-ext-diff", "--no-textconv", base, "--", rel], top, check=False
        )
        if patch.returncode != 0:
            return 1, 1  # git knows the file changed (--name-status said so), not where: the file
        m = _HUNK.search(patch.stdout)
        if m is None:
            return None  # a mode change only, or no change after all
        start, count = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
        if count == 0:  # lines deleted after line `start`
            return max(start, 1), max(start, 1)
        return start, start + count - 1

    out.locate = locate
    return out
