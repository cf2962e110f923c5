"""Triage: priority and clusters over what scans recorded (the triage issue)."""
