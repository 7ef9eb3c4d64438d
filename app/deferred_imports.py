"""Packages whose own ``__init__`` runs only when one of its names is used, not when a submodule is imported.

LangChain's runnables import langsmith's run trees, which import one ``Literal`` from
``langsmith.types.run_select_field``. Importing that submodule runs ``langsmith.types/__init__.py`` first, and it
imports all of its 160 generated API types (pydantic models): 0.35 s of every cold ``newsdesk ask``, for classes that a
process with tracing off never touches (measured with ``python -X importtime`` and ``bench/bench_core.py
--cold-only``). Python imports a package before its submodules, so the only way to skip that ``__init__`` is to give
the package a module whose ``__path__`` is the real one and whose body runs on first attribute access: a submodule
import then finds its file, and ``langsmith.types.Run`` or ``from langsmith.types import Run`` load the real package
as before. Installed by the console script only (``app.__main__``), next to the collector settings.

This is safe for a package whose ``__init__`` only re-exports names from its submodules (``tests/test_deferred_imports.py``
checks that langsmith's still does). Two things still run the whole ``__init__``, which is merely the old cost:
``from langsmith.types import a_submodule`` (the import system asks ``hasattr`` first) and ``importlib.reload``.
While the ``__init__`` runs, other threads that read the package's names wait on a lock of this module's, which
Python's import deadlock detection does not see; ``langsmith.types`` imports only its own submodules, which never
read the package's names back.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

DEFERRED_PACKAGES = ("langsmith.types",)


class DeferredInit(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the named packages where Python would, and loads them as shells whose ``__init__`` runs on first use."""

    def __init__(self, packages: Sequence[str]) -> None:
        self.packages = frozenset(packages)

    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.packages:
            return None
        real = importlib.machinery.PathFinder.find_spec(fullname, path)
        if real is None or real.origin is None or real.submodule_search_locations is None:
            return None  # not an ordinary package on disk: import it the usual way
        spec = importlib.util.spec_from_file_location(
            fullname, real.origin, loader=self, submodule_search_locations=list(real.submodule_search_locations)
        )
        spec.loader_state = real
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        module.__getattr__ = _loader_on_first_use(module, module.__spec__.loader_state)


def _loader_on_first_use(module: ModuleType, real: importlib.machinery.ModuleSpec):
    """The shell's module ``__getattr__``: runs the package's real ``__init__`` into it once, then answers from it.

    While that ``__init__`` runs, the same thread's lookups of names it has not yet set fail as they would in a
    normal import (the import system asks ``hasattr`` before importing a submodule); other threads wait for it."""
    lock = threading.RLock()
    state = {"loaded": False, "loading": False}

    def __getattr__(name: str):
        with lock:
            if not state["loaded"] and not state["loading"]:
                state["loading"] = True
                try:
                    real.loader.exec_module(module)
                    state["loaded"] = True
                finally:
                    state["loading"] = False
                if module.__dict__.get("__getattr__") is __getattr__:
                    del module.__dict__["__getattr__"]
        if name in module.__dict__:
            return module.__dict__[name]
        own = module.__dict__.get("__getattr__")
        if state["loaded"] and own is not None and own is not __getattr__:
            return own(name)  # the package's own lazy names, if it has any
        raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")

    return __getattr__


def install(packages: Sequence[str] = DEFERRED_PACKAGES) -> None:
    """Defer the packages' ``__init__`` in this process; a package imported already is left as it is."""
    if not any(isinstance(finder, DeferredInit) for finder in sys.meta_path):
        sys.meta_path.insert(0, DeferredInit([name for name in packages if name not in sys.modules]))
