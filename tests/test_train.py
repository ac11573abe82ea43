"""python -m minigrad train: the files a run writes, resume, atomic checkpoints, freezing,
pretrained weights; on tiny runs (16x16 images, a U-Net of width 4, a few images)."""
import argparse
import json
import os

import numpy as np
import pytest

import minigrad as mg
from minigrad.__main__ import main
from minigrad.train import TASKS, Run, read_meta
from minigrad.train import loop
from minigrad.vision import mean_iou

TINY = ["--model", "unet", "--base-channels", "4", "--size", "16", "--train-images", "6",
        "--val-images", "4", "--batch-size", "4"]


def segment(out, *options, epochs=2):
    return main(["train", "segment", *TINY, "--epochs", str(epochs), "--out", str(out),
                 *options])


def checkpoint(folder):
    return mg.load(os.path.join(folder, "checkpoint.npz"))


def model_arrays(folder):
    return {k: v for k, v in checkpoint(folder).items() if k.startswith("model.")}


def initial_model(folder):
    """The model a run in `folder` started from: its task, options and seed, rebuilt."""
    args = argparse.Namespace(**read_meta(checkpoint(folder))["args"])
    mg.manual_seed(args.seed)
    return TASKS["segment"](args).build_model()


def without_seconds(history):
    return [{k: v for k, v in epoch.items() if k != "seconds"} for epoch in history]


