"""models.segmentation: torchvision's FCN and DeepLabV3 against torchvision (keys, counts,
outputs in float64, weights both ways), published parameter counts, the course's nets'
shapes at even and odd sizes, SegNet's unpooling positions, the bilinear initialisation of
transposed convolutions against F.interpolate, ASPP's rates, DeepLabV3+'s output stride,
gradchecks of every block, and errors."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.models import segmentation as seg
from minigrad.testing import assert_gradcheck

# torchvision's published counts ("num_params" of the COCO_WITH_VOC_LABELS_V1 weights,
# which have the aux classifier) and, without aux_loss, counted on torchvision 0.28
COUNTS = {("fcn_resnet50", True): 35_322_218, ("fcn_resnet101", True): 54_314_346,
          ("deeplabv3_resnet50", True): 42_004_074, ("deeplabv3_resnet101", True): 60_996_202,
          ("fcn_resnet50", None): 32_957_013, ("deeplabv3_resnet50", None): 39_638_869}


def n_parameters(model):
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def built():
    """build(name, aux_loss): the minigrad model, built once per module (they are large)."""
    cache = {}

    def build(name, aux_loss):
        if (name, aux_loss) not in cache:
            cache[name, aux_loss] = getattr(seg, name)(aux_loss=aux_loss)
        return cache[name, aux_loss]
    yield build
    cache.clear()


def randn(*shape, seed=0):
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape))


# --- torchvision's models, without torch ------------------------------------------------

@pytest.mark.parametrize("name, aux_loss", sorted(COUNTS, key=str))
def test_parameter_counts_are_torchvisions(built, name, aux_loss):
    assert n_parameters(built(name, aux_loss)) == COUNTS[name, aux_loss]


@pytest.mark.parametrize("name", ["fcn_resnet50", "deeplabv3_resnet50"])
def test_forward_returns_out_and_aux_at_the_input_size(built, name):
    model = built(name, True).eval()
    with mg.no_grad():
        result = model(mg.randn(1, 3, 12, 17))
    assert list(result) == ["out", "aux"]
    assert [tuple(v.shape) for v in result.values()] == [(1, 21, 12, 17)] * 2
    assert "aux" not in built(name, None).eval()(mg.randn(1, 3, 9, 9))


# --- against torchvision ----------------------------------------------------------------

@pytest.fixture(scope="module")
def tv_built(torchvision_models):
    """build(name, aux_loss): torchvision's model in float64 eval mode, built once."""
    cache = {}

    def build(name, aux_loss):
        if (name, aux_loss) not in cache:
            model = getattr(torchvision_models.segmentation, name)(
                weights=None, weights_backbone=None, aux_loss=aux_loss)
            cache[name, aux_loss] = model.double().eval()
        return cache[name, aux_loss]
    yield build
    cache.clear()


@pytest.mark.parametrize("name, aux_loss", [
    ("fcn_resnet50", None), ("fcn_resnet50", True), ("deeplabv3_resnet50", None),
    ("deeplabv3_resnet50", True), ("fcn_resnet101", True), ("deeplabv3_resnet101", True)])
def test_keys_in_order_and_counts_match_torchvision(built, tv_built, name, aux_loss):
    ours, theirs = built(name, aux_loss), tv_built(name, aux_loss)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert n_parameters(ours) == sum(p.numel() for p in theirs.parameters())


def _randomise_batchnorm(model, torch):
    """Give torchvision's BNs non-trivial statistics and affine parameters, so that eval
    mode does more than divide by sqrt(1 + eps)."""
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            with torch.no_grad():
                for tensor, low, high in ((module.running_mean, -0.2, 0.2),
                                          (module.running_var, 0.5, 1.5),
                                          (module.weight, 0.5, 1.5), (module.bias, -0.2, 0.2)):
                    tensor.uniform_(low, high, generator=generator)


@pytest.mark.parametrize("name", ["fcn_resnet50", "deeplabv3_resnet50"])
def test_torchvision_weights_give_torchvisions_outputs(built, tv_built, name):
    torch = pytest.importorskip("torch")
    theirs = tv_built(name, True)
    _randomise_batchnorm(theirs, torch)
    ours = built(name, True).double().eval()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 64))
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x))
    with mg.no_grad():
        result = ours(mg.tensor(x))
    assert list(result) == list(expected) == ["out", "aux"]
    for key in expected:
        np.testing.assert_allclose(result[key].data, expected[key].numpy(), rtol=1e-9,
                                   atol=1e-9 * np.abs(expected[key].numpy()).max())


