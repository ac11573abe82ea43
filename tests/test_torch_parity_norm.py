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
