import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "name",
    [
        "inputs.files",
        "inputs.yamlnodes",
        "kubernetes.manifests",
        "kubernetes.templates",
        "inputs.placeholders",
        "kubernetes.podspec",
        "kubernetes.rollout",
        "kubernetes.autoscaling",
        "kubernetes.cluster",
        "kubernetes.kinds",
        "kubernetes.objects",
        "kubernetes.resources",
    ],
)
def test_docstring_examples(name):
    module = importlib.import_module(f"kalc_formal.{name}")
    result = doctest.testmod(module)
    assert result.failed == 0
