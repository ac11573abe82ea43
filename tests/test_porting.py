"""PyTorch programs that run on minigrad by changing the import lines (issue 8).

Each program in tests/porting/ exists twice, NAME_torch.py and NAME_minigrad.py, identical
except for the import lines. Here we check that, run the minigrad copy (always: the suite
passes without torch), and, when torch is importable, run both copies on the same initial
weights (PyTorch's initialisation, moved as NumPy arrays through state_dict) and the same
data, and compare losses, outputs, gradients and final weights.

Every program has `run(state_dict=None, data=None)`, which returns a dict of results
(tensors, `.grad` values, state_dicts, floats); `to_numpy` turns them into arrays here.
"""
import ast
import importlib.util
import math
import re
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import minigrad

PORTING = Path(__file__).parent / "porting"
PROGRAMS = ["cifar_classifier", "encoder_decoder", "dcgan_step", "segmentation_step"]
IMPORT_LINE = re.compile(r"^\s*(import|from)\s+(torch|minigrad)\b")

_loaded = {}


def load_program(name, framework):
    """The module tests/porting/NAME_FRAMEWORK.py, loaded by path (once)."""
    key = (name, framework)
    if key not in _loaded:
        path = PORTING / f"{name}_{framework}.py"
        spec = importlib.util.spec_from_file_location(f"porting_{name}_{framework}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[key] = module
    return _loaded[key]


def to_numpy(value):
    """Results of either framework as NumPy: tensors detached, `.grad` ndarrays (minigrad)
    or tensors (PyTorch) copied, dicts converted value by value."""
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if hasattr(value, "detach"):
        return value.detach().numpy().copy()
    return np.array(value)


def flatten(results, prefix=""):
    """{"grads": {"fc.weight": a}} -> {"grads/fc.weight": a}."""
    flat = {}
    for key, value in results.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}/"))
        else:
            flat[prefix + key] = value
    return flat


@contextmanager
def default_dtype(lib, dtype):
    previous = lib.get_default_dtype()
    lib.set_default_dtype(dtype)
    try:
        yield
    finally:
        lib.set_default_dtype(previous)


# --- (a) the two copies differ only in their import lines --------------------------------

def split_imports(text):
    lines = text.splitlines()
    imports = [line for line in lines if IMPORT_LINE.match(line)]
    body = [line for line in lines if not IMPORT_LINE.match(line)]
    return imports, body


def as_torch_import(line):
    """`import minigrad as torch` -> `import torch`; `from minigrad.x import y` -> torch."""
    return line.replace("import minigrad as torch", "import torch").replace("minigrad", "torch")


@pytest.mark.parametrize("name", PROGRAMS)
def test_copies_differ_only_in_import_lines(name):
    torch_imports, torch_body = split_imports((PORTING / f"{name}_torch.py").read_text())
    mg_imports, mg_body = split_imports((PORTING / f"{name}_minigrad.py").read_text())
    assert mg_body == torch_body
    names = {node.id for node in ast.walk(ast.parse("\n".join(mg_body)))
             if isinstance(node, ast.Name)}
    assert "minigrad" not in names and "torch" in names
    assert torch_imports and all("minigrad" not in line for line in torch_imports)
    assert all(line.startswith(("import minigrad", "from minigrad")) for line in mg_imports)
    assert [as_torch_import(line) for line in mg_imports] == torch_imports


# --- (b) the minigrad copies run on their own ---------------------------------------------

def test_cifar_classifier_on_minigrad():
    program = load_program("cifar_classifier", "minigrad")
    labels = program.make_data()["labels"].numpy()
    results = to_numpy(program.run())
    assert results["batch_losses"].shape == (6,)          # 3 epochs x 2 batches of 4
    assert np.isfinite(results["batch_losses"]).all()
    assert abs(results["batch_losses"][0] - math.log(10)) < 0.3   # fresh init: near chance
    assert results["epoch_losses"][-1] < results["epoch_losses"][0]
    np.testing.assert_allclose(results["epoch_losses"],
                               results["batch_losses"].reshape(3, 2).mean(axis=1))
    logits = results["logits"]
    assert logits.shape == (8, 10) and logits.dtype == np.float32
    np.testing.assert_array_equal(results["predicted"], logits.argmax(axis=1))
    assert results["accuracy"] == np.mean(logits.argmax(axis=1) == labels)
    assert results["agree"] == 8
    assert results["grads"].keys() == {k for k in results["params"]}
    for key, grad in results["grads"].items():
        assert grad.shape == results["params"][key].shape and np.abs(grad).sum() > 0


