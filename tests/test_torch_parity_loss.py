"""Losses against PyTorch: values and gradients, float64 (1e-8 relative) and float32 (1e-4),
every reduction, class weights, ignore_index, label smoothing, pos_weight."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.testing import arrays

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TOL = {np.float64: 1e-8, np.float32: 1e-4}
dtypes = st.sampled_from([np.float64, np.float32])
reductions = st.sampled_from(["none", "mean", "sum"])


def assert_same_as_torch(mg_fn, torch_fn, arrays_, dtype):
    """Forward both, backward a random upstream gradient, compare values and gradients."""
    ours = [mg.Tensor(a.astype(dtype), requires_grad=True) for a in arrays_]
    theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays_]
    out, expected = mg_fn(*ours), torch_fn(*theirs)
    tol = TOL[dtype]
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=tol, atol=tol)
    upstream = np.random.default_rng(0).uniform(0.5, 1.5, out.shape).astype(dtype)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=tol, atol=tol,
                                   err_msg=f"gradient of argument {i}")


@st.composite
def class_problems(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    logits = draw(arrays((n, c) + extra, low=-4.0, high=4.0))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    target = rng.integers(0, c, (n,) + extra)
    target[rng.random(target.shape) < 0.2] = 1  # ignored when ignore_index is 1
    target.flat[0] = 0  # at least one kept target, so "mean" is not 0/0
    ignore_index = draw(st.sampled_from([-100, 1]))
    weight = rng.uniform(0.5, 2.0, c) if draw(st.booleans()) else None
    return logits, target, ignore_index, weight


@given(problem=class_problems(), reduction=reductions, smoothing=st.sampled_from([0.0, 0.25]),
       dtype=dtypes)
def test_cross_entropy(problem, reduction, smoothing, dtype):
    logits, target, ignore_index, weight = problem
    ours = dict(weight=None if weight is None else weight.astype(dtype),
                ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    theirs = dict(ours, weight=None if weight is None else torch.tensor(weight.astype(dtype)))
    assert_same_as_torch(lambda x: F.cross_entropy(x, target, **ours),
                         lambda x: TF.cross_entropy(x, torch.tensor(target), **theirs),
                         [logits], dtype)


@given(problem=class_problems(), reduction=reductions, dtype=dtypes)
def test_nll_loss(problem, reduction, dtype):
    log_probs, target, ignore_index, weight = problem
    ours = dict(weight=None if weight is None else weight.astype(dtype),
                ignore_index=ignore_index, reduction=reduction)
    theirs = dict(ours, weight=None if weight is None else torch.tensor(weight.astype(dtype)))
    assert_same_as_torch(lambda x: F.nll_loss(x, target, **ours),
                         lambda x: TF.nll_loss(x, torch.tensor(target), **theirs),
                         [log_probs], dtype)


shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@given(shape=shapes, reduction=reductions, dtype=dtypes, data=st.data())
def test_regression_losses(shape, reduction, dtype, data):
    a, b = data.draw(arrays(shape)), data.draw(arrays(shape))
    pairs = [(F.mse_loss, TF.mse_loss, {}), (F.l1_loss, TF.l1_loss, {}),
             (F.smooth_l1_loss, TF.smooth_l1_loss, dict(beta=0.5)),
             (F.smooth_l1_loss, TF.smooth_l1_loss, dict(beta=0.0))]
    for ours, theirs, kwargs in pairs:
        assert_same_as_torch(lambda x, y: ours(x, y, reduction=reduction, **kwargs),
                             lambda x, y: theirs(x, y, reduction=reduction, **kwargs),
                             [a, b], dtype)


@given(shape=shapes, reduction=reductions, dtype=dtypes, weighted=st.booleans(),
       data=st.data())
def test_binary_cross_entropy_with_logits(shape, reduction, dtype, weighted, data):
    x = data.draw(arrays(shape, low=-20.0, high=20.0))
    y = data.draw(arrays(shape, low=0.0, high=1.0))
    weight = data.draw(arrays(shape[-1:], low=0.5, high=2.0)) if weighted else None
    pos_weight = data.draw(arrays(shape[-1:], low=0.5, high=3.0)) if weighted else None

    def as_torch(a):
        return None if a is None else torch.tensor(a.astype(dtype))

    def as_ours(a):
        return None if a is None else a.astype(dtype)

    assert_same_as_torch(
        lambda x, y: F.binary_cross_entropy_with_logits(
            x, y, as_ours(weight), reduction, as_ours(pos_weight)),
        lambda x, y: TF.binary_cross_entropy_with_logits(
            x, y, as_torch(weight), reduction=reduction, pos_weight=as_torch(pos_weight)),
        [x, y], dtype)
