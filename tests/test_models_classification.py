"""The classification zoo: ResNet/ResNeXt/Wide ResNet, VGG, AlexNet, LeNet-5 and the CIFAR
ResNet.

With torchvision (the `torchvision_models` fixture) its models are the oracle: module names,
state_dict keys in order, shapes, float64 outputs and train-mode gradients on torchvision's
weights. Without torch: the published parameter counts, output shapes, the default init
against its formulas, and every block gradchecked.
"""
import importlib
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
# the modules (the package's `alexnet` is the constructor, as in torchvision)
alexnet, cifar, lenet, resnet, vgg = (importlib.import_module(f"minigrad.models.{name}")
                                      for name in ("alexnet", "cifar", "lenet", "resnet", "vgg"))

CONSTRUCTORS = {
    "resnet18": resnet.resnet18, "resnet34": resnet.resnet34, "resnet50": resnet.resnet50,
    "resnet101": resnet.resnet101, "resnet152": resnet.resnet152,
    "resnext50_32x4d": resnet.resnext50_32x4d, "wide_resnet50_2": resnet.wide_resnet50_2,
    "vgg11": vgg.vgg11, "vgg13": vgg.vgg13, "vgg16": vgg.vgg16, "vgg19": vgg.vgg19,
    "vgg11_bn": vgg.vgg11_bn, "vgg13_bn": vgg.vgg13_bn, "vgg16_bn": vgg.vgg16_bn,
    "vgg19_bn": vgg.vgg19_bn, "alexnet": alexnet.alexnet,
}

# torchvision's documented num_params (its weights' meta), checked against torchvision 0.28
PUBLISHED_PARAMS = {
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "resnet152": 60_192_808, "resnext50_32x4d": 25_028_904,
    "wide_resnet50_2": 68_883_240, "vgg11": 132_863_336, "vgg13": 133_047_848,
    "vgg16": 138_357_544, "vgg19": 143_667_240, "vgg11_bn": 132_868_840,
    "vgg13_bn": 133_053_736, "vgg16_bn": 138_365_992, "vgg19_bn": 143_678_248,
    "alexnet": 61_100_840,
}

# input sizes: the smallest each net takes (VGG five 2x2 pools, AlexNet's 11x11/4 stem),
# 48 where a ResNet trains: layer4's train-mode BatchNorm then has 8 values a channel, not 2
# (two values normalise to +-1 whatever they are: a zero gradient up to rounding)
INPUT = {name: (2, 3, 32, 32) for name in CONSTRUCTORS} | {
    "alexnet": (2, 3, 64, 64), "resnet18": (2, 3, 48, 48), "resnext50_32x4d": (2, 3, 48, 48)}
# eval outputs compared for every constructor (the acceptance)
FORWARD_CHECKED = list(CONSTRUCTORS)
# also compared in train mode (gradients and running statistics), dropout off; VGG's 1 GB of
# float64 gradients in each framework would cost ~20 s more
TRAIN_CHECKED = {"resnet18": {}, "resnext50_32x4d": {}, "alexnet": {"dropout": 0.0}}


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def _zeros(tensor, *args, **kwargs):
    (tensor.data if isinstance(tensor, mg.Tensor) else tensor)[...] = 0
    return tensor


@pytest.fixture
def no_init(monkeypatch):
    """Zeros instead of the random draws of initialisation. Counts, names and shapes do not
    depend on the values, and the zoo's ~1.4e9 draws take over a minute (vgg19 alone
    ~10 s); tests that load torchvision's weights overwrite every value anyway."""
    for name in ("uniform_", "normal_", "kaiming_uniform_", "kaiming_normal_"):
        monkeypatch.setattr(nn.init, name, _zeros)


# --- without torch: counts, shapes, init, errors --------------------------------------------
@pytest.mark.parametrize("name", PUBLISHED_PARAMS)
def test_parameter_count_is_the_published_one(name, no_init):
    assert n_params(CONSTRUCTORS[name]()) == PUBLISHED_PARAMS[name]


def test_cifar_resnet20_has_the_papers_269722_parameters_residual_and_plain():
    # conv1 3*16*9 + bn 32 = 464; stage 1: 3 blocks * (2 * 16*16*9 + 2 * 32) = 14,016;
    # stage 2: 16*32*9 + 32*32*9 + 128 + 2 * (2 * 32*32*9 + 128) = 51,072;
    # stage 3: 32*64*9 + 64*64*9 + 256 + 2 * (2 * 64*64*9 + 256) = 203,520; fc 64*10 + 10
    # = 650. Option A shortcuts add nothing.
    assert 464 + 14_016 + 51_072 + 203_520 + 650 == 269_722
    assert n_params(cifar.cifar_resnet(20)) == 269_722
    assert n_params(cifar.cifar_resnet(20, residual=False)) == 269_722


