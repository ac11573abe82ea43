"""Pooling and unpooling: hand-worked examples, a by-definition oracle over drawn geometries,
gradcheck of every function, the NumPy and Numba kernels against each other, and errors."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
import minigrad.nn as nn
from minigrad.kernels import jit, reference
from minigrad.ops.pool import adaptive_taps, window_spans, window_taps
from minigrad.testing import arrays, assert_gradcheck, pool2d_params

# the `jit` fixture is fixed for all examples of one test run, so sharing it is safe
with_fixture = settings(suppress_health_check=[*settings().suppress_health_check,
                                               HealthCheck.function_scoped_fixture])
BACKENDS = pytest.mark.parametrize("kernels", [reference, jit], ids=["numpy", "numba"])

COURSE_INPUT = np.array([[1, 2, 6, 3], [3, 5, 2, 1], [1, 2, 2, 1], [7, 3, 4, 8]], float)


def pool_kwargs(params, dilation=True):
    keys = ("kernel_size", "stride", "padding", "ceil_mode") + (("dilation",) if dilation else ())
    return {key: params[key] for key in keys}


def windows(params, size_h, size_w, dilation=True):
    """Each output's window as lists of in-range rows and columns, from the formulas:
    H_out = floor_or_ceil((H + 2P - D(K-1) - 1)/S) + 1, a ceil_mode window that starts in the
    right padding dropped; window o covers o*S - P + t*D for t < K."""
    axes = []
    for axis, size in enumerate((size_h, size_w)):
        k, s, p = params["kernel_size"][axis], params["stride"][axis], params["padding"][axis]
        d = params["dilation"][axis] if dilation else 1
        span = size + 2 * p - d * (k - 1) - 1
        n_out = (int(np.ceil(span / s)) if params["ceil_mode"] else span // s) + 1
        if params["ceil_mode"] and (n_out - 1) * s >= size + p:
            n_out -= 1
        axes.append([[o * s - p + t * d for t in range(k)] for o in range(n_out)])
    return axes


def reaches_input(params):
    """PyTorch gives a window that holds padding only (possible with dilation) an index
    outside the plane; minigrad refuses such geometries, so tests draw around them."""
    return all((window_taps(n, k, s, p, d, 1 + (n + 2 * p - d * (k - 1) - 1) // s) >= 0)
               .any(axis=1).all() and (n + 2 * p - d * (k - 1) - 1) >= 0
               for n, k, s, p, d in zip(params["input_shape"][2:], params["kernel_size"],
                                         params["stride"], params["padding"], params["dilation"]))


def distinct(shape):
    """Arrays with all values at least 1e-3 apart: no ties at a maximum."""
    return arrays(shape, low=-4.0, high=4.0, min_gap=1e-3)


# --- hand-worked examples -------------------------------------------------------------------

def test_course_example_max_pool_and_unpool(jit):
    # The lecture's 4x4 input, 2x2 windows: maxima 5 (row 1, col 1 -> 1*4+1 = 5),
    # 6 (0*4+2 = 2), 7 (3*4+0 = 12), 8 (3*4+3 = 15). Unpooling [[1, 2], [3, 4]] with those
    # positions puts 1 at 5, 2 at 2, 3 at 12, 4 at 15, as on the slide.
    out, indices = F.max_pool2d(mg.Tensor(COURSE_INPUT[None, None]), 2, return_indices=True)
    np.testing.assert_array_equal(out.data[0, 0], [[5, 6], [7, 8]])
    np.testing.assert_array_equal(indices.data[0, 0], [[5, 2], [12, 15]])
    assert indices.dtype == np.int64
    unpooled = F.max_unpool2d(mg.Tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), indices, 2)
    np.testing.assert_array_equal(unpooled.data[0, 0], [[0, 0, 2, 0], [0, 1, 0, 0],
                                                        [0, 0, 0, 0], [3, 0, 0, 4]])


def test_ties_keep_the_first_maximum_in_scan_order(jit):
    # x = [[1 3 3 1], [3 0 0 3], [2 2 2 2], [2 2 2 2]]. 2x2 windows: the top-left one holds 3 at
    # positions 1 and 4, row-by-row scan meets 1 first; top-right: 3 at 2 and 7 -> 2; the
    # bottom windows are all 2 -> their first positions 8 and 10. (PyTorch gives the same.)
    x = mg.Tensor(np.array([[1, 3, 3, 1], [3, 0, 0, 3], [2, 2, 2, 2], [2, 2, 2, 2]],
                           float)[None, None])
    _, indices = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(indices.data[0, 0], [[1, 2], [8, 10]])
    # 3x3 windows, stride 1: top-left sees 3 at 1, 4 first -> 1; top-right 3 at 1, 2, 7 -> 1;
    # bottom-left 3 at 4, 7 -> 4; bottom-right 3 at 7 -> 7.
    _, indices = F.max_pool2d(x, 3, stride=1, return_indices=True)
    np.testing.assert_array_equal(indices.data[0, 0], [[1, 1], [4, 7]])


def test_nan_and_minus_infinity(jit):
    # A NaN beats every number and a later NaN beats an earlier one (PyTorch's `val > max ||
    # isnan(val)`); a window of -inf keeps its first position inside the input.
    nan = np.nan
    out, indices = F.max_pool2d(mg.Tensor([[[[nan, 1.0, nan, 5.0]]]]), (1, 4),
                                return_indices=True)
    assert np.isnan(out.item()) and indices.item() == 2
    out, indices = F.max_pool2d(mg.Tensor(np.full((1, 1, 2, 2), -np.inf)), 2, padding=1,
                                return_indices=True)
    np.testing.assert_array_equal(indices.data[0, 0], [[0, 1], [2, 3]])


def test_avg_pool_divisors_with_ceil_mode(jit):
    # Row [1 2 3 4], kernel 3, stride 2, padding 1, ceil_mode: windows cover [-1, 1], [1, 3]
    # and [3, 5], the last clipped to the padded row [-1, 4], so [3, 4] (4 is padding).
    # count_include_pad: (0+1+2)/3 = 1, (2+3+4)/3 = 3, (4+0)/2 = 2;
    # without it:        (1+2)/2 = 1.5, 3, 4/1 = 4.
    x = mg.Tensor([[[[1.0, 2.0, 3.0, 4.0]]]])
    kwargs = dict(kernel_size=(1, 3), stride=(1, 2), padding=(0, 1), ceil_mode=True)
    np.testing.assert_allclose(F.avg_pool2d(x, **kwargs).data.ravel(), [1, 3, 2])
    np.testing.assert_allclose(F.avg_pool2d(x, **kwargs, count_include_pad=False).data.ravel(),
                               [1.5, 3, 4])


def test_adaptive_windows_overlap_when_sizes_do_not_divide(jit):
    # 5 -> 3: windows [floor(5i/3), ceil(5(i+1)/3)) = [0, 2), [1, 4), [3, 5).
    x = mg.Tensor(np.array([1.0, 5.0, 2.0, 4.0, 3.0])[None, None, None])
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (1, 3)).data.ravel(),
                               [3.0, 11.0 / 3.0, 3.5])
    out, indices = F.adaptive_max_pool2d(x, (None, 3), return_indices=True)
    np.testing.assert_array_equal(out.data.ravel(), [5, 5, 4])
    np.testing.assert_array_equal(indices.data.ravel(), [1, 1, 3])


def test_unbatched_input_and_dtype(jit):
    x = np.random.default_rng(0).standard_normal((2, 5, 6)).astype(np.float32)
    for fn in (lambda t: F.max_pool2d(t, 2, return_indices=True)[0],
               lambda t: F.avg_pool2d(t, 3, 2, 1), lambda t: F.adaptive_avg_pool2d(t, 2),
               lambda t: F.adaptive_max_pool2d(t, (3, 2))):
        single, batched = fn(mg.Tensor(x)), fn(mg.Tensor(x[None]))
        assert single.dtype == np.float32
        np.testing.assert_array_equal(single.data, batched.data[0])


# --- the definitions, over drawn geometries ---------------------------------------------

@with_fixture
@given(params=pool2d_params(), data=st.data())
def test_max_pool2d_by_definition(jit, params, data):
    assume(reaches_input(params))
    x = data.draw(arrays(params["input_shape"]))
    H, W = x.shape[2:]
    out, indices = F.max_pool2d(mg.Tensor(x), **pool_kwargs(params), return_indices=True)
    rows, cols = windows(params, H, W)
    assert out.shape == (*x.shape[:2], len(rows), len(cols))
    for oh, ow in np.ndindex(len(rows), len(cols)):
        inside = [(h, w) for h in rows[oh] for w in cols[ow] if 0 <= h < H and 0 <= w < W]
        values = np.stack([x[:, :, h, w] for h, w in inside], axis=-1)  # (N, C, window)
        first_max = np.argmax(values, axis=-1)  # the first maximum in scan order
        np.testing.assert_array_equal(out.data[:, :, oh, ow], values.max(axis=-1))
        expected = np.array([h * W + w for h, w in inside])[first_max]
        np.testing.assert_array_equal(indices.data[:, :, oh, ow], expected)


@with_fixture
@given(params=pool2d_params(), include_pad=st.booleans(), data=st.data())
def test_avg_pool2d_by_definition(jit, params, include_pad, data):
    x = data.draw(arrays(params["input_shape"]))
    H, W = x.shape[2:]
    out = F.avg_pool2d(mg.Tensor(x), **pool_kwargs(params, dilation=False),
                       count_include_pad=include_pad)
    rows, cols = windows(params, H, W, dilation=False)
    (pH, pW) = params["padding"]
    for oh, ow in np.ndindex(len(rows), len(cols)):
        # PyTorch clips a window to the padded input [-P, H + P) before counting it
        in_padded = [(h, w) for h in rows[oh] for w in cols[ow] if h < H + pH and w < W + pW]
        inside = [(h, w) for h, w in in_padded if 0 <= h < H and 0 <= w < W]
        total = sum(x[:, :, h, w] for h, w in inside)
        divisor = len(in_padded) if include_pad else len(inside)
        np.testing.assert_allclose(out.data[:, :, oh, ow], total / divisor, rtol=1e-12,
                                   atol=1e-15)


@with_fixture
@given(params=pool2d_params(), data=st.data())
def test_unpool_of_pool_keeps_each_maximum_in_place(jit, params, data):
    assume(reaches_input(params))
    x = data.draw(distinct(params["input_shape"]))
    out, indices = F.max_pool2d(mg.Tensor(x), **pool_kwargs(params), return_indices=True)
    H, W = x.shape[2:]
    stride = params["stride"]
    size = (H, W)
    default = [(n - 1) * s - 2 * p + k for n, s, p, k in
               zip(out.shape[2:], stride, params["padding"], params["kernel_size"])]
    # output_size must lie within one stride of the default size, as in PyTorch
    assume(all(d - s < n < d + s for n, d, s in zip(size, default, stride)))
    unpooled = F.max_unpool2d(out, indices, params["kernel_size"], stride, params["padding"],
                              output_size=size).data
    is_max = np.zeros(x.shape, bool).reshape(*x.shape[:2], -1)
    np.put_along_axis(is_max, indices.data.reshape(*x.shape[:2], -1), True, axis=2)
    is_max = is_max.reshape(x.shape)
    np.testing.assert_array_equal(unpooled, np.where(is_max, x, 0.0))
    # and every window's maximum is one of the kept values
    np.testing.assert_array_equal(np.sort(np.unique(out.data)), np.sort(x[is_max]))


# --- gradients ------------------------------------------------------------------------------

@with_fixture
@given(params=pool2d_params(max_size=6, max_channels=2), data=st.data())
def test_max_pool2d_gradcheck(jit, params, data):
    assume(reaches_input(params))
    x = mg.Tensor(data.draw(distinct(params["input_shape"])), requires_grad=True)
    assert_gradcheck(lambda t: F.max_pool2d(t, **pool_kwargs(params)), x)


@with_fixture
@given(params=pool2d_params(max_size=6, max_channels=2), include_pad=st.booleans(),
       data=st.data())
def test_avg_pool2d_gradcheck(jit, params, include_pad, data):
    x = mg.Tensor(data.draw(arrays(params["input_shape"])), requires_grad=True)
    assert_gradcheck(lambda t: F.avg_pool2d(t, **pool_kwargs(params, dilation=False),
                                            count_include_pad=include_pad), x)


adaptive_shapes = st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 6),
                            st.integers(1, 6))


@with_fixture
@given(shape=adaptive_shapes, out_h=st.integers(1, 7), out_w=st.none() | st.integers(1, 7),
       data=st.data())
def test_adaptive_pools_gradcheck(jit, shape, out_h, out_w, data):
    x = mg.Tensor(data.draw(distinct(shape)), requires_grad=True)
    assert_gradcheck(lambda t: F.adaptive_avg_pool2d(t, (out_h, out_w)), x)
    assert_gradcheck(lambda t: F.adaptive_max_pool2d(t, (out_h, out_w)), x)


@with_fixture
@given(shape=adaptive_shapes, kernel=st.integers(1, 3), data=st.data())
def test_max_unpool2d_gradcheck(jit, shape, kernel, data):
    # indices: distinct positions of each output plane, as non-overlapping pooling gives
    N, C, h, w = shape
    H, W = h * kernel, w * kernel
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    indices = np.stack([rng.permutation(H * W)[:h * w] for _ in range(N * C)])
    indices = indices.reshape(shape)
    x = mg.Tensor(data.draw(arrays(shape)), requires_grad=True)
    assert_gradcheck(lambda t: F.max_unpool2d(t, indices, kernel), x)


def test_max_pool_gradient_sums_over_windows_sharing_a_maximum(jit):
    # 1x3 row [0 5 1], windows of 2 with stride 1: both windows pick 5, so d(sum)/dx = [0 2 0].
    x = mg.Tensor([[[[0.0, 5.0, 1.0]]]], requires_grad=True)
    F.max_pool2d(x, (1, 2), stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad.ravel(), [0, 2, 0])


# --- NumPy and Numba kernels agree ----------------------------------------------------------

def ties_nan_and_infinity(data, shape, dtype):
    """Small integers (many ties) with some NaN and -inf."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(-2, 3, shape).astype(dtype)
    x[rng.random(x.shape) < 0.05] = np.nan
    x[rng.random(x.shape) < 0.05] = -np.inf
    return x


