# Two commands for a fresh machine:  make run  (set up + start the chat)  and  make test.
PY      := .venv/bin/python
PIP     := .venv/bin/pip
STAMP   := .venv/.installed
# Extra arguments for app.py, e.g. make run ARGS="--port 8080" (GRADIO_SERVER_NAME/PORT work too)
ARGS    ?=

.PHONY: run setup test lint eval report bench index browser-deps clean

run: setup
	$(PY) app.py $(ARGS)

setup: $(STAMP) index

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install --quiet --upgrade pip
	# torch first and pinned: the CPU build on disk, not a multi-GB CUDA build
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev]'
	touch $(STAMP)

# Converts the bundled e5 model once and (re)builds the built-in index when missing or stale.
index: $(STAMP)
	$(PY) -m qa prepare

test: setup
	$(PY) -m pytest -q
	.venv/bin/ruff check .

lint: $(STAMP)
	.venv/bin/ruff check .

eval: setup
	$(PY) -m eval run --questions eval/data/builtin_questions.jsonl --out .data/runs/hybrid.jsonl
	$(PY) -m eval score --questions eval/data/builtin_questions.jsonl --run .data/runs/hybrid.jsonl

# One report per shipped question set (eval/sets.py: its report and its role).
SETS := builtin calibration dev heldout heldout2 heldout3 english yeartrap national2025 calibration2 yeartrap2025 national2024 guangdong2026
report: setup
	for s in $(SETS); do $(PY) -m eval report --set $$s || exit 1; done

bench: setup
	$(PY) -m eval bench

# Debian's Chromium and a CJK font for the browser test (root; CI runs this).
browser-deps:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null

clean:
	rm -rf .venv .data test-artifacts