def test_cifar_plain_twin_has_the_same_parameter_names_and_no_shortcut():
    residual, plain = cifar.cifar_resnet(8), cifar.cifar_resnet(8, residual=False)
    assert list(plain.state_dict()) == list(residual.state_dict())
    assert [type(m).__name__ for m in residual.modules()].count("ZeroPadShortcut") == 3
    assert "ZeroPadShortcut" not in [type(m).__name__ for m in plain.modules()]


@pytest.mark.parametrize("depth", [20, 32, 56, 110])
def test_cifar_resnet_depth_counts_the_weighted_layers(depth):
    model = cifar.cifar_resnet(depth)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) + 1 == depth  # + fc; option A has no projection convs


@pytest.mark.parametrize("depth, error", [(21, ValueError), (2, ValueError), (0, ValueError),
                                          (-4, ValueError), (20.0, TypeError),
                                          (True, TypeError), ("20", TypeError)])
def test_cifar_resnet_refuses_a_depth_not_6n_plus_2(depth, error):
    with pytest.raises(error, match=f"depth.*{depth!r}" if error is ValueError else "depth"):
        cifar.cifar_resnet(depth)


@pytest.mark.parametrize("residual", [True, False])
def test_cifar_resnet_output_shape_and_stage_sizes(residual):
    model = cifar.cifar_resnet(8, num_classes=7, residual=residual).eval()
    x = mg.randn(2, 3, 32, 32)
    assert model(x).shape == (2, 7)
    # the three stages see 32, 16, 8 pixels at 16, 32, 64 maps (the paper's section 4.2)
    h = model.relu(model.bn1(model.conv1(x)))
    for layer, expected in zip((model.layer1, model.layer2, model.layer3),
                               [(2, 16, 32, 32), (2, 32, 16, 16), (2, 64, 8, 8)]):
        h = layer(h)
        assert h.shape == expected


def test_option_a_shortcut_subsamples_and_zero_pads_by_hand():
    # x (1, 2, 3, 3) -> stride 2 keeps pixels (0,0) (0,2) (2,0) (2,2); 2 -> 6 channels puts
    # the old 2 between 2 zero channels on each side
    x = mg.tensor(np.arange(18.0).reshape(1, 2, 3, 3))
    out = cifar.ZeroPadShortcut(2, 6, stride=2)(x).data
    expected = np.zeros((1, 6, 2, 2))
    expected[0, 2] = [[0, 2], [6, 8]]
    expected[0, 3] = [[9, 11], [15, 17]]
    np.testing.assert_array_equal(out, expected)
    assert cifar.ZeroPadShortcut(4, 4)(x) is x


def test_lenet5_gives_10_logits_on_32x32_and_has_61706_parameters():
    # C1 6*(5*5*1 + 1) = 156; C3 16*(5*5*6 + 1) = 2,416; C5 120*(5*5*16 + 1) = 48,120;
    # F6 84*(120 + 1) = 10,164; output 10*(84 + 1) = 850; total 61,706
    model = lenet.lenet5()
    assert n_params(model) == 156 + 2_416 + 48_120 + 10_164 + 850 == 61_706
    assert model(mg.randn(3, 1, 32, 32)).shape == (3, 10)
    assert lenet.lenet5(num_classes=4)(mg.randn(1, 1, 32, 32)).shape == (1, 4)
    assert model.features(mg.randn(1, 1, 32, 32)).shape == (1, 120, 1, 1)  # C5 is 1x1


def test_lenet5_refuses_another_input_size():
    with pytest.raises(ValueError, match=r"\(N, 1, 32, 32\).*\(2, 1, 28, 28\)"):
        lenet.lenet5()(mg.randn(2, 1, 28, 28))


