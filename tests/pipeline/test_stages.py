"""The per-item pipeline: stages over one subject, decoded once per scale; one error
record per broken image; the config builder and the scan key."""

import dataclasses
import pathlib
import typing as t

import pytest

import vigil.media.subject as subject_module
from helpers import image_bytes
from vigil.media.base import Limits
from vigil.pipeline.config import ScanOptions, build_config
from vigil.pipeline.work import process_bytes
from vigil.plugins import build_registry
from vigil.scans.key import scan_key

REGISTRY = build_registry()


def test_an_image_is_decoded_once_per_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int | None] = []
    real = subject_module.decode_image

    def counting(*args: t.Any, **kwargs: t.Any) -> t.Any:
        calls.append(kwargs.get("target_px"))
        return real(*args, **kwargs)

    monkeypatch.setattr(subject_module, "decode_image", counting)
    config = build_config(REGISTRY, ScanOptions(pdq_variants=True))
    outcome = process_bytes("a.png", image_bytes(1, size=(700, 600)), config)
    (item,) = outcome.items
    assert item.variants and item.width == 700
    assert calls == [512]  # the hash and variant stages share one decode


def test_one_broken_image_gives_one_error_record() -> None:
    config = build_config(REGISTRY, ScanOptions(pdq_variants=True))
    outcome = process_bytes("b.jpg", image_bytes(2, fmt="JPEG")[:100], config)
    assert [e.reason for e in outcome.errors] == ["truncated"]
    assert {h.hasher for h in outcome.items[0].hashes} == {"md5", "sha1", "sha256"}


def test_stages_follow_the_options() -> None:
    names = [s.name for s in build_config(REGISTRY, ScanOptions()).stages]
    assert names == ["hash", "provenance", "prompt", "detect", "model"]
    no_provenance = build_config(REGISTRY, ScanOptions(provenance=False)).stages
    assert [s.name for s in no_provenance] == ["hash", "detect", "model"]
    bare = build_config(
        REGISTRY, ScanOptions(provenance=False, models=False, detect=False)
    )
    assert [s.name for s in bare.stages] == ["hash"]


def test_options_round_trip_through_the_stored_form() -> None:
    options = ScanOptions(
        hashers=("md5", "pdq"),
        extractors=("c2pa",),
        lexicons=("/x.tsv",),
        hash_lists=("known",),
        limits=Limits(max_pixels=1000),
        models=False,
    )
    assert ScanOptions.from_dict(options.as_dict()) == options
    assert ScanOptions.from_dict({**ScanOptions().as_dict(), "future": 1}) == (
        ScanOptions()
    )


def test_the_scan_key_covers_every_option_that_changes_results(
    tmp_path: pathlib.Path,
) -> None:
    roots = ["/evidence"]
    base = ScanOptions()

    def key(options: ScanOptions) -> str:
        return scan_key(roots, build_config(REGISTRY, options), options)

    lexicon = tmp_path / "extra.tsv"
    lexicon.write_text("# lexicon\n")
    keys = {
        "base": key(base),
        "extractors": key(dataclasses.replace(base, extractors=("c2pa",))),
        "variants": key(dataclasses.replace(base, pdq_variants=True)),
        "lists": key(dataclasses.replace(base, hash_lists=("known",))),
        "no lists": key(dataclasses.replace(base, hash_lists=())),
        "models": key(dataclasses.replace(base, models=False)),
        "lexicon": key(dataclasses.replace(base, lexicons=(str(lexicon),))),
        "limits": key(dataclasses.replace(base, limits=Limits(max_pixels=10))),
        "hashers": key(dataclasses.replace(base, hashers=("sha256",))),
    }
    assert len(set(keys.values())) == len(keys)
    lexicon.write_text("# lexicon, edited\n")
    edited = key(dataclasses.replace(base, lexicons=(str(lexicon),)))
    assert edited != keys["lexicon"]  # a lexicon is known by its content
    assert key(base) == keys["base"]
