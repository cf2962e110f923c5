"""Fixtures for the hashing tests: the public PDQ and camera files in ../shared.

Nothing is copied into the repository; tests that need these files skip when the shared
folder is absent.
"""

import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED_FIXTURES = REPO_ROOT / ".." / "shared" / "fixtures"


@pytest.fixture(scope="session")
def shared_fixtures() -> pathlib.Path:
    """`<repo>/../shared/fixtures`, or skip the test when it is not there."""
    if not (SHARED_FIXTURES / "MANIFEST.json").is_file():
        pytest.skip(f"shared fixtures not found at {SHARED_FIXTURES.resolve()}")
    return SHARED_FIXTURES.resolve()
