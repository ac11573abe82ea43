"""Pooling, unpooling and interpolate against PyTorch: values, indices and gradients,
float64 to 1e-8 and float32 to 1e-4 (relative)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.testing import arrays, pool2d_params

torch = pytest.importorskip("torch")
TF = torch.nn.functional

with_fixture = settings(suppress_health_check=[*settings().suppress_health_check,
                                               HealthCheck.function_scoped_fixture])
dtypes = st.sampled_from([np.float64, np.float32])
TOLERANCE = {np.float64: 1e-8, np.float32: 1e-4}


def run_both(mg_fn, torch_fn, x, grad_seed=0):
    """(minigrad output, torch output, minigrad dx, torch dx) for a random upstream gradient;
    the functions return a Tensor or (Tensor, indices)."""
    t = mg.Tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    out, t_out = mg_fn(t), torch_fn(tt)
    values, t_values = (out[0], t_out[0]) if isinstance(out, tuple) else (out, t_out)
    g = np.random.default_rng(grad_seed).standard_normal(values.shape).astype(x.dtype)
    values.backward(g)
    t_values.backward(torch.tensor(g))
    return out, t_out, t.grad, tt.grad.numpy()


def assert_close(actual, expected, dtype):
    rtol = TOLERANCE[np.dtype(dtype).type]
    atol = rtol * max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def drawn_input(data, shape, dtype):
    # distinct values, so no comparison depends on tie-breaking (tests/test_pool.py has ties)
    return data.draw(arrays(shape, low=-4.0, high=4.0, min_gap=1e-3)).astype(dtype)


@with_fixture
@given(params=pool2d_params(max_size=9), dtype=dtypes, data=st.data())
def test_max_pool2d(jit, params, dtype, data):
    x = drawn_input(data, params["input_shape"], dtype)
    kwargs = {k: params[k] for k in ("kernel_size", "stride", "padding", "dilation",
                                     "ceil_mode")}
    # PyTorch gives a window that holds padding only -inf; minigrad refuses such geometries
    assume(np.isfinite(TF.max_pool2d(torch.tensor(x), **kwargs).numpy()).all())
    (out, idx), (t_out, t_idx), dx, t_dx = run_both(
        lambda t: F.max_pool2d(t, **kwargs, return_indices=True),
        lambda t: TF.max_pool2d(t, **kwargs, return_indices=True), x)
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    np.testing.assert_array_equal(idx.data, t_idx.numpy())
    assert_close(dx, t_dx, dtype)


@with_fixture
@given(params=pool2d_params(max_size=9), include_pad=st.booleans(), dtype=dtypes,
       data=st.data())
def test_avg_pool2d(jit, params, include_pad, dtype, data):
    x = drawn_input(data, params["input_shape"], dtype)
    kwargs = {k: params[k] for k in ("kernel_size", "stride", "padding", "ceil_mode")}
    out, t_out, dx, t_dx = run_both(
        lambda t: F.avg_pool2d(t, **kwargs, count_include_pad=include_pad),
        lambda t: TF.avg_pool2d(t, **kwargs, count_include_pad=include_pad), x)
    assert_close(out.data, t_out.detach().numpy(), dtype)
    assert_close(dx, t_dx, dtype)


@with_fixture
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 11),
                       st.integers(1, 11)),
       size=st.tuples(st.integers(1, 8), st.none() | st.integers(1, 8)), dtype=dtypes,
       data=st.data())
def test_adaptive_pools(jit, shape, size, dtype, data):
    x = drawn_input(data, shape, dtype)
    out, t_out, dx, t_dx = run_both(lambda t: F.adaptive_avg_pool2d(t, size),
                                    lambda t: TF.adaptive_avg_pool2d(t, size), x)
    assert_close(out.data, t_out.detach().numpy(), dtype)
    assert_close(dx, t_dx, dtype)
    (out, idx), (t_out, t_idx), dx, t_dx = run_both(
        lambda t: F.adaptive_max_pool2d(t, size, return_indices=True),
        lambda t: TF.adaptive_max_pool2d(t, size, return_indices=True), x)
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    np.testing.assert_array_equal(idx.data, t_idx.numpy())
    assert_close(dx, t_dx, dtype)


@with_fixture
@given(params=pool2d_params(max_size=9), dtype=dtypes, data=st.data())
def test_max_unpool2d(jit, params, dtype, data):
    # unpooling what non-dilated max pooling produced, with the input size as output_size
    x = drawn_input(data, params["input_shape"], dtype)
    kernel, stride, padding = params["kernel_size"], params["stride"], params["padding"]
    pooled, idx = TF.max_pool2d(torch.tensor(x), kernel, stride, padding,
                                ceil_mode=params["ceil_mode"], return_indices=True)
    size = x.shape[2:]
    default = [(n - 1) * s - 2 * p + k for n, s, p, k in
               zip(pooled.shape[2:], stride, padding, kernel)]
    assume(all(d - s < n < d + s for n, d, s in zip(size, default, stride)))
    out, t_out, dx, t_dx = run_both(
        lambda t: F.max_unpool2d(t, idx.numpy(), kernel, stride, padding, output_size=size),
        lambda t: TF.max_unpool2d(t, idx, kernel, stride, padding, output_size=size),
        pooled.numpy())
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    np.testing.assert_array_equal(dx, t_dx)


@with_fixture
@given(mode=st.sampled_from([("bilinear", False), ("bilinear", True), ("bicubic", False),
                             ("bicubic", True)]),
       shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9),
                       st.integers(1, 9)),
       size=st.tuples(st.integers(1, 12), st.integers(1, 12)),
       scale=st.none() | st.tuples(st.sampled_from([0.5, 0.7, 1.0, 1.5, 2.0, 2.4, 3.0]),
                                   st.sampled_from([0.4, 0.5, 1.3, 2.0, 4.0])),
       dtype=dtypes, data=st.data())
def test_interpolate_linear_modes(jit, mode, shape, size, scale, dtype, data):
    # scale factors up and down; with align_corners=False PyTorch keeps 1/scale_factor as
    # the source step (not in/out), which the sizes floor(H * s) make visible
    if scale is not None and min(int(n * s) for n, s in zip(shape[2:], scale)) < 1:
        scale = None
    kwargs = dict(size=size) if scale is None else dict(scale_factor=scale)
    x = data.draw(arrays(shape)).astype(dtype)
    out, t_out, dx, t_dx = run_both(
        lambda t: F.interpolate(t, mode=mode[0], align_corners=mode[1], **kwargs),
        lambda t: TF.interpolate(t, mode=mode[0], align_corners=mode[1], **kwargs), x)
    assert out.shape == tuple(t_out.shape)
    assert_close(out.data, t_out.detach().numpy(), dtype)
    if mode[0] == "bicubic" and out.shape == x.shape:
        # PyTorch's bicubic backward copies the gradient when the size does not change,
        # although its forward resamples by 1/scale_factor; minigrad's backward stays the
        # transpose of its forward (gradcheck in test_interpolate.py)
        return
    assert_close(dx, t_dx, dtype)


@pytest.mark.parametrize("size_in, kwargs", [
    ((4, 5), dict(size=(8, 10))), ((4, 5), dict(size=(7, 3))), ((6, 6), dict(size=(4, 9))),
    ((5, 7), dict(scale_factor=2)), ((5, 7), dict(scale_factor=(3, 0.5))),
    ((8, 8), dict(scale_factor=0.25)), ((3, 4), dict(scale_factor=(1.5, 2.5))),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_interpolate_nearest(jit, size_in, kwargs, dtype):
    # sizes where PyTorch's float32 index arithmetic agrees with the exact floor (API.md)
    x = np.random.default_rng(0).standard_normal((2, 3, *size_in)).astype(dtype)
    out, t_out, dx, t_dx = run_both(lambda t: F.interpolate(t, **kwargs),
                                    lambda t: TF.interpolate(t, **kwargs), x)
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    assert_close(dx, t_dx, dtype)


def test_modules_match_pytorch_modules():
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8))
    # the same positional arguments for both libraries
    layers = [("MaxPool2d", (3, 2, 1, 2, False, True)), ("AvgPool2d", (3, 2, 1, True, False)),
              ("AdaptiveAvgPool2d", ((4, None),)), ("AdaptiveMaxPool2d", (5,)),
              ("Upsample", (None, 1.5, "bicubic", True))]
    for name, args in layers:
        layer, t_layer = getattr(mg.nn, name)(*args), getattr(torch.nn, name)(*args)
        np.testing.assert_allclose(layer(mg.Tensor(x)).data,
                                   t_layer(torch.tensor(x)).numpy(), rtol=1e-8, atol=1e-12)
