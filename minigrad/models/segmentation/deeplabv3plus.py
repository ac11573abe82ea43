"""DeepLabV3+ (Chen et al. 2018, "Encoder-Decoder with Atrous Separable Convolution for
Semantic Image Segmentation"): DeepLabV3's ASPP as the encoder's head, and a light decoder
that refines its upsampled output with the backbone's stride-4 features, on a small dilated
backbone that trains on a laptop."""
from collections import OrderedDict

import minigrad as mg
import minigrad.nn.functional as F

from ... import nn
from ..mobilenet import Conv2dNormActivation
from ._utils import check_choice, check_positive_int
from .deeplabv3 import ASPP

__all__ = ["DilatedBackbone", "DeepLabV3Plus", "deeplabv3plus"]

# the paper's ASPP rates at output stride 16; they double at output stride 8 (sec. 3.1)
DEFAULT_RATES = {16: (6, 12, 18), 8: (12, 24, 36)}


class DilatedBackbone(nn.Module):
    """A small conv-BN-ReLU backbone whose last strides are traded for dilation
    (atrous convolution, Chen et al. 2017 sec. 3.1): each stage after `layer2` that would
    halve the size keeps it and dilates its convs by the stride it dropped instead, so the
    receptive field grows as before while the features stay at `output_stride`.

    Stages: stem (stride 2, base_channels), layer1 (stride 4, 2b: the "low_level"
    features), layer2 (stride 8, 4b), layer3 (stride 16 at output_stride 16; stride 8,
    dilation 2 at 8; 8b), layer4 (no stride; dilation 2, or 4 at output_stride 8; 8b).

    Shapes: x (N, in_channels, H, W) -> OrderedDict {"low_level": (N, 2b, H/4, W/4),
    "out": (N, 8b, H/os, W/os)}, each halving rounding up.
    """

    def __init__(self, in_channels=3, base_channels=16, output_stride=16):
        super().__init__()
        check_positive_int("DilatedBackbone", "in_channels", in_channels)
        check_positive_int("DilatedBackbone", "base_channels", base_channels)
        check_choice("DilatedBackbone", "output_stride", output_stride, (8, 16))
        b = base_channels
        dilation3 = 16 // output_stride  # 1, or 2 where layer3's stride is dropped
        self.stem = Conv2dNormActivation(in_channels, b, stride=2)
        self.layer1 = nn.Sequential(Conv2dNormActivation(b, 2 * b, stride=2),
                                    Conv2dNormActivation(2 * b, 2 * b))
        self.layer2 = nn.Sequential(Conv2dNormActivation(2 * b, 4 * b, stride=2),
                                    Conv2dNormActivation(4 * b, 4 * b))
        self.layer3 = nn.Sequential(
            Conv2dNormActivation(4 * b, 8 * b, stride=2 // dilation3, dilation=dilation3),
            Conv2dNormActivation(8 * b, 8 * b, dilation=dilation3))
        self.layer4 = nn.Sequential(
            Conv2dNormActivation(8 * b, 8 * b, dilation=2 * dilation3),
            Conv2dNormActivation(8 * b, 8 * b, dilation=2 * dilation3))

    def forward(self, x):
        low_level = self.layer1(self.stem(x))
        out = self.layer4(self.layer3(self.layer2(low_level)))
        return OrderedDict([("low_level", low_level), ("out", out)])


class DeepLabV3Plus(nn.Module):
    """DeepLabV3+: backbone -> ASPP (`aspp_channels`) -> upsample to the stride-4 features
    -> concatenate them, projected by a 1x1 conv-BN-ReLU to `low_level_channels` (few, so
    they refine rather than outweigh the ASPP features) -> two 3x3 conv-BN-ReLU -> 1x1 conv
    to the classes -> bilinear upsampling to the input size (Chen et al. 2018, fig. 2).
    Defaults: aspp_channels = 8b and low_level_channels = 3b/2, the paper's 256 and 48 at
    base_channels 32. Plain (not separable) convolutions throughout.

    Shapes: x (N, in_channels, H, W) -> logits (N, num_classes, H, W).
    """

    def __init__(self, num_classes, in_channels=3, base_channels=16, output_stride=16,
                 atrous_rates=None, aspp_channels=None, low_level_channels=None):
        super().__init__()
        check_positive_int("DeepLabV3Plus", "num_classes", num_classes)
        self.backbone = DilatedBackbone(in_channels, base_channels, output_stride)
        rates = DEFAULT_RATES[output_stride] if atrous_rates is None else atrous_rates
        aspp_channels = 8 * base_channels if aspp_channels is None else aspp_channels
        low_level_channels = (3 * base_channels // 2 if low_level_channels is None
                              else low_level_channels)
        check_positive_int("DeepLabV3Plus", "aspp_channels", aspp_channels)
        check_positive_int("DeepLabV3Plus", "low_level_channels", low_level_channels)
        self.aspp = ASPP(8 * base_channels, rates, aspp_channels)
        self.low_level = Conv2dNormActivation(2 * base_channels, low_level_channels,
                                              kernel_size=1)
        self.decoder = nn.Sequential(
            Conv2dNormActivation(aspp_channels + low_level_channels, aspp_channels),
            Conv2dNormActivation(aspp_channels, aspp_channels),
            nn.Conv2d(aspp_channels, num_classes, 1),
        )

    def forward(self, x):
        features = self.backbone(x)
        low_level = self.low_level(features["low_level"])
        y = F.interpolate(self.aspp(features["out"]), size=low_level.shape[-2:],
                          mode="bilinear", align_corners=False)
        y = self.decoder(mg.cat([y, low_level], dim=1))
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


def deeplabv3plus(num_classes, in_channels=3, base_channels=16, output_stride=16,
                  atrous_rates=None, aspp_channels=None, low_level_channels=None):
    """DeepLabV3+ (Chen et al. 2018) on a small dilated backbone with `output_stride` 16 or
    8; `atrous_rates` default to (6, 12, 18) at 16 and (12, 24, 36) at 8. Logits
    (N, num_classes, H, W)."""
    return DeepLabV3Plus(num_classes, in_channels, base_channels, output_stride,
                         atrous_rates, aspp_channels, low_level_channels)