def test_resnet_default_init_and_output_shape():
    model = resnet.resnet18(num_classes=7)
    assert model(mg.randn(2, 3, 32, 32)).shape == (2, 7)
    # kaiming_normal_(fan_out, relu): std = sqrt(2 / (Cout*kH*kW)); 2.4M draws give the
    # std to about 0.05%
    w = model.layer4[1].conv2.weight.data
    assert w.std() == pytest.approx(math.sqrt(2 / (512 * 9)), rel=0.01)
    assert model.conv1.weight.data.std() == pytest.approx(math.sqrt(2 / (64 * 49)), rel=0.02)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == 20
    for bn in bns:
        np.testing.assert_array_equal(bn.weight.data, 1)
        np.testing.assert_array_equal(bn.bias.data, 0)
    # fc keeps Linear's default U(+-1/sqrt(512))
    assert np.abs(model.fc.weight.data).max() <= 1 / math.sqrt(512)
    assert np.abs(model.fc.weight.data).max() > 0.99 / math.sqrt(512)


@pytest.mark.parametrize("block, last_bn", [(resnet.BasicBlock, "bn2"),
                                            (resnet.Bottleneck, "bn3")])
def test_zero_init_residual_zeros_each_blocks_last_bn_scale(block, last_bn):
    model = resnet.ResNet(block, [1, 2, 1, 1], zero_init_residual=True)
    blocks = [m for m in model.modules() if isinstance(m, block)]
    assert len(blocks) == 5
    for b in blocks:
        np.testing.assert_array_equal(getattr(b, last_bn).weight.data, 0)
        np.testing.assert_array_equal(b.bn1.weight.data, 1)
    np.testing.assert_array_equal(model.bn1.weight.data, 1)  # the stem is not a residual


def test_dilation_keeps_the_resolution():
    """replace_stride_with_dilation (DeepLab's backbone): stages 3 and 4 at stride 8
    instead of 16 and 32, their 3x3 convs dilated 2 and 4 (the first block of a stage keeps
    the previous dilation)."""
    model = resnet.ResNet(resnet.Bottleneck, [1, 2, 1, 2],
                          replace_stride_with_dilation=[False, True, True]).eval()
    x = mg.randn(1, 3, 64, 64)
    h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    h = model.layer4(model.layer3(model.layer2(model.layer1(h))))
    assert h.shape == (1, 2048, 8, 8)
    dilations = [(m.conv2.dilation, m.conv2.stride) for layer in
                 (model.layer2, model.layer3, model.layer4) for m in layer]
    assert dilations == [((1, 1), (2, 2)), ((1, 1), (1, 1)), ((1, 1), (1, 1)),
                         ((2, 2), (1, 1)), ((4, 4), (1, 1))]


def test_vgg_default_init_and_output_shape(monkeypatch):
    # VGG's init overwrites Linear's default one, whose 102M draws would add ~3 s here
    monkeypatch.setattr(nn.Linear, "reset_parameters", lambda self: None)
    model = vgg.vgg11_bn(num_classes=7)
    assert model.eval()(mg.randn(2, 3, 32, 32)).shape == (2, 7)
    conv = model.features[4]  # 64 -> 128
    assert conv.weight.data.std() == pytest.approx(math.sqrt(2 / (128 * 9)), rel=0.01)
    np.testing.assert_array_equal(conv.bias.data, 0)
    np.testing.assert_array_equal(model.features[1].weight.data, 1)
    first = model.classifier[0]
    assert first.weight.data.std() == pytest.approx(0.01, rel=0.001)
    assert abs(first.weight.data.mean()) < 1e-5
    np.testing.assert_array_equal(first.bias.data, 0)


def test_alexnet_output_shape():
    assert alexnet.alexnet(num_classes=5).eval()(mg.randn(2, 3, 64, 64)).shape == (2, 5)


@pytest.mark.parametrize("constructor", [resnet.resnet18, vgg.vgg11, alexnet.alexnet])
def test_constructors_refuse_pretrained_weights_and_accept_none(constructor):
    with pytest.raises(TypeError, match=f"{constructor.__name__}: weights=.*load_state_dict"):
        constructor(weights="DEFAULT")
    # PyTorch code says weights=None (and progress=...) for a randomly initialised net
    model = constructor(weights=None, progress=False, num_classes=3)
    assert model(mg.randn(1, 3, 64, 64)).shape == (1, 3)


