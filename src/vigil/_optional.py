"""Import heavy optional dependencies through one helper whose error names the extra.

Kept separate so that every optional import fails the same way, with the same advice.
"""

import importlib
import types


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; `install` is what to run."""

    def __init__(
        self, module: str, extra: str | None = None, *, packages: str | None = None
    ) -> None:
        if extra is not None:
            self.install = f"pip install 'vigil[{extra}]'"
        else:
            self.install = f"pip install {packages or module}"
        super().__init__(
            f"{module!r} is not installed; install it with: {self.install}"
        )
        self.module = module
        self.extra = extra


def import_optional(
    module: str, *, extra: str | None = None, packages: str | None = None
) -> types.ModuleType:
    """Import `module`, or raise MissingDependencyError naming the Vigil extra (or,
    for what no extra carries, the packages) to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module, extra, packages=packages) from exc
