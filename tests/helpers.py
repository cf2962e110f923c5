"""Helpers shared by tests: synthesised benign images and store dumps."""

import io
import pathlib
import typing as t

import numpy as np
import sqlalchemy as sa
from PIL import Image

from vigil.media.base import Limits
from vigil.pipeline.work import WorkConfig
from vigil.plugins import build_registry
from vigil.store.store import Store


def image_bytes(seed: int, size: tuple[int, int] = (96, 64), fmt: str = "PNG") -> bytes:
    """A small benign noise-and-gradient image, different for every seed."""
    rng = np.random.default_rng(seed)
    width, height = size
    gradient = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    noise = rng.integers(0, 60, size=(height, width, 3)).astype(np.float32)
    pixels = np.clip(gradient * rng.uniform(0.3, 1.0, 3) + noise, 0, 255).astype(
        np.uint8
    )
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, fmt)
    return buffer.getvalue()


def store_rows(store: Store) -> dict[str, list[tuple[t.Any, ...]]]:
    """The store's content without ids or timestamps, for comparing two stores."""
    queries = {
        "items": "select sha256, size, kind, width, height, frame_count from items",
        "locations": "select l.path, l.member_path, l.size, i.sha256 from locations l "
        "join items i on i.id = l.item_id",
        "hashes": "select i.sha256, h.hasher, h.value, h.pipeline, h.quality "
        "from hashes h join items i on i.id = h.item_id",
        "errors": "select path, member_path, reason from errors",
        "journal": "select path, bytes_read from scan_files",
    }
    with store.engine.connect() as c:
        return {
            k: sorted(tuple(r) for r in c.execute(sa.text(q)))
            for k, q in queries.items()
        }


def require_fixture(root: pathlib.Path, relative: str) -> pathlib.Path:
    """A fixture file, or skip when only the in-repository subset is present."""
    import pytest

    path = root / relative
    if not path.exists():
        pytest.skip(f"{relative} is only in ../shared/fixtures, which is absent")
    return path


def work_config(
    limits: Limits | None = None, *, provenance: bool = False
) -> WorkConfig:
    """Every hasher; with `provenance`, every extractor, the prompt filter and the
    model-file inspector too (as `vigil scan` runs by default)."""
    registry = build_registry()
    return WorkConfig(
        limits=limits or Limits(),
        stream_hashers=tuple(registry.stream_hashers()),
        image_hashers=tuple(registry.image_hashers()),
        extractors=tuple(registry.extractors()) if provenance else (),
        score_prompts=provenance,
        inspect_models=provenance,
    )
