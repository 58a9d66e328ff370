"""The package's layout rules: families import networks and the base, never each
other, and every family is in the contract suite's registry."""

import ast
from pathlib import Path

from families import FAMILIES

import tfgan_zoo
from tfgan_zoo.models.base import AdversarialModel

PACKAGE = Path(tfgan_zoo.__file__).parent
FAMILY_MODULES = sorted(path.stem for path in (PACKAGE / "models").glob("*.py") if path.stem not in ("__init__", "base"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names


def test_no_family_module_imports_another():
    for family in FAMILY_MODULES:
        others = {f"tfgan_zoo.models.{other}" for other in FAMILY_MODULES if other != family}
        assert not imported_modules(PACKAGE / "models" / f"{family}.py") & others, family


def test_every_family_is_in_the_contract_registry():
    families = {cls for cls in vars(tfgan_zoo.models).values()
                if isinstance(cls, type) and issubclass(cls, AdversarialModel) and cls is not tfgan_zoo.models.GAN}
    registered = {type(family.build()) for family in FAMILIES.values()}
    assert families <= registered, families - registered


# ------------------------------------------------------- the run half's layers
def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def top_level_imports(name: str) -> set[str]:
    """The package modules that ``name`` imports when it is imported (module-level
    statements only: an import inside a function runs later, on use).
    ``from tfgan_zoo.x import y`` names the module ``tfgan_zoo.x.y`` where that is one."""
    path, found = MODULES[name], set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


def modules_under(prefix: str) -> list[str]:
    return sorted(name for name in MODULES if name == prefix or name.startswith(prefix + "."))


def all_imports(name: str) -> set[str]:
    """Every import of the module, at any depth (function bodies too), as written."""
    return imported_modules(MODULES[name])


def reaches(module: str, forbidden: str) -> bool:
    return any(name == forbidden or name.startswith(forbidden + ".") for name in all_imports(module))


def test_runs_imports_neither_argparse_nor_the_experiment_code():
    for module in modules_under("tfgan_zoo.runs"):
        assert not reaches(module, "argparse"), module
        assert not reaches(module, "tfgan_zoo.experiment"), module


def test_models_and_networks_import_neither_runs_nor_experiment():
    for module in modules_under("tfgan_zoo.models") + modules_under("tfgan_zoo.networks"):
        for layer in ("tfgan_zoo.runs", "tfgan_zoo.experiment"):
            assert not reaches(module, layer), (module, layer)


def test_nothing_below_the_command_line_reads_an_argparse_namespace():
    """Only the command line (experiment/cli.py and its flags) parses; what it hands
    on is a RunSpec. Every package module that the rest of the experiment code
    loads is free of argparse."""
    command_line = ("tfgan_zoo.experiment", "tfgan_zoo.experiment.cli", "tfgan_zoo.experiment.flags")
    below, todo = set(), [name for name in modules_under("tfgan_zoo.experiment") if name not in command_line]
    while todo:
        name = todo.pop()
        if name in below or name in command_line:
            continue
        below.add(name)
        todo.extend(top_level_imports(name))
    assert "tfgan_zoo.runs.spec" in below and "tfgan_zoo.experiment.runner" in below
    assert not [name for name in sorted(below) if reaches(name, "argparse")]


def test_no_import_cycles_in_the_package():
    graph = {name: top_level_imports(name) for name in MODULES}
    state, cycles = {}, []

    def visit(name, path):
        state[name] = "open"
        for child in sorted(graph[name]):
            if state.get(child) == "open":
                cycles.append(path[path.index(child):] + [child] if child in path else [name, child])
            elif child not in state:
                visit(child, path + [child])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, cycles


def test_no_module_of_the_run_half_or_the_models_is_over_350_lines():
    long = {name: len(MODULES[name].read_text().splitlines())
            for prefix in ("tfgan_zoo.runs", "tfgan_zoo.experiment", "tfgan_zoo.models") for name in modules_under(prefix)}
    assert not {name: lines for name, lines in long.items() if lines > 350}
