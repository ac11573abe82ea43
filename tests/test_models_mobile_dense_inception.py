"""minigrad.models' mobilenet_v2, densenet121/169 and googlenet: against torchvision 0.28
(state_dict keys, weights both ways, float64 outputs and train-mode gradients), against
published parameter counts and init formulas without torch, and every block gradchecked."""
import functools
import importlib
import inspect
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
# the modules (the package's `googlenet` is the constructor, as in torchvision)
densenet, googlenet, mobilenet = (importlib.import_module(f"minigrad.models.{name}")
                                  for name in ("densenet", "googlenet", "mobilenet"))

# name: (minigrad constructor, torchvision constructor name, keyword arguments for both)
CASES = {
    "mobilenet_v2": (mobilenet.mobilenet_v2, "mobilenet_v2", {}),
    "mobilenet_v2_w0.5": (mobilenet.mobilenet_v2, "mobilenet_v2", {"width_mult": 0.5}),
    "densenet121": (densenet.densenet121, "densenet121", {}),
    "densenet169": (densenet.densenet169, "densenet169", {}),
    # torchvision warns unless init_weights is given; True is its behaviour without weights
    "googlenet": (googlenet.googlenet, "googlenet", {"init_weights": True}),
    "googlenet_noaux_transform": (googlenet.googlenet, "googlenet",
                                  {"init_weights": True, "aux_logits": False,
                                   "transform_input": True}),
}


@functools.cache
def fresh(name):
    """A default-initialised minigrad model, built once per test run; tests must not
    change its weights."""
    constructor, _, kwargs = CASES[name]
    return constructor(**kwargs)


def n_params(model):
    return sum(p.data.size for p in model.parameters())


def randomise_bn(model, rng):
    """Running statistics and affine parameters as after training, so that eval mode does
    more than divide by sqrt(1 + eps)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean[...] = rng.normal(0, 0.1, m.num_features)
            m.running_var[...] = rng.uniform(0.5, 1.5, m.num_features)
            m.weight.data[...] = rng.uniform(0.5, 1.5, m.num_features)
            m.bias.data[...] = rng.normal(0, 0.1, m.num_features)


def randomise_bn_torch(model, torch, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1, generator=generator)
                m.running_var.uniform_(0.5, 1.5, generator=generator)
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.normal_(0, 0.1, generator=generator)


def assert_close(ours, theirs, rtol=1e-10):
    """Elementwise within rtol, with an absolute floor at rtol times the largest entry (for
    entries that are nearly zero by cancellation)."""
    theirs = np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * np.abs(theirs).max())


# --- against torchvision ------------------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_state_dict_keys_weights_both_ways_and_eval_outputs(name, torchvision_models):
    import torch

    constructor, tv_name, kwargs = CASES[name]
    theirs = getattr(torchvision_models, tv_name)(**kwargs).double().eval()
    ours = constructor(**kwargs).double().eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())

    # torchvision's random weights, with BN statistics as after training, into minigrad
    randomise_bn_torch(theirs, torch, seed=2)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 3, 32, 32))
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    out = ours(mg.tensor(x))
    assert out.dtype == np.float64
    assert_close(out.data, expected)

    # minigrad's own initialisation into torchvision, strictly
    own = fresh(name).state_dict()
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in own.items()},
                           strict=True)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), own[key], err_msg=key)


@pytest.mark.parametrize("name, kwargs, size", [
    ("mobilenet_v2", {"dropout": 0.0}, 64),
    ("densenet121", {}, 64),  # at 32 block 4 is 1x1: train-mode BN over 2 values is ill-posed
    ("googlenet", {"dropout": 0.0, "dropout_aux": 0.0}, 32),
])
def test_train_mode_outputs_gradients_and_running_stats(name, kwargs, size,
                                                        torchvision_models):
    """One training forward and backward (dropout off: its masks are framework-specific)
    gives torchvision's outputs, every parameter's gradient and the updated BN buffers;
    googlenet's two auxiliary outputs enter the loss too."""
    import torch

    constructor, tv_name, case_kwargs = CASES[name]
    kwargs = {**case_kwargs, **kwargs}
    theirs = getattr(torchvision_models, tv_name)(**kwargs).double().train()
    randomise_bn_torch(theirs, torch, seed=5)  # nonzero BN biases: nonzero batch means
    ours = constructor(**kwargs).double().train()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, size, size))

    out_theirs = theirs(torch.from_numpy(x))
    out_ours = ours(mg.tensor(x))
    if name == "googlenet":  # GoogLeNetOutputs(logits, aux_logits2, aux_logits1)
        assert type(out_ours).__name__ == "GoogLeNetOutputs"
        assert out_ours._fields == type(out_theirs)._fields
    else:
        out_theirs, out_ours = (out_theirs,), (out_ours,)
    upstreams = [rng.standard_normal(t.shape) for t in out_theirs]
    sum(torch.sum(t * torch.from_numpy(u)) for t, u in zip(out_theirs, upstreams)).backward()
    sum((o * mg.tensor(u)).sum() for o, u in zip(out_ours, upstreams)).backward()

    for o, t in zip(out_ours, out_theirs):
        assert_close(o.data, t.detach().numpy())
    grads_theirs = {k: p.grad.numpy() for k, p in theirs.named_parameters()}
    # some gradients are zero up to rounding (a BN bias feeding a conv and a train-mode
    # BN, which subtracts any per-channel constant): the floor is the largest gradient's
    scale = max(np.abs(g).max() for g in grads_theirs.values())
    for key, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, grads_theirs[key], rtol=1e-8, atol=1e-10 * scale,
                                   err_msg=key)
    state_theirs = theirs.state_dict()
    for key, value in ours.state_dict().items():
        if "running" in key or "num_batches" in key:
            assert_close(value, state_theirs[key].numpy())


