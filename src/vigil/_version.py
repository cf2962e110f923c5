"""The installed version, for modules below the package's public API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vigil")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
