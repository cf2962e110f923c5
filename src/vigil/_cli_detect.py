"""`vigil detect`: train, calibrate and evaluate the AI-likelihood head on an
organisation's own labelled images."""

import pathlib
import typing as t

import click

from vigil._cli_context import Context, json_line, pass_context

if t.TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from vigil.detection.base import FeatureDetector
    from vigil.detection.evaluate import Example


@click.group()
def detect() -> None:
    """The AI-likelihood head: train it on your own labelled images, calibrate and
    evaluate it."""


_folder = click.Path(exists=True, file_okay=False, path_type=pathlib.Path)


@detect.command("train")
@click.option(
    "--ai",
    "ai_dir",
    type=_folder,
    required=True,
    multiple=True,
    help="A folder of AI-generated images (repeat for more).",
)
@click.option(
    "--real",
    "real_dir",
    type=_folder,
    required=True,
    multiple=True,
    help="A folder of real photos (repeat for more).",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=pathlib.Path), required=True
)
@click.option(
    "--calibration",
    type=click.Choice(["platt", "isotonic", "none"]),
    default="platt",
    show_default=True,
    help="Calibration fitted on a held-aside quarter of the source folders.",
)
@pass_context
def train(
    context: Context,
    ai_dir: tuple[pathlib.Path, ...],
    real_dir: tuple[pathlib.Path, ...],
    out: pathlib.Path,
    calibration: str,
) -> None:
    """Fit the head on the pixel detectors' features of labelled images.

    Images are read pixel-only (metadata stripped, both classes re-encoded as PNG)
    so that neither format nor file size can decide. A quarter of the source
    folders is held aside for calibration and the head's own evaluation, which
    the file records with the SHA-256 of every training image.

    \b
    Example:
      vigil detect train --ai assessed/ai --real assessed/real --out head.json
    """
    import numpy as np

    from vigil.detection.evaluate import (
        CROSS_VALIDATION_FOLDS,
        auc,
        cross_validated_scores,
        labelled_examples,
        tpr_at_fpr,
    )
    from vigil.detection.head import calibrate, fit

    detectors = _feature_detectors(context)
    examples = labelled_examples(ai_dir, real_dir)
    matrix, names, kept = _features(examples, detectors, "none")
    labels = np.asarray([e.label for e in kept])
    groups = sorted({e.group for e in kept})
    held = set(groups[3::4])  # every fourth folder
    hold = np.asarray([e.group in held for e in kept])
    if len(set(labels[~hold].tolist())) < 2:
        raise click.UsageError("training needs AI and real images outside the held set")
    head = fit(matrix[~hold], labels[~hold], names)
    evaluation: dict[str, t.Any] = {"held_aside_groups": sorted(held)}
    if hold.any() and len(set(labels[hold].tolist())) == 2:
        if calibration != "none":
            head = calibrate(head, matrix[hold], labels[hold], calibration)
        scores = head.predict(matrix[hold])
        evaluation.update(
            auc=auc(scores, labels[hold]),
            tpr_at_1pct_fpr=tpr_at_fpr(scores, labels[hold], 0.01),
            tpr_at_5pct_fpr=tpr_at_fpr(scores, labels[hold], 0.05),
            examples=int(hold.sum()),
        )
    else:
        evaluation["note"] = "too few folders to hold a set aside: not calibrated"
    folded = cross_validated_scores(matrix, labels, names, [e.group for e in kept])
    evaluation["cross_validated_auc"] = auc(folded, labels)
    evaluation["cross_validation_folds"] = CROSS_VALIDATION_FOLDS
    training = {
        "ai": [str(d) for d in ai_dir],
        "real": [str(d) for d in real_dir],
        "files": [
            {"path": str(e.path), "sha256": e.sha256, "label": e.label} for e in kept
        ],
        "detectors": [f"{d.name}/{d.version}" for d in detectors],
    }
    import dataclasses

    head = dataclasses.replace(head, training=training, evaluation=evaluation)
    head.save(out)
    held_auc = evaluation.get("auc", float("nan"))
    click.echo(
        f"head {out}: {len(kept)} images ({int(labels.sum())} AI), "
        f"{len(names)} features, held-aside AUC {held_auc:.3f}, "
        f"cross-validated AUC {evaluation['cross_validated_auc']:.3f} "
        f"({CROSS_VALIDATION_FOLDS} folds by source folder)"
    )