def test_googlenet_outputs_fields_are_torchvisions(torchvision_models):
    assert googlenet.GoogLeNetOutputs._fields == torchvision_models.GoogLeNetOutputs._fields


def _signature(cls):
    """(name, default) of each constructor argument; a class default by its name."""
    return [(name, getattr(p.default, "__name__", p.default))
            for name, p in inspect.signature(cls.__init__).parameters.items()]


@pytest.mark.parametrize("ours, theirs", [
    (mobilenet.MobileNetV2, "mobilenetv2.MobileNetV2"),
    (mobilenet.InvertedResidual, "mobilenetv2.InvertedResidual"),
    (mobilenet.Conv2dNormActivation, "torchvision.ops.misc.Conv2dNormActivation"),
    (densenet.DenseNet, "densenet.DenseNet"),
    (densenet.DenseLayer, "densenet._DenseLayer"),
    (densenet.DenseBlock, "densenet._DenseBlock"),
    (densenet.Transition, "densenet._Transition"),
    (googlenet.GoogLeNet, "googlenet.GoogLeNet"),
    (googlenet.Inception, "googlenet.Inception"),
    (googlenet.InceptionAux, "googlenet.InceptionAux"),
    (googlenet.BasicConv2d, "googlenet.BasicConv2d"),
])
def test_constructor_arguments_and_defaults_are_torchvisions(ours, theirs,
                                                             torchvision_models):
    module, _, name = theirs.rpartition(".")
    if not module.startswith("torchvision"):
        module = f"torchvision.models.{module}"
    expected = _signature(getattr(importlib.import_module(module), name))
    if ours is googlenet.GoogLeNet:
        # torchvision's None warns and means True (the behaviour when built without weights)
        expected = [(n, True if n == "init_weights" else d) for n, d in expected]
    assert _signature(ours) == expected


# --- without torch: published figures, shapes, initialisation -------------------------------

def _aux_head_params(in_channels, num_classes=1000):
    """InceptionAux by hand: 1x1 conv to 128 (no bias) + BN (2 x 128) + fc 2048 -> 1024 +
    fc 1024 -> num_classes."""
    return (in_channels * 128 + 2 * 128 + 2048 * 1024 + 1024
            + 1024 * num_classes + num_classes)


@pytest.mark.parametrize("name, expected", [
    ("mobilenet_v2", 3_504_872),           # torchvision's MobileNet_V2_Weights meta
    ("mobilenet_v2_w0.5", 1_968_680),      # torchvision 0.28, counted once
    ("densenet121", 7_978_856),            # DenseNet121_Weights meta
    ("densenet169", 14_149_480),           # DenseNet169_Weights meta
    ("googlenet_noaux_transform", 6_624_904),  # GoogLeNet_Weights meta (no aux heads)
    # with the heads on 4a (512 maps) and 4d (528 maps); 13,004,888 in torchvision 0.28
    ("googlenet", 6_624_904 + _aux_head_params(512) + _aux_head_params(528)),
])
def test_parameter_counts_equal_published_figures(name, expected):
    assert n_params(fresh(name)) == expected


