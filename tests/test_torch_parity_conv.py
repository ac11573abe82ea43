"""conv2d and conv_transpose2d against PyTorch: values and gradients of input, weight and
bias, float64 (1e-8 relative) and float32 (1e-4), JIT on and off (skips without torch)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minigrad.functional as F
from minigrad import Tensor
from minigrad.testing import arrays, conv2d_params

torch = pytest.importorskip("torch")
TF = torch.nn.functional

with_fixture = settings(suppress_health_check=[*settings().suppress_health_check,
                                               HealthCheck.function_scoped_fixture])
TOLERANCE = {np.float64: dict(rtol=1e-8, atol=1e-10), np.float32: dict(rtol=1e-4, atol=1e-4)}


def compare(ours, theirs, arrays_, grad, dtype):
    """Run both functions on the same arrays, backpropagate `grad`, compare everything."""
    tensors = [Tensor(a.astype(dtype), requires_grad=True) for a in arrays_]
    torch_tensors = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays_]
    y, ty = ours(*tensors), theirs(*torch_tensors)
    assert y.shape == tuple(ty.shape) and y.dtype == dtype
    np.testing.assert_allclose(y.data, ty.detach().numpy(), **TOLERANCE[dtype])
    g = grad(y.shape).astype(dtype)
    y.backward(g)
    ty.backward(torch.tensor(g))
    for name, t, tt in zip(("input", "weight", "bias"), tensors, torch_tensors):
        np.testing.assert_allclose(t.grad, tt.grad.numpy(), **TOLERANCE[dtype],
                                   err_msg=f"gradient of {name}")


CONV2D = {  # name: (input shape, weight shape, keyword arguments)
    "plain": ((2, 3, 8, 7), (4, 3, 3, 3), {}),
    "stride 2, padding 1": ((2, 3, 9, 8), (5, 3, 3, 3), dict(stride=2, padding=1)),
    "pairs": ((1, 2, 9, 10), (3, 2, 2, 3), dict(stride=(2, 3), padding=(0, 2), dilation=(2, 1))),
    "dilation 2": ((2, 4, 10, 10), (4, 4, 3, 3), dict(padding=2, dilation=2)),
    "groups 2": ((2, 4, 6, 6), (6, 2, 3, 3), dict(padding=1, groups=2)),
    "depthwise": ((2, 4, 7, 7), (4, 1, 3, 3), dict(padding=1, groups=4)),
    "depthwise x2, strided": ((2, 3, 8, 8), (6, 1, 3, 3), dict(stride=2, padding=1, groups=3)),
    "pointwise": ((2, 5, 4, 4), (3, 5, 1, 1), {}),
    "same, even kernel": ((1, 2, 6, 5), (3, 2, 4, 2), dict(padding="same")),
    "same, dilated": ((1, 2, 6, 6), (2, 2, 3, 3), dict(padding="same", dilation=2)),
    "valid": ((1, 2, 6, 6), (2, 2, 3, 3), dict(padding="valid")),
}

CONV_TRANSPOSE2D = {  # name: (input shape, weight shape (Cin, Cout/G, kH, kW), kwargs)
    "plain": ((2, 3, 4, 5), (3, 2, 3, 3), {}),
    "k4 s2 p1": ((2, 4, 5, 5), (4, 3, 4, 4), dict(stride=2, padding=1)),
    "output_padding": ((1, 2, 3, 4), (2, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    "pairs": ((1, 2, 3, 4), (2, 2, 2, 3), dict(stride=(3, 2), padding=(1, 0),
                                               output_padding=(2, 1), dilation=(1, 2))),
    "output_padding < dilation": ((1, 2, 3, 3), (2, 2, 3, 3), dict(output_padding=1,
                                                                    dilation=2)),
    "groups 2": ((2, 4, 3, 3), (4, 3, 3, 3), dict(stride=2, groups=2)),
    "depthwise": ((2, 3, 4, 4), (3, 1, 3, 3), dict(stride=2, padding=1, groups=3)),
    "crop by padding": ((1, 2, 5, 5), (2, 2, 1, 1), dict(padding=1)),
}


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")  # torch's own note
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", CONV2D)
def test_conv2d_matches_torch(jit, name, dtype):
    x_shape, w_shape, kwargs = CONV2D[name]
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(s) for s in (x_shape, w_shape, w_shape[:1])]
    compare(lambda x, w, b: F.conv2d(x, w, b, **kwargs),
            lambda x, w, b: TF.conv2d(x, w, b, **kwargs), inputs, rng.standard_normal, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", CONV_TRANSPOSE2D)
def test_conv_transpose2d_matches_torch(jit, name, dtype):
    x_shape, w_shape, kwargs = CONV_TRANSPOSE2D[name]
    rng = np.random.default_rng(0)
    channels = w_shape[1] * kwargs.get("groups", 1)
    inputs = [rng.standard_normal(s) for s in (x_shape, w_shape, (channels,))]
    compare(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs),
            lambda x, w, b: TF.conv_transpose2d(x, w, b, **kwargs), inputs,
            rng.standard_normal, dtype)


@with_fixture
@given(data=st.data())
def test_conv2d_matches_torch_over_geometries(jit, data):
    p = data.draw(conv2d_params())
    kwargs = {k: p[k] for k in ("stride", "padding", "dilation", "groups")}
    inputs = [data.draw(arrays(s)) for s in (p["input_shape"], p["weight_shape"],
                                             p["weight_shape"][:1])]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    compare(lambda x, w, b: F.conv2d(x, w, b, **kwargs),
            lambda x, w, b: TF.conv2d(x, w, b, **kwargs), inputs, rng.standard_normal,
            np.float64)


@with_fixture
@given(data=st.data())
def test_conv_transpose2d_matches_torch_over_geometries(jit, data):
    p = data.draw(conv2d_params())
    n, cout = p["input_shape"][0], p["weight_shape"][0]
    output_padding = tuple(data.draw(st.integers(0, max(s, d) - 1))
                           for s, d in zip(p["stride"], p["dilation"]))
    kwargs = dict(stride=p["stride"], padding=p["padding"], output_padding=output_padding,
                  groups=p["groups"], dilation=p["dilation"])
    x_shape = (n, cout, data.draw(st.integers(2, 4)), data.draw(st.integers(2, 4)))
    w_shape = p["weight_shape"]
    assume(all((size - 1) * s - 2 * pad + d * (k - 1) + extra >= 0 for size, k, s, pad, d, extra
               in zip(x_shape[2:], w_shape[2:], p["stride"], p["padding"], p["dilation"],
                      output_padding)))  # a positive output size
    inputs = [data.draw(arrays(s)) for s in (x_shape, w_shape, (w_shape[1] * p["groups"],))]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    compare(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs),
            lambda x, w, b: TF.conv_transpose2d(x, w, b, **kwargs), inputs,
            rng.standard_normal, np.float64)


@pytest.mark.parametrize("make", [
    lambda nn: nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2),
    lambda nn: nn.ConvTranspose2d(4, 6, 4, stride=2, padding=1, output_padding=1, groups=2),
])
def test_modules_exchange_weights_with_torch(jit, make):
    import minigrad.nn as nn
    theirs, ours = make(torch.nn), make(nn)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in state.items()}
    ours.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((2, 4, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               **TOLERANCE[np.float32])
