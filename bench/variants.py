"""How often PDQ query variants find edited copies of benign photos, at 31 bits.

For every image under ../shared/fixtures/{camera,pdq} (or the folders given) whose
`vigil-pdq512/1` hash has quality >= 50, makes edited copies (flips, rotations, 10%
padding), encodes each as PNG (lossless) and as JPEG at quality 75, decodes it as a
scan would, and asks whether it matches the original's plain hash:

- plain: the copy's plain hash only;
- dihedral: `pdq_variants(dihedral=True, borders=False)`;
- borders: `pdq_variants(dihedral=False, borders=True)`;
- both: `pdq_variants()`.

Also prints how many unedited photos get a borderless variant (a border found where
none was added), and what the variants cost.

Usage: .venv/bin/python bench/variants.py [FOLDER ...]
"""

import argparse
import io
import pathlib
import time
import typing as t

import numpy as np
import pillow_heif
from PIL import Image

from vigil.hashing.pdq import PDQ_MIN_RELIABLE_QUALITY, PDQHasher, hamming_distance
from vigil.hashing.variants import find_borders, pdq_variants
from vigil.media.base import DecodedImage, Limits, MediaKind
from vigil.media.errors import MediaError
from vigil.media.image import decode_image

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures"
DEFAULT_FOLDERS = ("camera", "pdq")
KINDS = {
    ".jpg": MediaKind.JPEG,
    ".jpeg": MediaKind.JPEG,
    ".png": MediaKind.PNG,
    ".heic": MediaKind.HEIF,
}
PDQ_MATCH_THRESHOLD_BITS = 31  # ThreatExchange PDQ docs
PAD_FRACTION = 0.10  # of the side, added on each of the two edges (the figure)
JPEG_QUALITY = 75  # Pillow's default, a typical re-encode
MODES = {
    "plain": {"dihedral": False, "borders": False},
    "dihedral": {"dihedral": True, "borders": False},
    "borders": {"dihedral": False, "borders": True},
    "both": {"dihedral": True, "borders": True},
}
BLACK = (0, 0, 0)
WHITE = (255, 255, 255)
HASHER = PDQHasher()


def _pad(
    image: Image.Image, *, vertical: bool, colour: tuple[int, int, int]
) -> Image.Image:
    width, height = image.size
    pad_y = round(PAD_FRACTION * height) if vertical else 0
    pad_x = 0 if vertical else round(PAD_FRACTION * width)
    canvas = Image.new("RGB", (width + 2 * pad_x, height + 2 * pad_y), colour)
    canvas.paste(image, (pad_x, pad_y))
    return canvas


EDITS: dict[str, t.Callable[[Image.Image], Image.Image]] = {
    "mirror": lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "flip upside down": lambda im: im.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
    "rotate 90": lambda im: im.transpose(Image.Transpose.ROTATE_90),
    "rotate 180": lambda im: im.transpose(Image.Transpose.ROTATE_180),
    "letterbox 10% black": lambda im: _pad(im, vertical=True, colour=BLACK),
    "pillarbox 10% black": lambda im: _pad(im, vertical=False, colour=BLACK),
    "letterbox 10% white": lambda im: _pad(im, vertical=True, colour=WHITE),
}


def _reencode(image: Image.Image, fmt: str) -> DecodedImage:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, fmt, quality=JPEG_QUALITY)
        kind = MediaKind.JPEG
    else:
        image.save(buffer, fmt)
        kind = MediaKind.PNG
    return decode_image(buffer.getvalue(), kind, Limits(), target_px=512)


def _matches(copy: DecodedImage, target: str) -> dict[str, bool]:
    found = {}
    for mode, flags in MODES.items():
        variants = pdq_variants(copy, **flags)
        found[mode] = any(
            hamming_distance(v.value, target) <= PDQ_MATCH_THRESHOLD_BITS
            for v in variants
        )
    return found


def _images(folders: list[pathlib.Path]) -> list[tuple[str, DecodedImage, str]]:
    pillow_heif.register_heif_opener()
    images = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            kind = KINDS.get(path.suffix.lower())
            if kind is None:
                continue
            try:
                image = decode_image(path.read_bytes(), kind, Limits(), target_px=512)
            except MediaError:
                continue
            result = HASHER.hash_image(image)
            if (result.quality or 0) >= PDQ_MIN_RELIABLE_QUALITY:
                name = str(path.relative_to(folder.parent))
                images.append((name, image, result.value))
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=pathlib.Path)
    args = parser.parse_args()
    folders = args.folders or [FIXTURES / name for name in DEFAULT_FOLDERS]
    images = _images([folder.resolve() for folder in folders])
    print(f"{len(images)} images of quality >= {PDQ_MIN_RELIABLE_QUALITY}")
    print(f"matched within {PDQ_MATCH_THRESHOLD_BITS} bits of the original's hash:")
    print(f"  {'edit':22s} {'encoding':9s} " + " ".join(f"{m:>9s}" for m in MODES))
    for edit, apply in EDITS.items():
        for fmt in ("PNG", "JPEG"):
            hits = dict.fromkeys(MODES, 0)
            for _name, image, target in images:
                copy = _reencode(apply(image.image), fmt)
                for mode, is_hit in _matches(copy, target).items():
                    hits[mode] += is_hit
            cells = " ".join(f"{100 * hits[m] / len(images):8.0f}%" for m in MODES)
            label = fmt if fmt == "PNG" else f"JPEG q{JPEG_QUALITY}"
            print(f"  {edit:22s} {label:9s} {cells}")

    print("unedited images given a borderless variant (a border found, none added):")
    for name, image, target in images:
        box = find_borders(np.asarray(image.image))
        if any(box):
            variants = {v.name: v.value for v in pdq_variants(image, dihedral=False)}
            borderless = variants.get("borderless")
            distance = (
                "same hash"
                if borderless is None
                else (f"{hamming_distance(borderless, target)} bits from plain")
            )
            print(f"  {name}: {image.image.size} borders {box}, {distance}")

    costs = {
        "hash_image": HASHER.hash_image,
        "pdq_variants(borders=False)": lambda im: pdq_variants(im, borders=False),
        "pdq_variants()": pdq_variants,
    }
    print("cost per decoded image, best of 3 passes over the set:")
    for label, call in costs.items():
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for _name, image, _target in images:
                call(image)
            best = min(best, time.perf_counter() - started)
        print(f"  {label:28s} {1000 * best / len(images):5.1f} ms")


if __name__ == "__main__":
    main()
