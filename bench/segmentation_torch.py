"""PyTorch twins of minigrad's fcn8s, segnet and pspnet for bench/segmentation.py (unet's
and deeplabv3plus's are in bench/models.py).

Written with torch.nn from the descriptions in minigrad.models.segmentation, with the same
module names, so that their state_dicts have the same keys and shapes as minigrad's (the
bench checks it rather than assuming it). Import after PyTorch is loaded.
"""
import numpy as np
import torch
from torch import nn

from models import torchvision

# VGG-16's convolutions per stage and their widths in units of base_channels
VGG16_STAGES = ((2, 1), (2, 2), (3, 4), (3, 8), (3, 8))


def conv_norm_relu(in_channels, out_channels, kernel_size=3, stride=1, dilation=1):
    """torchvision's Conv2dNormActivation (conv without bias, BatchNorm, ReLU), which
    minigrad's mirrors."""
    block = torchvision("ops.misc").Conv2dNormActivation
    return block(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation)


def vgg_stage(in_channels, out_channels, n_convs):
    return nn.Sequential(*[conv_norm_relu(in_channels if i == 0 else out_channels,
                                          out_channels) for i in range(n_convs)])


def bilinear_upsampling(channels, stride):
    """ConvTranspose2d(kernel 2s - s % 2, padding s // 2) starting as bilinear interpolation
    on each channel (the triangle filter of Long et al.), as minigrad's nn.init.bilinear_."""
    size = 2 * stride - stride % 2
    up = nn.ConvTranspose2d(channels, channels, size, stride=stride, padding=stride // 2,
                            bias=False)
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 else factor - 0.5
    taps = 1 - np.abs(np.arange(size) - centre) / factor
    weight = np.zeros((channels, channels, size, size), np.float32)
    weight[np.arange(channels), np.arange(channels)] = np.outer(taps, taps)
    with torch.no_grad():
        up.weight.copy_(torch.from_numpy(weight))
    return up


class FCN8s(nn.Module):
    """minigrad's FCN8s: five VGG-16-BN stages each ending in a 2x2 max-pool, fc6/fc7 as a
    3x3 and a 1x1 conv-BN-ReLU with Dropout(0.5), score heads at strides 32, 16 (zero-init)
    and 8 (zero-init), bilinear-initialised transposed convolutions fusing them."""

    def __init__(self, num_classes, base_channels=16):
        super().__init__()
        stages, width = [], 3
        for n_convs, multiple in VGG16_STAGES:
            stages.append(nn.Sequential(vgg_stage(width, multiple * base_channels, n_convs),
                                        nn.MaxPool2d(2, 2)))
            width = multiple * base_channels
        self.features = nn.ModuleList(stages)
        fc_width = 16 * base_channels
        self.fc = nn.Sequential(conv_norm_relu(width, fc_width, 3), nn.Dropout(0.5),
                                conv_norm_relu(fc_width, fc_width, 1), nn.Dropout(0.5))
        self.score_fr = nn.Conv2d(fc_width, num_classes, 1)
        self.score_pool4 = nn.Conv2d(8 * base_channels, num_classes, 1)
        self.score_pool3 = nn.Conv2d(4 * base_channels, num_classes, 1)
        for skip in (self.score_pool4, self.score_pool3):
            nn.init.zeros_(skip.weight)
            nn.init.zeros_(skip.bias)
        self.upscore2 = bilinear_upsampling(num_classes, 2)
        self.upscore_pool4 = bilinear_upsampling(num_classes, 2)
        self.upscore8 = bilinear_upsampling(num_classes, 8)

    def forward(self, x):
        size, pooled = x.shape[-2:], []
        for stage in self.features:
            x = stage(x)
            pooled.append(x)
        pool3, pool4 = pooled[2], pooled[3]
        score = self.upscore2(self.score_fr(self.fc(x)), output_size=pool4.shape[-2:])
        score = self.upscore_pool4(score + self.score_pool4(pool4), output_size=pool3.shape[-2:])
        return self.upscore8(score + self.score_pool3(pool3), output_size=size)


