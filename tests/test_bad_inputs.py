"""Bad and degenerate inputs to the functional API: PyTorch's answer or a clear error.

Every public function of the convolution, pooling, interpolation, normalisation, loss,
padding, activation and ROI families is given empty and zero-size axes, NaN and infinite
values and parameters, wrong dtypes, wrong shapes, out-of-range and mutated index arrays.
Each call must either give PyTorch's result (compared when torch is installed) or raise
ValueError/TypeError/IndexError/RuntimeError with a message naming the argument.

Calls that once crashed the interpreter (ROI ops, scatters through index arrays) run in a
child process, one property per process, so that a regression fails one test, not the run.
"""
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.vision.roi import roi_align, roi_pool

ERRORS = (ValueError, TypeError, IndexError, RuntimeError)  # NotImplementedError is a Runtime
NAN, INF = float("nan"), float("inf")
# the `jit` fixture is fixed for all examples of one test run, so sharing it is safe
with_fixture = settings(suppress_health_check=[*settings().suppress_health_check,
                                               HealthCheck.function_scoped_fixture])


def raises_naming(argument, call, *args, **kwargs):
    """call(*args, **kwargs) raises one of ERRORS with `argument` in its message."""
    with pytest.raises(ERRORS) as info:
        call(*args, **kwargs)
    assert argument in str(info.value), f"{argument!r} not named in: {info.value}"


def torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


def run_isolated(name):
    """Run the property `name` of this module in a fresh interpreter (the hypothesis profile
    travels in the environment); a crash there fails this test only."""
    tests = os.path.dirname(os.path.abspath(__file__))
    code = (f"import sys; sys.path.insert(0, {tests!r}); import conftest; "
            f"import test_bad_inputs as t; t.{name}()")
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=600)
    assert child.returncode == 0, (f"{name} exited with {child.returncode}\n"
                                   f"{child.stdout[-2000:]}\n{child.stderr[-4000:]}")


def on_both_paths(call):
    """call() with the Numba kernels and with the NumPy reference: both results."""
    previous = mg.jit_enabled()
    try:
        results = []
        for jit in (True, False):
            mg.set_jit(jit)
            results.append(call())
        return results
    finally:
        mg.set_jit(previous)


def assert_same(a, b):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                               rtol=1e-5, atol=1e-6, equal_nan=True)


# --- ROI ops: NaN, infinite and huge coordinates, bad scales, empty maps (child process) ----

coordinate = st.floats(-20, 40)
special = st.sampled_from([NAN, INF, -INF, 1e300, -(2.0 ** 40), 2.0 ** 24])
scale = st.one_of(st.sampled_from([1.0, 0.5, 0.25]),
                  st.floats(allow_nan=True, allow_infinity=True))


@given(boxes=st.lists(st.tuples(coordinate, coordinate, coordinate, coordinate), max_size=4),
       spoil=st.none() | st.tuples(st.integers(0, 15), special),
       shape=st.tuples(st.integers(0, 2), st.integers(0, 5), st.integers(0, 5)),
       spatial_scale=scale, output_size=st.integers(1, 3), sampling_ratio=st.integers(-1, 2),
       aligned=st.booleans(), pool=st.booleans())
def roi_property(boxes, spoil, shape, spatial_scale, output_size, sampling_ratio, aligned,
                 pool):
    x = np.random.default_rng(0).standard_normal((1,) + shape)
    corners = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    if spoil is not None and corners.size:  # one coordinate NaN, infinite or huge
        corners.reshape(-1)[spoil[0] % corners.size] = spoil[1]
    valid = (min(shape[1:]) > 0 and 0 < spatial_scale < INF
             and bool(np.all(np.abs(corners) * spatial_scale < 2.0 ** 24)))

    def call():
        features = mg.tensor(x, requires_grad=True)
        if pool:
            out = roi_pool(features, [corners], output_size, spatial_scale)
        else:
            out = roi_align(features, [corners], output_size, spatial_scale, sampling_ratio,
                            aligned)
        out.sum().backward()
        return out.data, features.grad

    if not valid:
        with pytest.raises((ValueError, TypeError)) as info:
            call()
        assert any(name in str(info.value) for name in ("boxes", "spatial_scale", "input"))
        return
    (out_jit, grad_jit), (out_numpy, grad_numpy) = on_both_paths(call)
    assert out_jit.shape == (len(corners), shape[0], output_size, output_size)
    assert np.isfinite(out_jit).all() and np.isfinite(grad_jit).all()
    assert_same(out_jit, out_numpy)
    assert_same(grad_jit, grad_numpy)


