"""The catalog of differentiable ops: one small float64 example per op.

`python -m minigrad demo` gradchecks every entry and prints the table; the test suite
runs the same entries (tests/test_catalog.py). An op family adds its entries here, so
"every op is gradchecked" is a fact the demo shows rather than a promise.
"""
from dataclasses import dataclass, field

import numpy as np

from .gradcheck import analytical_vjp, gradcheck, numerical_jacobian
from .ops import (concatenate, log_softmax, maximum, minimum, pad, softmax, stack,
                  where)
from . import functional as _F
from . import ops as _ops
from .vision import roi as _roi
from .tensor import Tensor


@dataclass
class Case:
    """One op example: `fn(*tensors)` on inputs of `shapes`, drawn by `make_inputs`."""
    name: str
    fn: callable
    shapes: tuple
    low: float = -2.0
    high: float = 2.0
    positive: bool = False  # inputs in [0.5, high]: for log, sqrt, pow's base
    distinct: bool = False  # well-separated values: for max, min, sort-like ops
    mode: str = "full"
    extra: dict = field(default_factory=dict)

    def make_inputs(self, seed=0):
        rng = np.random.default_rng(seed)
        inputs = []
        for shape in self.shapes:
            size = int(np.prod(shape))
            if self.distinct:
                values = rng.permutation(size) * 0.5 + rng.uniform(0, 0.1, size) - size / 4
            elif self.positive:
                values = rng.uniform(0.5, self.high, size)
            else:
                values = rng.uniform(self.low, self.high, size)
                values += np.sign(values) * 0.05  # away from kinks at 0 (relu, abs)
            inputs.append(Tensor(values.reshape(shape), requires_grad=True))
        return tuple(inputs)

    def check(self, seed=0):
        """(max |analytic - numeric| over the Jacobian, passed?)."""
        inputs = self.make_inputs(seed)
        passed = gradcheck(self.fn, inputs, mode=self.mode, seed=seed, raise_exception=False)
        return _max_error(self.fn, inputs), passed


CASES = []


def case(name, *shapes, **options):
    """Decorator: register `fn` as the example for op `name` on inputs of `shapes`."""
    def register(fn):
        CASES.append(Case(name, fn, shapes, **options))
        return fn
    return register


def _max_error(fn, inputs):
    """The largest |analytic - numeric| entry over all inputs' Jacobians (for the table)."""
    leaves = tuple(Tensor(t.data.copy(), requires_grad=True) for t in inputs)
    n_out = fn(*leaves).numel()
    worst = 0.0
    for i in range(len(leaves)):
        numeric = numerical_jacobian(fn, leaves, i)
        for row in range(n_out):
            one_hot = np.zeros(n_out)
            one_hot[row] = 1.0
            analytic = analytical_vjp(fn, leaves, one_hot)[i].ravel()
            worst = max(worst, float(np.abs(analytic - numeric[row]).max(initial=0.0)))
    return worst


# --- elementwise --------------------------------------------------------------------------
case("add (broadcast)", (3, 4), (4,))(lambda a, b: a + b)
case("sub (broadcast)", (3, 1), (1, 4))(lambda a, b: a - b)
case("mul (broadcast)", (2, 3), (3,))(lambda a, b: a * b)
case("div", (2, 3), (2, 3), positive=True)(lambda a, b: a / b)
case("pow", (2, 3), (2, 3), positive=True)(lambda a, b: a ** b)
case("neg", (2, 3))(lambda a: -a)
case("exp", (2, 3))(lambda a: a.exp())
case("log", (2, 3), positive=True)(lambda a: a.log())
case("sqrt", (2, 3), positive=True)(lambda a: a.sqrt())
case("abs", (2, 3))(lambda a: a.abs())
case("clip", (2, 3))(lambda a: a.clip(-1.0, 1.0))
case("relu", (2, 3))(lambda a: a.relu())
case("sigmoid", (2, 3))(lambda a: a.sigmoid())
case("tanh", (2, 3))(lambda a: a.tanh())
case("maximum", (2, 3), (2, 3), distinct=True)(lambda a, b: maximum(a, b))
case("minimum", (2, 3), (2, 3), distinct=True)(lambda a, b: minimum(a, b))
case("where", (2, 3), (2, 3))(lambda a, b: where(a.data > 0, a, b))


