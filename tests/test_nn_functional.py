"""Activations and dropout: values from their definitions, gradchecks over drawn shapes."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad import kernels
from minigrad.testing import assert_gradcheck, shapes, tensors

# the `jit` fixture is fixed for all examples of one test run, so sharing it is safe
with_fixture = settings(suppress_health_check=[*settings().suppress_health_check,
                                               HealthCheck.function_scoped_fixture])


def test_erf_kernels_agree_with_known_values(jit):
    x = np.array([[0.0, 0.5, 1.0], [-1.0, 2.0, -3.5]])
    # erf(0.5), erf(1), erf(2), erf(3.5) from Abramowitz & Stegun table 7.1 (odd function)
    expected = [[0.0, 0.5204998778, 0.8427007929], [-0.8427007929, 0.9953222650, -0.9999992569]]
    np.testing.assert_allclose(kernels.erf(x), expected, atol=1e-10)
    assert kernels.erf(x.astype(np.float32)).dtype == np.float64


@given(st.lists(st.floats(-6, 6), min_size=1, max_size=30))
def test_erf_jit_matches_reference(values):
    from minigrad.kernels import jit as jit_kernels, reference
    x = np.array(values).reshape(-1, 1)  # (n, 1): shapes are kept
    np.testing.assert_allclose(jit_kernels.erf(x), reference.erf(x), rtol=1e-15, atol=1e-300)


def test_gelu_values_from_the_normal_cdf():
    x = mg.Tensor(np.array([-2.0, -0.5, 0.0, 1.0, 3.0]))
    # x * Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2; e.g. Phi(1) = 0.841344746068543
    phi = [0.0227501319481792, 0.308537538725987, 0.5, 0.841344746068543, 0.998650101968370]
    np.testing.assert_allclose(F.gelu(x).data, np.array([-2.0, -0.5, 0.0, 1.0, 3.0]) * phi,
                               rtol=1e-13, atol=1e-15)


def test_leaky_relu_values_and_dtype():
    x = mg.Tensor(np.array([-2.0, 0.0, 3.0], np.float32))
    out = F.leaky_relu(x, 0.1)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, np.array([-0.2, 0.0, 3.0], np.float32))
    assert F.gelu(x).dtype == np.float32


@with_fixture
@given(st.data())
def test_gelu_gradcheck(jit, data):
    x = data.draw(tensors(data.draw(shapes(1, 3)), low=-4, high=4))
    assert_gradcheck(F.gelu, x)


@given(st.data(), st.floats(0.0, 2.0))
def test_leaky_relu_gradcheck(data, slope):
    x = data.draw(tensors(data.draw(shapes(1, 3)), min_magnitude=0.05))
    assert_gradcheck(lambda t: F.leaky_relu(t, slope), x)


def test_leaky_relu_gradient_at_zero_is_the_slope():
    # PyTorch's rule: the slope applies where x <= 0
    x = mg.Tensor(np.zeros(2), requires_grad=True)
    F.leaky_relu(x, 0.3).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.3, 0.3])


@given(st.data(), st.sampled_from([0.0, 0.2, 0.5, 0.9]))
def test_dropout_gradcheck_with_a_fixed_mask(data, p):
    x = data.draw(tensors(data.draw(shapes(1, 3))))
    seed = data.draw(st.integers(0, 1000))

    def fn(t):
        mg.manual_seed(seed)  # the same mask at every evaluation
        return F.dropout(t, p)

    assert_gradcheck(fn, x)


def test_dropout_mask_statistics_and_scaling():
    mg.manual_seed(0)
    x = mg.Tensor(np.ones(200_000, np.float32), requires_grad=True)
    out = F.dropout(x, p=0.3)
    kept = out.data != 0
    # 200,000 Bernoulli(0.7) draws: the kept fraction has sd ~0.001
    assert abs(kept.mean() - 0.7) < 0.005
    np.testing.assert_allclose(out.data[kept], 1 / 0.7, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, np.where(kept, 1 / 0.7, 0), rtol=1e-6)
    assert out.dtype == np.float32
    assert np.all(F.dropout(x, p=1.0).data == 0)
    assert F.dropout(x, p=0.3, training=False) is x


def test_bad_arguments():
    x = mg.Tensor(np.ones(3))
    with pytest.raises(ValueError, match="p must be a probability in \\[0, 1\\], got 1.5"):
        F.dropout(x, 1.5)
    with pytest.raises(NotImplementedError, match="approximate='tanh'"):
        F.gelu(x, approximate="tanh")


def test_clip_grad_norm_scales_all_gradients_together():
    from minigrad.nn.utils import clip_grad_norm_
    a, b, c = (mg.nn.Parameter(np.zeros(2)) for _ in range(3))
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([0.0, 4.0])  # joint norm 5; c has none
    assert clip_grad_norm_([a, b, c], max_norm=1.0) == pytest.approx(5.0)
    scale = 1.0 / (5.0 + 1e-6)  # PyTorch's max_norm / (norm + 1e-6)
    np.testing.assert_allclose(a.grad, [3 * scale, 0], rtol=1e-15)
    np.testing.assert_allclose(b.grad, [0, 4 * scale], rtol=1e-15)
    assert clip_grad_norm_([a, b], max_norm=10.0) == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(a.grad, [3 * scale, 0], rtol=1e-15)  # under the limit: kept
    assert math.isclose(clip_grad_norm_(c, 1.0), 0.0)


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_dim_is_checked(fn):
    x = mg.randn(2, 3)
    for dim in (2, -3):
        with pytest.raises(IndexError, match=f"dim {dim} is out of range for a tensor with 2"):
            fn(x, dim=dim)
    with pytest.raises(TypeError, match="dim must be an int, got 1.5"):
        fn(x, dim=1.5)
    np.testing.assert_array_equal(fn(x, dim=-1).data, fn(x, dim=1).data)