def assert_window_max_kernels_agree(x, taps_h, taps_w, dilation):
    spans = (*window_spans(taps_h), *window_spans(taps_w), dilation)
    (jit_values, jit_positions), (values, positions) = (jit.window_max(x, *spans),
                                                        reference.window_max(x, *spans))
    assert jit_values.dtype == x.dtype and jit_positions.dtype == np.int64
    np.testing.assert_array_equal(jit_values, values)  # NaN counts as equal to NaN here
    np.testing.assert_array_equal(jit_positions, positions)


@given(params=pool2d_params(), dtype=st.sampled_from([np.float32, np.float64]), data=st.data())
def test_window_max_kernels_agree_on_sliding_windows(params, dtype, data):
    assume(reaches_input(params))
    x = ties_nan_and_infinity(data, params["input_shape"], dtype)
    out = F.max_pool2d(mg.Tensor(x), **pool_kwargs(params)).shape[2:]
    taps = [window_taps(n, k, s, p, d, o) for n, k, s, p, d, o in
            zip(x.shape[2:], params["kernel_size"], params["stride"], params["padding"],
                params["dilation"], out)]
    assert_window_max_kernels_agree(x, *taps, params["dilation"])


@given(shape=adaptive_shapes, out_h=st.integers(1, 7), out_w=st.integers(1, 7),
       dtype=st.sampled_from([np.float32, np.float64]), data=st.data())