def test_segment_run_writes_every_file(tmp_path, capsys):
    assert segment(tmp_path / "run") == 0
    out = capsys.readouterr()
    assert sorted(os.listdir(tmp_path / "run")) == ["checkpoint.npz", "curves.png",
                                                     "metrics.json", "predictions.png"]
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert [m["epoch"] for m in history] == [1, 2]
    for m in history:
        assert {"epoch", "train_loss", "val_loss", "val_miou", "val_pixel_accuracy",
                "val_class_iou", "seconds"} <= set(m)
        assert set(m["val_class_iou"]) == {"background", "circle", "square", "triangle"}
        assert 0 <= m["val_miou"] <= 1 and 0 <= m["val_pixel_accuracy"] <= 1
    for picture in ("curves.png", "predictions.png"):
        assert (tmp_path / "run" / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # one printed line per epoch; the progress bar (tqdm) on stderr with loss and img/s
    assert len([line for line in out.out.splitlines() if line.startswith("epoch ")]) == 2
    assert "epoch 2/2  train_loss" in out.out and "val_miou" in out.out
    assert "img/s" in out.err and "loss=" in out.err
    meta = read_meta(checkpoint(tmp_path / "run"))
    assert meta["epoch"] == 2 and meta["task"] == "segment"
    assert without_seconds(meta["history"]) == without_seconds(history)


def test_diagnostics_draw_the_first_and_last_epochs_and_change_nothing(tmp_path):
    assert segment(tmp_path / "plain", epochs=3) == 0
    assert segment(tmp_path / "watched", "--diagnostics", epochs=3) == 0
    assert sorted(os.listdir(tmp_path / "watched" / "diagnostics")) == [
        f"epoch{epoch}_{name}.png" for epoch in (1, 3)
        for name in ("activations", "gradients", "update_ratios")]
    plain = json.loads((tmp_path / "plain" / "metrics.json").read_text())
    watched = json.loads((tmp_path / "watched" / "metrics.json").read_text())
    assert without_seconds(watched) == without_seconds(plain)  # the hooks only read


def test_the_metrics_are_those_of_the_saved_model(tmp_path):
    """val_miou in metrics.json is what vision.mean_iou gives for the checkpoint's model on
    the validation set, computed here from scratch."""
    assert segment(tmp_path, epochs=1) == 0
    args = argparse.Namespace(**read_meta(checkpoint(tmp_path))["args"])
    task = TASKS["segment"](args)
    model = task.build_model()
    model.load_state_dict({k[len("model."):]: v for k, v in model_arrays(tmp_path).items()})
    model.eval()
    _, val = task.datasets()
    with mg.no_grad():
        predicted = model(mg.Tensor(val.images)).data.argmax(axis=1)
    miou = mean_iou(predicted, val.masks, 4)
    history = json.loads((tmp_path / "metrics.json").read_text())
    assert history[0]["val_miou"] == pytest.approx(miou, abs=1e-12)


def interrupt_in_epoch(monkeypatch, epoch):
    """Make Ctrl-C arrive in the first batch of `epoch`."""
    original, calls = TASKS["segment"].loss, []

    def loss(self, model, batch):
        calls.append(1)
        if len(calls) == 2 * (epoch - 1) + 1:  # 6 images in batches of 4: 2 per epoch
            raise KeyboardInterrupt
        return original(self, model, batch)
    monkeypatch.setattr(TASKS["segment"], "loss", loss)


def test_resume_gives_the_uninterrupted_run(tmp_path, monkeypatch, capsys):
    assert segment(tmp_path / "straight", epochs=3) == 0
    with monkeypatch.context() as patch:
        interrupt_in_epoch(patch, 2)
        assert segment(tmp_path / "stopped", epochs=3) == 130
    assert "continue with --resume" in capsys.readouterr().err
    assert read_meta(checkpoint(tmp_path / "stopped"))["epoch"] == 1
    assert main(["train", "segment", "--resume", str(tmp_path / "stopped")]) == 0
    straight = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    resumed = json.loads((tmp_path / "stopped" / "metrics.json").read_text())
    assert without_seconds(resumed) == without_seconds(straight)
    a, b = checkpoint(tmp_path / "straight"), checkpoint(tmp_path / "stopped")
    assert [k for k in a if k != "meta"] == [k for k in b if k != "meta"]
    for key in a:
        if key != "meta":  # model weights, BN statistics and Adam's moments, bit for bit
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_resume_without_the_random_state_would_differ(tmp_path, monkeypatch):
    """The resume test can fail: restoring everything but the sample order and the
    augmentation draws gives other numbers."""
    assert segment(tmp_path / "straight", epochs=2) == 0
    with monkeypatch.context() as patch:
        interrupt_in_epoch(patch, 2)
        segment(tmp_path / "stopped", epochs=2)
    restore = Run.restore

    def forgetful(self, saved):
        restore(self, saved)
        mg.manual_seed(123)
        self.order.manual_seed(456)
    monkeypatch.setattr(Run, "restore", forgetful)
    assert main(["train", "segment", "--resume", str(tmp_path / "stopped")]) == 0
    a, b = model_arrays(tmp_path / "straight"), model_arrays(tmp_path / "stopped")
    assert any(not np.array_equal(a[k], b[k]) for k in a)


def test_a_checkpoint_interrupted_mid_write_leaves_the_previous_one(tmp_path, monkeypatch):
    calls = []

    def failing_save(arrays, path):
        calls.append(path)
        if len(calls) == 2:  # epoch 2: half a file, then the disk fills up
            with open(path, "wb") as file:
                file.write(b"PK\x03\x04 half a zip archive")
            raise OSError("No space left on device")
        mg.save(arrays, path)
    monkeypatch.setattr(loop, "save", failing_save)
    with pytest.raises(OSError, match="No space"):
        segment(tmp_path)
    # epoch 1's files, and no temporary file left behind
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.npz", "metrics.json"]
    saved = checkpoint(tmp_path)
    assert read_meta(saved)["epoch"] == 1
    assert calls[1] != str(tmp_path / "checkpoint.npz")  # the writer never had the real name


def test_freezing_keeps_the_encoder_and_its_batchnorm_statistics(tmp_path):
    assert segment(tmp_path / "frozen", "--freeze-encoder", epochs=1) == 0
    before = initial_model(tmp_path / "frozen").state_dict()
    after = model_arrays(tmp_path / "frozen")
    encoder = [k for k in before if k.split(".")[0] in ("inc", "downs")]
    assert any(k.endswith("running_mean") for k in encoder)
    assert any(k.endswith("weight") for k in encoder)
    for key in encoder:
        np.testing.assert_array_equal(after[f"model.{key}"], before[key], err_msg=key)
    decoder = [k for k in before if k.split(".")[0] in ("ups", "outc")]
    assert any(not np.array_equal(after[f"model.{k}"], before[k]) for k in decoder)


def test_without_freezing_or_after_unfreezing_the_encoder_changes(tmp_path):
    """The freezing test can fail: a trained encoder's weights and BN statistics move."""
    for name, options in (("free", ()), ("unfrozen", ("--freeze-encoder", "--unfreeze-at",
                                                      "2"))):
        assert segment(tmp_path / name, *options) == 0
        before = initial_model(tmp_path / name).state_dict()
        after = model_arrays(tmp_path / name)
        for suffix in ("inc.0.weight", "inc.1.running_mean"):
            assert not np.array_equal(after[f"model.{suffix}"], before[suffix]), (name, suffix)


def test_encoder_lr_scale_sets_the_encoder_group(tmp_path):
    assert segment(tmp_path, "--encoder-lr-scale", "0.1", "--lr", "0.01", epochs=1) == 0
    groups = read_meta(checkpoint(tmp_path))["optimizer"]["param_groups"]
    assert [g["initial_lr"] for g in groups] == pytest.approx([0.001, 0.01])


def test_pretrained_encoder_weights_are_loaded(tmp_path, capsys):
    assert segment(tmp_path / "first", epochs=1) == 0
    trained = model_arrays(tmp_path / "first")
    encoder = {k[len("model.downs."):]: v for k, v in trained.items()
               if k.startswith("model.downs.")}
    mg.save(encoder, tmp_path / "downs.npz")  # a part of the encoder saved alone
    args = argparse.Namespace(**{**read_meta(checkpoint(tmp_path / "first"))["args"],
                                 "pretrained": str(tmp_path / "downs.npz"),
                                 "out": str(tmp_path / "second")})
    run = Run(TASKS["segment"](args))
    assert f"loaded {len(encoder)} of" in capsys.readouterr().out
    state = run.model.state_dict()
    for key, value in encoder.items():
        np.testing.assert_array_equal(state[f"downs.{key}"], value)
    assert not np.array_equal(state["inc.0.weight"], trained["model.inc.0.weight"])


def test_classify_run(tmp_path, capsys):
    assert main(["train", "classify", "--model", "lenet5", "--size", "32", "--train-images",
                 "6", "--val-images", "5", "--batch-size", "3", "--epochs", "1", "--out",
                 str(tmp_path)]) == 0
    history = json.loads((tmp_path / "metrics.json").read_text())
    assert history[0]["val_accuracy"] in [k / 5 for k in range(6)]
    assert "val_accuracy" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.npz", "curves.png", "metrics.json",
                                            "predictions.png"]


