"""Generator extractors over the public fixtures: every metadata_only file yields its
tool, prompt, seed and model hash; ComfyUI files yield checkpoints and prompt text;
camera photos yield no AI evidence; malformed files never crash."""

import pathlib
import typing as t

import pytest
from gen_builders import run

from helpers import require_fixture
from vigil.hashing.model import ModelHash, ModelHashKind

METADATA_ONLY = "generated/metadata_only"

# Values read from the files with Pillow (`Image.open(p).info`, EXIF UserComment, and
# the alpha-LSB payload of the stealth file).
EXPECTED: dict[str, dict[str, t.Any]] = {
    "AUTOMATIC1111__automatic1111_cropped.jpg": {
        "tool": "AUTOMATIC1111",
        "source": "exif:UserComment",
        "prompt": "photo of a duck",
        "negative_prompt": "monochrome",
        "seed": 235284042,
        "model_name": "realistic_realisticVisionV20_v20",
        "model_hash": ModelHash(ModelHashKind.AUTOV2, "c0d1994c73"),
    },
    "AUTOMATIC1111__automatic1111_cropped.png": {
        "tool": "AUTOMATIC1111",
        "source": "png:parameters",
        "prompt": "photo of a duck",
        "negative_prompt": "monochrome",
        "seed": 235284042,
        "model_name": "realistic_realisticVisionV20_v20",
        "model_hash": ModelHash(ModelHashKind.AUTOV2, "c0d1994c73"),
    },
    "AUTOMATIC1111__automatic1111_stealth.png": {
        "tool": "AUTOMATIC1111",
        "source": "stealth:alpha",
        "prompt": "a circle",
        "negative_prompt": "a square",
        "seed": 2015833630,
        "model_name": "realisticVisionV51_v51VAE",
        "model_hash": ModelHash(ModelHashKind.AUTOV2, "15012c538f"),
    },
    "ComfyUI__img2img_cropped.png": {
        "tool": "ComfyUI",
        "source": "png:prompt",
        "prompt": "photograph of victorian woman with wings, sky clouds, meadow grass",
        "negative_prompt": "watermark, text",
        "seed": 280823642470253,
        "model_name": "v1-5-pruned-emaonly.ckpt",
        "model_hash": None,
    },
    "ComfyUI__night_evening_day_morning_cropped.png": {
        "tool": "ComfyUI",
        "source": "png:prompt",
        "prompt": "(masterpiece) (best quality) beautiful landscape breathtaking "
        "amazing view nature photograph forest mountains ocean (sky) national park "
        "scenery",
        "seed": 335608130539327,
        "model_name": "Anything-V3.0.ckpt",
        "model_hash": None,
    },
    "Fooocus__fooocus1_cropped.png": {
        "tool": "Fooocus",
        "source": "png:parameters",
        "prompt": "a smiling goldfish",
        "seed": 6952411511246973023,
        "model_name": "juggernautXL_v8Rundiffusion",
        "model_hash": ModelHash(ModelHashKind.AUTOV2, "aeb7e9e689"),
    },
    "InvokeAI__invokeai_imeta1.png": {
        "tool": "InvokeAI",
        "source": "png:invokeai_metadata",
        "prompt": "digital artwork, oil painting. painterly brushstrokes, holidays,",
        "negative_prompt": "grainy+, photo, oversaturated, overexposed, blurry, "
        "compressed jpg+, noisy++, unfocused , black and white",
        "seed": 3293022630,
        "model_name": "juggernautXL",
        "model_hash": None,
    },
    "NovelAI__novelai1_cropped.png": {
        "tool": "NovelAI",
        "source": "png:Comment",
        "prompt": "masterpiece, best quality,  cat, space, icon",
        "seed": 2253955223,
        # `Source` names NovelAI's model with its own 8-hex id, which is none of the
        # community hash conventions: the id goes to `extra`, apart from the name.
        "model_name": "Stable Diffusion",
        "model_hash": None,
    },
}


