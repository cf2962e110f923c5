"""InvokeAI's three chunk layouts, built here."""

import json

import pytest
from gen_builders import png, run

from vigil.hashing.model import ModelHash, ModelHashKind
from vigil.provenance.base import LoRA
from vigil.provenance.generators.invokeai import InvokeAIExtractor, split_bracketed

BLAKE3 = "b1" * 32


def test_invokeai_metadata_v4_with_hashes_and_loras() -> None:
    meta = {
        "app_version": "5.4.2",
        "positive_prompt": "a glass teapot",
        "negative_prompt": "blurry",
        "seed": 7,
        "steps": 30,
        "cfg_scale": 6.5,
        "scheduler": "dpmpp_3m_k",
        "width": 1024,
        "height": 768,
        "model": {"key": "k1", "hash": f"blake3:{BLAKE3}", "name": "sdxl-base"},
        "vae": {"name": "sdxl-vae"},
        "loras": [
            {"model": {"name": "ink", "hash": "sha256:" + "ab" * 32}, "weight": 0.75},
            {"lora": {"model_name": "paper"}, "weight": 0.5},
        ],
    }
    data = png(text={"invokeai_metadata": json.dumps(meta)})
    found = run(data, [InvokeAIExtractor()])
    record = found.generation
    assert record is not None
    assert (record.tool, record.tool_version, record.source) == (
        "InvokeAI",
        "5.4.2",
        "png:invokeai_metadata",
    )
    assert (record.prompt, record.negative_prompt) == ("a glass teapot", "blurry")
    assert (record.seed, record.steps, record.cfg_scale) == (7, 30, 6.5)
    assert (record.sampler, record.width, record.height) == ("dpmpp_3m_k", 1024, 768)
    assert record.model_name == "sdxl-base"
    assert record.model_hash == ModelHash(ModelHashKind.BLAKE3, BLAKE3)
    assert record.loras == (
        LoRA("ink", 0.75, ModelHash(ModelHashKind.SHA256, "ab" * 32)),
        LoRA("paper", 0.5),
    )
    assert record.other_models == ("sdxl-vae",)


def test_sd_metadata_v2() -> None:
    meta = {
        "model": "stable diffusion",
        "model_weights": "stable-diffusion-1.5",
        "model_hash": "cc" * 32,
        "app_id": "invoke-ai/InvokeAI",
        "app_version": "2.3.5",
        "image": {
            "prompt": [{"prompt": "a lighthouse [fog, text]", "weight": 1.0}],
            "steps": 50,
            "cfg_scale": 7.5,
            "height": 512,
            "width": 512,
            "seed": 3357757885,
            "sampler": "k_lms",
            "type": "txt2img",
        },
    }
    record = run(png(text={"sd-metadata": json.dumps(meta)})).generation
    assert record is not None
    assert (record.tool, record.prompt, record.negative_prompt) == (
        "InvokeAI",
        "a lighthouse",
        "fog, text",
    )
    assert (record.seed, record.sampler, record.model_name) == (
        3357757885,
        "k_lms",
        "stable-diffusion-1.5",
    )
    assert record.model_hash == ModelHash(ModelHashKind.SHA256, "cc" * 32)


def test_dream_command_line() -> None:
    dream = (
        '"a lighthouse at night [fog]" -s 50 -S 1234 -W 512 -H 768 -C7.5 -A k_lms -F'
    )
    record = run(png(text={"Dream": dream})).generation
    assert record is not None
    assert (record.prompt, record.negative_prompt) == ("a lighthouse at night", "fog")
    assert (record.steps, record.seed, record.width, record.height) == (
        50,
        1234,
        512,
        768,
    )
    assert (record.cfg_scale, record.sampler) == (7.5, "k_lms")
    assert record.extra == {"arg0": "-F"}


@pytest.mark.parametrize(
    ("chunk", "text"),
    [
        ("Dream", '"unterminated -s 5'),
        ("sd-metadata", '{"image": "not an object"}'),
        ("invokeai_metadata", "[1, 2]"),
        ("invokeai_metadata", "{broken"),
    ],
)
def test_malformed_chunks_become_error_records(chunk: str, text: str) -> None:
    found = run(png(text={chunk: text}), [InvokeAIExtractor()])
    assert found.evidence == ()
    assert [e.reason for e in found.errors] == ["malformed_metadata"]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a cat", ("a cat", None)),
        ("a cat [dog] on a mat [blur]", ("a cat  on a mat", "dog, blur")),
        ("[only negative]", (None, "only negative")),
    ],
)
def test_split_bracketed(prompt: str, expected: tuple[str | None, str | None]) -> None:
    assert split_bracketed(prompt) == expected
