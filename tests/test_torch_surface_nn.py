"""The nn surface PyTorch code needs (issue 8): activations with PyTorch's kink gradients,
softmax's dim, dropout2d, one_hot, normalize, BCE, padding and Unflatten modules, the Module
API (apply, add_module, get_submodule, to/float/double/half, zero_grad), nn.init on
ndarrays, DataParallel.

Expected values are worked by hand from the definitions; the `*_matches_torch` tests compare
with PyTorch when it is installed.
"""
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad import nn
from minigrad.device import channels_last, device
from minigrad.nn import init
from minigrad.testing import arrays, assert_gradcheck, shapes


def leaf(values, dtype=np.float64):
    return mg.Tensor(np.array(values, dtype=dtype), requires_grad=True)


def value_and_grad(fn, values, dtype=np.float64):
    """fn(x) and d sum(fn(x)) / dx at `values`."""
    x = leaf(values, dtype)
    out = fn(x)
    out.backward(np.ones(out.shape, out.dtype))
    return out.data, x.grad


@st.composite
def away_from(draw, kinks, min_dims=1, max_dims=3, gap=0.05):
    """A float64 tensor with no value within `gap` of a kink, so that gradcheck's central
    difference never straddles one."""
    values = draw(arrays(draw(shapes(min_dims, max_dims)), low=-8.0, high=8.0))
    for k in kinks:
        near = np.abs(values - k) < gap
        values = np.where(near, k + np.where(values >= k, gap, -gap), values)
    return mg.Tensor(values, requires_grad=True)


# --- activations -------------------------------------------------------------------------

KINKS = [-4.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 7.0]