def test_bad_resnet_arguments_raise_naming_them():
    with pytest.raises(ValueError, match=r"replace_stride_with_dilation.*\[True, False\]"):
        resnet.ResNet(resnet.Bottleneck, [1, 1, 1, 1], replace_stride_with_dilation=[True,
                                                                                      False])
    with pytest.raises(ValueError, match=r"layers.*\[2, 2, 2\]"):
        resnet.ResNet(resnet.BasicBlock, [2, 2, 2])
    with pytest.raises(ValueError, match="groups=32, base_width=4"):
        resnet.ResNet(resnet.BasicBlock, [1, 1, 1, 1], groups=32, width_per_group=4)
    with pytest.raises(NotImplementedError, match="dilation=2"):
        resnet.ResNet(resnet.BasicBlock, [1, 1, 1, 2],
                      replace_stride_with_dilation=[False, False, True])
    with pytest.raises(ValueError, match="resnext50_32x4d: groups is fixed at 32.*groups=8"):
        resnet.resnext50_32x4d(groups=8)
    assert n_params(resnet.resnext50_32x4d(groups=32)) == 25_028_904  # repeating is fine


# --- every block gradchecked in float64 ------------------------------------------------------
def _downsample(in_planes, out_planes, stride):
    return nn.Sequential(resnet.conv1x1(in_planes, out_planes, stride),
                         nn.BatchNorm2d(out_planes))


BLOCKS = {
    "basic": lambda: resnet.BasicBlock(3, 3),
    "basic-stride2-downsample": lambda: resnet.BasicBlock(2, 3, 2, _downsample(2, 3, 2)),
    "bottleneck": lambda: resnet.Bottleneck(4, 1),
    "bottleneck-grouped-dilated-downsample": lambda: resnet.Bottleneck(
        3, 2, 2, _downsample(3, 8, 2), groups=2, base_width=64, dilation=2),
    "cifar": lambda: cifar.CifarBasicBlock(2, 2),
    "cifar-option-a": lambda: cifar.CifarBasicBlock(2, 4, stride=2),
    "cifar-plain": lambda: cifar.CifarBasicBlock(2, 4, stride=2, residual=False),
}


def _gradcheck_module(module, x, **kwargs):
    """gradcheck of module(x) in x and in every parameter: gradcheck's copies of the
    parameters stand in for them during each call."""
    named = list(module.named_parameters())
    slots = [(module.get_submodule(name.rpartition(".")[0]), name.rpartition(".")[2])
             for name, _ in named]

    def call(x, *params):
        for (owner, attr), param in zip(slots, params):
            setattr(owner, attr, param)
        return module(x)

    try:
        # the stand-ins must reach the forward, or the check would pass on zero gradients
        leaves = [mg.tensor(p.data.copy(), requires_grad=True) for _, p in named]
        call(x, *leaves).sum().backward()
        assert all(np.abs(leaf.grad).max() > 0 for leaf in leaves)
        return mg.gradcheck(call, (x, *(p for _, p in named)), **kwargs)
    finally:
        for (owner, attr), (_, param) in zip(slots, named):
            setattr(owner, attr, param)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", BLOCKS)
def test_block_gradcheck(name, training):
    mg.manual_seed(0)
    block = BLOCKS[name]().double().train(training)
    rng = np.random.default_rng(1)
    for m in block.modules():  # eval mode then uses statistics that are not 0 and 1
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean[...] = rng.normal(0, 0.5, m.num_features)
            m.running_var[...] = rng.uniform(0.5, 2.0, m.num_features)
            m.bias.data[...] = rng.normal(0, 0.5, m.num_features)
    x = mg.tensor(rng.normal(size=(2, block.conv1.in_channels, 5, 5)), requires_grad=True)
    assert _gradcheck_module(block, x, mode="random", n_directions=4, seed=0)


def test_block_shapes():
    x = mg.randn(2, 3, 9, 9)
    assert BLOCKS["basic-stride2-downsample"]()(mg.randn(2, 2, 9, 9)).shape == (2, 3, 5, 5)
    assert BLOCKS["bottleneck-grouped-dilated-downsample"]()(x).shape == (2, 8, 5, 5)
    assert resnet.Bottleneck(8, 2)(mg.randn(2, 8, 9, 9)).shape == (2, 8, 9, 9)
    assert BLOCKS["cifar-option-a"]()(mg.randn(2, 2, 9, 9)).shape == (2, 4, 5, 5)


def test_plain_block_is_the_residual_block_without_the_addition():
    mg.manual_seed(0)
    residual = cifar.CifarBasicBlock(2, 2).eval()
    plain = cifar.CifarBasicBlock(2, 2, residual=False).eval()
    plain.load_state_dict(residual.state_dict())
    x = mg.randn(2, 2, 5, 5)
    branch = residual.bn2(residual.conv2(residual.relu(residual.bn1(residual.conv1(x)))))
    np.testing.assert_allclose(residual(x).data, np.maximum(branch.data + x.data, 0), rtol=1e-6)
    np.testing.assert_allclose(plain(x).data, np.maximum(branch.data, 0), rtol=1e-6)


