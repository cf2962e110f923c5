"""A scan's figures, counted from the store: what was found and matched, what was
assessed and how (criminal share, legal route, UK category, age bands, sex,
AI-generated share, non-criminal reasons), generators and models seen, prompts
flagged, model files by risk, the largest clusters and batches, scan throughput,
and analyst time per decision.

Assessments counted are the ones that hold now, made by an analyst or propagated
from one; labels taken from hash lists are counted apart (`list_labelled`).
Percentages are of the assessed items unless the name says otherwise.
"""

import collections
import dataclasses
import statistics
import typing as t

from vigil.media.names import display
from vigil.store.base import Store
from vigil.store.records import AssessmentSource, AssessmentView, ItemQuery, ItemView

TOP = 10  # rows of each "largest" and "most seen" table

#: The order tables list their keys in (anything else follows, sorted).
ORDER: dict[str, tuple[str, ...]] = {
    "uk_category": ("A", "B", "C"),
    "legal_route": (
        "poca_1978_indecent_photograph",
        "poca_1978_pseudo_photograph",
        "cja_2009_prohibited_image",
    ),
    "age_band": ("0-2", "3-6", "7-10", "11-13", "14-15", "16-17"),
    "ai_generated": ("yes", "suspected", "no"),
}


@dataclasses.dataclass(frozen=True)
class Report:
    scan_id: int
    figures: dict[str, t.Any]
    case: dict[str, t.Any]  # the forensic view: matched, AI-evidenced, model links

    def as_dict(self) -> dict[str, t.Any]:
        return {"scan_id": self.scan_id, "figures": self.figures, "case": self.case}


def build_report(store: Store, scan_id: int) -> Report:
    views = list(store.iter_items(ItemQuery(scan_id=scan_id)))
    summary = store.summary(scan_id)
    every = store.triage.assessments(scan_id=scan_id, active_only=True)
    held: dict[int, AssessmentView] = {}
    for made in every:
        held[made.item_id] = made  # newest holding one per item
    decided = [a for a in held.values() if a.source != AssessmentSource.HASH_LIST]
    listed = [a for a in held.values() if a.source == AssessmentSource.HASH_LIST]
    criminal = [a for a in decided if a.observations.get("outcome") == "criminal"]
    children = [a for a in decided if a.observations.get("child") == "yes"]
    figures: dict[str, t.Any] = {
        "items": len(views),
        "files": summary.files,
        "locations": summary.locations,
        "errors": summary.errors,
        "matched": sum(1 for v in views if v.is_matched),
        "ai_evidenced": sum(1 for v in views if v.is_ai),
        "assessed": len(decided),
        "assessed_by_analyst": sum(1 for a in decided if a.source == "analyst"),
        "assessed_by_propagation": sum(1 for a in decided if a.source == "propagated"),
        "list_labelled": len(listed),
        "criminal": len(criminal),
        "criminal_share": _share(len(criminal), len(decided)),
        "legal_route": _count(a.derived.get("legal_route") for a in criminal),
        "uk_category": _count(a.derived.get("uk_category") for a in criminal),
        "age_band": _count(a.observations.get("age_band") for a in children),
        "sex": _count(a.observations.get("sex") for a in children),
        "ai_generated": _count(a.observations.get("ai_generated") for a in decided),
        "ai_generated_share": _share(
            sum(1 for a in decided if a.observations.get("ai_generated") == "yes"),
            len(decided),
        ),
        "ai_generated_share_of_criminal": _share(
            sum(1 for a in criminal if a.observations.get("ai_generated") == "yes"),
            len(criminal),
        ),
        "not_criminal_reasons": _count(
            a.observations.get("reason")
            for a in decided
            if a.observations.get("outcome") == "not_criminal"
        ),
        "ncmec_class": _count(a.derived.get("ncmec_class") for a in criminal),
        "project_vic": _count(str(a.derived.get("project_vic")) for a in decided),
        "interpol_baseline": sum(
            1 for a in criminal if a.derived.get("interpol_baseline")
        ),
        "generator_tools": _top(v.generation.tool for v in views if v.generation),
        "generator_models": _top(_model(v) for v in views if v.generation),
        "prompts_flagged": dict(summary.provenance.prompts_by_decision),
        "model_files_by_risk": dict(summary.models.by_risk),
        "largest_clusters": _largest(store, views, ("near_duplicate",)),
        "largest_batches": _largest(store, views, ("generation_batch",)),
        "throughput": {
            "seconds": round(summary.elapsed_seconds, 3),
            "files_per_second": round(summary.files_per_second, 3),
            "mb_per_second": round(summary.mb_per_second, 3),
            "megabytes": round(summary.bytes / 1e6, 3),
        },
        "analyst_seconds": _analyst_time(a for a in decided if a.source == "analyst"),
    }
    return Report(scan_id, figures, _case(store, scan_id, views))


