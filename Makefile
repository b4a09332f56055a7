# The two commands: `make run` (dashboard on the bundled synthetic sample) and `make test`.
# Both set everything up first: a .venv with the package and its dependencies, and the map's
# JavaScript/CSS (Leaflet and plugins) installed from the npm registry into static/vendor/.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test setup lint typecheck pytest sample bench clean

run: setup
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

test: setup lint typecheck pytest

setup: $(VENV)/.installed static/vendor/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

static/vendor/.installed: assets/package.json assets/package-lock.json hotspots/assets.py hotspots/assets_install.py $(VENV)/.installed
	cd assets && npm ci --no-audit --no-fund --loglevel=error
	$(PY) -m hotspots.assets_install install assets/node_modules static/vendor
	touch $@

# ruff (with C901: complexity <= 15) and import-linter (the layers of docs/design.md)
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: setup
	$(VENV)/bin/mypy hotspots geodata ui app.py

pytest: setup
	$(VENV)/bin/pytest

sample: setup
	$(PY) -m geodata.make_sample

bench: setup
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) benchmarks/cluster.py
	$(PY) benchmarks/pipeline.py
	$(PY) benchmarks/app.py
	$(PY) benchmarks/dense.py
	$(PY) benchmarks/pilot_placebo.py

clean:
	rm -rf $(VENV) static/vendor assets/node_modules