@pytest.mark.parametrize("name", ["fcn_resnet50", "deeplabv3_resnet50"])
def test_minigrad_weights_load_into_torchvision(built, tv_built, name):
    # the same keys name the same computation (the test above), so equal tensors after a
    # strict load mean torchvision computes what minigrad does
    torch = pytest.importorskip("torch")
    state = built(name, None).double().state_dict()
    theirs = tv_built(name, None)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[key], err_msg=key)


# --- the course's nets: shapes ----------------------------------------------------------

@pytest.mark.parametrize("build", [
    lambda: seg.fcn8s(3, base_channels=2),
    lambda: seg.unet(3, base_channels=2, depth=3),
    lambda: seg.unet(3, base_channels=2, depth=3, upsample="bilinear"),
    lambda: seg.segnet(3, base_channels=2, depth=3),
    lambda: seg.deeplabv3plus(3, base_channels=2),
    lambda: seg.deeplabv3plus(3, base_channels=2, output_stride=8, atrous_rates=(1, 2)),
    lambda: seg.pspnet(3, base_channels=2),
    lambda: seg.pspnet(3, base_channels=2, bins=(1, 4)),
], ids=["fcn8s", "unet", "unet-bilinear", "segnet", "deeplabv3plus", "deeplabv3plus-os8",
        "pspnet", "pspnet-bins"])
@pytest.mark.parametrize("size", [(32, 32), (37, 45)], ids=["even", "odd"])
def test_logits_at_the_input_size(build, size):
    # (37, 45): every pooling drops a row or a column somewhere on the way down
    model = build().eval()
    with mg.no_grad():
        out = model(mg.randn(2, 3, *size))
    assert tuple(out.shape) == (2, 3, *size)


@pytest.mark.parametrize("upsample, expected", [("transpose", 450), ("bilinear", 426)])
def test_unet_parameter_count_by_hand(upsample, expected):
    # in 1, base 2, depth 1, 2 classes; conv weights Cout*Cin*9, BN 2 per channel:
    #   inc DoubleConv(1, 2): 18 + 4 + 36 + 4 = 62;  down DoubleConv(2, 4): 72 + 8 + 144 + 8 = 232
    #   up: ConvTranspose2d(4, 2, 2) 4*2*4 + 2 = 34, or Conv2d(4, 2, 1) 8 + 2 = 10;
    #   DoubleConv(4, 2): 72 + 4 + 36 + 4 = 116;  outc Conv2d(2, 2, 1): 4 + 2 = 6
    model = seg.unet(2, in_channels=1, base_channels=2, depth=1, upsample=upsample)
    assert n_parameters(model) == expected


@pytest.mark.parametrize("output_stride, out_size", [(16, (5, 4)), (8, (9, 8))])
def test_deeplabv3plus_output_stride_sets_the_backbone_size(output_stride, out_size):
    # 3x3 convs with padding 1 and stride 2 give ceil(n / 2): 65 -> 33 -> 17 -> 9 (-> 5),
    # 63 -> 32 -> 16 -> 8 (-> 4); at output stride 8 layer3 dilates instead of halving
    model = seg.deeplabv3plus(2, base_channels=2, output_stride=output_stride).eval()
    with mg.no_grad():
        features = model.backbone(mg.randn(1, 3, 65, 63))
        out = model(mg.randn(1, 3, 65, 63))
    assert tuple(features["low_level"].shape) == (1, 4, 17, 16)
    assert tuple(features["out"].shape) == (1, 16, *out_size)
    assert tuple(out.shape) == (1, 2, 65, 63)
    assert model.aspp.convs[1][0].dilation == ((6, 6) if output_stride == 16 else (12, 12))


def test_aspp_branches_follow_the_rates():
    # an impulse through a 3x3 conv of all-positive weights with dilation r reaches exactly
    # the 9 pixels r apart around it; BN in eval mode with its initial statistics and ReLU
    # keep that support
    rates = (1, 2, 5)
    aspp = seg.ASPP(1, rates, out_channels=1).double().eval()
    assert len(aspp.convs) == len(rates) + 2  # 1x1, one per rate, image pooling
    assert aspp.project[0].in_channels == len(rates) + 2
    x = np.zeros((1, 1, 15, 15))
    x[0, 0, 7, 7] = 1.0
    for branch, rate in zip(aspp.convs[1:-1], rates):
        nn.init.constant_(branch[0].weight, 1.0)
        support = np.zeros((15, 15), bool)
        for dy in (-rate, 0, rate):
            for dx in (-rate, 0, rate):
                support[7 + dy, 7 + dx] = True
        with mg.no_grad():
            out = branch(mg.tensor(x)).data[0, 0]
        np.testing.assert_array_equal(out > 0, support)