def test_relu6_and_hardtanh_pass_the_gradient_strictly_inside_their_range():
    out, grad = value_and_grad(F.relu6, KINKS)
    np.testing.assert_array_equal(out, [0, 0, 0, 0, 1, 3, 6, 6])
    np.testing.assert_array_equal(grad, [0, 0, 0, 0, 1, 1, 0, 0])  # 0 at 0 and at 6
    out, grad = value_and_grad(F.hardtanh, KINKS)
    np.testing.assert_array_equal(out, [-1, -1, -1, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(grad, [0, 0, 0, 1, 0, 0, 0, 0])  # 0 at -1 and at 1
    out, grad = value_and_grad(lambda t: F.hardtanh(t, -3.0, 6.0), KINKS)
    np.testing.assert_array_equal(out, [-3, -3, -1, 0, 1, 3, 6, 6])
    np.testing.assert_array_equal(grad, [0, 0, 1, 1, 1, 1, 0, 0])


def test_hardsigmoid_and_hardswish_values_and_gradients_at_the_kinks():
    # hardsigmoid(x) = clip(x/6 + 1/2, 0, 1): slope 1/6 strictly inside (-3, 3)
    out, grad = value_and_grad(F.hardsigmoid, KINKS)
    np.testing.assert_allclose(out, [0, 0, 1 / 3, 1 / 2, 2 / 3, 1, 1, 1], rtol=1e-15)
    np.testing.assert_allclose(grad, [0, 0, 1 / 6, 1 / 6, 1 / 6, 0, 0, 0], rtol=1e-15)
    # hardswish(x) = x * hardsigmoid(x): slope x/3 + 1/2 on (-3, 3), 0 at -3, 1 from 3 on
    out, grad = value_and_grad(F.hardswish, KINKS)
    np.testing.assert_allclose(out, [0, 0, -1 / 3, 0, 2 / 3, 3, 6, 7], rtol=1e-15)
    np.testing.assert_allclose(grad, [0, 0, 1 / 6, 1 / 2, 5 / 6, 1, 1, 1], rtol=1e-15)


def test_elu_values_and_its_gradient_at_zero_is_alpha():
    out, grad = value_and_grad(lambda t: F.elu(t, alpha=2.0), [-1.0, 0.0, 2.0])
    np.testing.assert_allclose(out, [2 * (math.exp(-1) - 1), 0, 2], rtol=1e-15)
    # x <= 0 takes the negative piece, alpha e^x: alpha at 0 (PyTorch's rule)
    np.testing.assert_allclose(grad, [2 * math.exp(-1), 2, 1], rtol=1e-15)
    assert value_and_grad(F.elu, [0.0])[1] == 1.0


def test_silu_values_gradient_and_no_overflow_far_left():
    s = 1 / (1 + math.exp(-1))  # sigmoid(1)
    out, grad = value_and_grad(F.silu, [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(out, [-(1 - s), 0, s], rtol=1e-15)
    # d/dx x s(x) = s (1 + x (1 - s)); s(-1) = 1 - s
    np.testing.assert_allclose(grad, [(1 - s) * (1 - s), 0.5, s * (2 - s)], rtol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, grad = value_and_grad(F.silu, [-1000.0, 1000.0])
    np.testing.assert_array_equal(out, [0.0, 1000.0])
    np.testing.assert_array_equal(grad, [0.0, 1.0])


GRADCHECKED = {
    "relu6": (F.relu6, [0.0, 6.0]),
    "hardtanh": (F.hardtanh, [-1.0, 1.0]),
    "hardtanh(-2, 3)": (lambda t: F.hardtanh(t, -2.0, 3.0), [-2.0, 3.0]),
    "hardsigmoid": (F.hardsigmoid, [-3.0, 3.0]),
    "hardswish": (F.hardswish, [-3.0, 3.0]),
    "elu": (F.elu, [0.0]),
    "elu(0.3)": (lambda t: F.elu(t, 0.3), [0.0]),
    "silu": (F.silu, []),
}


@pytest.mark.parametrize("name", GRADCHECKED)
@given(data=st.data())
def test_activation_gradcheck(name, data):
    fn, kinks = GRADCHECKED[name]
    assert_gradcheck(fn, data.draw(away_from(kinks)))


@pytest.mark.parametrize("fn", [F.relu, F.relu6, F.hardtanh, F.hardsigmoid, F.hardswish,
                                F.elu, F.silu, F.leaky_relu])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_activations_keep_the_dtype_and_shape(fn, dtype):
    x = mg.Tensor(np.linspace(-5, 5, 12).reshape(3, 4).astype(dtype))
    out = fn(x)
    assert out.dtype == dtype and out.shape == (3, 4)


INPLACE_MODULES = [nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid,
                   nn.SiLU, nn.ELU, nn.Dropout, nn.Dropout2d]


@pytest.mark.parametrize("module", INPLACE_MODULES, ids=lambda m: m.__name__)
def test_inplace_modules_are_accepted_and_compute_out_of_place(module):
    x = mg.Tensor(np.linspace(-4, 4, 24).reshape(1, 2, 3, 4))
    before = x.data.copy()
    layer = module(inplace=True).eval()  # eval: dropout is the identity
    out = layer(x)
    np.testing.assert_array_equal(out.data, module().eval()(x).data)
    np.testing.assert_array_equal(x.data, before)  # the input is left as it was
    assert "inplace=True" in repr(layer) or module in (nn.Hardswish, nn.Hardsigmoid)


@pytest.mark.parametrize("fn", [F.relu, F.relu6, F.leaky_relu, F.hardtanh, F.silu, F.elu,
                                F.hardswish, F.hardsigmoid, F.dropout, F.dropout2d])
def test_functional_inplace_is_accepted(fn):
    x = mg.Tensor(np.linspace(-4, 4, 24).reshape(2, 3, 4))
    before = x.data.copy()
    kwargs = {"training": False} if fn in (F.dropout, F.dropout2d) else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropout2d's note on 3-d inputs
        np.testing.assert_array_equal(fn(x, inplace=True, **kwargs).data, fn(x, **kwargs).data)
    np.testing.assert_array_equal(x.data, before)


def test_activation_and_dropout_reprs_are_pytorchs():
    # the strings PyTorch 2.x prints for the same constructions
    cases = [(nn.ReLU(), "ReLU()"), (nn.ReLU(inplace=True), "ReLU(inplace=True)"),
             (nn.ReLU6(), "ReLU6()"), (nn.ReLU6(True), "ReLU6(inplace=True)"),
             (nn.Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)"),
             (nn.Hardtanh(-2, 3.5, True), "Hardtanh(min_val=-2, max_val=3.5, inplace=True)"),
             (nn.Hardswish(True), "Hardswish()"), (nn.Hardsigmoid(True), "Hardsigmoid()"),
             (nn.SiLU(), "SiLU()"), (nn.SiLU(True), "SiLU(inplace=True)"),
             (nn.ELU(), "ELU(alpha=1.0)"), (nn.ELU(0.5, True), "ELU(alpha=0.5, inplace=True)"),
             (nn.LeakyReLU(0.1, True), "LeakyReLU(negative_slope=0.1, inplace=True)"),
             (nn.Softmax(), "Softmax(dim=None)"), (nn.Softmax(1), "Softmax(dim=1)"),
             (nn.LogSoftmax(dim=-1), "LogSoftmax(dim=-1)"),
             (nn.Dropout2d(), "Dropout2d(p=0.5, inplace=False)"),
             (nn.Dropout2d(0.2, True), "Dropout2d(p=0.2, inplace=True)"),
             (nn.Dropout(0.1, True), "Dropout(p=0.1, inplace=True)")]
    for module, expected in cases:
        assert repr(module) == expected


def test_hardtanh_module_needs_max_above_min():
    with pytest.raises(ValueError, match=r"max_val \(1\) must be greater than min_val \(2\)"):
        nn.Hardtanh(2, 1)


# --- softmax -----------------------------------------------------------------------------

def test_softmax_takes_dim_and_the_axis_alias():
    x = mg.Tensor(np.array([[0.0, math.log(3)], [0.0, 0.0]]))
    # along dim 1: (1, 3)/4 and (1, 1)/2; along dim 0: column 1 is (3, 1)/4
    np.testing.assert_allclose(F.softmax(x, dim=1).data, [[0.25, 0.75], [0.5, 0.5]], rtol=1e-15)
    np.testing.assert_allclose(F.softmax(x, 0).data, [[0.5, 0.75], [0.5, 0.25]], rtol=1e-15)
    np.testing.assert_allclose(F.softmax(x, axis=0).data, F.softmax(x, 0).data, rtol=0)
    np.testing.assert_allclose(F.log_softmax(x, dim=1).data,
                               np.log([[0.25, 0.75], [0.5, 0.5]]), rtol=1e-15)
    np.testing.assert_allclose(nn.LogSoftmax(dim=0)(x).data, np.log(F.softmax(x, 0).data),
                               rtol=1e-15)
    with pytest.raises(TypeError, match="got both dim=1 and its alias axis=0"):
        F.softmax(x, dim=1, axis=0)


@pytest.mark.parametrize("ndim, dim", [(1, 0), (2, 1), (3, 0), (4, 1)])
def test_softmax_without_dim_warns_and_takes_pytorchs_implicit_dim(ndim, dim):
    x = mg.Tensor(np.random.default_rng(0).normal(size=(2, 3, 2, 3)[:ndim]))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = F.softmax(x)
    np.testing.assert_allclose(out.data.sum(axis=dim), 1.0, rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax") as record:
        nn.LogSoftmax()(x)
    assert record[0].filename == __file__  # the warning points at the line calling the module


def test_softmax_dtype_casts_first():
    x = mg.Tensor(np.array([0.0, 1.0], np.float32))
    assert F.softmax(x, 0, dtype=np.float64).dtype == np.float64
    assert F.softmax(x, 0).dtype == np.float32


@given(data=st.data())
def test_softmax_dim_gradcheck(data):
    x = mg.Tensor(data.draw(arrays(data.draw(shapes(1, 3)))), requires_grad=True)
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert_gradcheck(lambda t: F.softmax(t, dim=dim), x)
    assert_gradcheck(lambda t: F.log_softmax(t, dim), x)


# --- dropout2d ---------------------------------------------------------------------------

def test_dropout2d_zeros_whole_channels_and_scales_the_rest():
    mg.manual_seed(0)
    x = mg.Tensor(np.ones((100, 50, 2, 3), np.float32), requires_grad=True)
    out = F.dropout2d(x, p=0.4)
    kept = out.data[:, :, 0, 0] != 0  # (N, C)
    # each channel is one draw: all of its H*W values kept or all dropped
    np.testing.assert_array_equal(out.data != 0, np.broadcast_to(kept[:, :, None, None],
                                                                 x.shape))
    np.testing.assert_allclose(out.data[out.data != 0], 1 / 0.6, rtol=1e-6)
    assert abs(kept.mean() - 0.6) < 0.03  # 5,000 Bernoulli(0.6) draws: sd 0.007
    out.backward(np.ones(x.shape, np.float32))
    np.testing.assert_allclose(x.grad, out.data, rtol=1e-6)  # d/dx = mask / (1 - p)
    assert out.dtype == np.float32
    assert F.dropout2d(x, 0.4, training=False) is x and nn.Dropout2d().eval()(x) is x
    assert np.all(F.dropout2d(x, 1.0).data == 0)


def test_dropout2d_input_ranks_as_pytorch():
    mg.manual_seed(1)
    with pytest.warns(UserWarning, match=r"taken as \(N, C, L\)"):
        out = F.dropout2d(mg.Tensor(np.ones((20, 30, 4))), 0.5)
    rows = out.data[:, :, 0] != 0
    np.testing.assert_array_equal(out.data != 0, np.repeat(rows[:, :, None], 4, axis=2))
    with pytest.warns(UserWarning, match="2-d input"):
        F.dropout2d(mg.Tensor(np.ones((3, 4))), 0.5)
    with pytest.raises(ValueError, match=r"input of shape \(3,\) has no channel axis"):
        F.dropout2d(mg.Tensor(np.ones(3)), 0.5)
    with pytest.raises(ValueError, match="dropout2d: p must be a probability in \\[0, 1\\], "
                                         "got 1.5"):
        F.dropout2d(mg.Tensor(np.ones((1, 2, 2, 2))), 1.5)
    with pytest.raises(ValueError, match="Dropout2d: p must be a probability"):
        nn.Dropout2d(-0.1)


@given(data=st.data(), p=st.sampled_from([0.0, 0.3, 0.7]))
def test_dropout2d_gradcheck_with_a_fixed_mask(data, p):
    x = mg.Tensor(data.draw(arrays(data.draw(shapes(4, 4, max_side=3)))), requires_grad=True)
    seed = data.draw(st.integers(0, 1000))

    def fn(t):
        mg.manual_seed(seed)  # the same mask at every evaluation
        return F.dropout2d(t, p)

    assert_gradcheck(fn, x)


# --- one_hot -----------------------------------------------------------------------------

def test_one_hot_values_shapes_and_dtype():
    out = F.one_hot(mg.Tensor(np.array([[0, 2], [1, 2]])))
    assert out.dtype == np.int64 and out.shape == (2, 2, 3) and not out.requires_grad
    np.testing.assert_array_equal(out.data, [[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [0, 0, 1]]])
    np.testing.assert_array_equal(F.one_hot(mg.Tensor(np.array(2)), 4).data, [0, 0, 1, 0])
    assert F.one_hot(mg.Tensor(np.zeros(0, np.int64)), 3).shape == (0, 3)
    np.testing.assert_array_equal(F.one_hot(np.array([1, 0], np.int32), 2).data,
                                  [[0, 1], [1, 0]])


def test_one_hot_errors():
    with pytest.raises(ValueError, match="must be non-negative, got -1"):
        F.one_hot(mg.Tensor(np.array([0, -1])))
    with pytest.raises(ValueError, match="smaller than num_classes=3, got 3"):
        F.one_hot(mg.Tensor(np.array([0, 3])), 3)
    with pytest.raises(ValueError, match="empty tensor"):
        F.one_hot(mg.Tensor(np.zeros(0, np.int64)))
    with pytest.raises(TypeError, match="integer class indices, got dtype float64"):
        F.one_hot(mg.Tensor(np.array([0.0, 1.0])))
    with pytest.raises(TypeError, match="num_classes must be an int, got 2.0"):
        F.one_hot(mg.Tensor(np.array([0, 1])), 2.0)


# --- normalize ---------------------------------------------------------------------------

def test_normalize_values():
    x = mg.Tensor(np.array([[3.0, 4.0], [0.0, 0.0], [-1.0, 1.0]]))
    np.testing.assert_allclose(F.normalize(x).data,
                               [[0.6, 0.8], [0, 0], [-math.sqrt(0.5), math.sqrt(0.5)]],
                               rtol=1e-15)
    np.testing.assert_allclose(F.normalize(x, p=1).data, [[3 / 7, 4 / 7], [0, 0], [-0.5, 0.5]],
                               rtol=1e-15)
    # along dim 0, column 0 is (3, 0, -1) / sqrt(10); p = inf divides by max |x|
    np.testing.assert_allclose(F.normalize(x, dim=0).data[:, 0],
                               np.array([3, 0, -1]) / math.sqrt(10), rtol=1e-15)
    np.testing.assert_allclose(F.normalize(x, p=math.inf).data[0], [0.75, 1.0], rtol=1e-15)
    assert F.normalize(mg.Tensor(np.ones((2, 3), np.float32))).dtype == np.float32


def test_normalize_gradient_at_a_zero_vector_is_one_over_eps():
    # ||0|| < eps: the output is x / eps, so d out / d x = 1 / eps (finite, as PyTorch)
    _, grad = value_and_grad(lambda t: F.normalize(t, eps=1e-3), [[0.0, 0.0]])
    np.testing.assert_allclose(grad, [[1e3, 1e3]], rtol=1e-12)
    # p < 1 with a zero entry: finite
    _, grad = value_and_grad(lambda t: F.normalize(t, p=0.5), [[1.0, 0.0, 4.0]])
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, 0.5])
@given(data=st.data())
def test_normalize_gradcheck(p, data):
    x = mg.Tensor(data.draw(arrays(data.draw(shapes(2, 3)), min_magnitude=0.1)),
                  requires_grad=True)
    dim = data.draw(st.integers(0, x.ndim - 1))
    assert_gradcheck(lambda t: F.normalize(t, p, dim), x)


def test_normalize_rejects_a_non_positive_p():
    with pytest.raises(NotImplementedError, match="p=0 is not supported"):
        F.normalize(mg.Tensor(np.ones((2, 2))), p=0)


# --- binary cross entropy -----------------------------------------------------------------

def test_binary_cross_entropy_values_and_clamped_log():
    p = leaf([0.5, 0.25, 0.0, 1.0])
    t = mg.Tensor(np.array([1.0, 0.0, 1.0, 1.0]))
    loss = F.binary_cross_entropy(p, t, reduction="none")
    # -log 0.5, -log 0.75, log 0 clamped at -100, -log 1 = 0
    np.testing.assert_allclose(loss.data, [math.log(2), math.log(4 / 3), 100, 0], rtol=1e-15)
    loss.backward(np.ones(4))
    # (p - t) / max(p (1 - p), 1e-12): -2, 4/3, -1e12, 0
    np.testing.assert_allclose(p.grad, [-2, 4 / 3, -1e12, 0], rtol=1e-12)
    mean = F.binary_cross_entropy(p, t, weight=np.array([2.0, 1.0, 0.0, 1.0]))
    np.testing.assert_allclose(mean.item(), (2 * math.log(2) + math.log(4 / 3)) / 4, rtol=1e-15)
    total = F.binary_cross_entropy(p, t, reduction="sum")
    np.testing.assert_allclose(total.item(), math.log(2) + math.log(4 / 3) + 100, rtol=1e-15)


def test_binary_cross_entropy_target_gradient():
    t = leaf([0.3])
    F.binary_cross_entropy(mg.Tensor(np.array([0.2])), t).backward()
    np.testing.assert_allclose(t.grad, [math.log(0.8) - math.log(0.2)], rtol=1e-14)


@given(data=st.data())
def test_binary_cross_entropy_gradcheck(data):
    shape = data.draw(shapes(1, 3))
    p = mg.Tensor(data.draw(arrays(shape, low=0.05, high=0.95)), requires_grad=True)
    t = mg.Tensor(data.draw(arrays(shape, low=0.0, high=1.0)), requires_grad=True)
    weight = data.draw(arrays(shape[-1:], low=0.5, high=2.0))
    assert_gradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight, "sum"), p, t)


def test_bce_loss_module():
    loss = nn.BCELoss(weight=np.array([1.0, 3.0]), reduction="sum")
    assert repr(loss) == "BCELoss()" and list(loss.state_dict()) == ["weight"]
    value = loss(mg.Tensor(np.array([[0.5, 0.5]])), mg.Tensor(np.array([[1.0, 0.0]])))
    np.testing.assert_allclose(value.item(), 4 * math.log(2), rtol=1e-15)


def test_binary_cross_entropy_errors():
    half = mg.Tensor(np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], got values from 0.5 "
                                         r"to 1.5"):
        F.binary_cross_entropy(mg.Tensor(np.array([0.5, 1.5])), half)
    with pytest.raises(ValueError, match=r"target of shape \(1,\) must have the input's "
                                         r"shape \(2,\)"):
        F.binary_cross_entropy(half, mg.Tensor(np.array([1.0])))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) does not broadcast"):
        F.binary_cross_entropy(half, half, weight=np.ones(3))
    with pytest.raises(ValueError, match="reduction must be 'none', 'mean' or 'sum', "
                                         "got 'avg'"):
        F.binary_cross_entropy(half, half, reduction="avg")


