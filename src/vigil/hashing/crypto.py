"""Cryptographic digests of file bytes: MD5, SHA-1 and SHA-256.

MD5 and SHA-1 are broken for collision resistance but remain the keys of most hotline
hash lists, so they are computed for matching, never for security (`usedforsecurity`).
They are kept apart from `digest.py`, which feeds any set of stream hashers in one read.
"""

import hashlib
import typing as t

from vigil.hashing.base import HasherExample, StreamHasher, StreamState


class MD5Hasher(StreamHasher):
    """MD5 (RFC 1321)."""

    name: t.ClassVar[str] = "md5"
    hex_length: t.ClassVar[int] = 32

    def new(self) -> StreamState:
        return hashlib.md5(usedforsecurity=False)

    def examples(self) -> list[HasherExample]:
        # RFC 1321, appendix A.5 "Test suite".
        source = "RFC 1321 appendix A.5 test suite"
        return [
            HasherExample(b"", "d41d8cd98f00b204e9800998ecf8427e", source),
            HasherExample(b"abc", "900150983cd24fb0d6963f7d28e17f72", source),
            HasherExample(
                b"message digest", "f96b697d7cb7938d525a2f31aaf161d0", source
            ),
        ]


class SHA1Hasher(StreamHasher):
    """SHA-1 (FIPS 180-4)."""

    name: t.ClassVar[str] = "sha1"
    hex_length: t.ClassVar[int] = 40

    def new(self) -> StreamState:
        return hashlib.sha1(usedforsecurity=False)

    def examples(self) -> list[HasherExample]:
        # FIPS 180-2 appendix A.1 and A.2 (one-block and multi-block messages).
        source = "FIPS 180-2 appendix A"
        return [
            HasherExample(b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d", source),
            HasherExample(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
                source,
            ),
        ]


class SHA256Hasher(StreamHasher):
    """SHA-256 (FIPS 180-4)."""

    name: t.ClassVar[str] = "sha256"
    hex_length: t.ClassVar[int] = 64

    def new(self) -> StreamState:
        return hashlib.sha256()

    def examples(self) -> list[HasherExample]:
        # FIPS 180-2 appendix B.1 and B.2 (one-block and multi-block messages).
        source = "FIPS 180-2 appendix B"
        return [
            HasherExample(
                b"abc",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                source,
            ),
            HasherExample(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                source,
            ),
        ]
