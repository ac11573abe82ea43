"""Test helpers users may import: hypothesis strategies and gradient-check assertions.

The strategies only produce valid inputs: shapes that broadcast, arrays away from kinks
(no near-ties, no values near 0 unless asked), convolution and pooling geometries whose
output is at least 1x1. Requires `hypothesis` (the `dev` extra).
"""
import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from .gradcheck import gradcheck
from .tensor import Tensor


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=5):
    """Array shapes, as tuples."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims,
                    max_size=max_dims).map(tuple)


@st.composite
def broadcastable_shapes(draw, min_dims=0, max_dims=4, min_side=1, max_side=4):
    """A pair of shapes that NumPy broadcasts together (axes dropped or set to 1 in either)."""
    full = draw(shapes(min_dims, max_dims, min_side, max_side))
    pair = []
    for _ in range(2):
        drop = draw(st.integers(0, len(full)))
        kept = full[drop:]
        pair.append(tuple(1 if draw(st.booleans()) else n for n in kept))
    return tuple(pair)


@st.composite
def arrays(draw, shape, dtype=np.float64, low=-2.0, high=2.0, min_magnitude=0.0,
           min_gap=0.0):
    """A well-conditioned float array of `shape`, drawn from a seed (fast to shrink).

    min_magnitude: keep |x| at least this (away from kinks at 0, poles of 1/x, log).
    min_gap: keep all values at least this far apart (away from ties at a max).
    """
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    if min_gap > 0:
        step = (high - low) / max(size, 1)
        assume(step > 2 * min_gap)
        # one value per slot of width `step`, jittered within its slot but clear of the next
        values = low + step * (rng.permutation(size) + rng.uniform(0, 1 - min_gap / step, size))
    else:
        values = rng.uniform(low, high, size)
    if min_magnitude > 0:
        sign = np.where(values >= 0, 1.0, -1.0)
        values = sign * (min_magnitude + np.abs(values))
    return values.reshape(shape).astype(dtype)


def tensors(shape, dtype=np.float64, requires_grad=True, **array_kwargs):
    """Tensors wrapping `arrays(shape, ...)`."""
    return arrays(shape, dtype, **array_kwargs).map(
        lambda a: Tensor(a, requires_grad=requires_grad))


def _out_size(size, kernel, stride, padding, dilation):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@st.composite
def conv2d_params(draw, max_batch=2, max_channels=4, max_size=7, max_kernel=3, max_stride=3,
                  max_dilation=2, groups=True):
    """A valid conv2d geometry: dict with input_shape, weight_shape, stride, padding,
    dilation, groups (pairs for the spatial arguments)."""
    g = draw(st.integers(1, 3)) if groups else 1
    cin = g * draw(st.integers(1, max(1, max_channels // g)))
    cout = g * draw(st.integers(1, max(1, max_channels // g)))
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = []
    for k, s, p, d in zip(kernel, stride, padding, dilation):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        assume(smallest <= max_size)
        size.append(draw(st.integers(smallest, max_size)))
    n = draw(st.integers(1, max_batch))
    return dict(input_shape=(n, cin, *size), weight_shape=(cout, cin // g, *kernel),
                stride=stride, padding=padding, dilation=dilation, groups=g)


@st.composite
def pool2d_params(draw, max_batch=2, max_channels=3, max_size=8, max_kernel=3, max_stride=3,
                  max_dilation=2):
    """A valid max/avg-pool geometry: dict with input_shape, kernel_size, stride, padding
    (at most half the kernel, as PyTorch requires), dilation and ceil_mode."""
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = []
    for k, p, d in zip(kernel, padding, dilation):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        assume(smallest <= max_size)
        size.append(draw(st.integers(smallest, max_size)))
    shape = (draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels)), *size)
    return dict(input_shape=shape, kernel_size=kernel, stride=stride, padding=padding,
                dilation=dilation, ceil_mode=draw(st.booleans()))


def assert_gradcheck(fn, *inputs, **kwargs):
    """Assert that `gradcheck(fn, inputs, **kwargs)` passes (the error says where it fails)."""
    assert gradcheck(fn, inputs, **kwargs)


def assert_allclose(actual, expected, rtol=1e-7, atol=0.0, err_msg=""):
    """np.testing.assert_allclose that also accepts Tensors."""
    unwrap = (lambda x: x.data if isinstance(x, Tensor) else x)
    np.testing.assert_allclose(unwrap(actual), unwrap(expected), rtol=rtol, atol=atol,
                               err_msg=err_msg)
