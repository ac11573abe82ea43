"""Module: finding parameters and buffers, modes, hooks, state_dict, repr, containers."""
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class Block(nn.Module):
    """A module with a child, its own parameter and a buffer, like a norm layer."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.scale = nn.Parameter(np.ones(2, dtype=np.float32))
        self.register_buffer("running_mean", np.zeros(2, dtype=np.float32))
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        self.register_buffer("scratch", np.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc(x) * self.scale


def test_named_parameters_own_first_then_children_with_dotted_names():
    model = nn.Sequential(Block(), nn.ReLU(), nn.Linear(2, 1))
    assert [name for name, _ in model.named_parameters()] == [
        "0.scale", "0.fc.weight", "0.fc.bias", "2.weight", "2.bias"]
    assert [p.shape for p in model.parameters()] == [(2,), (2, 3), (2,), (1, 2), (1,)]


def test_shared_parameter_is_listed_once():
    first = nn.Linear(2, 2)
    second = nn.Linear(2, 2)
    second.weight = first.weight  # weight tying
    model = nn.Sequential(first, second)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert len(list(model.modules())) == 3


def test_buffers_and_state_dict_keys_follow_pytorch():
    model = nn.Sequential(Block())
    assert [name for name, _ in model.named_buffers()] == [
        "0.running_mean", "0.num_batches_tracked", "0.scratch"]
    # PyTorch: per module, parameters then persistent buffers, parents before children
    assert list(model.state_dict()) == ["0.scale", "0.running_mean", "0.num_batches_tracked",
                                        "0.fc.weight", "0.fc.bias"]


def test_load_state_dict_round_trip_copies_into_existing_arrays():
    source, target = Block(), Block()
    source.running_mean[:] = [1.5, -2.0]
    source.num_batches_tracked += 7
    weight_array = target.fc.weight.data
    result = target.load_state_dict({k: v.copy() for k, v in source.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.fc.weight.data is weight_array  # copied into, not replaced
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[key], value)
    assert target.num_batches_tracked == 7


def test_load_state_dict_refuses_missing_unexpected_and_mismatched_keys():
    model = Block()
    state = {k: v.copy() for k, v in model.state_dict().items()}
    del state["fc.bias"]
    state["fc.extra"] = np.zeros(1)
    with pytest.raises(ValueError, match=r"missing keys: fc\.bias.*unexpected keys: fc\.extra"):
        model.load_state_dict(state)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["fc.bias"] and result.unexpected_keys == ["fc.extra"]
    state = {k: v.copy() for k, v in model.state_dict().items()}
    state["fc.weight"] = np.zeros((3, 2))
    before = model.fc.bias.data.copy()
    state["fc.bias"] = before + 1
    with pytest.raises(ValueError, match=r"fc\.weight: got shape \(3, 2\), the module has \(2, 3\)"):
        model.load_state_dict(state, strict=False)
    np.testing.assert_array_equal(model.fc.bias.data, before)  # nothing was copied


def test_train_eval_reach_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_dropout_is_identity_in_eval_and_drops_in_train():
    mg.manual_seed(0)
    layer = nn.Dropout(0.5)
    x = mg.Tensor(np.ones((100, 100)))
    dropped = layer(x).data
    # inverted dropout: kept elements are scaled by 1 / (1 - p) = 2
    assert set(np.unique(dropped)) == {0.0, 2.0}
    assert abs((dropped == 0).mean() - 0.5) < 0.02  # 10,000 Bernoulli(0.5): sd 0.005
    assert layer.eval()(x) is x


def test_zero_grad_and_freezing():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    model(mg.Tensor(np.ones((4, 3), np.float32))).sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[1].weight.grad is not None
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_forward_hook_sees_inputs_and_can_replace_output_until_removed():
    layer = nn.Linear(2, 2)
    seen = []

    def hook(module, inputs, output):
        seen.append((module, inputs[0].shape, output.shape))
        return output * 0

    handle = layer.register_forward_hook(hook)
    x = mg.Tensor(np.ones((3, 2), np.float32))
    assert np.all(layer(x).data == 0)
    assert seen == [(layer, (3, 2), (3, 2))]
    handle.remove()
    assert not np.all(layer(x).data == 0)
    assert len(seen) == 1


def test_backward_hook_receives_output_gradient_and_can_replace_it():
    layer = nn.Linear(2, 3)
    x = mg.Tensor(np.array([[1.0, 2.0]], np.float32), requires_grad=True)
    upstream = np.array([[1.0, -2.0, 3.0]], np.float32)
    seen = []
    handle = layer.register_backward_hook(lambda module, grad: seen.append(grad.copy()))
    layer(x).backward(upstream)
    np.testing.assert_array_equal(seen[0], upstream)  # d(y . g)/dy = g
    # a returned gradient replaces the output's: doubling it doubles dL/dx = g W
    handle.remove()
    layer.register_backward_hook(lambda module, grad: 2 * grad)
    x.grad = None
    layer(x).backward(upstream)
    np.testing.assert_allclose(x.grad, 2 * upstream @ layer.weight.data, rtol=1e-6)
    assert len(seen) == 1


def test_repr_matches_pytorch():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(),
                          nn.Sequential(nn.LeakyReLU(0.2), nn.Dropout(0.25)), nn.Flatten())
    # the string torch prints for the same model
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): LeakyReLU(negative_slope=0.2)\n"
        "    (1): Dropout(p=0.25, inplace=False)\n"
        "  )\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        ")")


def test_containers_name_their_children():
    layers = nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1)])
    heads = nn.ModuleDict({"box": nn.Linear(1, 4), "cls": nn.Linear(1, 3)})

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers, self.heads = layers, heads

    names = list(Net().state_dict())
    assert names == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                     "heads.box.weight", "heads.box.bias", "heads.cls.weight", "heads.cls.bias"]
    named = nn.Sequential(OrderedDict([("conv", nn.Linear(1, 1)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["conv.weight", "conv.bias"]
    assert isinstance(named[1], nn.ReLU) and len(named[:1]) == 1


def test_containers_reject_non_modules():
    with pytest.raises(TypeError, match="entry '1' must be a Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    with pytest.raises(TypeError, match="must be a Module"):
        nn.ModuleList([3])


def test_linear_forward_and_default_init_bounds():
    mg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)  # kaiming_uniform_(a=sqrt 5): gain sqrt(1/3), b = sqrt(3)*gain/sqrt(400)
    for param in (layer.weight.data, layer.bias.data):
        assert param.dtype == np.float32
        assert np.abs(param).max() <= bound
    # U(-b, b) has variance b^2 / 3; 120,000 draws give it to about 0.5 %
    assert abs(layer.weight.data.var() / (bound ** 2 / 3) - 1) < 0.02
    x = np.random.default_rng(0).normal(size=(5, 400)).astype(np.float32)
    expected = x @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(mg.Tensor(x)).data, expected, rtol=1e-5, atol=1e-6)


def test_unsupported_arguments_raise_not_implemented():
    with pytest.raises(NotImplementedError, match="approximate"):
        nn.GELU(approximate="tanh")


def test_mg_nn_functional_is_minigrad_functional():
    import minigrad.functional as F
    assert mg.nn.functional.gelu is F.gelu and mg.nn.functional.linear is F.linear
