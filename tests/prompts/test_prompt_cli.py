import json
import pathlib

from click.testing import CliRunner

from paths import DATA
from vigil._cli_prompts import prompt
from vigil.exitcodes import ExitCode
from vigil.prompts import semantic


def run(*args: str, code: int = 0, stdin: str | None = None) -> str:
    result = CliRunner().invoke(prompt, list(args), input=stdin)
    assert result.exit_code == code, result.output
    return result.stdout


def test_check_text_line() -> None:
    out = run("check", "nude child")
    first = out.splitlines()[0]
    assert first.startswith("block 0.9")
    assert "nudity:'nude'@0-4" in first and "minor:'child'@5-10" in first
    assert "reason:" in out


def test_check_json_with_negative() -> None:
    out = run("check", "child, bedroom", "--negative", "clothes, dress", "--json")
    data = json.loads(out)
    assert data["decision"] == "block"
    assert {t["field"] for t in data["triggers"]} == {"prompt", "negative"}


def test_check_reads_stdin() -> None:
    assert run("check", "-", stdin="a child flying a kite").startswith("allow 0.1")


def test_check_with_operator_lexicon(tmp_path: pathlib.Path) -> None:
    extra = tmp_path / "extra.tsv"
    extra.write_text("abuse_slang\tqqzcode\n", encoding="utf-8")
    assert run("check", "qqzcode").startswith("allow")
    assert run("check", "qqzcode", "--lexicon", str(extra)).startswith("block")
    bad = tmp_path / "bad.tsv"
    bad.write_text("nonsense\tword\n", encoding="utf-8")
    result = CliRunner().invoke(prompt, ["check", "x", "--lexicon", str(bad)])
    assert result.exit_code == ExitCode.ERROR
    assert "unknown category" in result.output


def test_eval_jsonl_and_table(tmp_path: pathlib.Path) -> None:
    out = run("eval", str(DATA / "prompts" / "dev-subset.jsonl"))
    assert "block recall            100.00%" in out
    assert "allow false-block rate  0.00%" in out
    table = tmp_path / "benign.csv"
    table.write_text("id,prompt\n1,a red bicycle\n2,a kid goat\n")
    data = json.loads(run("eval", str(table), "--column", "prompt", "--json"))
    assert data["confusion"]["allow"] == {"block": 0, "review": 0, "allow": 2}


def test_eval_bad_file_is_an_error(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    result = CliRunner().invoke(prompt, ["eval", str(bad)])
    assert result.exit_code == ExitCode.ERROR
    assert "bad.jsonl:1" in result.output


def test_semantic_options_need_the_embedder(tmp_path: pathlib.Path) -> None:
    if semantic.embedder_available():
        return  # the packaged model is installed: nothing is unavailable
    head = tmp_path / "head.npz"
    semantic.LogisticHead(
        semantic.np.zeros(4, dtype=semantic.np.float32), 0.0, "all-minilm-l6-v2"
    ).save(head)
    run("check", "x", "--head", str(head), code=ExitCode.DEPENDENCY_UNAVAILABLE)
    train = DATA / "prompts" / "dev-subset.jsonl"
    run("train-head", str(train), "-o", str(tmp_path / "h.npz"),
        code=ExitCode.DEPENDENCY_UNAVAILABLE)  # fmt: skip