@detect.command("calibrate")
@click.argument(
    "head_file", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path)
)
@click.option("--ai", "ai_dir", type=_folder, required=True, multiple=True)
@click.option("--real", "real_dir", type=_folder, required=True, multiple=True)
@click.option(
    "--method",
    type=click.Choice(["platt", "isotonic"]),
    default="platt",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="Default: replace HEAD_FILE.",
)
@pass_context
def calibrate_(
    context: Context,
    head_file: pathlib.Path,
    ai_dir: tuple[pathlib.Path, ...],
    real_dir: tuple[pathlib.Path, ...],
    method: str,
    out: pathlib.Path | None,
) -> None:
    """Fit the head's calibration on labelled images it was not trained on."""
    import numpy as np

    from vigil.detection.evaluate import labelled_examples
    from vigil.detection.head import Head, HeadError, calibrate

    try:
        head = Head.load(head_file)
    except HeadError as exc:
        raise click.UsageError(str(exc)) from exc
    detectors = _feature_detectors(context)
    matrix, names, kept = _features(
        labelled_examples(ai_dir, real_dir), detectors, "none"
    )
    if names != head.features:
        raise click.UsageError("the head was trained on other detectors' features")
    head = calibrate(head, matrix, np.asarray([e.label for e in kept]), method)
    head.save(out or head_file)
    click.echo(f"calibrated ({method}) on {len(kept)} images: {out or head_file}")


@detect.command("eval")
@click.option("--ai", "ai_dir", type=_folder, required=True, multiple=True)
@click.option("--real", "real_dir", type=_folder, required=True, multiple=True)
@click.option(
    "--head",
    "head_name",
    metavar="PATH|default",
    help="A head to measure (`default`: the packaged one). Not given: heads are "
    "fitted and measured cross-validated, with folds by source folder.",
)
@click.option(
    "--variants", default="none,jpeg85,jpeg75,resize50,crop90", show_default=True
)
@click.option(
    "--json", "as_json", is_flag=True, help="The last line is one JSON object."
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="ROC curves and a reliability diagram (PNG).",
)
@pass_context
def eval_(
    context: Context,
    ai_dir: tuple[pathlib.Path, ...],
    real_dir: tuple[pathlib.Path, ...],
    head_name: str | None,
    variants: str,
    as_json: bool,
    plot: pathlib.Path | None,
) -> None:
    """AUC and TPR at 1% and 5% FPR per variant, pixel-only and with evidence.

    Pixel-only strips metadata and re-encodes both classes the same way, so
    neither format nor size can decide. With evidence, provenance that decides
    (proof or strong) replaces the pixel score, as a scan does.

    \b
    Example:
      vigil detect eval --ai held/ai --real held/real --head head.json --json
      vigil detect eval --ai held/ai --real held/real --head default
    """
    import numpy as np

    from vigil.detection.head import HEAD_DEFAULT_NAME, packaged_head_path

    head_file = None
    if head_name == HEAD_DEFAULT_NAME:
        head_file = packaged_head_path()
    elif head_name is not None:
        head_file = pathlib.Path(head_name)
        if not head_file.is_file():
            raise click.BadParameter(f"{head_name}: no such file", param_hint="--head")

    from vigil.detection.evaluate import VARIANTS, auc, labelled_examples, tpr_at_fpr

    chosen = [v.strip() for v in variants.split(",") if v.strip()]
    unknown = sorted(set(chosen) - set(VARIANTS))
    if unknown:
        raise click.UsageError(
            f"unknown variants {unknown} (known: {', '.join(VARIANTS)})"
        )
    detectors = _feature_detectors(context)
    examples = labelled_examples(ai_dir, real_dir)
    evidence = _evidence_probabilities(context, examples)
    results: dict[str, dict[str, float]] = {}
    curves: dict[str, tuple[t.Any, t.Any]] = {}
    for variant in chosen:
        matrix, names, kept = _features(examples, detectors, variant)
        labels = np.asarray([e.label for e in kept])
        scores = _scores(head_file, matrix, names, labels, [e.group for e in kept])
        with_evidence = np.asarray(
            [evidence.get(e.path, s) for e, s in zip(kept, scores, strict=True)]
        )
        results[variant] = {
            "auc": auc(scores, labels),
            "tpr_at_1pct_fpr": tpr_at_fpr(scores, labels, 0.01),
            "tpr_at_5pct_fpr": tpr_at_fpr(scores, labels, 0.05),
            "auc_with_evidence": auc(with_evidence, labels),
            "tpr_at_1pct_fpr_with_evidence": tpr_at_fpr(with_evidence, labels, 0.01),
            "examples": len(kept),
        }
        curves[variant] = (scores, labels)
        if not as_json:
            r = results[variant]
            click.echo(
                f"{variant:<9} AUC {r['auc']:.3f}  TPR@1% {r['tpr_at_1pct_fpr']:.3f}  "
                f"TPR@5% {r['tpr_at_5pct_fpr']:.3f}  with evidence: AUC "
                f"{r['auc_with_evidence']:.3f}  ({len(kept)} images)"
            )
    if plot is not None:
        _plot(curves, plot)
    if as_json:
        first = chosen[0] if chosen else "none"
        json_line(
            {"variants": results, "auc": results.get("none", results[first])["auc"]}
        )


