"""DeepLabV3 (Chen et al. 2017, "Rethinking Atrous Convolution for Semantic Image
Segmentation"): atrous spatial pyramid pooling (ASPP) and torchvision's
`deeplabv3_resnet50/101`, with torchvision's module names and state_dict keys."""
import minigrad as mg
import minigrad.nn.functional as F

from ... import nn
from ..resnet import resnet50, resnet101
from ._utils import _SimpleSegmentationModel, check_positive_int
from .fcn import resnet_segmentation_model

__all__ = ["DeepLabV3", "DeepLabHead", "ASPPConv", "ASPPPooling", "ASPP",
           "deeplabv3_resnet50", "deeplabv3_resnet101"]


class DeepLabV3(_SimpleSegmentationModel):
    """torchvision's DeepLabV3: a backbone returning {"out", "aux"} features, a DeepLabHead
    on "out" (an FCNHead on "aux"), both upsampled bilinearly to the input size.

    Shapes: x (N, 3, H, W) -> OrderedDict {"out": (N, K, H, W), "aux": (N, K, H, W)}, "aux"
    only with an aux_classifier.
    """


class DeepLabHead(nn.Sequential):
    """ASPP (256 channels), 3x3 conv-BN-ReLU, 1x1 conv to the classes (torchvision's head).

    Shapes: (N, in_channels, h, w) -> (N, num_classes, h, w).
    """

    def __init__(self, in_channels, num_classes, atrous_rates=(12, 24, 36)):
        super().__init__(
            ASPP(in_channels, atrous_rates),
            nn.Conv2d(256, 256, 3, padding=1, bias=False),
            nn.BatchNorm2d(256),
            nn.ReLU(),
            nn.Conv2d(256, num_classes, 1),
        )


class ASPPConv(nn.Sequential):
    """One atrous branch: 3x3 conv with dilation (and padding) `dilation`, BN, ReLU. Its
    taps lie `dilation` pixels apart, so it sees a (2 * dilation + 1)^2 window with 9
    weights.

    Shapes: (N, in_channels, h, w) -> (N, out_channels, h, w).
    """

    def __init__(self, in_channels, out_channels, dilation):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=dilation, dilation=dilation,
                      bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )


class ASPPPooling(nn.Sequential):
    """The image-level branch: global average pool, 1x1 conv, BN, ReLU, then broadcast back
    to the feature size (bilinear from 1x1). Its BN sees one value per sample and channel,
    so training needs a batch of at least 2, as in PyTorch.

    Shapes: (N, in_channels, h, w) -> (N, out_channels, h, w), constant over (h, w).
    """

    def __init__(self, in_channels, out_channels):
        super().__init__(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x):
        size = x.shape[-2:]
        return F.interpolate(super().forward(x), size=size, mode="bilinear",
                             align_corners=False)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling (Chen et al. 2017, sec. 3.3): parallel branches — a
    1x1 conv, one 3x3 atrous conv per rate in `atrous_rates`, and image pooling — each
    conv-BN-ReLU to `out_channels`, concatenated and projected by a 1x1 conv-BN-ReLU, then
    Dropout(0.5). Branches with several rates see context at several scales at the cost of
    one 3x3 conv each; the image-level branch adds the global context that a rate as large
    as the feature map can no longer provide (its taps fall in the padding).

    Shapes: (N, in_channels, h, w) -> (N, out_channels, h, w); the concatenation has
    (len(atrous_rates) + 2) * out_channels channels.
    """

    def __init__(self, in_channels, atrous_rates, out_channels=256):
        super().__init__()
        rates = tuple(atrous_rates)
        for rate in rates:
            check_positive_int("ASPP", "each of atrous_rates", rate)
        branches = [nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                                  nn.BatchNorm2d(out_channels), nn.ReLU())]
        branches += [ASPPConv(in_channels, out_channels, rate) for rate in rates]
        branches.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(
            nn.Conv2d(len(self.convs) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(0.5),
        )

    def forward(self, x):
        return self.project(mg.cat([branch(x) for branch in self.convs], dim=1))


def deeplabv3_resnet50(*, weights=None, progress=True, num_classes=21, aux_loss=None,
                       weights_backbone=None):
    """DeepLabV3 on a dilated ResNet-50 (output stride 8, ASPP rates 12, 24, 36), as
    torchvision: 42,004,074 parameters with aux_loss (the count torchvision publishes),
    39,638,869 without.

    Returns {"out"} (and "aux", an FCNHead on layer3, with aux_loss), each (N, num_classes,
    H, W). `weights`/`weights_backbone` must be None (nothing is downloaded: load a
    state_dict instead); `progress` is accepted and has no effect.
    """
    return resnet_segmentation_model("deeplabv3_resnet50", DeepLabV3, DeepLabHead, resnet50,
                                     num_classes, aux_loss, weights, weights_backbone)


def deeplabv3_resnet101(*, weights=None, progress=True, num_classes=21, aux_loss=None,
                        weights_backbone=None):
    """DeepLabV3 on a dilated ResNet-101, as torchvision: 60,996,202 parameters with
    aux_loss, 58,630,997 without. Returns as deeplabv3_resnet50."""
    return resnet_segmentation_model("deeplabv3_resnet101", DeepLabV3, DeepLabHead,
                                     resnet101, num_classes, aux_loss, weights,
                                     weights_backbone)
