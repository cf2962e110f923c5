"""Contract suites every plugin must pass; third-party plugins can run them too.

    from vigil.testing import check_hasher
    check_hasher(MyHasher())

Each check raises AssertionError with a clear message on the first broken rule.
"""

from vigil.testing.contracts import (
    check_engine,
    check_extractor,
    check_format,
    check_hasher,
    check_identity,
    check_index,
    check_stage,
)
from vigil.testing.store_contract import check_store

__all__ = [
    "check_engine",
    "check_extractor",
    "check_format",
    "check_hasher",
    "check_identity",
    "check_index",
    "check_stage",
    "check_store",
]