def _count(values: t.Iterable[t.Any]) -> dict[str, int]:
    found = collections.Counter(str(v) for v in values if v not in (None, ""))
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def ordered(name: str, counts: t.Mapping[str, int]) -> list[tuple[str, int]]:
    """A table's rows in its natural order (UK A, B, C; age bands youngest first)."""
    known = ORDER.get(name, ())
    head = [(k, counts.get(k, 0)) for k in known]
    rest = sorted((k, v) for k, v in counts.items() if k not in known)
    return (
        head + rest if known else sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _top(values: t.Iterable[str | None]) -> dict[str, int]:
    found = collections.Counter(v for v in values if v)
    return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP])


def _model(view: ItemView) -> str | None:
    record = view.generation
    if record is None:
        return None
    if record.model_name and record.model_hash:
        return f"{record.model_name} ({record.model_hash.value})"
    return record.model_name or (record.model_hash.value if record.model_hash else None)


def _largest(
    store: Store, views: t.Sequence[ItemView], kinds: tuple[str, ...]
) -> list[dict[str, t.Any]]:
    in_scan = {v.item_id: v.sha256 for v in views}
    rows: list[dict[str, t.Any]] = []
    for cluster in store.triage.clusters():
        if cluster.kind not in kinds:
            continue
        members = [m for m in cluster.members if m in in_scan]
        if len(members) < 2:
            continue
        rows.append(
            {
                "cluster": cluster.id,
                "kind": cluster.kind,
                "size": len(members),
                "representative": in_scan.get(cluster.representative, ""),
                "key": cluster.key,
            }
        )
    rows.sort(key=lambda r: (-r["size"], r["cluster"]))
    return rows[:TOP]


def _analyst_time(
    made: t.Iterable[AssessmentView],
) -> dict[str, dict[str, float | int]]:
    by: dict[str, list[float]] = collections.defaultdict(list)
    for assessment in made:
        if assessment.seconds is not None:
            by[assessment.analyst].append(assessment.seconds)
    return {
        name: {
            "decisions": len(times),
            "median_seconds": round(statistics.median(times), 1),
            "mean_seconds": round(statistics.fmean(times), 1),
            "per_hour": round(3600 / statistics.fmean(times), 1) if sum(times) else 0,
        }
        for name, times in sorted(by.items())
    }


def _case(store: Store, scan_id: int, views: t.Sequence[ItemView]) -> dict[str, t.Any]:
    """The forensic case view: what was matched, what carries AI evidence (by which
    tool and model), and which images name a model file or a listed model."""
    matched = [
        {
            "item": v.sha256,
            "location": display(v.locations[0].label) if v.locations else "",
            "lists": sorted({f"{m.hash_list}:{m.category or '-'}" for m in v.matches
                             if m.verdict == "match"}),
        }
        for v in views
        if v.is_matched
    ]  # fmt: skip
    evidenced = [
        {
            "item": v.sha256,
            "location": display(v.locations[0].label) if v.locations else "",
            "tool": v.generation.tool if v.generation else None,
            "model": _model(v),
            "evidence": [e.summary for e in v.evidence if e.is_ai][:3],
        }
        for v in views
        if v.is_ai
    ]
    links = [
        {**link.as_dict(), "image": display(link.image)}
        for link in store.model_links(scan_id)
    ]
    return {"matched": matched, "ai_evidenced": evidenced, "model_links": links}
