"""Prompt safety: refuse requests for sexualised images of minors.

`PromptFilter.default().check(prompt, negative)` returns a `PromptVerdict` (allow,
review or block, a `prompt_risk` score, the triggers with their spans, and reasons).
Modules: `syntax` (generator markup), `normalise` (folding, tokens with spans),
`lexicon` (data files under `lexicon/`), `filter` (the decision), `semantic`
(optional paraphrase stage), `evaluate` (labelled-set metrics).
"""

from vigil.prompts.filter import Decision, PromptFilter, PromptVerdict, Trigger

__all__ = ["Decision", "PromptFilter", "PromptVerdict", "Trigger"]
