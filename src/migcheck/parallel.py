"""Check many files on several processes (``migcheck check --jobs N``).

The main process builds the project (a directory listing), then starts the pool. Workers check
large chunks of files (``engine.check_file``) and send back plain data (``engine.FileResult``)
with the summaries the cross-file rules need of those files (``summaries.SHARED_KINDS``: no
parse trees). A worker's ``Context`` is partial: a file rule that needs the other files'
summaries raises ``registry.Deferred`` there and runs again here once every worker is done;
then the project rules run here, from the summaries, without parsing the files again. Where
``fork`` exists the workers inherit the project, the configuration and the imported modules;
elsewhere each worker collects the project again from the same arguments. A worker that dies
(killed, out of memory, a rule that calls ``os._exit``) makes the whole run fail with
``engine.EngineFailure``: never a partial result.
"""

from __future__ import annotations

import gc
from pathlib import Path

from . import engine, summaries

PROGRESS_EVERY = 50  # files between two progress reports of ``check_serial``
_STATE: tuple | None = None  # (project, config, file rules, enabled rules) in a worker


def _init(spawn_args) -> None:
    global _STATE
    if spawn_args is None:
        return  # forked: _STATE was set before the fork
    paths, config, cwd, overlay, rule_ids = spawn_args
    project = engine.collect(paths, config, cwd, None, overlay)
    rules = config.enabled_rules()
    _STATE = (project, config, [rules[r] for r in rule_ids], rules)


# What a file still holds after ``MigrationFile.release`` and its check: its bytes, text and line
# table go too (a 19,005-file run kept 45 MB of them); a rule that needs them later (a project
# rule's message) reads the file again. Its digest stays: the summaries are keyed on it.
_FORGET = ("positions", "_loaded", "data")


def check_serial(project, config, todo, file_rules, project_rules, rules, progress=None):
    """``--jobs 1`` on a large batch: the pool's flow in this process, so that memory stays that
    of one file's trees plus the summaries, not every file's trees at once. Same result as
    ``run``."""
    ctx = engine.Context(config, project, partial=True)
    needs = _needs(rules)
    results = {}
    for i, f in enumerate(todo, 1):
        results[f.path] = _check_one(f, file_rules, rules, ctx, needs)
        if progress is not None and (i % PROGRESS_EVERY == 0 or i == len(todo)):
            progress(i, len(todo))
    return _finish(project, config, todo, results, rules, project_rules)


def _check_one(f, file_rules, rules, ctx, needs) -> engine.FileResult:
    """Check ``f``, compute the summaries the cross-file rules need of it, free its trees."""
    result = engine.check_file(f, file_rules, rules, ctx)
    for compute in needs.get(f.kind, ()):
        compute(f)
    f.checked = True  # (a later parse of it, for another file's history, is freed at once: _free_fresh)
    _done(f)
    gc.collect(0)  # the few cycles of this file (a recursive local function holds its tree)
    return result


def _done(f) -> None:
    """Free what ``f`` holds beyond what the cross-file rules read (``_FORGET``)."""
    f.release()
    _ = f.digest  # (the summaries' key) before the bytes go: they are read again only if a rule asks
    if f.read_problem is None:
        f.decodes = True  # (files.MigrationFile.read_problem without the text)
    for name in _FORGET:
        f.__dict__.pop(name, None)


def _free_fresh(f, parsed: bool, due=None) -> None:
    """Free a file parsed only for a summary (``parsed``: its trees were there before), unless
    its own check is still to come (it is not ``checked`` and, when ``due`` is given, its id is
    in ``due``): then its trees serve that check."""
    if parsed or not hasattr(f, "release"):
        return
    if getattr(f, "checked", False) or (due is not None and id(f) not in due):
        _done(f)


def _finish(project, config, todo, results, rules, project_rules):
    """With every file's summaries here: the deferred file rules, then the project rules."""
    ctx = engine.Context(config, project)
    for f in todo:
        if results[f.path].deferred:
            engine.run_deferred(f, results[f.path], rules, ctx)
            f.release()
    p_hits, p_errors = engine.run_project_rules(project, project_rules, ctx)
    return results, p_hits, p_errors


