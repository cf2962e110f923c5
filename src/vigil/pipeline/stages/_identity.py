"""Files known by their content in stage options, so that an edited lexicon or a
retrained head is a new scan key."""

import hashlib
import pathlib

#: Hex digits of the SHA-256 kept: enough to tell two versions of a file apart.
IDENTITY_HEX_DIGITS = 16


def file_identity(path: str) -> str:
    """`path#<sha256 prefix>`, or `path#unreadable`."""
    try:
        digest = hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()
    except OSError:
        return f"{path}#unreadable"
    return f"{path}#{digest[:IDENTITY_HEX_DIGITS]}"
