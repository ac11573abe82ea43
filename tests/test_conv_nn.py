"""nn.Conv2d and nn.ConvTranspose2d: parameters, default init, forward, output_size, errors."""
import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
import minigrad.nn as nn
from minigrad import Tensor


def test_conv2d_parameters_and_forward(jit):
    conv = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2)
    names = dict(conv.named_parameters())
    assert set(names) == {"weight", "bias"}
    assert conv.weight.shape == (6, 2, 3, 2) and conv.bias.shape == (6,)
    assert conv.weight.dtype == np.float32
    x = Tensor(np.random.default_rng(0).standard_normal((2, 4, 7, 7)).astype(np.float32))
    expected = F.conv2d(x, conv.weight, conv.bias, stride=2, padding=1, dilation=(1, 2),
                        groups=2)
    np.testing.assert_array_equal(conv(x).data, expected.data)


def test_conv_transpose2d_parameters_and_forward(jit):
    up = nn.ConvTranspose2d(4, 6, 4, stride=2, padding=1, groups=2, bias=False)
    assert up.weight.shape == (4, 3, 4, 4) and up.bias is None
    assert [name for name, _ in up.named_parameters()] == ["weight"]
    x = Tensor(np.ones((1, 4, 5, 5), np.float32))
    assert up(x).shape == (1, 6, 10, 10)


@pytest.mark.parametrize("layer, fan_in", [
    (lambda: nn.Conv2d(8, 16, 3, groups=2), 4 * 3 * 3),  # weight.shape[1] * kH * kW
    (lambda: nn.ConvTranspose2d(8, 16, (3, 5), groups=4), 4 * 3 * 5),  # out/groups * kH*kW
])
def test_default_init_bounds(layer, fan_in):
    # PyTorch: kaiming_uniform_(a=sqrt(5)) => U(+-1/sqrt(fan_in)), bias U(+-1/sqrt(fan_in))
    mg.manual_seed(0)
    m = layer()
    bound = 1 / math.sqrt(fan_in)
    for p in (m.weight.data, m.bias.data):
        assert np.abs(p).max() <= bound
    # many weights: they fill the interval (max near the bound, uniform variance b^2/3)
    w = m.weight.data
    assert np.abs(w).max() > 0.95 * bound
    np.testing.assert_allclose(w.var(), bound ** 2 / 3, rtol=0.15)


def test_output_size_picks_output_padding(jit):
    # stride 2, k3, p1 from 4x4: the smallest output is (4-1)*2 - 2 + 2 + 1 = 7, and 8 too
    up = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1)
    x = Tensor(np.ones((1, 1, 4, 4), np.float32))
    assert up(x).shape == (1, 1, 7, 7)
    assert up(x, output_size=(1, 1, 8, 7)).shape == (1, 1, 8, 7)
    with pytest.raises(ValueError, match=r"\[7, 8\]"):
        up(x, output_size=(9, 9))


def test_constructor_errors():
    with pytest.raises(ValueError, match="groups=3 must divide"):
        nn.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match="'same' needs stride 1"):
        nn.Conv2d(4, 6, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be 'same', 'valid'"):
        nn.Conv2d(4, 6, 3, padding="full")
    with pytest.raises(NotImplementedError, match="padding_mode='reflect'"):
        nn.Conv2d(4, 6, 3, padding_mode="reflect")
    with pytest.raises(NotImplementedError, match="device='cuda'"):
        nn.ConvTranspose2d(4, 6, 3, device="cuda")
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(4, 6, (3, 3, 3))


def test_float64_layer_trains_a_step(jit):
    # the layer's parameters receive gradients of their own shape and dtype
    conv = nn.Conv2d(2, 3, 3, padding="same", dtype=np.float64)
    x = Tensor(np.random.default_rng(1).standard_normal((2, 2, 5, 5)))
    conv(x).sum().backward()
    assert conv.weight.grad.shape == (3, 2, 3, 3) and conv.weight.grad.dtype == np.float64
    # d(sum y)/d bias_o = number of outputs of channel o = N * Ho * Wo
    np.testing.assert_array_equal(conv.bias.grad, [2 * 5 * 5] * 3)
