"""Extractors for the metadata image generators write: A1111/Forge infotext, ComfyUI
graphs, NovelAI (with signature verification), InvokeAI, SwarmUI, Fooocus, and
stealth metadata hidden in pixel LSBs.

`GENERATOR_EXTRACTORS` lists the classes in priority order: when two propose a
generation record of equal completeness, the earlier one wins. NovelAI comes first
(it alone can give proof); the stealth reader comes last (it decodes pixels, and its
payload usually repeats a text chunk already read).
"""

from vigil.provenance.base import Extractor
from vigil.provenance.generators.a1111 import A1111Extractor
from vigil.provenance.generators.comfyui import ComfyUIExtractor
from vigil.provenance.generators.fooocus import FooocusExtractor
from vigil.provenance.generators.invokeai import InvokeAIExtractor
from vigil.provenance.generators.novelai import NovelAIExtractor
from vigil.provenance.generators.stealth import StealthExtractor
from vigil.provenance.generators.swarmui import SwarmUIExtractor

GENERATOR_EXTRACTORS: list[type[Extractor]] = [
    NovelAIExtractor,
    ComfyUIExtractor,
    InvokeAIExtractor,
    SwarmUIExtractor,
    FooocusExtractor,
    A1111Extractor,
    StealthExtractor,
]

__all__ = [
    "GENERATOR_EXTRACTORS",
    "A1111Extractor",
    "ComfyUIExtractor",
    "FooocusExtractor",
    "InvokeAIExtractor",
    "NovelAIExtractor",
    "StealthExtractor",
    "SwarmUIExtractor",
]
