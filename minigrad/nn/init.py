"""Weight initialisation, with torch.nn.init's names and formulas; each fills a tensor (or
a plain ndarray, e.g. `m.weight.data`) in place and returns it.

Why it matters (the course): a layer multiplies the variance of its input by about
`fan_in * Var(w) * gain^-2`; Xavier (tanh, sigmoid) and Kaiming (ReLU) choose Var(w) to
make that factor 1, so activations neither explode nor vanish through a deep stack.
Every draw uses `mg.rng()` (or the `generator=` given), so `mg.manual_seed` makes them
reproducible.
"""
import math
import warnings

import numpy as np

from ..random import rng
from ..tensor import Tensor, mark_written

_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The factor by which `nonlinearity` shrinks the standard deviation, as PyTorch.

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu(slope): sqrt(2 / (1 + slope^2))
    (slope 0.01 when `param` is None); selu: 3/4.
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
                     f"{_LINEAR_LIKE + ('tanh', 'relu', 'leaky_relu', 'selu')}")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = size(1) * receptive field, fan_out = size(0) * receptive field.

    For a Linear weight (out, in) that is (in, out); for a Conv2d weight (Cout, Cin, kH, kW)
    it is (Cin*kH*kW, Cout*kH*kW).
    """
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out need a tensor with at least 2 dimensions, "
                         f"got shape {shape}")
    receptive_field = int(np.prod(shape[2:]))
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    """Write `values` into the tensor's (or array's) storage, keeping its dtype; the write is
    counted, so a graph that saved the old values refuses to backward (as PyTorch)."""
    array = tensor.data if isinstance(tensor, Tensor) else tensor
    array[...] = values
    mark_written(array)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    return _fill(tensor, rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2)."""
    return _fill(tensor, rng(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) conditioned on [a, b] (absolute bounds, as PyTorch).

    Drawn by rejection: values outside [a, b] are drawn again until none is left. PyTorch
    only warns when mean lies more than 2 std outside [a, b]; there the acceptance rate is
    under 2.3% and this refuses (ValueError) rather than loop.
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: the bounds must satisfy a < b, got a={a}, b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        raise ValueError(f"trunc_normal_: mean {mean} is more than 2 std ({std}) outside "
                         f"[a, b] = [{a}, {b}]; expected the interval to hold a fair share "
                         f"of N(mean, std^2)")
    draw = rng(generator)
    values = draw.normal(mean, std, tensor.shape)
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = draw.normal(mean, std, int(outside.sum()))
        outside = (values < a) | (values > b)
    return _fill(tensor, values)


def constant_(tensor, val):
    """Fill with `val`."""
    return _fill(tensor, val)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _is_empty(tensor):
    """True, with PyTorch's warning, for a tensor with no elements (nn.Linear(0, 3)): it has
    nothing to initialise, and its fan may be 0."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op")
        return True
    return False


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al., 2015); `a` is leaky_relu's slope."""
    if _is_empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std  # a uniform on (-b, b) has std b / sqrt(3)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    if _is_empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """Fill with gain * a random (semi-)orthogonal matrix (Saxe et al., 2014), the tensor seen
    as (size(0), rest): orthonormal rows if there are fewer rows than columns, else columns.

    Q of the QR decomposition of a Gaussian matrix, its columns' signs fixed by diag(R) so
    that Q is uniformly distributed.
    """
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {shape}")
    rows, cols = shape[0], int(np.prod(shape[1:]))
    flat = rng(generator).normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))  # tall
    q, r = np.linalg.qr(flat)  # q (max, min) with orthonormal columns
    q *= np.sign(np.diag(r))
    q = q if rows >= cols else q.T  # (rows, cols)
    return _fill(tensor, gain * q.reshape(shape))


def prior_bias_(bias, class_priors):
    """Set an output layer's bias so that softmax(bias) equals the class distribution.

    bias = log(p) - mean(log(p)) with p = class_priors / sum(class_priors), so an untrained
    classifier starts by predicting the class frequencies and its first loss is the
    entropy of the labels instead of a large, noisy value (the course's advice for output
    units). Counts may be given instead of probabilities.
    """
    priors = np.asarray(class_priors, dtype=np.float64)
    if priors.shape != tuple(bias.shape):
        raise ValueError(f"prior_bias_: class_priors of shape {priors.shape} does not fit bias "
                         f"of shape {tuple(bias.shape)}; expected one prior per class")
    if not np.all(priors > 0):
        raise ValueError(f"prior_bias_: class_priors must all be positive, got {priors}")
    log_priors = np.log(priors / priors.sum())
    return _fill(bias, log_priors - log_priors.mean())


def _bilinear_taps(size):
    """The 1-d triangle filter of `size` taps that upsamples by factor (size + 1) // 2:
    w(t) = 1 - |t - centre| / factor, centre = factor - 1 (odd size) or factor - 1/2 (even),
    as Long et al.'s FCN (`upsample_filt`)."""
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 else factor - 0.5
    return 1 - np.abs(np.arange(size) - centre) / factor


def bilinear_(tensor):
    """Fill a ConvTranspose2d weight with the bilinear-interpolation kernel, channel by
    channel (Long et al., 2015, "Fully Convolutional Networks for Semantic Segmentation").

    Shapes: weight (C, C, kH, kW) (channel-diagonal: tap (c, c) is the kernel, cross-channel
    taps are 0) or (C, 1, kH, kW) (depthwise, groups=C). The kernel is the outer product of
    triangle filters. For stride s use kernel 2s - s % 2 and padding s // 2 (kernel 2s,
    padding s/2 for even s): then output o reads input i with weight 1 - |src - i|,
    src = (o + 1/2)/s - 1/2, which is F.interpolate(scale_factor=s, mode="bilinear",
    align_corners=False) except in the s // 2 rows and columns at each border, where
    interpolate clamps src to the image and the transposed convolution reads zeros.
    """
    shape = tuple(tensor.shape)
    if len(shape) != 4 or shape[1] not in (1, shape[0]):
        raise ValueError(f"bilinear_: expected a ConvTranspose2d weight of shape (C, C, kH, kW) "
                         f"or (C, 1, kH, kW), got shape {shape}")
    kernel = np.outer(_bilinear_taps(shape[2]), _bilinear_taps(shape[3]))  # (kH, kW)
    values = np.zeros(shape)
    channels = np.arange(shape[0])
    values[channels, channels if shape[1] > 1 else 0] = kernel
    return _fill(tensor, values)
