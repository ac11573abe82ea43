"""Convolution and transposed convolution, as one linear map and its adjoint.

conv2d is im2col (every receptive field copied into a column) followed by one GEMM per
group: `W (Cout, Cin*kH*kW) @ cols (N, Cin*kH*kW, Ho*Wo)` is already NCHW. Its input
gradient is the adjoint: `W^T @ grad`, then col2im adds every column entry back onto the
pixel it was read from. conv_transpose2d is defined as that adjoint, so its forward is
conv2d's input-gradient path and its input gradient is conv2d's forward: the three
functions `_conv`, `_conv_adjoint` and `_conv_weight_grad` below serve both ops.

Depthwise convolutions (one input channel per group) skip im2col: with a K = kH*kW
inner dimension the GEMM runs at a few GFLOP/s, and a direct kernel does the same work.
"""
from dataclasses import dataclass

import numpy as np

from .. import kernels
from ..kernels.blas import gemm
from ..tensor import Function, Tensor


@dataclass(frozen=True)
class ConvGeometry:
    """Where conv2d reads: output pixel (oh, ow) at kernel offset (i, j) reads input pixel
    (oh*sH - pH + i*dH, ow*sW - pW + j*dW). `padding` is the (top, left) padding; the bottom
    and right padding follow from `in_size` and `out_size` (so PyTorch's asymmetric "same"
    padding and conv_transpose2d's output_padding need nothing more). Sizes are those of
    conv2d's input and output, also when the geometry describes a conv_transpose2d."""
    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int
    in_size: tuple
    out_size: tuple

    @property
    def pointwise(self):
        """A 1x1, stride-1, unpadded conv reads each pixel once: its columns are the input."""
        return (self.kernel == (1, 1) and self.stride == (1, 1) and self.padding == (0, 0)
                and self.in_size == self.out_size)

    def spatial(self):
        """The arguments every convolution kernel takes after its arrays."""
        return self.stride, self.padding, self.dilation


# --- the linear map, its adjoint and its weight gradient -----------------------------------

_workspaces = {}


def _workspace(name, shape, dtype):
    """A scratch array kept between calls (the column buffers, a few MiB each, see
    `_chunks`): a freshly allocated large array runs at a third of DRAM speed because of
    page faults. No caller keeps a workspace beyond its own call."""
    size = int(np.prod(shape))
    buffer = _workspaces.get((name, dtype))
    if buffer is None or buffer.size < size:
        buffer = _workspaces[(name, dtype)] = np.empty(size, dtype)
    return buffer[:size].reshape(shape)


def _is_depthwise(weight_shape, geometry):
    """One input channel per group: the GEMM's inner dimension would be only kH*kW."""
    return weight_shape[1] == 1 and not geometry.pointwise


