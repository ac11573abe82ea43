"""python -m minigrad: the gradcheck table, the demo (reduced to a few epochs), its summary,
its picture and its refusals."""
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor
from minigrad.__main__ import decision_boundary_axes, main, train_spirals
from minigrad.catalog import CASES, Case


TINY_SEGMENTATION = ["--model", "unet", "--base-channels", "2", "--size", "16",
                     "--train-images", "4", "--val-images", "3", "--epochs", "1",
                     "--batch-size", "4"]


@pytest.fixture(autouse=True)
def tiny_segmentation_demo(monkeypatch):
    """The demo's U-Net run at a few images (its full size takes about a minute)."""
    monkeypatch.setattr("minigrad.__main__.SEGMENTATION_DEMO", TINY_SEGMENTATION)


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


def test_demo_trains_first_then_summarises_the_gradchecks(tmp_path, capsys):
    assert main(["demo", "--epochs", "20", "--out", str(tmp_path / "pictures")]) == 0
    out = capsys.readouterr().out
    assert len(re.findall(r"epoch +\d+ +loss \d\.\d+ +accuracy \d+\.\d%", out)) == 10
    assert re.search(r"final training accuracy \d+\.\d%", out)
    path = tmp_path / "pictures" / "decision_boundary.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {path}" in out
    # the gradchecks come after the learning, as one verdict, not a table
    summary = re.search(rf"gradcheck: all {len(CASES)} ops agree with finite differences; "
                        r"worst error \d\.\de-\d\d \((.+)\)\n", out)
    assert summary and summary.group(1) in [case.name for case in CASES]
    assert out.index("final training accuracy") < out.index("validation mIoU") < summary.start()
    segmentation = tmp_path / "pictures" / "segmentation.png"
    assert segmentation.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {segmentation}" in out
    assert (tmp_path / "pictures" / "segmentation_run" / "metrics.json").exists()
    assert " | " not in out
    assert "python -m minigrad gradcheck" in out[summary.end():]