def test_segnet_unpools_to_the_encoders_argmax_positions():
    model = seg.segnet(2, in_channels=1, base_channels=2, depth=2).double().eval()
    pools, unpools = [], []
    model.pool.register_forward_hook(lambda m, args, out: pools.append(args[0].data))
    model.unpool.register_forward_hook(
        lambda m, args, out: unpools.append((args[0].data, out.data)))
    with mg.no_grad():
        model(randn(1, 1, 9, 11))
    assert len(pools) == len(unpools) == 2
    for before_pool, (unpool_in, unpool_out) in zip(pools[::-1], unpools):
        # each 2x2 window's value goes to the window's first maximum (row by row); the
        # row and column no window covers (odd sizes) stay zero
        expected = np.zeros_like(before_pool)
        n, c, h, w = unpool_in.shape
        for b in range(n):
            for ch in range(c):
                for i in range(h):
                    for j in range(w):
                        window = before_pool[b, ch, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
                        di, dj = np.unravel_index(np.argmax(window), (2, 2))
                        expected[b, ch, 2 * i + di, 2 * j + dj] = unpool_in[b, ch, i, j]
        np.testing.assert_array_equal(unpool_out, expected)


# --- bilinear initialisation ------------------------------------------------------------

def test_bilinear_kernel_values():
    # Long et al.'s filter, 1 - |t - centre| / factor: size 4 (factor 2, centre 1.5) gives
    # taps 1/4, 3/4, 3/4, 1/4; size 3 (factor 2, centre 1) the course's 1/2, 1, 1/2
    weight = np.empty((2, 2, 4, 4))
    nn.init.bilinear_(weight)
    np.testing.assert_array_equal(weight[0, 0], np.outer([.25, .75, .75, .25],
                                                          [.25, .75, .75, .25]))
    np.testing.assert_array_equal(weight[0, 1], 0)
    np.testing.assert_array_equal(nn.init.bilinear_(np.empty((1, 1, 3, 3)))[0, 0],
                                  [[.25, .5, .25], [.5, 1, .5], [.25, .5, .25]])


@pytest.mark.parametrize("stride", [2, 3, 4, 8])
@pytest.mark.parametrize("depthwise", [False, True], ids=["diagonal", "depthwise"])
def test_bilinear_transposed_conv_is_bilinear_interpolation(stride, depthwise):
    # Output o of ConvTranspose2d(kernel k = 2s - s % 2, stride s, padding p = s // 2) reads
    # input i through tap t = o + p - s*i with weight 1 - |t - centre| / s, centre = (k-1)/2.
    # Since p - centre = 1/2 - s/2 in both parities, t - centre = s((o + 1/2)/s - 1/2 - i)
    # = s (src - i): the weight is 1 - |src - i|, interpolate's bilinear weight at
    # align_corners=False. They differ only where interpolate clamps: src < 0 for
    # o < (s - 1)/2 and src > H - 1 for o > sH - (s + 1)/2, i.e. the s // 2 rows (and
    # columns) at each border, where the transposed conv misses the weight of the input
    # row -1 (or H), a zero, and interpolate gives it to row 0 (or H - 1).
    c, (h, w) = 2, (5, 6)
    k, border = 2 * stride - stride % 2, stride // 2
    up = nn.ConvTranspose2d(c, c, k, stride=stride, padding=border, bias=False,
                            groups=c if depthwise else 1).double()
    nn.init.bilinear_(up.weight)
    x = randn(1, c, h, w)
    with mg.no_grad():
        ours = up(x).data
        expected = F.interpolate(x, scale_factor=stride, mode="bilinear",
                                 align_corners=False).data
    assert ours.shape == expected.shape == (1, c, h * stride, w * stride)
    inner = (Ellipsis, slice(border, -border), slice(border, -border))
    np.testing.assert_allclose(ours[inner], expected[inner], rtol=0, atol=1e-13)
    differs = np.abs(ours - expected).max(axis=(0, 1)) > 1e-9  # (H*s, W*s)
    for edge in list(range(border)) + list(range(-border, 0)):
        assert differs[edge, :].all() and differs[:, edge].all()


# --- gradchecks (float64, input gradients; the layers' weight gradients are checked in
# test_conv and test_norm) --------------------------------------------------------------

def _no_dropout(module):
    """Train mode (BN on batch statistics) with dropout off, so forward is deterministic."""
    module.double().train()
    for m in module.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    return module


def test_gradcheck_double_conv():
    block = _no_dropout(seg.DoubleConv(2, 3, mid_channels=4))
    assert_gradcheck(block, randn(2, 2, 5, 4, seed=1))


def test_gradcheck_aspp():
    block = _no_dropout(seg.ASPP(3, (1, 2), out_channels=2))
    assert_gradcheck(block, randn(2, 3, 5, 6, seed=2), mode="random", seed=0)


def test_gradcheck_pyramid_pooling():
    block = _no_dropout(seg.PyramidPooling(4, bins=(1, 2, 3)))
    assert_gradcheck(block, randn(2, 4, 5, 7, seed=3), mode="random", seed=0)


@pytest.mark.parametrize("upsample", ["transpose", "bilinear"])
def test_gradcheck_unet_up_with_odd_skip(upsample):
    block = _no_dropout(seg.Up(4, 2, upsample))
    assert_gradcheck(block, randn(2, 4, 2, 3, seed=4), randn(2, 2, 5, 6, seed=5),
                     mode="random", seed=0)


def test_gradcheck_fcn8s_decoder():
    model = _no_dropout(seg.fcn8s(2, base_channels=1))
    for skip in (model.score_pool4, model.score_pool3):
        nn.init.normal_(skip.weight)  # they start at zero, which would pass any gradient
    # input (37, 45): pool3 (4, 5), pool4 (2, 2), fc7 (1, 1) after the five floor-halvings
    assert_gradcheck(lambda fc7, pool4, pool3: model.decode(fc7, pool4, pool3, (37, 45)),
                     randn(1, 16, 1, 1, seed=6), randn(1, 8, 2, 2, seed=7),
                     randn(1, 4, 4, 5, seed=8), mode="random", seed=0)


def test_fcn8s_starts_from_its_stride_32_scores():
    # zero skip scorers: pool3 and pool4 change nothing until trained
    model = seg.fcn8s(2, base_channels=1).double()
    fc7 = randn(1, 16, 1, 1)
    with mg.no_grad():
        a = model.decode(fc7, randn(1, 8, 2, 2, seed=1), randn(1, 4, 4, 5, seed=2), (37, 45))
        b = model.decode(fc7, randn(1, 8, 2, 2, seed=3), randn(1, 4, 4, 5, seed=4), (37, 45))
    np.testing.assert_array_equal(a.data, b.data)


# --- errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, words", [
    (lambda: seg.unet(2, upsample="nearest"), ValueError, ["upsample", "'nearest'"]),
    (lambda: seg.unet(0), ValueError, ["num_classes", "0"]),
    (lambda: seg.unet(2, depth=2.5), TypeError, ["depth", "2.5"]),
    (lambda: seg.unet(2, depth=3)(mg.randn(1, 3, 7, 16)), ValueError, ["(1, 3, 7, 16)", "8"]),
    (lambda: seg.Up(5, 2), ValueError, ["in_channels", "5"]),
    (lambda: seg.segnet(2, depth=6), ValueError, ["depth", "6"]),
    (lambda: seg.fcn8s(2, base_channels=1)(mg.randn(1, 3, 31, 40)), ValueError,
     ["(1, 3, 31, 40)", "32"]),
    (lambda: seg.deeplabv3plus(2, output_stride=32), ValueError, ["output_stride", "32"]),
    (lambda: seg.ASPP(8, (6, -1)), ValueError, ["atrous_rates", "-1"]),
    (lambda: seg.pspnet(2, bins=(1, 0)), ValueError, ["bins", "0"]),
    (lambda: seg.PyramidPooling(8, bins=()), ValueError, ["bins"]),
    (lambda: seg.fcn_resnet50(weights="DEFAULT"), TypeError, ["weights", "'DEFAULT'"]),
    (lambda: seg.deeplabv3_resnet50(weights_backbone="IMAGENET1K_V1"), TypeError,
     ["weights_backbone", "load_state_dict"]),
    (lambda: seg.fcn_resnet50(num_classes=0), ValueError, ["num_classes", "0"]),
    (lambda: seg.IntermediateLayerGetter(seg.fcn8s(2), {"layer4": "out"}), ValueError,
     ["layer4", "features"]),
    (lambda: nn.init.bilinear_(np.empty((2, 3, 4, 4))), ValueError, ["(2, 3, 4, 4)"]),
])
def test_bad_arguments_raise_naming_them(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)
