"""A scan process killed with SIGKILL part-way resumes to exactly the full result."""

import json
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from helpers import image_bytes, store_rows
from vigil.store.store import SQLStore as Store

FILES = 160
KILL_AFTER_FILES = 30
POLL_SECONDS = 0.02
DEADLINE_SECONDS = 120
ORPHAN_GRACE_SECONDS = 10  # workers poll for their parent once a second


def vigil(*args: str, db: pathlib.Path, output: bool = True) -> subprocess.Popen[bytes]:
    """Start `vigil` in its own process. A process that will be killed gets no pipes:
    its orphaned pool workers would hold them open and nobody would read them."""
    env = {**os.environ, "VIGIL_DATABASE_URL": f"sqlite:///{db}"}
    stream = subprocess.PIPE if output else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "vigil", *args], env=env, stdout=stream, stderr=stream
    )


def children(pid: int) -> list[int]:
    """Worker processes of `pid` (Linux /proc), not the multiprocessing tracker."""
    found = []
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = pathlib.Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                found.append(int(child))
    return found


def alive(pid: int) -> bool:
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


def journaled(db: pathlib.Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return int(c.execute("select count(*) from scan_files").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # schema not created yet


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_scan(
    tmp_path: pathlib.Path,
) -> None:
    tree = tmp_path / "tree"
    for i in range(FILES):
        folder = tree / f"d{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        fmt = "JPEG" if i % 3 else "PNG"
        (folder / f"f{i:04d}.{fmt.lower()}").write_bytes(
            image_bytes(i % (FILES - 10), size=(640, 480), fmt=fmt)
        )
    killed_db = tmp_path / "killed.sqlite3"
    args = ("scan", str(tree), "--workers", "1", "--no-progress", "--json")
    process = vigil(*args, db=killed_db, output=False)
    deadline = time.monotonic() + DEADLINE_SECONDS
    while journaled(killed_db) < KILL_AFTER_FILES:
        assert process.poll() is None, "scan finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(POLL_SECONDS)
    workers = children(process.pid)
    assert workers, "the scan runs its work in pool processes"
    process.send_signal(signal.SIGKILL)
    process.wait()
    gone_by = time.monotonic() + ORPHAN_GRACE_SECONDS
    while any(alive(pid) for pid in workers) and time.monotonic() < gone_by:
        time.sleep(POLL_SECONDS * 10)
    assert not [pid for pid in workers if alive(pid)], "orphaned workers left behind"
    done_at_kill = journaled(killed_db)
    assert KILL_AFTER_FILES <= done_at_kill < FILES
    with sqlite3.connect(killed_db) as c:
        (spent,) = c.execute("select elapsed_seconds from scans").fetchone()
    assert spent > 0  # the killed run's time is kept, file by file

    resumed = vigil(*args, db=killed_db)
    out, err = resumed.communicate(timeout=DEADLINE_SECONDS)
    assert resumed.returncode == 0, err.decode()
    assert b'"status": "finished"' in out and b'"runs": 2' in out
    summary = json.loads(out)
    assert summary["elapsed_seconds"] > spent  # both runs' time, not the last one's

    full_db = tmp_path / "full.sqlite3"
    full = vigil(*args, db=full_db)
    _, err = full.communicate(timeout=DEADLINE_SECONDS)
    assert full.returncode == 0, err.decode()

    killed, reference = Store(f"sqlite:///{killed_db}"), Store(f"sqlite:///{full_db}")
    try:
        assert store_rows(killed) == store_rows(reference)
        assert len(store_rows(killed)["journal"]) == FILES
    finally:
        killed.close()
        reference.close()
