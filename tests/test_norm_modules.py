"""Normalisation layers and loss modules: parameters, buffers and state_dict keys, the
running-statistics bookkeeping, train/eval behaviour, and fuse_conv_bn."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
import minigrad.nn as nn
from minigrad.testing import arrays, assert_allclose


def test_batch_norm_parameters_buffers_and_keys():
    bn = nn.BatchNorm2d(3)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert_allclose(bn.weight, np.ones(3))
    assert_allclose(bn.bias, np.zeros(3))
    assert_allclose(bn.running_var, np.ones(3))
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked == 0
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    bare = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(bare.state_dict()) == [] and list(bare.parameters()) == []


def test_batch_norm_momentum_none_is_the_cumulative_average():
    # batches with channel means 1, 2 and 6: the running mean after k batches is their
    # plain average (starting value 0 weighs nothing: the first batch has weight 1/1)
    bn = nn.BatchNorm1d(1, momentum=None)
    for k, mean in enumerate([1.0, 2.0, 6.0], start=1):
        bn(mg.Tensor(np.array([[mean - 1], [mean + 1]])))
        assert bn.num_batches_tracked == k
    assert_allclose(bn.running_mean, [3.0])
    assert_allclose(bn.running_var, [2.0])  # unbiased variance of (m - 1, m + 1) is 2


def test_batch_norm_counts_batches_and_updates_only_in_training():
    bn = nn.BatchNorm2d(2)
    x = mg.Tensor(np.random.default_rng(0).standard_normal((4, 2, 3, 3)))
    bn(x)
    bn(x)
    assert bn.num_batches_tracked == 2
    saved = bn.running_mean.copy()
    bn.eval()
    out = bn(x)
    assert bn.num_batches_tracked == 2
    assert_allclose(bn.running_mean, saved)
    expected = F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias)
    assert_allclose(out, expected)


@given(data=st.data())
def test_batch_norm_without_running_stats_uses_batch_stats_in_eval(data):
    x = mg.Tensor(data.draw(arrays((3, 2, 2, 2))))
    bn = nn.BatchNorm2d(2, track_running_stats=False)
    train_out = bn(x)
    bn.eval()
    assert_allclose(bn(x), train_out)
    # per-channel statistics over (N, H, W): one group per "sample" once C leads
    per_channel = F.group_norm(mg.Tensor(x.data.transpose(1, 0, 2, 3)), 1)  # (C, N, H, W)
    assert_allclose(train_out, per_channel.data.transpose(1, 0, 2, 3), rtol=1e-10, atol=1e-12)


def test_batch_norm_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected an input of 4 dimensions"):
        nn.BatchNorm2d(3)(mg.Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected an input of 2 or 3"):
        nn.BatchNorm1d(3)(mg.Tensor(np.zeros((2, 3, 4, 4))))


@given(data=st.data())
def test_batch_norm_in_eval_is_an_affine_map(data):
    # f(a x + b y) = a f(x) + b f(y) + (1 - a - b) f(0) holds for any affine f
    bn = nn.BatchNorm2d(3, dtype=np.float64)
    for param in (bn.weight, bn.bias):
        param.data[...] = data.draw(arrays((3,)))
    bn.running_mean[...] = data.draw(arrays((3,)))
    bn.running_var[...] = data.draw(arrays((3,), low=0.2, high=3.0))
    bn.eval()
    x, y = (data.draw(arrays((2, 3, 2, 2))) for _ in range(2))
    a, b = data.draw(st.floats(-2, 2)), data.draw(st.floats(-2, 2))

    def f(v):
        return bn(mg.Tensor(v)).data

    assert_allclose(f(a * x + b * y), a * f(x) + b * f(y) + (1 - a - b) * f(np.zeros_like(x)),
                    rtol=1e-9, atol=1e-9)


def test_instance_norm_layer_unbatched_and_defaults():
    layer = nn.InstanceNorm2d(2)
    assert list(layer.state_dict()) == [] and layer.weight is None
    x = np.random.default_rng(1).standard_normal((2, 3, 4))
    assert_allclose(layer(mg.Tensor(x)), layer(mg.Tensor(x[None]))[0])
    with pytest.raises(ValueError, match="3 or 4 dimensions"):
        layer(mg.Tensor(np.zeros((1, 1, 2, 3, 4))))
    with pytest.raises(ValueError, match="num_features=3"):
        nn.InstanceNorm2d(3, affine=True)(mg.Tensor(x))


def test_layer_norm_and_group_norm_layers():
    ln = nn.LayerNorm((3, 4))
    assert ln.weight.shape == (3, 4) and list(ln.state_dict()) == ["weight", "bias"]
    assert nn.LayerNorm(4, bias=False).bias is None
    assert nn.LayerNorm(4, elementwise_affine=False).weight is None
    gn = nn.GroupNorm(2, 6)
    assert gn.weight.shape == (6,)
    with pytest.raises(ValueError, match="num_channels=6 must be divisible by num_groups=4"):
        nn.GroupNorm(4, 6)
    x = mg.Tensor(np.random.default_rng(2).standard_normal((2, 6, 3, 4)))
    assert_allclose(gn(x), F.group_norm(x, 2))
    assert_allclose(nn.LayerNorm((6, 3, 4), dtype=np.float64)(x), F.group_norm(x, 1),
                    rtol=1e-12, atol=1e-13)


@given(bias=st.booleans(), affine=st.booleans(), stride=st.integers(1, 2),
       groups=st.sampled_from([1, 2]), data=st.data())
def test_fuse_conv_bn_equals_bn_of_conv(bias, affine, stride, groups, data):
    conv = nn.Conv2d(2, 4, 3, stride=stride, padding=1, groups=groups, bias=bias,
                     dtype=np.float64)
    bn = nn.BatchNorm2d(4, affine=affine, dtype=np.float64)
    x = mg.Tensor(data.draw(arrays((2, 2, 5, 5))))
    for _ in range(3):  # give the running statistics something to hold
        bn(conv(mg.Tensor(data.draw(arrays((2, 2, 5, 5))))))
    if affine:
        bn.weight.data[...] = data.draw(arrays((4,)))
        bn.bias.data[...] = data.draw(arrays((4,)))
    conv.eval()
    bn.eval()
    fused = nn.utils.fuse_conv_bn(conv, bn)
    assert isinstance(fused, nn.Conv2d) and fused.bias is not None
    assert_allclose(fused(x), bn(conv(x)), rtol=1e-10, atol=1e-12)


def test_fuse_conv_bn_errors():
    conv, bn = nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match="evaluation mode"):
        nn.utils.fuse_conv_bn(conv, bn)
    conv.eval()
    with pytest.raises(ValueError, match="running statistics"):
        nn.utils.fuse_conv_bn(conv, nn.BatchNorm2d(3, track_running_stats=False).eval())
    with pytest.raises(ValueError, match="4 features"):
        nn.utils.fuse_conv_bn(conv, nn.BatchNorm2d(4).eval())
    with pytest.raises(TypeError, match="nn.Conv2d"):
        nn.utils.fuse_conv_bn(nn.Linear(2, 3).eval(), bn.eval())


def test_loss_modules_call_the_functions():
    rng = np.random.default_rng(3)
    logits, target = mg.Tensor(rng.standard_normal((4, 3))), np.array([0, 2, 1, 2])
    weight = np.array([1.0, 2.0, 0.5])
    loss = nn.CrossEntropyLoss(weight=weight, label_smoothing=0.1, reduction="sum")
    assert list(loss.state_dict()) == ["weight"]
    assert_allclose(loss(logits, target),
                    F.cross_entropy(logits, target, weight, reduction="sum", label_smoothing=0.1))
    assert_allclose(nn.NLLLoss()(logits, target), F.nll_loss(logits, target))
    other = mg.Tensor(rng.standard_normal((4, 3)))
    assert_allclose(nn.MSELoss()(logits, other), F.mse_loss(logits, other))
    assert_allclose(nn.L1Loss(reduction="none")(logits, other), F.l1_loss(logits, other, "none"))
    assert_allclose(nn.SmoothL1Loss(beta=0.3)(logits, other),
                    F.smooth_l1_loss(logits, other, beta=0.3))
    probs = mg.Tensor(rng.uniform(0, 1, (4, 3)))
    assert_allclose(nn.BCEWithLogitsLoss(pos_weight=np.array([1.0, 2.0, 3.0]))(logits, probs),
                    F.binary_cross_entropy_with_logits(logits, probs,
                                                       pos_weight=np.array([1.0, 2.0, 3.0])))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
