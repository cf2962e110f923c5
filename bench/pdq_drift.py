"""Drift between Vigil's PDQ pipeline and python-threatexchange's full-resolution one.

For every image under ../shared/fixtures/{pdq,camera} (or the folders given), hashes:

- vigil: decode_image(target_px=512) -> PDQHasher (vigil-pdq512/1)
- vigil-full: full decode -> PDQFullHasher (pdq-full/1; orientation applied)
- pytx: threatexchange's pdq_from_file (full decode, no EXIF orientation)

and prints the Hamming distance distribution per folder. Files whose EXIF orientation is
not 1 are reported apart (pytx hashes them sideways), as are hashes of quality < 50.

Usage: .venv/bin/python bench/pdq_drift.py [FOLDER ...]
"""

import argparse
import collections
import pathlib
import statistics

import pillow_heif
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file

from vigil.hashing.pdq import (
    PDQ_MIN_RELIABLE_QUALITY,
    PDQFullHasher,
    PDQHasher,
    hamming_distance,
)
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import MediaError
from vigil.media.image import decode_image

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures"
DEFAULT_FOLDERS = ("pdq", "camera")
KINDS = {
    ".jpg": MediaKind.JPEG,
    ".jpeg": MediaKind.JPEG,
    ".png": MediaKind.PNG,
    ".heic": MediaKind.HEIF,
}
BUCKETS = ((0, 0), (1, 4), (5, 8), (9, 12), (13, 16), (17, 24), (25, 31), (32, 256))


def _bucketed(distances: list[int]) -> str:
    counts = collections.Counter(
        next(
            f"{lo}-{hi}" if lo != hi else f"{lo}" for lo, hi in BUCKETS if lo <= d <= hi
        )
        for d in distances
    )
    labels = [f"{lo}-{hi}" if lo != hi else f"{lo}" for lo, hi in BUCKETS]
    return "  ".join(f"{label}:{counts[label]}" for label in labels if counts[label])


def _summary(label: str, distances: list[int]) -> None:
    if not distances:
        print(f"  {label:36s} (none)")
        return
    print(
        f"  {label:36s} n={len(distances):3d} max={max(distances):3d} "
        f"mean={statistics.mean(distances):5.1f} "
        f"median={statistics.median(distances):4.1f}  [{_bucketed(distances)}]"
    )


def measure(folder: pathlib.Path) -> None:
    comparable: dict[str, list[int]] = collections.defaultdict(list)
    rotated: list[str] = []
    unreliable: list[str] = []
    refused: list[str] = []
    largest: list[tuple[int, str]] = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in KINDS):
        data = path.read_bytes()
        kind = KINDS[path.suffix.lower()]
        name = str(path.relative_to(folder))
        try:
            fast = decode_image(data, kind, Limits(), target_px=512)
            full = decode_image(data, kind, Limits())
        except MediaError as exc:
            refused.append(f"{name}: {exc.reason}")
            continue
        vigil = PDQHasher().hash_image(fast)
        vigil_full = PDQFullHasher().hash_image(full)
        pytx_hash, pytx_quality = pdq_from_file(path)
        to_pytx = hamming_distance(vigil.value, pytx_hash)
        to_full = hamming_distance(vigil.value, vigil_full.value)
        if fast.orientation != 1:
            rotated.append(f"{name} (orientation {fast.orientation}): {to_pytx} bits")
            comparable["vigil vs vigil-full (rotated)"].append(to_full)
            continue
        quality = min(vigil.quality or 0, pytx_quality)
        if quality < PDQ_MIN_RELIABLE_QUALITY:
            unreliable.append(f"{name} (quality {quality}): {to_pytx} bits")
            continue
        comparable["vigil vs pytx"].append(to_pytx)
        largest.append((to_pytx, name))
        comparable["vigil vs vigil-full"].append(to_full)
        if fast.is_reduced:
            comparable["vigil vs pytx, DCT-scaled decode"].append(to_pytx)
        if max(fast.width, fast.height) > 512:
            comparable["vigil vs pytx, resized (>512 px)"].append(to_pytx)
        else:
            comparable["vigil vs pytx, <=512 px (no resize)"].append(to_pytx)
    print(f"\n{folder.name}/ (quality >= {PDQ_MIN_RELIABLE_QUALITY}, orientation 1)")
    for label in sorted(comparable):
        _summary(label, comparable[label])
    top = [f"{name}: {bits} bits" for bits, name in sorted(largest, reverse=True)[:3]]
    sections = (
        ("largest", top),
        ("EXIF-rotated", rotated),
        ("low quality", unreliable),
        ("refused by the decoder", refused),
    )
    for title, lines in sections:
        if lines:
            print(f"  {title}, vigil vs pytx:")
            for line in lines:
                print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", default=DEFAULT_FOLDERS)
    args = parser.parse_args()
    pillow_heif.register_heif_opener()  # so that pytx's Image.open reads HEIC too
    for name in args.folders:
        folder = (FIXTURES / name).resolve()
        if not folder.is_dir():
            raise SystemExit(f"not found: {folder}")
        measure(folder)


if __name__ == "__main__":
    main()