# --- Unflatten and padding -----------------------------------------------------------------

def test_unflatten_splits_one_dim():
    x = leaf(np.arange(24.0).reshape(2, 12))
    out = nn.Unflatten(1, (3, -1))(x)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.data[1, 2], [20, 21, 22, 23])
    assert nn.Unflatten(-1, [2, 6])(x).shape == (2, 2, 6)
    assert repr(nn.Unflatten(1, [2, -1])) == "Unflatten(dim=1, unflattened_size=[2, -1])"
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(x.grad, np.ones((2, 12)))


def test_unflatten_errors():
    with pytest.raises(TypeError, match="element of type float at pos 1"):
        nn.Unflatten(1, (2, 2.0))
    with pytest.raises(TypeError, match="must be a tuple of ints, but found type int"):
        nn.Unflatten(1, 4)
    with pytest.raises(ValueError, match=r"\(2, 2\) does not multiply up to the size 5 of "
                                         r"dim 1"):
        nn.Unflatten(1, (2, 2))(mg.Tensor(np.ones((3, 5))))
    with pytest.raises(ValueError, match=r"\(-1, -1\) does not multiply up"):
        nn.Unflatten(1, (-1, -1))(mg.Tensor(np.ones((3, 4))))


def test_padding_modules():
    x = mg.Tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))  # (1, 1, 2, 2)
    np.testing.assert_array_equal(nn.ZeroPad2d((1, 0, 0, 1))(x).data[0, 0],
                                  [[0, 1, 2], [0, 3, 4], [0, 0, 0]])
    np.testing.assert_array_equal(nn.ConstantPad2d(1, 9.0)(x).data[0, 0],
                                  [[9, 9, 9, 9], [9, 1, 2, 9], [9, 3, 4, 9], [9, 9, 9, 9]])
    np.testing.assert_array_equal(nn.ReflectionPad2d((1, 1, 0, 0))(x).data[0, 0],
                                  [[2, 1, 2, 1], [4, 3, 4, 3]])
    np.testing.assert_array_equal(nn.ReplicationPad2d((0, 0, 2, 0))(x).data[0, 0],
                                  [[1, 2], [1, 2], [1, 2], [3, 4]])
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ConstantPad2d(2, 3.5)) == "ConstantPad2d(padding=(2, 2, 2, 2), value=3.5)"
    assert repr(nn.ReplicationPad2d((1, 2, 3, 4))) == "ReplicationPad2d((1, 2, 3, 4))"
    with pytest.raises(TypeError, match=r"ReflectionPad2d: padding must be an int or a tuple "
                                        r".* got 1.5"):
        nn.ReflectionPad2d(1.5)


