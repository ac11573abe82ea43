"""Training diagnostics: look inside a network while it trains, with the checks of the
course's debugging checklist.

* `Monitor(model)` hooks the model's layers and, inside `with monitor.record():`, collects
  what flows through them: the outputs (activations) on forward, the gradients of those
  outputs on backward, which ReLU units ever fire, and how far an optimiser step moves each
  parameter relative to its size.
* `initial_loss_check`, `overfit_one_batch` and `gradcheck_model` are the three checks to run
  before training: the loss at initialisation is ln C, the model can memorise one batch, and
  backward agrees with finite differences.
* The `plot_*` functions draw one figure each from a Monitor (or from its dicts).

The engine knows nothing of this module: it uses only the public hooks of `nn.Module`
(`register_forward_hook`, `register_backward_hook`) and reads `.data` of what they pass.
"""
import copy
from collections import namedtuple

import numpy as np

from . import functional as F
from . import nn, optim
from .gradcheck import GradcheckError, gradcheck
from .random import default_generator
from .tensor import Tensor, no_grad

Stats = namedtuple("Stats", ["mean", "std", "histogram", "fraction_zero", "fraction_saturated"])
Stats.__doc__ = """What one layer's values looked like over everything recorded.

`mean`, `std` (population std, ddof 0) and `fraction_zero` (values exactly 0) of all values;
`histogram` is `(counts, edges)` with len(edges) = len(counts) + 1; `fraction_saturated` is
the share of tanh outputs with |y| > 0.99 or sigmoid outputs outside [0.01, 0.99], None for
other layers and for gradients."""

BINS = 512  # fine enough for heavy-tailed gradients; a multiple of 4 (see _Summary)
SATURATION_MARGIN = 0.01  # a tanh or sigmoid output within this of a bound is saturated
RELU_FAMILY = (nn.ReLU, nn.ReLU6)  # outputs exactly 0 below the kink: a unit can die
DRAWN_BINS = 60  # about as many bars as a plot shows across its x axis
UPDATE_RATIO_RULE = 1e-3  # the rule of thumb for |dw| / |w| per step