def test_roi_ops_refuse_what_the_kernels_cannot_take():
    run_isolated("roi_property")


def test_roi_messages_name_the_argument():
    x = mg.tensor(np.zeros((1, 1, 4, 4)))
    raises_naming("boxes", roi_align, x, [np.array([[0.0, NAN, 2, 2]])], 2)
    raises_naming("boxes", roi_pool, x, [np.array([[0.0, 0, INF, 2]])], 2)
    raises_naming("boxes", roi_pool, x, [np.array([[0.0, 0, 1e300, 2]])], 2)
    raises_naming("spatial_scale", roi_align, x, [np.zeros((1, 4))], 2, spatial_scale=NAN)
    raises_naming("spatial_scale", roi_pool, x, [np.zeros((1, 4))], 2, spatial_scale=0.0)
    raises_naming("input", roi_align, mg.tensor(np.zeros((1, 1, 0, 4))), [np.zeros((1, 4))], 2)
    raises_naming("input", roi_pool, mg.tensor(np.zeros((1, 1, 4, 4), np.int64)),
                  [np.zeros((1, 4))], 2)
    raises_naming("boxes", roi_align, x, np.array([[NAN, 0, 0, 1, 1]]), 2)


# --- index arrays the caller can still write (child process) --------------------------------

overwrite = st.sampled_from([10 ** 9, -1, -(10 ** 18), 2 ** 62])


@given(size=st.integers(2, 6), kernel=st.integers(1, 3), stride=st.integers(1, 3),
       value=overwrite, through_data=st.booleans())
def pool_indices_property(size, kernel, stride, value, through_data):
    assume(kernel <= size)
    x = np.random.default_rng(size).standard_normal((1, 2, size, size))

    def grad(mutate):
        features = mg.tensor(x, requires_grad=True)
        out, indices = F.max_pool2d(features, kernel, stride, return_indices=True)
        if mutate:  # the ndarray directly, or the Tensor's in-place write
            if through_data:
                indices.data[...] = value
            else:
                indices[0, 0, 0, 0] = value
        out.sum().backward()
        return features.grad

    for jit_grads in on_both_paths(lambda: (grad(False), grad(True))):
        np.testing.assert_array_equal(*jit_grads)


@given(size=st.integers(1, 4), value=overwrite, seed=st.integers(0, 2 ** 32 - 1))
def unpool_indices_property(size, value, seed):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, 4 * size * size, (1, 2, size, size))
    weights = rng.standard_normal((1, 2, 2 * size, 2 * size))

    def grad():
        values = mg.tensor(rng.standard_normal((1, 2, size, size)), requires_grad=True)
        mine = indices.copy()
        out = F.max_unpool2d(values, mine, 2)
        mine[...] = value  # after the forward: the op must not read the caller's array again
        (out * mg.tensor(weights)).sum().backward()
        return values.grad

    expected = np.take_along_axis(weights.reshape(1, 2, -1), indices.reshape(1, 2, -1), axis=2)
    for result in on_both_paths(grad):
        np.testing.assert_array_equal(result, expected.reshape(indices.shape))


def test_writing_pool_indices_after_forward_does_not_reach_backward():
    run_isolated("pool_indices_property")


def test_writing_unpool_indices_after_forward_does_not_reach_backward():
    run_isolated("unpool_indices_property")


