"""Hostile names and files on the command line and in scans: names that are not
UTF-8 or that carry newlines and terminal escapes, FIFOs, devices, symbolic links,
files that change while read, and databases that cannot be used."""

import io
import json
import os
import pathlib
import socket
import subprocess
import sys
import tarfile

import pytest
from click.testing import CliRunner

from helpers import image_bytes
from vigil.cli import cli

UNUSABLE = "the database cannot be used"
BAD_NAME = os.fsdecode(b"bad\xff\xfename.png")  # not UTF-8


def run(*args: str, home: pathlib.Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"VIGIL_HOME": str(home)})
    return result.exit_code, result.stdout, result.stderr


def test_a_name_that_is_not_utf8_is_scanned_stored_and_shown_escaped(
    tmp_path: pathlib.Path,
) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / BAD_NAME).write_bytes(image_bytes(1))
    (folder / "after.png").write_bytes(image_bytes(2))
    home = tmp_path / "home"
    scan = ["scan", "--engine", "inline", "--no-progress", "--json", str(folder)]
    code, out, _ = run(*scan, home=home)
    assert code == 0 and json.loads(out)["items"] == 2
    code, out, _ = run(*scan, home=home)  # a rerun is a new finished scan, not a crash
    assert code == 0
    code, out, _ = run("items", home=home)
    assert "bad\\xff\\xfename.png" in out and "\udcff" not in out
    code, out, _ = run("items", "--json", home=home)
    record = next(json.loads(line) for line in out.splitlines() if "fename" in line)
    (shown,) = [name for name in record["locations"] if "fename" in name]
    assert bytes.fromhex(record["locations_bytes"][shown]) == os.fsencode(
        str(folder / BAD_NAME)
    )


def test_a_tar_member_name_that_is_not_utf8_is_kept(tmp_path: pathlib.Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        data = image_bytes(3)
        info = tarfile.TarInfo(BAD_NAME)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    (tmp_path / "a.tar").write_bytes(buffer.getvalue())
    home = tmp_path / "home"
    code, _, _ = run(
        "scan",
        "--engine",
        "inline",
        "--no-progress",
        str(tmp_path / "a.tar"),
        home=home,
    )
    assert code == 0
    code, out, _ = run("items", home=home)
    assert "a.tar!/bad\\xff\\xfename.png" in out


def test_names_cannot_forge_output_lines_or_reach_the_terminal(
    tmp_path: pathlib.Path,
) -> None:
    forged = tmp_path / "x.png\nmd5 00000000000000000000000000000000 forged.png"
    forged.write_bytes(image_bytes(4))
    escape = tmp_path / "\x1b[2Jred.png"
    escape.write_bytes(image_bytes(5))
    code, out, _ = run(
        "hash", "--hasher", "md5", str(forged), str(escape), home=tmp_path
    )
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and "\x1b" not in out
    assert lines[0].endswith("x.png\\nmd5 00000000000000000000000000000000 forged.png")
    code, out, _ = run("hash", "--json", "--hasher", "md5", str(forged), home=tmp_path)
    record = json.loads(out)
    assert bytes.fromhex(record["path_bytes"]) == os.fsencode(str(forged))
    code, out, _ = run("inspect", str(escape), home=tmp_path)
    assert "\x1b" not in out


@pytest.mark.parametrize("verb", ["hash", "inspect"])
def test_special_files_are_refused_at_once(tmp_path: pathlib.Path, verb: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    completed = subprocess.run(
        [sys.executable, "-m", "vigil", verb, str(fifo), "/dev/zero"],
        capture_output=True,
        timeout=20,  # a FIFO would block for ever, /dev/zero never ends
        env={**os.environ, "VIGIL_HOME": str(tmp_path / "home")},
        check=False,
    )
    assert completed.returncode == 0
    assert completed.stdout.decode().count("not_regular_file") == 2


def test_scans_record_links_fifos_and_devices_without_following_them(
    tmp_path: pathlib.Path,
) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.png").write_bytes(image_bytes(6))
    (folder / "link.png").symlink_to(folder / "a.png")
    (folder / "folder-link").symlink_to(tmp_path)  # would loop if followed
    (folder / "zero").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo")
    home = tmp_path / "home"
    command = ["scan", "--engine", "inline", "--no-progress", "--json", str(folder)]
    code, out, _ = run(*command, home=home)
    summary = json.loads(out)
    assert code == 0 and summary["items"] == 1 and summary["locations"] == 1
    assert summary["errors_by_reason"] == {"not_regular_file": 1, "symlink": 3}
    with __import__("sqlite3").connect(home / "vigil.sqlite3") as c:
        messages = dict(c.execute("select path, message from errors").fetchall())
    assert messages[str(folder / "link.png")] == (
        f"symbolic link to {folder / 'a.png'}, not followed"
    )


def test_a_file_that_changes_while_it_is_read_is_flagged(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vigil.pipeline.work as work
    from helpers import work_config

    path = tmp_path / "growing.bin"
    path.write_bytes(b"x" * 1000)
    real = work.digest_stream

    def digest_then_append(*args: object, **kwargs: object) -> object:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        with path.open("ab") as stream:
            stream.write(b"more")
        return found

    monkeypatch.setattr(work, "digest_stream", digest_then_append)
    outcome = work.process_file(work.FileTask(str(path), work_config()))
    assert [e.reason for e in outcome.errors] == ["changed_while_read"]
    assert "1000 bytes before, 1004 after" in outcome.errors[0].message
    assert outcome.items  # what was read is kept, flagged


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        (
            "sqlite:////nonexistent-dir/x/vigil.sqlite3",
            1,
            "the database cannot be used",
        ),
        ("not a url", 2, "bad database URL"),
        (
            "postgresql+psycopg://u:secret@127.0.0.1:1/x",
            1,
            "the database cannot be used",
        ),
        ("mysql+mysqldb://u@localhost/x", 3, "is not installed"),
    ],
)
def test_database_failures_are_one_line_with_the_documented_exit_code(
    tmp_path: pathlib.Path, url: str, code: int, words: str
) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "vigil", "scan", "--no-progress", str(tmp_path)],
        capture_output=True,
        timeout=60,
        env={**os.environ, "VIGIL_DATABASE_URL": url},
        check=False,
    )
    err = completed.stderr.decode()
    assert completed.returncode == code, err
    assert words in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert "secret" not in err


