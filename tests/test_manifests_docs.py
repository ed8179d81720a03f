import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "name",
    [
        "inputs.files",
        "kubernetes.manifests",
        "inputs.placeholders",
        "kubernetes.podspec",
        "kubernetes.rollout",
        "kubernetes.autoscaling",
        "kubernetes.cluster",
    ],
)
def test_docstring_examples(name):
    module = importlib.import_module(f"kalc_formal.{name}")
    result = doctest.testmod(module)
    assert result.failed == 0
