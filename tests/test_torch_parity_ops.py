"""Core ops against PyTorch: values and gradients, float64 and float32 (skips without torch)."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor

torch = pytest.importorskip("torch")

# name: (minigrad fn, torch fn, input shapes, positive inputs?)
CASES = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [(3, 1, 4), (2, 4)], False),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, [(3, 4), (4,)], False),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, [(2, 3), (2, 1)], False),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [(2, 3), (3,)], True),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, [(2, 3), (2, 3)], True),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 5)], False),
    "matvec": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4,)], False),
    "exp": (lambda a: a.exp(), torch.exp, [(2, 3)], False),
    "log": (lambda a: a.log(), torch.log, [(2, 3)], True),
    "sqrt": (lambda a: a.sqrt(), torch.sqrt, [(2, 3)], True),
    "abs": (lambda a: a.abs(), torch.abs, [(2, 3)], False),
    "relu": (lambda a: a.relu(), torch.relu, [(2, 3)], False),
    "sigmoid": (lambda a: a.sigmoid(), torch.sigmoid, [(2, 3)], False),
    "tanh": (lambda a: a.tanh(), torch.tanh, [(2, 3)], False),
    "clip": (lambda a: a.clip(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), [(4, 5)], False),
    "sum": (lambda a: a.sum(axis=1), lambda a: a.sum(dim=1), [(3, 4)], False),
    "mean": (lambda a: a.mean(axis=(0, 2), keepdims=True),
             lambda a: a.mean(dim=(0, 2), keepdim=True), [(2, 3, 4)], False),
    "var": (lambda a: a.var(axis=0, ddof=1), lambda a: a.var(dim=0, unbiased=True), [(5, 3)],
            False),
    "amax": (lambda a: a.amax(dim=1), lambda a: a.amax(dim=1), [(3, 4)], False),
    "min": (lambda a: a.min(), lambda a: a.amin(), [(3, 4)], False),
    "maximum": (mg.maximum, torch.maximum, [(3, 4), (4,)], False),
    "minimum": (mg.minimum, torch.minimum, [(3, 4), (3, 1)], False),
    "permute": (lambda a: a.permute(1, 2, 0), lambda a: a.permute(1, 2, 0), [(2, 3, 4)],
                False),
    "getitem": (lambda a: a[np.array([0, 2, 2]), 1:], lambda a: a[[0, 2, 2], 1:], [(3, 4)],
                False),
    "concatenate": (lambda a, b: mg.concatenate([a, b], 1), lambda a, b: torch.cat([a, b], 1),
                    [(2, 3), (2, 2)], False),
    "stack": (lambda a, b: mg.stack([a, b], 0), lambda a, b: torch.stack([a, b], 0),
              [(2, 3), (2, 3)], False),
    "softmax": (lambda a: mg.ops.softmax(a, axis=1), lambda a: torch.softmax(a, 1), [(3, 5)],
                False),
    "log_softmax": (lambda a: mg.ops.log_softmax(a, axis=-1),
                    lambda a: torch.log_softmax(a, -1), [(3, 5)], False),
}

# The same code runs on both: PyTorch's Tensor methods, the surface `import minigrad as torch`
# relies on (tests/test_torch_surface.py has the rest of that surface).
SAME_CODE = {
    "max(dim).values": (lambda a: a.max(dim=1).values, [(3, 4)], False),
    "min(dim, keepdim)": (lambda a: a.min(0, keepdim=True)[0], [(3, 4)], False),
    "std (unbiased default)": (lambda a: a.std(dim=1), [(3, 5)], False),
    "var(correction=0)": (lambda a: a.var(0, correction=0), [(4, 3)], False),
    "prod": (lambda a: a.prod(dim=1), [(3, 4)], False),
    "prod (all)": (lambda a: a.prod(), [(2, 3)], False),
    "norm": (lambda a: a.norm(dim=1), [(3, 4)], False),
    "norm (p=1)": (lambda a: a.norm(p=1), [(3, 4)], False),
    "logsumexp": (lambda a: a.logsumexp(dim=1), [(3, 4)], False),
    "cumsum": (lambda a: a.cumsum(dim=0), [(4, 3)], False),
    "transpose": (lambda a: a.transpose(0, 2), [(2, 3, 4)], False),
    "T / mT": (lambda a: a.mT + a.transpose(-1, -2), [(2, 3, 3)], False),
    "view / flatten / unflatten": (lambda a: a.view(2, -1).flatten().unflatten(0, (3, 8)),
                                   [(2, 3, 4)], False),
    "expand": (lambda a: a.expand(2, 3, 4), [(3, 1)], False),
    "repeat": (lambda a: a.repeat(2, 1, 3), [(3, 2)], False),
    "flip": (lambda a: a.flip(1), [(3, 4)], False),
    "chunk": (lambda a: a.chunk(3, dim=1)[1] * a.chunk(3, dim=1)[2][:, :1], [(2, 7)], False),
    "split": (lambda a: a.split([1, 3], dim=0)[1], [(4, 2)], False),
    "unbind": (lambda a: a.unbind(1)[2], [(3, 4)], False),
    "narrow": (lambda a: a.narrow(1, 1, 2), [(3, 4)], False),
    "squeeze (non-1 dim kept)": (lambda a: a.squeeze(0).squeeze(1), [(1, 3, 4)], False),
    "clamp / clamp_min": (lambda a: a.clamp(min=-0.5).clamp_max(0.7), [(4, 5)], False),
    "rsqrt": (lambda a: a.rsqrt(), [(2, 3)], True),
    "softmax(dim)": (lambda a: a.softmax(dim=0) * a.log_softmax(1), [(3, 4)], False),
    "masked_fill": (lambda a: a.masked_fill(a > 0.3, -1.0), [(3, 4)], False),
    "clone": (lambda a: a.clone() * 2, [(3,)], False),
    "div (rounding) has zero grad": (lambda a: a.div(0.3, rounding_mode="floor") + a, [(3,)],
                                     False),
}


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-8), (np.float32, 1e-4)])
@pytest.mark.parametrize("name", SAME_CODE)
def test_same_code_matches_torch(name, dtype, rtol):
    fn, input_shapes, positive = SAME_CODE[name]
    _compare(fn, fn, input_shapes, positive, dtype, rtol)


def test_gather_topk_sort_index_select():
    """Index-based ops, run as the same code on both libraries, then compared."""
    results = {}
    for lib in (mg, torch):
        a = lib.tensor([[3.0, -1.0, 2.0, 0.5], [0.0, 4.0, -2.0, 1.0]], dtype=lib.float64,
                       requires_grad=True)
        index = lib.tensor([[2, 2, 0], [1, 3, 3]])
        values, indices = a.topk(2, dim=1)
        out = (a.gather(1, index).sum() + values.sum() * 2 + a.sort(dim=1, descending=True)
               .values[:, 0].sum() + a.index_select(1, lib.tensor([3, 0, 3])).sum() * 3)
        out.backward()
        results[lib.__name__] = (out.item(), indices.tolist(), np.asarray(a.grad))
    (ours, _, grad), (theirs, indices, torch_grad) = results["minigrad"], results["torch"]
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert results["minigrad"][1] == indices
    np.testing.assert_allclose(grad, torch_grad, rtol=1e-12)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-8), (np.float32, 1e-4)])
@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name, dtype, rtol):
    ours, theirs, input_shapes, positive = CASES[name]
    _compare(ours, theirs, input_shapes, positive, dtype, rtol)


def _compare(ours, theirs, input_shapes, positive, dtype, rtol):
    """Forward both on the same arrays, backward the same random upstream gradient."""
    rng = np.random.default_rng(0)
    arrays = [(rng.uniform(0.5, 2, s) if positive else rng.standard_normal(s)).astype(dtype)
              for s in input_shapes]
    mine = [Tensor(a, requires_grad=True) for a in arrays]
    ref = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref_out = ours(*mine), theirs(*ref)
    np.testing.assert_allclose(out.data, ref_out.detach().numpy(), rtol=rtol, atol=rtol * 1e-2)
    upstream = rng.standard_normal(out.shape).astype(dtype)
    out.backward(upstream)
    ref_out.backward(torch.tensor(upstream))
    for m, r in zip(mine, ref):
        assert m.grad.dtype == dtype
        np.testing.assert_allclose(m.grad, r.grad.numpy(), rtol=rtol, atol=rtol * 1e-2)
