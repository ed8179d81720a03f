"""The house plan: imports flow one way, from the pipeline's first stage to its last.

This file is the only statement of the rule; README's stage table is checked against it.
A unit is a folder of ``kalc_formal`` or a top-level module. A unit may import its own
modules and units of earlier layers, never a unit of its own layer or a later one.
"""

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "kalc_formal"
README = PACKAGE.parent / "README.md"

LAYERS: list[tuple[str, set[str]]] = [
    ("positions", {"source"}),
    ("errors", {"errors"}),
    ("read", {"inputs", "golang", "model"}),
    ("domains", {"kubernetes", "coredns", "clients"}),
    ("config", {"config"}),
    ("analysis", {"analysis"}),
    ("views", {"views"}),
    ("check pipeline", {"engine"}),
    ("inspect pipeline", {"inspect"}),
    ("capacity pipeline", {"capacity"}),
    ("diff and suggest pipelines", {"review", "suggest"}),
    ("reliance pipeline", {"reliance"}),
    ("python API results", {"results"}),
    ("python API", {"api"}),
    ("public API", {"__init__"}),
    ("test-suite tools", {"pytest_plugin", "strategies"}),
    ("commands", {"commands"}),
    ("command line", {"cli"}),
    ("python -m", {"__main__"}),
]
SOLVER_MODULES = {"model/encode.py", "model/solve.py"}
"""The only modules that may import z3."""


def layer_of(unit):
    for index, (_, units) in enumerate(LAYERS):
        if unit in units:
            return index
    raise AssertionError(f"kalc_formal.{unit} has no layer in tests/test_layering.py")


def unit_of(path):
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def dotted(path):
    relative = path.relative_to(PACKAGE).with_suffix("")
    parts = ["kalc_formal", *relative.parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def imported_names(path):
    """Every module name the file imports, relative imports resolved, and for
    ``from package import name`` both the package and package.name."""
    tree = ast.parse(path.read_text())
    package = dotted(path)
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module
            for alias in node.names:
                yield f"{module}.{alias.name}"


def package_files():
    return sorted(PACKAGE.rglob("*.py"))


def internal_unit(name):
    parts = name.split(".")
    if parts[0] != "kalc_formal" or len(parts) < 2:
        return None
    candidate = parts[1]
    if (PACKAGE / candidate).is_dir() or (PACKAGE / f"{candidate}.py").is_file():
        return candidate
    return None


def test_every_unit_imports_only_itself_or_earlier_layers():
    problems = []
    for path in package_files():
        unit = unit_of(path)
        own = layer_of(unit)
        for name in imported_names(path):
            target = internal_unit(name)
            if target is None or target == unit:
                continue
            if layer_of(target) >= own:
                problems.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert problems == []


def test_the_rule_sees_relative_and_package_imports(tmp_path):
    module = PACKAGE / "analysis" / "flows.py"
    names = set(imported_names(module))
    assert "kalc_formal.model.flowmodel" in names
    probe = PACKAGE / "views" / "probe_for_layering_test.py"
    probe.write_text("from ..engine import check\nfrom kalc_formal import inspect\n")
    try:
        targets = {internal_unit(n) for n in imported_names(probe)}
    finally:
        probe.unlink()
    assert {"engine", "inspect"} <= targets


def test_only_the_solver_modules_import_z3():
    for path in package_files():
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in SOLVER_MODULES:
            continue
        assert not any(n == "z3" or n.startswith("z3.") for n in imported_names(path)), relative


def test_the_model_knows_nothing_of_kubernetes_coredns_or_clients():
    for path in (PACKAGE / "model").rglob("*.py"):
        for name in imported_names(path):
            target = internal_unit(name)
            assert target in (None, "model", "source", "errors"), f"{path.name} imports {name}"


def test_importing_the_package_does_not_import_z3():
    import subprocess
    import sys

    code = "import sys, kalc_formal; print('z3' in sys.modules, 'hypothesis' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False False"


def test_the_readme_stage_table_matches_the_layers():
    text = README.read_text()
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \| ([^|]+) \|", text, flags=re.MULTILINE)
    table = [(int(n), name.strip(), {u.strip(" `/") for u in units.split(",")}) for n, name, units in rows]
    expected = [(i, name, units) for i, (name, units) in enumerate(LAYERS)]
    assert table == expected, "README's 'How it works' table differs from tests/test_layering.py"


def test_the_reference_simulator_is_independent_of_the_counting_model():
    """tests/oracle/ may use the client resolvers and the command line, nothing else."""
    oracle = PACKAGE.parent / "tests" / "oracle"
    for path in sorted(oracle.glob("*.py")):
        for name in imported_names_of_file(path):
            target = internal_unit(name)
            assert target in (None, "clients", "cli"), f"tests/oracle/{path.name} imports {name}"


def imported_names_of_file(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
