"""Losses: hand-worked values, PyTorch's weighting rules written out, gradcheck over
hypothesis shapes for every differentiable argument, stability and argument errors."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.testing import arrays, assert_allclose, assert_gradcheck

REDUCTIONS = ["none", "mean", "sum"]


def log_softmax_rows(x):
    """log softmax over axis 1, written independently of minigrad."""
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def reduce_like_pytorch(rows, reduction, total_weight):
    """Class losses: "mean" divides by the summed weights of the targets not ignored."""
    if reduction == "none":
        return rows
    return rows.sum() if reduction == "sum" else rows.sum() / total_weight


@st.composite
def class_problems(draw, max_extra_dims=2):
    """logits (N, C, *), integer targets (N, *) with some ignored (-100), class weights (C,)."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=max_extra_dims)))
    logits = draw(arrays((n, c) + extra, low=-3.0, high=3.0))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    target = rng.integers(0, c, (n,) + extra)
    target[rng.random(target.shape) < 0.2] = -100
    weight = rng.uniform(0.5, 2.0, c)
    return logits, target, weight


# --- cross entropy and nll -------------------------------------------------------------------

def test_cross_entropy_by_hand():
    # logits (0, ln 3): softmax (1/4, 3/4). Target 1: -ln(3/4); target 0: -ln(1/4) = ln 4.
    logits = mg.Tensor(np.array([[0.0, np.log(3.0)], [0.0, np.log(3.0)]]), requires_grad=True)
    loss = F.cross_entropy(logits, np.array([1, 0]))
    assert_allclose(loss, (np.log(4 / 3) + np.log(4)) / 2)
    loss.backward()
    # d/dlogits = (softmax - onehot) / N
    assert_allclose(logits.grad, np.array([[0.25, -0.25], [-0.75, 0.75]]) / 2)


def test_cross_entropy_weights_and_smoothing_by_hand():
    # softmax (1/4, 3/4) in both rows; weights w = (2, 1); targets (1, 0); smoothing e = 0.5.
    # row 0: (1-e) w1 (-ln 3/4) + e/2 (w0 ln 4 + w1 ln 4/3);  row 1: (1-e) w0 ln 4 + the same.
    # mean divides by w[targets] summed = 1 + 2 = 3 (PyTorch's rule, also with smoothing).
    logits = mg.Tensor(np.array([[0.0, np.log(3.0)], [0.0, np.log(3.0)]]))
    smooth = 0.25 * (2 * np.log(4) + np.log(4 / 3))
    rows = np.array([0.5 * np.log(4 / 3) + smooth, 0.5 * 2 * np.log(4) + smooth])
    kwargs = dict(weight=np.array([2.0, 1.0]), label_smoothing=0.5)
    assert_allclose(F.cross_entropy(logits, np.array([1, 0]), reduction="none", **kwargs), rows)
    assert_allclose(F.cross_entropy(logits, np.array([1, 0]), **kwargs), rows.sum() / 3)


def test_cross_entropy_ignores_targets_and_gives_nan_when_all_are_ignored():
    logits = mg.Tensor(np.array([[1.0, 2.0], [3.0, -1.0]]), requires_grad=True)
    loss = F.cross_entropy(logits, np.array([1, -100]), reduction="none")
    assert_allclose(loss, [np.log(1 + np.e ** -1), 0.0])
    everything_ignored = F.cross_entropy(logits, np.array([-100, -100]))
    assert np.isnan(everything_ignored.item())  # 0/0, as PyTorch
    everything_ignored.backward()
    assert_allclose(logits.grad, np.zeros((2, 2)))  # and a zero gradient, as PyTorch


def test_cross_entropy_is_stable_for_huge_logits():
    logits = mg.Tensor(np.array([[1e4, 0.0], [0.0, -1e4]], dtype=np.float32), requires_grad=True)
    loss = F.cross_entropy(logits, np.array([1, 0]), reduction="sum")
    assert loss.item() == pytest.approx(1e4)  # -log softmax = 1e4 (+ e^-1e4) and 0
    loss.backward()
    assert np.isfinite(logits.grad).all()