def test_every_metadata_only_fixture_has_expectations(
    shared_fixtures: pathlib.Path,
) -> None:
    present = {p.name for p in (shared_fixtures / METADATA_ONLY).iterdir()}
    assert present == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_metadata_only_fixture(shared_fixtures: pathlib.Path, name: str) -> None:
    found = run((shared_fixtures / METADATA_ONLY / name).read_bytes())
    assert found.errors == ()
    record = found.generation
    assert record is not None
    expected = EXPECTED[name]
    if name.startswith("ComfyUI__night"):
        # Regional prompts are combined into the positive conditioning; the main
        # prompt is one of the texts behind it.
        assert record.prompt is not None and expected["prompt"] in record.prompt
        assert "(best quality) (night:1.3)" in record.prompt
    else:
        assert record.prompt == expected["prompt"]
    for key in (
        "tool",
        "source",
        "seed",
        "model_name",
        "model_hash",
        "negative_prompt",
    ):
        if key in expected:
            assert getattr(record, key) == expected[key], key
    assert found.is_ai
    assert all(e.strength.value == "strong" for e in found.evidence)


def test_novelai_fixture_keeps_its_model_id_and_reports_no_signature(
    shared_fixtures: pathlib.Path,
) -> None:
    data = (
        shared_fixtures / METADATA_ONLY / "NovelAI__novelai1_cropped.png"
    ).read_bytes()
    found = run(data)
    assert found.generation is not None
    assert found.generation.extra["novelai_model_id"] == "1d44365e"
    assert found.generation.cfg_scale == 10.0
    (evidence,) = found.evidence
    assert evidence.details["signature"] == "absent"


def test_a1111_stealth_fixture_carries_version_and_extra(
    shared_fixtures: pathlib.Path,
) -> None:
    data = shared_fixtures / METADATA_ONLY / "AUTOMATIC1111__automatic1111_stealth.png"
    found = run(data.read_bytes())
    record = found.generation
    assert record is not None
    assert record.tool_version == "v1.9.4-169-ga30b19dd"
    assert (record.width, record.height, record.steps) == (64, 64, 20)
    assert record.extra["Clip skip"] == "2"
    assert found.evidence[0].details["magic"] == "stealth_pngcomp"


# Checkpoint/UNET names and prompt text read from each file's `prompt` chunk.
COMFYUI: dict[str, tuple[str, str, int]] = {
    "flux__flux_depth_lora_example.png": (
        "flux1-dev.safetensors",
        "a photograph of a shark in the sea",
        91050358797301,
    ),
    "hidream__hidream_e1_example.png": (
        "hidream_e1_full_bf16.safetensors",
        "snow at sunset oil painting",
        850933585641497,
    ),
    "inpaint__inpain_model_cat.png": (
        "512-inpainting-ema.safetensors",
        "closeup photograph of maine coon (cat:1.2) in the yosemite national park "
        "mountains nature",
        1040111309094545,
    ),
    "lcm__lcm_basic_example.png": (
        "sd_xl_1.0.safetensors",
        "evening sunset scenery blue sky nature, glass bottle with a galaxy in it",
        167055194337639,
    ),
    "sd3__sd3_simple_example.png": (
        "sd3_medium_incl_clips_t5xxlfp8.safetensors",
        "a bottle with a pink and red galaxy inside it on top of a wooden table on a "
        "table in the middle of a modern kitchen",
        125338548270506,
    ),
    "sdturbo__sdxlturbo_example.png": (
        "sd_xl_turbo_1.0_fp16.safetensors",
        "beautiful landscape scenery glass bottle with a galaxy inside cute fennec fox "
        "snow HDR sunset",
        0,
    ),
    "stable_cascade__stable_cascade__image_to_image.png": (
        "stable_cascade_stage_c.safetensors",
        "evening sunset scenery blue sky nature, glass bottle with a fizzy ice cold "
        "freezing rainbow liquid in it",
        321653652654528,
    ),
}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(COMFYUI))
def test_comfyui_examples_yield_checkpoint_and_prompt(
    shared_fixtures: pathlib.Path, name: str
) -> None:
    path = require_fixture(shared_fixtures, f"generated/comfyui/{name}")
    found = run(path.read_bytes())
    record = found.generation
    assert record is not None and record.tool == "ComfyUI"
    model, prompt, seed = COMFYUI[name]
    assert (record.model_name, record.prompt, record.seed) == (model, prompt, seed)


