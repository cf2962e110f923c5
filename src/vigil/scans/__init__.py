"""Scan orchestration above the store: run a scan on an engine, journal and resume
it, and the scan key that says which runs are one scan."""
