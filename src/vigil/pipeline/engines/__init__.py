"""Engines run a pure per-file function over many files: in-process, or in a process
pool."""