def sibling_hook(project, rules):
    """For ``summaries.after_miss``: a file that is not reported (a sibling read only for the
    cross-file rules) gets every summary those rules need at once, then its trees are freed.
    Checking one file of a directory of thousands then holds one sibling's trees at a time.
    A reported file parsed only for that summary (an earlier migration a later one's lock
    rules read the history of, after its own check freed its trees) is freed again: 40 MB of
    trees kept to the end of a 6,635-file run otherwise."""
    needs = _needs(rules)
    busy: set[int] = set()

    def hook(f, parsed: bool = False) -> None:
        if id(f) in busy or not hasattr(f, "release"):
            return
        if project.is_reported(f):
            _free_fresh(f, parsed)
            return
        busy.add(id(f))
        try:
            for compute in needs.get(f.kind, ()):
                compute(f)
        finally:
            busy.discard(id(f))
            f.release()

    return hook


def _check_files(indices: list[int]) -> tuple[list[tuple[int, engine.FileResult]], list]:
    """Check the files, and compute on the way what the cross-file rules of the main process
    will need from them (``summaries.SHARED_KINDS``): they come back with the results."""
    project, config, file_rules, rules = _STATE
    ctx = engine.Context(config, project, partial=True)
    needs = _needs(rules)
    # (not the main process's hook, inherited: here a file parsed only for a summary, an earlier
    # migration whose history a later one reads, is freed, and its other summaries wait; unless
    # this chunk is yet to check it)
    chunk = {id(project.files[i]) for i in indices}
    summaries.after_miss = lambda f, parsed: _free_fresh(f, parsed, chunk)
    summaries.record()
    out = []
    with engine.no_gc():  # see engine.no_gc; one collection per chunk instead
        for i in indices:
            f = project.files[i]
            out.append((i, _check_one(f, file_rules, rules, ctx, needs)))
    gc.collect()
    return out, summaries.recorded()


def _needs(rules) -> dict[str, list]:
    """By file kind, the summaries the enabled cross-file rules read (declared with ``needs=``;
    the modules that compute them are imported when one is computed: a run served from the cache
    never parses)."""
    from .analysis import perfile

    # (and the words the schema model's readers ask of the earlier migrations, while the file's
    # text is here: ``engine.semantic_kinds``)
    return perfile.computers(
        {name for r in rules.values() for name in r.needs} | (engine.semantic_kinds(rules) & {"words"})
    )


def _chunks(items: list[int], workers: int, sizes: list[int]) -> list[list[int]]:
    """About four chunks per worker, balanced by bytes, each a run of neighbouring files."""
    n = max(workers * 4, 1)
    total = sum(sizes) or 1
    target = total / n
    chunks, cur, acc = [], [], 0
    for i, size in zip(items, sizes):
        cur.append(i)
        acc += size
        if acc >= target and len(chunks) < n - 1:
            chunks.append(cur)
            cur, acc = [], 0
    if cur:
        chunks.append(cur)
    return chunks


def run(project, config, todo, file_rules, project_rules, rules, workers: int, progress=None):
    """(FileResult by path for ``todo``, project hits by rule id, project errors)."""
    global _STATE
    index = {f.path: i for i, f in enumerate(project.files)}
    items = [index[f.path] for f in todo]
    sizes = []
    for f in todo:
        try:
            sizes.append(len(f.content) if f.content is not None else f.path.stat().st_size)
        except OSError:
            sizes.append(0)
    import multiprocessing  # (here: a small run never pays for importing them)
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods:
        mp = multiprocessing.get_context("fork")
        _STATE = (project, config, file_rules, rules)
        spawn_args = None
    else:
        mp = multiprocessing.get_context("spawn")
        overlay = {f.path: f.content for f in project.files if f.content is not None}
        spawn_args = (
            [str(f.path) for f in project.files if project.is_reported(f)],
            config,
            Path.cwd(),
            overlay,
            [r.id for r in file_rules],
        )
    results: dict = {}
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp, initializer=_init, initargs=(spawn_args,)) as pool:
            futures = [pool.submit(_check_files, chunk) for chunk in _chunks(items, workers, sizes)]
            for fut in futures:
                checked, computed = fut.result()
                summaries.absorb(computed)
                for i, fr in checked:
                    results[project.files[i].path] = fr
                if progress is not None:
                    progress(len(results), len(items))
    except BrokenProcessPool as exc:
        raise engine.EngineFailure(
            "a worker process died while checking files (killed, out of memory, or a rule ended the process); "
            "no result is reported. Run again with `--jobs 1` to check in one process and see which file and rule fail"
        ) from exc
    finally:
        _STATE = None
    return _finish(project, config, todo, results, rules, project_rules)
