"""Normalisations against PyTorch: values, gradients of input, weight and bias, and running
buffers, in float64 (1e-8 relative) and float32 (1e-4)."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.testing import arrays

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TOL = {np.float64: 1e-8, np.float32: 1e-4}


def assert_close(actual, expected, dtype, what):
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    actual = actual.data if isinstance(actual, mg.Tensor) else actual
    np.testing.assert_allclose(actual, expected, rtol=TOL[dtype], atol=TOL[dtype], err_msg=what)


def assert_same_as_torch(mg_fn, torch_fn, arrays_, dtype, seed=0):
    """Forward both on copies of `arrays_`, backward a random upstream gradient, compare all."""
    ours = [mg.Tensor(a.astype(dtype), requires_grad=True) for a in arrays_]
    theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays_]
    out, expected = mg_fn(*ours), torch_fn(*theirs)
    assert_close(out, expected, dtype, "forward")
    upstream = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert_close(a.grad, b.grad, dtype, f"gradient of argument {i}")


@st.composite
def batches(draw, min_dims=3):
    ndim = draw(st.integers(min_dims, 4))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4)),
             *(draw(st.integers(2, 4)) for _ in range(ndim - 2)))
    return draw(arrays(shape, low=-3.0, high=3.0))


dtypes = st.sampled_from([np.float64, np.float32])


@given(x=batches(min_dims=2), dtype=dtypes, data=st.data())
def test_batch_norm_training_and_running_buffers(x, dtype, data):
    if x.ndim == 2 and x.shape[0] == 1:
        x = np.concatenate([x, x[::-1] * 0.5])
    c = x.shape[1]
    w, b = data.draw(arrays((c,))), data.draw(arrays((c,)))
    ours = [np.zeros(c, dtype), np.ones(c, dtype)]
    theirs = [torch.tensor(a) for a in ours]
    assert_same_as_torch(
        lambda x, w, b: F.batch_norm(x, *ours, w, b, training=True, momentum=0.3),
        lambda x, w, b: TF.batch_norm(x, *theirs, w, b, training=True, momentum=0.3),
        [x, w, b], dtype)
    for mine, torchs, name in zip(ours, theirs, ("running_mean", "running_var")):
        assert_close(mine, torchs, dtype, name)
    # then evaluation with those buffers
    assert_same_as_torch(lambda x, w, b: F.batch_norm(x, *ours, w, b),
                         lambda x, w, b: TF.batch_norm(x, *theirs, w, b), [x, w, b], dtype)


@given(x=batches(min_dims=2), dtype=dtypes, n_normalized=st.integers(1, 3), data=st.data())
def test_layer_norm(x, dtype, n_normalized, data):
    shape = x.shape[x.ndim - min(n_normalized, x.ndim - 1):]
    w, b = data.draw(arrays(shape)), data.draw(arrays(shape))
    assert_same_as_torch(lambda x, w, b: F.layer_norm(x, shape, w, b, eps=1e-3),
                         lambda x, w, b: TF.layer_norm(x, shape, w, b, eps=1e-3),
                         [x, w, b], dtype)


@given(x=batches(), dtype=dtypes, data=st.data())
def test_instance_norm_with_running_buffers(x, dtype, data):
    c = x.shape[1]
    w, b = data.draw(arrays((c,))), data.draw(arrays((c,)))
    ours = [np.zeros(c, dtype), np.ones(c, dtype)]
    theirs = [torch.tensor(a) for a in ours]
    assert_same_as_torch(lambda x, w, b: F.instance_norm(x, *ours, w, b, momentum=0.2),
                         lambda x, w, b: TF.instance_norm(x, *theirs, w, b, momentum=0.2),
                         [x, w, b], dtype)
    for mine, torchs, name in zip(ours, theirs, ("running_mean", "running_var")):
        assert_close(mine, torchs, dtype, name)
    assert_same_as_torch(
        lambda x, w, b: F.instance_norm(x, *ours, w, b, use_input_stats=False),
        lambda x, w, b: TF.instance_norm(x, *theirs, w, b, use_input_stats=False),
        [x, w, b], dtype)


@given(x=batches(min_dims=2), groups=st.integers(1, 3), dtype=dtypes, data=st.data())
def test_group_norm(x, groups, dtype, data):
    n, c, *spatial = x.shape
    assume(x.size > 1)  # one value in all: both refuse (tests/test_norm.py)
    x = data.draw(arrays((n, c * groups, *spatial)))
    w, b = data.draw(arrays((c * groups,))), data.draw(arrays((c * groups,)))
    assert_same_as_torch(lambda x, w, b: F.group_norm(x, groups, w, b),
                         lambda x, w, b: TF.group_norm(x, groups, w, b), [x, w, b], dtype)


# --- the layers: several training steps, then evaluation, buffers compared throughout ------

def copy_parameters(ours, theirs):
    """Give the torch layer our (randomised) parameters, via its state_dict."""
    theirs.load_state_dict({k: torch.tensor(v.copy()) for k, v in ours.state_dict().items()})


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("track", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_layers_over_training_steps_and_evaluation(momentum, track, dtype):
    rng = np.random.default_rng(0)
    torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
    for ours, theirs, shape in (
            (mg.nn.BatchNorm2d(3, momentum=momentum, track_running_stats=track, dtype=dtype),
             torch.nn.BatchNorm2d(3, momentum=momentum, track_running_stats=track,
                                  dtype=torch_dtype), (4, 3, 5, 5)),
            (mg.nn.BatchNorm1d(3, momentum=momentum, track_running_stats=track, dtype=dtype),
             torch.nn.BatchNorm1d(3, momentum=momentum, track_running_stats=track,
                                  dtype=torch_dtype), (6, 3))):
        ours.weight.data[...] = rng.uniform(0.5, 2, 3)
        ours.bias.data[...] = rng.standard_normal(3)
        copy_parameters(ours, theirs)
        for step in range(3):
            x = rng.standard_normal(shape) * (step + 1) + step
            assert_same_as_torch(lambda x: ours(x), lambda x: theirs(x), [x], dtype, seed=step)
            assert list(ours.state_dict()) == list(theirs.state_dict())
            for key, value in theirs.state_dict().items():
                assert_close(ours.state_dict()[key], value, dtype, key)
        ours.eval()
        theirs.eval()
        assert_same_as_torch(lambda x: ours(x), lambda x: theirs(x),
                             [rng.standard_normal(shape)], dtype)


@pytest.mark.parametrize("track", [True, False])
def test_instance_norm_layer(track):
    rng = np.random.default_rng(1)
    ours = mg.nn.InstanceNorm2d(3, affine=True, track_running_stats=track, dtype=np.float64)
    theirs = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=track,
                                     dtype=torch.float64)
    ours.weight.data[...] = rng.uniform(0.5, 2, 3)
    copy_parameters(ours, theirs)
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        for shape in ((2, 3, 4, 5), (3, 4, 5)):
            assert_same_as_torch(lambda x: ours(x), lambda x: theirs(x),
                                 [rng.standard_normal(shape) + 1], np.float64)
        for key, value in theirs.state_dict().items():
            assert_close(ours.state_dict()[key], value, np.float64, key)


def test_layer_norm_and_group_norm_layers():
    rng = np.random.default_rng(2)
    for ours, theirs in ((mg.nn.LayerNorm((4, 5), dtype=np.float64),
                          torch.nn.LayerNorm((4, 5), dtype=torch.float64)),
                         (mg.nn.GroupNorm(3, 6, dtype=np.float64),
                          torch.nn.GroupNorm(3, 6, dtype=torch.float64))):
        assert list(ours.state_dict()) == list(theirs.state_dict())
        ours.weight.data[...] = rng.uniform(0.5, 2, ours.weight.shape)
        ours.bias.data[...] = rng.standard_normal(ours.bias.shape)
        copy_parameters(ours, theirs)
        assert_same_as_torch(lambda x: ours(x), lambda x: theirs(x),
                             [rng.standard_normal((2, 6, 4, 5))], np.float64)


def test_fuse_conv_bn_matches_torch():
    rng = np.random.default_rng(3)
    conv = mg.nn.Conv2d(3, 4, 3, padding=1, dtype=np.float64)
    bn = mg.nn.BatchNorm2d(4, dtype=np.float64)
    bn.weight.data[...] = rng.uniform(0.5, 2, 4)
    bn.bias.data[...] = rng.standard_normal(4)
    bn.running_mean[...] = rng.standard_normal(4)
    bn.running_var[...] = rng.uniform(0.5, 2, 4)
    torch_conv = torch.nn.Conv2d(3, 4, 3, padding=1, dtype=torch.float64)
    torch_bn = torch.nn.BatchNorm2d(4, dtype=torch.float64)
    copy_parameters(conv, torch_conv)
    copy_parameters(bn, torch_bn)
    for module in (conv, bn, torch_conv, torch_bn):
        module.eval()
    fused = mg.nn.utils.fuse_conv_bn(conv, bn)
    torch_fused = torch.nn.utils.fusion.fuse_conv_bn_eval(torch_conv, torch_bn)
    for key, value in torch_fused.state_dict().items():
        assert_close(fused.state_dict()[key], value, np.float64, key)


@given(x=batches(min_dims=2), dtype=dtypes, data=st.data())
def test_a_weight_or_a_bias_alone(x, dtype, data):
    if x.shape[0] == 1:
        x = np.concatenate([x, x[::-1] * 0.5])
    # layer_norm over the last axis alone: with 2 values nearly equal, x_hat's gradient is
    # a difference of terms 1/std larger than itself, beyond float32's 1e-4
    assume(dtype == np.float64 or x.std(axis=-1).min() > 0.1)
    c, last = x.shape[1], x.shape[-1:]
    w, b = data.draw(arrays((c,))), data.draw(arrays(last))
    assert_same_as_torch(lambda x, w: F.group_norm(x, 1, w),
                         lambda x, w: TF.group_norm(x, 1, w), [x, w], dtype)
    assert_same_as_torch(lambda x, w: F.batch_norm(x, None, None, w, training=True),
                         lambda x, w: TF.batch_norm(x, None, None, w, training=True),
                         [x, w], dtype)
    # (PyTorch 2.13's group_norm cannot backward with a bias and no weight: "tensor does
    # not have a device", so the bias alone is compared through layer_norm)
    assert_same_as_torch(lambda x, b: F.layer_norm(x, last, bias=b),
                         lambda x, b: TF.layer_norm(x, last, bias=b), [x, b], dtype)
