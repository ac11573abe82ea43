"""python -m minigrad convert FILE.pth OUT.npz: a PyTorch checkpoint's state_dict as the .npz
that mg.load reads, through torch.load(weights_only=True) only, and the errors."""
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.__main__ import main


class RunsCodeWhenUnpickled:
    """What plain pickle would execute on load: open(path, "w") creates the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_torchvision_resnet18_converts_through_the_command_line(tmp_path, torchvision_models):
    import torch

    state = torchvision_models.resnet18().state_dict()
    torch.save(state, tmp_path / "resnet18.pth")
    done = subprocess.run([sys.executable, "-m", "minigrad", "convert",
                           str(tmp_path / "resnet18.pth"), str(tmp_path / "resnet18.npz")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "using the file's dict of tensors as the state_dict" in done.stdout
    assert f"wrote {tmp_path / 'resnet18.npz'}: 122 arrays, 11,699,132 values" in done.stdout
    loaded = mg.load(tmp_path / "resnet18.npz")
    assert list(loaded) == list(state)  # torchvision's keys in torchvision's order
    for key, tensor in state.items():
        assert loaded[key].dtype == tensor.numpy().dtype, key  # num_batches_tracked: int64
        np.testing.assert_array_equal(loaded[key], tensor.numpy(), err_msg=key)


def test_a_state_dict_nested_in_a_training_checkpoint_is_found_and_named(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    state = torch.nn.Linear(3, 2).state_dict()
    torch.save({"epoch": 7, "model_state_dict": state, "optimizer_state_dict": {}},
               tmp_path / "checkpoint.pth")
    assert main(["convert", str(tmp_path / "checkpoint.pth"), str(tmp_path / "w.npz")]) == 0
    assert ("using checkpoint['model_state_dict'] as the state_dict (ignored: 'epoch', "
            "'optimizer_state_dict')") in capsys.readouterr().out
    loaded = mg.load(tmp_path / "w.npz")
    assert list(loaded) == ["weight", "bias"]
    np.testing.assert_array_equal(loaded["weight"], state["weight"].numpy())


def test_bfloat16_tensors_are_written_as_float32(tmp_path):
    torch = pytest.importorskip("torch")
    values = torch.tensor([1.5, -2.0, 3.0e38], dtype=torch.bfloat16)
    torch.save({"w": values}, tmp_path / "half.pth")
    assert main(["convert", str(tmp_path / "half.pth"), str(tmp_path / "half.npz")]) == 0
    converted = mg.load(tmp_path / "half.npz")["w"]
    assert converted.dtype == np.float32
    np.testing.assert_array_equal(converted, values.float().numpy())  # exact: bf16 ⊂ f32


@pytest.mark.parametrize("content, found", [
    ({"epoch": 3, "lr": 0.1}, "found a dict with keys 'epoch', 'lr'"),
    ([1, 2, 3], "found a list"),
    ({"model": {"weight": 1.0}}, "found a dict with keys 'model'"),
])
def test_a_file_without_a_state_dict_is_exit_code_2(tmp_path, capsys, content, found):
    torch = pytest.importorskip("torch")
    torch.save(content, tmp_path / "other.pth")
    assert main(["convert", str(tmp_path / "other.pth"), str(tmp_path / "x.npz")]) == 2
    error = capsys.readouterr().err
    assert "holds no state_dict: expected a dict of tensors, or a dict holding one under " \
           "'state_dict', 'model', 'model_state_dict'" in error and found in error
    assert not (tmp_path / "x.npz").exists()


def test_a_pickle_that_would_run_code_is_refused_not_run(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "ran"
    torch.save({"w": torch.zeros(2), "payload": RunsCodeWhenUnpickled(marker)},
               tmp_path / "evil.pth")
    assert main(["convert", str(tmp_path / "evil.pth"), str(tmp_path / "x.npz")]) == 2
    error = capsys.readouterr().err
    assert "is not a weights-only PyTorch checkpoint" in error and "Unsupported global" in error
    assert not marker.exists()


def test_a_missing_file_is_exit_code_2(tmp_path, capsys):
    pytest.importorskip("torch")
    assert main(["convert", str(tmp_path / "none.pth"), str(tmp_path / "x.npz")]) == 2
    assert f"cannot read {tmp_path / 'none.pth'}" in capsys.readouterr().err


def test_without_torch_the_command_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    assert main(["convert", str(tmp_path / "w.pth"), str(tmp_path / "w.npz")]) == 2
    assert "reading a .pth file needs PyTorch, which is not installed" in \
        capsys.readouterr().err