class _Summary:
    """Running mean, std, zero count, saturation count and histogram of a stream of arrays.

    The histogram has BINS bins on [-r, r], r the smallest power of two > max |x| of the
    first batch. A later batch reaching r doubles r: neighbouring bins merge in pairs into the
    middle half of the new bins, so the counts stay exact (values lie strictly inside the
    range, so every bin is half-open, [a, b), before and after a merge). Non-finite values
    (an overflowed layer) count in the mean and std (which become inf or nan) but not in the
    histogram. Float arrays are read in their own precision (no float64 copy of a float32
    activation), with sums accumulated in float64.
    """

    def __init__(self, saturated=None):
        self.saturated = saturated  # values -> boolean mask, or None
        self.count = self.mean = self.m2 = 0.0
        self.zeros = self.n_saturated = 0
        self.counts = np.zeros(BINS, np.int64)
        self.half_width = None

    def add(self, values):
        v = np.asarray(values).ravel()
        if not np.issubdtype(v.dtype, np.floating):
            v = v.astype(np.float64)
        if v.size == 0:
            return
        # Chan et al.'s merge of (count, mean, sum of squared deviations) of two samples;
        # inf and nan (an overflowed layer) propagate into them without a warning
        with np.errstate(invalid="ignore", over="ignore"):
            batch_mean = v.mean(dtype=np.float64)
            deviations = v - v.dtype.type(batch_mean)
            batch_m2 = np.square(deviations, out=deviations).sum(dtype=np.float64)
            total = self.count + v.size
            delta = batch_mean - self.mean
            self.m2 += batch_m2 + delta ** 2 * self.count * v.size / total
            self.mean += delta * v.size / total
        self.count = total
        self.zeros += int(np.count_nonzero(v == 0))
        if self.saturated is not None:
            self.n_saturated += int(np.count_nonzero(self.saturated(v)))
        smallest, largest = v.min(), v.max()  # nan if any value is nan
        if not (np.isfinite(smallest) and np.isfinite(largest)):
            v = v[np.isfinite(v)]
            if v.size == 0:
                return
            smallest, largest = v.min(), v.max()
        self._add_to_histogram(v, max(-float(smallest), float(largest)))

    def _add_to_histogram(self, finite, largest):
        if self.half_width is None:
            self.half_width = 2.0 ** (np.floor(np.log2(largest)) + 1) if largest > 0 else 1.0
        while largest >= self.half_width:
            merged = np.zeros_like(self.counts)
            merged[BINS // 4: 3 * BINS // 4] = self.counts.reshape(-1, 2).sum(axis=1)
            self.counts, self.half_width = merged, 2 * self.half_width
        # bin i covers [(i - BINS/2) w, (i - BINS/2 + 1) w) with w = 2r / BINS a power of
        # two: v / w is exact, and its floor is the bin (np.histogram, which cannot assume
        # this, costs several times more)
        scale = finite.dtype.type(BINS / (2 * self.half_width))
        bins = np.floor(finite * scale).astype(np.intp) + BINS // 2
        self.counts += np.bincount(bins, minlength=BINS)

    def stats(self):
        edges = np.linspace(-self.half_width, self.half_width, BINS + 1)
        return Stats(mean=float(self.mean), std=float(np.sqrt(self.m2 / self.count)),
                     histogram=(self.counts.copy(), edges),
                     fraction_zero=self.zeros / self.count,
                     fraction_saturated=(None if self.saturated is None
                                         else self.n_saturated / self.count))


def _saturation_test(module):
    """The mask of saturated outputs of a tanh or sigmoid module; None for other modules."""
    if isinstance(module, nn.Tanh):
        return lambda y: np.abs(y) > 1 - SATURATION_MARGIN
    if isinstance(module, nn.Sigmoid):
        return lambda y: (y < SATURATION_MARGIN) | (y > 1 - SATURATION_MARGIN)
    return None


def _tensors(output):
    """The Tensors a module returned (one, or those in a returned tuple or list)."""
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    return [out for out in outputs if isinstance(out, Tensor)]


class Monitor:
    """Hooks on a model's layers that record, inside `with monitor.record():`, every
    forward and backward through them; recording more batches accumulates.

    `modules`: a module class or tuple of classes to watch (e.g. `nn.ReLU`), default every
    leaf module (one with no children). Layers are named as in `model.named_modules()`.
    A module called several times per forward (a ResNet block's shared ReLU) pools its calls.

    The hooks only read: outputs and gradients are the same, bit for bit, with and without a
    Monitor. Outside `record()` they return at once. `remove()` (or leaving a
    `with Monitor(model) as monitor:` block) takes them off the model.
    """

    def __init__(self, model, modules=None):
        if not isinstance(model, nn.Module):
            raise TypeError(f"Monitor: model must be an nn.Module, got {type(model).__name__}")
        classes = (modules,) if isinstance(modules, type) else modules
        if modules is not None and not (isinstance(classes, tuple) and classes
                                        and all(isinstance(c, type) for c in classes)):
            raise TypeError(f"Monitor: modules must be a module class or a tuple of classes, "
                            f"got {modules!r}")
        self.model = model
        self.recording = False
        self._activations, self._gradients = {}, {}  # layer name -> _Summary
        self._ever_active = {}  # ReLU layer name -> {number of units: bool array}
        self._update_history = []  # one {parameter name: |dw| / |w|} per stepping block
        self._handles = []
        watched = [(name or type(module).__name__, module)
                   for name, module in model.named_modules()
                   if (isinstance(module, classes) if modules is not None
                       else next(iter(module.children()), None) is None)]
        if not watched:
            raise ValueError(f"Monitor: the model has no module of type {modules!r}")
        for name, module in watched:
            self._handles.append(module.register_forward_hook(self._forward_hook(name, module)))
            self._handles.append(module.register_backward_hook(self._backward_hook(name, module)))
        self.layers = [name for name, _ in watched]

    # The hooks are closures, not bound methods: copy.deepcopy (gradcheck_model's copy of the
    # model) shares functions rather than copying them, and `module is watched` makes the
    # hooks on such a copy do nothing.
    def _forward_hook(self, name, watched):
        def record_output(module, inputs, output):
            if not self.recording or module is not watched:
                return None
            for out in _tensors(output):
                if name not in self._activations:
                    self._activations[name] = _Summary(_saturation_test(module))
                self._activations[name].add(out.data)
                if isinstance(module, RELU_FAMILY):
                    self._mark_active(name, out.data)
            return None
        return record_output

    def _backward_hook(self, name, watched):
        def record_gradient(module, grad_output):
            if self.recording and module is watched:
                self._gradients.setdefault(name, _Summary()).add(grad_output)
            return None
        return record_gradient

    def _mark_active(self, name, output):
        # a unit is dimension 1 of the output: a conv map's channel, a linear layer's feature
        positive = output > 0
        if output.ndim > 1:
            positive = np.moveaxis(positive, 1, 0).reshape(output.shape[1], -1).any(axis=1)
        units = positive.size
        seen = self._ever_active.setdefault(name, {})
        seen[units] = seen[units] | positive if units in seen else positive

    def record(self):
        """Context manager: record every forward and backward inside the block. If the block
        moves the parameters (an optimiser step), their |dw| / |w| are kept as one entry of
        the update-ratio history."""
        return _Recording(self)

    def remove(self):
        """Take the monitor's hooks off the model (what was recorded stays readable)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def activation_stats(self):
        """{layer name: Stats} of the layers' outputs over everything recorded."""
        return _in_model_order(self.layers, self._activations)

    def gradient_stats(self):
        """{layer name: Stats} of the gradients of the layers' outputs (dloss/doutput)."""
        return _in_model_order(self.layers, self._gradients)

    def dead_fraction(self):
        """{ReLU layer name: fraction of its units never active (output > 0) on any example
        recorded}. A unit is a channel of a conv feature map or a feature of a linear layer:
        a dead unit passes no gradient, so nothing before it learns through it. (LeakyReLU
        is left out: its negative side passes a gradient, so it cannot die.)"""
        return {name: sum(int((~active).sum()) for active in seen.values())
                / sum(active.size for active in seen.values())
                for name, seen in self._ever_active.items()}

    def update_ratios(self, history=False):
        """{parameter name: |dw| / |w|} of the last record() block that moved the parameters
        (Frobenius norms, w before the step; nan where w was all zero). With `history=True`,
        {parameter name: array of one ratio per such block}. Around 1e-3 is healthy."""
        if history:
            names = self._update_history[0] if self._update_history else {}
            return {name: np.array([ratios[name] for ratios in self._update_history])
                    for name in names}
        return dict(self._update_history[-1]) if self._update_history else {}


def _in_model_order(layers, summaries):
    # backward reaches the layers last to first; reports list them as the model does
    return {name: summaries[name].stats() for name in layers if name in summaries}


class _Recording:
    """The context manager `Monitor.record()` returns."""

    def __init__(self, monitor):
        self.monitor = monitor

    def __enter__(self):
        monitor = self.monitor
        if not monitor._handles:
            raise RuntimeError("Monitor.record: the monitor was removed; make a new one")
        if monitor.recording:
            raise RuntimeError("Monitor.record: already recording (record() blocks cannot nest)")
        self.before = {name: p.data.copy() for name, p in monitor.model.named_parameters()}
        monitor.recording = True
        return monitor

    def __exit__(self, *exc):
        monitor = self.monitor
        monitor.recording = False
        params = dict(monitor.model.named_parameters())
        steps = {name: np.linalg.norm(params[name].data - w) for name, w in self.before.items()}
        if any(step > 0 for step in steps.values()):
            sizes = {name: np.linalg.norm(w) for name, w in self.before.items()}
            monitor._update_history.append(
                {name: float(step / sizes[name]) if sizes[name] > 0 else float("nan")
                 for name, step in steps.items()})


# --- checks before training ----------------------------------------------------------------
def _tensor(value):
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value))