@given(data=st.data(), cls=st.sampled_from([nn.ReflectionPad2d, nn.ReplicationPad2d,
                                            nn.ZeroPad2d]))
def test_padding_module_gradcheck(data, cls):
    x = mg.Tensor(data.draw(arrays((1, 2, 3, 3))), requires_grad=True)
    padding = tuple(data.draw(st.integers(0, 2)) for _ in range(4))
    assert_gradcheck(cls(padding), x)


# --- Module ---------------------------------------------------------------------------------

def tiny_net():
    return nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(1, 2, 3)), ("bn", nn.BatchNorm2d(2)), ("act", nn.ReLU()),
        ("head", nn.Sequential(nn.Flatten(), nn.Linear(2, 3)))]))


def test_apply_visits_children_first_then_self_and_returns_self():
    model = tiny_net()
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Conv2d", "BatchNorm2d", "ReLU", "Flatten", "Linear", "Sequential",
                    "Sequential"]

    def init_linear(m):  # the usual way to initialise by layer type
        if isinstance(m, nn.Linear):
            init.constant_(m.weight.data, 0.5)

    np.testing.assert_array_equal(model.apply(init_linear).head[1].weight.data, 0.5)


def test_add_module_register_module_and_register_parameter():
    model = nn.Module()
    model.add_module("block0", nn.Linear(2, 2))
    model.register_module("block1", nn.ReLU())
    model.register_parameter("scale", nn.Parameter(np.ones(3)))
    model.register_parameter("shift", None)
    assert [n for n, _ in model.named_children()] == ["block0", "block1"]
    assert list(model.state_dict()) == ["scale", "block0.weight", "block0.bias"]
    seq = nn.Sequential(nn.Linear(1, 1))
    seq.add_module("extra", nn.ReLU())  # torchvision's DenseNet builds its features so
    assert [n for n, _ in seq.named_children()] == ["0", "extra"] and len(seq) == 2
    layers = nn.ModuleList([nn.ReLU()])
    layers.add_module("1", nn.Tanh())
    assert isinstance(layers[1], nn.Tanh)
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        model.add_module("x", 3)
    with pytest.raises(KeyError, match="module name cannot contain '.', got 'a.b'"):
        model.add_module("a.b", nn.ReLU())
    with pytest.raises(KeyError, match="module name cannot be an empty string"):
        model.add_module("", nn.ReLU())
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        model.add_module("training", nn.ReLU())
    with pytest.raises(KeyError, match="attribute 'block0' already exists"):
        model.register_parameter("block0", nn.Parameter(np.ones(1)))
    with pytest.raises(TypeError, match="cannot assign Tensor to parameter 'w'"):
        model.register_parameter("w", mg.Tensor(np.ones(2)))
    with pytest.raises(KeyError, match="index from 0 to 2, got 'x'"):
        layers.add_module("x", nn.ReLU())


