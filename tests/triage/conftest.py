"""The triage tests share one small case folder (tests/triage_case.py)."""

from triage_case import case

__all__ = ["case"]
