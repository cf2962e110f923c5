"""The server tests share one console (tests/console_case.py)."""

from console_case import case, console

__all__ = ["case", "console"]
