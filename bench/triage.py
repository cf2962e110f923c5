"""Triage workload: analyst decisions per 100 items, and clustering time at scale.

Part 1 writes a forum-like set of benign synthetic images with ground truth: a few
creators post seed runs, each one procedural test pattern (gradient, rings,
checkerboard, flat shapes or a noise texture, drawn from a per-run seed) posted as
variants of it: the PNG original, JPEG re-encodes at quality 90 and 75, a resize to
50-75%, a crop keeping 90-95% of each side at a random offset, a brightness shift of
3-10%, and in half the runs a second resize (of the quality-75 copy) and brightness
shift. Some runs are generation batches instead (distinct seeds of one pattern
sharing one AUTOMATIC1111 parameters record, half also re-encoded as JPEG without
it). A quarter of the files are reposted (the same bytes in 2-4 threads) and a
twentieth are unique singletons; about 10% of the runs go on a hash list (a file's
PDQ from `vigil hash`, or the MD5 of some of its files). The real tool runs on it
(`vigil hashlist import`, `vigil scan --engine inline` through click's CliRunner);
then a simulated analyst does what `vigil queue` and `vigil assess` do, through the
same library calls: refresh, take the first queue entry, decide it (applied to its
cluster when it is the cluster's representative, as `vigil assess --cluster`
requires), until the queue is empty. Reported: decisions per 100 items (distinct
SHA-256) against one decision per item, what settled each item, and the clusters
checked against the ground truth (mixed runs, split runs, which variants joined
their run). A second analyst, who assesses the head's cluster representative
instead when the head is not it, works on a copy of the same store.

Part 2 times `vigil.triage.clusters.clusters` and `near_duplicates` alone on
synthetic cluster items (random PDQ hashes, 60% in near-duplicate groups with up to
10 bits flipped per member, quality 90; 10% with generation-batch keys, 5% seen in
2-4 places), each size in a fresh process so that its peak RSS is its own.

Usage: .venv/bin/python bench/triage.py [--items N] [--creators N] [--seed N]
       [--scale 100000,1000000 | --quick] [--scale-limit-s S] [--no-forum]
       [--no-scale] [--json]
"""

import argparse
import collections
import dataclasses
import gc
import hashlib
import io
import json
import multiprocessing
import os
import pathlib
import queue as queue_module
import resource
import sqlite3
import tempfile
import time
import typing as t

import numpy as np
from click.testing import CliRunner
from PIL import Image, ImageDraw, ImageEnhance, PngImagePlugin

from vigil.cli import cli
from vigil.hashing.pdq import PDQ_MIN_RELIABLE_QUALITY
from vigil.hashing.types import PDQ_MATCH_THRESHOLD_BITS
from vigil.review.taxonomy import Observations
from vigil.store import open_store
from vigil.store.base import Store
from vigil.store.records import AssessmentSource, ItemQuery
from vigil.store.triage import TriageError
from vigil.triage.assess import assess, represented_clusters
from vigil.triage.clusters import ClusterItem, ClusterKind, clusters, near_duplicates
from vigil.triage.queue import QueueEntry, build_queue
from vigil.triage.update import refresh

TARGET_DECISIONS_PER_100 = 30.0  # issue target: at most 30 decisions per 100 items
DEFAULT_FILES = 600
DEFAULT_CREATORS = 6
DEFAULT_SCALES = (100_000, 1_000_000)
QUICK_SCALES = (10_000, 100_000)
DEFAULT_SCALE_LIMIT_S = 1800  # one size's child process is stopped after this

# Part 1: the forum set.
IMAGE_SIZE_PX = (512, 384)
FAMILIES = ("gradient", "rings", "checker", "shapes", "noise")
# Fewer shapes leave some flat patterns under PDQ quality 50, which never cluster
# (measured while writing this benchmark: 16 of 80 bases with 3-6 shapes).
SHAPES_PER_PATTERN = (8, 15)
SINGLETON_SHARE = 0.05  # of files: unique one-off images
BATCH_RUN_SHARE = 0.15  # of runs: generation batches rather than variants of one base
BATCH_SEEDS = (3, 7)  # seeds per generation batch, upper bound exclusive
BATCH_JPEG_ODDS = 0.5  # a batch image also posted as a JPEG without its record
REPOST_SHARE = 0.25  # of files: the same bytes also posted in 1-3 more threads
KNOWN_RUN_SHARE = 0.10  # of runs: put on the hash list
THREADS = 40  # forum thread folders
JPEG_QUALITY = 85  # what a forum re-encodes an edited copy with
# The variants a run posts of its base (the PNG original, always posted), each with
# the chance that it is posted: every transform of the issue once, and a second
# resize (of the quality-75 copy) and brightness shift in half the runs.
VARIANT_ODDS: tuple[tuple[str, float], ...] = (
    ("jpeg90", 1.0),
    ("jpeg75", 1.0),
    ("resize", 1.0),
    ("crop", 1.0),
    ("brightness", 1.0),
    ("resize_jpeg75", 0.5),
    ("brightness", 0.5),
)
RESIZE_SCALE = (0.50, 0.75)
CROP_KEEP = (0.90, 0.95)  # of each side
BRIGHTNESS_SHIFT = (0.03, 0.10)  # up or down
ANALYST = "bench"
# What the simulated analyst records for every item: benign test patterns.
OBSERVATIONS = {
    "child": "no",
    "age_band": None,
    "sex": None,
    "act": "none",
    "realism": "non_photographic",
    "ai_generated": "no",
    "outcome": "not_criminal",
    "reason": "off_remit",
}
STRATEGIES = ("queue_head", "representative")