# --- against torchvision -------------------------------------------------------------------
@pytest.fixture
def tv(torchvision_models):
    """torchvision.models, with torch on one thread: on a machine whose cores are busy its
    OpenMP threads can wait on each other for seconds (a 0.06 s resnext forward took 9 s)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torchvision_models
    torch.set_num_threads(threads)


def _module_list(model):
    return [(name, type(m).__name__) for name, m in model.named_modules()]


@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_names_keys_and_shapes_match_torchvision(name, tv, no_init):
    import torch

    with torch.device("meta"):  # shapes without memory or init
        theirs = getattr(tv, name)()
    ours = CONSTRUCTORS[name]()
    assert _module_list(ours) == _module_list(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ([v.shape for v in ours.state_dict().values()]
            == [tuple(v.shape) for v in theirs.state_dict().values()])
    # minigrad's weights load into torchvision, strictly
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()},
                           strict=True, assign=True)


def _randomise(torch, model):
    """BatchNorm running statistics and scales, and every bias, away from their initial 0,
    1, 1 and 0, so that the comparison exercises them."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2, generator=generator)
                m.running_var.uniform_(0.5, 1.5, generator=generator)
                m.weight.uniform_(0.5, 1.5, generator=generator)
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.uniform_(-0.2, 0.2, generator=generator)


def _assert_close(ours, theirs, what):
    """Agreement to float64 rounding over a deep net: relative 1e-10 of the largest value."""
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10 * np.abs(theirs).max(),
                               err_msg=what)


@pytest.mark.parametrize("name", FORWARD_CHECKED)
def test_outputs_match_torchvision_on_its_weights(name, tv, no_init):
    """torchvision's random state_dict (NumPy arrays) loaded into minigrad: the same eval
    outputs in float64; for TRAIN_CHECKED models also the same train-mode parameter
    gradients and updated running statistics."""
    import torch

    kwargs = TRAIN_CHECKED.get(name, {})
    torch.manual_seed(0)
    theirs = getattr(tv, name)(**kwargs).double()
    _randomise(torch, theirs)
    ours = CONSTRUCTORS[name](**kwargs).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).normal(size=INPUT[name])

    with torch.no_grad():
        expected = theirs.eval()(torch.from_numpy(x)).numpy()
    with mg.no_grad():
        _assert_close(ours.eval()(mg.tensor(x)).data, expected, f"{name} eval output")
    if name not in TRAIN_CHECKED:
        return

    upstream = np.random.default_rng(1).normal(size=expected.shape)
    theirs.train()(torch.from_numpy(x)).backward(torch.from_numpy(upstream))
    ours.train()(mg.tensor(x)).backward(upstream)
    grads = {k: p.grad.numpy() for k, p in theirs.named_parameters()}
    for key, param in ours.named_parameters():
        _assert_close(param.grad, grads[key], f"{name} gradient of {key}")
    buffers = {k: v.numpy() for k, v in theirs.named_buffers()}
    for key, array in ours.named_buffers():
        _assert_close(array, buffers[key], f"{name} buffer {key} after a train step")


@pytest.mark.parametrize("config", ["dilated-bottleneck", "groupnorm-basic"])
def test_resnet_options_match_torchvision(config, tv):
    """ResNet's replace_stride_with_dilation (the segmentation backbones: two blocks a
    dilated stage, so that a stage's first block keeps the previous dilation) and
    norm_layer, on small nets, eval outputs in float64."""
    import torch

    def build(framework, block):
        if config == "dilated-bottleneck":
            return block([1, 1, 2, 2], num_classes=5,
                         replace_stride_with_dilation=[False, True, True])
        return block([1, 1, 1, 1], num_classes=5,
                     norm_layer=lambda c: framework.nn.GroupNorm(4, c))

    name = "Bottleneck" if config == "dilated-bottleneck" else "BasicBlock"
    torch.manual_seed(0)
    theirs = build(torch, lambda *a, **k: tv.ResNet(
        getattr(tv.resnet, name), *a, **k)).double().eval()
    _randomise(torch, theirs)
    ours = build(mg, lambda *a, **k: resnet.ResNet(getattr(resnet, name), *a, **k)).double()
    assert _module_list(ours) == _module_list(theirs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(2, 3, 64, 64))
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    _assert_close(ours.eval()(mg.tensor(x)).data, expected, config)
