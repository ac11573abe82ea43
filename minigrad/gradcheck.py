"""Finite-difference gradient checks: the numbers backward gives against the numbers a
central difference gives, `f'(x) ~ (f(x + e/2) - f(x - e/2)) / e`.

`mode="full"` builds both whole Jacobians. `mode="random"` compares the directional
derivative `u^T J v` for random directions u (over outputs) and v (over one input): one
backward and two forward calls per direction, cheap enough for convolution-sized inputs.
"""
import warnings

import numpy as np

from .tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """Raised when backward disagrees with finite differences; the message says where."""


def _evaluate(fn, inputs):
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out


def numerical_jacobian(fn, inputs, index, eps=1e-6):
    """d fn(inputs).ravel() / d inputs[index].ravel() by central differences: (n_out, n_in)."""
    x = inputs[index].data
    flat = x.reshape(-1)  # a view: writing into it perturbs the input in place
    columns = []
    with no_grad():
        for j in range(flat.size):
            saved = flat[j]
            flat[j] = saved + eps / 2
            plus = _evaluate(fn, inputs).data.astype(np.float64).ravel()
            flat[j] = saved - eps / 2
            minus = _evaluate(fn, inputs).data.astype(np.float64).ravel()
            flat[j] = saved
            columns.append((plus - minus) / eps)
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def analytical_vjp(fn, inputs, upstream):
    """The gradients backward gives for `upstream . fn(inputs)`, one array per input."""
    for t in inputs:
        t.grad = None
    out = _evaluate(fn, inputs)
    if not out.requires_grad:
        return [np.zeros(t.shape) for t in inputs]
    out.backward(upstream.reshape(out.shape).astype(out.dtype))
    return [np.zeros(t.shape) if t.grad is None else t.grad.astype(np.float64) for t in inputs]


def _fresh_leaves(inputs):
    """Copies of the inputs as leaves, so checking never touches the caller's tensors."""
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    leaves = []
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(t).__name__}, expected a Tensor")
        leaves.append(Tensor(t.data.copy(), requires_grad=t.requires_grad))
        if t.requires_grad and t.dtype != np.float64:
            warnings.warn(f"gradcheck: input {i} is {t.dtype}; finite differences need "
                          f"float64 and will likely fail", stacklevel=3)
    return tuple(leaves)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, mode="full", n_directions=8,
              seed=None, raise_exception=True):
    """Check backward against central differences for every input that requires grad.

    Passes where `|analytic - numeric| <= atol + rtol * |numeric|` elementwise (full) or
    per direction (random, with atol scaled by `|u|_1 |v|_1`, the bound of u^T(A-B)v).
    Returns True; on failure raises GradcheckError naming the input, the element or
    direction, both values and the error, or returns False if `raise_exception=False`.
    """
    if mode not in ("full", "random"):
        raise ValueError(f"gradcheck: mode must be 'full' or 'random', got {mode!r}")
    leaves = _fresh_leaves(inputs)
    rng = np.random.default_rng(seed)
    n_out = _evaluate(fn, leaves).numel()
    failure = None
    for i, leaf in enumerate(leaves):
        if not leaf.requires_grad or failure:
            continue
        if mode == "full":
            failure = _check_full(fn, leaves, i, n_out, eps, atol, rtol, rng)
        else:
            failure = _check_random(fn, leaves, i, n_out, eps, atol, rtol, rng, n_directions)
    if failure is None:
        return True
    if raise_exception:
        raise GradcheckError(failure)
    return False


def _check_full(fn, leaves, i, n_out, eps, atol, rtol, rng):
    numeric = numerical_jacobian(fn, leaves, i, eps)
    analytic = np.empty_like(numeric)
    for row in range(n_out):
        one_hot = np.zeros(n_out)
        one_hot[row] = 1.0
        analytic[row] = analytical_vjp(fn, leaves, one_hot)[i].ravel()
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if excess.size == 0 or excess.max() <= 0:
        return None
    row, col = np.unravel_index(np.argmax(excess), excess.shape)
    element = np.unravel_index(col, leaves[i].shape)
    return (f"gradcheck failed for input {i} (shape {leaves[i].shape}) at element "
            f"{tuple(map(int, element))}, output element {int(row)}: analytic (backward) "
            f"{analytic[row, col]:.10g}, numeric (finite differences) {numeric[row, col]:.10g}, "
            f"error {abs(analytic[row, col] - numeric[row, col]):.3g} "
            f"(atol {atol}, rtol {rtol}); {int((excess > 0).sum())} of {excess.size} "
            f"Jacobian entries disagree")


def _check_random(fn, leaves, i, n_out, eps, atol, rtol, rng, n_directions):
    x = leaves[i].data
    for k in range(n_directions):
        u = rng.standard_normal(n_out)
        v = rng.standard_normal(x.shape)
        u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
        analytic = float(np.sum(analytical_vjp(fn, leaves, u)[i] * v))
        saved = x.copy()
        with no_grad():
            x[...] = saved + v * (eps / 2)
            plus = _evaluate(fn, leaves).data.astype(np.float64).ravel()
            x[...] = saved - v * (eps / 2)
            minus = _evaluate(fn, leaves).data.astype(np.float64).ravel()
            x[...] = saved
        numeric = float(u @ ((plus - minus) / eps))
        tolerance = atol * np.abs(u).sum() * np.abs(v).sum() + rtol * abs(numeric)
        if abs(analytic - numeric) > tolerance:
            return (f"gradcheck (random directions) failed for input {i} (shape {x.shape}) "
                    f"along direction {k} (seeded u over the output, v over the input): "
                    f"analytic u^T J v {analytic:.10g}, numeric {numeric:.10g}, error "
                    f"{abs(analytic - numeric):.3g} > tolerance {tolerance:.3g}")
    return None
