"""A1111/Forge infotext: the text format, LoRA joins, tool naming, and the places it
is stored (PNG chunk, EXIF UserComment in both UTF-16 byte orders and ASCII)."""

import hypothesis.strategies as st
import pytest
from gen_builders import png, run, user_comment_jpeg
from hypothesis import given, settings

from vigil.hashing.model import ModelHash, ModelHashKind
from vigil.provenance.base import LoRA
from vigil.provenance.generators.a1111 import A1111Extractor, parse_a1111, parse_pairs

INFOTEXT = (
    "a lighthouse on a cliff, <lora:coastline_v2:0.7>, dusk\n"
    "<lyco:paint_style:0.4:0.2>\n"
    "Negative prompt: blurry,\nlowres\n"
    "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, "
    "Seed: 1234567890, Size: 832x1216, Model hash: 31e35c80fc, Model: sdxl_base, "
    'Lora hashes: "coastline_v2: 0a1b2c3d4e5f, unused_lora: 112233445566", '
    'TI hashes: "easyneg: c74b4e810b03", '
    'ADetailer prompt: "calm sea, soft light", Version: v1.10.1'
)


def test_parses_prompt_negative_and_parameters() -> None:
    record = parse_a1111(INFOTEXT, "png:parameters")
    assert record is not None
    assert record.tool == "AUTOMATIC1111"
    assert record.tool_version == "v1.10.1"
    assert record.prompt == (
        "a lighthouse on a cliff, <lora:coastline_v2:0.7>, dusk\n"
        "<lyco:paint_style:0.4:0.2>"
    )
    assert record.negative_prompt == "blurry,\nlowres"
    assert (record.steps, record.seed, record.cfg_scale) == (28, 1234567890, 6.5)
    assert (record.width, record.height) == (832, 1216)
    assert record.sampler == "DPM++ 2M"
    assert record.model_name == "sdxl_base"
    assert record.model_hash == ModelHash(ModelHashKind.AUTOV2, "31e35c80fc")
    # A quoted value keeps its commas.
    assert record.extra["ADetailer prompt"] == "calm sea, soft light"
    assert record.extra["Schedule type"] == "Karras"


def test_loras_join_prompt_tags_with_hashes_by_name() -> None:
    record = parse_a1111(INFOTEXT, "png:parameters")
    assert record is not None
    assert record.loras == (
        LoRA("coastline_v2", 0.7, ModelHash(ModelHashKind.AUTOV3, "0a1b2c3d4e5f")),
        LoRA("paint_style", 0.4, None, "lycoris"),
        LoRA("unused_lora", None, ModelHash(ModelHashKind.AUTOV3, "112233445566")),
        LoRA(
            "easyneg",
            None,
            ModelHash(ModelHashKind.AUTOV3, "c74b4e810b03"),
            "embedding",
        ),
    )


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("925997e9", ModelHashKind.AUTOV1),
        ("31e35c80fc", ModelHashKind.AUTOV2),
        ("0a1b2c3d4e5f", ModelHashKind.AUTOV3),
        ("AB" * 32, ModelHashKind.SHA256),
    ],
)
def test_model_hash_kind_follows_its_length(value: str, kind: ModelHashKind) -> None:
    text = f"a cat\nSteps: 20, Seed: 1, Model hash: {value}, Model: m"
    record = parse_a1111(text, "png:parameters")
    assert record is not None
    assert record.model_hash == ModelHash(kind, value.lower())


def test_unknown_hash_length_is_not_a_model_hash() -> None:
    text = "x\nSteps: 20, Seed: 1, Model hash: abc123"
    record = parse_a1111(text, "png:parameters")
    assert record is not None and record.model_hash is None


@pytest.mark.parametrize(
    ("version", "tool", "tool_version"),
    [
        (
            "f2.0.1v1.10.1-previous-535-gb20cb4bf",
            "Forge",
            "f2.0.1v1.10.1-previous-535-gb20cb4bf",
        ),
        ("v1.9.4-169-ga30b19dd", "AUTOMATIC1111", "v1.9.4-169-ga30b19dd"),
        ("Fooocus v2.5.5", "Fooocus", "v2.5.5"),
    ],
)
def test_tool_is_named_from_version(version: str, tool: str, tool_version: str) -> None:
    text = f"a cat\nSteps: 20, Sampler: Euler, Seed: 3, Version: {version}"
    record = parse_a1111(text, "png:parameters")
    assert record is not None
    assert (record.tool, record.tool_version) == (tool, tool_version)


@pytest.mark.parametrize(
    "hashes",
    [
        '{"model": "31e35c80fc", "lora:fur": "aabbccddeeff"}',
        '"{\\"model\\": \\"31e35c80fc\\", \\"lora:fur\\": \\"aabbccddeeff\\"}"',
    ],
)
def test_civitai_hashes_json_fills_model_and_lora_hashes(hashes: str) -> None:
    text = f"a cat <lora:fur:0.5>\nSteps: 20, Seed: 3, Model: m, Hashes: {hashes}"
    record = parse_a1111(text, "png:parameters")
    assert record is not None
    assert record.model_hash == ModelHash(ModelHashKind.AUTOV2, "31e35c80fc")
    assert record.loras == (
        LoRA("fur", 0.5, ModelHash(ModelHashKind.AUTOV3, "aabbccddeeff")),
    )


