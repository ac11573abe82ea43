"""MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear
Bottlenecks"), laid out as torchvision's mobilenetv2.py: same module names, state_dict keys
(`features.0.0.weight`, ...) and initialisation, so torchvision's weights load unchanged."""
import numpy as np

import minigrad as mg

from .. import nn
from ._weights import refuse_weights

__all__ = ["Conv2dNormActivation", "InvertedResidual", "MobileNetV2", "mobilenet_v2"]

# (t, c, n, s) per stage: expansion factor, output channels, repeats, first block's stride
# (the paper's Table 2)
_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
            [6, 160, 3, 2], [6, 320, 1, 1]]


def _make_divisible(value, divisor, min_value=None):
    """`value` rounded to the nearest multiple of `divisor` (at least `min_value`, which
    defaults to `divisor`), bumped up a step if rounding lost more than 10%: the rule of the
    TensorFlow reference that torchvision's channel counts follow."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class Conv2dNormActivation(nn.Sequential):
    """Conv2d, then a norm layer, then an activation, as torchvision.ops's block (keys
    "0.weight", "1.weight", ...). The conv has a bias only without a norm layer (a bias
    before BatchNorm is cancelled by its mean); padding defaults to (k - 1) // 2 * dilation,
    which keeps the size at stride 1 for odd kernels.

    Shapes: (N, in_channels, H, W) -> (N, out_channels, Ho, Wo), Ho = ceil(H / stride) for
    odd kernels with the default padding.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None,
                 groups=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1,
                 inplace=True, bias=None):
        if padding is None:
            padding = tuple(int(p) for p in (np.broadcast_to(kernel_size, 2) - 1) // 2
                            * np.broadcast_to(dilation, 2))
        bias = norm_layer is None if bias is None else bias
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                            dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer() if inplace is None
                          else activation_layer(inplace=inplace))
        super().__init__(*layers)
        self.out_channels = out_channels


class InvertedResidual(nn.Module):
    """MobileNetV2's block: a 1x1 conv expands to `inp * expand_ratio` channels (omitted
    when the ratio is 1), a 3x3 depthwise conv filters each channel (with the stride), and
    a 1x1 conv projects to `oup` channels with no activation (the "linear bottleneck":
    ReLU6 in a narrow space would destroy information). The input is added back when the
    shapes allow it (stride 1 and inp == oup). Sandler et al. 2018, Figure 3(b), Table 1.

    Shapes: (N, inp, H, W) -> (N, oup, Ho, Wo), Ho = ceil(H / stride).
    """

    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride!r}")
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1,
                                               norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers += [
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim,
                                 norm_layer=norm_layer, activation_layer=nn.ReLU6),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            norm_layer(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2: a stride-2 3x3 conv, the inverted-residual stages of
    `inverted_residual_setting` (rows t, c, n, s), a 1x1 conv to `last_channel`, global
    average pooling, dropout and a linear classifier. Channel counts are scaled by
    `width_mult` and rounded to multiples of `round_nearest`. Sandler et al. 2018.

    Shapes: (N, 3, H, W) -> (N, num_classes); features downsample by 32.
    """

    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None,
                 round_nearest=8, block=None, norm_layer=None, dropout=0.2):
        super().__init__()
        if isinstance(width_mult, bool) or not isinstance(width_mult, (int, float)) \
                or not width_mult > 0:
            raise ValueError(f"MobileNetV2: width_mult must be a positive number, "
                             f"got {width_mult!r}")
        if isinstance(round_nearest, bool) or not isinstance(round_nearest, int) \
                or round_nearest < 1:
            raise ValueError(f"MobileNetV2: round_nearest must be a positive int, "
                             f"got {round_nearest!r}")
        setting = _SETTING if inverted_residual_setting is None else inverted_residual_setting
        if len(setting) == 0 or any(len(row) != 4 for row in setting):
            raise ValueError(f"MobileNetV2: inverted_residual_setting must be a non-empty "
                             f"list of [t, c, n, s] rows, got {inverted_residual_setting!r}")
        block = InvertedResidual if block is None else block
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer

        input_channel = _make_divisible(32 * width_mult, round_nearest)
        # the last conv is never made narrower than 1280: the paper's choice for small models
        self.last_channel = _make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features = [Conv2dNormActivation(3, input_channel, stride=2, norm_layer=norm_layer,
                                         activation_layer=nn.ReLU6)]
        for t, c, n, s in setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(block(input_channel, output_channel, s if i == 0 else 1,
                                      expand_ratio=t, norm_layer=norm_layer))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1,
                                             norm_layer=norm_layer,
                                             activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout),
                                        nn.Linear(self.last_channel, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        x = mg.flatten(x, 1)  # (N, last_channel); not squeeze, which would drop N = 1
        return self.classifier(x)


def mobilenet_v2(*, num_classes=1000, width_mult=1.0, round_nearest=8, **kwargs):
    """MobileNetV2 with torchvision's defaults; `kwargs` go to `MobileNetV2`
    (inverted_residual_setting, block, norm_layer, dropout). No `weights`: load a
    state_dict. Sandler et al. 2018."""
    return MobileNetV2(num_classes=num_classes, width_mult=width_mult,
                       round_nearest=round_nearest, **refuse_weights("mobilenet_v2", kwargs))
