# Two commands a newcomer needs: `make run` (the app, offline defaults) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch. PyPI's Linux wheels bundle CUDA (several GB); on machines without a
# local CPU wheel use: make run TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC ?= torch==2.13.0
PORT ?= 8501

.PHONY: setup setup-test run test bench lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

setup-test: $(VENV)/.installed-test

run: setup
	@echo "Starting the tutor: open http://localhost:$(PORT) in a browser (first start ingests the corpus)."
	FORWARDED_ALLOW_IPS="$${TUTOR_TRUSTED_PROXIES:-}" $(VENV)/bin/streamlit run streamlit_app.py --server.port $(PORT)

test: setup-test
	$(PY) -m pytest -q

# The layer contracts in pyproject.toml (also run by the test suite, tests/test_layers.py).
lint: setup-test
	$(VENV)/bin/lint-imports

bench: setup-test
	$(PY) benchmarks/ingest_benchmark.py
	$(PY) benchmarks/engine_benchmark.py
	$(PY) benchmarks/app_benchmark.py
	$(PY) benchmarks/load_benchmark.py
	$(PY) benchmarks/hostile_upload_benchmark.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
