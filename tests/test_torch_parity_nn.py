"""nn against PyTorch: activations (values and gradients), layer defaults, state_dicts that
move both ways between the same architectures."""
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-8), (np.float32, 1e-4)])
@pytest.mark.parametrize("name", ["gelu", "leaky_relu"])
def test_activation_values_and_gradients(name, dtype, rtol):
    rng = np.random.default_rng(0)
    x = rng.normal(scale=3, size=(4, 5)).astype(dtype)
    x[0, :2] = [0.0, -0.0]
    upstream = rng.normal(size=(4, 5)).astype(dtype)
    ours = mg.Tensor(x, requires_grad=True)
    # PyTorch's float32 GELU forms 1 + erf(x / sqrt 2) in float32 and loses digits where erf
    # is near -1 (x < -3: relative error ~1e-3); minigrad evaluates erf in float64, so the
    # oracle for float32 inputs is PyTorch in float64 on the same (float32) values.
    theirs = torch.tensor(x.astype(np.float64), requires_grad=True)
    kwargs = {"negative_slope": 0.2} if name == "leaky_relu" else {}
    out = getattr(F, name)(ours, **kwargs)
    expected = getattr(torch.nn.functional, name)(theirs, **kwargs)
    out.backward(upstream)
    expected.backward(torch.from_numpy(upstream.astype(np.float64)))
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=rtol, atol=1e-12)


def pair():
    """The same architecture in both frameworks, layer for layer."""
    ours = nn.Sequential(OrderedDict([
        ("fc1", nn.Linear(6, 8)), ("act", nn.GELU()),
        ("block", nn.Sequential(nn.Linear(8, 8), nn.LeakyReLU(0.1), nn.Dropout(0.2))),
        ("heads", nn.ModuleList([nn.Linear(8, 3), nn.Linear(8, 2, bias=False)]))]))
    tn = torch.nn
    theirs = tn.Sequential(OrderedDict([
        ("fc1", tn.Linear(6, 8)), ("act", tn.GELU()),
        ("block", tn.Sequential(tn.Linear(8, 8), tn.LeakyReLU(0.1), tn.Dropout(0.2))),
        ("heads", tn.ModuleList([tn.Linear(8, 3), tn.Linear(8, 2, bias=False)]))]))
    return ours, theirs


def forward(model, x, framework):
    """fc1 -> act -> block -> the two heads, concatenated."""
    h = model.block(model.act(model.fc1(x)))
    if framework is torch:
        return torch.cat([model.heads[0](h), model.heads[1](h)], dim=1)
    return mg.concatenate([model.heads[0](h), model.heads[1](h)], axis=1)


def test_state_dict_keys_shapes_and_repr_match_pytorch():
    ours, theirs = pair()
    theirs_sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(theirs_sd)
    for key, value in ours.state_dict().items():
        assert value.shape == tuple(theirs_sd[key].shape) and value.dtype == np.float32
    assert repr(ours) == repr(theirs)


def test_pytorch_weights_load_into_minigrad_and_give_the_same_outputs():
    ours, theirs = pair()
    ours.eval(), theirs.eval()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    with torch.no_grad():
        expected = forward(theirs, torch.from_numpy(x), torch).numpy()
    np.testing.assert_allclose(forward(ours, mg.Tensor(x), mg).data, expected, rtol=1e-4,
                               atol=1e-6)


def test_minigrad_weights_saved_to_a_file_load_into_pytorch(tmp_path):
    ours, theirs = pair()
    ours.eval(), theirs.eval()
    path = tmp_path / "w.npz"
    mg.save(ours.state_dict(), path)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in mg.load(path).items()})
    x = np.random.default_rng(1).normal(size=(5, 6)).astype(np.float32)
    with torch.no_grad():
        expected = forward(theirs, torch.from_numpy(x), torch).numpy()
    np.testing.assert_allclose(forward(ours, mg.Tensor(x), mg).data, expected, rtol=1e-4,
                               atol=1e-6)


def test_linear_default_init_has_pytorchs_distribution():
    # same bounds: weight and bias within 1/sqrt(in); compare the spread of many draws
    mg.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = nn.Linear(50, 400), torch.nn.Linear(50, 400)
    for name in ("weight", "bias"):
        a = getattr(ours, name).data
        b = getattr(theirs, name).detach().numpy()
        assert np.abs(a).max() <= 1 / np.sqrt(50) and np.abs(b).max() <= 1 / np.sqrt(50)
        assert a.std() == pytest.approx(b.std(), rel=0.1)


def test_clip_grad_norm_matches_pytorch():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    ours = [nn.Parameter(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = g.copy(), torch.from_numpy(g.copy())
    norm = nn.utils.clip_grad_norm_(ours, 0.5)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    assert norm == pytest.approx(expected.item(), rel=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-12)
