"""Normalisations: values from the textbook formula, gradients by gradcheck, running buffers
by hand, the equivalences between the four layers, and the two kernel paths agreeing."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.kernels import jit, reference
from minigrad.testing import arrays, assert_allclose, assert_gradcheck

EPS = 1e-5
# the `jit` fixture only flips a global switch, so sharing it across examples is what we want
with_jit_fixture = settings(suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])


def standardize(x, axes, eps=EPS):
    """The textbook formula, written independently of minigrad: (x - mean) / sqrt(var + eps)."""
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


@st.composite
def nchw(draw, min_dims=3, max_dims=4, min_batch=1, max_side=4):
    """(N, C, *spatial) with the given number of dimensions."""
    ndim = draw(st.integers(min_dims, max_dims))
    return (draw(st.integers(min_batch, 3)), draw(st.integers(1, 4)),
            *(draw(st.integers(1, max_side)) for _ in range(ndim - 2)))


def leaves(*arrays_):
    return [mg.Tensor(a, requires_grad=True) for a in arrays_]


# --- batch norm ------------------------------------------------------------------------------

@given(shape=nchw(min_dims=2), data=st.data())
@with_jit_fixture
def test_batch_norm_training_values_and_gradients(jit, shape, data):
    if np.prod(shape) // shape[1] < 2:
        shape = (shape[0] + 1,) + shape[1:]
    x = data.draw(arrays(shape))
    w, b = data.draw(arrays((shape[1],))), data.draw(arrays((shape[1],)))
    axes = (0, *range(2, len(shape)))
    channel = (-1,) + (1,) * (len(shape) - 2)
    out = F.batch_norm(mg.Tensor(x), None, None, mg.Tensor(w), mg.Tensor(b), training=True)
    assert_allclose(out, standardize(x, axes) * w.reshape(channel) + b.reshape(channel),
                    rtol=1e-10, atol=1e-12)
    assert_gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                     *leaves(x, w, b))


@given(shape=nchw(min_dims=2), momentum=st.sampled_from([0.1, 0.5, 1.0]), data=st.data())
def test_batch_norm_running_buffers_use_the_unbiased_variance(shape, momentum, data):
    if np.prod(shape) // shape[1] < 2:
        shape = (shape[0] + 1,) + shape[1:]
    x = data.draw(arrays(shape))
    axes = (0, *range(2, len(shape)))
    running_mean, running_var = np.full(shape[1], 0.5), np.full(shape[1], 2.0)
    F.batch_norm(mg.Tensor(x), running_mean, running_var, training=True, momentum=momentum)
    assert_allclose(running_mean, (1 - momentum) * 0.5 + momentum * x.mean(axis=axes))
    assert_allclose(running_var, (1 - momentum) * 2.0 + momentum * x.var(axis=axes, ddof=1))


def test_batch_norm_running_update_by_hand():
    # one channel holding 1, 2, 3, 6: mean 3, unbiased variance (4 + 1 + 0 + 9) / 3 = 14/3;
    # momentum 0.1 from (0, 1): mean 0.3, variance 0.9 + 0.1 * 14/3 = 1.3666...
    running_mean, running_var = np.zeros(1), np.ones(1)
    F.batch_norm(mg.Tensor(np.array([[1.0], [2.0], [3.0], [6.0]])), running_mean, running_var,
                 training=True)
    assert_allclose(running_mean, [0.3])
    assert_allclose(running_var, [0.9 + 1.4 / 3])


@given(shape=nchw(min_dims=2), data=st.data())
def test_batch_norm_evaluation_is_the_affine_map_of_the_running_stats(shape, data):
    x = data.draw(arrays(shape))
    w, b, running_mean = (data.draw(arrays((shape[1],))) for _ in range(3))
    running_var = data.draw(arrays((shape[1],), low=0.5, high=2.0))
    channel = (-1,) + (1,) * (len(shape) - 2)
    scale = w / np.sqrt(running_var + EPS)
    shift = b - running_mean * scale
    out = F.batch_norm(mg.Tensor(x), running_mean, running_var, mg.Tensor(w), mg.Tensor(b))
    assert_allclose(out, x * scale.reshape(channel) + shift.reshape(channel), rtol=1e-10,
                    atol=1e-12)
    assert_gradcheck(lambda x, w, b: F.batch_norm(x, running_mean, running_var, w, b),
                     *leaves(x, w, b))


@given(shape=nchw(min_dims=4, max_dims=4), data=st.data())
def test_batch_norm_2d_equals_batch_norm_1d_on_the_pixels_as_rows(shape, data):
    if np.prod(shape) // shape[1] < 2:
        shape = (2,) + shape[1:]
    n, c, h, w = shape
    x = data.draw(arrays(shape))
    weight, bias = data.draw(arrays((c,))), data.draw(arrays((c,)))
    rows = x.transpose(0, 2, 3, 1).reshape(n * h * w, c)  # (N*H*W, C)
    stats_2d = [np.zeros(c), np.ones(c)]
    stats_1d = [np.zeros(c), np.ones(c)]
    out_2d = F.batch_norm(mg.Tensor(x), *stats_2d, weight, bias, training=True)
    out_1d = F.batch_norm(mg.Tensor(rows), *stats_1d, weight, bias, training=True)
    assert_allclose(out_2d.data.transpose(0, 2, 3, 1).reshape(n * h * w, c), out_1d,
                    rtol=1e-10, atol=1e-12)
    for a, b in zip(stats_2d, stats_1d):
        assert_allclose(a, b, rtol=1e-12, atol=1e-15)  # a mean near 0: absolute rounding


def test_batch_norm_rejects_one_value_per_channel_in_training():
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        F.batch_norm(mg.Tensor(np.ones((1, 3))), None, None, training=True)
    F.batch_norm(mg.Tensor(np.ones((1, 3))), np.zeros(3), np.ones(3))  # fine in evaluation


def test_batch_norm_argument_errors():
    x = mg.Tensor(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"running_mean.*evaluation"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match=r"weight of shape \(4,\).*\(3,\)"):
        F.batch_norm(x, None, None, weight=np.ones(4), training=True)
    with pytest.raises(ValueError, match=r"running_var of shape \(2,\)"):
        F.batch_norm(x, np.zeros(3), np.ones(2), training=True)
    with pytest.raises(TypeError, match="momentum"):
        F.batch_norm(x, np.zeros(3), np.ones(3), training=True, momentum=None)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.batch_norm(mg.Tensor(np.ones(3)), None, None, training=True)


# --- layer, instance and group norm --------------------------------------------------------

@given(shape=nchw(min_dims=2), n_normalized=st.integers(1, 3), data=st.data())
@with_jit_fixture
def test_layer_norm_values_and_gradients(jit, shape, n_normalized, data):
    n_normalized = min(n_normalized, len(shape))
    normalized = shape[len(shape) - n_normalized:]
    assume(np.prod(normalized) >= 2)
    x, w, b = data.draw(arrays(shape)), data.draw(arrays(normalized)), data.draw(arrays(normalized))
    axes = tuple(range(len(shape) - n_normalized, len(shape)))
    assert_allclose(F.layer_norm(mg.Tensor(x), normalized, w, b), standardize(x, axes) * w + b,
                    rtol=1e-10, atol=1e-12)
    assert_gradcheck(lambda x, w, b: F.layer_norm(x, normalized, w, b), *leaves(x, w, b))


@given(shape=nchw(), data=st.data())
@with_jit_fixture
def test_instance_norm_values_and_gradients(jit, shape, data):
    if np.prod(shape[2:]) < 2:
        shape = shape[:2] + (2,) + shape[3:]
    x = data.draw(arrays(shape))
    w, b = data.draw(arrays((shape[1],))), data.draw(arrays((shape[1],)))
    channel = (-1,) + (1,) * (len(shape) - 2)
    expected = standardize(x, tuple(range(2, len(shape)))) * w.reshape(channel) + b.reshape(channel)
    assert_allclose(F.instance_norm(mg.Tensor(x), weight=w, bias=b), expected, rtol=1e-10,
                    atol=1e-12)
    assert_gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), *leaves(x, w, b))


def test_instance_norm_running_buffers_average_the_instances():
    # two instances of one channel: (1, 3) with mean 2 and unbiased variance 2, and (0, 4)
    # with mean 2 and unbiased variance 8. Averages 2 and 5; momentum 0.5 from (0, 1): 1, 3.
    x = mg.Tensor(np.array([[[1.0, 3.0]], [[0.0, 4.0]]]))
    running_mean, running_var = np.zeros(1), np.ones(1)
    F.instance_norm(x, running_mean, running_var, momentum=0.5)
    assert_allclose(running_mean, [1.0])
    assert_allclose(running_var, [3.0])
    # use_input_stats=False normalises with them: (x - 1) / sqrt(3 + eps)
    out = F.instance_norm(x, running_mean, running_var, use_input_stats=False)
    assert_allclose(out, (x.data - 1.0) / np.sqrt(3.0 + EPS))


@given(shape=nchw(min_dims=2), groups=st.integers(1, 4), data=st.data())
@with_jit_fixture
def test_group_norm_values_and_gradients(jit, shape, groups, data):
    n, c = shape[:2]
    shape = (n, c * groups) + shape[2:]
    assume(c * np.prod(shape[2:]) >= 2)
    x = data.draw(arrays(shape))
    w, b = data.draw(arrays((shape[1],))), data.draw(arrays((shape[1],)))
    grouped = standardize(x.reshape(n, groups, -1), (2,)).reshape(shape)  # (N, G, C/G * H * W)
    channel = (-1,) + (1,) * (len(shape) - 2)
    assert_allclose(F.group_norm(mg.Tensor(x), groups, w, b),
                    grouped * w.reshape(channel) + b.reshape(channel), rtol=1e-10, atol=1e-12)
    assert_gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b), *leaves(x, w, b))


@given(shape=nchw(), data=st.data())
def test_group_norm_with_one_group_is_layer_norm_over_c_h_w(shape, data):
    assume(np.prod(shape[1:]) >= 2)
    x = mg.Tensor(data.draw(arrays(shape)))
    assert_allclose(F.group_norm(x, 1), F.layer_norm(x, shape[1:]), rtol=1e-12, atol=1e-13)


@given(shape=nchw(), data=st.data())
def test_group_norm_with_one_group_per_channel_is_instance_norm(shape, data):
    assume(np.prod(shape[2:]) >= 2)
    x = mg.Tensor(data.draw(arrays(shape)))
    w, b = data.draw(arrays((shape[1],))), data.draw(arrays((shape[1],)))
    assert_allclose(F.group_norm(x, shape[1], w, b), F.instance_norm(x, weight=w, bias=b),
                    rtol=1e-12, atol=1e-13)


def test_norm_argument_errors():
    x = mg.Tensor(np.ones((2, 6, 3)))
    with pytest.raises(ValueError, match=r"num_groups=4 must divide the 6 channels"):
        F.group_norm(x, 4)
    with pytest.raises(ValueError, match=r"does not end with normalized_shape \(6,\)"):
        F.layer_norm(x, 6)
    with pytest.raises(ValueError, match=r"weight of shape \(3,\).*expected \(6, 3\)"):
        F.layer_norm(x, (6, 3), weight=np.ones(3))
    with pytest.raises(ValueError, match=r"more than 1 spatial element.*\(2, 6, 1\)"):
        F.instance_norm(mg.Tensor(np.ones((2, 6, 1))))
    with pytest.raises(ValueError, match="use_input_stats=False"):
        F.instance_norm(x, use_input_stats=False)


def test_normalize_keeps_float32():
    x = mg.Tensor(np.arange(12, dtype=np.float32).reshape(2, 3, 2), requires_grad=True)
    out = F.group_norm(x, 3)
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_normalize_is_stable_when_the_mean_is_large_against_the_spread(jit):
    # values 1e8 + (-1, 0, 1): the one-pass E[x^2] - E[x]^2 would lose every digit of the
    # variance 2/3 in float64; two passes keep it, so the output is (-1, 0, 1) / sqrt(2/3).
    x = mg.Tensor(1e8 + np.array([[-1.0, 0.0, 1.0]]))
    assert_allclose(F.layer_norm(x, 3, eps=0.0), np.array([[-1.0, 0.0, 1.0]]) / np.sqrt(2 / 3),
                    rtol=1e-7)


# --- the two kernel paths --------------------------------------------------------------------

@pytest.mark.parametrize("kernels", [reference, jit], ids=["reference", "jit"])
def test_norm_moments_are_exact_with_an_outlier_first(kernels):
    # 1e8 + (1000, 0, 1, -1): the Numba kernel shifts by the first value, the outlier.
    # Mean 1e8 + 250; deviations 750, -250, -249, -251; variance
    # (562500 + 62500 + 62001 + 63001) / 4 = 187500.5.
    x = (1e8 + np.array([1000.0, 0.0, 1.0, -1.0])).reshape(1, 1, 4)
    mean, var = kernels.norm_moments(x)
    assert_allclose(mean, [1e8 + 250], rtol=1e-15)
    assert_allclose(var, [187500.5], rtol=1e-12)


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def assert_norm_kernels_agree(x, grad, table, data):
    """The Numba moments, norm_affine, normalize_affine and norm_affine_backward against the
    references, with parameter tables of shape `table` (Kp, Bp)."""
    dtype = x.dtype
    mean, var = reference.norm_moments(x)
    for ref, got in zip((mean, var), jit.norm_moments(x)):
        assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    weight, bias = data.draw(arrays(table, dtype=dtype)), data.draw(arrays(table, dtype=dtype))
    tol = 1e-5 if dtype == np.float32 else 1e-10
    expected = reference.normalize_affine(x, weight, bias, EPS)
    got = jit.normalize_affine(x, weight, bias, EPS)
    assert got[0].dtype == expected[0].dtype == dtype
    assert_allclose(got[0], expected[0], rtol=tol, atol=tol * np.abs(expected[0]).max(initial=1))
    for ref, result in zip(expected[1:], got[1:]):  # mean and var, float64 on both paths
        assert result.dtype == np.float64
        assert_allclose(result, ref, rtol=1e-12, atol=1e-12)
    mean, rstd = mean.astype(dtype), (1 / np.sqrt(var + EPS)).astype(dtype)
    y = reference.norm_affine(x, mean, rstd, weight, bias)
    assert_allclose(jit.norm_affine(x, mean, rstd, weight, bias), y, rtol=tol,
                    atol=tol * np.abs(y).max(initial=1.0))
    expected = reference.norm_affine_backward(grad, x, mean, rstd, weight)
    got = jit.norm_affine_backward(grad, x, mean, rstd, weight)
    assert got[0].dtype == expected[0].dtype == dtype
    for ref, result in zip(expected, got):
        assert result.shape == ref.shape
        assert_allclose(result, ref, rtol=tol, atol=tol * np.abs(ref).max(initial=1.0))


@given(view=st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 12)),
       dtype=st.sampled_from([np.float32, np.float64]), data=st.data())
def test_jit_and_reference_norm_kernels_agree(view, dtype, data):
    # A = 1 takes the Numba kernels' one-pass path (each slice a row), A > 1 the other; the
    # tables range over every (Kp, Bp) that divides (K, B): one entry per row (Bp = 1), per
    # element (Bp = B) and per run in between (GroupNorm's channels)
    x = data.draw(arrays(view, dtype=dtype)) * 3 + 5
    grad = data.draw(arrays(view, dtype=dtype))
    table = (data.draw(st.sampled_from(divisors(view[1]))),
             data.draw(st.sampled_from(divisors(view[2]))))
    assert_norm_kernels_agree(x, grad, table, data)


@given(data=st.data())
@settings(max_examples=5)
def test_jit_and_reference_norm_kernels_agree_on_long_rows(data):
    # rows long enough to fill several SIMD blocks, odd and even, on both Numba paths
    rng = np.random.default_rng(0)
    view = data.draw(st.sampled_from([(1, 3, 9001), (2, 3, 9000), (1, 4, 3 * 1027)]))
    x = rng.standard_normal(view).astype(np.float32)
    grad = rng.standard_normal(x.shape).astype(np.float32)
    table = (data.draw(st.sampled_from(divisors(view[1]))),
             data.draw(st.sampled_from(divisors(view[2])[:3] + [view[2]])))
    assert_norm_kernels_agree(x, grad, table, data)


@pytest.mark.parametrize("kernels", [reference, jit], ids=["reference", "jit"])
def test_norm_kernels_share_a_table_entry_along_its_run(kernels):
    # one slice (A = K = 1) of 4 values (1, 3, 5, 7): mean 4, variance (9 + 1 + 1 + 9) / 4 = 5;
    # a table of 2 entries covers runs of 2: weight (2, -1), bias (0, 1) give
    # x_hat * 2 for (1, 3) and 1 - x_hat for (5, 7). Backward with g = (1, 1, 1, 1):
    # dbias = (2, 2); dweight = sums of x_hat over each run = (-4, 4) / sqrt(5); g_hat =
    # (2, 2, -1, -1), mean 1/2, mean(g_hat * x_hat) = (2 * -4 - 4) / (4 sqrt(5)) = -3/sqrt(5),
    # so dx = (g_hat - 1/2 + x_hat * 3/sqrt(5)) / sqrt(5).
    x = np.array([1.0, 3.0, 5.0, 7.0]).reshape(1, 1, 4)
    x_hat = (x.ravel() - 4) / np.sqrt(5)
    weight, bias = np.array([[2.0, -1.0]]), np.array([[0.0, 1.0]])
    y, mean, var = kernels.normalize_affine(x, weight, bias, 0.0)
    assert_allclose(mean, [4.0])
    assert_allclose(var, [5.0])
    assert_allclose(y.ravel(), np.concatenate([2 * x_hat[:2], 1 - x_hat[2:]]))
    rstd = np.array([1 / np.sqrt(5)])
    dx, dweight, dbias = kernels.norm_affine_backward(np.ones_like(x), x, mean, rstd, weight)
    assert_allclose(dbias, [[2.0, 2.0]])
    assert_allclose(dweight, [[-4 / np.sqrt(5), 4 / np.sqrt(5)]])
    g_hat = np.array([2.0, 2.0, -1.0, -1.0])
    assert_allclose(dx.ravel(), (g_hat - 0.5 + x_hat * 3 / np.sqrt(5)) / np.sqrt(5))


@given(shape=nchw(min_dims=3), groups=st.integers(1, 3), data=st.data())
@with_jit_fixture
def test_normalize_with_parameters_per_channel_of_a_group(jit, shape, groups, data):
    # GroupNorm's layout for `normalize`: x (N, G, C/G, H*W), statistics over (C/G, H*W),
    # weight and bias (G, C/G) repeated over H*W: each table entry covers a run of H*W
    n, c, spatial = shape[0], shape[1], int(np.prod(shape[2:]))
    grouped = (n, groups, c, spatial)
    assume(c * spatial >= 2)
    x = data.draw(arrays(grouped))
    w, b = data.draw(arrays((groups, c))), data.draw(arrays((groups, c)))
    expected = standardize(x, (2, 3)) * w[..., None] + b[..., None]
    y, mean, var = mg.ops.normalize(mg.Tensor(x), (2, 3), w, b, 1, EPS)
    assert_allclose(y, expected, rtol=1e-10, atol=1e-12)
    assert_allclose(mean, x.mean(axis=(2, 3)).ravel(), rtol=1e-12, atol=1e-12)
    assert_allclose(var, x.var(axis=(2, 3)).ravel(), rtol=1e-10, atol=1e-12)
    assert_gradcheck(lambda x, w, b: mg.ops.normalize(x, (2, 3), w, b, 1, EPS)[0],
                     *leaves(x, w, b))


def test_normalize_places_the_parameters_or_says_why_not():
    x = mg.Tensor(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"shape \(3,\) do not fit the axes 2..2"):
        mg.ops.normalize(x, (2,), np.ones(3), None, 2)
    # per (sample, channel) statistics with parameters along the samples: they do not repeat
    with pytest.raises(ValueError, match=r"must lie along trailing kept axes"):
        mg.ops.normalize(x, (2,), np.ones(2), None, 0)
    # per sample over (C, H, W)-like axes with parameters along the last axis alone: they
    # would repeat along the axis before theirs, which the (Kp, Bp) table cannot say
    with pytest.raises(ValueError, match=r"must lie along trailing kept axes"):
        mg.ops.normalize(x, (1, 2), np.ones(4), None, 2)


def test_group_norm_rejects_a_single_value_like_pytorch():
    with pytest.raises(ValueError, match=r"more than 1 value per group.*\(1, 2, 1\)"):
        F.group_norm(mg.Tensor(np.ones((1, 2, 1))), 2)
    # two samples of one value per group are accepted (and normalise to 0), as in PyTorch
    assert_allclose(F.group_norm(mg.Tensor(np.ones((2, 2, 1))), 2), np.zeros((2, 2, 1)))


# --- the affine step: scale_shift --------------------------------------------------------------

@st.composite
def scale_shift_cases(draw):
    """(x shape, axis, parameter shape): the parameters span x's axes axis, axis + 1, ..."""
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple))
    axis = draw(st.integers(0, len(shape) - 1))
    n_axes = draw(st.integers(1, len(shape) - axis))
    return shape, axis, shape[axis:axis + n_axes]


