"""Fast start: `vigil --version`, `vigil --help` and `vigil prompt check` import none
of the heavy modules (SQLAlchemy, numpy, FAISS); only the verbs that need them do.

Checked with `python -X importtime` in a fresh interpreter, never with a clock.
"""

import os
import pathlib
import subprocess
import sys

import pytest
from click.testing import CliRunner

from vigil import __version__
from vigil.cli import cli

#: Top-level packages that no light command may import.
HEAVY = frozenset({"sqlalchemy", "numpy", "faiss"})


def imported(stderr: str) -> set[str]:
    """The module names in `-X importtime` output (`import time: self | cum | name`)."""
    names = set()
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        name = line.rsplit("|", 1)[-1].strip()
        if name and name != "imported package":
            names.add(name)
    return names


def vigil(
    home: pathlib.Path, *args: str, code: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -X importtime -m vigil ARGS` (or `-c CODE`) in a fresh process."""
    env = {**os.environ, "VIGIL_HOME": str(home)}
    env.pop("VIGIL_DATABASE_URL", None)
    target = ["-c", code] if code is not None else ["-m", "vigil", *args]
    return subprocess.run(
        [sys.executable, "-X", "importtime", *target],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def heavy_imports(result: subprocess.CompletedProcess[str]) -> list[str]:
    names = imported(result.stderr)
    assert "vigil" in names, "no -X importtime output: " + result.stderr[-2000:]
    return sorted(name for name in names if name.split(".")[0] in HEAVY)


def test_version_imports_nothing_heavy(tmp_path: pathlib.Path) -> None:
    result = vigil(tmp_path / "home", "--version")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == f"vigil, version {__version__}\n"
    assert heavy_imports(result) == []


def test_help_imports_nothing_heavy(tmp_path: pathlib.Path) -> None:
    result = vigil(tmp_path / "home", "--help")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("Usage: ")
    assert "Start here:" in result.stdout
    listed = {
        line.split()[0]
        for line in result.stdout.split("Commands:", 1)[1].splitlines()
        if line.strip()
    }
    assert {"scan", "hash", "hashlist", "match", "inspect", "prompt"} <= listed
    assert {"items", "model", "demo", "plugins", "db"} <= listed
    assert heavy_imports(result) == []


def test_prompt_check_imports_nothing_heavy(tmp_path: pathlib.Path) -> None:
    result = vigil(tmp_path / "home", "prompt", "check", "--", "a lighthouse at dusk")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[0].split()[0] == "allow"
    assert heavy_imports(result) == []
    assert not (tmp_path / "home").exists()  # a prompt check opens no store


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "--help"),
        ("hashlist", "--help"),
        ("hashlist", "create", "--help"),
        ("match", "--help"),
        ("model", "--help"),
        ("prompt", "--help"),
    ],
    ids=" ".join,
)
def test_verb_help_imports_nothing_heavy(
    tmp_path: pathlib.Path, args: tuple[str, ...]
) -> None:
    result = vigil(tmp_path / "home", *args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("Usage: ")
    assert heavy_imports(result) == []


def test_importing_the_cli_and_the_plugin_registry_is_light(
    tmp_path: pathlib.Path,
) -> None:
    result = vigil(tmp_path / "home", code="import vigil.cli, vigil.plugins")
    assert result.returncode == 0, result.stderr[-2000:]
    assert heavy_imports(result) == []


def test_verbs_that_need_them_still_load_the_heavy_modules(
    tmp_path: pathlib.Path,
) -> None:
    """The check above can fail: `vigil plugins` loads FAISS and numpy."""
    result = vigil(tmp_path / "home", "plugins")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "hasher pdq vigil.plugins:builtin_plugins" in result.stdout.splitlines()
    assert {"numpy", "faiss"} <= set(heavy_imports(result))


def test_the_registry_is_built_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from vigil import plugins

    calls: list[int] = []

    def broken() -> plugins.Registry:
        calls.append(1)
        raise plugins.PluginError("toy claims a taken name")

    monkeypatch.setattr(plugins, "build_registry", broken)
    runner = CliRunner()
    checked = runner.invoke(cli, ["prompt", "check", "a lighthouse at dusk"])
    assert checked.exit_code == 0, checked.output
    assert calls == []  # the prompt filter needs no plugins
    listed = runner.invoke(cli, ["plugins"])
    assert listed.exit_code == 1
    assert "plugin error: toy claims a taken name" in listed.output
    assert calls == [1]


def test_the_cli_threshold_default_is_the_stores() -> None:
    from vigil._cli_lists import DEFAULT_PDQ_THRESHOLD_BITS
    from vigil.store import hashlists

    assert DEFAULT_PDQ_THRESHOLD_BITS == hashlists.DEFAULT_PDQ_THRESHOLD_BITS