def initial_loss_check(model, inputs, targets, rtol=0.1):
    """The cross-entropy of the untrained model against ln C, C its number of classes.

    With no knowledge yet, a classifier should spread its belief evenly: softmax output 1/C
    for every class, loss -ln(1/C) = ln C. Much higher means confidently wrong logits at the
    start (weights or output bias too large). Runs on a copy in the model's current mode,
    without gradients (the model, its BatchNorm statistics included, is not changed).

    Shapes: inputs whatever the model takes; logits (N, C, ...); targets (N, ...) class
    indices. Returns {"loss", "expected", "ok"}, ok when |loss - ln C| <= rtol * ln C.
    """
    with no_grad():
        logits = copy.deepcopy(model)(_tensor(inputs))
        if not isinstance(logits, Tensor) or logits.ndim < 2 or logits.shape[1] < 2:
            raise ValueError(f"initial_loss_check: the model must return logits of shape "
                             f"(N, C, ...) with C >= 2 classes, got "
                             f"{getattr(logits, 'shape', type(logits).__name__)}")
        loss = F.cross_entropy(logits, _tensor(targets)).item()
    expected = float(np.log(logits.shape[1]))
    return {"loss": loss, "expected": expected, "ok": abs(loss - expected) <= rtol * expected}


def overfit_one_batch(model, inputs, targets, steps=200, lr=1e-2, loss_fn=F.cross_entropy,
                      threshold=0.05):
    """Can the model memorise one small batch? Train a copy of it with Adam(lr) for `steps`
    full-batch steps on (inputs, targets). A working model, loss and optimiser drive the
    loss to ~0; if not, look for a bug before tuning anything.

    Returns {"losses": array (steps,), the loss before each step, "final_loss", "ok"}, ok
    when the final loss is below `threshold`. The model is not changed.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"overfit_one_batch: steps must be a positive int, got {steps!r}")
    model = copy.deepcopy(model)
    inputs, targets = _tensor(inputs), _tensor(targets)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with no_grad():
        final = loss_fn(model(inputs), targets).item()
    return {"losses": np.array(losses), "final_loss": final, "ok": bool(final < threshold)}


def gradcheck_model(model, inputs, targets, loss_fn, directions=4, eps=1e-6, atol=1e-5,
                    rtol=1e-3, seed=0, raise_exception=True):
    """Check the gradient of `loss_fn(model(inputs), targets)` with respect to every
    parameter against finite differences, as `mg.gradcheck(mode="random")` does: along
    `directions` random unit directions v per parameter tensor, the directional derivative
    g . v from backward against (L(w + eps/2 v) - L(w - eps/2 v)) / eps.

    Runs in float64 on a deep copy (the model is not changed), in the model's current mode.
    The random generator is rewound before every forward, so dropout draws the same mask
    each time (a function finite differences can check) and the caller's random stream is
    left where it was. Returns True; on a
    disagreement raises GradcheckError naming the parameter, the direction, both values and
    the error (or returns False with `raise_exception=False`).
    """
    if not isinstance(directions, int) or directions < 1:
        raise ValueError(f"gradcheck_model: directions must be a positive int, got "
                         f"{directions!r}")
    model = copy.deepcopy(model).double()
    inputs = _tensor(inputs)
    if np.issubdtype(inputs.dtype, np.floating):
        inputs = Tensor(inputs.data.astype(np.float64))
    targets = _tensor(targets)
    rng = np.random.default_rng(seed)
    random_state = default_generator.get_state()
    for name, param in list(model.named_parameters()):
        if not param.requires_grad:
            continue
        owner_name, _, attribute = name.rpartition(".")
        owner = model.get_submodule(owner_name)

        def loss_of(weight):
            setattr(owner, attribute, weight)  # gradcheck's copy of the parameter, a leaf
            default_generator.set_state(random_state)
            return loss_fn(model(inputs), targets)

        try:
            gradcheck(loss_of, (param,), eps=eps, atol=atol, rtol=rtol, mode="random",
                      n_directions=directions, seed=rng.integers(2 ** 32))
        except GradcheckError as error:
            if raise_exception:
                raise GradcheckError(f"parameter {name!r}: {error}") from None
            return False
        finally:
            setattr(owner, attribute, param)
            default_generator.set_state(random_state)
    return True


# --- plots -----------------------------------------------------------------------------------
def _stats_of(source, method):
    return getattr(source, method)() if isinstance(source, Monitor) else source


def _bulk_range(histograms, tail=1e-3):
    """The x range holding all but a `tail` share at each end of every histogram's counts,
    padded by 5 %: a few outliers would otherwise squeeze every row into a spike."""
    lows, highs = [], []
    for counts, edges in histograms:
        cumulative = np.cumsum(counts) / max(counts.sum(), 1)
        lows.append(edges[np.searchsorted(cumulative, tail)])
        highs.append(edges[np.searchsorted(cumulative, 1 - tail) + 1])
    pad = 0.05 * (max(highs) - min(lows))
    return min(lows) - pad, max(highs) + pad


def _merge_bins(counts, edges, visible, drawn=DRAWN_BINS):
    """The histogram with groups of 2^k neighbouring bins merged, so that about `drawn` bins
    (at least) fall in a `visible` width of the x axis: bars a reader can see."""
    group = min(2 ** int(np.log2(max(visible / (edges[1] - edges[0]) / drawn, 1))), BINS)
    return counts.reshape(-1, group).sum(axis=1), edges[::group]


def _plot_histograms(stats, layers, axes, title, xlabel):
    import matplotlib.pyplot as plt

    layers = list(stats) if layers is None else list(layers)
    missing = [name for name in layers if name not in stats]
    if missing or not layers:
        raise ValueError(f"{title}: no record of layers {missing or layers}; recorded: "
                         f"{list(stats)}")
    new_figure = axes is None
    if new_figure:
        fig, axes = plt.subplots(len(layers), 1, sharex=True, squeeze=False,
                                 figsize=(7, 0.9 + 0.75 * len(layers)))
        axes = axes[:, 0]
        fig.suptitle(title)
    elif len(axes) != len(layers):
        raise ValueError(f"{title}: axes must hold one Axes per layer ({len(layers)}), got "
                         f"{len(axes)}")
    low, high = _bulk_range([stats[name].histogram for name in layers])
    for ax, name in zip(axes, layers):
        s = stats[name]
        ax.set_xlim(low, high)
        counts, edges = _merge_bins(*s.histogram, visible=high - low)
        ax.stairs(counts / max(counts.sum(), 1), edges, fill=True, color="C0")
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
        note = f"mean {s.mean:.2g}  std {s.std:.2g}  zero {s.fraction_zero:.0%}"
        if s.fraction_saturated is not None:
            note += f"  saturated {s.fraction_saturated:.0%}"
        ax.text(0.99, 0.9, note, transform=ax.transAxes, ha="right", va="top", fontsize=7)
    if new_figure:
        axes[-1].set_xlabel(xlabel)
        fig.tight_layout()
    return axes[0].figure


def plot_activation_histograms(source, layers=None, axes=None):
    """One histogram per layer of its outputs, rows sharing one x axis (a layer whose signal
    shrinks is narrow on the page; the axis spans all but the outer 0.1 % at each end of
    every row), each annotated with its mean, std, share of zeros and of
    saturated units. `source`: a Monitor or its activation_stats(); `layers`: the names to
    draw (default all, in model order); `axes`: one Axes per layer to draw into (default a
    new pyplot figure; close it with plt.close(fig) in a script). Returns the Figure."""
    return _plot_histograms(_stats_of(source, "activation_stats"), layers, axes,
                            "Activations: each layer's outputs", "output value")


def plot_gradient_histograms(source, layers=None, axes=None):
    """As plot_activation_histograms, for the gradients of the layers' outputs: vanishing
    gradients are the narrow rows near the input, exploding ones the wide rows."""
    return _plot_histograms(_stats_of(source, "gradient_stats"), layers, axes,
                            "Gradients: dloss/d(each layer's output)", "gradient value")


def plot_dead_units(source, ax=None):
    """A bar per ReLU layer: the fraction of its units that never fired. `source`: a Monitor
    or its dead_fraction(); `ax`: where to draw (default a new figure). Returns the Figure."""
    import matplotlib.pyplot as plt

    fractions = _stats_of(source, "dead_fraction")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.8 + 0.35 * max(len(fractions), 1)))
    names = list(fractions)[::-1]  # the first layer on top
    ax.barh(names, [fractions[name] for name in names], color="C3")
    for row, name in enumerate(names):
        ax.text(min(fractions[name] + 0.01, 0.9), row, f"{fractions[name]:.0%}", va="center",
                fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("fraction of units never active (dead)")
    ax.set_title("Dead ReLU units over everything recorded")
    ax.figure.tight_layout()
    return ax.figure


def plot_update_ratios(source, parameters=None, ax=None):
    """|dw| / |w| of each parameter per record() block (optimiser step), log scale, with the
    1e-3 rule of thumb dashed: far above it the steps are too large (lower the learning
    rate), far below it the parameter hardly learns. `source`: a Monitor or its
    update_ratios(history=True); `parameters`: names to draw (default: every parameter in a
    dict; for a Monitor, its weight matrices and kernels, leaving out biases and norm
    scales: a bias that starts at zero has no size to compare a step with); `ax`: where to
    draw (default a new figure). Returns the Figure."""
    import matplotlib.pyplot as plt

    if isinstance(source, Monitor):
        history = source.update_ratios(history=True)
        if parameters is None:
            parameters = [name for name, p in source.model.named_parameters()
                          if p.ndim > 1 and name in history]
    else:
        history = source
    names = list(history) if parameters is None else list(parameters)
    unknown = [name for name in names if name not in history]
    if unknown:
        raise ValueError(f"plot_update_ratios: no update ratios of parameters {unknown}; "
                         f"recorded: {list(history)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.8))
    colours = plt.cm.viridis(np.linspace(0, 0.9, max(len(names), 1)))
    for colour, name in zip(colours, names):
        ratios = history[name]
        ax.plot(np.arange(1, len(ratios) + 1), ratios, color=colour, linewidth=1,
                marker="." if len(ratios) < 30 else None, label=name)
    ax.axhline(UPDATE_RATIO_RULE, color="black", linestyle="--", linewidth=1,
               label="rule of thumb 1e-3")
    ax.set_yscale("log")
    ax.set_xlabel("step (record() block)")
    ax.set_ylabel("|Δw| / |w|")
    ax.set_title("Update size relative to the weights")
    if len(names) <= 12:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    else:
        ax.text(0.01, 0.02, "colour: first parameter (dark) to last (yellow)",
                transform=ax.transAxes, fontsize=7)
    ax.figure.tight_layout()
    return ax.figure
