"""The JSON Schemas of kalc-formal's JSON output, shipped with the package.

Every JSON document kalc-formal prints carries ``schema_version``; a change that removes
or renames a field, or changes its type, raises the major number; adding a field raises
the minor one. One schema per document: ``check``, ``diff``, ``capacity``, ``inspect``,
``lookup``, and ``error`` (bad input or an internal error, for every command).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA_VERSION = "1.1"
SCHEMA_NAMES = ("check", "diff", "capacity", "inspect", "lookup", "error")


def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one kind of output, by name."""
    if name not in SCHEMA_NAMES:
        raise ValueError(f"no schema named {name!r} (there are {', '.join(SCHEMA_NAMES)})")
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