@given(low=st.integers(-(2 ** 62), -1) | st.integers(16, 2 ** 62), position=st.integers(0, 3))
def test_unpool_refuses_out_of_range_indices(low, position):
    indices = np.zeros((1, 1, 2, 2), np.int64)
    indices.reshape(-1)[position] = low
    raises_naming("indices", F.max_unpool2d, mg.tensor(np.ones((1, 1, 2, 2))), indices, 2)


# --- empty and zero-size axes ----------------------------------------------------------------
# PyTorch's rule, which minigrad follows: a pool or an interpolation may have an empty batch,
# never an empty plane, and an empty channel axis only in adaptive_avg_pool2d.

PLANE_OPS = {
    "max_pool2d": (lambda x: F.max_pool2d(x, 1), False),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 1), False),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, 2), True),
    "adaptive_max_pool2d": (lambda x: F.adaptive_max_pool2d(x, 2), False),
    "interpolate nearest": (lambda x: F.interpolate(x, size=3), False),
    "interpolate bilinear": (lambda x: F.interpolate(x, size=3, mode="bilinear"), False),
    "interpolate bicubic": (lambda x: F.interpolate(x, size=3, mode="bicubic"), False),
}


@pytest.mark.parametrize("name", sorted(PLANE_OPS))
@given(shape=st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 3),
                       st.integers(0, 3)))
@with_fixture
def test_planes_with_zero_size_axes(name, shape, jit):
    op, empty_channels = PLANE_OPS[name]
    x = np.ones(shape, np.float32)
    empty = min(shape[2:]) == 0 or (shape[1] == 0 and not empty_channels)
    if empty:
        raises_naming("input", op, mg.tensor(x))
    else:
        out = op(mg.tensor(x))
        assert out.shape[:2] == shape[:2]
        np.testing.assert_allclose(out.data, 1.0, rtol=1e-6)  # the weights sum to 1
    torch = torch_or_none()
    if torch is not None:
        import torch.nn.functional as TF
        torch_op = {"max_pool2d": lambda t: TF.max_pool2d(t, 1),
                    "avg_pool2d": lambda t: TF.avg_pool2d(t, 1),
                    "adaptive_avg_pool2d": lambda t: TF.adaptive_avg_pool2d(t, 2),
                    "adaptive_max_pool2d": lambda t: TF.adaptive_max_pool2d(t, 2)}.get(
            name, lambda t: TF.interpolate(t, size=3, mode=name.split()[-1]))
        try:
            expected = torch_op(torch.from_numpy(x))
        except RuntimeError:
            assert empty, f"PyTorch refuses input of shape {shape}, minigrad computes it"
        else:
            assert not empty, f"PyTorch computes input of shape {shape}, minigrad refuses it"
            assert out.shape == tuple(expected.shape)


@given(weight=st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2),
                        st.integers(0, 2)),
       image=st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 3)),
       transpose=st.booleans())
def test_convolutions_with_zero_size_axes(weight, image, transpose):
    n, h, w = image
    cin = weight[0] if transpose else weight[1]
    x, k = np.ones((n, cin, h, w), np.float32), np.ones(weight, np.float32)
    op = F.conv_transpose2d if transpose else F.conv2d
    if min(weight[2:]) == 0:
        raises_naming("kernel size", op, mg.tensor(x), mg.tensor(k), padding=0)
        return
    bad = min(weight) == 0 or min(x.shape[1:]) == 0 or (
        not transpose and min(h - weight[2], w - weight[3]) < 0)
    if bad:
        with pytest.raises(ValueError) as info:
            op(mg.tensor(x), mg.tensor(k))
        assert "weight" in str(info.value) or "input" in str(info.value)
        return
    out = op(mg.tensor(x), mg.tensor(k))
    torch = torch_or_none()
    if torch is not None:
        import torch.nn.functional as TF
        expected = (TF.conv_transpose2d if transpose else TF.conv2d)(torch.from_numpy(x),
                                                                     torch.from_numpy(k))
        np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6)