class SegNet(nn.Module):
    """minigrad's SegNet: the five VGG-16-BN stages as encoder, 2x2 max-pools that keep
    their indices, a mirrored decoder of MaxUnpool2d + conv-BN-ReLU stages, a 3x3
    classifier."""

    def __init__(self, num_classes, base_channels=16, depth=5):
        super().__init__()
        widths = [multiple * base_channels for _, multiple in VGG16_STAGES[:depth]]
        n_convs = [n for n, _ in VGG16_STAGES[:depth]]
        self.encoders = nn.ModuleList([vgg_stage(c_in, c_out, n) for c_in, c_out, n
                                       in zip([3] + widths, widths, n_convs)])
        self.pool = nn.MaxPool2d(2, 2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, 2)
        decoders = [nn.Sequential(
            *[conv_norm_relu(widths[i], widths[i]) for _ in range(n - 1)],
            *([conv_norm_relu(widths[i], widths[i - 1])] if i else []))
            for i, n in enumerate(n_convs)]
        self.decoders = nn.ModuleList(decoders[::-1])
        self.classifier = nn.Conv2d(widths[0], num_classes, 3, padding=1)

    def forward(self, x):
        pooled = []
        for encoder in self.encoders:
            x = encoder(x)
            size = x.shape[-2:]
            x, indices = self.pool(x)
            pooled.append((indices, size))
        for decoder, (indices, size) in zip(self.decoders, reversed(pooled)):
            x = decoder(self.unpool(x, indices, output_size=size))
        return self.classifier(x)


class DilatedBackbone(nn.Module):
    """minigrad's DilatedBackbone at output stride 8 (PSPNet's): stem /2, layer1 /4,
    layer2 /8, layer3 dilation 2, layer4 dilation 4."""

    def __init__(self, b):
        super().__init__()
        self.stem = conv_norm_relu(3, b, stride=2)
        self.layer1 = nn.Sequential(conv_norm_relu(b, 2 * b, stride=2),
                                    conv_norm_relu(2 * b, 2 * b))
        self.layer2 = nn.Sequential(conv_norm_relu(2 * b, 4 * b, stride=2),
                                    conv_norm_relu(4 * b, 4 * b))
        self.layer3 = nn.Sequential(conv_norm_relu(4 * b, 8 * b, dilation=2),
                                    conv_norm_relu(8 * b, 8 * b, dilation=2))
        self.layer4 = nn.Sequential(conv_norm_relu(8 * b, 8 * b, dilation=4),
                                    conv_norm_relu(8 * b, 8 * b, dilation=4))

    def forward(self, x):
        return self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))


class PyramidPooling(nn.Module):
    def __init__(self, in_channels, bins=(1, 2, 3, 6)):
        super().__init__()
        out_channels = in_channels // len(bins)
        self.stages = nn.ModuleList([
            nn.Sequential(nn.AdaptiveAvgPool2d(size),
                          nn.Conv2d(in_channels, out_channels, 1, bias=False),
                          nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))
            for size in bins])
        self.out_channels = in_channels + len(bins) * out_channels

    def forward(self, x):
        size = x.shape[-2:]
        return torch.cat([x] + [nn.functional.interpolate(stage(x), size=size, mode="bilinear",
                                                          align_corners=False)
                                for stage in self.stages], dim=1)


class PSPNet(nn.Module):
    """minigrad's PSPNet: DilatedBackbone (output stride 8), pyramid pooling over bins
    1, 2, 3, 6, a 3x3 conv-BN-ReLU to a quarter of the width, Dropout(0.1), a 1x1 conv,
    bilinear upsampling to the input size."""

    def __init__(self, num_classes, base_channels=16):
        super().__init__()
        self.backbone = DilatedBackbone(base_channels)
        width = 8 * base_channels
        self.ppm = PyramidPooling(width)
        self.classifier = nn.Sequential(conv_norm_relu(self.ppm.out_channels, width // 4),
                                        nn.Dropout(0.1), nn.Conv2d(width // 4, num_classes, 1))

    def forward(self, x):
        y = self.classifier(self.ppm(self.backbone(x)))
        return nn.functional.interpolate(y, size=x.shape[-2:], mode="bilinear",
                                         align_corners=False)