@given(problem=class_problems(), reduction=st.sampled_from(REDUCTIONS),
       smoothing=st.sampled_from([0.0, 0.3]), weighted=st.booleans())
def test_cross_entropy_matches_the_formula_and_gradcheck(problem, reduction, smoothing,
                                                         weighted):
    logits, target, weight = problem
    weight = weight if weighted else np.ones(logits.shape[1])
    log_p = np.moveaxis(log_softmax_rows(logits), 1, -1)  # (N, *, C)
    keep = target != -100
    safe = np.where(keep, target, 0)
    picked = np.take_along_axis(log_p, safe[..., None], axis=-1)[..., 0]  # (N, *)
    c = logits.shape[1]
    rows = keep * ((1 - smoothing) * -weight[safe] * picked
                   - smoothing / c * (log_p * weight).sum(axis=-1))
    assume(reduction != "mean" or keep.any())  # 0/0 has its own test above
    expected = reduce_like_pytorch(rows, reduction, (weight[safe] * keep).sum())
    kwargs = dict(weight=weight if weighted else None, reduction=reduction,
                  label_smoothing=smoothing)
    assert_allclose(F.cross_entropy(mg.Tensor(logits), target, **kwargs), expected,
                    rtol=1e-10, atol=1e-12)
    assert_gradcheck(lambda x: F.cross_entropy(x, target, **kwargs),
                     mg.Tensor(logits, requires_grad=True))


@given(problem=class_problems(), reduction=st.sampled_from(REDUCTIONS))
def test_nll_loss_matches_the_formula_and_gradcheck(problem, reduction):
    log_probs, target, weight = problem
    keep = target != -100
    assume(reduction != "mean" or keep.any())
    safe = np.where(keep, target, 0)
    picked = np.take_along_axis(np.moveaxis(log_probs, 1, -1), safe[..., None], -1)[..., 0]
    rows = -weight[safe] * picked * keep
    expected = reduce_like_pytorch(rows, reduction, (weight[safe] * keep).sum())
    assert_allclose(F.nll_loss(mg.Tensor(log_probs), target, weight, reduction=reduction),
                    expected, rtol=1e-12, atol=1e-14)
    assert_gradcheck(lambda x: F.nll_loss(x, target, weight, reduction=reduction),
                     mg.Tensor(log_probs, requires_grad=True))


@given(problem=class_problems())
def test_cross_entropy_is_nll_of_log_softmax(problem):
    logits, target, weight = problem
    x = mg.Tensor(logits)
    assert_allclose(F.cross_entropy(x, target, weight, reduction="sum"),
                    F.nll_loss(F.log_softmax(x, axis=1), target, weight, reduction="sum"),
                    rtol=1e-12, atol=1e-12)


def test_cross_entropy_unbatched():
    # one sample (C,) with a scalar target: -log softmax(0, 0, 0)[2] = ln 3
    assert_allclose(F.cross_entropy(mg.Tensor(np.zeros(3)), np.array(2)), np.log(3.0))