def test_get_submodule_and_get_parameter():
    model = tiny_net()
    assert model.get_submodule("head.1") is model.head[1]
    assert model.get_submodule("") is model
    assert model.get_parameter("head.1.bias") is model.head[1].bias
    assert model.get_parameter("conv.weight") is model.conv.weight
    with pytest.raises(AttributeError, match="Sequential has no attribute `3`"):
        model.get_submodule("head.3")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        model.get_submodule("conv.weight")
    with pytest.raises(AttributeError, match="Linear has no attribute `foo`"):
        model.get_parameter("head.1.foo")
    with pytest.raises(AttributeError, match="`running_mean` is not an nn.Parameter"):
        model.get_parameter("bn.running_mean")


def test_to_float_double_half_keep_parameters_and_convert_grads_and_float_buffers():
    model = tiny_net()
    weight = model.conv.weight
    model(mg.Tensor(np.ones((2, 1, 3, 3), np.float32))).sum().backward()
    assert model.double() is model
    assert model.conv.weight is weight  # the same Parameter, new array
    assert weight.dtype == np.float64 and weight.grad.dtype == np.float64
    assert model.bn.running_var.dtype == np.float64
    assert model.bn.num_batches_tracked.dtype == np.int64  # integer buffers stay
    out = model(mg.Tensor(np.ones((2, 1, 3, 3))))
    assert out.dtype == np.float64
    assert all(p.dtype == np.float16 for p in model.half().parameters())
    assert all(p.dtype == np.float32 for p in model.float().parameters())
    assert model.to(np.float64, non_blocking=True).conv.bias.dtype == np.float64
    assert model.to(dtype=np.float32, memory_format=channels_last) is model
    assert model.to(mg.Tensor(np.zeros(1, np.float16))).conv.weight.dtype == np.float16
    assert model.to("cpu", np.float32).conv.weight.dtype == np.float32
    assert model.to(device("cpu")) is model and model.cpu() is model
    assert model.type(np.float64).bn.num_batches_tracked.dtype == np.float64  # all of them


