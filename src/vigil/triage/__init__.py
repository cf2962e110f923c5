"""Scan orchestration: a source becomes recorded items, hashes and error records."""
