"""MD5, SHA-1 and SHA-256 against published test vectors and hashlib."""

import hashlib

import pytest

from vigil.hashing.base import StreamHasher
from vigil.hashing.crypto import MD5Hasher, SHA1Hasher, SHA256Hasher

HASHERS: list[StreamHasher] = [MD5Hasher(), SHA1Hasher(), SHA256Hasher()]

# One million repetitions of "a": FIPS 180-2 appendices A.3 and B.3; RFC 1321 has no
# such vector, the MD5 value is the widely published one (and checked against hashlib).
MILLION_A_VECTORS = {
    "md5": "7707d6ae4e027c70eea2a935c2296f21",
    "sha1": "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
    "sha256": "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
}


@pytest.mark.parametrize(
    ("hasher", "name", "hex_length"),
    [
        (MD5Hasher(), "md5", 32),
        (SHA1Hasher(), "sha1", 40),
        (SHA256Hasher(), "sha256", 64),
    ],
)
def test_names_and_lengths(hasher: StreamHasher, name: str, hex_length: int) -> None:
    assert hasher.name == name
    assert hasher.pipeline == name
    assert hasher.hex_length == hex_length
    state = hasher.new()
    state.update(b"")
    assert len(state.hexdigest()) == hex_length


@pytest.mark.parametrize("hasher", HASHERS, ids=lambda h: h.name)
def test_examples_are_reproduced(hasher: StreamHasher) -> None:
    examples = hasher.examples()
    assert len(examples) >= 2
    for example in examples:
        state = hasher.new()
        state.update(example.data)
        assert state.hexdigest() == example.value
        assert example.value == hashlib.new(hasher.name, example.data).hexdigest()
        assert example.source


def test_abc_vectors() -> None:
    values = {}
    for hasher in HASHERS:
        state = hasher.new()
        state.update(b"abc")
        values[hasher.name] = state.hexdigest()
    assert values == {
        "md5": "900150983cd24fb0d6963f7d28e17f72",
        "sha1": "a9993e364706816aba3e25717850c26c9cd0d89d",
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    }


@pytest.mark.parametrize("hasher", HASHERS, ids=lambda h: h.name)
def test_chunked_updates_match_one_update(hasher: StreamHasher) -> None:
    state = hasher.new()
    for _ in range(1000):
        state.update(b"a" * 1000)
    assert state.hexdigest() == MILLION_A_VECTORS[hasher.name]


def test_states_are_independent() -> None:
    hasher = SHA256Hasher()
    first, second = hasher.new(), hasher.new()
    first.update(b"abc")
    assert second.hexdigest() == hashlib.sha256(b"").hexdigest()
    assert first.hexdigest() != second.hexdigest()
