"""`python -m minigrad train detect`: a tiny run of each detector writes every output with
the detection metrics; a resumed run gives the uninterrupted one; validation leaves the
model as it was; bad sizes are refused."""
import json
import os

import numpy as np
import pytest

import minigrad as mg
from minigrad.__main__ import main
from minigrad.data import ShapesDataset
from minigrad.models import detection
from minigrad.train import TASKS
from minigrad.train.detect import validation_loss
from minigrad.vision import yolo_encode, yolo_loss

TINY = ["--size", "32", "--train-images", "4", "--val-images", "2", "--batch-size", "2"]
PNG = b"\x89PNG\r\n\x1a\n"


def detect(out, model, *options, epochs=2):
    return main(["train", "detect", "--model", model, *TINY, "--epochs", str(epochs),
                 "--out", str(out), *options])


@pytest.mark.parametrize("model, masks", [("yolo", False), ("mask_rcnn_lite", True)])
def test_detect_run_writes_every_file(tmp_path, capsys, model, masks):
    assert detect(tmp_path / "run", model) == 0
    out = capsys.readouterr()
    assert sorted(os.listdir(tmp_path / "run")) == ["checkpoint.npz", "curves.png",
                                                     "metrics.json", "predictions.png"]
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert [m["epoch"] for m in history] == [1, 2]
    mask_keys = {"val_mask_map", "val_mask_map_50"}
    for m in history:
        assert {"train_loss", "val_loss", "val_map", "val_map_50", "val_class_ap",
                "seconds"} <= set(m)
        assert mask_keys & set(m) == (mask_keys if masks else set())
        for key in ("val_map", "val_map_50") + tuple(sorted(mask_keys & set(m))):
            assert 0 <= m[key] <= 1
        assert set(m["val_class_ap"]) <= {"circle", "square", "triangle"}
        assert np.isfinite(m["train_loss"]) and np.isfinite(m["val_loss"])
    for picture in ("curves.png", "predictions.png"):
        assert (tmp_path / "run" / picture).read_bytes()[:8] == PNG
    assert "epoch 2/2  train_loss" in out.out and "val_map_50" in out.out
    assert ("val_mask_map_50" in out.out) == masks
    assert "img/s" in out.err and "loss=" in out.err  # the progress bar


def test_detect_resume_gives_the_uninterrupted_run(tmp_path, monkeypatch):
    # mask_rcnn_lite samples anchors and proposals from the global generator, which the
    # checkpoint restores
    assert detect(tmp_path / "straight", "mask_rcnn_lite") == 0
    original, calls = TASKS["detect"].loss, []

    def loss(self, model, batch):
        calls.append(1)
        if len(calls) == 3:  # the first batch of epoch 2
            raise KeyboardInterrupt
        return original(self, model, batch)

    with monkeypatch.context() as patch:
        patch.setattr(TASKS["detect"], "loss", loss)
        assert detect(tmp_path / "stopped", "mask_rcnn_lite") == 130
    assert main(["train", "detect", "--resume", str(tmp_path / "stopped")]) == 0
    straight, resumed = (json.loads((tmp_path / name / "metrics.json").read_text())
                         for name in ("straight", "stopped"))
    for a, b in zip(straight, resumed, strict=True):
        a.pop("seconds"), b.pop("seconds")
        assert a == b


def test_validation_loss_changes_nothing():
    data = ShapesDataset(4, 32, 1, 3, seed=0)
    images = mg.Tensor(data.images)
    targets = [{"boxes": b, "labels": l} for b, l in zip(data.boxes, data.labels)]
    model = detection.yolo(3, grid_size=4, width=4)
    model.eval()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with mg.no_grad():
        loss = validation_loss(model, images, targets)
        # the losses with running statistics are those of the eval-mode grid
        encoded = np.stack([yolo_encode(t["boxes"], t["labels"], 4, 2, 3, (32, 32))
                            for t in targets])
        expected = yolo_loss(model.predict_grid(images), encoded, 2).item()
    assert loss == pytest.approx(expected, rel=1e-5)
    assert not model.training  # the caller's mode is back
    for key, value in model.state_dict().items():  # BatchNorm statistics untouched
        np.testing.assert_array_equal(value, before[key], err_msg=key)


def test_detect_refuses_a_size_the_net_cannot_divide(capsys):
    with pytest.raises(SystemExit):
        main(["train", "detect", "--model", "yolo", "--size", "36", "--out", "unused"])
    assert "yolo downsamples by 8, so the size must be a multiple of 8, got 36" in \
        capsys.readouterr().err
