"""The convolution kernels: im2col/col2im and the direct depthwise kernels, NumPy and Numba."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minigrad.kernels import jit, reference
from minigrad.ops.conv import conv2d_geometry
from minigrad.testing import arrays, conv2d_params

BACKENDS = pytest.mark.parametrize("kernels", [reference, jit], ids=["numpy", "numba"])
# the `kernels` parameter is fixed for all examples of one test run, so sharing it is safe
with_fixture = settings(suppress_health_check=[*settings().suppress_health_check,
                                               HealthCheck.function_scoped_fixture])


def draw_geometry(data):
    params = data.draw(conv2d_params())
    geometry = conv2d_geometry(params["input_shape"], params["weight_shape"], params["stride"],
                               params["padding"], params["dilation"], params["groups"])
    return params, geometry


def cols_shape(x_shape, geometry):
    return (*x_shape[:2], *geometry.kernel, *geometry.out_size)


def by_definition(x, geometry):
    """im2col written as its formula, one entry at a time."""
    cols = np.zeros(cols_shape(x.shape, geometry))
    (sH, sW), (pH, pW), (dH, dW) = geometry.spatial()
    H, W = x.shape[2:]
    for i, j, oh, ow in np.ndindex(cols.shape[2:]):
        h, w = oh * sH - pH + i * dH, ow * sW - pW + j * dW
        if 0 <= h < H and 0 <= w < W:
            cols[:, :, i, j, oh, ow] = x[:, :, h, w]
    return cols


@BACKENDS
def test_im2col_hand_worked(kernels):
    # x = [[0 1 2], [3 4 5], [6 7 8]], 2x2 kernel, stride 1: the four windows are
    # [0 1 3 4], [1 2 4 5], [3 4 6 7], [4 5 7 8]; row (i, j) of cols lists, for the four
    # outputs, the window entry at offset (i, j).
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    cols = np.empty((1, 1, 2, 2, 2, 2))
    kernels.im2col(x, cols, (1, 1), (0, 0), (1, 1))
    expected = [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    np.testing.assert_array_equal(cols.reshape(4, 4), expected)


@BACKENDS
def test_col2im_counts_how_often_each_pixel_is_read(kernels):
    # col2im of all-ones columns counts the windows covering each pixel: a 3x3 kernel with
    # padding 1 over a 4x4 image covers a corner 4 times, an edge 6 times, the inside 9.
    cols = np.ones((1, 1, 3, 3, 4, 4))
    x = np.full((1, 1, 4, 4), np.nan)  # col2im must overwrite, not add to, its output
    kernels.col2im(cols, x, (1, 1), (1, 1), (1, 1))
    np.testing.assert_array_equal(x[0, 0], [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6],
                                            [4, 6, 6, 4]])


@BACKENDS
@with_fixture
@given(data=st.data())
def test_im2col_matches_its_definition(kernels, data):
    params, geometry = draw_geometry(data)
    x = data.draw(arrays(params["input_shape"]))
    cols = np.full(cols_shape(x.shape, geometry), np.nan)
    kernels.im2col(x, cols, *geometry.spatial())
    np.testing.assert_array_equal(cols, by_definition(x, geometry))


@BACKENDS
@with_fixture
@given(data=st.data())
def test_col2im_is_the_adjoint_of_im2col(kernels, data):
    # <im2col(x), c> == <x, col2im(c)> for every x and c
    params, geometry = draw_geometry(data)
    x = data.draw(arrays(params["input_shape"]))
    c = data.draw(arrays(cols_shape(x.shape, geometry)))
    cols, back = np.empty_like(c), np.empty_like(x)
    kernels.im2col(x, cols, *geometry.spatial())
    kernels.col2im(c, back, *geometry.spatial())
    np.testing.assert_allclose(np.vdot(cols, c), np.vdot(x, back), rtol=1e-10, atol=1e-10)


def depthwise_case(data):
    """A depthwise geometry: C channels, M filters each."""
    params = data.draw(conv2d_params(groups=False))
    n, c, *size = params["input_shape"]
    multiplier = data.draw(st.integers(1, 3))
    x_shape, w_shape = (n, c, *size), (c * multiplier, 1, *params["weight_shape"][2:])
    geometry = conv2d_geometry(x_shape, w_shape, params["stride"], params["padding"],
                               params["dilation"], c)
    x, weight = data.draw(arrays(x_shape)), data.draw(arrays(w_shape))
    grad = data.draw(arrays((n, c * multiplier, *geometry.out_size)))
    return x, weight, grad, geometry


@BACKENDS
@with_fixture
@given(data=st.data())
def test_depthwise_kernels_match_im2col_per_channel(kernels, data):
    # depthwise output channel o is channel o // M of the input, correlated with filter o:
    # that is one row of the (1-channel) im2col matrix times the filter
    x, weight, grad, geometry = depthwise_case(data)
    M = weight.shape[0] // x.shape[1]
    cols = by_definition(x, geometry)  # (N, C, kH, kW, Ho, Wo)
    cols = np.repeat(cols, M, axis=1)  # (N, C*M, kH, kW, Ho, Wo)
    expected = np.einsum("ncijhw,cij->nchw", cols, weight[:, 0])
    out = np.empty_like(grad)
    kernels.depthwise_conv2d(x, weight, out, *geometry.spatial())
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)

    dweight = np.empty_like(weight)
    kernels.depthwise_conv2d_weight_grad(x, grad, dweight, *geometry.spatial())
    np.testing.assert_allclose(dweight[:, 0], np.einsum("ncijhw,nchw->cij", cols, grad),
                               rtol=1e-10, atol=1e-12)

    # the input gradient is the adjoint: <conv(x), g> == <x, conv^T(g)>
    dx = np.full_like(x, np.nan)
    kernels.depthwise_conv2d_input_grad(grad, weight, dx, *geometry.spatial())
    np.testing.assert_allclose(np.vdot(out, grad), np.vdot(x, dx), rtol=1e-10, atol=1e-10)


@with_fixture
@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]))
def test_numba_kernels_agree_with_numpy(data, dtype):
    params, geometry = draw_geometry(data)
    x = data.draw(arrays(params["input_shape"], dtype))
    shape = cols_shape(x.shape, geometry)
    c = data.draw(arrays(shape, dtype))
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for kernel, source, out_shape in ((jit.im2col, x, shape), (jit.col2im, c, x.shape)):
        expected, actual = np.empty(out_shape, dtype), np.empty(out_shape, dtype)
        getattr(reference, kernel.__name__)(source, expected, *geometry.spatial())
        kernel(source, actual, *geometry.spatial())
        np.testing.assert_allclose(actual, expected, **tol)

    x, weight, grad, geometry = depthwise_case(data)
    x, weight, grad = x.astype(dtype), weight.astype(dtype), grad.astype(dtype)
    for name, args, out in (("depthwise_conv2d", (x, weight), grad),
                            ("depthwise_conv2d_input_grad", (grad, weight), x),
                            ("depthwise_conv2d_weight_grad", (x, grad), weight)):
        expected, actual = np.empty_like(out), np.empty_like(out)
        getattr(reference, name)(*args, expected, *geometry.spatial())
        getattr(jit, name)(*args, actual, *geometry.spatial())
        np.testing.assert_allclose(actual, expected, **tol, err_msg=name)


@pytest.mark.parametrize("stride, padding, dilation", [((1, 1), (1, 1), (1, 1)),
                                                       ((2, 1), (2, 0), (1, 2)),
                                                       ((1, 3), (0, 2), (2, 1))])
def test_numba_depthwise_kernels_reuse_their_scratch_planes(stride, padding, dilation):
    # the Numba kernels give each parallel iteration one scratch plane and reuse it for
    # every plane of its block; the drawn cases above have fewer planes than blocks, so here
    # 5 x 8 channels x 2 filters each = 80 output planes share at most 32 scratch planes
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal((5, 8, 9, 11)), rng.standard_normal((16, 1, 3, 2))
    geometry = conv2d_geometry(x.shape, weight.shape, stride, padding, dilation, 8)
    grad = rng.standard_normal((5, 16, *geometry.out_size))
    for name, args, out in (("depthwise_conv2d", (x, weight), grad),
                            ("depthwise_conv2d_input_grad", (grad, weight), x),
                            ("depthwise_conv2d_weight_grad", (x, grad), weight)):
        expected, actual = np.empty_like(out), np.full_like(out, np.nan)
        getattr(reference, name)(*args, expected, *geometry.spatial())
        getattr(jit, name)(*args, actual, *geometry.spatial())
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12, err_msg=name)
