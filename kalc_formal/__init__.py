"""kalc-formal: is upstream rate-limit failure reachable in this Kubernetes DNS setup?"""

from kalc_formal.errors import ConfigError, ConfigErrors, InvalidArgument, KalcError

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "ConfigErrors",
    "InvalidArgument",
    "KalcError",
    "__version__",
]
