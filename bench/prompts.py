"""Prompt filter throughput and recall on one core: Vigil against a keyword list.

Runs, in one process pinned to one core:

- vigil: PromptFilter.default(semantic=False).check(prompt, negative), the
  lexicon alone (issue 16: the target holds with the semantic stage off)
- vigil + semantic: PromptFilter.default(), the packaged n-gram stage on (its
  speed is reported, no target)
- better-profanity: the same lexicon's signal words (minor, teen, sexual, nudity,
  abuse slang...) loaded as its censor list; a prompt counts as flagged when it
  contains any of them (the plain keyword-list approach)

over the labelled dev set and the benign PartiPrompts and COCO captions, and prints
prompts/s, p50/p99 latency per prompt, recall on the dev set's `block` items and
the share of `allow` items each approach flags or blocks.

Usage: .venv/bin/python bench/prompts.py [--shared DIR] [--repeats N]
                                         [--baseline-sample N]
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import typing as t  # noqa: E402

from better_profanity import Profanity  # noqa: E402

from vigil.prompts.filter import Decision, PromptFilter  # noqa: E402
from vigil.prompts.lexicon import builtin_entries  # noqa: E402

DEFAULT_SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared"
DEFAULT_REPEATS = 3
#: better-profanity scans its whole word list for every word of a prompt; a sample
#: keeps its timing to seconds while still measuring the same prompts.
DEFAULT_BASELINE_SAMPLE = 1500
TARGET_PROMPTS_PER_S = 20_000  # issue 5: at least 20,000 prompts/s on one core
TARGET_P99_MS = 1.0  # issue 5: p99 latency under 1 ms
BASELINE_CATEGORIES = frozenset(
    {"minor", "minor_slang", "minor_costume", "abuse_slang", "teen", "sexual",
     "nudity", "sexualised_clothing", "nudify"}
)  # fmt: skip

Pair = tuple[str, str]


@dataclasses.dataclass
class Timing:
    seconds: list[float]

    def per_second(self) -> float:
        return len(self.seconds) / sum(self.seconds)

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.seconds)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def load(shared: pathlib.Path) -> tuple[list[dict[str, str]], list[Pair]]:
    eval_dir = shared / "eval"
    dev = [
        json.loads(line)
        for line in (eval_dir / "prompts-dev.jsonl").read_text().splitlines()
        if line.strip()
    ]
    benign: list[Pair] = []
    with open(eval_dir / "benign-prompts" / "PartiPrompts.tsv", newline="") as f:
        benign += [(r["Prompt"], "") for r in csv.DictReader(f, delimiter="\t")]
    with open(eval_dir / "benign-prompts" / "coco_10k.csv", newline="") as f:
        benign += [(r["prompt"], "") for r in csv.DictReader(f)]
    return dev, benign


def baseline_words() -> list[str]:
    """The lexicon's signal terms as plain words (prefix stars dropped)."""
    words = {
        e.term.rstrip("*")
        for e in builtin_entries()
        if e.category in BASELINE_CATEGORIES and len(e.term.rstrip("*")) >= 3
    }
    return sorted(words)


