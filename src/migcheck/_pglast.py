"""pglast's parser without the 60 ms of pglast's package import (issue 14: the one-file check).

``import pglast`` runs its ``__init__``, which imports ``pglast.enums`` and, through the
``pglast.parser`` extension, ``pglast.ast``: about 60 ms, two thirds of ``python -c "import
pglast"``. migcheck calls only the extension's JSON functions (``parse_sql_json``,
``parse_plpgsql_json``, ``scan``, ``split``) and reads ``pglast.keywords``, none of which needs
those modules. So the first time migcheck needs the parser (and nothing imported pglast yet):

- ``pglast`` is registered as a package module whose ``__init__`` has not run yet; asking it for
  anything it does not have yet (``pglast.parse_sql``, ``pglast.__version__``, ...) runs the real
  ``__init__`` in place first, so to any other code it is the real package;
- the extension is loaded with forwarding stand-ins for ``pglast.ast``/``pglast.enums`` (it only
  binds the names at load time; on first use a stand-in imports the real module and answers
  from it), then the stand-ins leave ``sys.modules`` so that a later import gets the real ones.

pglast is pinned to major 8 (pyproject.toml); tests/test_pglast_loader.py checks that the
package still behaves as pglast after this, and that a check does not import ``pglast.ast``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types


class _Forward(types.ModuleType):
    """Stands for a pglast submodule the extension binds at load time but may never use."""

    def __getattr__(self, name):
        real = importlib.import_module(self.__name__)
        if real is self:  # still loading: nothing to forward to
            raise AttributeError(name)
        return getattr(real, name)


class _Package(types.ModuleType):
    """The ``pglast`` package, its ``__init__`` run on the first request for a name it lacks."""

    _completing = False
    _complete = False

    def __getattr__(self, name):
        if name.startswith("__") and name not in ("__version__", "__author__"):
            raise AttributeError(name)
        cls = type(self)
        if cls._complete or cls._completing:
            raise AttributeError(name)
        cls._completing = True
        try:
            with open(self.__spec__.origin, "rb") as fh:
                code = compile(fh.read(), self.__spec__.origin, "exec")
            exec(code, self.__dict__)
            cls._complete = True
        finally:
            cls._completing = False
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None


def _load():
    if "pglast" in sys.modules:  # already imported (the real package, or ours)
        from pglast import parser

        return parser
    spec = importlib.util.find_spec("pglast")
    if spec is None or not spec.submodule_search_locations:
        import pglast.parser  # not installed as a package: let the import say so

        return pglast.parser
    pkg = _Package("pglast")
    pkg.__spec__ = spec
    pkg.__file__ = spec.origin
    pkg.__path__ = list(spec.submodule_search_locations)
    pkg.__package__ = "pglast"
    pkg.__loader__ = spec.loader
    sys.modules["pglast"] = pkg
    try:  # (import_module, not "from pglast import x": that would ask the package first)
        pkg.Error = importlib.import_module("pglast.error").Error
        stubs = {name: _Forward(f"pglast.{name}") for name in ("ast", "enums")}
        for name, stub in stubs.items():
            sys.modules[f"pglast.{name}"] = stub
            setattr(pkg, name, stub)
        try:
            parser = importlib.import_module("pglast.parser")
        finally:
            for name, stub in stubs.items():
                if sys.modules.get(f"pglast.{name}") is stub:
                    del sys.modules[f"pglast.{name}"]
                if pkg.__dict__.get(name) is stub:
                    delattr(pkg, name)
    except BaseException:
        for name in [m for m in sys.modules if m == "pglast" or m.startswith("pglast.")]:
            del sys.modules[name]
        raise
    return parser


parser = _load()
keywords = importlib.import_module("pglast.keywords")  # a plain module of lists

__all__ = ["parser", "keywords"]