def _known_list(tmp_path: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    from vigil.demo import build_demo, known_list

    demo, home = tmp_path / "demo", tmp_path / "home"
    build_demo(demo)
    listing = tmp_path / "known.csv"
    listing.write_text(known_list())
    code, _, _ = run(
        "hashlist", "import", str(listing), "--list", "k", "--create", home=home
    )
    assert code == 0
    return next(demo.glob("patterns/*-000.png")), home


def _match(home: pathlib.Path, *args: str, stdin: bytes = b"") -> tuple[int, str]:
    completed = subprocess.run(
        [sys.executable, "-m", "vigil", "match", "--exit-code", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        env={**os.environ, "VIGIL_HOME": str(home)},
        check=False,
    )
    return completed.returncode, completed.stdout.decode()


def test_match_reads_standard_input_and_exit_codes_never_say_clean_unread(
    tmp_path: pathlib.Path,
) -> None:
    known, home = _known_list(tmp_path)
    code, out = _match(home, "-", stdin=known.read_bytes())
    assert code == 10 and out.startswith("match 0 k md5 original <stdin>")
    code, _ = _match(home, "-", stdin=image_bytes(9))
    assert code == 0  # read, checked, not on the list
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for unread in (str(tmp_path / "missing.png"), str(fifo)):
        code, _ = _match(home, unread)
        assert code == 1, unread  # not 0 ("clean") and not 10 ("matched")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(image_bytes(10, fmt="JPEG")[:200])
    assert _match(home, str(broken))[0] == 1  # no PDQ: not checked in full


def test_a_second_scan_of_a_running_scan_is_refused_and_a_dead_ones_resumed(
    tmp_path: pathlib.Path,
) -> None:
    import sqlite3

    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.png").write_bytes(image_bytes(11))
    home = tmp_path / "home"
    command = ["scan", "--engine", "inline", "--no-progress", str(folder)]
    assert run(*command, home=home)[0] == 0
    db = home / "vigil.sqlite3"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with sqlite3.connect(db) as c:  # as a scan killed mid-way leaves it
            c.execute(
                "update scans set status = 'running', owner_pid = ?, owner_host = ?",
                (sleeper.pid, socket.gethostname()),
            )
        result = CliRunner().invoke(cli, command, env={"VIGIL_HOME": str(home)})
        assert result.exit_code == 1
        assert f"scan 1 is running in process {sleeper.pid}" in result.output
    finally:
        sleeper.kill()
        sleeper.wait()
    code, out, err = run(*command, home=home)  # its owner is gone: resumed
    assert code == 0 and "scan               1 finished" in out, err


def test_commands_on_a_fresh_store_do_not_race_to_create_it(
    tmp_path: pathlib.Path,
) -> None:
    env = {**os.environ, "VIGIL_HOME": str(tmp_path / "home")}
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "vigil", "db", "upgrade"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    results = []
    for process in started:
        _out, err = process.communicate(timeout=120)
        results.append((process.returncode, err.decode()))
    assert all(code == 0 for code, _ in results), results