def test_demo_summary_names_the_failed_op_and_the_worst_error(tmp_path, capsys, monkeypatch):
    broken = Case("deliberately wrong", lambda a: a * a.data, ((3,),))
    # backward says d(a * c)/da = c = a, the truth is 2a: the Jacobians are diagonal and
    # differ by |a_i| on the diagonal, so the worst error is max |a_i| of its input
    expected = np.abs(broken.make_inputs()[0].data).max()
    monkeypatch.setattr("minigrad.__main__.CASES", CASES[:2] + [broken])
    assert main(["demo", "--epochs", "1", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert (f"gradcheck: 1 of 3 ops FAILED: deliberately wrong; worst error {expected:.1e} "
            f"(deliberately wrong)") in out


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "-3"], "argument --epochs: must be at least 1, got -3"),
    (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    (["--epochs", "2.5"], "argument --epochs: expected a whole number, got '2.5'"),
    (["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    (["--out", ""], "argument --out: expected a folder, got an empty name"),
])
def test_demo_refuses_bad_arguments_before_training(argv, message, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["demo", *argv])
    assert exit.value.code == 2  # argparse's usage error
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_demo_refuses_a_file_as_the_output_folder(tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    for out in (tmp_path / "taken", tmp_path / "taken" / "below"):
        with pytest.raises(SystemExit):
            main(["demo", "--out", str(out)])
        assert "is a file, not a folder" in capsys.readouterr().err


def test_decision_boundary_has_labels_and_a_legend_in_the_classes_colours():
    # a predictor that says class 1 right of x1 = 0: it gets 3 of the 4 points right
    X = np.array([[-1.0, 0.0], [1.0, 0.0], [-1.0, 1.0], [1.0, 1.0]])
    y = np.array([0, 1, 0, 0])

    def predict(points):
        return Tensor(np.eye(2)[(np.asarray(points)[:, 0] > 0).astype(int)])  # (M, 2)

    ax = decision_boundary_axes(predict, X, y)
    try:
        ax.figure.canvas.draw()  # the scatter maps its colours when drawn
        assert "75.0%" in ax.get_title()
        assert ax.get_xlabel().startswith("$x_1$") and ax.get_ylabel().startswith("$x_2$")
        legend = ax.get_legend()
        assert [text.get_text() for text in legend.get_texts()] == ["class 0", "class 1"]
        regions, points = ax.collections[0], ax.collections[-1]
        for k, handle in enumerate(legend.legend_handles):  # the region swatch of class k
            np.testing.assert_allclose(handle.get_facecolor(), regions.get_facecolor()[k])
            for colour in points.get_facecolors()[y == k]:  # and its points, opaque
                np.testing.assert_allclose(colour[:3], handle.get_facecolor()[:3])
    finally:
        plt.close(ax.figure)


def test_demo_training_reaches_95_percent_on_the_spirals(capsys):
    predict, X, y = train_spirals(epochs=200, seed=0)  # the demo's default
    assert (predict(X).data.argmax(axis=1) == y).mean() >= 0.95
    assert re.search(r"final training accuracy \d+\.\d%", capsys.readouterr().out)


def test_unknown_command_is_an_argparse_error():
    with pytest.raises(SystemExit):
        main(["fly"])


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    (["--lr", "-0.1"], "argument --lr: must be a finite number > 0, got -0.1"),
    (["--lr", "fast"], "argument --lr: expected a number, got 'fast'"),
    (["--batch-size", "1.5"], "argument --batch-size: expected a whole number, got '1.5'"),
    (["--model", "resnet18"], "argument --model: invalid choice: 'resnet18'"),
    (["--size", "40"], "argument --size: unet downsamples by 16, so the size must be a "
                       "multiple of 16, got 40"),
    (["--unfreeze-at", "2"], "argument --unfreeze-at: needs --freeze-encoder"),
    (["--freeze-encoder", "--unfreeze-at", "12"], "argument --unfreeze-at: epoch 12 comes "
                                                  "after the last (--epochs 10)"),
    (["--encoder-lr-scale", "0"], "argument --encoder-lr-scale: must be a finite number > 0"),
    (["--pretrained", "no/such.npz"], "argument --pretrained: no such file: 'no/such.npz'"),
    (["--resume", "no/such/run"], "argument --resume: no checkpoint.npz in 'no/such/run'"),
])
def test_train_refuses_bad_arguments_in_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["train", "segment", *argv])
    assert exit.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err.splitlines()[-1] and captured.out == ""
    assert "Traceback" not in captured.err


def test_train_classify_refuses_lenet5_at_another_size(capsys):
    with pytest.raises(SystemExit):
        main(["train", "classify", "--model", "lenet5", "--size", "64"])
    assert "argument --size: lenet5 reads 32x32 images, got --size 64" in capsys.readouterr().err


def test_train_refuses_a_pretrained_file_that_fits_nothing(tmp_path, capsys):
    mg.save({"some.weight": np.zeros((2, 2), np.float32)}, tmp_path / "other.npz")
    with pytest.raises(SystemExit):
        main(["train", "segment", "--size", "16", "--base-channels", "2", "--train-images", "1",
              "--val-images", "1", "--pretrained", str(tmp_path / "other.npz"), "--out",
              str(tmp_path / "run")])
    last = capsys.readouterr().err.splitlines()[-1]
    assert "argument --pretrained: " in last and "none of its 1 arrays matches" in last


def test_train_resume_refuses_other_options_and_other_tasks(tmp_path, capsys):
    assert main(["train", "segment", "--size", "16", "--base-channels", "2", "--train-images",
                 "2", "--val-images", "1", "--epochs", "1", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["train", "segment", "--resume", str(tmp_path), "--lr", "0.1"])
    assert ("argument --resume: continues the saved run with its own options; do not also "
            "give --lr") in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "classify", "--resume", str(tmp_path)])
    assert f"argument --resume: {tmp_path} holds a segment run, not classify" in \
        capsys.readouterr().err
