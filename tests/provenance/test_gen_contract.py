"""Every generator extractor on hostile input: any bytes under any media kind, and
valid files with bytes flipped, give evidence, nothing or error records, never a
crash; what they give is plain JSON."""

import json

import hypothesis.strategies as st
import pytest
from gen_builders import embed_stealth, pixels, png, stealth_payload, user_comment_jpeg
from hypothesis import HealthCheck, given, settings

from vigil.media.base import Limits, MediaKind
from vigil.provenance.generators import GENERATOR_EXTRACTORS
from vigil.provenance.run import EXTRACTOR_FAILED_REASON, Provenance, extract_all


def _check(found: Provenance) -> None:
    assert all(e.reason != EXTRACTOR_FAILED_REASON for e in found.errors), found.errors
    for evidence in found.evidence:
        json.dumps(evidence.as_dict())
    if found.generation is not None:
        json.dumps(found.generation.as_dict())


def _run(data: bytes, kind: MediaKind) -> Provenance:
    extractors = [cls() for cls in GENERATOR_EXTRACTORS]
    return extract_all(data, kind, extractors, Limits())


def test_classes_have_stable_unique_names() -> None:
    names = [cls.name for cls in GENERATOR_EXTRACTORS]
    assert names == [
        "novelai",
        "comfyui",
        "invokeai",
        "swarmui",
        "fooocus",
        "a1111",
        "stealth",
    ]


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=512), kind=st.sampled_from(list(MediaKind)))
def test_any_bytes_under_any_kind(data: bytes, kind: MediaKind) -> None:
    _check(_run(data, kind))


def _samples() -> list[tuple[bytes, MediaKind]]:
    infotext = "a kite\nSteps: 5, Sampler: Euler, Seed: 1, Size: 16x16"
    stealth = stealth_payload(infotext, "alpha", compressed=True)
    marked = embed_stealth(pixels((40, 40), "RGBA"), stealth, "alpha")
    graph = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m"}},
        "2": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": "t", "clip": ["1", 1]},
        },
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 1,
                "steps": 2,
                "positive": ["2", 0],
                "negative": ["2", 0],
            },
        },
    }
    nai = {"prompt": "p", "uc": "u", "scale": 5, "sampler": "k", "signed_hash": "AA=="}
    return [
        (png(marked, text={"parameters": infotext}), MediaKind.PNG),
        (png(ztxt={"prompt": json.dumps(graph)}), MediaKind.PNG),
        (png(text={"Software": "NovelAI", "Comment": json.dumps(nai)}), MediaKind.PNG),
        (
            user_comment_jpeg(b"UNICODE\x00" + infotext.encode("utf-16-be")),
            MediaKind.JPEG,
        ),
    ]


SAMPLES = _samples()


@pytest.mark.parametrize("index", range(len(SAMPLES)))
def test_samples_are_read(index: int) -> None:
    data, kind = SAMPLES[index]
    found = _run(data, kind)
    assert found.is_ai and found.errors == ()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(min_value=0, max_value=len(SAMPLES) - 1),
    flips=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=255)),
        min_size=1,
        max_size=8,
    ),
)
def test_valid_files_with_flipped_bytes(
    index: int, flips: list[tuple[int, int]]
) -> None:
    data, kind = SAMPLES[index]
    mutated = bytearray(data)
    for position, mask in flips:
        mutated[position % len(mutated)] ^= mask
    _check(_run(bytes(mutated), kind))


def test_truncations_of_every_sample() -> None:
    for data, kind in SAMPLES:
        for end in range(0, len(data), max(1, len(data) // 40)):
            _check(_run(data[:end], kind))
