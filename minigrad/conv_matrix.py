"""The convolution as an explicit matrix: for teaching and for tests.

A convolution is linear in its input, so for a fixed weight it IS a matrix M with one row
per output value and one column per input value. Row (o, oh, ow) holds the kernel of
output channel o, laid onto the input pixels that output reads. The transposed
convolution is then literally M.T, the adjoint.
"""
import numpy as np

from .ops.conv import conv2d_geometry
from .tensor import Tensor


def conv_matrix(weight, input_shape, stride=1, padding=0, dilation=1, groups=1):
    """The dense matrix M with conv2d(x, weight, ...)[n].ravel() == M @ x[n].ravel().

    Built from the definition, not from conv2d: entry (row of output (o, oh, ow), column of
    input (c, h, w)) is weight[o, c - first channel of o's group, i, j] when output pixel
    (oh, ow) reads input pixel (h, w) = (oh*sH - pH + i*dH, ow*sW - pW + j*dW), else 0.
    Shapes: weight (Cout, Cin/groups, kH, kW), input_shape (Cin, H, W) ->
    (Cout*Ho*Wo, Cin*H*W).
    """
    weight = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if len(input_shape) != 3:
        raise ValueError(f"conv_matrix: input_shape must be (Cin, H, W), got {input_shape}")
    geometry = conv2d_geometry((1, *input_shape), weight.shape, stride, padding, dilation,
                               groups)
    Cin, H, W = input_shape
    Cout, Cin_g, kH, kW = weight.shape
    Ho, Wo = geometry.out_size
    (sH, sW), (pH, pW), (dH, dW) = geometry.spatial()
    # one axis per index of the sum: (o, c within the group, i, j, oh, ow)
    o, c_g, i, j, oh, ow = np.ix_(range(Cout), range(Cin_g), range(kH), range(kW), range(Ho),
                                  range(Wo))
    c = (o // (Cout // groups)) * Cin_g + c_g  # the input channel: o's group, then c_g in it
    h, w = oh * sH - pH + i * dH, ow * sW - pW + j * dW
    inside = (h >= 0) & (h < H) & (w >= 0) & (w < W)
    rows = (o * Ho + oh) * Wo + ow  # row-major index of output (o, oh, ow)
    cols = (c * H + h) * W + w  # row-major index of input (c, h, w)
    rows, cols, inside, values = np.broadcast_arrays(rows, cols, inside, weight[o, c_g, i, j])
    M = np.zeros((Cout * Ho * Wo, Cin * H * W), weight.dtype)
    # distinct kernel offsets of one output read distinct pixels: no entry is written twice
    M[rows[inside], cols[inside]] = values[inside]
    return M
