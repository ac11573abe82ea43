"""The CIFAR-10 ResNet of He et al. 2016 ("Deep Residual Learning for Image Recognition",
section 4.2) and its plain twin, for the degradation experiment: 6n+2 weighted layers, a
3x3 conv, three stages of n blocks at 16, 32, 64 maps on 32, 16, 8 pixels, global average
pooling and a 10-way fc. Named as torchvision's ResNet (conv1, bn1, layer1..3, fc).
"""
import numbers

import minigrad as mg

from .. import functional as F, nn


class ZeroPadShortcut(nn.Module):
    """Option A's parameter-free shortcut (He et al. 2016, section 3.3): the identity, or,
    where a stage halves the size and widens, every second pixel with the new channels
    zero-padded (half before, half after the old ones, as the common implementations).

    Shapes: (N, in_planes, H, W) -> (N, planes, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        if planes < in_planes:
            raise ValueError(f"ZeroPadShortcut: planes ({planes}) must be at least in_planes "
                             f"({in_planes}); zero padding only widens")
        self.in_planes, self.planes, self.stride = in_planes, planes, stride

    def forward(self, x):
        if self.stride == 1 and self.planes == self.in_planes:
            return x
        extra = self.planes - self.in_planes
        x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2))  # pads the channel axis

    def extra_repr(self):
        return f"{self.in_planes}, {self.planes}, stride={self.stride}"


class CifarBasicBlock(nn.Module):
    """Two 3x3 conv-BN layers, then ReLU of their sum with the option-A shortcut (He et al.
    2016, fig. 2 and section 4.2); with residual=False, the "plain" block: the same layers,
    no addition.

    Shapes: (N, in_planes, H, W) -> (N, planes, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, in_planes, planes, stride=1, residual=True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = ZeroPadShortcut(in_planes, planes, stride) if residual else None

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)


class CifarResNet(nn.Module):
    """conv3x3(3, 16)-BN-ReLU, three stages of `blocks_per_stage` blocks at 16, 32, 64
    planes (the last two start with stride 2), global average pool, fc.

    Shapes: (N, 3, H, W) -> (N, num_classes); the stages see H, H/2, H/4 (32, 16, 8 on
    CIFAR).
    """

    def __init__(self, blocks_per_stage, num_classes=10, residual=True):
        super().__init__()
        self.residual = residual
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, blocks_per_stage)
        self.layer2 = self._make_layer(32, blocks_per_stage, stride=2)
        self.layer3 = self._make_layer(64, blocks_per_stage, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)

        # the paper uses He et al. 2015's init; fan_out as torchvision's ResNet
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes, blocks, stride=1):
        """One stage: the first block subsamples and widens, the others keep the shape."""
        layers = [CifarBasicBlock(self.in_planes, planes, stride, self.residual)]
        self.in_planes = planes
        for _ in range(1, blocks):
            layers.append(CifarBasicBlock(planes, planes, residual=self.residual))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(mg.flatten(self.avgpool(x), 1))


def cifar_resnet(depth, num_classes=10, residual=True):
    """He et al.'s CIFAR ResNet with depth = 6n + 2 weighted layers (20, 32, 44, 56, 110,
    ...); 269,722 parameters at depth 20. residual=False: the plain net with the same layers
    and parameters, for the degradation experiment (deeper plain nets train worse)."""
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral):
        raise TypeError(f"cifar_resnet: depth must be an int, got {type(depth).__name__} "
                        f"{depth!r}")
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"cifar_resnet: depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, "
                         f"44, 56, 110, ...), got depth={depth}")
    return CifarResNet((depth - 2) // 6, num_classes=num_classes, residual=residual)
