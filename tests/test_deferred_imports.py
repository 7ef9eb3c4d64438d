"""``app.deferred_imports``: langsmith's generated API types load when used, not whenever LangChain is imported.

Each case runs in a fresh interpreter: the pytest process has imported langsmith already, and the finder changes
how a process imports for its whole life.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_python(code: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_importing_langchain_leaves_the_generated_types_unloaded_until_one_is_used():
    shown = run_python(
        """
        import sys
        from app import deferred_imports
        deferred_imports.install()
        import langchain_core.runnables.base  # what the answer chain imports; it imports langsmith's run trees
        print("langsmith.types.run_select_field" in sys.modules, "langsmith.types.run" in sys.modules)
        import langsmith.types
        from langsmith.types import Dataset
        print(langsmith.types.Run.__module__, Dataset.__module__, "langsmith.types.run" in sys.modules)
        print(hasattr(langsmith.types, "NoSuchType"))
        """
    )
    assert shown == ["True", "False", "langsmith.types.run", "langsmith.types.dataset", "True", "False"]


def test_without_the_finder_the_same_import_loads_every_type():
    """The baseline the finder exists for: if langsmith stops importing the whole package, this fails and the
    finder can go."""
    shown = run_python(
        """
        import sys
        import langchain_core.runnables.base
        print("langsmith.types.run" in sys.modules)
        """
    )
    assert shown == ["True"]


def test_the_deferred_init_only_re_exports_its_submodules():
    """Deferring an ``__init__`` is safe only while it does nothing but import names from its submodules: code such
    as ``model_rebuild()`` calls there would leave a submodule imported alone half set up. If langsmith adds any,
    this fails, and ``DEFERRED_PACKAGES`` must drop the package."""
    import ast
    import importlib.util

    from app.deferred_imports import DEFERRED_PACKAGES

    for package in DEFERRED_PACKAGES:
        origin = importlib.util.find_spec(package).origin
        tree = ast.parse(open(origin, encoding="utf-8").read())
        body = [node for node in tree.body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
        others = [ast.dump(node)[:80] for node in body
                  if not (isinstance(node, ast.ImportFrom) and (node.level == 1 or node.module == "__future__"))]
        assert body and others == [], f"{package}/__init__.py does more than re-export: {others[:3]}"


def test_threads_that_use_the_package_at_once_all_get_the_loaded_names():
    shown = run_python(
        """
        import threading
        from app import deferred_imports
        deferred_imports.install()
        import langsmith.types.run_select_field
        import langsmith.types as types
        barrier, found = threading.Barrier(4), []
        def use():
            barrier.wait()
            found.append(types.Run)
        threads = [threading.Thread(target=use) for _ in range(4)]
        for thread in threads: thread.start()
        for thread in threads: thread.join()
        print(len(found), len({id(cls) for cls in found}), found[0].__name__)
        """
    )
    assert shown == ["4", "1", "Run"]


def test_a_package_imported_before_install_is_left_as_it_is():
    shown = run_python(
        """
        import sys
        import langsmith.types
        from app import deferred_imports
        deferred_imports.install()
        print(type(sys.modules["langsmith.types"].__spec__.loader).__name__, "__getattr__" in vars(langsmith.types))
        """
    )
    assert shown == ["SourceFileLoader", "False"]