def test_window_max_kernels_agree_on_adaptive_windows(shape, out_h, out_w, dtype, data):
    x = ties_nan_and_infinity(data, shape, dtype)
    taps = [adaptive_taps(n, o) for n, o in zip(shape[2:], (out_h, out_w))]
    assert_window_max_kernels_agree(x, *taps, (1, 1))


def test_window_spans_clip_windows_to_the_input():
    # Row of 5, kernel 3, stride 2, padding 1, dilation 2: taps o*2 - 1 + 2t, so window 0 is
    # [-1, 1, 3] -> inside from 1, 2 taps; window 1 is [1, 3, 5] -> from 1, 2 taps.
    start, length = window_spans(window_taps(5, 3, 2, 1, 2, 2))
    np.testing.assert_array_equal(start, [1, 1])
    np.testing.assert_array_equal(length, [2, 2])


@given(shape=adaptive_shapes, size=st.tuples(st.integers(1, 6), st.integers(1, 6)),
       accumulate=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       data=st.data())
def test_gather_and_scatter_kernels_agree(shape, size, accumulate, dtype, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    values = data.draw(arrays(shape, dtype=dtype))
    indices = rng.integers(0, size[0] * size[1], shape)  # repeats included
    if not accumulate:  # with repeats a written-once result depends on the order
        indices = np.stack([rng.permutation(size[0] * size[1]) for _ in range(np.prod(shape[:2]))])
        assume(indices.shape[1] >= np.prod(shape[2:]))
        indices = indices[:, :np.prod(shape[2:])].reshape(shape)
    scattered = [k.scatter_planes(values, indices, *size, accumulate) for k in (jit, reference)]
    np.testing.assert_allclose(scattered[0], scattered[1], rtol=1e-6)
    assert scattered[0].dtype == dtype
    np.testing.assert_array_equal(jit.gather_planes(scattered[1], indices),
                                  reference.gather_planes(scattered[1], indices))


# --- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda x: F.max_pool2d(x, 3, padding=2), "padding"),
    (lambda x: F.avg_pool2d(x, 2, padding=(0, 2)), "padding"),
    (lambda x: F.max_pool2d(x, 7), "at least 1x1"),
    (lambda x: F.max_pool2d(x, (2, 1), padding=(1, 0), dilation=(6, 1)), "padding only"),
    (lambda x: F.max_pool2d(x[0, 0], 2), "shape"),
    (lambda x: F.max_pool2d(x, 0), "kernel_size"),
    (lambda x: F.adaptive_avg_pool2d(x, (0, 2)), "output_size"),
    (lambda x: F.adaptive_max_pool2d(x, (1, 2, 3)), "output_size"),
    (lambda x: F.max_unpool2d(x, np.zeros((1, 1, 5, 6), np.int64), 2, output_size=(14, 12)),
     "output_size"),
    (lambda x: F.max_unpool2d(x, np.full((1, 1, 5, 6), 120), 2), "indices"),
    (lambda x: F.max_unpool2d(x, np.zeros((1, 1, 5, 5), np.int64), 2), "indices"),
])
def test_bad_arguments_raise_value_error(call, message):
    x = mg.Tensor(np.zeros((1, 1, 5, 6)))
    with pytest.raises(ValueError, match=message):
        call(x)