def test_to_errors():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="only accepts floating point dtypes, but got "
                                        "desired dtype=int64"):
        model.to(np.int64)
    with pytest.raises(RuntimeError, match="'cuda' is not available; minigrad computes on "
                                           "the CPU only"):
        model.to("cuda")
    with pytest.raises(RuntimeError, match="'cuda:1' is not available"):
        model.to(1)
    with pytest.raises(RuntimeError, match="Linear.cuda: device 'cuda' is not available"):
        model.cuda()
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['copy'\]"):
        model.to(np.float64, copy=True)
    with pytest.raises(TypeError, match="expected a dtype such as minigrad.float32, got 3.5"):
        model.to(3.5)


def test_zero_grad_to_none_or_to_zeros_in_place():
    model = nn.Linear(3, 2)
    model(mg.Tensor(np.ones((1, 3), np.float32))).sum().backward()
    grad = model.weight.grad
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is grad and np.all(grad == 0)
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_named_modules_takes_pytorchs_arguments():
    shared = nn.ReLU()
    model = nn.Sequential(shared, nn.Sequential(shared))
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in model.named_modules(None, "net")] == ["net", "net.0", "net.1"]
    assert [n for n, _ in model.named_modules(remove_duplicate=False)] == ["", "0", "1", "1.0"]
    assert len(list(model.modules())) == 3
    linear = nn.Linear(1, 1)
    assert [n for n, _ in nn.Sequential(linear).named_parameters(recurse=False)] == []
    assert [n for n, _ in linear.named_parameters(prefix="fc")] == ["fc.weight", "fc.bias"]


def test_parameters_of_dtype_float16_train():
    layer = nn.Linear(2, 1).half()
    layer(mg.Tensor(np.ones((4, 2), np.float16))).sum().backward()
    assert layer.weight.grad.dtype == np.float16
    np.testing.assert_array_equal(layer.bias.grad, [4])


# --- nn.init ---------------------------------------------------------------------------------

INITIALISERS = {
    "uniform_": lambda a: init.uniform_(a, -0.1, 0.1),
    "normal_": lambda a: init.normal_(a, 0.0, 0.02),
    "trunc_normal_": lambda a: init.trunc_normal_(a, std=0.02),
    "constant_": lambda a: init.constant_(a, 0.5),
    "zeros_": init.zeros_, "ones_": init.ones_,
    "xavier_uniform_": init.xavier_uniform_, "xavier_normal_": init.xavier_normal_,
    "kaiming_uniform_": init.kaiming_uniform_,
    "kaiming_normal_": lambda a: init.kaiming_normal_(a, mode="fan_out", nonlinearity="relu"),
    "orthogonal_": init.orthogonal_,
}


@pytest.mark.parametrize("name", INITIALISERS)
def test_initialisers_fill_a_plain_ndarray_in_place(name):
    weight = nn.Conv2d(3, 8, 3).weight
    array = weight.data  # PyTorch code calls nn.init.normal_(m.weight.data, 0.0, 0.02)
    array[...] = np.nan
    assert INITIALISERS[name](array) is array
    assert weight.data is array and array.dtype == np.float32 and np.all(np.isfinite(array))


