"""Model files, read without ever being loaded: format by content, strict safetensors
headers with kohya/modelspec training metadata, pickle opcode walks, the fingerprints
the model-sharing ecosystem uses, and model risk from training text.

`inspect_model(path_or_stream, limits)` returns a `ModelReport`. Modules: `sniff`,
`safetensors`, `training`, `thumbnail`, `pickles`, `torchzip`, `fingerprints`,
`risk`, `folders` (diffusers), `scan` (the entry point), `report`.
"""
