"""Imports flow one way: each pipeline stage imports only earlier stages."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "kalc_formal"

STAGES = [
    {"source", "errors", "settings"},
    {"inputs", "placeholders", "manifests", "podspec", "rollout", "placement", "autoscaling", "cluster",
     "corefile", "plugins", "resolvconf", "resolver", "envspec"},
    {"flowmodel", "dnsserver", "keyclasses", "analysis", "podclasses", "flows", "plans"},
    {"concrete", "encode", "solve"},
    {"explain", "report", "engine", "inspection"},
    {"cli", "__main__", "__init__", "commands"},
]
SOLVER_FREE = set().union(*STAGES[:3]) | {"concrete"}


def stage_of(module):
    for index, names in enumerate(STAGES):
        if module in names:
            return index
    raise AssertionError(f"kalc_formal.{module} has no stage in tests/test_layering.py")


def imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        name = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        yield name, path


def test_every_module_imports_only_its_own_or_earlier_stages():
    for name, path in modules():
        own = stage_of(name)
        for imported in imports(path):
            if not imported.startswith("kalc_formal."):
                continue
            target = imported.split(".")[1]
            assert stage_of(target) <= own, f"{path.name} imports {imported}"


def test_the_input_stage_and_the_simulator_never_import_z3():
    for name, path in modules():
        if name in SOLVER_FREE:
            assert "z3" not in set(imports(path)), f"{path.name} imports z3"


def test_importing_the_package_does_not_import_z3():
    import subprocess
    import sys

    code = "import sys, kalc_formal; print('z3' in sys.modules, 'hypothesis' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False False"
