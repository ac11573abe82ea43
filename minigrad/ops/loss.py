"""Softmax family and losses. Each is fused where the fused gradient is simpler than the
chain of primitives (softmax + log + gather would store three intermediates)."""
import numpy as np

from ..tensor import Function


class LogSoftmax(Function):
    """log softmax(a) along `axis`, via log-sum-exp with the max subtracted (no overflow).

    backward: g - softmax(a) * sum(g).
    """

    def forward(self, a, axis):
        self.axis = axis
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (out,) = self.saved_tensors
        return grad - np.exp(out) * grad.sum(axis=self.axis, keepdims=True)


def log_softmax(a, axis=-1):
    return LogSoftmax.apply(a, axis=axis)


class Softmax(Function):
    """softmax(a) = e^a / sum(e^a) along `axis`.  backward: s * (g - sum(g * s))."""

    def forward(self, a, axis):
        self.axis = axis
        e = np.exp(a - a.max(axis=axis, keepdims=True))
        out = e / e.sum(axis=axis, keepdims=True)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        (s,) = self.saved_tensors
        return s * (grad - (grad * s).sum(axis=self.axis, keepdims=True))


def softmax(a, axis=-1):
    return Softmax.apply(a, axis=axis)


# --- losses over classes: logits or log-probabilities as rows (M, C), targets (M,) ----------

def class_targets(target, n_classes, class_weight, ignore_index):
    """Check class indices and split off the ignored ones.

    Returns (target with ignored entries set to class 0, keep mask, class_weight[target] * keep).
    Shapes: target (M,) integers in [0, n_classes) or == ignore_index -> three (M,) arrays.
    """
    keep = target != ignore_index
    bad = keep & ((target < 0) | (target >= n_classes))
    if bad.any():
        raise ValueError(f"target: class index {target[bad][0]} is out of range for "
                         f"{n_classes} classes (ignore_index={ignore_index})")
    safe_target = np.where(keep, target, 0)
    return safe_target, keep, class_weight[safe_target] * keep


class CrossEntropy(Function):
    """Cross entropy of softmax(logits) against class indices, with class weights w and
    label smoothing e, per row (rows with keep=False give 0):
    loss = (1 - e) w[y] (-log p[y]) + e/C sum_c w[c] (-log p[c]),  log p = log_softmax(logits).

    Shapes: logits (M, C), target (M,) int, keep (M,) bool, class_weight (C,) -> (M,).
    backward: g (p ((1 - e) w[y] + e/C sum(w)) - (1 - e) w[y] onehot(y) - e/C w), per kept row;
    without weights and smoothing this is the familiar g (p - onehot(y)).
    """

    def forward(self, logits, target, keep, class_weight, label_smoothing):
        n_rows, n_classes = logits.shape
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(n_rows)
        target_weight = class_weight[target] * keep  # (M,)
        nll = -log_p[rows, target] * target_weight
        smooth = -(log_p @ class_weight) * keep  # sum_c w[c] (-log p[c]), (M,)
        self.save_for_backward(log_p, target, keep, target_weight, class_weight)
        self.label_smoothing = label_smoothing
        return (1 - label_smoothing) * nll + (label_smoothing / n_classes) * smooth

    def backward(self, grad):
        log_p, target, keep, target_weight, class_weight = self.saved_tensors
        n_rows, n_classes = log_p.shape
        e = self.label_smoothing
        spread = (e / n_classes) * keep  # (M,): zero on ignored rows
        scale = (1 - e) * target_weight + spread * class_weight.sum()  # (M,)
        dlogits = np.exp(log_p) * scale[:, None]
        dlogits -= spread[:, None] * class_weight
        dlogits[np.arange(n_rows), target] -= (1 - e) * target_weight
        return dlogits * grad[:, None]


def cross_entropy(logits, target, keep, class_weight, label_smoothing=0.0):
    """Per-row cross entropy; see CrossEntropy and functional.cross_entropy."""
    return CrossEntropy.apply(logits, target=target, keep=keep, class_weight=class_weight,
                              label_smoothing=label_smoothing)