def test_trunc_normal_bounds_and_moments():
    mg.manual_seed(0)
    values = init.trunc_normal_(np.empty(100_000), mean=1.0, std=2.0, a=0.0, b=3.0)
    assert values.min() >= 0.0 and values.max() <= 3.0
    # N(1, 4) truncated to [0, 3], alpha = -1/2, beta = 1: mean = 1 + 2 (phi(a) - phi(b)) / Z
    phi = [math.exp(-z * z / 2) / math.sqrt(2 * math.pi) for z in (-0.5, 1.0)]
    z = 0.5 * (math.erf(1 / math.sqrt(2)) - math.erf(-0.5 / math.sqrt(2)))
    assert values.mean() == pytest.approx(1 + 2 * (phi[0] - phi[1]) / z, abs=0.01)
    with pytest.raises(ValueError, match="a < b, got a=1, b=0"):
        init.trunc_normal_(np.empty(3), a=1, b=0)
    with pytest.raises(ValueError, match="mean 10 is more than 2 std"):
        init.trunc_normal_(np.empty(3), mean=10)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (6, 2, 2)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    flat = init.orthogonal_(np.empty(shape), gain=2.0).reshape(shape[0], -1)
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, 4 * np.eye(len(small)), atol=1e-12)
    with pytest.raises(ValueError, match=r"2 or more dimensions are supported, got shape "
                                         r"\(3,\)"):
        init.orthogonal_(np.empty(3))


def test_initialisers_take_a_generator():
    first = init.normal_(np.empty(5), generator=mg.Generator().manual_seed(3))
    second = init.kaiming_uniform_(np.empty((5, 1)), generator=mg.Generator().manual_seed(3))
    again = init.normal_(np.empty(5), generator=mg.Generator().manual_seed(3))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second.ravel())


def test_calculate_gain_covers_pytorchs_names():
    gains = {"relu": math.sqrt(2), "leaky_relu": math.sqrt(2 / (1 + 0.01 ** 2)), "tanh": 5 / 3,
             "sigmoid": 1, "linear": 1, "conv2d": 1, "selu": 0.75}
    for name, gain in gains.items():
        assert init.calculate_gain(name) == pytest.approx(gain, rel=1e-15)


# --- DataParallel ----------------------------------------------------------------------------

def test_data_parallel_is_a_pass_through_with_pytorchs_keys():
    import minigrad.nn.parallel as parallel

    inner = nn.Sequential(nn.Linear(2, 3))
    model = nn.DataParallel(inner, device_ids=[0, 1], output_device=0)
    assert parallel.DataParallel is nn.DataParallel and model.module is inner
    assert list(model.state_dict()) == ["module.0.weight", "module.0.bias"]
    x = mg.Tensor(np.ones((4, 2), np.float32))
    np.testing.assert_array_equal(model(x).data, inner(x).data)
    assert repr(model).startswith("DataParallel(\n  (module): Sequential(")
    with pytest.raises(RuntimeError, match="single CPU process"):
        parallel.DistributedDataParallel(inner)


# --- against PyTorch --------------------------------------------------------------------------

def torch_pair(name):
    torch = pytest.importorskip("torch")
    return torch, getattr(torch.nn.functional, name)


@pytest.mark.parametrize("name, args", [
    ("relu", ()), ("relu6", ()), ("hardtanh", ()), ("hardtanh", (-3.0, 6.0)),
    ("hardswish", ()), ("hardsigmoid", ()), ("elu", ()), ("elu", (0.3,)), ("silu", ()),
    ("leaky_relu", (0.2,))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_match_torch_at_and_between_the_kinks(name, args, dtype):
    torch, torch_fn = torch_pair(name)
    values = np.concatenate([KINKS, [-1000, -0.5, 0.5, 2.5, 1000],
                             np.random.default_rng(0).normal(0, 4, 40)]).astype(dtype)
    upstream = np.random.default_rng(1).normal(size=values.shape).astype(dtype)
    x, tx = leaf(values, dtype), torch.tensor(values, requires_grad=True)
    out, tout = getattr(F, name)(x, *args), torch_fn(tx, *args)
    out.backward(upstream)
    tout.backward(torch.from_numpy(upstream))
    assert out.dtype == dtype and tout.dtype == getattr(torch, np.dtype(dtype).name)
    tol = dict(rtol=1e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), **tol)


@pytest.mark.parametrize("module", INPLACE_MODULES, ids=lambda m: m.__name__)
def test_inplace_modules_match_torch_inplace_results(module):
    torch = pytest.importorskip("torch")
    values = np.linspace(-4, 4, 24).reshape(1, 2, 3, 4)
    ours = module(inplace=True).eval()(mg.Tensor(values)).data
    theirs = getattr(torch.nn, module.__name__)(inplace=True).eval()(torch.tensor(values))
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-15, atol=1e-15)
    assert repr(module(inplace=True)) == repr(getattr(torch.nn, module.__name__)(inplace=True))


