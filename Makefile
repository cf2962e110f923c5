# Every recipe here is what CI and the README use; nothing else sets the project up.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: env run test lint typecheck pytest bench clean default-head prompt-model \
	sound-alike-exclusions

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	touch $@

env: $(VENV)/.synced

## make run: build the benign demo set and a demo hash list, scan the set (plus
## ../shared/fixtures when present) against the list, print the summary and the
## head of the queue, then serve the console at http://127.0.0.1:8000 in dev mode
## (dev-only accounts are printed once, on the first run)
run: env
	VIGIL_HOME=$(CURDIR)/.vigil $(BIN)/vigil demo build $(DEMO_DIR) --hash-list $(DEMO_DIR)-known.csv
	VIGIL_HOME=$(CURDIR)/.vigil $(BIN)/vigil hashlist import $(DEMO_DIR)-known.csv --list demo --create
	VIGIL_HOME=$(CURDIR)/.vigil $(BIN)/vigil scan $(DEMO_DIR) $$( [ -d ../shared/fixtures ] && echo ../shared/fixtures )
	VIGIL_HOME=$(CURDIR)/.vigil $(BIN)/vigil queue --limit 10
	VIGIL_HOME=$(CURDIR)/.vigil $(BIN)/vigil serve --dev --host 127.0.0.1 --port 8000

## make default-head: train the packaged AI-likelihood head again on the public
## fixtures (needs ../shared/fixtures); the README says how small that set is
FIXTURES ?= ../shared/fixtures
default-head: env
	$(BIN)/vigil detect train --calibration isotonic \
	  --ai $(FIXTURES)/generated/comfyui --ai $(FIXTURES)/generated/fooocus \
	  --ai $(FIXTURES)/generated/swarmui --ai $(FIXTURES)/generated/stable-diffusion \
	  --ai $(FIXTURES)/c2pa/ai --real $(FIXTURES)/camera --real $(FIXTURES)/c2pa/nonai \
	  --out src/vigil/detection/data/default-head.json

## make prompt-model: train the packaged n-gram semantic stage of the prompt filter
## again on training/prompt-semantic/train.jsonl (deterministic; prints its
## cross-validated figures)
prompt-model: env
	$(BIN)/vigil prompt train-model training/prompt-semantic/train.jsonl \
	  $(foreach f,$(sort $(wildcard tests/data/prompts/benign/*.txt)),--allow-lines $(f)) \
	  -o src/vigil/prompts/data/semantic-ngram.bin

## make sound-alike-exclusions: list again the ordinary words that share a
## sound-alike key with a minor or nudity word (run after editing the lexicon)
sound-alike-exclusions: env
	$(BIN)/python scripts/sound_alike_exclusions.py

## make test: lint, type-check and the whole test suite
test: lint typecheck pytest

lint: env
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check --no-cache src tests bench scripts
	$(BIN)/ruff format --no-cache --check src tests bench scripts

typecheck: env
	$(BIN)/mypy

pytest: env
	$(BIN)/pytest

## make bench: the benchmarks against reference tools (minutes; not part of make test)
bench: env
	$(BIN)/python bench/hashing.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/variants.py

clean:
	rm -rf $(VENV) $(TOOLS) .vigil $(DEMO_DIR) $(DEMO_DIR)-known.csv