def test_encoder_decoder_on_minigrad():
    program = load_program("encoder_decoder", "minigrad")
    results = to_numpy(program.run())
    losses = results["losses"]
    assert losses.shape == (3,) and np.all(np.diff(losses) < 0)
    np.testing.assert_allclose(losses, results["bce"] + results["dice"], rtol=1e-6)
    assert np.all((results["dice"] > 0) & (results["dice"] < 1))
    assert results["first_logits"].shape == results["eval_logits"].shape == (2, 1, 16, 16)
    np.testing.assert_array_equal(results["predicted_masks"],
                                  (results["eval_logits"] > 0).astype(np.int64))
    params = results["params"]
    assert params["enc1.1.num_batches_tracked"] == 3                   # one per training step
    assert np.abs(params["enc1.1.running_mean"]).sum() > 0
    assert results["grads"].keys() == {k for k in params if "running" not in k
                                       and "num_batches" not in k}


def test_dcgan_weights_init_on_minigrad():
    program = load_program("dcgan_step", "minigrad")
    minigrad.manual_seed(0)
    netG, netD = program.build_models()
    conv = np.concatenate([m.weight.data.ravel() for net in (netG, netD)
                           for m in net.modules() if "Conv" in type(m).__name__])
    assert conv.size == 4224 + 2432
    assert abs(conv.mean()) < 0.002 and abs(conv.std() - 0.02) < 0.002
    bn = [m for net in (netG, netD) for m in net.modules() if "BatchNorm" in type(m).__name__]
    assert len(bn) == 3
    gamma = np.concatenate([m.weight.data for m in bn])
    assert abs(gamma.mean() - 1.0) < 0.01 and 0.01 < gamma.std() < 0.03
    assert all(np.all(m.bias.data == 0) for m in bn)


def test_dcgan_step_on_minigrad():
    program = load_program("dcgan_step", "minigrad")
    results = to_numpy(program.run())
    for key in ("D_x", "D_G_z1", "D_G_z2"):
        assert results[key].shape == (2,) and np.all((results[key] > 0) & (results[key] < 1))
    np.testing.assert_allclose(results["D_G_z1"], results["D_G_z2"], atol=0.05)
    assert np.isfinite(results["G_losses"]).all() and np.isfinite(results["D_losses"]).all()
    for key in ("last_fake", "fixed_fake"):
        assert results[key].dtype == np.float32
        assert np.all(np.abs(results[key]) <= 1)
    assert results["last_fake"].shape == (4, 1, 16, 16)
    assert results["fixed_fake"].shape == (2, 1, 16, 16)
    assert results["label"].dtype == np.float32
    np.testing.assert_array_equal(results["label"], np.ones(4, np.float32))
    # G's BatchNorm saw 2 training batches and the fixed noise; D's saw 3 batches a step
    assert results["netG"]["main.1.num_batches_tracked"] == 3
    assert results["netD"]["main.3.num_batches_tracked"] == 6
    for net in ("netG", "netD"):
        for key, grad in results[f"{net}_grads"].items():
            assert grad.dtype == np.float32 and np.abs(grad).sum() > 0, key


def cross_entropy_ignoring(logits, targets, ignore_index):
    """Mean cross entropy over the pixels whose target is not ignore_index (NumPy)."""
    logits = logits.astype(np.float64).transpose(0, 2, 3, 1)       # N, H, W, C
    keep = targets != ignore_index
    z = logits[keep]
    log_probs = z - z.max(axis=1, keepdims=True)
    log_probs -= np.log(np.exp(log_probs).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(z)), targets[keep]].mean()