# Part 2: synthetic cluster items.
NEAR_SHARE = 0.60  # of items: in near-duplicate groups
MEAN_GROUP_SIZE = 5  # geometric group sizes, 2 to MAX_GROUP_SIZE
MAX_GROUP_SIZE = 200
MAX_FLIP_BITS = 10  # a member is its group's base with up to this many bits flipped
BATCH_SHARE = 0.10  # of items: with a generation-batch key
BATCH_GROUP_SIZE = 4
SYNTHETIC_REPOST_SHARE = 0.05  # of items: seen in 2-4 places
SYNTHETIC_QUALITY = 90
WARM_UP_ITEMS = 2000  # clustered once untimed: the index modules load on first use


# Part 1: the forum set


@dataclasses.dataclass(frozen=True)
class Posted:
    """One file written, with its ground truth."""

    path: str  # relative to the forum folder
    run: str  # what one human decision settles: `c2-r3`, or `single-17`
    variant: str  # base, jpeg90, ..., seed, seed_jpeg, single
    sha256: str
    md5: str


def pattern(family: str, seed: int) -> Image.Image:
    """One benign test pattern: a two-colour ramp, the family's texture, and flat
    shapes (no text, no people)."""
    rng = np.random.default_rng(seed)
    width, height = IMAGE_SIZE_PX
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = x / width * np.cos(angle) + y / height * np.sin(angle)
    ramp = (ramp - ramp.min()) / np.ptp(ramp)
    first, second = rng.uniform(0, 1, (2, 3))
    rgb = ramp[..., None] * first + (1 - ramp[..., None]) * second
    if family == "checker":
        cell = rng.uniform(0.12, 0.25) * width
        board = ((x // cell + y // cell) % 2)[..., None]
        rgb = rgb * (0.6 + 0.4 * board)
    elif family == "rings":
        cx, cy = rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height
        rings = np.sin(np.hypot(x - cx, y - cy) / rng.uniform(18, 40)) > 0
        rgb = rgb * (0.6 + 0.4 * rings)[..., None]
    elif family == "noise":
        coarse = (rng.uniform(0, 1, (4, 5, 3)) * 255).astype(np.uint8)
        texture = Image.fromarray(coarse).resize((width, height), Image.BICUBIC)
        rgb = 0.4 * rgb + 0.6 * np.asarray(texture, np.float32) / 255
    rgb = rgb + rng.normal(0, 0.03, rgb.shape)
    image = Image.fromarray(np.clip(rgb * 255, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(*SHAPES_PER_PATTERN))):
        cx, cy = rng.uniform(0.15, 0.85) * width, rng.uniform(0.15, 0.85) * height
        radius = rng.uniform(0.08, 0.2) * width
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), colour)
        elif shape == 1:
            box = (cx - radius, cy - 0.7 * radius, cx + radius, cy + 0.7 * radius)
            draw.rectangle(box, colour)
        else:
            corners = np.sort(rng.uniform(0, 2 * np.pi, 3))
            draw.polygon(
                [(cx + radius * np.cos(a), cy + radius * np.sin(a)) for a in corners],
                colour,
            )
    return image


def _encode(image: Image.Image, fmt: str, **options: t.Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _resized(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    scale = rng.uniform(*RESIZE_SCALE)
    size = (round(image.width * scale), round(image.height * scale))
    return image.resize(size, Image.LANCZOS)


def variants(image: Image.Image, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    """(variant, bytes) of one run's base: the PNG original and what was drawn."""
    found = [("base", _encode(image, "PNG"))]
    for name, odds in VARIANT_ODDS:
        if rng.random() >= odds:
            continue
        if name in ("jpeg90", "jpeg75"):
            data = _encode(image, "JPEG", quality=int(name[-2:]))
        elif name == "resize":
            data = _encode(_resized(image, rng), "JPEG", quality=JPEG_QUALITY)
        elif name == "resize_jpeg75":
            with Image.open(io.BytesIO(_encode(image, "JPEG", quality=75))) as copy:
                data = _encode(_resized(copy.convert("RGB"), rng), "JPEG", quality=75)
        elif name == "brightness":
            shift = rng.uniform(*BRIGHTNESS_SHIFT) * rng.choice([-1, 1])
            shifted = ImageEnhance.Brightness(image).enhance(1 + shift)
            data = _encode(shifted, "JPEG", quality=JPEG_QUALITY)
        else:  # crop
            keep = rng.uniform(*CROP_KEEP)
            width, height = round(image.width * keep), round(image.height * keep)
            left = int(rng.integers(0, image.width - width + 1))
            top = int(rng.integers(0, image.height - height + 1))
            cropped = image.crop((left, top, left + width, top + height))
            data = _encode(cropped, "JPEG", quality=JPEG_QUALITY)
        found.append((name, data))
    return found


def _with_parameters(image: Image.Image, prompt: str, seed: int, model: str) -> bytes:
    """A PNG with an AUTOMATIC1111 parameters record: one batch shares all but the
    seed."""
    info = PngImagePlugin.PngInfo()
    info.add_text(
        "parameters",
        f"{prompt}\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, "
        f"CFG scale: 7, Seed: {seed}, Size: {image.width}x{image.height}, "
        f"Model hash: {hashlib.sha256(model.encode()).hexdigest()[:10]}, "
        f"Model: {model}, Version: v1.9.4",
    )
    return _encode(image, "PNG", pnginfo=info)


class Forum:
    """Writes files into thread folders and keeps the ground truth."""

    def __init__(self, folder: pathlib.Path, rng: np.random.Generator) -> None:
        self.folder = folder
        self.rng = rng
        self.posted: list[Posted] = []
        self.reposted = 0

    def post(self, data: bytes, run: str, variant: str) -> None:
        sha256 = hashlib.sha256(data).hexdigest()
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        ext = "png" if data.startswith(b"\x89PNG") else "jpg"
        places = 1
        if self.rng.random() < REPOST_SHARE:
            places += int(self.rng.integers(1, 4))
            self.reposted += 1
        for thread in self.rng.choice(THREADS, size=places, replace=False):
            relative = f"thread-{thread:02d}/post-{len(self.posted):05d}.{ext}"
            path = self.folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            self.posted.append(Posted(relative, run, variant, sha256, md5))


@dataclasses.dataclass
class ForumSet:
    posted: list[Posted]
    runs: int
    batch_runs: int
    singletons: int
    reposted: int  # files that were also posted elsewhere
    listed_runs: dict[str, str]  # run -> "pdq" or "md5"
    list_lines: list[str]


def build_forum(
    folder: pathlib.Path, home: pathlib.Path, files: int, creators: int, seed: int
) -> ForumSet:
    rng = np.random.default_rng(seed)
    forum = Forum(folder, rng)
    singletons = round(files * SINGLETON_SHARE)
    run_files: dict[str, list[Posted]] = {}
    runs = batch_runs = 0
    while len(forum.posted) < files - singletons:
        creator = runs % creators
        family = FAMILIES[creator % len(FAMILIES)]
        run = f"c{creator}-r{runs // creators}"
        start = len(forum.posted)
        if rng.random() < BATCH_RUN_SHARE:
            batch_runs += 1
            prompt = f"{family} test pattern, flat shapes on a gradient, {run}"
            for _ in range(int(rng.integers(*BATCH_SEEDS))):
                image_seed = int(rng.integers(2**31))
                image = pattern(family, image_seed)
                model = f"bench-model-{creator}"
                forum.post(
                    _with_parameters(image, prompt, image_seed, model), run, "seed"
                )
                if rng.random() < BATCH_JPEG_ODDS:
                    jpeg = _encode(image, "JPEG", quality=JPEG_QUALITY)
                    forum.post(jpeg, run, "seed_jpeg")
        else:
            image = pattern(family, int(rng.integers(2**31)))
            for variant, data in variants(image, rng):
                forum.post(data, run, variant)
        run_files[run] = forum.posted[start:]
        runs += 1
    for number in range(singletons):
        image = pattern(FAMILIES[number % len(FAMILIES)], int(rng.integers(2**31)))
        forum.post(
            _encode(image, "JPEG", quality=JPEG_QUALITY), f"single-{number}", "single"
        )

    # The hash list: alternately the PDQ of a run's first file of PDQ quality >= 50
    # (as `vigil hash` gives it; lists leave out lower ones, as Meta's PDQ docs
    # advise) and the MD5 of one or two of the run's other files.
    count = max(2, round(runs * KNOWN_RUN_SHARE))
    chosen = rng.choice(sorted(run_files), size=min(count, runs), replace=False)
    listed: dict[str, str] = {}
    lines = ["# bench/triage.py: benign synthetic test patterns"]
    for number, run in enumerate(sorted(str(r) for r in chosen)):
        posted = run_files[run]
        if number % 2 == 0:
            paths = [str(folder / p.path) for p in posted]
            output = _vigil(home, "hash", "--json", "--hasher", "pdq", *paths)
            hashes = [json.loads(line) for line in output.splitlines() if line]
            reliable = [
                h["pdq"]
                for h in hashes
                if h.get("pdq_quality", 0) >= PDQ_MIN_RELIABLE_QUALITY
            ]
            if reliable:
                lines.append(f"pdq,{reliable[0]}")
                listed[run] = "pdq"
                continue
        others = sorted({p.md5 for p in posted[1:]}) or [posted[0].md5]
        take = min(len(others), int(rng.integers(1, 3)))
        for md5 in rng.choice(others, size=take, replace=False):
            lines.append(f"md5,{md5}")
        listed[run] = "md5"
    return ForumSet(
        forum.posted, runs, batch_runs, singletons, forum.reposted, listed, lines
    )


_RUNNER = CliRunner()


def _vigil(home: pathlib.Path, *args: str) -> str:
    """Run one `vigil` command in-process; its standard output."""
    result = _RUNNER.invoke(cli, ["--home", str(home), *args], catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(
            f"vigil {' '.join(args)} exited {result.exit_code}: {result.output[-2000:]}"
        )
    return result.stdout


@dataclasses.dataclass
class Simulation:
    strategy: str
    decisions: int = 0
    with_cluster: int = 0  # decisions applied to a cluster
    propagated_items: int = 0  # items settled by those
    heads_not_representative: int = 0  # a cluster's queue entry was not its rep
    fallbacks: int = 0  # representative strategy: the representative was refused
    settled_mate: int = 0  # decisions on items with a cluster-mate decided already
    no_progress: list[str] = dataclasses.field(default_factory=list)
    first_queue: int = 0  # entries in the queue before the first decision
    refresh_s: float = 0.0
    queue_s: float = 0.0
    assess_s: float = 0.0
    settled: dict[str, int] = dataclasses.field(default_factory=dict)
    unsettled: int = 0


def simulate(url: str, scan_id: int, strategy: str, limit: int) -> Simulation:
    """Decide the queue until it is empty (or `limit` decisions)."""
    observations = Observations.from_dict(OBSERVATIONS)
    found = Simulation(strategy)
    store = open_store(url)
    try:
        sha = {v.item_id: v.sha256 for v in store.iter_items(ItemQuery(scan_id=None))}
        previous_pending: int | None = None
        while True:
            started = time.perf_counter()
            refresh(store, scan_id)  # what `vigil queue` does first
            found.refresh_s += time.perf_counter() - started
            started = time.perf_counter()
            entries = build_queue(store, scan_id=scan_id, analyst=ANALYST)
            found.queue_s += time.perf_counter() - started
            pending = sum(e.pending for e in entries)
            if found.decisions == 0:
                found.first_queue = len(entries)
            if previous_pending is not None and pending >= previous_pending:
                found.no_progress.append(
                    f"after decision {found.decisions}: {pending} items pending, "
                    f"{previous_pending} before"
                )
                if len(found.no_progress) >= 3:
                    break
            previous_pending = pending
            if not entries or found.decisions >= limit:
                break
            started = time.perf_counter()
            _decide(store, entries[0], sha, observations, found)
            found.assess_s += time.perf_counter() - started
        held = store.triage.current(sha)
        found.settled = dict(collections.Counter(a.source for a in held.values()))
        found.unsettled = len(sha) - len(held)
    finally:
        store.close()
    return found


def _decide(
    store: Store,
    head: QueueEntry,
    sha: dict[int, str],
    observations: Observations,
    found: Simulation,
) -> None:
    item_id = head.facts.item_id
    cluster = (
        store.triage.cluster(head.facts.cluster_id)
        if head.facts.cluster_id is not None
        else None
    )
    target, whole = item_id, False
    if cluster is not None:
        # the representative carries the cluster; so does the member the queue
        # shows once the representative is decided (vigil assess --cluster)
        whole = bool(represented_clusters(store, item_id))
        if cluster.representative != item_id:
            found.heads_not_representative += 1
            if found.strategy == "representative":
                held = store.triage.current([cluster.representative])
                current = held.get(cluster.representative)
                if current is None or current.source == AssessmentSource.HASH_LIST:
                    target, whole = cluster.representative, True
    has_settled_mate = _has_settled_mate(store, target)
    try:
        decision = assess(
            store, sha[target], observations, analyst=ANALYST, cluster=whole
        )
    except TriageError:
        if target == item_id:
            raise
        found.fallbacks += 1
        has_settled_mate = _has_settled_mate(store, item_id)
        decision = assess(store, sha[item_id], observations, analyst=ANALYST)
        whole = False
    found.decisions += 1
    found.settled_mate += has_settled_mate
    found.with_cluster += whole
    found.propagated_items += sum(len(p.items) for p in decision.propagations)


def _has_settled_mate(store: Store, item_id: int) -> bool:
    """Whether another member of one of the item's clusters is decided already
    (by an analyst, or by propagation): a decision propagation did not spare."""
    mates = {
        m
        for c in store.triage.clusters()
        if c.kind != ClusterKind.REPOST and item_id in c.members
        for m in c.members
    } - {item_id}
    held = store.triage.current(mates) if mates else {}
    return any(a.source != AssessmentSource.HASH_LIST for a in held.values())


def _components(
    members: t.Iterable[tuple[int, ...]], items: t.Iterable[int]
) -> dict[int, int]:
    """Each item's connected component over the clusters (a union of clusters)."""
    parent = {i: i for i in items}

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for group in members:
        for other in group[1:]:
            a, b = root(group[0]), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {i: root(i) for i in parent}


def purity(store: Store, forum: ForumSet) -> dict[str, t.Any]:
    """The stored clusters against the ground truth."""
    views = list(store.iter_items(ItemQuery(scan_id=None)))
    run_of: dict[str, set[str]] = collections.defaultdict(set)
    variant_of: dict[str, str] = {}
    for p in forum.posted:
        run_of[p.sha256].add(p.run)
        variant_of.setdefault(p.sha256, p.variant)
    by_id = {v.item_id: v for v in views}
    stored = [c for c in store.triage.clusters() if c.kind != ClusterKind.REPOST.value]
    mixed = []
    for c in stored:
        runs = set().union(*(run_of[by_id[m].sha256] for m in c.members))
        if len(runs) > 1:
            mixed.append(f"cluster {c.id} ({c.kind}, {c.size}): {sorted(runs)}")
    component = _components((c.members for c in stored), by_id)
    spans: dict[str, set[int]] = collections.defaultdict(set)
    items_of: dict[str, list[int]] = collections.defaultdict(list)
    for view in views:
        for run in run_of[view.sha256]:
            spans[run].add(component[view.item_id])
            items_of[run].append(view.item_id)
    multi = [r for r in items_of if len(items_of[r]) > 1]
    split = [r for r in multi if len(spans[r]) > 1]
    # Which variants joined their run's first file (its base, or first seed).
    first = {}
    for p in forum.posted:
        first.setdefault(p.run, p.sha256)
    id_of = {v.sha256: v.item_id for v in views}
    joined: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for sha256, variant in variant_of.items():
        if variant in ("base", "single"):
            continue
        run = next(iter(run_of[sha256]))
        if first[run] == sha256:
            continue
        joined[variant][0] += 1
        joined[variant][1] += component[id_of[sha256]] == component[id_of[first[run]]]
    matched = {v.sha256 for v in views if v.is_matched}
    matched_runs = collections.Counter(next(iter(run_of[s])) for s in matched)
    return {
        "clusters": collections.Counter(c.kind for c in stored),
        "mixed": mixed,
        "runs_with_several_items": len(multi),
        "split_runs": len(split),
        "extra_groups_from_splits": sum(len(spans[r]) - 1 for r in split),
        "joined": {k: tuple(v) for k, v in sorted(joined.items())},
        "matched_items": len(matched),
        "matched_from_unlisted_runs": sum(
            n for r, n in matched_runs.items() if r not in forum.listed_runs
        ),
        "listed_runs_matched": sum(1 for r in forum.listed_runs if r in matched_runs),
        "runs_to_decide": len(
            {r for v in views if v.sha256 not in matched for r in run_of[v.sha256]}
        ),
        "ambiguous_items": sum(1 for s in run_of if len(run_of[s]) > 1),
        "low_quality_items": sum(
            1
            for v in views
            if any(
                h.hasher == "pdq" and (h.quality or 0) < PDQ_MIN_RELIABLE_QUALITY
                for h in v.hashes
            )
        ),
    }


def _copy_database(source: pathlib.Path, target: pathlib.Path) -> None:
    """A consistent copy of a SQLite store (the backup API: WAL pages included)."""
    with sqlite3.connect(source) as have, sqlite3.connect(target) as copy:
        have.backup(copy)
    have.close()
    copy.close()


def run_forum(args: argparse.Namespace) -> dict[str, t.Any]:
    with tempfile.TemporaryDirectory(prefix="vigil-bench-triage-") as temp:
        root = pathlib.Path(temp)
        folder, home = root / "forum", root / "home"
        home.mkdir()
        started = time.perf_counter()
        forum = build_forum(folder, home, args.items, args.creators, args.seed)
        generate_s = time.perf_counter() - started
        list_file = root / "known.csv"
        list_file.write_text("\n".join(forum.list_lines) + "\n")
        pdq_entries = sum(line.startswith("pdq,") for line in forum.list_lines)
        md5_entries = sum(line.startswith("md5,") for line in forum.list_lines)
        print(
            f"forum set: {len(forum.posted)} files from {forum.runs} runs "
            f"({forum.batch_runs} generation batches) by {args.creators} creators, "
            f"{forum.singletons} singletons, {forum.reposted} uploads reposted in "
            "2-4 threads; "
            f"hash list: {pdq_entries} pdq + {md5_entries} md5 entries for "
            f"{len(forum.listed_runs)} runs; written in {generate_s:.1f} s"
        )

        started = time.perf_counter()
        _vigil(
            home, "hashlist", "import", str(list_file), "--list", "known", "--create"
        )
        output = _vigil(
            home, "scan", str(folder), "--no-progress", "--engine", "inline", "--json"
        )
        scan_s = time.perf_counter() - started
        summary = json.loads(output.strip().splitlines()[-1])
        url = f"sqlite:///{summary['store']}"
        scan_id = int(summary["scan_id"])
        store = open_store(url)
        try:
            started = time.perf_counter()
            update = refresh(store, scan_id)
            refresh_s = time.perf_counter() - started
            checked = purity(store, forum)
            items = sum(1 for _ in store.iter_items(ItemQuery(scan_id=scan_id)))
        finally:
            store.close()
        print(
            f"scan {scan_id}: {summary['files']} files, {summary['items']} items, "
            f"{summary['errors']} errors, in {scan_s:.1f} s (import + scan, inline); "
            f"first refresh {refresh_s:.2f} s: {update.clusters} clusters, "
            f"{update.labelled} items labelled from the list"
        )

        results = []
        for strategy in STRATEGIES:
            copy = root / f"{strategy}.sqlite3"
            _copy_database(pathlib.Path(summary["store"]), copy)
            started = time.perf_counter()
            found = simulate(f"sqlite:///{copy}", scan_id, strategy, items + 10)
            results.append((found, time.perf_counter() - started))
    _report(forum, summary, items, checked, results)
    head = results[0][0]
    return {
        "files": len(forum.posted),
        "items": items,
        "runs": forum.runs,
        "generation_batch_runs": forum.batch_runs,
        "singletons": forum.singletons,
        "listed_runs": len(forum.listed_runs),
        "generate_s": round(generate_s, 2),
        "scan_s": round(scan_s, 2),
        "first_refresh_s": round(refresh_s, 3),
        "target_decisions_per_100": TARGET_DECISIONS_PER_100,
        "decisions": head.decisions,
        "decisions_per_100": round(100 * head.decisions / items, 2),
        "meets_target": 100 * head.decisions / items <= TARGET_DECISIONS_PER_100,
        "purity": {
            **checked,
            "clusters": dict(checked["clusters"]),
            "joined": {k: list(v) for k, v in checked["joined"].items()},
        },
        "strategies": {
            f.strategy: {
                "decisions": f.decisions,
                "decisions_per_100": round(100 * f.decisions / items, 2),
                "with_cluster": f.with_cluster,
                "propagated_items": f.propagated_items,
                "heads_not_representative": f.heads_not_representative,
                "first_queue_entries": f.first_queue,
                "fallbacks": f.fallbacks,
                "decisions_with_a_decided_cluster_mate": f.settled_mate,
                "settled": f.settled,
                "unsettled": f.unsettled,
                "no_progress": f.no_progress,
                "refresh_s": round(f.refresh_s, 2),
                "queue_s": round(f.queue_s, 2),
                "assess_s": round(f.assess_s, 2),
                "total_s": round(s, 2),
            }
            for f, s in results
        },
    }


def _report(
    forum: ForumSet,
    summary: dict[str, t.Any],
    items: int,
    checked: dict[str, t.Any],
    results: list[tuple[Simulation, float]],
) -> None:
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(checked["clusters"].items()))
    print(
        f"\nclusters (no reposts): {kinds or 'none'}; mixing two runs: "
        f"{len(checked['mixed'])} (should be 0)"
    )
    for line in checked["mixed"]:
        print(f"  MIXED {line}")
    print(
        f"runs with 2+ items split over 2+ groups: {checked['split_runs']} of "
        f"{checked['runs_with_several_items']} ({checked['extra_groups_from_splits']}"
        f" extra groups); items with PDQ quality < 50: {checked['low_quality_items']}"
    )
    print(f"{'variant':14s} {'items':>6s} {'joined its run':>15s}")
    for variant, (count, joined) in checked["joined"].items():
        print(f"{variant:14s} {count:6d} {joined:8d} ({joined / count:4.0%})")
    print(
        f"hash list: {checked['matched_items']} items matched, from "
        f"{checked['listed_runs_matched']} of {len(forum.listed_runs)} listed runs; "
        f"matched from unlisted runs: {checked['matched_from_unlisted_runs']} "
        "(should be 0)"
    )

    print(
        f"\n{items} items (distinct SHA-256), {summary['files']} files; one decision "
        f"per item: 100.0 per 100 (per file: {100 * summary['files'] / items:.1f})"
    )
    print(
        f"a perfect grouping would need one decision per unmatched run: "
        f"{checked['runs_to_decide']} ({100 * checked['runs_to_decide'] / items:.1f} "
        "per 100)"
    )
    print(f"queue entries before the first decision: {results[0][0].first_queue}")
    print(
        f"{'analyst':15s} {'decisions':>9s} {'per 100':>8s} {'--cluster':>9s} "
        f"{'propagated':>10s} {'list':>5s} {'direct':>6s} {'left':>5s} "
        f"{'head!=rep':>9s} {'mate done':>9s} {'seconds':>8s}"
    )
    for found, seconds in results:
        settled = found.settled
        print(
            f"{found.strategy:15s} {found.decisions:9d} "
            f"{100 * found.decisions / items:8.1f} {found.with_cluster:9d} "
            f"{settled.get(AssessmentSource.PROPAGATED, 0):10d} "
            f"{settled.get(AssessmentSource.HASH_LIST, 0):5d} "
            f"{settled.get(AssessmentSource.ANALYST, 0):6d} {found.unsettled:5d} "
            f"{found.heads_not_representative:9d} {found.settled_mate:9d} "
            f"{seconds:8.1f}"
        )
        for line in found.no_progress:
            print(f"  QUEUE DID NOT SHRINK {line}")
        if found.fallbacks:
            print(f"  {found.fallbacks} representatives refused --cluster")
    print(
        "  queue_head: decides the first entry, with --cluster when it carries its "
        "cluster (it is the representative, or the representative is decided);\n"
        "  representative: assesses that "
        "representative with --cluster instead when it is still undecided;\n"
        "  head!=rep: first entries of a cluster that were not its representative; "
        "mate done: decisions\n  on items with a cluster-mate already decided "
        "(what transitive propagation would have spared)"
    )
    print("share of items settled (propagation / hash-list label / direct decision):")
    for found, _ in results:
        settled = found.settled
        shares = " / ".join(
            f"{100 * settled.get(source, 0) / items:.1f}%"
            for source in (
                AssessmentSource.PROPAGATED,
                AssessmentSource.HASH_LIST,
                AssessmentSource.ANALYST,
            )
        )
        print(f"  {found.strategy:15s} {shares}")
    head = results[0][0]
    rate = 100 * head.decisions / items
    verdict = "met" if rate <= TARGET_DECISIONS_PER_100 else "NOT met"
    print(
        f"target <= {TARGET_DECISIONS_PER_100:.0f} decisions per 100 items "
        f"(queue_head analyst, as `vigil queue` + `vigil assess [--cluster]`): "
        f"{rate:.1f}, {verdict}"
    )


# Part 2: clustering at scale


def _flip_bits(packed: np.ndarray, rng: np.random.Generator) -> None:
    """Flip 0 to MAX_FLIP_BITS random bits of each row in place (a repeated
    position flips back, so some rows differ by fewer)."""
    counts = rng.integers(0, MAX_FLIP_BITS + 1, len(packed))
    positions = rng.integers(0, 256, size=(len(packed), MAX_FLIP_BITS))
    for step in range(MAX_FLIP_BITS):
        rows = np.flatnonzero(counts > step)
        bits = positions[rows, step]
        packed[rows, bits >> 3] ^= (1 << (bits & 7)).astype(np.uint8)


def synthetic_items(
    size: int, rng: np.random.Generator
) -> tuple[list[ClusterItem], dict[str, int]]:
    """Cluster items and how many clusters of each kind they were built with."""
    sizes = rng.geometric(1 / MEAN_GROUP_SIZE, size=size).clip(2, MAX_GROUP_SIZE)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), size * NEAR_SHARE))]
    grouped = int(sizes.sum())
    packed = rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
    packed[:grouped] = np.repeat(packed[: len(sizes)], sizes, axis=0)
    _flip_bits(packed[:grouped], rng)
    packed = packed[rng.permutation(size)]
    text = packed.tobytes().hex()
    hexes = [text[i : i + 64] for i in range(0, len(text), 64)]

    batched = rng.choice(size, size=int(size * BATCH_SHARE), replace=False)
    keys: dict[int, tuple[str, ...]] = {}
    for position, index in enumerate(batched.tolist()):
        group = position // BATCH_GROUP_SIZE
        keys[index] = ("AUTOMATIC1111", f"{group % 97:010x}", f"prompt {group}", "-")
    reposted = rng.choice(size, size=int(size * SYNTHETIC_REPOST_SHARE), replace=False)
    locations = np.ones(size, dtype=np.int64)
    locations[reposted] = rng.integers(2, 5, len(reposted))
    places = locations.tolist()
    items = [
        ClusterItem(
            item_id=i,
            sha256=f"{i:064x}",
            size=100_000 + i % 4096,
            pdq=hexes[i],
            pdq_quality=SYNTHETIC_QUALITY,
            locations=places[i],
            batch_key=keys.get(i),
        )
        for i in range(size)
    ]
    batch_sizes = collections.Counter(
        p // BATCH_GROUP_SIZE for p in range(len(batched))
    )
    built = {
        ClusterKind.NEAR_DUPLICATE.value: len(sizes),
        ClusterKind.GENERATION_BATCH.value: sum(n > 1 for n in batch_sizes.values()),
        ClusterKind.REPOST.value: len(reposted),
        "near_duplicate_items": grouped,
    }
    return items, built


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _scale_child(size: int, seed: int, out: t.Any) -> None:
    start_rss = _maxrss_mb()
    started = time.perf_counter()
    items, built = synthetic_items(size, np.random.default_rng(seed))
    generate_s = time.perf_counter() - started
    items_rss = _maxrss_mb()
    near_duplicates(items[:WARM_UP_ITEMS], PDQ_MATCH_THRESHOLD_BITS)  # imports
    gc.collect()
    started = time.perf_counter()
    near = near_duplicates(items, PDQ_MATCH_THRESHOLD_BITS)
    near_s = time.perf_counter() - started
    near_rss = _maxrss_mb()
    near_count = len(near)
    del near
    gc.collect()
    started = time.perf_counter()
    found = clusters(items, PDQ_MATCH_THRESHOLD_BITS)
    clusters_s = time.perf_counter() - started
    out.put(
        {
            "size": size,
            "generate_s": round(generate_s, 3),
            "near_duplicates_s": round(near_s, 3),
            "near_duplicate_clusters": near_count,
            "clusters_s": round(clusters_s, 3),
            "clusters": dict(collections.Counter(c.kind.value for c in found)),
            "built": built,
            "start_rss_mb": round(start_rss, 1),
            "items_rss_mb": round(items_rss, 1),
            "near_peak_rss_mb": round(near_rss, 1),
            "peak_rss_mb": round(_maxrss_mb(), 1),
        }
    )


