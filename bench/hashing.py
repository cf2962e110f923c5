"""PDQ throughput on one core: Vigil against pdqhash and python-threatexchange.

Generates benign synthetic images (12 MP camera-like JPEGs and 1 MP PNGs, the size of
Stable Diffusion output), then times three ways of hashing the same files:

- vigil: read bytes -> decode_image(target_px=512) -> PDQHasher.hash_image
- pdqhash-full: full Pillow decode -> pdqhash.compute
- threatexchange: PdqSignal.hash_from_file (full decode, pdqhash on every pixel)

and reports images/s, the speed-up over threatexchange, and the largest Hamming distance
between Vigil's hash and the other two.

Usage: .venv/bin/python bench/hashing.py [--count N] [--repeats N] [--workdir DIR]
"""

import os

# One core, set before numpy/Pillow load their thread pools.
for _variable in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import pathlib  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import typing as t  # noqa: E402

import numpy as np  # noqa: E402
import pdqhash  # noqa: E402
from PIL import Image  # noqa: E402
from threatexchange.signal_type.pdq.signal import PdqSignal  # noqa: E402

from vigil.hashing.pdq import PDQHasher, hamming_distance, pdq_from_rgb  # noqa: E402
from vigil.media.base import Limits, MediaKind  # noqa: E402
from vigil.media.image import decode_image  # noqa: E402

CAMERA_SIZE = (4000, 3000)  # 12 MP, a common phone/camera sensor size
CAMERA_JPEG_QUALITY = 90
SD_SIZE = (1024, 1024)  # SDXL's native output size
DEFAULT_JPEG_COUNT = 6
DEFAULT_PNG_COUNT_PER_JPEG = 1
DEFAULT_REPEATS = 3
TARGET_SPEEDUP_12MP = 10.0  # issue target: >= 10x threatexchange on 12 MP JPEGs


def _synthetic_photo(width: int, height: int, seed: int) -> Image.Image:
    """Smooth gradients, shapes and sensor-like noise: JPEG sizes like real photos."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = rng.uniform(0, 6.28, 3).astype(np.float32)
    channels = [
        128 + 90 * np.sin(x / (300 + 80 * c) + phase[c]) * np.cos(y / (230 + 60 * c))
        for c in range(3)
    ]
    scene = np.stack(channels, axis=2)
    for _ in range(12):  # rectangles and discs of flat colour
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.03, 0.15) * min(width, height)
        colour = rng.uniform(0, 255, 3).astype(np.float32)
        if rng.random() < 0.5:
            mask = (x - cx) ** 2 + (y - cy) ** 2 < radius**2
        else:
            mask = (abs(x - cx) < radius) & (abs(y - cy) < radius * 0.6)
        scene[mask] = colour
    scene += rng.normal(0, 9, scene.shape).astype(np.float32)  # sensor noise
    return Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8))


def generate(workdir: pathlib.Path, jpeg_count: int) -> dict[str, list[pathlib.Path]]:
    sets: dict[str, list[pathlib.Path]] = {"jpeg-12mp": [], "png-1mp": []}
    for index in range(jpeg_count):
        path = workdir / f"camera-{index:02d}.jpg"
        _synthetic_photo(*CAMERA_SIZE, seed=index).save(
            path, "JPEG", quality=CAMERA_JPEG_QUALITY
        )
        sets["jpeg-12mp"].append(path)
    for index in range(jpeg_count * DEFAULT_PNG_COUNT_PER_JPEG):
        path = workdir / f"generated-{index:02d}.png"
        _synthetic_photo(*SD_SIZE, seed=1000 + index).save(path, "PNG")
        sets["png-1mp"].append(path)
    return sets


def vigil_hash(path: pathlib.Path) -> str:
    kind = MediaKind.PNG if path.suffix == ".png" else MediaKind.JPEG
    hasher = PDQHasher()
    image = decode_image(
        path.read_bytes(), kind, Limits(), target_px=hasher.decode_target_px
    )
    return hasher.hash_image(image).value


def pdqhash_full(path: pathlib.Path) -> str:
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    return pdq_from_rgb(pixels)[0]


def threatexchange_hash(path: pathlib.Path) -> str:
    return PdqSignal.hash_from_file(path)


METHODS: dict[str, t.Callable[[pathlib.Path], str]] = {
    "vigil": vigil_hash,
    "pdqhash-full": pdqhash_full,
    "threatexchange": threatexchange_hash,
}


@dataclasses.dataclass
class Timing:
    seconds: list[float]  # per file, the best of the repeats
    hashes: list[str]

    def per_second(self) -> float:
        return len(self.hashes) / sum(self.seconds)


def time_methods(paths: list[pathlib.Path], repeats: int) -> dict[str, Timing]:
    """Best-of-`repeats` time per file, methods interleaved file by file.

    Interleaving and keeping the best run keep a busy neighbour on the machine from
    favouring whichever method happened to run while it was quiet.
    """
    for method in METHODS.values():
        method(paths[0])  # warm-up: imports, allocator, page cache
    timings = {
        label: Timing([float("inf")] * len(paths), [""] * len(paths))
        for label in METHODS
    }
    for _ in range(repeats):
        for index, path in enumerate(paths):
            for label, method in METHODS.items():
                started = time.perf_counter()
                value = method(path)
                elapsed = time.perf_counter() - started
                timing = timings[label]
                timing.seconds[index] = min(timing.seconds[index], elapsed)
                timing.hashes[index] = value
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--count",
        type=int,
        default=DEFAULT_JPEG_COUNT,
        help="12 MP JPEGs (and as many PNGs)",
    )
    parser.add_argument(
        "--repeats", type=int, default=DEFAULT_REPEATS, help="best of N per file"
    )
    parser.add_argument(
        "--workdir", type=pathlib.Path, help="keep generated images here"
    )
    args = parser.parse_args()

    if sys.platform == "linux":  # pin to one core
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    workdir = args.workdir or pathlib.Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        sets = generate(workdir, args.count)
        print(
            f"generated {sum(map(len, sets.values()))} images in {workdir} "
            f"({time.perf_counter() - started:.1f} s); "
            f"one core, pdqhash {pdqhash.__version__}"
        )
        for name, paths in sets.items():
            mean_mb = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
            print(f"\n{name}: {len(paths)} files, mean {mean_mb:.2f} MB")
            timings = time_methods(paths, args.repeats)
            reference = timings["threatexchange"].per_second()
            for label, timing in timings.items():
                print(
                    f"  {label:15s} {timing.per_second():8.2f} images/s  "
                    f"{timing.per_second() / reference:6.1f}x threatexchange"
                )
            for other in ("pdqhash-full", "threatexchange"):
                distances = [
                    hamming_distance(a, b)
                    for a, b in zip(
                        timings["vigil"].hashes, timings[other].hashes, strict=True
                    )
                    if b  # threatexchange returns "" below its quality threshold
                ]
                print(
                    f"  max Hamming vigil vs {other}: "
                    f"{max(distances, default=-1)} bits (over {len(distances)} images)"
                )
            if name == "jpeg-12mp":
                speedup = timings["vigil"].per_second() / reference
                verdict = "met" if speedup >= TARGET_SPEEDUP_12MP else "NOT met"
                print(
                    f"  target >= {TARGET_SPEEDUP_12MP:.0f}x on 12 MP JPEGs: {verdict}"
                )
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