def test_segmentation_step_on_minigrad():
    program = load_program("segmentation_step", "minigrad")
    targets = program.make_data()["targets"].numpy()
    results = to_numpy(program.run())
    losses = results["losses"]
    assert losses.shape == (4,) and np.all(np.diff(losses) < 0)
    assert losses[0] == pytest.approx(cross_entropy_ignoring(results["first_logits"],
                                                             targets, 255), rel=1e-5)
    poly = [(1 - it / 4) ** 0.9 for it in range(1, 5)]
    expected_lrs = np.array([[0.01 * f, 0.1 * f] for f in poly])
    np.testing.assert_allclose(results["lrs"], expected_lrs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(results["group_lrs"], expected_lrs, rtol=1e-12, atol=1e-15)
    predictions = results["predictions"]
    assert predictions.shape == (2, 16, 16) and predictions.dtype == np.int64
    np.testing.assert_array_equal(predictions, results["eval_logits"].argmax(axis=1))
    valid = targets != 255
    assert results["pixel_accuracy"] == pytest.approx(
        np.mean(predictions[valid] == targets[valid]), rel=1e-6)


# --- (c) the same program under PyTorch and under minigrad ---------------------------------

def make_data(name, rng, dtype):
    if name == "cifar_classifier":
        return {"images": rng.standard_normal((8, 3, 16, 16)).astype(dtype),
                "labels": rng.integers(0, 10, 8)}
    if name == "encoder_decoder":
        images = rng.standard_normal((2, 3, 16, 16)).astype(dtype)
        return {"images": images,
                "masks": (images.mean(axis=1, keepdims=True) > 0).astype(dtype)}
    if name == "dcgan_step":
        return {"real": rng.uniform(-1, 1, (2, 4, 1, 16, 16)).astype(dtype),
                "noise": rng.standard_normal((2, 4, 8, 1, 1)).astype(dtype),
                "fixed_noise": rng.standard_normal((2, 8, 1, 1)).astype(dtype)}
    if name == "segmentation_step":
        targets = rng.integers(0, 4, (2, 16, 16))
        targets[rng.random((2, 16, 16)) < 0.2] = 255
        return {"images": rng.standard_normal((2, 3, 16, 16)).astype(dtype),
                "targets": targets}
    raise KeyError(name)


def initial_state(program):
    """The weights of a program's freshly built model(s), as NumPy arrays."""
    if hasattr(program, "build_models"):
        netG, netD = program.build_models()
        return {"netG": to_numpy(netG.state_dict()), "netD": to_numpy(netD.state_dict())}
    return to_numpy(program.build_model().state_dict())


# rtol, and atol as a fraction of the array's largest magnitude (small gradients included)
TOLERANCE = {"float64": (1e-8, 1e-10), "float32": (1e-4, 5e-5)}

# Every program runs in float32; all but dcgan_step (whose labels are built with
# dtype=torch.float, as in the DCGAN example) also in float64, where the tolerance is tight.
COMPARISONS = [pytest.param(name, "float32", id=f"{name}-float32") for name in PROGRAMS] + [
    pytest.param(name, "float64", id=f"{name}-float64") for name in PROGRAMS if name != "dcgan_step"]


@pytest.mark.parametrize("name, dtype", COMPARISONS)
def test_same_numbers_as_pytorch(name, dtype):
    torch = pytest.importorskip("torch")
    rtol, atol = TOLERANCE[dtype]
    data = make_data(name, np.random.default_rng(PROGRAMS.index(name)), dtype)
    with default_dtype(torch, getattr(torch, dtype)), \
            default_dtype(minigrad, getattr(minigrad, dtype)):
        torch.manual_seed(0)
        state = initial_state(load_program(name, "torch"))
        expected = flatten(to_numpy(load_program(name, "torch").run(state, data)))
        got = flatten(to_numpy(load_program(name, "minigrad").run(state, data)))
    assert list(got) == list(expected)
    for key, want in expected.items():
        assert got[key].shape == want.shape, key
        assert got[key].dtype == want.dtype, key
        scale = (float(np.abs(want).max()) if want.size else 0.0) or 1.0
        np.testing.assert_allclose(got[key], want, rtol=rtol, atol=atol * scale, err_msg=key)


@pytest.mark.parametrize("name", PROGRAMS)
def test_minigrad_weights_load_into_pytorch(name):
    """The other direction: minigrad's freshly built models' state_dicts load (strict) into
    the PyTorch copy's models, with the same keys in the same order."""
    torch = pytest.importorskip("torch")
    minigrad.manual_seed(0)
    mg_state = initial_state(load_program(name, "minigrad"))
    program = load_program(name, "torch")
    nets = program.build_models() if hasattr(program, "build_models") \
        else (program.build_model(),)
    mg_states = (mg_state["netG"], mg_state["netD"]) if "netG" in mg_state else (mg_state,)
    for net, sd in zip(nets, mg_states):
        assert list(sd) == list(net.state_dict())
        net.load_state_dict({k: torch.as_tensor(v) for k, v in sd.items()})
        for key, value in to_numpy(net.state_dict()).items():
            assert value.dtype == sd[key].dtype, key
            np.testing.assert_array_equal(value, sd[key], err_msg=key)
