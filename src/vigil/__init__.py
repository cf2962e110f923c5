"""Vigil: offline-first toolkit to find, triage and assess known and AI-made CSAM."""

from vigil._version import __version__

#: The public library API (vigil.api), imported on first use so that `import vigil`
#: stays light.
_API = (
    "CheckResult",
    "Checker",
    "ItemCheck",
    "check_bytes",
    "check_file",
    "check_prompt",
    "inspect_model",
    "open_store",
    "scan",
)


def __getattr__(name: str) -> object:
    if name in _API:
        from vigil import api

        return getattr(api, name)
    raise AttributeError(f"module 'vigil' has no attribute {name!r}")


__all__ = ["__version__", *_API]