@given(case=scale_shift_cases(), which=st.sampled_from(["both", "weight", "bias"]),
       data=st.data())
@with_jit_fixture
def test_scale_shift_values_and_gradients(jit, case, which, data):
    shape, axis, param_shape = case
    x = data.draw(arrays(shape))
    w, b = data.draw(arrays(param_shape)), data.draw(arrays(param_shape))
    w, b = (w if which != "bias" else None), (b if which != "weight" else None)
    # broadcasting by hand: the parameters get a 1 for every axis of x after theirs
    trailing = (1,) * (len(shape) - axis - len(param_shape))
    expected = x * (1.0 if w is None else w.reshape(param_shape + trailing))
    expected = expected + (0.0 if b is None else b.reshape(param_shape + trailing))
    assert_allclose(mg.ops.scale_shift(mg.Tensor(x), w, b, axis), expected, rtol=1e-14,
                    atol=1e-15)
    params = [p for p in (w, b) if p is not None]

    def fn(x, *p):
        return mg.ops.scale_shift(x, *(p if which == "both" else
                                       (p[0], None) if which == "weight" else (None, p[0])), axis)
    assert_gradcheck(fn, *leaves(x, *params))


def test_scale_shift_gradients_by_hand():
    # x = [[1, 2], [3, 4]] with one weight and bias per column, upstream g = [[1, 2], [3, 4]]:
    # dx = g * w = [[2, -2], [6, -4]] for w = (2, -1); dw = sum over rows of g * x =
    # (1*1 + 3*3, 2*2 + 4*4) = (10, 20); db = sum over rows of g = (4, 6).
    x = mg.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    w = mg.Tensor(np.array([2.0, -1.0]), requires_grad=True)
    b = mg.Tensor(np.array([0.5, 0.0]), requires_grad=True)
    out = mg.ops.scale_shift(x, w, b, 1)
    assert_allclose(out, [[2.5, -2.0], [6.5, -4.0]])
    out.backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert_allclose(x.grad, [[2.0, -2.0], [6.0, -4.0]])
    assert_allclose(w.grad, [10.0, 20.0])
    assert_allclose(b.grad, [4.0, 6.0])