# --- reductions ---------------------------------------------------------------------------
case("sum (dim)", (2, 3, 4))(lambda a: a.sum(dim=(0, 2)))
case("mean (keepdim)", (2, 3, 4))(lambda a: a.mean(dim=1, keepdim=True))
case("var (unbiased)", (3, 4))(lambda a: a.var(dim=0))
case("std (correction=0)", (3, 4))(lambda a: a.std(dim=1, correction=0))
case("amax (dim)", (3, 4), distinct=True)(lambda a: a.amax(dim=1))
case("max (dim): values", (3, 4), distinct=True)(lambda a: a.max(dim=0).values)
case("min", (3, 4), distinct=True)(lambda a: a.min())
case("prod", (3, 4))(lambda a: a.prod(dim=1))
case("norm", (3, 4))(lambda a: a.norm(dim=0))
case("logsumexp", (3, 4))(lambda a: a.logsumexp(dim=1))
case("cumsum", (3, 4))(lambda a: a.cumsum(dim=1))
case("topk: values", (3, 5), distinct=True)(lambda a: a.topk(2, dim=1).values)

def _assigned(a, b):
    """a with row 1 replaced by b, through `t[index] = value` on a copy (an in-place op)."""
    out = a * 1.0
    out[1] = b
    return out


# --- movement -----------------------------------------------------------------------------
case("reshape", (2, 6))(lambda a: a.reshape(3, 4) * np.arange(12.0).reshape(3, 4))
case("permute", (2, 3, 4))(lambda a: a.permute(2, 0, 1))
case("transpose", (2, 3, 4))(lambda a: a.transpose(0, 2))
case("expand", (3, 1))(lambda a: a.expand(2, 3, 4))
case("repeat", (2, 3))(lambda a: a.repeat(2, 1, 2))
case("flip", (3, 4))(lambda a: a.flip(0, 1))
case("gather (repeated indices)", (3, 4))(
    lambda a: a.gather(1, np.array([[0, 0], [3, 1], [2, 2]])))
case("chunk", (2, 6))(lambda a: a.chunk(3, dim=1)[1])
case("clone", (2, 3))(lambda a: a.clone())
case("setitem", (3, 4), (4,))(lambda a, b: _assigned(a, b))
case("flatten", (2, 3, 4))(lambda a: a.flatten(1))
case("squeeze/unsqueeze", (2, 1, 3))(lambda a: a.squeeze(1).unsqueeze(0))
case("getitem (slice)", (4, 5))(lambda a: a[1:3, ::2])
case("getitem (repeated indices)", (5,))(lambda a: a[np.array([0, 2, 2, 4, 0])])
case("concatenate", (2, 3), (4, 3))(lambda a, b: concatenate([a, b], axis=0))
case("stack", (2, 3), (2, 3))(lambda a, b: stack([a, b], axis=1))
case("pad", (2, 3))(lambda a: pad(a, ((1, 0), (2, 1))))


# --- linear algebra and softmax -----------------------------------------------------------
case("matmul (batched)", (2, 3, 4), (4, 5))(lambda a, b: a @ b)
case("matmul (vector)", (4,), (3, 4, 2))(lambda a, b: a @ b)
case("softmax", (3, 4))(lambda a: softmax(a, axis=-1))
case("log_softmax", (3, 4))(lambda a: log_softmax(a, axis=0))


# --- activations --------------------------------------------------------------------------
case("leaky_relu", (2, 3))(lambda a: _ops.leaky_relu(a, negative_slope=0.2))
case("gelu", (2, 3), low=-3.0, high=3.0)(lambda a: _ops.gelu(a))


# --- convolution --------------------------------------------------------------------------
from .ops.conv import conv2d, conv_transpose2d  # noqa: E402

case("conv2d (stride 2, padding 1, bias)", (2, 2, 5, 5), (3, 2, 3, 3), (3,))(
    lambda x, w, b: conv2d(x, w, b, stride=2, padding=1))
case("conv2d (groups 2, dilation 2, 2x3 kernel)", (1, 4, 5, 6), (4, 2, 2, 3))(
    lambda x, w: conv2d(x, w, padding=(1, 0), dilation=2, groups=2))
case("conv2d (depthwise, padding 'same')", (2, 2, 4, 4), (4, 1, 3, 3), (4,))(
    lambda x, w, b: conv2d(x, w, b, padding="same", groups=2))
case("conv_transpose2d (stride 2, output_padding 1)", (1, 2, 3, 3), (2, 3, 3, 3), (3,))(
    lambda x, w, b: conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1))


# --- normalizations and losses ------------------------------------------------------------
_RUNNING_MEAN, _RUNNING_VAR = np.array([0.3, -0.2, 0.1]), np.array([0.5, 1.5, 2.0])
_TARGETS = np.array([[2, 0], [-100, 3], [1, 1]])  # (N, H) classes of 4; one ignored
case("batch_norm (training)", (4, 3, 2), (3,), (3,))(
    lambda x, w, b: _F.batch_norm(x, None, None, w, b, training=True))
