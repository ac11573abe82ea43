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
    "max": (lambda a: a.max(axis=1), lambda a: a.amax(dim=1), [(3, 4)], False),
    "min": (lambda a: a.min(), lambda a: a.amin(), [(3, 4)], False),
    "maximum": (mg.maximum, torch.maximum, [(3, 4), (4,)], False),
    "minimum": (mg.minimum, torch.minimum, [(3, 4), (3, 1)], False),
    "transpose": (lambda a: a.transpose(1, 2, 0), lambda a: a.permute(1, 2, 0), [(2, 3, 4)],
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


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-8), (np.float32, 1e-4)])
@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name, dtype, rtol):
    ours, theirs, input_shapes, positive = CASES[name]
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