def test_pytorch_refuses_the_empty_convolutions_minigrad_refuses():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    for x, k in [((1, 2, 4, 4), (3, 2, 0, 0)), ((1, 2, 4, 4), (3, 2, 0, 2)),
                 ((1, 2, 0, 4), (3, 2, 1, 1)), ((1, 2, 4, 4), (0, 2, 3, 3))]:
        with pytest.raises(RuntimeError):
            TF.conv2d(torch.zeros(x), torch.zeros(k), padding=1)
        with pytest.raises(ValueError):
            F.conv2d(mg.tensor(np.zeros(x, np.float32)), mg.tensor(np.zeros(k, np.float32)),
                     padding=1)


def test_norms_and_losses_on_empty_input():
    empty = mg.tensor(np.zeros((0, 4), np.float32))
    assert F.layer_norm(empty, 4).shape == (0, 4)
    assert F.layer_norm(mg.tensor(np.zeros((2, 0), np.float32)), (0,)).shape == (2, 0)
    assert F.group_norm(mg.tensor(np.zeros((0, 4, 2, 2), np.float32)), 2).shape == (0, 4, 2, 2)
    none = mg.tensor(np.zeros(0, np.float32))
    for loss in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.binary_cross_entropy,
                 F.binary_cross_entropy_with_logits):
        assert math.isnan(loss(none, none).item()), loss.__name__  # 0/0, as PyTorch
        assert loss(none, none, reduction="sum").item() == 0.0
        assert loss(none, none, reduction="none").shape == (0,)
    target = np.zeros(0, np.int64)
    assert math.isnan(F.cross_entropy(mg.tensor(np.zeros((0, 3), np.float32)), target).item())
    assert math.isnan(F.nll_loss(mg.tensor(np.zeros((0, 3), np.float32)), target).item())


# --- dtypes -----------------------------------------------------------------------------------
# minigrad computes what PyTorch computes and refuses the rest with a TypeError naming the
# input's dtype, with these exceptions. Where minigrad's result is exact, it computes what
# PyTorch refuses: nearest interpolation copies integers of any width, and avg_pool2d
# averages every integer dtype the way PyTorch averages int64. It refuses PyTorch's uint8
# bilinear and bicubic interpolation (image resizing with PyTorch's own fixed-point rounding)
# and integer convolutions (its convolutions are floating-point GEMMs).

DTYPE_OPS = {
    "conv2d": lambda F, x: F.conv2d(x, x[:1, :, :2, :2], padding=1),
    "depthwise conv2d": lambda F, x: F.conv2d(x, x[0, :, :3, :3].reshape(4, 1, 3, 3), groups=4),
    "conv_transpose2d": lambda F, x: F.conv_transpose2d(x, x[0, :, :2, :2].reshape(4, 1, 2, 2)),
    "max_pool2d": lambda F, x: F.max_pool2d(x, 2),
    "avg_pool2d": lambda F, x: F.avg_pool2d(x, 2, 1, 1, count_include_pad=False),
    "adaptive_avg_pool2d": lambda F, x: F.adaptive_avg_pool2d(x, 3),
    "adaptive_max_pool2d": lambda F, x: F.adaptive_max_pool2d(x, 3),
    "interpolate nearest": lambda F, x: F.interpolate(x, scale_factor=2),
    "interpolate bilinear": lambda F, x: F.interpolate(x, size=(5, 3), mode="bilinear"),
    "interpolate bicubic": lambda F, x: F.interpolate(x, size=(5, 3), mode="bicubic"),
    "batch_norm": lambda F, x: F.batch_norm(x, None, None, training=True),
    "layer_norm": lambda F, x: F.layer_norm(x, (4,)),
    "group_norm": lambda F, x: F.group_norm(x, 2),
    "instance_norm": lambda F, x: F.instance_norm(x),
    "mse_loss": lambda F, x: F.mse_loss(x, x * 0),
    "l1_loss": lambda F, x: F.l1_loss(x, x * 0),
    "smooth_l1_loss": lambda F, x: F.smooth_l1_loss(x, x * 0),
}
EXACT_WHERE_PYTORCH_REFUSES = {("interpolate nearest", "int64"), ("interpolate nearest", "int32"),
                               ("avg_pool2d", "int32"), ("avg_pool2d", "uint8")}
