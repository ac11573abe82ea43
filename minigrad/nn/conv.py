"""Conv2d and ConvTranspose2d: PyTorch's constructors, parameters and default init over
minigrad.functional."""
import math

import numpy as np

from .. import functional as F
from ..dtypes import get_default_dtype
from ..ops.conv import _pair
from . import init
from .module import Module, Parameter


class _ConvNd(Module):
    """What both layers share: argument checks, the parameters and PyTorch's default init."""

    def __init__(self, name, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, device, dtype, weight_shape):
        super().__init__()
        if padding_mode != "zeros":
            raise NotImplementedError(f"{name}: padding_mode={padding_mode!r} is not supported; "
                                      f"only 'zeros'")
        if device not in (None, "cpu"):
            raise NotImplementedError(f"{name}: device={device!r} is not supported; only 'cpu'")
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels ({in_channels}) "
                             f"and out_channels ({out_channels})")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _pair(kernel_size, "kernel_size", name)
        self.stride, self.dilation = _pair(stride, "stride", name), _pair(dilation, "dilation", name)
        self.padding = padding if isinstance(padding, str) else _pair(padding, "padding", name)
        self.padding_mode = padding_mode
        dtype = get_default_dtype() if dtype is None else dtype
        self.weight = Parameter(np.empty((*weight_shape, *self.kernel_size), dtype))
        self.bias = Parameter(np.empty(out_channels, dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_(a=sqrt(5)) is U(+-1/sqrt(fan_in)), fan_in = weight.shape[1]*kH*kW:
        # for ConvTranspose2d that is out_channels/groups*kH*kW, as PyTorch computes it
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    """torch.nn.Conv2d: weight (out_channels, in_channels/groups, kH, kW), bias (out_channels,)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"Conv2d: padding must be 'same', 'valid', an int or a pair, "
                             f"got {padding!r}")
        if padding == "same" and _pair(stride, "stride", "Conv2d") != (1, 1):
            raise ValueError(f"Conv2d: padding='same' needs stride 1, got stride={stride}")
        super().__init__("Conv2d", in_channels, out_channels, kernel_size, stride, padding,
                         dilation, groups, bias, padding_mode, device, dtype,
                         (out_channels, in_channels // groups))

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


class ConvTranspose2d(_ConvNd):
    """torch.nn.ConvTranspose2d: weight (in_channels, out_channels/groups, kH, kW) (note the
    order), bias (out_channels,). `forward(x, output_size=None)`: an output size picks the
    output_padding, as PyTorch."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__("ConvTranspose2d", in_channels, out_channels, kernel_size, stride,
                         padding, dilation, groups, bias, padding_mode, device, dtype,
                         (in_channels, out_channels // groups))
        self.output_padding = _pair(output_padding, "output_padding", "ConvTranspose2d")

    def forward(self, x, output_size=None):
        output_padding = (self.output_padding if output_size is None
                          else self._output_padding(x.shape, output_size))
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)

    def _output_padding(self, x_shape, output_size):
        """The output_padding giving `output_size` (its last two entries), which must lie
        between the smallest output size and that plus stride - 1."""
        wanted = tuple(output_size)[-2:]
        extra = []
        for size, want, k, s, p, d in zip(x_shape[-2:], wanted, self.kernel_size, self.stride,
                                          self.padding, self.dilation):
            smallest = (size - 1) * s - 2 * p + d * (k - 1) + 1
            if not smallest <= want <= smallest + s - 1:
                raise ValueError(f"ConvTranspose2d: output_size {tuple(output_size)} is not "
                                 f"reachable from input of shape {tuple(x_shape)}; each side "
                                 f"must lie in [smallest, smallest + stride - 1] = "
                                 f"[{smallest}, {smallest + s - 1}]")
            extra.append(want - smallest)
        return tuple(extra)

    def extra_repr(self):
        text = super().extra_repr()
        return text + (f", output_padding={self.output_padding}"
                       if self.output_padding != (0, 0) else "")
