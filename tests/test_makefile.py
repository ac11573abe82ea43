"""The Makefile's student-facing targets: `make lab` installs JupyterLab on first use and then
only launches it; `make notebooks` writes executed HTML copies, figures embedded, and leaves
the notebooks stripped. The browser is not tested; the install is read from `make -n`."""
import configparser
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def make(*args, env=None):
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def requirement_names(text):
    return [re.split(r"[<>=!~\[; ]", line.strip())[0].lower()
            for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_setup_cfg_declares_the_lab_extra_and_nbconvert_for_dev():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    extras = config["options.extras_require"]
    assert requirement_names(extras["lab"]) == ["jupyterlab"]
    assert "nbconvert" in requirement_names(extras["dev"])  # make notebooks' HTML step


def test_make_lab_on_a_fresh_clone_installs_the_lab_extra_then_launches(tmp_path):
    venv = tmp_path / "venv"  # does not exist: what a fresh clone sees
    result = make("-n", "lab", f"VENV={venv}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    install = f"{venv}/bin/python -m pip install -q -e '.[dev,lab]'"
    launch = [i for i, line in enumerate(lines) if "/bin/jupyter lab notebooks/" in line]
    assert install in lines and len(launch) == 1
    assert lines.index(f"{venv}/bin/python -m pip install -q -e '.[dev]'") < \
        lines.index(install) < launch[0]
    assert lines[launch[0]].startswith(f"env -u MPLBACKEND {venv}/bin/jupyter lab notebooks/")


def test_make_lab_installs_nothing_once_installed(tmp_path):
    venv = tmp_path / "venv"
    venv.mkdir()
    later = time.time() + 60  # both stamps newer than setup.cfg and pyproject.toml
    for stamp in (".installed", ".lab-installed"):
        (venv / stamp).touch()
        os.utime(venv / stamp, (later, later))
    result = make("-n", "lab", f"VENV={venv}")
    assert result.returncode == 0, result.stderr
    assert "pip install" not in result.stdout
    assert len(result.stdout.splitlines()) == 1 and "jupyter lab notebooks/" in result.stdout


def write_notebook(path, *sources):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, path)
    return path.read_bytes()


def make_notebooks(notebook, html):
    """`make notebooks` on one notebook with this interpreter's environment as the venv and
    MPLBACKEND=Agg in the environment, as every make target exports it."""
    venv = sys.prefix
    return make("-o", f"{venv}/.installed", "notebooks", f"VENV={venv}",
                f"NOTEBOOKS={notebook}", f"NOTEBOOKS_HTML={html}",
                env={**os.environ, "MPLBACKEND": "Agg"})


def test_make_notebooks_writes_an_executed_html_copy_with_its_figures(tmp_path):
    notebook = tmp_path / "tiny.ipynb"
    committed = write_notebook(
        notebook, "print(6 * 7)",
        "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()")
    result = make_notebooks(notebook, tmp_path / "html")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "html" / "tiny.html").read_text()
    assert re.search(r"<pre>\s*42\s*</pre>", page)  # the first cell ran and printed
    # the figure is in the page, so the kernel drew inline, not with the exported Agg
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) == 1
    assert notebook.read_bytes() == committed  # the notebook itself stays stripped


def test_make_notebooks_fails_on_a_failing_cell(tmp_path):
    notebook = tmp_path / "broken.ipynb"
    write_notebook(notebook, "raise ValueError('a cell that fails')")
    result = make_notebooks(notebook, tmp_path / "html")
    assert result.returncode != 0
    assert "a cell that fails" in result.stderr