def test_scale_shift_without_parameters_is_the_identity_and_checks_shapes():
    x = mg.Tensor(np.ones((2, 3, 4)))
    assert mg.ops.scale_shift(x, None, None, 1) is x
    with pytest.raises(ValueError, match=r"parameters of shape \(4,\).*axes 1..1.*\(2, 3, 4\)"):
        mg.ops.scale_shift(x, np.ones(4), None, 1)


def test_scale_shift_keeps_float32_with_float64_parameters():
    x = mg.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    w = mg.Tensor(np.full(3, 2.0), requires_grad=True)
    out = mg.ops.scale_shift(x, w, None, 1)
    out.backward(np.ones((2, 3), np.float32))
    assert out.dtype == x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    assert_allclose(w.grad, [2.0, 2.0, 2.0])


@given(view=st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 6)),
       dtype=st.sampled_from([np.float32, np.float64]), data=st.data())
def test_jit_and_reference_scale_shift_kernels_agree(view, dtype, data):
    x, grad = data.draw(arrays(view, dtype=dtype)), data.draw(arrays(view, dtype=dtype))
    w, b = (data.draw(arrays(view[1:2], dtype=dtype)) for _ in range(2))
    tol = 1e-6 if dtype == np.float32 else 1e-13
    expected = reference.scale_shift(x, w, b)
    got = jit.scale_shift(x, w, b)
    assert got.dtype == expected.dtype == dtype
    assert_allclose(got, expected, rtol=tol, atol=tol)
    for name, ref, out in zip(("dx", "dweight", "dbias"),
                              reference.scale_shift_backward(grad, x, w),
                              jit.scale_shift_backward(grad, x, w)):
        assert out.dtype == ref.dtype, name
        assert_allclose(out, ref, rtol=tol, atol=tol * view[0] * view[2], err_msg=name)
