"""Fully convolutional networks (Long, Shelhamer and Darrell, 2015, "Fully Convolutional
Networks for Semantic Segmentation"): torchvision's `fcn_resnet50/101` (same module names and
state_dict keys, so torchvision's weights load unchanged) and the paper's FCN-8s at laptop
size."""
from ... import nn
from ..resnet import resnet50, resnet101
from ..mobilenet import Conv2dNormActivation
from ._utils import IntermediateLayerGetter, _SimpleSegmentationModel, check_positive_int

__all__ = ["FCN", "FCNHead", "fcn_resnet50", "fcn_resnet101", "FCN8s", "fcn8s"]


class FCN(_SimpleSegmentationModel):
    """torchvision's FCN: a backbone returning {"out", "aux"} features, an FCNHead on each,
    both upsampled bilinearly to the input size.

    Shapes: x (N, 3, H, W) -> OrderedDict {"out": (N, K, H, W), "aux": (N, K, H, W)}, "aux"
    only with an aux_classifier.
    """


class FCNHead(nn.Sequential):
    """3x3 conv to in_channels/4 channels, BN, ReLU, Dropout(0.1), 1x1 conv to `channels`
    (torchvision's head on a dilated ResNet).

    Shapes: (N, in_channels, h, w) -> (N, channels, h, w).
    """

    def __init__(self, in_channels, channels):
        inter_channels = in_channels // 4
        super().__init__(
            nn.Conv2d(in_channels, inter_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(inter_channels),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(inter_channels, channels, 1),
        )


def resnet_segmentation_model(name, model_class, head, resnet, num_classes, aux_loss,
                              weights, weights_backbone):
    """torchvision's recipe: `resnet` with layer3 and layer4 dilated instead of strided
    (output stride 8), its children up to layer4 returning layer4 as "out" (and, with
    aux_loss, layer3 as "aux"), `head(2048, num_classes)` on "out" and FCNHead(1024,
    num_classes) on "aux". Pretrained weights are refused: minigrad downloads nothing."""
    for arg, value in (("weights", weights), ("weights_backbone", weights_backbone)):
        if value is not None:
            raise TypeError(f"{name}: {arg}={value!r} is not taken; minigrad downloads no "
                            f"weights. Build the model, then load pretrained weights with "
                            f"model.load_state_dict(state_dict), torchvision's state_dict as "
                            f"NumPy arrays")
    check_positive_int(name, "num_classes", num_classes)
    return_layers = {"layer4": "out"}
    if aux_loss:
        return_layers["layer3"] = "aux"
    backbone = IntermediateLayerGetter(resnet(replace_stride_with_dilation=[False, True, True]),
                                       return_layers=return_layers)
    aux_classifier = FCNHead(1024, num_classes) if aux_loss else None
    return model_class(backbone, head(2048, num_classes), aux_classifier)


def fcn_resnet50(*, weights=None, progress=True, num_classes=21, aux_loss=None,
                 weights_backbone=None):
    """FCN on a dilated ResNet-50 (output stride 8), as torchvision: 35,322,218 parameters
    with aux_loss (the count torchvision publishes), 32,957,013 without.

    Returns {"out"} (and "aux", the FCNHead on layer3, with aux_loss), each (N, num_classes,
    H, W). `weights`/`weights_backbone` must be None (nothing is downloaded: load a
    state_dict instead); `progress` is accepted and has no effect.
    """
    return resnet_segmentation_model("fcn_resnet50", FCN, FCNHead, resnet50, num_classes,
                                     aux_loss, weights, weights_backbone)


def fcn_resnet101(*, weights=None, progress=True, num_classes=21, aux_loss=None,
                  weights_backbone=None):
    """FCN on a dilated ResNet-101, as torchvision: 54,314,346 parameters with aux_loss,
    51,949,141 without. Returns as fcn_resnet50."""
    return resnet_segmentation_model("fcn_resnet101", FCN, FCNHead, resnet101, num_classes,
                                     aux_loss, weights, weights_backbone)


# VGG-16's convolutions per stage and their widths in units of base_channels (64 in VGG)
VGG16_STAGES = ((2, 1), (2, 2), (3, 4), (3, 8), (3, 8))


def vgg_stage(in_channels, out_channels, n_convs):
    """`n_convs` 3x3 conv-BN-ReLU layers, the first changing the width (VGG-16-BN's stage,
    without its max-pool)."""
    return nn.Sequential(*[Conv2dNormActivation(in_channels if i == 0 else out_channels,
                                                out_channels) for i in range(n_convs)])


def bilinear_upsampling(channels, stride):
    """A channel-diagonal ConvTranspose2d that upsamples by `stride` and starts as bilinear
    interpolation (nn.init.bilinear_; kernel 2s - s % 2, padding s // 2 give size H * s).
    Pass `output_size=` to its forward to reach a size up to s - 1 larger."""
    up = nn.ConvTranspose2d(channels, channels, 2 * stride - stride % 2, stride=stride,
                            padding=stride // 2, bias=False)
    nn.init.bilinear_(up.weight)
    return up


class FCN8s(nn.Module):
    """FCN-8s (Long et al. 2015, fig. 3): a VGG-16 encoder, class scores at stride 32 fused
    with scores from pool4 (stride 16) and pool3 (stride 8), then upsampled to the input.

    `features` holds the five VGG-16 stages (with BatchNorm, so it trains from scratch),
    each followed by a 2x2 max-pool; `fc` stands for fc6/fc7 (a 3x3 and a 1x1 conv at
    16 * base_channels, where VGG has 7x7 and 1x1 at 4096). The layer names are the paper's
    Caffe names. Each upsampling is a learnable ConvTranspose2d initialised to bilinear
    interpolation (the paper fixes the last one; freeze `upscore8` to do the same);
    `score_pool4` and `score_pool3` start at zero, so the untrained net predicts what its
    stride-32 scores say and the skips learn refinements (the paper's staged training).

    Shapes: x (N, in_channels, H, W), H, W >= 32 -> logits (N, num_classes, H, W).
    """

    def __init__(self, num_classes, in_channels=3, base_channels=16):
        super().__init__()
        for name, value in (("num_classes", num_classes), ("in_channels", in_channels),
                            ("base_channels", base_channels)):
            check_positive_int("FCN8s", name, value)
        stages, width = [], in_channels
        for n_convs, multiple in VGG16_STAGES:
            stages.append(nn.Sequential(vgg_stage(width, multiple * base_channels, n_convs),
                                        nn.MaxPool2d(2, 2)))
            width = multiple * base_channels
        self.features = nn.ModuleList(stages)
        fc_width = 16 * base_channels
        self.fc = nn.Sequential(Conv2dNormActivation(width, fc_width, 3), nn.Dropout(0.5),
                                Conv2dNormActivation(fc_width, fc_width, 1), nn.Dropout(0.5))
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
        if min(x.shape[-2:]) < 32:
            raise ValueError(f"FCN8s: input of shape {tuple(x.shape)} is too small; five "
                             f"2x2 pools need H and W of at least 32")
        size, pooled = x.shape[-2:], []
        for stage in self.features:
            x = stage(x)
            pooled.append(x)
        return self.decode(self.fc(x), pooled[3], pooled[2], size)

    def decode(self, fc7, pool4, pool3, size):
        """Scores of fc7 (stride 32) upsampled x2 and added to pool4's, upsampled x2 and
        added to pool3's, upsampled x8 to `size` (H, W).

        Shapes: fc7 (N, 16b, h/4, w/4), pool4 (N, 8b, h/2, w/2), pool3 (N, 4b, h, w) with
        floor division at each halving -> (N, num_classes, H, W), H in [8h, 8h + 7].
        """
        score = self.upscore2(self.score_fr(fc7), output_size=pool4.shape)
        score = self.upscore_pool4(score + self.score_pool4(pool4), output_size=pool3.shape)
        return self.upscore8(score + self.score_pool3(pool3), output_size=size)


def fcn8s(num_classes, in_channels=3, base_channels=16):
    """FCN-8s (Long et al. 2015) with a VGG-16-BN encoder `base_channels` wide (64 in the
    paper): logits (N, num_classes, H, W) for H, W >= 32."""
    return FCN8s(num_classes, in_channels, base_channels)
