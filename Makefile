# Every target sets up what it needs: .venv is created and the package installed
# (editable, with the dev extras) the first time, and again when setup.cfg changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
export MPLBACKEND := Agg

.PHONY: venv install demo test test-fast notebooks bench lint strip clean

venv: $(INSTALLED)

$(INSTALLED): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

demo: $(INSTALLED)
	$(PY) -m minigrad demo

test: $(INSTALLED)
	$(PY) -m pytest --nbmake tests notebooks

test-fast: $(INSTALLED)
	$(PY) -m pytest -x -q tests

notebooks: $(INSTALLED)
	$(PY) -m pytest --nbmake notebooks

# bench/harness.py is the scripts' shared machinery, not a benchmark.
bench: $(INSTALLED)
	for script in $(filter-out bench/harness.py,$(wildcard bench/*.py)); do \
		$(PY) $$script || exit 1; done

# Committed notebooks carry no outputs (tests/test_notebooks_stripped.py checks it).
strip: $(INSTALLED)
	$(PY) -c "$$STRIP_NOTEBOOKS" notebooks/*.ipynb

define STRIP_NOTEBOOKS
import sys, nbformat
for path in sys.argv[1:]:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, path)
endef
export STRIP_NOTEBOOKS

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis build *.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +
