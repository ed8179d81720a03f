import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "name",
    [
        "inputs",
        "manifests",
        "placeholders",
        "podspec",
        "rollout",
        "autoscaling",
        "cluster",
    ],
)
def test_docstring_examples(name):
    module = importlib.import_module(f"kalc_formal.{name}")
    result = doctest.testmod(module)
    assert result.failed == 0


def test_input_stage_modules_import_no_later_stage():
    import ast
    import pathlib

    package = pathlib.Path(__file__).resolve().parent.parent / "kalc_formal"
    allowed = {
        "errors",
        "source",
        "inputs",
        "placeholders",
        "manifests",
        "podspec",
        "rollout",
        "placement",
        "autoscaling",
        "cluster",
    }
    for name in allowed - {"errors", "source"}:
        tree = ast.parse((package / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                top = node.module.split(".")
                assert top[0] != "z3", name
                if top[0] == "kalc_formal":
                    assert top[1] in allowed, (name, node.module)
            if isinstance(node, ast.Import):
                assert all(alias.name.split(".")[0] != "z3" for alias in node.names), (
                    name
                )
