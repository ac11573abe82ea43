# Every target sets up what it needs: .venv is created and the package installed
# (editable, with the dev extras) the first time, and again when setup.cfg changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
export MPLBACKEND := Agg

.PHONY: venv install demo test test-fast notebooks lab bench lint strip clean

venv: $(INSTALLED)

$(INSTALLED): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(INSTALLED)

# JupyterLab (the `lab` extra) is big and only `make lab` needs it: installed on first use.
LAB_INSTALLED := $(VENV)/.lab-installed
$(LAB_INSTALLED): $(INSTALLED)
	$(PY) -m pip install -q -e '.[dev,lab]'
	touch $(LAB_INSTALLED)

install: $(INSTALLED)

demo: $(INSTALLED)
	$(PY) -m minigrad demo

test: $(INSTALLED)
	$(PY) -m pytest --nbmake tests notebooks

test-fast: $(INSTALLED)
	$(PY) -m pytest -x -q tests

# Each notebook runs top to bottom (a failing cell fails the target) and an executed HTML
# copy, figures embedded, goes to out/notebooks/: every figure readable without Jupyter,
# while the committed .ipynb files stay stripped. MPLBACKEND (Agg, above) is unset for the
# kernel: with it set, the kernel does not pick its inline backend and figures never reach
# the page.
NOTEBOOKS ?= $(wildcard notebooks/*.ipynb)
NOTEBOOKS_HTML ?= out/notebooks
notebooks: $(INSTALLED)
	env -u MPLBACKEND $(PY) -m nbconvert --to html --execute \
		--ExecutePreprocessor.timeout=600 --output-dir $(NOTEBOOKS_HTML) $(NOTEBOOKS)

# JupyterLab on notebooks/, with the inline figures of a normal session (MPLBACKEND unset).
# Jupyter refuses to start as root unless told; root is common in containers.
lab: $(LAB_INSTALLED)
	env -u MPLBACKEND $(VENV)/bin/jupyter lab notebooks/$(if $(filter 0,$(shell id -u)), --allow-root)

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