def run_scale(args: argparse.Namespace) -> list[dict[str, t.Any]]:
    sizes = QUICK_SCALES if args.quick else tuple(map(int, args.scale.split(",")))
    print(
        f"\nclustering synthetic items, threshold {PDQ_MATCH_THRESHOLD_BITS} bits; "
        f"{os.cpu_count()} cores, numpy {np.__version__}; each size in a fresh "
        f"process, stopped after {args.scale_limit_s} s"
    )
    context = multiprocessing.get_context("spawn")
    rows: list[dict[str, t.Any]] = []
    for size in sizes:
        out = context.Queue()
        child = context.Process(target=_scale_child, args=(size, args.seed, out))
        started = time.perf_counter()
        child.start()
        try:
            row = out.get(timeout=args.scale_limit_s)
        except queue_module.Empty:
            row = {"size": size, "timed_out_after_s": args.scale_limit_s}
            child.terminate()
        child.join()
        row["wall_s"] = round(time.perf_counter() - started, 3)
        rows.append(row)
        _print_scale_row(row, rows)
    return rows


def _print_scale_row(row: dict[str, t.Any], rows: list[dict[str, t.Any]]) -> None:
    size = row["size"]
    if "timed_out_after_s" in row:
        print(
            f"{size:,} items: did NOT finish within {row['timed_out_after_s']} s "
            "(stopped)"
        )
        return
    found, built = row["clusters"], row["built"]
    print(
        f"{size:,} items ({built['near_duplicate_items']:,} in "
        f"{built['near_duplicate']:,} near-duplicate groups): generated in "
        f"{row['generate_s']:.1f} s"
    )
    print(
        f"  near_duplicates: {row['near_duplicates_s']:.2f} s "
        f"({1e6 * row['near_duplicates_s'] / size:.1f} us/item), "
        f"{row['near_duplicate_clusters']:,} clusters (built "
        f"{built['near_duplicate']:,})"
    )
    kinds = ", ".join(
        f"{found.get(k.value, 0):,}/{built[k.value]:,} {k.value}" for k in ClusterKind
    )
    print(
        f"  clusters (all kinds): {row['clusters_s']:.2f} s "
        f"({1e6 * row['clusters_s'] / size:.1f} us/item); found/built: {kinds}"
    )
    print(
        f"  peak RSS {row['peak_rss_mb']:.0f} MB (process start "
        f"{row['start_rss_mb']:.0f}, with the items {row['items_rss_mb']:.0f}, "
        f"after near_duplicates {row['near_peak_rss_mb']:.0f})"
    )
    done = [r for r in rows[:-1] if "clusters_s" in r]
    if done:
        last = done[-1]
        print(
            f"  vs {last['size']:,}: {size / last['size']:.1f}x the items, "
            f"{row['clusters_s'] / last['clusters_s']:.1f}x the clustering time"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--items", type=int, default=DEFAULT_FILES, help="files in the forum set"
    )
    parser.add_argument("--creators", type=int, default=DEFAULT_CREATORS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--scale",
        default=",".join(map(str, DEFAULT_SCALES)),
        help="comma-separated synthetic item counts for the clustering timings",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"scale {QUICK_SCALES} instead"
    )
    parser.add_argument("--scale-limit-s", type=int, default=DEFAULT_SCALE_LIMIT_S)
    parser.add_argument("--no-forum", action="store_true", help="skip part 1")
    parser.add_argument("--no-scale", action="store_true", help="skip part 2")
    parser.add_argument(
        "--json", action="store_true", help="all figures as one JSON line, last"
    )
    args = parser.parse_args()
    figures: dict[str, t.Any] = {}
    if not args.no_forum:
        figures["forum"] = run_forum(args)
    if not args.no_scale:
        figures["scale"] = run_scale(args)
    if args.json:
        print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