def test_output_shapes_and_googlenet_modes():
    x = mg.randn(2, 3, 32, 32)
    assert mobilenet.mobilenet_v2(num_classes=10).eval()(x).shape == (2, 10)
    assert densenet.DenseNet(32, (2, 2, 2, 2), 16, num_classes=7).eval()(x).shape == (2, 7)
    model = googlenet.googlenet(num_classes=5)
    train_out = model.train()(x)
    assert isinstance(train_out, googlenet.GoogLeNetOutputs)
    assert [tuple(t.shape) for t in train_out] == [(2, 5)] * 3
    assert model.eval()(x).shape == (2, 5)
    assert googlenet.googlenet(num_classes=5, aux_logits=False).train()(x).shape == (2, 5)


def test_feature_maps_downsample_by_32():
    x = mg.randn(1, 3, 64, 64)
    assert fresh("mobilenet_v2").eval().features(x).shape == (1, 1280, 2, 2)
    assert fresh("densenet121").eval().features(x).shape == (1, 1024, 2, 2)


def test_mobilenet_v2_channels_at_half_width():
    """width 0.5: each stage's c / 2 rounded to a multiple of 8, but 24 / 2 = 12 -> 16 (8
    would lose more than 10%); the stem 32 / 2 = 16; the last conv stays at 1280."""
    model = fresh("mobilenet_v2_w0.5")
    blocks = list(model.features)
    assert blocks[0].out_channels == 16 and blocks[-1].out_channels == 1280
    assert [b.out_channels for b in blocks[1:-1]] == (
        [8] + [16] * 2 + [16] * 3 + [32] * 4 + [48] * 3 + [80] * 3 + [160])


def test_inverted_residual_layout():
    """expand_ratio 1 drops the expansion conv; the residual needs stride 1 and inp == oup."""
    assert [type(m).__name__ for m in mobilenet.InvertedResidual(8, 8, 1, 1).conv] == [
        "Conv2dNormActivation", "Conv2d", "BatchNorm2d"]
    block = mobilenet.InvertedResidual(8, 8, 1, 6)
    assert block.use_res_connect and block.conv[0][0].weight.shape == (48, 8, 1, 1)
    assert block.conv[1][0].weight.shape == (48, 1, 3, 3)  # depthwise: groups = 48
    assert not mobilenet.InvertedResidual(8, 8, 2, 6).use_res_connect
    assert not mobilenet.InvertedResidual(8, 16, 1, 6).use_res_connect


def _std_close(array, std, rtol):
    assert abs(array.std() - std) <= rtol * std, (array.std(), std)
    assert abs(array.mean()) <= 5 * std / math.sqrt(array.size)


def test_mobilenet_v2_init():
    """Conv: kaiming normal over fan_out (std sqrt(2 / (Cout k k))), no bias; BN 1 and 0;
    the classifier N(0, 0.01^2) with zero bias."""
    model = fresh("mobilenet_v2")
    _std_close(model.features[18][0].weight.data, math.sqrt(2 / 1280), 0.01)
    _std_close(model.features[17].conv[1][0].weight.data, math.sqrt(2 / (960 * 9)), 0.03)
    _std_close(model.classifier[1].weight.data, 0.01, 0.01)
    assert not model.classifier[1].bias.data.any()
    assert all(m.bias is None for m in model.modules() if isinstance(m, nn.Conv2d))
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == 52
    assert all((m.weight.data == 1).all() and not m.bias.data.any() for m in bns)


