"""Shell: ``python -m kalc_formal``."""

from kalc_formal.cli import entrypoint

entrypoint()
