"""The package layout cannot drift back: every import in the project runs one way.

``cli`` → ``web``, ``eval`` → ``service`` → ``llm`` → ``answer`` → ``ingest``, ``vectorstore``, ``prompts`` and the
shared bottom of ``app`` (settings, schemas, errors, the Jinja2 environment). ``web`` and ``eval`` never import each
other, and no module imports itself back through a cycle. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "ingest", "vectorstore", "prompts")

# Rank of each layer: a module may import only its own group or a lower rank.
LAYERS: dict[str, int] = {
    "app.cli": 5,
    "app.__main__": 6,
    "app.web": 4,
    "app.eval": 4,
    "app.service": 3,
    "app.llm": 2,
    "app.answer": 1,
}
BOTTOM = 0


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def group(module: str) -> str:
    """The layer a module belongs to: the longest LAYERS key that prefixes it, else the bottom."""
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return "bottom"


def rank(module: str) -> int:
    return LAYERS.get(group(module), BOTTOM)


def imported_modules(module: str, path: Path, known: set[str]) -> set[str]:
    """Every project module that ``module`` imports, resolving relative imports and ``from pkg import mod``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {module: imported_modules(module, path, known) for module, path in modules.items()}


def test_the_layout_has_the_four_concern_folders():
    for folder in ("answer", "llm", "web", "eval"):
        init = ROOT / "app" / folder / "__init__.py"
        assert init.is_file(), f"app/{folder}/ is missing its __init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text()))
        assert docstring and 1 <= len(docstring.splitlines()) <= 3, f"app/{folder}/__init__.py needs a 1-3 line docstring"


def test_imports_run_one_way():
    against = []
    for module, targets in import_graph().items():
        for target in targets:
            same_group = group(module) == group(target)
            if not same_group and rank(target) >= rank(module):
                against.append(f"{module} imports {target}")
    assert not against, "imports against the layer direction:\n" + "\n".join(sorted(against))


def test_no_import_cycles():
    graph = import_graph()
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" → ".join(trail[trail.index(target):] + [target]))
            elif target not in state:
                visit(target, trail + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize(
    ("importer", "target", "allowed"),
    [
        ("app.answer.extractive", "app.llm.generative", False),
        ("app.web.ui", "app.eval.reports", False),
        ("app.llm.support_check", "app.answer.text", True),
        ("app.service", "app.web.api", False),
        ("app.cli", "app.web.server", True),
        ("ingest.pipeline", "app.answer.text", False),
    ],
)
def test_the_rule_itself_tells_allowed_from_forbidden(importer, target, allowed):
    """The checker is not vacuous: it refuses the imports the layout forbids."""
    ok = group(importer) == group(target) or rank(target) < rank(importer)
    assert ok is allowed
