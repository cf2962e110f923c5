"""Hashers: cryptographic digests of bytes and perceptual hashes of decoded images."""
