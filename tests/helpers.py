"""Helpers shared by tests: synthesised benign images and store dumps."""

import io
import pathlib
import typing as t

import numpy as np
import sqlalchemy as sa
from PIL import Image

from vigil.media.base import Limits
from vigil.pipeline.config import ScanOptions, WorkConfig, build_config
from vigil.pipeline.records import ItemObservation
from vigil.plugins import build_registry
from vigil.store.store import SQLStore as Store


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
    options = ScanOptions(
        limits=limits or Limits(), provenance=provenance, models=provenance
    )
    return build_config(build_registry(), options)


def observation(
    sha256: str,
    member_path: str = "",
    *,
    size: int = 10,
    kind: str = "png",
    hashes: t.Sequence[t.Any] = (),
    width: int | None = None,
    height: int | None = None,
    frame_count: int | None = None,
    evidence: t.Sequence[t.Any] = (),
    generation: t.Any = None,
    scores: t.Sequence[t.Any] = (),
) -> ItemObservation:
    """An item as the stages would report it, built from plain facts: `hashes`
    are the digests, the rest become the hash and provenance stages' results."""
    from vigil.pipeline.stage import StageResult
    from vigil.pipeline.stages.image_hash import ImageFacts
    from vigil.pipeline.stages.provenance import ProvenanceResult

    results: list[StageResult] = []
    if width is not None:
        results.append(ImageFacts(width=width, height=height, frame_count=frame_count))
    if evidence or generation is not None:
        results.append(
            ProvenanceResult(evidence=tuple(evidence), generation=generation)
        )
    if scores:
        results.append(StageResult(scores=tuple(scores)))
    return ItemObservation(
        member_path=member_path,
        size=size,
        mtime=1.0,
        sha256=sha256,
        kind=kind,
        digests=tuple(hashes),
        results=tuple(results),
    )
