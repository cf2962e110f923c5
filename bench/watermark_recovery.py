"""How well the invisible watermarks Vigil detects survive lossy re-encoding.

Marks benign images with each known message, in each way its tools call the
reference encoder (imwatermark, dev dependency), saves them as lossless PNG, JPEG
quality 90 and 75 (Pillow's default 4:2:0 chroma subsampling), JPEG quality 90
without subsampling (4:4:4) and lossy WebP quality 90, and reads them back as the
extractor does (chroma upsampling undone for 4:2:0 files). The column "jpeg90 plain"
reads the quality-90 JPEGs without that step, as imwatermark's own decoder does.

Images: synthetic textured ones (gradients, shapes, colour grain), synthetic smooth
ones (little grain: imwatermark's weak case) and photos from
../shared/fixtures/{camera,pdq} (top-left 1024x1024 at most, 256x256 at least).

Each cell: mean share of agreeing bits, share of images read "very likely", share
where the extractor reports this message (likely or above, strongest match).
`--parity` also counts bits that differ from imwatermark's WatermarkDecoder on the
lossless, 4:4:4 and plain readings.

Usage: .venv/bin/python bench/watermark_recovery.py [--images N] [--parity]
"""

import argparse
import pathlib
import sys
import time
import typing as t

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "provenance")]

import watermark_reference as ref  # noqa: E402

from vigil.media.base import Limits  # noqa: E402
from vigil.media.sniff import SNIFF_BYTES, sniff_bytes  # noqa: E402
from vigil.media.subject import Subject  # noqa: E402
from vigil.provenance.watermark import (  # noqa: E402
    KNOWN_WATERMARKS,
    MIN_WATERMARK_PIXELS,
    Band,
    ChromaUpsampling,
    KnownWatermark,
    Reading,
    chroma_upsampling,
    decode_bits,
    read_watermarks,
    strongest,
    window_pixels,
)

SHARED = REPO.parent / "shared" / "fixtures"
FIXTURES = SHARED if SHARED.is_dir() else REPO / "tests" / "data" / "fixtures"
# (column, Pillow format, save options, read as imwatermark does)
ENCODINGS: tuple[tuple[str, str, dict[str, t.Any], bool], ...] = (
    ("png", "PNG", {}, False),
    ("jpeg90", "JPEG", {"quality": 90}, False),
    ("jpeg75", "JPEG", {"quality": 75}, False),
    ("jpeg90 4:4:4", "JPEG", {"quality": 90, "subsampling": 0}, False),
    ("webp90", "WEBP", {"quality": 90}, False),
    ("jpeg90 plain", "JPEG", {"quality": 90}, True),
)
PHOTO_SIDE = 1024


def _photos(count: int) -> list[np.ndarray]:
    """`count` photos spread evenly over the sorted eligible fixtures."""
    eligible = []
    for path in ref.photo_paths(FIXTURES):
        rgb = ref.load_photo(path)[:PHOTO_SIDE, :PHOTO_SIDE]
        if rgb.shape[0] * rgb.shape[1] >= MIN_WATERMARK_PIXELS:
            eligible.append(np.ascontiguousarray(rgb))
    step = max(1, len(eligible) // max(count, 1))
    return eligible[::step][:count]


def _sets(count: int) -> dict[str, list[np.ndarray]]:
    return {
        "textured": [ref.synthetic(i) for i in range(count)],
        "smooth": [
            ref.synthetic(100 + i, grain=ref.SMOOTH_GRAIN) for i in range(count)
        ],
        "photos": _photos(count),
    }


class _Tally:
    def __init__(self) -> None:
        self.shares: list[float] = []
        self.very_likely = 0
        self.reported = 0

    def add(self, data: bytes, known: KnownWatermark, is_plain: bool) -> np.ndarray:
        subject = Subject(data, sniff_bytes(data[:SNIFF_BYTES]), Limits())
        window = window_pixels(subject.pixels())
        upsampling = ChromaUpsampling.NONE if is_plain else chroma_upsampling(subject)
        matches = read_watermarks(window, upsampling)
        match = next(m for m in matches if m.watermark is known)
        self.shares.append(match.agreeing_bits / match.total_bits)
        self.very_likely += match.band is Band.VERY_LIKELY
        best = strongest(matches)
        self.reported += best is not None and best.watermark is known
        if upsampling is not ChromaUpsampling.NONE or not window.is_whole:
            return np.empty(0)
        return window.rgb

    def cell(self) -> str:
        n = len(self.shares)
        return (
            f"{100 * np.mean(self.shares):6.1f} {100 * self.very_likely / n:4.0f} "
            f"{100 * self.reported / n:4.0f}"
        )


def _parity(pixels: np.ndarray, length: int, reading: Reading) -> int:
    if pixels.size == 0:
        return 0
    mine = decode_bits(pixels, length, reading)
    theirs = ref.reference_bits(pixels, length, reading)
    return sum(a != b for a, b in zip(mine, theirs, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20, help="images per set")
    parser.add_argument("--parity", action="store_true")
    args = parser.parse_args()
    sets = _sets(args.images)
    counts = ", ".join(f"{name} {len(images)}" for name, images in sets.items())
    print(f"images per set: {counts}; cells: bits% very-likely% reported%")
    header = "  ".join(f"{column:>16s}" for column, *_ in ENCODINGS)
    print(f"{'set':8s} {'message':19s} {'reading':9s}  {header}")
    started = time.monotonic()
    mismatches = 0
    for set_name, images in sets.items():
        for known in KNOWN_WATERMARKS:
            for reading in known.readings:
                tallies = [_Tally() for _ in ENCODINGS]
                for rgb in images:
                    marked = ref.mark(rgb, known, reading)
                    for tally, (_, fmt, options, is_plain) in zip(
                        tallies, ENCODINGS, strict=True
                    ):
                        data = ref.encode(marked, fmt, **options)
                        pixels = tally.add(data, known, is_plain)
                        if args.parity:
                            mismatches += _parity(pixels, len(known.bits), reading)
                cells = "  ".join(f"{tally.cell():>16s}" for tally in tallies)
                print(f"{set_name:8s} {known.name:19s} {reading!s:9s}  {cells}")
    if args.parity:
        print(f"bits differing from imwatermark's decoder: {mismatches}")
    print(f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