def test_reprs_match_torch():
    torch = pytest.importorskip("torch")
    constructions = [
        ("Hardtanh", (-2.0, 3.5)), ("ELU", (0.5,)), ("Softmax", ()), ("LogSoftmax", (1,)),
        ("Unflatten", (1, (2, 3))), ("BCELoss", ()), ("ZeroPad2d", ((1, 2, 3, 4),)),
        ("ConstantPad2d", (1, 0.5)), ("ReflectionPad2d", (2,)), ("ReplicationPad2d", (1,)),
        ("Dropout2d", (0.3,))]
    for name, args in constructions:
        assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))
    assert repr(nn.DataParallel(nn.Linear(2, 3))) == \
        repr(torch.nn.DataParallel(torch.nn.Linear(2, 3)))


@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
def test_softmax_implicit_dim_matches_torch(ndim):
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(ndim).normal(size=(2, 3, 4, 5)[:ndim])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = F.softmax(mg.Tensor(values)).data
        theirs = torch.nn.functional.softmax(torch.tensor(values)).numpy()
        ours_log = nn.LogSoftmax()(mg.Tensor(values)).data
        theirs_log = torch.nn.LogSoftmax()(torch.tensor(values)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(ours_log, theirs_log, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_binary_cross_entropy_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    p = np.array([[0.0, 1e-50, 0.3, 1.0], [0.999, 1e-7, 0.5, 0.9]])
    t = np.array([[1.0, 0.0, 0.5, 0.0], [1.0, 0.2, 0.5, 0.0]])
    weight = np.array([1.0, 2.0, 3.0, 0.5])
    x, target = leaf(p), leaf(t)
    tx, ttarget = (torch.tensor(a, requires_grad=True) for a in (p, t))
    loss = F.binary_cross_entropy(x, target, weight, reduction=reduction)
    tloss = torch.nn.functional.binary_cross_entropy(tx, ttarget, torch.tensor(weight),
                                                     reduction=reduction)
    np.testing.assert_allclose(loss.data, tloss.detach().numpy(), rtol=1e-12)
    upstream = np.random.default_rng(0).normal(size=loss.shape)
    loss.backward(upstream)
    tloss.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-7)  # PyTorch's 1e-12 floor
    np.testing.assert_allclose(target.grad, ttarget.grad.numpy(), rtol=1e-12)  # with +-inf
    module = nn.BCELoss(reduction=reduction)(mg.Tensor(p), mg.Tensor(t))
    tmodule = torch.nn.BCELoss(reduction=reduction)(torch.tensor(p), torch.tensor(t))
    np.testing.assert_allclose(module.data, tmodule.numpy(), rtol=1e-12)


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    index = np.array([[0, 3], [2, 2], [1, 0]])
    for num_classes in (-1, 4, 6):
        ours = F.one_hot(mg.Tensor(index), num_classes)
        theirs = torch.nn.functional.one_hot(torch.tensor(index), num_classes)
        assert ours.dtype == np.int64 and theirs.dtype == torch.int64
        np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, math.inf])
@pytest.mark.parametrize("dim", [0, 1, (0, 1)])
def test_normalize_matches_torch_with_zero_rows(p, dim):
    torch = pytest.importorskip("torch")
    values = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [1.0, -2.0, 2.0]])
    upstream = np.arange(9.0).reshape(3, 3)
    x, tx = leaf(values), torch.tensor(values, requires_grad=True)
    out, tout = F.normalize(x, p, dim), torch.nn.functional.normalize(tx, p, dim)
    out.backward(upstream)
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_padding_and_unflatten_match_torch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    for name, args in [("ZeroPad2d", ((1, 2, 0, 3),)), ("ConstantPad2d", (2, -1.5)),
                       ("ReflectionPad2d", ((3, 1, 2, 0),)), ("ReplicationPad2d", (2,))]:
        ours = getattr(nn, name)(*args)(mg.Tensor(values)).data
        theirs = getattr(torch.nn, name)(*args)(torch.tensor(values)).numpy()
        np.testing.assert_array_equal(ours, theirs)
    ours = nn.Unflatten(2, (2, -1))(mg.Tensor(values)).data
    np.testing.assert_array_equal(ours, torch.nn.Unflatten(2, (2, -1))(torch.tensor(values)))


def test_module_conversions_match_torch():
    torch = pytest.importorskip("torch")

    def dtypes(model):
        return {name: np.dtype(str(array.dtype).replace("torch.", "")).name
                for name, array in model.state_dict().items()}

    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    for convert in (lambda m: m.half(), lambda m: m.double(), lambda m: m.float()):
        assert dtypes(convert(ours)) == dtypes(convert(theirs))
    assert dtypes(ours.type(np.float64)) == dtypes(theirs.type(torch.float64))


def test_get_submodule_errors_match_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.ReLU()))
    for lookup, targets in [("get_submodule", ("1.3", "0.weight", "2", "1.0.x")),
                            ("get_parameter", ("0.foo", "1.0.inplace", "3.weight"))]:
        for target in targets:
            with pytest.raises(AttributeError) as expected:
                getattr(theirs, lookup)(target)
            with pytest.raises(AttributeError) as got:
                getattr(ours, lookup)(target)
            assert str(got.value).startswith(str(expected.value))


def test_data_parallel_state_dict_moves_to_and_from_torch():
    torch = pytest.importorskip("torch")
    ours = nn.DataParallel(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)))
    theirs = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(2, 3),
                                                       torch.nn.BatchNorm1d(3)))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    values = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    np.testing.assert_allclose(ours.eval()(mg.Tensor(values)).data,
                               theirs.eval()(torch.tensor(values)).detach().numpy(), rtol=1e-5)
