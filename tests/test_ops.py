"""Core ops over hypothesis-drawn shapes: forward against NumPy, backward against gradcheck,
and the equivalences of broadcasting."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import Tensor
from minigrad.testing import arrays, assert_gradcheck, broadcastable_shapes, shapes

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "maximum": (mg.maximum, np.maximum),
    "minimum": (mg.minimum, np.minimum),
}


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_ops_broadcast(name, data):
    op, reference = BINARY[name]
    shape_a, shape_b = data.draw(broadcastable_shapes(max_dims=3))
    kwargs = dict(min_magnitude=0.3) if name == "div" else {}
    a = data.draw(arrays(shape_a, **kwargs))
    b = data.draw(arrays(shape_b, **kwargs))
    if name in ("maximum", "minimum"):  # away from ties, where the gradient is split
        assume(np.abs(a - b).min(initial=1.0) > 1e-3)
    np.testing.assert_allclose(op(Tensor(a), Tensor(b)).data, reference(a, b))
    assert_gradcheck(op, Tensor(a, requires_grad=True), Tensor(b, requires_grad=True))


UNARY = {
    "neg": (lambda a: -a, np.negative, {}),
    "exp": (lambda a: a.exp(), np.exp, {}),
    "log": (lambda a: a.log(), np.log, dict(low=0.2, high=3.0)),
    "sqrt": (lambda a: a.sqrt(), np.sqrt, dict(low=0.2, high=3.0)),
    "abs": (lambda a: a.abs(), np.abs, dict(min_magnitude=0.05)),
    "relu": (lambda a: a.relu(), lambda x: np.maximum(x, 0), dict(min_magnitude=0.05)),
    "sigmoid": (lambda a: a.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), {}),
    "tanh": (lambda a: a.tanh(), np.tanh, {}),
    "clip": (lambda a: a.clip(-0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), dict(min_gap=0.02)),
    "pow 3": (lambda a: a ** 3, lambda x: x ** 3, {}),
    "rpow": (lambda a: 2.0 ** a, lambda x: 2.0 ** x, {}),
}


@pytest.mark.parametrize("name", UNARY)
@given(shape=shapes(max_dims=3), data=st.data())
def test_unary_ops(name, shape, data):
    op, reference, kwargs = UNARY[name]
    x = data.draw(arrays(shape, **kwargs))
    if name == "clip":  # keep away from the clip boundaries, where the derivative jumps
        x = np.where(np.abs(np.abs(x - 0.1) - 0.6) < 0.01, x + 0.05, x)
    np.testing.assert_allclose(op(Tensor(x)).data, reference(x), rtol=1e-12)
    assert_gradcheck(op, Tensor(x, requires_grad=True))


@given(shape=shapes(min_dims=1, max_dims=4), data=st.data())
def test_reductions(shape, data):
    x = data.draw(arrays(shape, min_gap=1e-3, low=-5, high=5))
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                               st.sets(st.integers(0, len(shape) - 1), min_size=1).map(tuple)))
    keepdim = data.draw(st.booleans())
    for method, numpy_name in (("sum", "sum"), ("mean", "mean"), ("amax", "max"),
                               ("amin", "min")):
        expected = getattr(np, numpy_name)(x, axis=axis, keepdims=keepdim)
        got = getattr(Tensor(x), method)(axis, keepdim)
        np.testing.assert_allclose(got.data, expected, rtol=1e-12)
        assert_gradcheck(lambda t: getattr(t, method)(axis, keepdim),
                         Tensor(x, requires_grad=True))
    # NumPy's spellings stay accepted as aliases
    np.testing.assert_allclose(Tensor(x).sum(axis=axis, keepdims=keepdim).data,
                               np.sum(x, axis=axis, keepdims=keepdim), rtol=1e-12)
    count = x.size if axis is None else np.prod(np.array(x.shape)[np.array(axis)])
    if count > 1:  # var's default is the unbiased estimate, NumPy's ddof=1
        np.testing.assert_allclose(Tensor(x).var(axis, keepdim=keepdim).data,
                                   np.var(x, axis=axis, ddof=1, keepdims=keepdim), rtol=1e-10)
        assert_gradcheck(lambda t: t.var(axis, keepdim=keepdim),
                         Tensor(x, requires_grad=True))


def test_max_ties_share_the_gradient():
    # amax semantics: the two tied maxima each get half
    x = Tensor([1.0, 3.0, 3.0, 2.0], dtype=np.float64, requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0, 0.5, 0.5, 0])


def test_argmax_argmin():
    x = Tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    np.testing.assert_array_equal(x.argmax(axis=1).data, [1, 0])
    np.testing.assert_array_equal(x.argmin(axis=1).data, [0, 1])
    assert x.argmax().item() == 3


@given(shape=shapes(min_dims=1, max_dims=4, max_side=4), data=st.data())
def test_movement_ops(shape, data):
    x = data.draw(arrays(shape))
    perm = data.draw(st.permutations(range(len(shape))))
    checks = [
        (lambda t: t.reshape(-1), x.reshape(-1)),
        (lambda t: t.permute(*perm), np.transpose(x, perm)),
        (lambda t: t.transpose(0, -1), np.swapaxes(x, 0, -1)),
        (lambda t: t.T, x.T),
        (lambda t: t.flatten(), x.reshape(-1)),
        (lambda t: t.unsqueeze(-1), x[..., None]),
        (lambda t: t.unsqueeze(0).squeeze(0), x),
        (lambda t: mg.pad(t, 1), np.pad(x, 1)),
    ]
    for op, expected in checks:
        np.testing.assert_array_equal(op(Tensor(x)).data, expected)
        assert_gradcheck(op, Tensor(x, requires_grad=True))


@given(shape=shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_indexing(shape, data):
    x = data.draw(arrays(shape))
    first = data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=6))
    index_sets = [np.array(first), (slice(None, None, 2),), (Ellipsis, 0), (np.array(first), ...)]
    for index in index_sets:
        np.testing.assert_array_equal(Tensor(x)[index].data, x[index])
        assert_gradcheck(lambda t: t[index], Tensor(x, requires_grad=True))


def test_repeated_indices_accumulate():
    x = Tensor(np.zeros(4), requires_grad=True)
    x[[0, 2, 2, 2, 3]].sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 0, 3, 1])


@given(data=st.data())
def test_concatenate_stack_where(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4))
    a, b = data.draw(arrays(shape)), data.draw(arrays(shape))
    axis = data.draw(st.integers(0, len(shape) - 1))
    cond = a > b
    cases = [
        (lambda s, t: mg.concatenate([s, t], axis), np.concatenate([a, b], axis)),
        (lambda s, t: mg.stack([s, t], axis), np.stack([a, b], axis)),
        (lambda s, t: mg.where(cond, s, t), np.where(cond, a, b)),
    ]
    for op, expected in cases:
        np.testing.assert_array_equal(op(Tensor(a), Tensor(b)).data, expected)
        assert_gradcheck(op, Tensor(a, requires_grad=True), Tensor(b, requires_grad=True))


@given(data=st.data())
def test_matmul_shapes(data):
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = data.draw(shapes(max_dims=2, max_side=3))
    pairs = [((k,), (k,)), ((k,), (k, m)), ((n, k), (k,)), (batch + (n, k), (k, m)),
             ((n, k), batch + (k, m)), (batch + (n, k), batch + (k, m))]
    for shape_a, shape_b in pairs:
        a, b = data.draw(arrays(shape_a)), data.draw(arrays(shape_b))
        np.testing.assert_allclose((Tensor(a) @ Tensor(b)).data, a @ b, rtol=1e-12)
        assert_gradcheck(lambda s, t: s @ t, Tensor(a, requires_grad=True),
                         Tensor(b, requires_grad=True))


@given(data=st.data())
def test_broadcast_gradient_equals_explicit_reduction(data):
    # d/da sum(a * b) with a broadcast against b == sum of b over the broadcast axes
    shape_a, shape_b = data.draw(broadcastable_shapes(min_dims=1, max_dims=3))
    a, b = data.draw(arrays(shape_a)), data.draw(arrays(shape_b))
    ta = Tensor(a, requires_grad=True)
    (ta * Tensor(b)).sum().backward()
    full = np.broadcast_shapes(a.shape, b.shape)
    expected = np.broadcast_to(b, full)
    expected = expected.sum(axis=tuple(range(len(full) - a.ndim))) if len(full) > a.ndim \
        else expected
    expected = expected.sum(axis=tuple(i for i, s in enumerate(a.shape) if s == 1),
                            keepdims=True)
    np.testing.assert_allclose(ta.grad, expected, rtol=1e-12)


def test_pow_with_tensor_exponent_and_zero_base():
    # d/db a^b = a^b log a, defined as 0 at a = 0 (0^b is flat in b for b > 0)
    a = Tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    b = Tensor([2.0, 3.0], dtype=np.float64, requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(b.grad, [0.0, 8 * np.log(2)])
    np.testing.assert_allclose(a.grad, [0.0, 12.0])


@pytest.mark.parametrize("call, match", [
    (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3))), r"matmul: shapes \(2, 3\)"),
    (lambda: Tensor(np.ones((2, 3))).reshape(4, 2), r"reshape.*\(2, 3\).*\(4, 2\)"),
    (lambda: Tensor(np.ones((2, 3))).permute(0, 0), "permutation"),
    (lambda: Tensor(np.ones((2, 3))).sum(axis=2), "out of range"),
    (lambda: Tensor(np.ones((2, 3))).unsqueeze(3), "out of range"),
    (lambda: mg.concatenate([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))]), "differ"),
    (lambda: mg.stack([Tensor(np.ones(2)), Tensor(np.ones(3))]), "same shape"),
    (lambda: mg.pad(Tensor(np.ones((2, 3))), ((1, 1), (1, 1), (1, 1))), "pad_width"),
    (lambda: Tensor(np.ones(3)).clip(), "min and max"),
])
def test_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_var_without_degrees_of_freedom_warns_and_divides_by_zero():
    # as torch.var: the sum of squares over max(0, n - correction) = 0, so 0/0 or x/0
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(Tensor(np.ones(3)).var(ddof=3).item())
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert Tensor([1.0, 2.0, 4.0]).var(ddof=4).item() == np.inf
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert np.isnan(Tensor([5.0]).var().item())  # one element, unbiased


def test_index_error_names_the_shape():
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        Tensor(np.ones((2, 3)))[5]
