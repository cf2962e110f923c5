"""Import heavy optional dependencies through one helper whose error names the extra.

Kept separate so that every optional import fails the same way, with the same advice.
"""

import importlib
import types


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; `extra` is what to install."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"{module!r} is not installed; install it with: "
            f"pip install 'vigil[{extra}]'"
        )
        self.module = module
        self.extra = extra


def import_optional(module: str, *, extra: str) -> types.ModuleType:
    """Import `module`, or raise MissingDependencyError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module, extra) from exc
