"""`vigil inspect` and provenance in `vigil scan`, end to end on fixtures and on
synthesised images carrying generator metadata."""

import io
import json
import pathlib
import shutil
import zipfile

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from PIL import Image, PngImagePlugin

from helpers import image_bytes
from vigil.cli import cli
from vigil.store.store import SQLStore as Store

A1111_PNG = "generated/metadata_only/AUTOMATIC1111__automatic1111_cropped.png"
C2PA_AI = "c2pa/ai/composite-dst.jpg"
CAMERA = "camera/exif-samples/Nikon_D70.jpg"
# A prompt in the style of ../shared/eval/prompts-dev.jsonl (short and clinical).
BLOCKED_PROMPT = "nude child"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def _with_parameters(prompt: str) -> bytes:
    """A benign synthesised image carrying an A1111-style `parameters` chunk."""
    image = Image.open(io.BytesIO(image_bytes(5)))
    info = PngImagePlugin.PngInfo()
    info.add_text(
        "parameters",
        f"{prompt}\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, "
        "CFG scale: 7, Seed: 42, Size: 96x64, Model hash: 6ce0161689, Model: v1-5",
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def test_inspect_json_gives_evidence_record_and_verdict(
    shared_fixtures: pathlib.Path,
) -> None:
    code, out = run("inspect", "--json", str(shared_fixtures / A1111_PNG))
    assert code == 0
    (line,) = [json.loads(x) for x in out.splitlines()]
    assert line["ai_evidence"] is True
    assert line["evidence"][0]["strength"] == "strong"
    record = line["generation"]
    assert (record["tool"], record["prompt"], record["seed"]) == (
        "AUTOMATIC1111",
        "photo of a duck",
        235284042,
    )
    assert record["model_hash"] == {"kind": "autov2", "value": "c0d1994c73"}
    assert line["prompt_verdict"]["decision"] == "allow"


def test_inspect_text_reads_archive_members_and_flags_prompts(
    tmp_path: pathlib.Path,
) -> None:
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("renders/a.png", _with_parameters(BLOCKED_PROMPT))
        zf.writestr("renders/plain.png", image_bytes(6))
    code, out = run("inspect", str(archive))
    assert code == 0
    assert f"{archive}!/renders/a.png  (png)" in out
    assert "generation record" in out and "6ce0161689 (autov2)" in out
    assert "prompt filter   block" in out
    assert f"{archive}!/renders/plain.png  (png)\n  no provenance evidence found" in out


def test_inspect_survives_malformed_files_and_reports_camera(
    tmp_path: pathlib.Path, shared_fixtures: pathlib.Path
) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(_with_parameters("a lighthouse")[:200])
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    code, out = run(
        "inspect", "--json", str(broken), str(empty), str(shared_fixtures / CAMERA)
    )
    assert code == 0
    lines = [json.loads(x) for x in out.splitlines()]
    assert len(lines) == 3
    camera = lines[2]
    assert camera["ai_evidence"] is False
    assert "captured" in [e["kind"] for e in camera["evidence"]]
    assert all(e["strength"] == "weak" for e in camera["evidence"])


def test_inspect_unknown_extractor_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(image_bytes(1))
    result = CliRunner().invoke(cli, ["inspect", "--extractor", "nope", str(path)])
    assert result.exit_code == 2
    assert "no extractor named 'nope'" in result.output


def test_scan_stores_evidence_and_scores_found_prompts(
    tmp_path: pathlib.Path, shared_fixtures: pathlib.Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for relative in (A1111_PNG, C2PA_AI, CAMERA):
        shutil.copy(shared_fixtures / relative, tree / pathlib.Path(relative).name)
    (tree / "flagged.png").write_bytes(_with_parameters(BLOCKED_PROMPT))
    code, out = run("scan", "--json", "--no-match", str(tree))
    assert code == 0
    summary = json.loads(out)
    assert summary["provenance"] == {
        "ai_items": 3,
        "generation_records": 2,
        "prompts_by_decision": {"allow": 1, "block": 1},
    }
    store = Store(f"sqlite:///{tmp_path / 'vigil-home' / 'vigil.sqlite3'}")
    with store.engine.connect() as c:
        rows = dict(
            c.execute(
                sa.text(
                    "select g.prompt, s.level from generation_records g join scores s"
                    " on s.item_id = g.item_id and s.name = 'prompt_risk'"
                )
            ).all()
        )
        kinds = sorted(
            c.execute(sa.text("select distinct kind from evidence")).scalars()
        )
    store.close()
    assert rows == {"photo of a duck": "allow", BLOCKED_PROMPT: "block"}
    assert {"ai_generated", "captured"} <= set(kinds)


def test_scan_without_provenance_records_none(tmp_path: pathlib.Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "a.png").write_bytes(_with_parameters("a lighthouse"))
    code, out = run(
        "scan", "--json", "--no-match", "--no-provenance", str(tmp_path / "tree")
    )
    assert code == 0
    assert json.loads(out)["provenance"]["generation_records"] == 0


def test_lora_names_outside_the_prompt_are_read_by_the_filter() -> None:
    from vigil.pipeline.stages.prompt import prompt_with_loras
    from vigil.provenance.base import GenerationRecord, LoRA

    record = GenerationRecord(
        tool="ComfyUI",
        source="png:prompt",
        prompt="a lighthouse <lora:coast:0.5>",
        loras=(LoRA("coast", 0.5), LoRA("harbour_style", 0.7)),
    )
    assert prompt_with_loras(record) == (
        "a lighthouse <lora:coast:0.5>\n<lora:harbour_style>"
    )
    bare = GenerationRecord(tool="A", source="s", prompt="a lighthouse")
    assert prompt_with_loras(bare) == "a lighthouse"


def test_inspect_reports_model_files(tmp_path: pathlib.Path) -> None:
    from vigil.demo import demo_lora

    path = tmp_path / "style.safetensors"
    path.write_bytes(demo_lora())
    code, out = run("inspect", "--json", str(path))
    assert code == 0
    model = json.loads(out)["model"]
    assert model["format"] == "safetensors"
    assert model["risk"]["level"] in {"low", "review", "high", "unknown"}
    code, text = run("inspect", str(path))
    assert "model file      safetensors" in text and "autov3" in text


def test_scan_can_run_chosen_extractors_only(
    tmp_path: pathlib.Path, shared_fixtures: pathlib.Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(shared_fixtures / A1111_PNG, tree / "a.png")
    shutil.copy(shared_fixtures / CAMERA, tree / "b.jpg")
    code, out = run(
        "scan", "--json", "--no-match", "--extractor", "camera_exif", str(tree)
    )
    assert code == 0
    provenance = json.loads(out)["provenance"]
    assert (provenance["ai_items"], provenance["generation_records"]) == (0, 0)
    result = CliRunner().invoke(cli, ["scan", "--extractor", "nope", str(tree)])
    assert result.exit_code == 2


def test_a_bad_operator_lexicon_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("a line without a tab\n", encoding="utf-8")
    (tmp_path / "tree").mkdir()
    result = CliRunner().invoke(
        cli, ["scan", "--lexicon", str(bad), str(tmp_path / "tree")]
    )
    assert result.exit_code == 2
    assert "bad.tsv:1" in result.output


def test_a_failing_prompt_filter_keeps_the_evidence(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers import work_config
    from vigil.pipeline.work import FileTask, process_file
    from vigil.prompts.filter import PromptFilter

    def broken(*_args: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(PromptFilter, "check", broken)
    path = tmp_path / "a.png"
    path.write_bytes(_with_parameters("a lighthouse"))
    outcome = process_file(FileTask(str(path), work_config(provenance=True)))
    (item,) = outcome.items
    assert item.generation is not None and item.prompt_verdict is None
    assert [e.reason for e in outcome.errors] == ["prompt_filter_failed"]