case("batch_norm (evaluation)", (2, 3, 2), (3,), (3,))(
    lambda x, w, b: _F.batch_norm(x, _RUNNING_MEAN, _RUNNING_VAR, w, b))
case("layer_norm", (2, 2, 3), (2, 3), (2, 3))(lambda x, w, b: _F.layer_norm(x, (2, 3), w, b))
case("instance_norm", (2, 3, 4), (3,), (3,))(lambda x, w, b: _F.instance_norm(x, None, None, w, b))
case("group_norm", (2, 4, 3), (4,), (4,))(lambda x, w, b: _F.group_norm(x, 2, w, b))
case("scale_shift (parameters along axes 1 and 2)", (2, 3, 2, 2), (3, 2), (3, 2))(
    lambda x, w, b: _ops.scale_shift(x, w, b, 1))
case("cross_entropy (per pixel, weights, smoothing)", (3, 4, 2))(
    lambda x: _F.cross_entropy(x, _TARGETS, weight=np.array([1.0, 2.0, 0.5, 1.5]),
                               label_smoothing=0.1))
case("nll_loss", (3, 4, 2))(lambda x: _F.nll_loss(x, _TARGETS, reduction="sum"))
case("mse_loss", (2, 3), (2, 3))(lambda a, b: _F.mse_loss(a, b))
case("l1_loss", (2, 3), (2, 3), distinct=True)(lambda a, b: _F.l1_loss(a, b, reduction="sum"))
case("smooth_l1_loss", (2, 3), (2, 3))(lambda a, b: _F.smooth_l1_loss(a, b, beta=0.5))
case("binary_cross_entropy_with_logits", (2, 3), (2, 3), low=0.1, high=0.9)(
    lambda x, y: _F.binary_cross_entropy_with_logits(x * 5, y, pos_weight=np.array([1., 2., 3.])))


# --- pooling, unpooling and upsampling ----------------------------------------------------
_UNPOOL_INDICES = np.array([[[[5, 2], [12, 15]], [[0, 7], [9, 14]]]])  # (1, 2, 2, 2) of 4x4
case("max_pool2d (padding, dilation, ceil_mode)", (1, 2, 5, 6), distinct=True)(
    lambda x: _F.max_pool2d(x, 3, stride=2, padding=1, dilation=(1, 2), ceil_mode=True))
case("avg_pool2d (ceil_mode, count_include_pad=False)", (1, 2, 5, 6))(
    lambda x: _F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False))
case("adaptive_avg_pool2d (5x7 -> 3x4)", (1, 2, 5, 7))(
    lambda x: _F.adaptive_avg_pool2d(x, (3, 4)))
case("adaptive_max_pool2d (5x7 -> 3x4)", (1, 2, 5, 7), distinct=True)(
    lambda x: _F.adaptive_max_pool2d(x, (3, 4)))
case("max_unpool2d", (1, 2, 2, 2))(lambda x: _F.max_unpool2d(x, _UNPOOL_INDICES, 2))
case("interpolate (nearest, 3x4 -> 5x7)", (1, 2, 3, 4))(
    lambda x: _F.interpolate(x, size=(5, 7)))
case("interpolate (bilinear x2)", (1, 2, 3, 4))(
    lambda x: _F.interpolate(x, scale_factor=2, mode="bilinear"))
case("interpolate (bicubic, align_corners, 4x5 -> 3x7)", (1, 2, 4, 5))(
    lambda x: _F.interpolate(x, size=(3, 7), mode="bicubic", align_corners=True))


# --- vision: ROI Pool and ROI Align (minigrad/vision/roi.py) ------------------------------
_ROIS = np.array([[0, 0.6, 1.1, 4.3, 3.7], [1, -0.8, 0.5, 5.2, 4.9], [0, 2.0, 2.0, 2.0, 2.0]])
case("roi_pool (2x2 bins)", (2, 2, 5, 6), distinct=True)(
    lambda x: _roi.roi_pool(x, _ROIS, (2, 2)))
case("roi_align (adaptive sampling, legacy)", (2, 2, 5, 6))(
    lambda x: _roi.roi_align(x, _ROIS, (2, 3)))
case("roi_align (aligned, sampling_ratio=2, spatial_scale=0.5)", (2, 2, 5, 6))(
    lambda x: _roi.roi_align(x, _ROIS * [1, 2, 2, 2, 2], (3, 2), 0.5, 2, True))
