"""ResNet, ResNeXt and Wide ResNet (He et al., 2016; Xie et al., 2017; Zagoruyko and
Komodakis, 2016) with torchvision's arguments, module names and state_dict keys, so that
torchvision's weights (as NumPy arrays) load unchanged.

The submodules are assigned in torchvision's order: a Module finds its parameters by
walking its attributes in assignment order, so that order is the state_dict key order.
"""
import minigrad as mg

from .. import nn
from ._weights import refuse_weights


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution without bias (a BatchNorm follows); padding = dilation keeps the size
    at stride 1."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution without bias: changes the channel count (and subsamples at stride 2)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers plus the shortcut, then ReLU (He et al. 2016, "Deep Residual
    Learning for Image Recognition", fig. 2): out = relu(F(x) + shortcut(x)).

    Shapes: (N, inplanes, H, W) -> (N, planes, H', W') with H' = ceil(H / stride).
    `downsample` (1x1 conv + BN) is the shortcut where the shape changes, else identity.
    """

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError(f"BasicBlock only supports groups=1 and base_width=64, got "
                             f"groups={groups}, base_width={base_width}")
        if dilation > 1:
            raise NotImplementedError(f"BasicBlock: dilation={dilation} is not supported "
                                      f"(as torchvision); use Bottleneck for dilated layers")
        self.conv1 = conv3x3(inplanes, planes, stride)  # the stride sits on the first conv
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (grouped, dilated), 1x1 expand, each with BN, plus the shortcut, then
    ReLU (He et al. 2016, fig. 5; grouped 3x3 as ResNeXt, Xie et al. 2017).

    Shapes: (N, inplanes, H, W) -> (N, 4 * planes, H', W') with H' = ceil(H / stride);
    inner width = planes * base_width / 64 * groups. The stride sits on the 3x3 conv
    (torchvision's "ResNet v1.5"), not on the first 1x1 as in the paper.
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """The ImageNet ResNet: 7x7/2 stem and 3x3/2 max-pool, four stages of `layers[i]` blocks
    at 64, 128, 256, 512 planes (stages 2-4 halve the size, or keep it and dilate instead
    where `replace_stride_with_dilation[i - 2]`), global average pool, fc.

    Shapes: (N, 3, H, W) -> (N, num_classes); the stages see H/4, H/8, H/16, H/32.
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers must list the block counts of the 4 stages, "
                             f"got {layers!r}")
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError(f"ResNet: replace_stride_with_dilation should be None or a "
                             f"3-element tuple, got {replace_stride_with_dilation!r}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2,
                                       dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2,
                                       dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2,
                                       dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        # He et al. 2015's init for ReLU nets (fan_out, as torchvision); fc keeps Linear's
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        # a zero last-BN scale starts each residual branch at 0, each block at the identity
        # (Goyal et al. 2017)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        """One stage: `blocks` blocks, the first changing the size and width, with a 1x1
        conv + BN shortcut where it does. `dilate` trades the stride for dilation, keeping
        the resolution (DeepLab's atrous backbone); the first block keeps the previous
        dilation, as torchvision."""
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width,
                        previous_dilation, norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = mg.flatten(self.avgpool(x), 1)
        return self.fc(x)


def _resnet(name, block, layers, num_classes, kwargs, **fixed):
    """ResNet(block, layers, ...) with the variant's `fixed` arguments, which the caller may
    repeat but not contradict (torchvision's _ovewrite_named_param)."""
    kwargs = refuse_weights(name, kwargs)
    for key, value in fixed.items():
        if kwargs.get(key, value) != value:
            raise ValueError(f"{name}: {key} is fixed at {value} for this variant, got "
                             f"{key}={kwargs[key]!r}")
    return ResNet(block, layers, num_classes=num_classes, **{**kwargs, **fixed})


def resnet18(*, num_classes=1000, **kwargs):
    """ResNet-18 (He et al. 2016): BasicBlocks [2, 2, 2, 2], 11,689,512 parameters."""
    return _resnet("resnet18", BasicBlock, [2, 2, 2, 2], num_classes, kwargs)


def resnet34(*, num_classes=1000, **kwargs):
    """ResNet-34 (He et al. 2016): BasicBlocks [3, 4, 6, 3], 21,797,672 parameters."""
    return _resnet("resnet34", BasicBlock, [3, 4, 6, 3], num_classes, kwargs)


def resnet50(*, num_classes=1000, **kwargs):
    """ResNet-50 (He et al. 2016): Bottlenecks [3, 4, 6, 3], 25,557,032 parameters."""
    return _resnet("resnet50", Bottleneck, [3, 4, 6, 3], num_classes, kwargs)


def resnet101(*, num_classes=1000, **kwargs):
    """ResNet-101 (He et al. 2016): Bottlenecks [3, 4, 23, 3], 44,549,160 parameters."""
    return _resnet("resnet101", Bottleneck, [3, 4, 23, 3], num_classes, kwargs)


def resnet152(*, num_classes=1000, **kwargs):
    """ResNet-152 (He et al. 2016): Bottlenecks [3, 8, 36, 3], 60,192,808 parameters."""
    return _resnet("resnet152", Bottleneck, [3, 8, 36, 3], num_classes, kwargs)


def resnext50_32x4d(*, num_classes=1000, **kwargs):
    """ResNeXt-50 32x4d (Xie et al. 2017): ResNet-50 with 32 groups of width 4 in the 3x3
    convs, 25,028,904 parameters."""
    return _resnet("resnext50_32x4d", Bottleneck, [3, 4, 6, 3], num_classes, kwargs,
                   groups=32, width_per_group=4)


def wide_resnet50_2(*, num_classes=1000, **kwargs):
    """Wide ResNet-50-2 (Zagoruyko and Komodakis 2016): ResNet-50 with twice the inner width
    of every bottleneck, 68,883,240 parameters."""
    return _resnet("wide_resnet50_2", Bottleneck, [3, 4, 6, 3], num_classes, kwargs,
                   width_per_group=64 * 2)