def time_calls(call: t.Callable[[str, str], object], pairs: list[Pair],
               repeats: int) -> Timing:  # fmt: skip
    """Best-of-`repeats` time per prompt (a busy neighbour only slows some runs)."""
    best = [float("inf")] * len(pairs)
    for _ in range(repeats):
        gc.collect()
        for index, (prompt, negative) in enumerate(pairs):
            started = time.perf_counter()
            call(prompt, negative)
            best[index] = min(best[index], time.perf_counter() - started)
    return Timing(best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=pathlib.Path, default=DEFAULT_SHARED)
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    parser.add_argument("--baseline-sample", type=int, default=DEFAULT_BASELINE_SAMPLE)
    args = parser.parse_args()
    if sys.platform == "linux":  # pin to one core
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if not (args.shared / "eval" / "prompts-dev.jsonl").is_file():
        sys.exit(f"no evaluation data under {args.shared}/eval")
    dev, benign = load(args.shared)
    dev_pairs = [(r["prompt"], r.get("negative_prompt") or "") for r in dev]
    pairs = dev_pairs + benign

    started = time.perf_counter()
    prompt_filter = PromptFilter.default(semantic=False)
    compile_s = time.perf_counter() - started
    with_semantic = PromptFilter.default()
    words = baseline_words()
    started = time.perf_counter()
    profanity = Profanity(words)
    baseline_load_s = time.perf_counter() - started
    print(f"{len(pairs)} prompts ({len(dev)} labelled, {len(benign)} benign); one core")
    print(f"vigil lexicon compiled in {compile_s * 1000:.0f} ms; better-profanity "
          f"loaded {len(words)} words in {baseline_load_s * 1000:.0f} ms")  # fmt: skip

    started = time.perf_counter()
    for prompt, negative in pairs:  # warm-up: word cache, allocator
        prompt_filter.check(prompt, negative)
    cold = len(pairs) / (time.perf_counter() - started)
    print(f"  vigil, first pass (every word new to the cache): {cold:.0f} prompts/s")
    vigil = time_calls(prompt_filter.check, pairs, args.repeats)
    step = max(1, len(pairs) // args.baseline_sample)
    sample = pairs[::step][: args.baseline_sample]

    def keyword_call(prompt: str, negative: str) -> object:
        del negative  # a keyword list has no notion of a negative prompt
        return profanity.contains_profanity(prompt)

    keyword = time_calls(keyword_call, sample, 1)
    gc.collect()
    started, started_cpu = time.perf_counter(), time.process_time()
    for prompt, negative in pairs:
        prompt_filter.check(prompt, negative)
    single_pass = len(pairs) / (time.perf_counter() - started)
    # CPU time leaves out the time a busy host gives this core to others
    cpu_pass = len(pairs) / max(time.process_time() - started_cpu, 1e-9)
    print(f"  vigil, one plain pass over all prompts: {single_pass:.0f} prompts/s "
          f"({cpu_pass:.0f} per CPU-second)")  # fmt: skip
    for prompt, negative in pairs:  # warm-up
        with_semantic.check(prompt, negative)
    semantic = time_calls(with_semantic.check, pairs, 1)
    for label, timing in (
        ("vigil", vigil),
        ("vigil + semantic", semantic),
        ("better-profanity", keyword),
    ):
        print(
            f"  {label:17s} {timing.per_second():10.0f} prompts/s  "
            f"p50 {timing.percentile_ms(0.5):.3f} ms  "
            f"p99 {timing.percentile_ms(0.99):.3f} ms  ({len(timing.seconds)} prompts)"
        )

    blocks = [r for r in dev if r["label"] == Decision.BLOCK]
    allows = [r for r in dev if r["label"] == Decision.ALLOW]

    def vigil_blocks(r: dict[str, str]) -> bool:
        verdict = prompt_filter.check(r["prompt"], r.get("negative_prompt") or "")
        return verdict.decision is Decision.BLOCK

    def keyword_flags(r: dict[str, str]) -> bool:
        return bool(profanity.contains_profanity(r["prompt"]))

    for label, flagged in (
        ("vigil", vigil_blocks),
        ("better-profanity", keyword_flags),
    ):
        recall = sum(map(flagged, blocks)) / len(blocks)
        false_rate = sum(map(flagged, allows)) / len(allows)
        print(f"  {label:17s} block recall {recall:6.1%}  "
              f"flags {false_rate:6.1%} of allow items")  # fmt: skip
    speed_ok = min(vigil.per_second(), single_pass) >= TARGET_PROMPTS_PER_S
    p99_ok = vigil.percentile_ms(0.99) < TARGET_P99_MS
    print(f"  target >= {TARGET_PROMPTS_PER_S} prompts/s: "
          f"{'met' if speed_ok else 'NOT met'}; p99 < {TARGET_P99_MS} ms: "
          f"{'met' if p99_ok else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
