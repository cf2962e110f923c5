"""The model stage: fingerprints, metadata, pickle findings and `model_risk` of a
model file (safetensors, PyTorch, pickle, GGUF, ONNX), streamed and never unpickled;
an embedded preview image becomes an item of its own."""

import dataclasses
import pathlib
import typing as t

from vigil.detection.score import Score
from vigil.media.base import MediaKind
from vigil.media.errors import ErrorRecord, MediaError
from vigil.media.subject import Subject
from vigil.pipeline.stage import Child, ChildrenResult, Stage, StageContext
from vigil.pipeline.stages._identity import file_identity

if t.TYPE_CHECKING:
    from vigil.modelfiles.report import ModelReport

MODEL_RISK = "model_risk"
MODEL_INSPECTOR_DETECTOR = "model_inspector"
#: The member path of a model's embedded preview image: `lora.safetensors!/<this>`.
THUMBNAIL_MEMBER = "modelspec.thumbnail"
MEMBER_SEPARATOR = "!/"
_MODEL_KINDS = frozenset(
    {MediaKind.SAFETENSORS, MediaKind.PYTORCH_ZIP, MediaKind.PICKLE}
)


@dataclasses.dataclass(frozen=True)
class ModelResult(ChildrenResult):
    report: "ModelReport | None" = None


class ModelStage(Stage):
    name = "model"

    def __init__(self, lexicons: t.Sequence[str | pathlib.Path] = ()) -> None:
        self.lexicons = tuple(str(path) for path in lexicons)

    def applies_to(self, subject: Subject) -> bool:
        return is_model(subject.kind, subject.head, subject.size)

    def max_bytes(self, kind: MediaKind, head: bytes, size: int) -> int | None:
        """Model files are streamed, never held, so they may exceed the file limit
        up to the inspector's own (checkpoints of 6-24 GB are common on seized
        devices)."""
        if not is_model(kind, head, size):
            return None
        from vigil.modelfiles.base import DEFAULT_MAX_MODEL_BYTES

        return DEFAULT_MAX_MODEL_BYTES

    def run(self, subject: Subject, context: StageContext) -> ModelResult:  # noqa: ARG002
        from vigil.modelfiles.scan import inspect_model, internal_error
        from vigil.prompts.filter import PromptFilter

        member_path = subject.member_path
        try:
            prompt_filter = PromptFilter.default(
                tuple(pathlib.Path(p) for p in self.lexicons)
            )
            if subject.path is not None:  # a file on disk: reported by its path
                report = inspect_model(subject.path, prompt_filter=prompt_filter)
            else:
                with subject.open() as stream:
                    report = inspect_model(
                        stream, label=member_path or None, prompt_filter=prompt_filter
                    )
        except OSError as exc:  # vanished or unreadable since it was hashed
            report = internal_error(member_path or "<file>", exc)
        except Exception as exc:  # a bug must not lose the item's hashes and evidence
            report = internal_error(member_path or "<file>", exc)
        errors = [
            ErrorRecord(member_path, error.reason, f"model file: {error.message}")
            for error in report.errors
        ]
        children = _thumbnail(subject, errors)
        return ModelResult(
            report=report,
            scores=_model_scores(report),
            errors=tuple(errors),
            children=children,
        )

    def options(self) -> dict[str, t.Any]:
        return {"lexicons": [file_identity(p) for p in self.lexicons]}


def is_model(kind: MediaKind, head: bytes, size: int) -> bool:
    """A model file by content: the media kinds of model formats, or what the
    model sniffer recognises among the files the media sniffer leaves `unknown`."""
    if kind in _MODEL_KINDS:
        return True
    if kind is not MediaKind.UNKNOWN:
        return False
    from vigil.modelfiles.base import ModelFormat
    from vigil.modelfiles.sniff import sniff_model_bytes

    # GGUF, ONNX, pickles without a PROTO header, NumPy object arrays, compressed
    # (joblib) pickles and archives holding pickles: decided by walking, not by name
    return sniff_model_bytes(head, size) is not ModelFormat.UNKNOWN


def _model_scores(report: "ModelReport") -> tuple[Score, ...]:
    risk = report.risk
    if risk.score is None:  # unknown: nothing to judge, so no score
        return ()
    data = risk.as_dict()
    return (
        Score(
            name=MODEL_RISK,
            value=risk.score,
            level=risk.level.value,
            detector=MODEL_INSPECTOR_DETECTOR,
            reasons=risk.reasons,
            details={"triggers": data["triggers"], "tags": data["tags"]},
        ),
    )


def _thumbnail(subject: Subject, errors: list[ErrorRecord]) -> tuple[Child, ...]:
    """A safetensors' embedded thumbnail (`modelspec.thumbnail`), to be hashed,
    matched and inspected like any image."""
    from vigil.modelfiles.safetensors import read_header
    from vigil.modelfiles.thumbnail import thumbnail_bytes

    try:
        with subject.open() as stream:
            header = read_header(stream, subject.size)
        found = thumbnail_bytes(header.metadata)
    except MediaError:
        return ()  # the model report already carries this as an error record
    except OSError as exc:  # gone or unreadable since: keep what was learned
        errors.append(
            ErrorRecord(subject.member_path, "unreadable", f"model thumbnail: {exc}")
        )
        return ()
    if found is None:
        return ()
    _declared, data = found
    inner = f"{subject.member_path}{MEMBER_SEPARATOR}" if subject.member_path else ""
    return (Child(member_path=f"{inner}{THUMBNAIL_MEMBER}", data=data),)