@pytest.mark.parametrize("value", ["0", "1.5", "nan"])
def test_background_weight_must_be_in_zero_one(value, capsys):
    with pytest.raises(SystemExit):
        main(["train", "segment", *TINY, "--background-weight", value])
    assert "argument --background-weight: must be in (0, 1]" in capsys.readouterr().err


def test_background_weight_is_the_weighted_mean_of_the_pixels_losses():
    # sum_i w[y_i] * (-log softmax(z_i)[y_i]) / sum_i w[y_i], with w = (0.25, 1, 1, 1)
    parser = argparse.ArgumentParser()
    TASKS["segment"].add_arguments(parser)
    args = parser.parse_args(["--background-weight", "0.25"])
    logits = np.random.default_rng(0).standard_normal((2, 4, 3, 3)).astype(np.float32)
    masks = np.random.default_rng(1).integers(0, 4, (2, 3, 3))
    masks[0, 0, 0], masks[1, 2, 2] = 0, 3  # background and a shape both present
    loss = TASKS["segment"](args).loss(lambda images: images, (mg.Tensor(logits), mg.Tensor(masks)))
    z = logits.astype(np.float64).transpose(0, 2, 3, 1).reshape(-1, 4)
    y = masks.ravel()
    nll = np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]
    w = np.where(y == 0, 0.25, 1.0)
    np.testing.assert_allclose(loss.item(), (w * nll).sum() / w.sum(), rtol=1e-5)