REFUSED_WHERE_PYTORCH_COMPUTES = {("interpolate bilinear", "uint8"),
                                  ("interpolate bicubic", "uint8")} | {
    (conv, dtype) for conv in ("conv2d", "depthwise conv2d", "conv_transpose2d")
    for dtype in ("int64", "int32", "uint8")}


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float16"])
@pytest.mark.parametrize("name", sorted(DTYPE_OPS))
def test_dtypes_follow_pytorch(name, dtype, jit):
    data = np.random.default_rng(0).standard_normal((2, 4, 4, 4)) * 20
    x = np.abs(data).astype(dtype) if dtype in ("uint8", "bool") else data.astype(dtype)
    op = DTYPE_OPS[name]
    try:
        out = op(F, mg.tensor(x)).data
    except (TypeError, ValueError) as error:
        out = None
        assert "input" in str(error) and dtype in str(error), str(error)
    if dtype == "float16" and out is not None:
        assert out.dtype == np.float16  # computed in float32, rounded to float16
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = op(TF, torch.from_numpy(x))
    except (RuntimeError, TypeError):  # NotImplementedError is a RuntimeError
        assert out is None or (name, dtype) in EXACT_WHERE_PYTORCH_REFUSES, \
            f"PyTorch refuses {dtype}, minigrad computes it"
        return
    if (name, dtype) in REFUSED_WHERE_PYTORCH_COMPUTES:
        assert out is None
        return
    assert out is not None, f"PyTorch computes {dtype}, minigrad refuses it"
    tolerance = dict(rtol=2e-2, atol=2e-2) if dtype == "float16" else dict(rtol=0, atol=0)
    np.testing.assert_allclose(out.astype(np.float64), expected.double().numpy(), **tolerance)


def test_object_arrays_are_refused():
    x = np.empty((1, 1, 2, 2), object)
    x[...] = 1.0
    for call in (lambda: F.max_pool2d(x, 1), lambda: F.interpolate(x, size=3),
                 lambda: F.conv2d(x, np.ones((1, 1, 1, 1))), lambda: F.layer_norm(x, 2),
                 lambda: F.mse_loss(x, x), lambda: roi_align(x, [np.zeros((1, 4))], 1)):
        with pytest.raises((TypeError, ValueError)) as info:
            call()
        assert "object" in str(info.value)


def test_integer_running_buffers_are_refused():
    x = mg.tensor(np.ones((2, 3, 2, 2), np.float32))
    raises_naming("running_mean", F.batch_norm, x, np.zeros(3, np.int64), np.ones(3),
                  training=True)
    raises_naming("running_var", F.instance_norm, x, np.zeros(3), np.ones(3, np.int32))


# --- NaN, infinite and mistyped parameters ---------------------------------------------------