def _columns(x, geometry):
    """im2col into a reused workspace. Shapes: x (N, C, H, W) -> (N, G, C/G*kH*kW, Ho*Wo)."""
    N, C = x.shape[:2]
    (kH, kW), (Ho, Wo), G = geometry.kernel, geometry.out_size, geometry.groups
    if not geometry.pointwise:
        cols = _workspace("cols", (N, C, kH, kW, Ho, Wo), x.dtype)
        kernels.im2col(np.ascontiguousarray(x), cols, *geometry.spatial())
        x = cols
    return x.reshape(N, G, C // G * kH * kW, Ho * Wo)  # (N, G, K, Ho*Wo)


_CHUNK_BYTES = 8 * 2**20


def _chunks(N, C, geometry, dtype):
    """Slices of the batch whose columns take about 8 MiB. A whole batch's columns are
    ~kH*kW times the activation (72 MiB for 32x64x32x32 and a 3x3 kernel), and the
    workspace would keep that much alive; chunks bound it and are as fast (measured), while
    one sample per chunk pays each kernel call's start-up (~0.1 ms) N times."""
    (kH, kW), (Ho, Wo) = geometry.kernel, geometry.out_size
    per_sample = C * kH * kW * Ho * Wo * np.dtype(dtype).itemsize
    step = max(1, _CHUNK_BYTES // per_sample)
    return [slice(start, min(N, start + step)) for start in range(0, N, step)]


def _conv(x, weight, geometry):
    """conv2d without bias. Shapes: x (N, Cin, H, W), weight (Cout, Cin/G, kH, kW) ->
    (N, Cout, Ho, Wo)."""
    (N, Cin), (Cout, Cin_g, kH, kW), G = x.shape[:2], weight.shape, geometry.groups
    Ho, Wo = geometry.out_size
    if _is_depthwise(weight.shape, geometry):
        out = np.empty((N, Cout, Ho, Wo), x.dtype)
        kernels.depthwise_conv2d(np.ascontiguousarray(x), weight, out, *geometry.spatial())
        return out
    w = weight.reshape(G, Cout // G, Cin_g * kH * kW)  # (G, Cout/G, K)
    out = np.empty((N, G, Cout // G, Ho * Wo), x.dtype)  # is (N, Cout, Ho, Wo): NCHW
    for chunk in _chunks(N, Cin, geometry, x.dtype):
        gemm(w, _columns(x[chunk], geometry), out=out[chunk])  # one GEMM per sample, group
    return out.reshape(N, Cout, Ho, Wo)


def _conv_adjoint(y, weight, geometry):
    """The transpose of `_conv` applied to y: conv2d's input gradient, conv_transpose2d's
    forward. Shapes: y (N, Cout, Ho, Wo), weight (Cout, Cin/G, kH, kW) -> (N, Cin, H, W)."""
    N, (Cout, Cin_g, kH, kW), G = y.shape[0], weight.shape, geometry.groups
    (H, W), (Ho, Wo) = geometry.in_size, geometry.out_size
    y = np.ascontiguousarray(y)
    x = np.empty((N, Cin_g * G, H, W), y.dtype)
    if _is_depthwise(weight.shape, geometry):
        kernels.depthwise_conv2d_input_grad(y, weight, x, *geometry.spatial())
        return x
    w_t = weight.reshape(G, Cout // G, Cin_g * kH * kW).transpose(0, 2, 1)  # (G, K, Cout/G)
    y = y.reshape(N, G, Cout // G, Ho * Wo)  # (N, G, Cout/G, Ho*Wo)
    for chunk in _chunks(N, Cin_g * G, geometry, y.dtype):
        n = chunk.stop - chunk.start
        if geometry.pointwise:  # the columns are the image itself
            gemm(w_t, y[chunk], out=x[chunk].reshape(n, G, Cin_g, H * W))
            continue
        cols = _workspace("adjoint cols", (n, G, Cin_g * kH * kW, Ho * Wo), y.dtype)
        gemm(w_t, y[chunk], out=cols)  # (G, K, Cout/G) @ (n, G, Cout/G, Ho*Wo)
        kernels.col2im(cols.reshape(n, Cin_g * G, kH, kW, Ho, Wo), x[chunk],
                       *geometry.spatial())
    return x


def _conv_weight_grad(x, grad, geometry, weight_shape):
    """d<grad, _conv(x, W)>/dW = sum_n grad[n] @ cols[n]^T. Shapes: x (N, Cin, H, W),
    grad (N, Cout, Ho, Wo) -> weight_shape (Cout, Cin/G, kH, kW)."""
    (N, Cin), (Cout, Cin_g, kH, kW), G = x.shape[:2], weight_shape, geometry.groups
    Ho, Wo = geometry.out_size
    grad = np.ascontiguousarray(grad)
    if _is_depthwise(weight_shape, geometry):
        dweight = np.empty(weight_shape, x.dtype)
        kernels.depthwise_conv2d_weight_grad(np.ascontiguousarray(x), grad, dweight,
                                             *geometry.spatial())
        return dweight
    grad = grad.reshape(N, G, Cout // G, Ho * Wo)  # (N, G, Cout/G, Ho*Wo)
    dweight = np.zeros((G, Cout // G, Cin_g * kH * kW), x.dtype)  # (G, Cout/G, K)
    # the columns are recomputed rather than kept from forward: keeping them costs ~kH*kW
    # times the activation's memory per layer for the life of the graph
    for chunk in _chunks(N, Cin, geometry, x.dtype):
        cols = _columns(x[chunk], geometry)  # (n, G, K, Ho*Wo)
        if Cout // G <= Ho * Wo:  # one GEMM per sample and group, then a sum over samples
            dweight += gemm(grad[chunk], cols.transpose(0, 1, 3, 2)).sum(axis=0)
            continue
        # small maps (ResNet's 2x2 layer4): per-sample GEMMs would have an inner dimension
        # of Ho*Wo and write n partial (Cout/G, K) products, more bytes than copying the
        # columns (n*K*Ho*Wo per group) so that the samples lie side by side on the summed
        # axis of one GEMM per group (measured: 76 -> 17 ms for 16x512x2x2, 3x3 -> 512)
        n = chunk.stop - chunk.start
        g = grad[chunk].transpose(1, 2, 0, 3).reshape(G, Cout // G, n * Ho * Wo)
        c = cols.transpose(1, 2, 0, 3).reshape(G, Cin_g * kH * kW, n * Ho * Wo)
        dweight += gemm(g, c.transpose(0, 2, 1))  # (G, Cout/G, n*Ho*Wo) @ (G, n*Ho*Wo, K)
    return dweight.reshape(weight_shape)


# --- the two ops ---------------------------------------------------------------------------

class Conv2d(Function):
    """2-D cross-correlation (PyTorch's conv2d): im2col and one GEMM per group.

    Shapes: x (N, Cin, H, W), weight (Cout, Cin/G, kH, kW), bias (Cout,) -> (N, Cout, Ho, Wo).
    Backward: grad_x = col2im(W^T @ g), grad_W = sum_n g[n] @ cols[n]^T,
    grad_bias = sum of g over (N, Ho, Wo).
    """

    def forward(self, x, weight, *bias, geometry):
        self.geometry = geometry
        self.save_for_backward(x, weight)
        out = _conv(x, weight, geometry)
        if bias:
            out += bias[0][:, None, None]
        return out

    def backward(self, grad):
        x, weight = self.saved_tensors
        needs = self.needs_input_grad
        grads = (_conv_adjoint(grad, weight, self.geometry) if needs[0] else None,
                 _conv_weight_grad(x, grad, self.geometry, weight.shape) if needs[1] else None)
        if len(self.parents) == 3:
            grads += (grad.sum(axis=(0, 2, 3)) if needs[2] else None,)
        return grads


class ConvTranspose2d(Function):
    """2-D transposed convolution: the adjoint of conv2d with the same weight and geometry.

    Shapes: x (N, Cin, H, W), weight (Cin, Cout/G, kH, kW), bias (Cout,) -> (N, Cout, Ho, Wo).
    Backward: grad_x = conv2d(g, W) (the adjoint of the adjoint), grad_W = conv2d's weight
    gradient with g as the conv's input and x as its output gradient, grad_bias = sum of g.
    """

    def forward(self, x, weight, *bias, geometry):
        self.geometry = geometry
        self.save_for_backward(x, weight)
        out = _conv_adjoint(x, weight, geometry)
        if bias:
            out += bias[0][:, None, None]
        return out

    def backward(self, grad):
        x, weight = self.saved_tensors
        needs = self.needs_input_grad
        grads = (_conv(grad, weight, self.geometry) if needs[0] else None,
                 _conv_weight_grad(grad, x, self.geometry, weight.shape) if needs[1] else None)
        if len(self.parents) == 3:
            grads += (grad.sum(axis=(0, 2, 3)) if needs[2] else None,)
        return grads


# --- argument checking: the functional boundary ---------------------------------------------

def _pair(value, name, op):
    """An int or a pair of ints, as the pair (height, width)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)):
        return int(value[0]), int(value[1])
    raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")


def _positive_pair(value, name, op, minimum=1):
    pair = _pair(value, name, op)
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return pair


def _check_groups(groups, cin, cout, x_shape, weight_shape, op):
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if cin % groups or cout % groups:
        raise ValueError(f"{op}: groups={groups} must divide both the input channels ({cin}) "
                         f"and the output channels ({cout}); input {x_shape}, weight "
                         f"{weight_shape}")


def _check_ranks(x_shape, weight_shape, op):
    """4-D shapes and, as PyTorch, no empty kernel, weight or input plane (a batch of 0 is
    fine): the kernels below assume at least one tap per window and one pixel per plane."""
    if len(x_shape) != 4 or len(weight_shape) != 4:
        raise ValueError(f"{op}: expected input (N, C, H, W) and a 4-D weight, got input of "
                         f"shape {x_shape} and weight of shape {weight_shape}")
    if min(weight_shape[2:]) == 0:
        raise ValueError(f"{op}: kernel size should be greater than zero, but got weight of "
                         f"shape {weight_shape}, kernel {weight_shape[2:]}")
    if min(weight_shape) == 0:
        raise ValueError(f"{op}: weight of shape {weight_shape} is empty; expected at least "
                         f"one filter of at least one channel")
    if min(x_shape[1:]) == 0:
        raise ValueError(f"{op}: input of shape {x_shape} is empty; expected C, H and W of at "
                         f"least 1 (only the batch axis may be 0)")


def conv2d_geometry(x_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1):
    """Check conv2d's arguments against the shapes; return its ConvGeometry."""
    op = "conv2d"
    _check_ranks(x_shape, weight_shape, op)
    (N, Cin, H, W), (Cout, Cin_g, kH, kW) = x_shape, weight_shape
    _check_groups(groups, Cin, Cout, x_shape, weight_shape, op)
    if Cin_g * groups != Cin:
        raise ValueError(f"{op}: input of shape {x_shape} has {Cin} channels, but weight of "
                         f"shape {weight_shape} with groups={groups} expects "
                         f"{Cin_g * groups} (weight.shape[1] * groups)")
    stride = _positive_pair(stride, "stride", op)
    dilation = _positive_pair(dilation, "dilation", op)
    reach = [d * (k - 1) for k, d in zip((kH, kW), dilation)]  # window extent - 1
    if padding == "valid":
        padding = 0
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride={stride}")
        # as PyTorch: half the padding on top/left, the odd one out on the bottom/right
        return ConvGeometry((kH, kW), stride, (reach[0] // 2, reach[1] // 2), dilation,
                            int(groups), (H, W), (H, W))
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be 'same', 'valid', an int or a pair, "
                         f"got {padding!r}")
    padding = _positive_pair(padding, "padding", op, minimum=0)
    out_size = []
    for name, size, p, r, s in zip(("height", "width"), (H, W), padding, reach, stride):
        if size + 2 * p < r + 1:
            raise ValueError(f"{op}: the kernel's {name} with dilation ({r + 1}) is larger than "
                             f"the padded input's ({size} + 2*{p}); input {x_shape}, weight "
                             f"{weight_shape}, dilation {dilation}")
        out_size.append((size + 2 * p - r - 1) // s + 1)
    return ConvGeometry((kH, kW), stride, padding, dilation, int(groups), (H, W),
                        tuple(out_size))


def conv_transpose2d_geometry(x_shape, weight_shape, stride=1, padding=0, output_padding=0,
                              groups=1, dilation=1):
    """Check conv_transpose2d's arguments; return the geometry of the conv2d it is the
    adjoint of (that conv reads the transpose's output and writes its input)."""
    op = "conv_transpose2d"
    _check_ranks(x_shape, weight_shape, op)
    (N, Cin, H, W), (Cin_w, Cout_g, kH, kW) = x_shape, weight_shape
    if Cin_w != Cin:
        raise ValueError(f"{op}: input of shape {x_shape} has {Cin} channels, but weight of "
                         f"shape {weight_shape} expects {Cin_w} (weight.shape[0])")
    _check_groups(groups, Cin, Cout_g * groups, x_shape, weight_shape, op)
    stride = _positive_pair(stride, "stride", op)
    dilation = _positive_pair(dilation, "dilation", op)
    padding = _positive_pair(padding, "padding", op, minimum=0)
    output_padding = _positive_pair(output_padding, "output_padding", op, minimum=0)
    out_size = []
    for size, k, s, p, extra, d in zip((H, W), (kH, kW), stride, padding, output_padding,
                                       dilation):
        if extra >= s and extra >= d:
            raise ValueError(f"{op}: output_padding must be smaller than either stride or "
                             f"dilation, got output_padding={output_padding}, stride={stride}, "
                             f"dilation={dilation}")
        out_size.append((size - 1) * s - 2 * p + d * (k - 1) + extra + 1)
    if min(out_size) < 1:
        raise ValueError(f"{op}: the output size {tuple(out_size)} is not positive; input "
                         f"{x_shape}, weight {weight_shape}, stride {stride}, padding "
                         f"{padding}, dilation {dilation}")
    return ConvGeometry((kH, kW), stride, padding, dilation, int(groups), tuple(out_size),
                        (H, W))


def _as_tensors(op, x, weight, bias):
    """Tensors of one floating dtype (PyTorch refuses mixed dtypes here too)."""
    x, weight = (t if isinstance(t, Tensor) else Tensor(t) for t in (x, weight))
    if bias is not None and not isinstance(bias, Tensor):
        bias = Tensor(bias)
    for name, t in (("input", x), ("weight", weight), ("bias", bias)):
        if t is not None and (t.dtype.kind != "f" or t.dtype != x.dtype):
            raise TypeError(f"{op}: {name} has dtype {t.dtype}; input, weight and bias must "
                            f"share one floating dtype (input is {x.dtype})")
    return x, weight, bias


def _check_bias(bias, channels, op, weight_shape):
    if bias is not None and bias.shape != (channels,):
        raise ValueError(f"{op}: bias of shape {bias.shape} does not fit weight of shape "
                         f"{weight_shape}; expected ({channels},)")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv2d: (N, Cin, H, W) or unbatched (Cin, H, W) input,
    weight (Cout, Cin/groups, kH, kW); padding may be an int, a pair, "same" or "valid"."""
    x, weight, bias = _as_tensors("conv2d", x, weight, bias)
    if x.ndim == 3:
        return conv2d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    geometry = conv2d_geometry(x.shape, weight.shape, stride, padding, dilation, groups)
    _check_bias(bias, weight.shape[0], "conv2d", weight.shape)
    return Conv2d.apply(x, weight, *(() if bias is None else (bias,)), geometry=geometry)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """torch.nn.functional.conv_transpose2d: (N, Cin, H, W) or unbatched input, weight
    (Cin, Cout/groups, kH, kW); H_out = (H-1)*stride - 2*padding + dilation*(kH-1) +
    output_padding + 1."""
    x, weight, bias = _as_tensors("conv_transpose2d", x, weight, bias)
    if x.ndim == 3:
        return conv_transpose2d(x.unsqueeze(0), weight, bias, stride, padding, output_padding,
                                groups, dilation).squeeze(0)
    geometry = conv_transpose2d_geometry(x.shape, weight.shape, stride, padding,
                                         output_padding, groups, dilation)
    _check_bias(bias, weight.shape[1] * groups, "conv_transpose2d", weight.shape)
    return ConvTranspose2d.apply(x, weight, *(() if bias is None else (bias,)),
                                 geometry=geometry)
