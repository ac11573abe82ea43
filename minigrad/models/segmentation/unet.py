"""U-Net (Ronneberger, Fischer and Brox, 2015, "U-Net: Convolutional Networks for
Biomedical Image Segmentation"): a contracting path of double 3x3 convs and 2x2 max-pools, an
expanding path that upsamples, concatenates the encoder's map of the same level (the skip)
and applies a double conv again."""
import minigrad as mg
import minigrad.nn.functional as F

from ... import nn
from ._utils import check_choice, check_positive_int

__all__ = ["DoubleConv", "Up", "UNet", "unet"]

UPSAMPLE_MODES = ("transpose", "bilinear")


class DoubleConv(nn.Sequential):
    """Two 3x3 convolutions, each followed by BatchNorm and ReLU: the unit of every U-Net
    level (Ronneberger et al. 2015, fig. 1; BatchNorm is the now-usual addition, so the
    convs carry no bias). Padding 1 keeps the size, where the paper's unpadded convs shrink
    each map by 4 pixels and crop the skips to fit.

    Shapes: (N, in_channels, H, W) -> (N, out_channels, H, W); the first conv goes to
    `mid_channels` (default out_channels).
    """

    def __init__(self, in_channels, out_channels, mid_channels=None):
        mid_channels = out_channels if mid_channels is None else mid_channels
        super().__init__(
            nn.Conv2d(in_channels, mid_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class Up(nn.Module):
    """One expanding step: upsample x2 halving the channels, pad to the skip's size,
    concatenate [skip, upsampled], DoubleConv.

    `upsample="transpose"`: the paper's "up-convolution", a learned 2x2 ConvTranspose2d
    with stride 2. `"bilinear"`: fixed bilinear interpolation followed by a 1x1 conv that
    halves the channels (fewer parameters, no checkerboard artefacts).
    When the encoder's pool dropped an odd row or column, the upsampled map is one short of
    the skip and is zero-padded (the extra row split between both sides) to fit.

    Shapes: x (N, in_channels, h, w), skip (N, in_channels // 2, H, W) with H in {2h, 2h+1}
    -> (N, out_channels, H, W).
    """

    def __init__(self, in_channels, out_channels, upsample="transpose"):
        super().__init__()
        check_choice("Up", "upsample", upsample, UPSAMPLE_MODES)
        if in_channels % 2:
            raise ValueError(f"Up: in_channels must be even (half come from the skip), "
                             f"got {in_channels}")
        if upsample == "transpose":
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, 2, stride=2)
        else:
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(in_channels, in_channels // 2, 1))
        self.conv = DoubleConv(in_channels, out_channels)  # skip and upsampled: in/2 each

    def forward(self, x, skip):
        x = self.up(x)
        dh, dw = (s - n for s, n in zip(skip.shape[-2:], x.shape[-2:]))
        if dh or dw:
            x = F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))
        return self.conv(mg.cat([skip, x], dim=1))


class UNet(nn.Module):
    """U-Net: `inc` (a DoubleConv to base_channels), `depth` down steps (2x2 max-pool,
    DoubleConv doubling the channels), `depth` Up steps back, and a 1x1 conv `outc` to the
    classes. Ronneberger et al. use base_channels=64, depth=4 (1024 channels at the bottom).

    Shapes: x (N, in_channels, H, W), H, W >= 2**depth -> logits (N, num_classes, H, W),
    any H, W (odd sizes included).
    """

    def __init__(self, num_classes, in_channels=3, base_channels=16, depth=4,
                 upsample="transpose"):
        super().__init__()
        for name, value in (("num_classes", num_classes), ("in_channels", in_channels),
                            ("base_channels", base_channels), ("depth", depth)):
            check_positive_int("UNet", name, value)
        check_choice("UNet", "upsample", upsample, UPSAMPLE_MODES)
        self.depth = depth
        widths = [base_channels * 2 ** level for level in range(depth + 1)]
        self.inc = DoubleConv(in_channels, widths[0])
        self.downs = nn.ModuleList([nn.Sequential(nn.MaxPool2d(2), DoubleConv(c, 2 * c))
                                    for c in widths[:-1]])
        self.ups = nn.ModuleList([Up(2 * c, c, upsample) for c in reversed(widths[:-1])])
        self.outc = nn.Conv2d(widths[0], num_classes, 1)

    def forward(self, x):
        if min(x.shape[-2:]) < 2 ** self.depth:
            raise ValueError(f"UNet: input of shape {tuple(x.shape)} is too small for depth "
                             f"{self.depth}; expected H and W of at least {2 ** self.depth}")
        x = self.inc(x)
        skips = []
        for down in self.downs:
            skips.append(x)
            x = down(x)
        for up, skip in zip(self.ups, reversed(skips)):
            x = up(x, skip)
        return self.outc(x)


def unet(num_classes, in_channels=3, base_channels=16, depth=4, upsample="transpose"):
    """U-Net (Ronneberger et al. 2015) `base_channels` wide at the top (64 in the paper)
    with `depth` poolings; `upsample` is "transpose" or "bilinear". Logits (N, num_classes,
    H, W) at the input size."""
    return UNet(num_classes, in_channels, base_channels, depth, upsample)