x4 = mg.tensor(np.ones((1, 2, 4, 4), np.float32))
BAD_PARAMETERS = [
    ("scale_factor", lambda v: F.interpolate(x4, scale_factor=v),
     [NAN, INF, -1.0, 0.0, "2", 1e300]),
    ("size", lambda v: F.interpolate(x4, size=v), [0, -1, 2.5, (2, NAN), 10 ** 12]),
    ("beta", lambda v: F.smooth_l1_loss(x4, x4, beta=v), [NAN, -1.0]),
    ("label_smoothing", lambda v: F.cross_entropy(mg.tensor(np.ones((2, 3))), np.zeros(2, int),
                                                  label_smoothing=v), [NAN, -0.5, 1.5]),
    ("p", lambda v: F.dropout(x4, v), [NAN, -0.1, 1.1]),
    ("kernel_size", lambda v: F.max_pool2d(x4, v), [0, 2.0, NAN, (2,), True]),
    ("stride", lambda v: F.avg_pool2d(x4, 2, v), [0, 1.5, NAN]),
    ("output_size", lambda v: F.adaptive_avg_pool2d(x4, v), [NAN, (2, 2, 2), 10 ** 12]),
    ("output_size", lambda v: F.adaptive_max_pool2d(x4, v), [0, (1, 10 ** 11)]),
    ("stride", lambda v: F.conv2d(x4, mg.tensor(np.ones((1, 2, 1, 1), np.float32)), stride=v),
     [0, NAN, 1.5]),
    ("padding", lambda v: F.conv2d(x4, mg.tensor(np.ones((1, 2, 1, 1), np.float32)),
                                   padding=v), [-1, NAN, "full"]),
    ("normalized_shape", lambda v: F.layer_norm(x4, v), [4.0, NAN, (4.0,), "4"]),
    ("num_groups", lambda v: F.group_norm(x4, v), [2.0, NAN, 0, 3]),
    ("max_val", lambda v: F.hardtanh(x4, 1.0, v), [-1.0]),
    ("pad", lambda v: F.pad(x4, v), [(1.5, 1), (NAN, 1), (1,)]),
    ("reduction", lambda v: F.mse_loss(x4, x4, reduction=v), ["average", None]),
    ("spatial_scale", lambda v: roi_align(x4, [np.zeros((1, 4))], 2, spatial_scale=v),
     [NAN, INF, 0.0, -1.0, "1"]),
    ("sampling_ratio", lambda v: roi_align(x4, [np.zeros((1, 4))], 2, sampling_ratio=v),
     [1.5, NAN]),
    ("output_size", lambda v: roi_pool(x4, [np.zeros((1, 4))], v), [0, NAN, (1, 2, 3)]),
]


@pytest.mark.parametrize("argument,call,values", BAD_PARAMETERS,
                         ids=[f"{i}-{case[0]}" for i, case in enumerate(BAD_PARAMETERS)])
def test_bad_parameters_get_a_clear_error(argument, call, values):
    for value in values:
        raises_naming(argument, call, value)


# --- shapes that do not fit -------------------------------------------------------------------

shape = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)


@given(input_shape=shape, target_shape=shape)
def test_regression_losses_on_shapes_that_do_not_broadcast(input_shape, target_shape):
    try:
        np.broadcast_shapes(input_shape, target_shape)
    except ValueError:
        fits = False
    else:
        fits = True
    x, t = (mg.tensor(np.ones(s, np.float32)) for s in (input_shape, target_shape))
    for loss in (F.mse_loss, F.l1_loss, F.smooth_l1_loss):
        if fits:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert loss(x, t, reduction="none").shape == np.broadcast_shapes(input_shape,
                                                                                 target_shape)
        else:
            raises_naming("target", loss, x, t)
    for loss in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        if input_shape != target_shape:
            raises_naming("target", loss, x * 0.5, t)


@given(n=st.integers(0, 3), classes=st.integers(1, 4), wrong=st.integers(0, 3))
def test_class_losses_on_targets_that_do_not_fit(n, classes, wrong):
    logits = mg.tensor(np.zeros((n, classes), np.float32))
    assume(wrong != n)
    for loss in (F.cross_entropy, F.nll_loss):
        raises_naming("target", loss, logits, np.zeros(wrong, np.int64))
        if n:  # a class index past the last class
            raises_naming("target", loss, logits, np.full(n, classes, np.int64))
        raises_naming("weight", loss, logits, np.zeros(n, np.int64), weight=np.ones(classes + 1))


@given(channels=st.integers(1, 4), wrong=st.integers(0, 5))
def test_norm_parameters_that_do_not_fit(channels, wrong):
    assume(wrong != channels)
    x = mg.tensor(np.ones((2, channels, 3, 3), np.float32))
    raises_naming("weight", F.batch_norm, x, None, None, np.ones(wrong), training=True)
    raises_naming("bias", F.instance_norm, x, bias=np.ones(wrong))
    raises_naming("weight", F.group_norm, x, 1, np.ones(wrong))
    raises_naming("normalized_shape", F.layer_norm, x, (wrong, 3, 3))
    raises_naming("running_mean", F.batch_norm, x, np.zeros(wrong), np.ones(channels))
    raises_naming("weight", F.conv2d, x, mg.tensor(np.ones((1, wrong, 1, 1), np.float32)))


