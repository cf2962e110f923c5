"""The prompt stage: the prompt filter over a found generation record's prompt (and
the LoRAs it applied), giving `prompt_risk`."""

import dataclasses
import pathlib
import typing as t

from vigil.detection.score import Score
from vigil.media.errors import ErrorRecord
from vigil.media.subject import Subject
from vigil.pipeline.stage import Stage, StageContext, StageResult
from vigil.pipeline.stages._identity import file_identity
from vigil.pipeline.stages.provenance import ProvenanceResult
from vigil.provenance.base import GenerationRecord

if t.TYPE_CHECKING:  # the filter loads its lexicon lazily, in the workers that use it
    from vigil.prompts.filter import PromptVerdict

PROMPT_FILTER_FAILED = "prompt_filter_failed"
PROMPT_RISK = "prompt_risk"
PROMPT_FILTER_DETECTOR = "prompt_filter"


@dataclasses.dataclass(frozen=True)
class PromptResult(StageResult):
    verdict: "PromptVerdict | None" = None


class PromptStage(Stage):
    name = "prompt"

    def __init__(self, lexicons: t.Sequence[str | pathlib.Path] = ()) -> None:
        self.lexicons = tuple(str(path) for path in lexicons)

    def run(self, subject: Subject, context: StageContext) -> StageResult:
        found = context.result(ProvenanceResult)
        record = found.generation if found else None
        if record is None or not (record.prompt or record.loras):
            return PromptResult()
        from vigil.prompts.filter import PromptFilter  # loads the lexicon once

        try:
            prompt_filter = PromptFilter.default(
                tuple(pathlib.Path(p) for p in self.lexicons)
            )
            verdict = prompt_filter.check(
                prompt_with_loras(record), record.negative_prompt or ""
            )
        except Exception as exc:  # keep the evidence and record; say what failed
            message = f"prompt filter: {type(exc).__name__}: {exc}"
            error = ErrorRecord(subject.member_path, PROMPT_FILTER_FAILED, message)
            return PromptResult(errors=(error,))
        return PromptResult(verdict=verdict, scores=(prompt_score(verdict),))

    def options(self) -> dict[str, t.Any]:
        return {"lexicons": [file_identity(p) for p in self.lexicons]}


def prompt_score(verdict: "PromptVerdict") -> Score:
    """The verdict as the `prompt_risk` score: level is the decision, the triggers
    (with their spans) are kept for the console."""
    triggers = verdict.as_dict()["triggers"]
    return Score(
        name=PROMPT_RISK,
        value=verdict.score,
        level=verdict.decision.value,
        detector=PROMPT_FILTER_DETECTOR,
        reasons=verdict.reasons,
        details={"triggers": triggers},
    )


def prompt_with_loras(record: GenerationRecord) -> str:
    """The prompt the filter reads: the record's prompt, then `<lora:NAME>` for each
    LoRA the generator applied that the text does not already name (ComfyUI keeps
    LoRAs in loader nodes, not in the prompt; their names are signals too). Trigger
    spans past the prompt's length point into this appended list."""
    prompt = record.prompt or ""
    missing = [lora.name for lora in record.loras if lora.name not in prompt]
    if not missing:
        return prompt
    return prompt + "\n" + " ".join(f"<lora:{name}>" for name in missing)