def test_type_and_unsupported_arguments():
    x = mg.Tensor(np.zeros((1, 1, 4, 4)))
    with pytest.raises(TypeError, match="kernel_size"):
        F.max_pool2d(x, 1.5)
    with pytest.raises(TypeError, match="indices"):
        F.max_unpool2d(x, np.zeros((1, 1, 4, 4)), 2)
    with pytest.raises(NotImplementedError, match="divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=3)


# --- modules --------------------------------------------------------------------------------

def test_modules_call_the_functions_with_pytorch_argument_order():
    x = mg.Tensor(np.random.default_rng(0).standard_normal((2, 3, 7, 6)))
    # nn.MaxPool2d takes (kernel_size, stride, padding, dilation, return_indices, ceil_mode)
    out, indices = nn.MaxPool2d(3, 2, 1, 1, True, True)(x)
    expected, expected_indices = F.max_pool2d(x, 3, 2, 1, 1, ceil_mode=True,
                                              return_indices=True)
    np.testing.assert_array_equal(out.data, expected.data)
    np.testing.assert_array_equal(indices.data, expected_indices.data)
    assert out.shape == (2, 3, 4, 4)  # ceil((7 + 2 - 3)/2) + 1 = 4, ceil((6 + 2 - 3)/2) + 1 = 4
    unpooled = nn.MaxUnpool2d(3, 2, 1)(out, indices, output_size=(7, 6))
    np.testing.assert_array_equal(unpooled.data, F.max_unpool2d(out, indices, 3, 2, 1,
                                                                (7, 6)).data)
    np.testing.assert_array_equal(nn.AvgPool2d(2, ceil_mode=True)(x).data,
                                  F.avg_pool2d(x, 2, ceil_mode=True).data)
    np.testing.assert_array_equal(nn.AdaptiveAvgPool2d((2, None))(x).data,
                                  F.adaptive_avg_pool2d(x, (2, 6)).data)
    np.testing.assert_array_equal(nn.AdaptiveMaxPool2d(3)(x).data,
                                  F.adaptive_max_pool2d(x, 3).data)
    np.testing.assert_array_equal(
        nn.Upsample(scale_factor=2, mode="bilinear")(x).data,
        F.interpolate(x, scale_factor=2, mode="bilinear").data)
    for layer in (nn.MaxPool2d(2), nn.AvgPool2d(2), nn.Upsample(size=3)):
        assert list(layer.parameters()) == [] and layer.state_dict() == {}