@pytest.mark.shared
def test_comfyui_examples_list_loras_and_second_passes(
    shared_fixtures: pathlib.Path,
) -> None:
    root = shared_fixtures / "generated/comfyui"
    flux = run(require_fixture(root, "flux__flux_depth_lora_example.png").read_bytes())
    assert flux.generation is not None
    assert [(x.name, x.weight) for x in flux.generation.loras] == [
        ("flux1-depth-dev-lora.safetensors", 1.0)
    ]
    assert "ae.safetensors" in flux.generation.other_models
    path = require_fixture(root, "stable_cascade__stable_cascade__image_to_image.png")
    cascade = run(path.read_bytes()).generation
    assert cascade is not None
    assert cascade.other_models == ("stable_cascade_stage_b.safetensors",)
    (second,) = cascade.extra["other_samplers"]
    assert second["seed"] == 980291192346449


# SwarmUI samples: two carry `sui_image_params` in EXIF (UTF-16 LE in an Intel TIFF
# block, UTF-16 BE in a Motorola one); the rest carry no metadata.
SWARMUI = {
    "sd15.jpg": ("0.9.3.1", 1, "OfficialStableDiffusion/v1-5-pruned-emaonly-fp16"),
    "setmacro-cat.jpg": ("0.9.6.3", 1974039850, "Lustrijous_-_No-1"),
}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(SWARMUI))
def test_swarmui_samples(shared_fixtures: pathlib.Path, name: str) -> None:
    path = require_fixture(shared_fixtures, f"generated/swarmui/{name}")
    record = run(path.read_bytes()).generation
    assert record is not None and record.tool == "SwarmUI"
    assert (record.tool_version, record.seed, record.model_name) == SWARMUI[name]
    assert record.prompt is not None and "cat" in record.prompt


@pytest.mark.shared
def test_swarmui_model_hash_from_sui_models(shared_fixtures: pathlib.Path) -> None:
    path = require_fixture(shared_fixtures, "generated/swarmui/setmacro-cat.jpg")
    record = run(path.read_bytes()).generation
    assert record is not None
    assert record.model_hash == ModelHash(
        ModelHashKind.SHA256,
        "7ea19a26fd6a34523a95717c34716e9c9587dabcfac4761690215eaaab6a0710",
    )
    assert record.sampler == "euler_ancestral"


def test_swarmui_sample_without_metadata_yields_nothing(
    shared_fixtures: pathlib.Path,
) -> None:
    data = (shared_fixtures / "generated/swarmui/cosmos-predict2-14b.jpg").read_bytes()
    found = run(data)
    assert (found.evidence, found.errors) == ((), ())


def test_camera_photos_yield_no_ai_evidence(shared_fixtures: pathlib.Path) -> None:
    files = [
        p
        for p in sorted((shared_fixtures / "camera").rglob("*"))
        if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg", ".png", ".heic")
    ]
    assert len(files) >= 5
    for path in files:
        found = run(path.read_bytes())
        assert not found.is_ai, path
        assert found.errors == (), path


@pytest.mark.parametrize(
    "name", ["empty_file.png", "empty_image.jpg", "empty_image.png"]
)
def test_malformed_files_yield_nothing_and_never_crash(
    shared_fixtures: pathlib.Path, name: str
) -> None:
    found = run((shared_fixtures / "generated/malformed" / name).read_bytes())
    assert found.evidence == ()
    assert all(e.reason != "extractor_failed" for e in found.errors)


def test_text_after_image_data_is_still_read(shared_fixtures: pathlib.Path) -> None:
    # A zTXt `parameters` chunk placed after IDAT, which Pillow skips until the
    # pixels are decoded.
    path = shared_fixtures / "generated/malformed/text_after_idat.png"
    record = run(path.read_bytes()).generation
    assert record is not None
    assert (record.tool, record.prompt, record.seed) == (
        "AUTOMATIC1111",
        "photo of a duck",
        235284042,
    )
