"""conv2d, conv_transpose2d and the convolution matrix: values from definitions, gradients
by gradcheck, the adjoint identities, and the argument errors. Each runs with JIT on and off."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad import Tensor
from minigrad.ops import conv as conv_ops
from minigrad.testing import arrays, assert_gradcheck, conv2d_params

# the `jit` fixture is fixed for all examples of one test run, so sharing it is safe
with_fixture = settings(suppress_health_check=[*settings().suppress_health_check,
                                               HealthCheck.function_scoped_fixture])


def tensor(data, shape, **kwargs):
    return Tensor(data.draw(arrays(shape, **kwargs)), requires_grad=True)


def conv_kwargs(params):
    return {k: params[k] for k in ("stride", "padding", "dilation", "groups")}


@st.composite
def conv_transpose2d_params(draw):
    """A valid conv_transpose2d geometry, from a conv2d one read backwards."""
    p = draw(conv2d_params())
    n, _, H, W = p["input_shape"]
    cout, cin_g, kH, kW = p["weight_shape"]  # as conv_transpose2d's (Cin, Cout/G, kH, kW)
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                           for s, d in zip(p["stride"], p["dilation"]))
    x_shape = (n, cout, draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    out_size = [(size - 1) * s - 2 * pad + d * (k - 1) + extra + 1 for size, k, s, pad, d, extra
                in zip(x_shape[2:], (kH, kW), p["stride"], p["padding"], p["dilation"],
                       output_padding)]
    assume(min(out_size) >= 1)
    return dict(input_shape=x_shape, weight_shape=p["weight_shape"], stride=p["stride"],
                padding=p["padding"], output_padding=output_padding, groups=p["groups"],
                dilation=p["dilation"])


def transpose_kwargs(params):
    return {k: params[k] for k in ("stride", "padding", "output_padding", "groups", "dilation")}


def gradcheck_mode(*tensors):
    """The full Jacobian for small inputs, random directions for the rest."""
    return "full" if sum(t.numel() for t in tensors) <= 60 else "random"


# --- values from hand-worked examples ---------------------------------------------------------

def test_conv2d_hand_worked(jit):
    # x = 0..15 as 4x4, a 2x2 kernel of ones, stride 2: each output sums one 2x2 block,
    # e.g. the top left 0+1+4+5 = 10 and the bottom right 10+11+14+15 = 50; bias adds 1.
    x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    y = F.conv2d(x, np.ones((1, 1, 2, 2)), np.array([1.0]), stride=2)
    np.testing.assert_array_equal(y.data, [[[[11, 19], [43, 51]]]])


def test_conv_transpose2d_hand_worked(jit):
    # stride 2 with a 2x2 kernel: each input pixel stamps a scaled copy of the kernel into
    # its own 2x2 block; x = [1, 2], kernel [[1, 2], [3, 4]] -> [[1 2 2 4], [3 4 6 8]].
    x = Tensor(np.array([[[[1.0, 2.0]]]]))
    w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    y = F.conv_transpose2d(x, w, stride=2)
    np.testing.assert_array_equal(y.data, [[[[1, 2, 2, 4], [3, 4, 6, 8]]]])


def test_conv_matrix_hand_worked():
    # a 2x2 kernel [[a b] [c d]] on a 3x3 input: output (oh, ow) reads pixels
    # (oh + i, ow + j), so its row has a, b at columns 3*oh + ow + {0, 1} and c, d at + {3, 4}
    a, b, c, d = 1.0, 2.0, 3.0, 4.0
    M = mg.conv_matrix(np.array([[[[a, b], [c, d]]]]), (1, 3, 3))
    expected = [[a, b, 0, c, d, 0, 0, 0, 0],
                [0, a, b, 0, c, d, 0, 0, 0],
                [0, 0, 0, a, b, 0, c, d, 0],
                [0, 0, 0, 0, a, b, 0, c, d]]
    np.testing.assert_array_equal(M, expected)


def test_same_padding_puts_the_odd_pixel_bottom_right(jit):
    # a 2x2 kernel needs 1 pixel of padding per axis; PyTorch puts it on the bottom/right,
    # so 'same' equals explicit (0, 1) padding followed by a 'valid' convolution
    rng = np.random.default_rng(0)
    x, w = Tensor(rng.standard_normal((2, 3, 5, 4))), rng.standard_normal((2, 3, 2, 2))
    padded = mg.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1)))
    np.testing.assert_allclose(F.conv2d(x, w, padding="same").data,
                               F.conv2d(padded, w, padding="valid").data, rtol=1e-12)


def test_unbatched_input_and_dtype(jit):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 5, 5)).astype(np.float32), rng.standard_normal((3, 2, 3, 3))
    y = F.conv2d(Tensor(x), Tensor(w.astype(np.float32)), padding=1)
    assert y.shape == (3, 5, 5) and y.dtype == np.float32
    batched = F.conv2d(Tensor(x[None]), Tensor(w.astype(np.float32)), padding=1)
    np.testing.assert_array_equal(y.data, batched.data[0])
    t = F.conv_transpose2d(Tensor(x), Tensor(w.transpose(1, 0, 2, 3).astype(np.float32)))
    assert t.shape == (3, 7, 7) and t.dtype == np.float32


def test_only_the_weight_needs_grad(jit):
    # the input gradient is skipped, the weight gradient is <g, x> per tap: with a 1x1
    # kernel and no padding it is sum over pixels of g * x
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((2, 1, 3, 3)), rng.standard_normal((2, 1, 3, 3))
    w = Tensor(np.ones((1, 1, 1, 1)), requires_grad=True)
    x_t = Tensor(x)
    F.conv2d(x_t, w).backward(g)
    assert x_t.grad is None
    np.testing.assert_allclose(w.grad, [[[[np.sum(x * g)]]]], rtol=1e-12)


def test_workspaces_do_not_leak_between_calls(jit):
    # two convolutions of different sizes share the column workspace; the first one's
    # backward must still see its own input
    rng = np.random.default_rng(3)
    w = Tensor(rng.standard_normal((2, 3, 3, 3)), requires_grad=True)
    small = Tensor(rng.standard_normal((1, 3, 4, 4)))
    large = Tensor(rng.standard_normal((2, 3, 9, 9)))
    g = rng.standard_normal((1, 2, 2, 2))
    F.conv2d(small, w).backward(g)
    alone = w.grad.copy()
    w.zero_grad()
    y = F.conv2d(small, w)
    F.conv2d(large, w, padding=2).sum().backward()
    w.zero_grad()
    y.backward(g)
    np.testing.assert_array_equal(w.grad, alone)


@pytest.mark.parametrize("kwargs", [dict(stride=2, padding=1), dict(groups=2), {}])
def test_chunks_of_the_batch_give_the_same_numbers(jit, monkeypatch, kwargs):
    # the ops process the batch in chunks of samples; one sample per chunk must agree
    # with the whole batch in one chunk, forward and backward, for conv and its transpose
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 6, 5))
    w = rng.standard_normal((4, 4 // kwargs.get("groups", 1), 3, 3))

    def run():
        results = []
        for op in (F.conv2d, F.conv_transpose2d):
            xt, wt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
            y = op(xt, wt, **kwargs)
            y.backward(np.cos(np.arange(y.numel())).reshape(y.shape))
            results += [y.data, xt.grad, wt.grad]
        return results

    whole = run()
    monkeypatch.setattr(conv_ops, "_CHUNK_BYTES", 1)
    for a, b in zip(run(), whole):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("groups", [1, 2])
def test_weight_gradient_on_maps_with_fewer_pixels_than_channels(jit, groups):
    # 2x2 outputs and 12 output channels take the weight gradient's one-GEMM-per-group path
    # (ResNet's layer4), conv and its transpose
    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((5, 4, 2, 2)), requires_grad=True)
    w = Tensor(rng.standard_normal((12, 4 // groups, 3, 3)), requires_grad=True)
    assert_gradcheck(lambda x, w: F.conv2d(x, w, padding=1, groups=groups), x, w, seed=0)
    y = Tensor(rng.standard_normal((5, 12, 2, 2)), requires_grad=True)
    assert_gradcheck(lambda y, w: F.conv_transpose2d(y, w, padding=1, groups=groups), y, w,
                     seed=0)


# --- gradients ----------------------------------------------------------------------------------

@with_fixture
@given(data=st.data())
def test_conv2d_gradcheck(jit, data):
    p = data.draw(conv2d_params())
    x, w = tensor(data, p["input_shape"]), tensor(data, p["weight_shape"])
    b = tensor(data, p["weight_shape"][:1])
    assert_gradcheck(lambda x, w, b: F.conv2d(x, w, b, **conv_kwargs(p)), x, w, b,
                     mode=gradcheck_mode(x, w), seed=0)


@with_fixture
@given(data=st.data())
def test_conv_transpose2d_gradcheck(jit, data):
    p = data.draw(conv_transpose2d_params())
    x, w = tensor(data, p["input_shape"]), tensor(data, p["weight_shape"])
    b = tensor(data, (p["weight_shape"][1] * p["groups"],))
    assert_gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **transpose_kwargs(p)),
                     x, w, b, mode=gradcheck_mode(x, w), seed=0)


@with_fixture
@given(data=st.data(), padding=st.sampled_from(["same", "valid"]))
def test_conv2d_string_padding_gradcheck(jit, data, padding):
    p = data.draw(conv2d_params(max_stride=1))
    x, w = tensor(data, p["input_shape"]), tensor(data, p["weight_shape"])
    assume(padding == "same" or all(
        size >= d * (k - 1) + 1 for size, k, d in zip(x.shape[2:], w.shape[2:], p["dilation"])))
    assert_gradcheck(lambda x, w: F.conv2d(x, w, padding=padding, dilation=p["dilation"],
                                           groups=p["groups"]),
                     x, w, mode=gradcheck_mode(x, w), seed=0)


# --- the convolution matrix and the adjoint identities ---------------------------------------

@with_fixture
@given(data=st.data())
def test_conv_matrix_times_x_is_conv2d(jit, data):
    p = data.draw(conv2d_params())
    x, w = data.draw(arrays(p["input_shape"])), data.draw(arrays(p["weight_shape"]))
    M = mg.conv_matrix(w, x.shape[1:], **conv_kwargs(p))
    y = F.conv2d(Tensor(x), Tensor(w), **conv_kwargs(p)).data
    np.testing.assert_allclose(y.reshape(len(x), -1), x.reshape(len(x), -1) @ M.T,
                               rtol=1e-10, atol=1e-12)


@with_fixture
@given(data=st.data())
def test_conv_matrix_transpose_is_conv_transpose2d(jit, data):
    p = data.draw(conv2d_params())
    w = data.draw(arrays(p["weight_shape"]))
    M = mg.conv_matrix(w, p["input_shape"][1:], **conv_kwargs(p))
    n, _, H, W = p["input_shape"]
    out_size = F.conv2d(Tensor(np.zeros(p["input_shape"])), Tensor(w), **conv_kwargs(p)).shape
    y = data.draw(arrays(out_size))
    # a strided conv maps several input sizes to one output size; output_padding picks H
    k = np.array(w.shape[2:])
    s, pad, d = (np.array(p[key]) for key in ("stride", "padding", "dilation"))
    output_padding = tuple(int(v) for v in (np.array([H, W]) + 2 * pad - d * (k - 1) - 1) % s)
    t = F.conv_transpose2d(Tensor(y), Tensor(w), stride=p["stride"], padding=p["padding"],
                           output_padding=output_padding, groups=p["groups"],
                           dilation=p["dilation"]).data
    assert t.shape == p["input_shape"]
    np.testing.assert_allclose(t.reshape(n, -1), y.reshape(n, -1) @ M, rtol=1e-10, atol=1e-12)


@with_fixture
@given(data=st.data())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(jit, data):
    # <conv2d(x), y> == <x, conv_transpose2d(y)> with the same weight and geometry
    p = data.draw(conv_transpose2d_params())
    y, w = data.draw(arrays(p["input_shape"])), data.draw(arrays(p["weight_shape"]))
    t = F.conv_transpose2d(Tensor(y), Tensor(w), **transpose_kwargs(p)).data
    x = data.draw(arrays(t.shape))
    kwargs = {k: p[k] for k in ("stride", "padding", "dilation", "groups")}
    c = F.conv2d(Tensor(x), Tensor(w), **kwargs).data
    # the conv may see a larger output than y when output_padding >= stride (allowed when
    # < dilation): the extra outputs pair with nothing, so compare y's part only
    c = c[:, :, :y.shape[2], :y.shape[3]]
    np.testing.assert_allclose(np.vdot(c, y), np.vdot(x, t), rtol=1e-10, atol=1e-10)


@with_fixture
@given(data=st.data())
def test_strided_conv_is_the_stride_one_conv_subsampled(jit, data):
    p = data.draw(conv2d_params())
    x, w = Tensor(data.draw(arrays(p["input_shape"]))), Tensor(data.draw(arrays(p["weight_shape"])))
    strided = F.conv2d(x, w, **conv_kwargs(p)).data
    dense = F.conv2d(x, w, **{**conv_kwargs(p), "stride": 1}).data
    (sH, sW), (Ho, Wo) = p["stride"], strided.shape[2:]
    np.testing.assert_allclose(strided, dense[:, :, ::sH, ::sW][:, :, :Ho, :Wo], rtol=1e-12)


@with_fixture
@given(data=st.data())
def test_conv_transpose2d_is_zero_insertion_then_flipped_conv(jit, data):
    # insert s-1 zeros between input pixels, pad by d(k-1)-p (plus output_padding at the
    # end), then a stride-1 conv with the kernel flipped and in/out channels swapped per group
    p = data.draw(conv_transpose2d_params())
    x, w = data.draw(arrays(p["input_shape"])), data.draw(arrays(p["weight_shape"]))
    (sH, sW), (dH, dW), G = p["stride"], p["dilation"], p["groups"]
    edges = [d * (k - 1) - pad for k, d, pad in zip(w.shape[2:], (dH, dW), p["padding"])]
    assume(min(edges) >= 0)
    n, cin, H, W = x.shape
    spread = np.zeros((n, cin, (H - 1) * sH + 1, (W - 1) * sW + 1))
    spread[:, :, ::sH, ::sW] = x
    padded = np.pad(spread, ((0, 0), (0, 0), (edges[0], edges[0] + p["output_padding"][0]),
                             (edges[1], edges[1] + p["output_padding"][1])))
    cin_g, cout_g, kH, kW = cin // G, *w.shape[1:]
    swapped = w.reshape(G, cin_g, cout_g, kH, kW).transpose(0, 2, 1, 3, 4)  # (G, Cout/G, Cin/G, ..)
    flipped = swapped.reshape(G * cout_g, cin_g, kH, kW)[:, :, ::-1, ::-1]
    expected = F.conv2d(Tensor(padded), Tensor(flipped.copy()), dilation=(dH, dW), groups=G)
    actual = F.conv_transpose2d(Tensor(x), Tensor(w), **transpose_kwargs(p))
    np.testing.assert_allclose(actual.data, expected.data, rtol=1e-10, atol=1e-12)


# --- argument errors ----------------------------------------------------------------------------

x4 = np.zeros((1, 4, 5, 5))


@pytest.mark.parametrize("weight, kwargs, message", [
    (np.zeros((2, 3, 3, 3)), {}, r"4 channels.*expects 3"),
    (np.zeros((2, 2, 3, 3)), dict(groups=3), r"groups=3 must divide"),
    (np.zeros((3, 2, 3, 3)), dict(groups=2), r"groups=2 must divide.*output channels \(3\)"),
    (np.zeros((2, 4, 6, 3)), {}, r"height with dilation \(6\) is larger than the padded"),
    (np.zeros((2, 4, 3, 3)), dict(dilation=3), r"width with dilation|height with dilation"),
    (np.zeros((2, 4, 3, 3)), dict(padding="same", stride=2), r"'same' needs stride 1"),
    (np.zeros((2, 4, 3, 3)), dict(padding="full"), r"'same', 'valid'"),
    (np.zeros((2, 4, 3, 3)), dict(padding=-1), r"padding must be at least 0"),
    (np.zeros((2, 4, 3, 3)), dict(stride=0), r"stride must be at least 1"),
    (np.zeros((2, 4, 3)), {}, r"4-D weight"),
])
def test_conv2d_errors(weight, kwargs, message):
    with pytest.raises(ValueError, match=message):
        F.conv2d(Tensor(x4), Tensor(weight), **kwargs)


@pytest.mark.parametrize("weight, kwargs, message", [
    (np.zeros((3, 2, 3, 3)), {}, r"4 channels.*expects 3"),
    (np.zeros((4, 2, 3, 3)), dict(groups=3), r"groups=3 must divide"),
    (np.zeros((4, 2, 3, 3)), dict(stride=2, output_padding=2), r"output_padding must be smaller"),
    (np.zeros((4, 2, 3, 3)), dict(output_padding=1), r"output_padding must be smaller"),
    (np.zeros((4, 2, 1, 1)), dict(padding=3), r"output size \(-1, -1\) is not positive"),
])
def test_conv_transpose2d_errors(weight, kwargs, message):
    with pytest.raises(ValueError, match=message):
        F.conv_transpose2d(Tensor(x4), Tensor(weight), **kwargs)


def test_type_errors():
    w = Tensor(np.zeros((2, 4, 3, 3)))
    with pytest.raises(TypeError, match="stride must be an int or a pair"):
        F.conv2d(Tensor(x4), w, stride=(1, 2, 3))
    with pytest.raises(TypeError, match="weight has dtype float32"):
        F.conv2d(Tensor(x4), w.astype(np.float32))
    with pytest.raises(ValueError, match=r"bias of shape \(3,\)"):
        F.conv2d(Tensor(x4), w, Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"input_shape must be \(Cin, H, W\)"):
        mg.conv_matrix(w, (1, 4, 5, 5))
