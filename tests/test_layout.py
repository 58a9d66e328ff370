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
