"""A small case folder for triage tests: a camera photo presented as AI but listed
as real imagery (a contradiction), a known item on a list, a near-duplicate set of
one synthetic texture, and unique textures. Nothing here shows a person."""

import dataclasses
import hashlib
import io
import pathlib
import shutil

import numpy as np
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from vigil.cli import cli

DATA = pathlib.Path(__file__).parent / "data"
CAMERA = DATA / "fixtures" / "camera" / "exif-samples" / "Nikon_D70.jpg"


def texture(seed: int, side: int = 256) -> Image.Image:
    """A smooth random texture: unrelated seeds are far apart in PDQ."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (8, 8, 3)).astype(np.uint8)
    return Image.fromarray(coarse).resize((side, side), Image.Resampling.BICUBIC)


def encoded(image: Image.Image, fmt: str, **options: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@dataclasses.dataclass
class Case:
    root: pathlib.Path
    home: pathlib.Path
    folder: pathlib.Path
    sha: dict[str, str]  # role -> sha256

    @property
    def env(self) -> dict[str, str]:
        return {"VIGIL_HOME": str(self.home), "VIGIL_ANALYST": "tester"}

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=self.env)

    def scan(self, folder: pathlib.Path | None = None) -> Result:
        done = self.run(
            "scan", "--engine", "inline", "--no-progress", str(folder or self.folder)
        )
        assert done.exit_code == 0, done.output
        return done


def write(folder: pathlib.Path, relative: str, data: bytes) -> str:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def case(tmp_path: pathlib.Path) -> Case:
    folder = tmp_path / "case"
    sha: dict[str, str] = {}
    (folder / "ai-generated").mkdir(parents=True)
    shutil.copy(CAMERA, folder / "ai-generated" / "photo.jpg")
    sha["contradiction"] = hashlib.sha256(CAMERA.read_bytes()).hexdigest()
    known = encoded(texture(1), "PNG")
    sha["known"] = write(folder, "forum/known.png", known)
    base = texture(2)
    sha["dup_png"] = write(folder, "forum/t1/base.png", encoded(base, "PNG"))
    sha["dup_jpeg"] = write(
        folder, "forum/t2/re-encoded.jpg", encoded(base, "JPEG", quality=85)
    )
    small = base.resize((200, 200), Image.Resampling.LANCZOS)
    sha["dup_small"] = write(folder, "forum/t3/small.jpg", encoded(small, "JPEG"))
    for n in range(3):
        sha[f"single{n}"] = write(
            folder, f"forum/single{n}.png", encoded(texture(10 + n), "PNG")
        )
    listing = tmp_path / "real.csv"
    listing.write_text(
        f"md5,{hashlib.md5(CAMERA.read_bytes()).hexdigest()},ai_generated=false\n"  # noqa: S324
        f"md5,{hashlib.md5(known).hexdigest()},category=known-test\n"  # noqa: S324
    )
    made = Case(tmp_path, tmp_path / "home", folder, sha)
    imported = made.run(
        "hashlist", "import", str(listing), "--list", "real", "--create"
    )
    assert imported.exit_code == 0, imported.output
    return made
