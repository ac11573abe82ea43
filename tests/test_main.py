"""python -m minigrad: the gradcheck table and the demo (reduced to a few epochs)."""
import re

import pytest

from minigrad.__main__ import main, train_spirals
from minigrad.catalog import CASES, Case


def test_gradcheck_prints_one_passing_row_per_op(capsys):
    assert main(["gradcheck"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [cell.strip() for cell in lines[0].split(" | ")] == \
        ["op", "inputs (shapes)", "max error", "pass"]
    rows = [line for line in lines[2:] if " | " in line]
    assert [row.split(" | ")[0].strip() for row in rows] == [case.name for case in CASES]
    assert all(row.split(" | ")[3].strip() == "ok" for row in rows)
    assert f"{len(CASES)} of {len(CASES)} ops agree" in lines[-1]


def test_gradcheck_fails_when_an_op_is_wrong(capsys, monkeypatch):
    broken = Case("deliberately wrong", lambda a: a * a.data, ((3,),))
    # d(a * const)/da is the constant a.data, not the true derivative 2a: gradcheck catches it
    monkeypatch.setattr("minigrad.__main__.CASES", CASES[:2] + [broken])
    assert main(["gradcheck"]) == 1
    assert re.search(r"deliberately wrong .*\| FAIL", capsys.readouterr().out)


def test_demo_trains_and_writes_the_picture(tmp_path, capsys):
    assert main(["demo", "--epochs", "20", "--out", str(tmp_path / "pictures")]) == 0
    out = capsys.readouterr().out
    assert len(re.findall(r"epoch +\d+ +loss \d\.\d+ +accuracy \d+\.\d%", out)) == 10
    assert re.search(r"final training accuracy \d+\.\d%", out)
    path = tmp_path / "pictures" / "decision_boundary.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {path}" in out


def test_demo_training_reaches_95_percent_on_the_spirals(capsys):
    predict, X, y = train_spirals(epochs=200, seed=0)  # the demo's default
    assert (predict(X).data.argmax(axis=1) == y).mean() >= 0.95
    assert re.search(r"final training accuracy \d+\.\d%", capsys.readouterr().out)


def test_unknown_command_is_an_argparse_error():
    with pytest.raises(SystemExit):
        main(["fly"])
