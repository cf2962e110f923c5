"""The report tests share the triage case folder (tests/triage_case.py)."""

from triage_case import case

__all__ = ["case"]
