"""nn.init: PyTorch's formulas and fans, moments of the draws, and the course's argument
that the right scale keeps activations alive through a deep stack."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def empty(*shape):
    return nn.Parameter(np.empty(shape, dtype=np.float32))


def test_xavier_uniform_bound_and_variance_use_conv_fans():
    mg.manual_seed(0)
    w = init.xavier_uniform_(empty(64, 32, 3, 3), gain=2.0)
    # fan_in = 32*9 = 288, fan_out = 64*9 = 576; bound = 2 sqrt(6 / 864)
    bound = 2 * math.sqrt(6 / 864)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    assert w.data.var() == pytest.approx(bound ** 2 / 3, rel=0.02)  # 18,432 draws
    assert abs(w.data.mean()) < 0.01 * bound


@pytest.mark.parametrize("mode, fan", [("fan_in", 32 * 9), ("fan_out", 64 * 9)])
def test_kaiming_normal_std(mode, fan):
    mg.manual_seed(1)
    w = init.kaiming_normal_(empty(64, 32, 3, 3), mode=mode, nonlinearity="relu")
    assert w.data.std() == pytest.approx(math.sqrt(2 / fan), rel=0.02)


def test_kaiming_uniform_with_leaky_slope_and_xavier_normal():
    mg.manual_seed(2)
    w = init.kaiming_uniform_(empty(200, 100), a=math.sqrt(5))
    # gain sqrt(2 / (1 + 5)) = sqrt(1/3); bound = sqrt(3) * gain / sqrt(100) = 1/10
    assert np.abs(w.data).max() <= 0.1 and np.abs(w.data).max() > 0.099
    w = init.xavier_normal_(empty(300, 100))
    assert w.data.std() == pytest.approx(math.sqrt(2 / 400), rel=0.02)


def test_simple_fills_and_reproducibility():
    w = empty(50, 40)
    assert np.all(init.constant_(w, 0.3).data == np.float32(0.3))
    assert np.all(init.zeros_(w).data == 0) and np.all(init.ones_(w).data == 1)
    mg.manual_seed(3)
    first = init.uniform_(w, -2, 5).data.copy()
    assert first.min() >= -2 and first.max() < 5 and first.mean() == pytest.approx(1.5, abs=0.1)
    mg.manual_seed(3)
    np.testing.assert_array_equal(init.uniform_(w, -2, 5).data, first)
    mg.manual_seed(4)
    init.normal_(w, mean=3.0, std=0.5)
    assert w.data.mean() == pytest.approx(3.0, abs=0.03)
    assert w.data.std() == pytest.approx(0.5, rel=0.03)


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init.xavier_uniform_(empty(5))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(empty(3, 3), mode="fan_avg")


def test_prior_bias_makes_softmax_equal_the_class_frequencies():
    bias = nn.Parameter(np.zeros(3))
    init.prior_bias_(bias, [0.7, 0.2, 0.1])
    probabilities = np.exp(bias.data) / np.exp(bias.data).sum()
    np.testing.assert_allclose(probabilities, [0.7, 0.2, 0.1], rtol=1e-12)
    assert bias.data.sum() == pytest.approx(0, abs=1e-12)  # centred: log p minus its mean
    init.prior_bias_(bias, [70, 20, 10])  # counts work too
    np.testing.assert_allclose(np.exp(bias.data) / np.exp(bias.data).sum(), [0.7, 0.2, 0.1])
    with pytest.raises(ValueError, match="must all be positive"):
        init.prior_bias_(bias, [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match=r"class_priors of shape \(2,\)"):
        init.prior_bias_(bias, [0.5, 0.5])


def activations_through_stack(activation, init_fn, depth=20, width=256):
    """Root mean square of the activations after each of `depth` bias-free layers."""
    mg.manual_seed(0)
    x = mg.Tensor(mg.rng().normal(size=(512, width)).astype(np.float32))
    rms = []
    with mg.no_grad():
        for _ in range(depth):
            layer = nn.Linear(width, width, bias=False)
            init_fn(layer.weight)
            x = activation(layer(x))
            rms.append(float(np.sqrt(np.mean(x.data.astype(np.float64) ** 2))))
    return np.array(rms), x.data


def test_kaiming_keeps_relu_activations_alive_while_other_scales_explode_or_vanish():
    # Var(out) = fan_in Var(w) E[x^2] and ReLU keeps half of it: Var(w) = 2/fan_in balances.
    rms, _ = activations_through_stack(mg.relu, lambda w: init.kaiming_normal_(
        w, nonlinearity="relu"))
    assert 0.5 < rms[-1] / rms[0] < 2
    rms, _ = activations_through_stack(mg.relu, init.normal_)  # x sqrt(256/2) per layer
    assert rms[-1] / rms[0] > 1e10
    rms, _ = activations_through_stack(mg.relu, init.xavier_normal_)  # x sqrt(1/2) per layer
    assert rms[-1] / rms[0] < 1e-2


def test_xavier_with_tanh_gain_keeps_tanh_unsaturated_while_other_scales_fail():
    rms, out = activations_through_stack(mg.tanh, lambda w: init.xavier_normal_(
        w, gain=init.calculate_gain("tanh")))
    assert 0.3 < rms[-1] < 0.9 and np.mean(np.abs(out) > 0.99) < 0.1
    _, out = activations_through_stack(mg.tanh, init.normal_)  # saturated: gradients ~ 0
    assert np.mean(np.abs(out) > 0.99) > 0.7
    rms, _ = activations_through_stack(mg.tanh, lambda w: init.normal_(w, std=0.01))
    assert rms[-1] < 1e-8  # x 0.16 per layer: the signal vanishes


@pytest.mark.parametrize("make", [lambda: nn.Linear(0, 3), lambda: nn.Conv2d(0, 3, 3),
                                  lambda: nn.Linear(4, 0)])
def test_zero_element_layers_build_with_pytorchs_warning(make):
    # PyTorch: kaiming_uniform_ of a zero-element weight warns and does nothing (its fan
    # may be 0, which would divide by zero)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        layer = make()
    assert layer.weight.numel() == 0
