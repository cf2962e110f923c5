"""Diffusers folders: a pipeline saved as `model_index.json` plus one folder per
component (unet, vae, text_encoder, ...), each with its weight files.

The folder is reported as one model whose components are the weight files found by
content (every regular file is sniffed, so a pickle renamed `config.json` is still
found); each component gets its own report and fingerprints. The walk is bounded in
depth and file count and never follows links.
"""

import os
import pathlib
import typing as t

from vigil.media.errors import MediaError
from vigil.modelfiles.base import (
    Finding,
    JSONValue,
    ModelError,
    ModelFormat,
    ModelLimits,
    Severity,
)
from vigil.modelfiles.report import ModelReport
from vigil.modelfiles.risk import ModelRisk, RiskLevel, unknown_risk
from vigil.modelfiles.sniff import (
    DIFFUSERS_INDEX,
    read_diffusers_index,
    sniff_model_path,
)

# diffusers saves components one level down (`unet/diffusion_pytorch_model.bin`); two
# more levels allow for variants and nested pipelines.
MAX_FOLDER_DEPTH = 3
_RISK_ORDER = [RiskLevel.UNKNOWN, RiskLevel.LOW, RiskLevel.REVIEW, RiskLevel.HIGH]

InspectFile = t.Callable[[pathlib.Path, str], ModelReport]


def inspect_folder(
    path: pathlib.Path, limits: ModelLimits, *, label: str, inspect_file: InspectFile
) -> ModelReport:
    """Report a diffusers folder; `inspect_file(path, label)` reports one file."""
    try:
        index = read_diffusers_index(path)
    except MediaError as exc:
        return _not_a_model(label, ModelError(exc.reason, exc.message, DIFFUSERS_INDEX))
    if index is None:
        error = ModelError("not_a_model_folder", f"no {DIFFUSERS_INDEX}", "")
        return _not_a_model(label, error)
    findings: list[Finding] = []
    files = list(_files(path, limits, findings))
    components: list[ModelReport] = []
    for file in files:
        relative = file.relative_to(path).as_posix()
        try:
            model_format = sniff_model_path(file)
        except MediaError:
            continue
        if model_format in (ModelFormat.UNKNOWN, ModelFormat.DIFFUSERS):
            continue
        components.append(inspect_file(file, f"{label}/{relative}"))
    details: dict[str, JSONValue] = {
        "class_name": index.get("_class_name"),
        "diffusers_version": _text(index.get("_diffusers_version")),
        "declared_components": sorted(k for k in index if not k.startswith("_")),
    }
    return ModelReport(
        path=label,
        format=ModelFormat.DIFFUSERS,
        size=sum(component.size for component in components),
        fingerprints={},
        risk=_worst_risk(components),
        details=details,
        findings=tuple(findings),
        components=tuple(components),
    )


def _not_a_model(label: str, error: ModelError) -> ModelReport:
    return ModelReport(
        path=label,
        format=ModelFormat.UNKNOWN,
        size=0,
        fingerprints={},
        risk=unknown_risk("not a model folder"),
        errors=(error,),
    )


def _files(
    root: pathlib.Path, limits: ModelLimits, findings: list[Finding]
) -> t.Iterator[pathlib.Path]:
    count = 0
    for directory, subdirectories, names in os.walk(root, followlinks=False):
        depth = len(pathlib.Path(directory).relative_to(root).parts)
        subdirectories[:] = sorted(
            d
            for d in subdirectories
            if not d.startswith(".") and depth < MAX_FOLDER_DEPTH
        )
        for name in sorted(names):
            candidate = pathlib.Path(directory) / name
            if name == DIFFUSERS_INDEX and directory == str(root):
                continue
            if candidate.is_symlink():
                continue
            count += 1
            if count > limits.max_folder_files:
                findings.append(
                    Finding(
                        "folder_truncated",
                        Severity.REVIEW,
                        f"more than {limits.max_folder_files} files; the rest were "
                        "not examined",
                    )
                )
                return
            yield candidate


def _worst_risk(components: list[ModelReport]) -> ModelRisk:
    risks = [component.risk for component in components]
    if not risks:
        return unknown_risk("no weight files")
    return max(risks, key=lambda risk: (_RISK_ORDER.index(risk.level), risk.score or 0))


def _text(value: t.Any) -> str | None:
    return value if isinstance(value, str) else None