def test_densenet121_init():
    """Conv: kaiming normal over fan_in (std sqrt(2 / (Cin k k))); BN 1 and 0; the
    classifier keeps Linear's U(+-1/sqrt(1024)) weight and gets a zero bias."""
    model = fresh("densenet121")
    layer = model.features.denseblock4.denselayer16
    _std_close(layer.conv1.weight.data, math.sqrt(2 / 992), 0.02)
    _std_close(layer.conv2.weight.data, math.sqrt(2 / (128 * 9)), 0.03)
    weight = model.classifier.weight.data
    assert np.abs(weight).max() <= 1 / 32
    _std_close(weight, 1 / 32 / math.sqrt(3), 0.01)
    assert not model.classifier.bias.data.any()
    assert all((m.weight.data == 1).all() and not m.bias.data.any()
               for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_googlenet_init_and_defaults():
    """Built without weights, torchvision's googlenet has the aux heads, no input transform
    and init_weights on: conv and linear weights N(0, 0.01^2) truncated at +-2 (absolute),
    linear biases Linear's default, BN 1 and 0 with eps 0.001."""
    model = fresh("googlenet")
    assert model.aux_logits and not model.transform_input
    assert isinstance(model.aux1, googlenet.InceptionAux)
    convs = np.concatenate([m.weight.data.ravel() for m in model.modules()
                            if isinstance(m, nn.Conv2d)])
    _std_close(convs, 0.01, 0.01)
    _std_close(model.fc.weight.data, 0.01, 0.01)
    assert np.abs(model.fc.bias.data).max() <= 1 / 32 and model.fc.bias.data.std() > 0.01
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(m.eps == 0.001 and (m.weight.data == 1).all() and not m.bias.data.any()
               for m in bns)
    # without init_weights the convs keep Conv2d's default U(+-1/sqrt(fan_in)), fan_in 147
    plain = googlenet.googlenet(aux_logits=False, init_weights=False).conv1.conv.weight.data
    assert np.abs(plain).max() <= 1 / math.sqrt(147)
    _std_close(plain, 1 / math.sqrt(147) / math.sqrt(3), 0.05)


def test_googlenet_transform_input_renormalises():
    """With pixels p in [0, 1] given ImageNet-normalised, z = (p - mean) / std, the
    network sees (p - 0.5) / 0.5: the same output as the plain network on that input."""
    plain = googlenet.googlenet(aux_logits=False).double().eval()
    transformed = googlenet.googlenet(aux_logits=False, transform_input=True).double().eval()
    transformed.load_state_dict(plain.state_dict())
    p = np.random.default_rng(5).uniform(size=(2, 3, 16, 16))
    mean = np.array([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
    std = np.array([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)
    assert_close(transformed(mg.tensor((p - mean) / std)).data,
                 plain(mg.tensor((p - 0.5) / 0.5)).data, rtol=1e-9)


# --- blocks, gradchecked in float64 ---------------------------------------------------------

def gradcheck_block(block, *inputs, mode):
    """gradcheck of `block(*inputs)` with respect to the inputs (`mode` "full" or
    "random") and to all parameters at once, in random directions: the parameters are
    slices of one flat leaf during the check. The seed is reset before each call, so a
    dropout mask is the same in every evaluation."""
    names, params = zip(*block.named_parameters())
    slots = [(block.get_submodule(path), attr)
             for path, _, attr in (name.rpartition(".") for name in names)]
    ends = np.cumsum([p.data.size for p in params])

    def fn(*tensors, flat=None):
        mg.manual_seed(0)
        if flat is not None:
            for (module, attr), param, end in zip(slots, params, ends):
                setattr(module, attr, flat[end - param.data.size:end].reshape(param.shape))
        return block(*tensors)

    flat = mg.tensor(np.concatenate([p.data.ravel() for p in params]), requires_grad=True)
    fixed = [mg.tensor(x.data) for x in inputs]
    try:
        # not vacuous: every parameter reaches the output through the swapped slices
        fn(*fixed, flat=flat).sum().backward()
        assert all(flat.grad[end - p.data.size:end].any() for p, end in zip(params, ends))
        assert mg.gradcheck(fn, inputs, mode=mode, seed=0)
        assert mg.gradcheck(lambda flat: fn(*fixed, flat=flat), (flat,), mode="random",
                            seed=0)
    finally:
        for (module, attr), param in zip(slots, params):
            setattr(module, attr, param)


def _tensor(rng, *shape):
    return mg.tensor(rng.standard_normal(shape), requires_grad=True)


class _ListInput(nn.Module):
    """DenseLayer called with a list of feature maps, as inside a dense block."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, *features):
        return self.layer(list(features))


# name: (block, input shapes, gradcheck mode for the inputs: full where the Jacobian is small)
BLOCKS = {
    "inverted_residual": (lambda: mobilenet.InvertedResidual(4, 4, 1, 2), [(2, 4, 3, 3)],
                          "random"),
    "inverted_residual_no_skip": (lambda: mobilenet.InvertedResidual(4, 6, 2, 1),
                                  [(2, 4, 4, 4)], "random"),
    "dense_layer_dropout": (lambda: densenet.DenseLayer(4, 3, 2, drop_rate=0.3),
                            [(2, 4, 2, 2)], "full"),
    "dense_layer_list": (lambda: _ListInput(densenet.DenseLayer(5, 3, 2, drop_rate=0.0)),
                         [(2, 2, 2, 2), (2, 3, 2, 2)], "full"),
    "dense_block": (lambda: densenet.DenseBlock(2, 3, bn_size=2, growth_rate=2,
                                                drop_rate=0.0), [(2, 3, 3, 3)], "random"),
    "transition": (lambda: densenet.Transition(4, 2), [(2, 4, 4, 4)], "full"),
    "inception": (lambda: googlenet.Inception(3, 2, 2, 3, 2, 2, 2), [(2, 3, 4, 4)],
                  "random"),
    "basic_conv": (lambda: googlenet.BasicConv2d(3, 4, kernel_size=3, stride=2, padding=1),
                   [(2, 3, 5, 5)], "random"),
}


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", BLOCKS)
def test_block_gradcheck(name, training):
    make, shapes, mode = BLOCKS[name]
    rng = np.random.default_rng(6)
    block = make().double().train(training)
    randomise_bn(block, rng)
    gradcheck_block(block, *[_tensor(rng, *shape) for shape in shapes], mode=mode)


def test_block_output_shapes():
    x = mg.randn(2, 8, 6, 6)
    assert mobilenet.InvertedResidual(8, 16, 2, 6)(x).shape == (2, 16, 3, 3)
    assert densenet.DenseLayer(8, 4, 2, 0.0)(x).shape == (2, 4, 6, 6)
    assert densenet.DenseBlock(3, 8, 2, 4, 0.0)(x).shape == (2, 8 + 3 * 4, 6, 6)
    assert densenet.Transition(8, 4)(x).shape == (2, 4, 3, 3)
    assert googlenet.Inception(8, 1, 2, 3, 2, 4, 5)(x).shape == (2, 1 + 3 + 4 + 5, 6, 6)
    assert googlenet.InceptionAux(8, 7)(x).shape == (2, 7)


# --- arguments ------------------------------------------------------------------------------

@pytest.mark.parametrize("constructor", [mobilenet.mobilenet_v2, densenet.densenet121,
                                         densenet.densenet169, googlenet.googlenet])
def test_weights_are_refused_with_a_pointer_to_load_state_dict(constructor):
    with pytest.raises(TypeError, match=f"{constructor.__name__}: weights=.*load_state_dict"):
        constructor(weights="DEFAULT")
    # torchvision's signature for a randomly initialised net: weights=None, progress=...
    assert isinstance(constructor(weights=None, progress=False, num_classes=3), nn.Module)


@pytest.mark.parametrize("build, match", [
    (lambda: mobilenet.InvertedResidual(4, 4, 3, 6), "stride must be 1 or 2, got 3"),
    (lambda: mobilenet.MobileNetV2(width_mult=0), "width_mult must be a positive number, got 0"),
    (lambda: mobilenet.MobileNetV2(round_nearest=0), "round_nearest .* got 0"),
    (lambda: mobilenet.MobileNetV2(inverted_residual_setting=[[1, 16, 1]]),
     r"inverted_residual_setting .* \[t, c, n, s\] rows, got \[\[1, 16, 1\]\]"),
    (lambda: densenet.DenseNet(block_config=()), r"block_config .* got \(\)"),
    (lambda: densenet.DenseLayer(4, 2, 2, drop_rate=1.5), r"drop_rate .* \[0, 1\), got 1.5"),
    (lambda: googlenet.GoogLeNet(blocks=[googlenet.BasicConv2d]), "blocks .* got 1 entries"),
])
def test_bad_arguments_raise_value_error(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_memory_efficient_is_accepted_with_a_warning():
    """No activation checkpointing in minigrad: the same network, and a warning says so."""
    with pytest.warns(UserWarning, match="memory_efficient=True.*checkpointing"):
        model = densenet.DenseNet(8, (1, 1), 8, memory_efficient=True, num_classes=3)
    plain = densenet.DenseNet(8, (1, 1), 8, num_classes=3)
    plain.load_state_dict(model.state_dict())
    x = mg.randn(2, 3, 16, 16)
    np.testing.assert_array_equal(model.eval()(x).data, plain.eval()(x).data)