def test_lines_after_the_parameters_line_are_kept() -> None:
    text = "a cat\nSteps: 20, Sampler: Euler, Seed: 3\nTemplate: a {cat|dog}"
    record = parse_a1111(text, "png:parameters")
    assert record is not None
    assert (record.prompt, record.seed) == ("a cat", 3)
    assert record.extra["trailing_lines"] == "Template: a {cat|dog}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "just a caption",
        "a cat\nNegative prompt: dog",
        "Sampler: Euler, Seed: 3, Size: 5x5",  # no Steps: not infotext
        "Steps: twenty, Sampler: Euler, Seed: 3",
        "a cat\nSteps: 20",  # a lone pair is prose, not a parameters line
    ],
)
def test_text_without_a_parameters_line_is_not_a1111(text: str) -> None:
    assert parse_a1111(text, "png:parameters") is None


def test_parse_pairs_unquotes_json_strings() -> None:
    pairs = parse_pairs('Steps: 5, Note: "a, \\"b\\"", Seed: 7')
    assert pairs == {"Steps": "5", "Note": 'a, "b"', "Seed": "7"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_parser_never_raises_on_any_text(text: str) -> None:
    record = parse_a1111(text, "png:parameters")
    assert record is None or record.steps is not None or "Steps" in text


@settings(max_examples=100, deadline=None)
@given(
    prompt=st.text(
        alphabet=st.characters(
            blacklist_characters="\n\r<>", blacklist_categories=("Cs",)
        ),
        min_size=1,
        max_size=60,
    ).filter(lambda s: s.strip() and not s.startswith(("Negative prompt:", "Steps:"))),
    seed=st.integers(min_value=0, max_value=2**63),
    steps=st.integers(min_value=1, max_value=150),
)
def test_parameters_round_trip(prompt: str, seed: int, steps: int) -> None:
    text = f"{prompt}\nSteps: {steps}, Sampler: Euler a, Seed: {seed}, Size: 64x48"
    record = parse_a1111(text, "png:parameters")
    assert record is not None
    assert (record.prompt, record.seed, record.steps) == (prompt.strip(), seed, steps)
    assert (record.width, record.height, record.sampler) == (64, 48, "Euler a")


SHORT = (
    "a red kite\nNegative prompt: fog\nSteps: 9, Sampler: Euler, Seed: 42, Size: 8x8"
)


def test_png_parameters_chunk_in_text_ztxt_and_itxt() -> None:
    for data in (
        png(text={"parameters": SHORT}),
        png(ztxt={"parameters": SHORT}),
        png(itxt={"parameters": SHORT + " ✓"}),
    ):
        found = run(data, [A1111Extractor()])
        assert found.generation is not None
        assert (found.generation.prompt, found.generation.seed) == ("a red kite", 42)
        assert found.evidence[0].source == "png:parameters"


@pytest.mark.parametrize(
    ("comment", "endian"),
    [
        (b"UNICODE\x00" + SHORT.encode("utf-16-be"), ">"),  # piexif (A1111) layout
        (b"UNICODE\x00" + SHORT.encode("utf-16-le"), "<"),
        (b"UNICODE\x00" + SHORT.encode("utf-16-be"), "<"),  # order disagrees
        (b"UNICODE\x00" + SHORT.encode("utf-16-le"), ">"),
        (b"ASCII\x00\x00\x00" + SHORT.encode("ascii"), "<"),
    ],
)
def test_exif_user_comment_encodings(comment: bytes, endian: str) -> None:
    found = run(user_comment_jpeg(comment, endian=endian), [A1111Extractor()])
    assert found.errors == ()
    assert found.generation is not None
    assert found.generation.source == "exif:UserComment"
    assert found.generation.negative_prompt == "fog"
    assert found.generation.seed == 42


def test_webp_exif_user_comment() -> None:
    data = user_comment_jpeg(b"UNICODE\x00" + SHORT.encode("utf-16-be"), fmt="WEBP")
    found = run(data, [A1111Extractor()])
    assert found.generation is not None and found.generation.seed == 42


def test_json_parameters_are_left_to_other_extractors() -> None:
    found = run(png(text={"parameters": '{"Steps: 5": 1}'}), [A1111Extractor()])
    assert found.evidence == ()


def test_hostile_parameters_line_is_fast() -> None:
    import time

    hostile = "x\nSteps: 1, " + "a" * 200_000 + " " * 200_000 + ': "' + "\\" * 10_000
    started = time.monotonic()
    parse_a1111(hostile, "png:parameters")
    assert time.monotonic() - started < 2