def _feature_detectors(context: Context) -> list["FeatureDetector"]:
    from vigil.detection.base import FeatureDetector

    found = [d for d in context.registry.detectors() if isinstance(d, FeatureDetector)]
    if not found:
        raise click.UsageError("no pixel detectors are registered (`vigil plugins`)")
    return found


def _features(
    examples: t.Sequence["Example"],
    detectors: t.Sequence["FeatureDetector"],
    variant: str,
) -> tuple["npt.NDArray[np.float64]", tuple[str, ...], list["Example"]]:
    from vigil.detection.evaluate import feature_matrix, pixel_variant

    kept, blobs = [], []
    for example in examples:
        blob = pixel_variant(example.data, variant)
        if blob is not None:
            kept.append(example)
            blobs.append(blob)
    if not kept:
        raise click.UsageError("no readable images in the folders given")
    matrix, names = feature_matrix(blobs, detectors)
    return matrix, names, kept


def _scores(
    head_file: pathlib.Path | None,
    matrix: "npt.NDArray[np.float64]",
    names: tuple[str, ...],
    labels: "npt.NDArray[np.int_]",
    groups: list[str],
) -> "npt.NDArray[np.float64]":

    from vigil.detection.evaluate import cross_validated_scores
    from vigil.detection.head import Head, HeadError

    if head_file is not None:
        try:
            head = Head.load(head_file)
        except HeadError as exc:
            raise click.UsageError(str(exc)) from exc
        if head.features != names:
            raise click.UsageError("the head was trained on other detectors' features")
        return head.predict(matrix)
    return cross_validated_scores(matrix, labels, names, groups)


def _evidence_probabilities(
    context: Context, examples: t.Sequence["Example"]
) -> dict[pathlib.Path, float]:
    """P(AI) from provenance evidence that decides, by file, as a scan finds it."""
    from vigil.api import Checker

    checker = Checker(registry=context.registry)
    found: dict[pathlib.Path, float] = {}
    for example in examples:
        result = checker.check_file(example.path)
        for item in result.items[:1]:
            score = next((s for s in item.scores if s.name == "ai_likelihood"), None)
            if score is not None and score.details.get("decided_by") == "evidence":
                found[example.path] = score.value
    return found


def _plot(curves: dict[str, tuple[t.Any, t.Any]], out: pathlib.Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    figure, (roc, reliability) = plt.subplots(1, 2, figsize=(11, 5))
    for variant, (scores, labels) in curves.items():
        thresholds = np.unique(scores)[::-1]
        tpr = [(scores[labels == 1] >= th).mean() for th in thresholds]
        fpr = [(scores[labels == 0] >= th).mean() for th in thresholds]
        roc.plot([0, *fpr, 1], [0, *tpr, 1], label=variant)
        bins = np.linspace(0, 1, 11)
        index = np.clip(np.digitize(scores, bins) - 1, 0, 9)
        means = [scores[index == b].mean() for b in range(10) if (index == b).any()]
        rates = [labels[index == b].mean() for b in range(10) if (index == b).any()]
        reliability.plot(means, rates, marker="o", label=variant)
    roc.plot([0, 1], [0, 1], color="grey", linestyle=":")
    roc.set(
        xlabel="false positive rate (real flagged)",
        ylabel="true positive rate (AI found)",
        title="ROC, pixel-only",
    )
    reliability.plot([0, 1], [0, 1], color="grey", linestyle=":")
    reliability.set(xlabel="predicted P(AI)", ylabel="share AI", title="Reliability")
    roc.legend()
    reliability.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    plt.close(figure)