# --- the two kernel paths agree on NaN and infinity --------------------------------------------

def with_specials(rng, shape, count):
    """Standard normal values with `count` of them replaced by NaN, inf or -inf."""
    x = rng.standard_normal(shape)
    flat = x.reshape(-1)
    flat[rng.integers(0, flat.size, count)] = rng.choice([NAN, INF, -INF], count)
    return x


AGREEMENT_OPS = {
    "max_pool2d": lambda x: F.max_pool2d(x, 3, 2, 1),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
    "adaptive_max_pool2d": lambda x: F.adaptive_max_pool2d(x, (3, 4)),
    "interpolate nearest": lambda x: F.interpolate(x, size=(7, 3)),
    "interpolate bilinear": lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
    "interpolate bicubic": lambda x: F.interpolate(x, size=(4, 9), mode="bicubic",
                                                   align_corners=True),
    "conv2d": lambda x: F.conv2d(x, mg.tensor(np.linspace(-1, 1, 54).reshape(3, 2, 3, 3)),
                                 padding=1, stride=2),
    "depthwise conv2d": lambda x: F.conv2d(x, mg.tensor(np.linspace(-1, 1, 36).reshape(4, 1, 3, 3)),
                                           padding=(2, 1), dilation=2, groups=2),
    "conv_transpose2d": lambda x: F.conv_transpose2d(
        x, mg.tensor(np.linspace(-1, 1, 36).reshape(2, 2, 3, 3)), stride=2, padding=1),
    "batch_norm": lambda x: F.batch_norm(x, None, None, training=True),
    "group_norm": lambda x: F.group_norm(x, 1, mg.tensor(np.arange(2.0)), mg.tensor(np.ones(2))),
    "roi_align": lambda x: roi_align(x, [np.array([[0, 0, 4, 3], [-2, 1, 9, 9.5]])] * 2, 3,
                                     0.9, aligned=True),
    "roi_pool": lambda x: roi_pool(x, [np.array([[0, 0, 4, 3], [1, 1, 9, 9]])] * 2, 3, 0.9),
}


@pytest.mark.parametrize("name", sorted(AGREEMENT_OPS))
@given(seed=st.integers(0, 2 ** 32 - 1), height=st.integers(5, 9), width=st.integers(5, 9),
       specials=st.integers(0, 6))
def test_jit_and_numpy_agree_on_nan_and_inf(name, seed, height, width, specials):
    rng = np.random.default_rng(seed)
    x = with_specials(rng, (2, 2, height, width), specials)
    grad_seed = int(rng.integers(2 ** 32))

    def call():
        features = mg.tensor(x, requires_grad=True)
        out = AGREEMENT_OPS[name](features)
        out.backward(with_specials(np.random.default_rng(grad_seed), out.shape, specials // 2))
        return out.data, features.grad

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        (out_jit, grad_jit), (out_numpy, grad_numpy) = on_both_paths(call)
    assert_same(out_jit, out_numpy)
    assert_same(grad_jit, grad_numpy)


def test_one_nan_stays_local_on_both_paths(jit):
    x = np.zeros((1, 1, 6, 6))
    x[0, 0, 0, 0] = NAN
    for out in (F.avg_pool2d(mg.tensor(x), 2), F.adaptive_avg_pool2d(mg.tensor(x), 3),
                F.interpolate(mg.tensor(x), size=(3, 3), mode="bilinear")):
        assert np.isnan(out.data).sum() == 1 and np.isnan(out.data[0, 0, 0, 0])
    # the box reaches past the map: the samples there are dropped, and read nothing
    out = roi_align(mg.tensor(x), [np.array([[3.0, 3, 6, 6], [3.0, 3, 12, 12]])], 2,
                    aligned=True)
    assert not np.isnan(out.data).any()
