"""A small, benign demo set that Vigil synthesises itself: no downloads, no real photos.

Geometric test patterns in every supported image format, exact and near duplicates,
archives (nested, and one with a path-traversal name) and broken files, so that one
`make run` shows what a scan records, what it refuses, and why. Deterministic: the same
bytes every time.
"""

import gzip
import hashlib
import io
import json
import pathlib
import struct
import tarfile
import zipfile

import numpy as np
from PIL import Image, ImageDraw, ImageOps, PngImagePlugin

DEMO_SEED = 20261123
PATTERNS = ("gradient", "rings", "checker", "stripes", "shapes")
FORMATS = (
    ("png", "PNG"),
    ("jpg", "JPEG"),
    ("webp", "WEBP"),
    ("bmp", "BMP"),
    ("tiff", "TIFF"),
)
ZIP_DATE = (2024, 1, 1, 0, 0, 0)  # reproducible archive bytes
MIN_PATTERNS = 26  # copies, shrinks, archives, mirrors and renders patterns 0-25


def pattern_image(kind: str, size: tuple[int, int], seed: int) -> Image.Image:
    """One benign test pattern (no people, no photographs)."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    colour = rng.uniform(0.3, 1.0, size=3)
    if kind == "gradient":
        base = (x / width)[..., None] * colour + (y / height)[..., None] * (1 - colour)
    elif kind == "rings":
        radius = np.hypot(x - width / 2, y - height / 2)
        base = (0.5 + 0.5 * np.sin(radius / rng.uniform(4, 16)))[..., None] * colour
    elif kind == "checker":
        cell = int(rng.integers(8, 48))
        board = ((x // cell + y // cell) % 2).astype(np.float32)
        base = board[..., None] * colour + (1 - board)[..., None] * colour[::-1] * 0.4
    elif kind == "stripes":
        angle = rng.uniform(0, np.pi)
        wave = np.sin((x * np.cos(angle) + y * np.sin(angle)) / rng.uniform(3, 12))
        base = (0.5 + 0.5 * wave)[..., None] * colour
    else:
        base = np.ones((height, width, 3), np.float32) * colour * 0.2
    pixels = np.clip(base * 255, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    if kind == "shapes":
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
            box = (
                x0,
                y0,
                x0 + int(rng.integers(10, width // 2)),
                y0 + int(rng.integers(10, height // 2)),
            )
            fill = tuple(int(c) for c in rng.integers(0, 256, size=3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    return image


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    options = {"quality": 88} if fmt in ("JPEG", "WEBP") else {}
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def known_list() -> str:
    """A demo hash list (plain format) of some demo patterns, as a hotline's list of
    known images would be: PDQ of the near-duplicated and mirrored originals, and the
    MD5 of one exactly copied file."""
    from vigil.hashing.crypto import MD5Hasher
    from vigil.hashing.pdq import PDQHasher
    from vigil.media.base import DecodedImage, MediaKind

    lines = ["# Vigil demo hash list: benign test patterns, not real material"]
    for index in (*range(6, 12), *range(20, 23)):
        name, _data, image = _original(index)
        decoded = DecodedImage(image, MediaKind.PNG, *image.size, 1, 1, False)
        value = PDQHasher().hash_image(decoded).value
        lines.append(f"pdq,{value},category=demo,comment={pathlib.Path(name).name}")
    state = MD5Hasher().new()
    state.update(_original(0)[1])
    lines.append(f"md5,{state.hexdigest()},category=demo")
    return "\n".join(lines) + "\n"


def _original(index: int) -> tuple[str, bytes, Image.Image]:
    kind = PATTERNS[index % len(PATTERNS)]
    extension, fmt = FORMATS[index % len(FORMATS)]
    side = 256 + 64 * (index % 8)
    image = pattern_image(kind, (side + 32 * (index % 3), side), DEMO_SEED + index)
    return f"patterns/{kind}-{index:03d}.{extension}", encode(image, fmt), image


#: The demo LoRA's training metadata: benign kohya-style captions and folders.
DEMO_LORA_METADATA = {
    "ss_output_name": "demo-lighthouse-style",
    "ss_base_model_version": "sd_v1",
    "ss_dataset_dirs": json.dumps({"10_lighthouse": {"n_repeats": 10, "img_count": 3}}),
    "ss_tag_frequency": json.dumps(
        {"10_lighthouse": {"lighthouse": 3, "sea": 2, "test pattern": 3}}
    ),
}
DEMO_PROMPTS = (
    "a lighthouse on a cliff, test pattern",
    "concentric rings, studio lighting",
    "a stone bridge over a river at dusk",
)


def demo_lora() -> bytes:
    """A tiny, valid safetensors LoRA (zeros) with benign kohya metadata."""
    payload = bytes(64)
    header = {
        "__metadata__": DEMO_LORA_METADATA,
        "lora_unet_down.lora_up.weight": {
            "dtype": "F32",
            "shape": [4, 4],
            "data_offsets": [0, len(payload)],
        },
    }
    text = json.dumps(header, sort_keys=True).encode()
    return struct.pack("<Q", len(text)) + text + payload


def _with_generation_record(image: Image.Image, index: int, lora: bytes) -> bytes:
    """A PNG with AUTOMATIC1111-style parameters naming the demo LoRA by its AutoV3
    hash (SHA-256 of the tensor data after the header, first 12 hex)."""
    header_length = struct.unpack("<Q", lora[:8])[0]
    autov3 = hashlib.sha256(lora[8 + header_length :]).hexdigest()[:12]
    name = DEMO_LORA_METADATA["ss_output_name"]
    info = PngImagePlugin.PngInfo()
    info.add_text(
        "parameters",
        f"{DEMO_PROMPTS[index]} <lora:{name}:0.8>\nNegative prompt: blurry\n"
        f"Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: {DEMO_SEED + index}, "
        f"Size: {image.width}x{image.height}, "
        f'Model: demo-base, Lora hashes: "{name}: {autov3}", Version: demo',
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def build_demo(directory: pathlib.Path, *, count: int = 40) -> list[pathlib.Path]:
    """Write the demo set into `directory` and return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[pathlib.Path] = []

    def write(relative: str, data: bytes) -> None:
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)

    originals: list[tuple[str, bytes, Image.Image]] = []
    for index in range(count):
        name, data, image = _original(index)
        write(name, data)
        originals.append((name, data, image))

    for name, data, _image in originals[:6]:  # exact copies: one item, two locations
        write(f"copies/{pathlib.Path(name).name}", data)
    for name, _data, image in originals[6:12]:  # near duplicates: new bytes, close PDQ
        smaller = image.resize((image.width * 3 // 4, image.height * 3 // 4))
        write(
            f"near-duplicates/{pathlib.Path(name).stem}-small.jpg",
            encode(smaller, "JPEG"),
        )

    frames = [pattern_image("rings", (160, 120), DEMO_SEED + 900 + i) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=200)
    write("patterns/animated-rings.gif", buffer.getvalue())

    inner = io.BytesIO()
    # gzip stamps the current time into its header unless told otherwise
    with (
        gzip.GzipFile(fileobj=inner, mode="wb", mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w") as tar,
    ):
        for name, data, _image in originals[12:15]:
            info = tarfile.TarInfo(pathlib.Path(name).name)
            info.size, info.mtime = len(data), 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_STORED) as archive:
        for name, data, _image in originals[15:20]:
            archive.writestr(zipfile.ZipInfo(name, ZIP_DATE), data)
        archive.writestr(
            zipfile.ZipInfo("nested/inner.tar.gz", ZIP_DATE), inner.getvalue()
        )
        archive.writestr(
            zipfile.ZipInfo("../outside.txt", ZIP_DATE), b"refused by Vigil"
        )
    write("archives/bundle.zip", bundle.getvalue())

    for name, _data, image in originals[20:23]:  # mirrored: found by PDQ variants
        mirrored = ImageOps.mirror(image)
        write(
            f"mirrored/{pathlib.Path(name).stem}-mirrored.png", encode(mirrored, "PNG")
        )

    lora = demo_lora()
    write("models/demo-lighthouse-style.safetensors", lora)
    for index, (name, _data, image) in enumerate(originals[23:26]):
        rendered = _with_generation_record(image, index, lora)
        write(f"generated/{pathlib.Path(name).stem}-render.png", rendered)

    jpeg = originals[1][1]
    write("broken/truncated.jpg", jpeg[: len(jpeg) // 3])
    write("broken/empty.png", b"")
    write("broken/not-an-image.jpg", b"plain text with an image extension\n")
    return written