class NLLLoss(Function):
    """Negative log-likelihood per row: -w[y] * log_probs[y] (w[y] = 0 on ignored rows).

    Shapes: log_probs (M, C), target (M,) int, target_weight (M,) -> (M,).
    backward: -g w[y] at column y of each row, 0 elsewhere.
    """

    def forward(self, log_probs, target, target_weight):
        self.save_for_backward(target, target_weight)
        self.shape = log_probs.shape
        return -log_probs[np.arange(len(target)), target] * target_weight

    def backward(self, grad):
        target, target_weight = self.saved_tensors
        dlog_probs = np.zeros(self.shape, dtype=grad.dtype)
        dlog_probs[np.arange(len(target)), target] = -grad * target_weight
        return dlog_probs


def nll_loss(log_probs, target, target_weight):
    return NLLLoss.apply(log_probs, target=target, target_weight=target_weight)


# --- elementwise losses -------------------------------------------------------------------

def _softplus(z):
    """log(1 + e^z) without overflow: max(z, 0) + log1p(e^-|z|)."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


class BCEWithLogits(Function):
    """Binary cross entropy of sigmoid(x) against y, from the logits, elementwise:
    loss = w (pos_weight y softplus(-x) + (1 - y) softplus(x)), since -log sigmoid(x) =
    softplus(-x) and -log(1 - sigmoid(x)) = softplus(x); softplus never overflows.

    Shapes: x, y (any, the same); weight broadcasts to x; pos_weight broadcasts along the
    last axis -> like x.
    backward: dx = g w (pos_weight y (sigmoid(x) - 1) + (1 - y) sigmoid(x)),
    dy = g w (pos_weight softplus(-x) - softplus(x)).
    """

    def forward(self, x, y, weight, pos_weight):
        softplus_pos = _softplus(x)
        softplus_neg = softplus_pos - x  # softplus(-x) = softplus(x) - x
        self.save_for_backward(y, softplus_pos, softplus_neg)
        self.weight, self.pos_weight = weight, pos_weight
        return weight * (pos_weight * y * softplus_neg + (1 - y) * softplus_pos)

    def backward(self, grad):
        y, softplus_pos, softplus_neg = self.saved_tensors
        g = grad * self.weight
        dx = dy = None
        if self.needs_input_grad[0]:
            sig = np.exp(-softplus_neg)  # sigmoid(x) = exp(-softplus(-x)), never overflows
            dx = g * (self.pos_weight * y * (sig - 1) + (1 - y) * sig)
        if self.needs_input_grad[1]:
            dy = g * (self.pos_weight * softplus_neg - softplus_pos)
        return dx, dy


def binary_cross_entropy_with_logits(x, y, weight=1.0, pos_weight=1.0):
    return BCEWithLogits.apply(x, y, weight=weight, pos_weight=pos_weight)


class BinaryCrossEntropy(Function):
    """-w (t log p + (1 - t) log(1 - p)), each log clamped at -100 (PyTorch's guard for
    p = 0 or 1, which keeps the loss finite).

    Shapes: p, t (the same), w (broadcasts to p) -> like p.
    backward (PyTorch's): d/dp = g w (p - t) / max(p (1 - p), 1e-12);
    d/dt = g w (log(1 - p) - log p), unclamped (infinite at p = 0 or 1, as PyTorch).
    """

    def forward(self, p, t, weight):
        t = t.astype(p.dtype, copy=False)
        self.save_for_backward(p, t, weight)
        with np.errstate(divide="ignore"):
            log_p, log_1mp = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
        return -weight * (t * log_p + (1 - t) * log_1mp)

    def backward(self, grad):
        p, t, weight = self.saved_tensors
        grad = grad * weight
        grad_p = grad * (p - t) / np.maximum(p * (1 - p), 1e-12) \
            if self.needs_input_grad[0] else None
        grad_t = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                grad_t = grad * (np.log1p(-p) - np.log(p))
        return grad_p, grad_t


def binary_cross_entropy(p, t, weight):
    return BinaryCrossEntropy.apply(p, t, weight=weight)
