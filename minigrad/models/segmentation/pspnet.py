"""PSPNet (Zhao et al. 2017, "Pyramid Scene Parsing Network"): a dilated backbone and the
pyramid pooling module, which adds context pooled over the whole image and over coarse
grids of it to every pixel's features."""
import minigrad as mg
import minigrad.nn.functional as F

from ... import nn
from ..mobilenet import Conv2dNormActivation
from ._utils import check_positive_int
from .deeplabv3plus import DilatedBackbone

__all__ = ["PyramidPooling", "PSPNet", "pspnet"]


class PyramidPooling(nn.Module):
    """The pyramid pooling module (Zhao et al. 2017, sec. 3.2, fig. 3): for each bin size b,
    average-pool the features to a b x b grid (adaptive pooling), 1x1 conv-BN-ReLU to
    `out_channels` (default in_channels / len(bins)), upsample bilinearly back; concatenate
    the input with every level. Bin 1 is global context (what is in the scene), bins 2, 3, 6
    say roughly where.

    Shapes: (N, in_channels, h, w) -> (N, in_channels + len(bins) * out_channels, h, w).
    Training needs a batch of at least 2 (the bin-1 BN sees one value per sample).
    """

    def __init__(self, in_channels, bins=(1, 2, 3, 6), out_channels=None):
        super().__init__()
        bins = tuple(bins)
        if not bins:
            raise ValueError("PyramidPooling: bins must name at least one grid size, got ()")
        for size in bins:
            check_positive_int("PyramidPooling", "each of bins", size)
        out_channels = in_channels // len(bins) if out_channels is None else out_channels
        check_positive_int("PyramidPooling", "out_channels", out_channels)
        self.bins = bins
        self.stages = nn.ModuleList([
            nn.Sequential(nn.AdaptiveAvgPool2d(size),
                          nn.Conv2d(in_channels, out_channels, 1, bias=False),
                          nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))
            for size in bins])
        self.out_channels = in_channels + len(bins) * out_channels

    def forward(self, x):
        size = x.shape[-2:]
        levels = [F.interpolate(stage(x), size=size, mode="bilinear", align_corners=False)
                  for stage in self.stages]
        return mg.cat([x] + levels, dim=1)


class PSPNet(nn.Module):
    """PSPNet: DilatedBackbone (output stride 8, as the paper), PyramidPooling on its
    8 * base_channels features, a 3x3 conv-BN-ReLU to a quarter of the backbone's width
    (2048 -> 512 in the paper), Dropout(0.1), a 1x1 conv to the classes, bilinear upsampling
    to the input size. The paper's auxiliary loss on an intermediate stage is left out.

    Shapes: x (N, in_channels, H, W) -> logits (N, num_classes, H, W).
    """

    def __init__(self, num_classes, in_channels=3, base_channels=16, bins=(1, 2, 3, 6),
                 output_stride=8):
        super().__init__()
        check_positive_int("PSPNet", "num_classes", num_classes)
        self.backbone = DilatedBackbone(in_channels, base_channels, output_stride)
        width = 8 * base_channels
        self.ppm = PyramidPooling(width, bins)
        self.classifier = nn.Sequential(
            Conv2dNormActivation(self.ppm.out_channels, width // 4),
            nn.Dropout(0.1),
            nn.Conv2d(width // 4, num_classes, 1),
        )

    def forward(self, x):
        y = self.classifier(self.ppm(self.backbone(x)["out"]))
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


def pspnet(num_classes, in_channels=3, base_channels=16, bins=(1, 2, 3, 6), output_stride=8):
    """PSPNet (Zhao et al. 2017) on a small dilated backbone, pyramid bins `bins`. Logits
    (N, num_classes, H, W)."""
    return PSPNet(num_classes, in_channels, base_channels, bins, output_stride)
