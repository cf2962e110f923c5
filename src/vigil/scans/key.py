"""The scan key: which runs are one scan. Same roots and the same result-changing
configuration (limits, hashers and their pipelines, every stage with its version and
options, operator lexicons by content, the hash-list selection) resume one journal;
anything else is a new scan."""

import hashlib
import json
import typing as t

from vigil.pipeline.config import ScanOptions, WorkConfig


def scan_key(
    roots: t.Sequence[str], config: WorkConfig, options: ScanOptions | None = None
) -> str:
    identity = {
        "roots": sorted(roots),
        "work": config.identity(),
        "hash_lists": (
            None
            if options is None or options.hash_lists is None
            else sorted(options.hash_lists)
        ),
    }
    encoded = json.dumps(identity, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()
