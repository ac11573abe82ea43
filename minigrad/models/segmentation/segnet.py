"""SegNet (Badrinarayanan, Kendall and Cipolla, 2017, "SegNet: A Deep Convolutional
Encoder-Decoder Architecture for Image Segmentation"): the decoder upsamples with the
encoder's max-pooling indices instead of learned upsampling or stored feature maps."""
from ... import nn
from ..mobilenet import Conv2dNormActivation
from ._utils import check_positive_int
from .fcn import VGG16_STAGES, vgg_stage

__all__ = ["SegNet", "segnet"]


class SegNet(nn.Module):
    """SegNet: the first `depth` stages of VGG-16-BN as the encoder, each ending in a 2x2
    max-pool that remembers where each maximum was (`return_indices=True`); the decoder
    mirrors it, each stage a MaxUnpool2d that puts every value back at the position of its
    encoder stage's maximum (zeros elsewhere: a sparse map, no parameters, boundaries kept)
    followed by 3x3 conv-BN-ReLU layers that densify it. The last decoder conv is the
    classifier (3x3, no BN or ReLU), as in the paper's Caffe model.

    Shapes: x (N, in_channels, H, W), H, W >= 2**depth -> logits (N, num_classes, H, W);
    odd sizes are unpooled back to the encoder's size (`output_size`).
    """

    def __init__(self, num_classes, in_channels=3, base_channels=16, depth=5):
        super().__init__()
        for name, value in (("num_classes", num_classes), ("in_channels", in_channels),
                            ("base_channels", base_channels)):
            check_positive_int("SegNet", name, value)
        check_positive_int("SegNet", "depth", depth)
        if depth > len(VGG16_STAGES):
            raise ValueError(f"SegNet: depth must be at most {len(VGG16_STAGES)} (VGG-16's "
                             f"stages), got {depth}")
        self.depth = depth
        widths = [multiple * base_channels for _, multiple in VGG16_STAGES[:depth]]
        n_convs = [n for n, _ in VGG16_STAGES[:depth]]
        self.encoders = nn.ModuleList([vgg_stage(c_in, c_out, n) for c_in, c_out, n
                                       in zip([in_channels] + widths, widths, n_convs)])
        self.pool = nn.MaxPool2d(2, 2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, 2)
        # decoder stage i mirrors encoder stage i: its convs run at that stage's width and
        # the last one narrows to the previous stage's (stage 0's last conv is the classifier)
        decoders = [nn.Sequential(
            *[Conv2dNormActivation(widths[i], widths[i]) for _ in range(n - 1)],
            *([Conv2dNormActivation(widths[i], widths[i - 1])] if i else []))
            for i, n in enumerate(n_convs)]
        self.decoders = nn.ModuleList(decoders[::-1])  # in the order they run
        self.classifier = nn.Conv2d(widths[0], num_classes, 3, padding=1)

    def forward(self, x):
        if min(x.shape[-2:]) < 2 ** self.depth:
            raise ValueError(f"SegNet: input of shape {tuple(x.shape)} is too small for "
                             f"depth {self.depth}; expected H and W of at least "
                             f"{2 ** self.depth}")
        pooled = []  # (indices, size before pooling) per encoder stage
        for encoder in self.encoders:
            x = encoder(x)
            size = x.shape[-2:]
            x, indices = self.pool(x)
            pooled.append((indices, size))
        for decoder, (indices, size) in zip(self.decoders, reversed(pooled)):
            x = decoder(self.unpool(x, indices, output_size=size))
        return self.classifier(x)


def segnet(num_classes, in_channels=3, base_channels=16, depth=5):
    """SegNet (Badrinarayanan et al. 2017) on the first `depth` VGG-16 stages,
    `base_channels` wide (64 in the paper). Logits (N, num_classes, H, W)."""
    return SegNet(num_classes, in_channels, base_channels, depth)