def test_class_loss_argument_errors():
    logits = mg.Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"target: class index 3 is out of range for 3"):
        F.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"needs target of shape \(2,\).*\(2, 1\)"):
        F.cross_entropy(logits, np.zeros((2, 1), dtype=int))
    with pytest.raises(NotImplementedError, match="class-probability targets"):
        F.cross_entropy(logits, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"weight of shape \(2,\).*3 classes"):
        F.nll_loss(logits, np.array([0, 1]), weight=np.ones(2))
    with pytest.raises(ValueError, match="reduction must be"):
        F.cross_entropy(logits, np.array([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(logits, np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(NotImplementedError, match="weight"):
        F.cross_entropy(logits, np.array([0, 1]), weight=mg.Tensor(np.ones(3), requires_grad=True))


# --- regression losses -----------------------------------------------------------------------

@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       reduction=st.sampled_from(REDUCTIONS), data=st.data())
def test_regression_losses_match_their_formulas_and_gradcheck(shape, reduction, data):
    a, b = data.draw(arrays(shape)), data.draw(arrays(shape))
    d = a - b
    beta = 0.7
    cases = {
        "mse": (lambda x, y: F.mse_loss(x, y, reduction), d ** 2),
        "l1": (lambda x, y: F.l1_loss(x, y, reduction), np.abs(d)),
        "smooth_l1": (lambda x, y: F.smooth_l1_loss(x, y, reduction, beta=beta),
                      np.where(np.abs(d) < beta, 0.5 * d ** 2 / beta, np.abs(d) - 0.5 * beta)),
    }
    reduce = {"none": lambda v: v, "mean": np.mean, "sum": np.sum}[reduction]
    for name, (fn, elementwise) in cases.items():
        assert_allclose(fn(mg.Tensor(a), mg.Tensor(b)), reduce(elementwise), rtol=1e-12,
                        err_msg=name)
        if name == "l1" and np.abs(d).min() < 1e-4:
            continue  # too close to the kink of |d| for a finite difference
        assert_gradcheck(fn, mg.Tensor(a, requires_grad=True), mg.Tensor(b, requires_grad=True))


def test_smooth_l1_by_hand_and_beta_zero_is_l1():
    # d = (0.5, -2): 0.5 * 0.25 / 1 = 0.125 and 2 - 0.5 = 1.5
    x, y = mg.Tensor(np.array([0.5, -2.0])), mg.Tensor(np.zeros(2))
    assert_allclose(F.smooth_l1_loss(x, y, reduction="none"), [0.125, 1.5])
    assert_allclose(F.smooth_l1_loss(x, y, beta=0.0), F.l1_loss(x, y))
    with pytest.raises(ValueError, match="beta"):
        F.smooth_l1_loss(x, y, beta=-1.0)


def test_l1_gradient_at_zero_difference_is_zero():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    F.l1_loss(x, np.array([1.0, 0.0]), reduction="sum").backward()
    assert_allclose(x.grad, [0.0, 1.0])


def test_regression_losses_warn_when_shapes_broadcast():
    with pytest.warns(UserWarning, match=r"target shape \(3,\) differs from input shape"):
        F.mse_loss(mg.Tensor(np.zeros((2, 3))), mg.Tensor(np.zeros(3)))


# --- binary cross entropy with logits --------------------------------------------------------

@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       reduction=st.sampled_from(REDUCTIONS), weighted=st.booleans(), data=st.data())
def test_bce_with_logits_matches_the_formula_and_gradcheck(shape, reduction, weighted, data):
    x = data.draw(arrays(shape, low=-6.0, high=6.0))
    y = data.draw(arrays(shape, low=0.0, high=1.0))
    weight = data.draw(arrays(shape[-1:], low=0.5, high=2.0)) if weighted else None
    pos_weight = data.draw(arrays(shape[-1:], low=0.5, high=3.0)) if weighted else None
    sig = 1 / (1 + np.exp(-x))
    elementwise = -((1.0 if pos_weight is None else pos_weight) * y * np.log(sig)
                    + (1 - y) * np.log(1 - sig)) * (1.0 if weight is None else weight)
    reduce = {"none": lambda v: v, "mean": np.mean, "sum": np.sum}[reduction]

    def fn(x, y):
        return F.binary_cross_entropy_with_logits(x, y, weight, reduction, pos_weight)

    assert_allclose(fn(mg.Tensor(x), mg.Tensor(y)), reduce(elementwise), rtol=1e-10)
    assert_gradcheck(fn, mg.Tensor(x, requires_grad=True), mg.Tensor(y, requires_grad=True))


def test_bce_with_logits_is_stable_for_huge_logits():
    # x = 1000, y = 0: loss = -log(1 - sigmoid(1000)) = softplus(1000) = 1000 (log would be inf)
    x = mg.Tensor(np.array([1000.0, -1000.0], dtype=np.float32), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, np.array([0.0, 1.0], dtype=np.float32),
                                              reduction="none")
    assert_allclose(loss, [1000.0, 1000.0])
    loss.backward(np.ones(2, dtype=np.float32))
    assert_allclose(x.grad, [1.0, -1.0])  # sigmoid(x) - y


def test_bce_with_logits_argument_errors():
    x = mg.Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"target of shape \(3,\) must have the input's shape"):
        F.binary_cross_entropy_with_logits(x, np.zeros(3))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(x, np.zeros((2, 3)), pos_weight=np.ones(2))
