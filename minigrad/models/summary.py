"""summary(model, input_size): one table row per module call with its output shape,
parameters, mult-adds, output-size formula and receptive field (the torchinfo idea).

How each column is computed:
- Rows: forward hooks on every module record one row per call during a single forward
  under no_grad in eval mode (batch statistics would fail on a batch of one); the hooks
  are removed and every module's mode restored afterwards. A container's row precedes its
  submodules' rows, indented by depth.
- Params: each parameter is counted in the first row whose module holds it, so a shared
  parameter or module counts once and the column adds up to the totals; a container's row
  shows its subtree's count in parentheses, a subtotal not added again. Frozen parameters
  are those with requires_grad False. Modules the forward never calls get no row; their
  parameters are in the totals and the table says how many there are.
- Mult-adds (multiply-accumulates of conv and linear layers, biases not counted; every
  other layer counts 0): Conv2d N·Cout·Ho·Wo·(Cin/groups)·kH·kW; ConvTranspose2d
  N·Cin·H·W·(Cout/groups)·kH·kW (the adjoint's count: each input pixel is spread over a
  kH·kW window of Cout/groups maps); Linear N·out·in (times any extra leading dims).
- Output size: PyTorch's formula with the numbers filled in, ⌊(H + 2p − d·(k−1) − 1)/s⌋ + 1
  for Conv2d, MaxPool2d and AvgPool2d (d = 1; ⌈⌉ with ceil_mode, less one when the last
  window would start in the padding), (H − 1)·s − 2p + d·(k−1) + output_padding + 1 for
  ConvTranspose2d, (H − 1)·s − 2p + k for MaxUnpool2d, ⌊H·scale⌋ for Upsample; adaptive
  pools say "adaptive". One formula when H and W agree, else one per axis.
- Receptive field r and jump j (the distance between neighbouring outputs), in input
  pixels: every tensor a hook sees keeps its own (r, j), so parallel branches are followed
  separately. The input has r = j = 1; a window layer gives r_out = r_in + span·j_in and
  j_out = j_in·factor, with span = (k−1)·d and factor = s for conv and pools; for the
  adjoints of a strided window (ConvTranspose2d, MaxUnpool2d) span is the widest spread of
  input positions feeding one output and factor = 1/s; adaptive pools use their widest bin
  and factor H/Ho; Upsample spans its interpolation taps (nearest 1, bilinear 2, bicubic 4)
  with factor H/Ho. Other layers pass r and j through (the largest r of their inputs).
  Branches are joined by code between modules (torch.cat, a residual +), whose result no
  hook sees: such a tensor gets the largest r recorded so far (a concatenation or sum has
  the largest r of its parts, and the branch computed last is the deepest) and the jump of
  the latest recorded tensor of its height and width. Spatial ops called as functions
  (F.max_pool2d, F.interpolate) are not modelled.
"""
from dataclasses import dataclass
from fractions import Fraction
from functools import partial

import numpy as np

from ..dtypes import float32
from ..nn import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, Conv2d, ConvTranspose2d,
                  Linear, MaxPool2d, MaxUnpool2d, Module, Upsample)
from ..ops.conv import _pair
from ..tensor import Tensor, no_grad

_TAPS = {"linear": 2, "bilinear": 2, "bicubic": 4}  # input pixels per output pixel and axis


@dataclass
class Row:
    """One module call. `params` = `trainable + frozen`, the parameters first counted here;
    `subtree_*` include the submodules' (equal to the own counts for a leaf)."""

    name: str                 # dotted module name, "" for the model
    type: str
    depth: int
    output_shape: object      # a shape tuple, or a list of them for several outputs
    trainable: int
    frozen: int
    subtree_params: int
    mult_adds: int
    subtree_mult_adds: int
    formula: object           # the filled-in output-size formula (window layers), or None
    receptive_field: object   # (r_H, r_W) in input pixels, or None
    jump: object              # (j_H, j_W) in input pixels, or None
    is_container: bool

    @property
    def params(self):
        return self.trainable + self.frozen


@dataclass(frozen=True)
class _Field:
    """Receptive field `r` and jump `j` per axis (H, W) of a (N, C, H, W) tensor."""

    size: tuple
    r: tuple
    j: tuple


class ModelSummary:
    """What `summary` returns: `rows`, the totals as attributes, the table as `str()`."""

    def __init__(self, rows, total_params, trainable_params, total_mult_adds, input_sizes):
        self.rows = rows
        self.total_params = total_params
        self.trainable_params = trainable_params
        self.frozen_params = total_params - trainable_params
        self.total_mult_adds = total_mult_adds
        self.input_sizes = input_sizes
        self.params_not_run = total_params - sum(row.params for row in rows)

    def totals(self):
        """The totals lines under the table."""
        lines = [f"Total params: {self.total_params:,} (trainable {self.trainable_params:,}, "
                 f"frozen {self.frozen_params:,})",
                 f"Total mult-adds: {_engineering(self.total_mult_adds)} "
                 f"({self.total_mult_adds:,})",
                 "Input size: " + ", ".join(str(size) for size in self.input_sizes)]
        if self.params_not_run:
            lines.insert(1, f"of which in modules this forward did not run: "
                            f"{self.params_not_run:,}")
        return lines

    def __str__(self):
        header = ("Layer", "Type", "Output shape", "Params (trainable / frozen)", "Mult-adds",
                  "RF", "Jump", "Output size")
        table = [header] + [_cells(row) for row in self.rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
                 for line in table]
        rule = "=" * max(len(line) for line in lines)
        return "\n".join([rule, lines[0], rule, *lines[1:], rule, *self.totals(), rule])

    __repr__ = __str__


def summary(model, input_size, dtype=float32):
    """Run one forward of `model` on random input of `input_size` and tabulate every module.

    Shapes: `input_size` includes the batch, e.g. (1, 3, 224, 224); a list of sizes gives
    the model several inputs. Returns a ModelSummary (`rows`, `total_params`,
    `trainable_params`, `total_mult_adds`; `str()` is the table). How each column is
    computed is in this module's docstring.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: model must be an nn.Module, got {type(model).__name__}")
    sizes = _input_sizes(input_size)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"summary: dtype must be a floating dtype such as mg.float32, "
                        f"got {dtype!r}") from None
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"summary: dtype must be a floating dtype such as mg.float32, "
                        f"got {dtype}")
    rng = np.random.default_rng(0)  # its own generator: the global seed is left alone
    inputs = [Tensor(rng.standard_normal(size).astype(dtype)) for size in sizes]

    recorder = _Recorder()
    for tensor in inputs:
        if tensor.data.ndim == 4:
            recorder.record(tensor, _Field(tensor.data.shape[2:], (1, 1), (1, 1)))
    modes = [(module, module.training) for module in model.modules()]
    handles = [module.register_forward_hook(partial(recorder.hook, name))
               for name, module in model.named_modules()]
    try:
        model.eval()
        with no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            module.training = training
    params = list(model.parameters())
    return ModelSummary(recorder.rows, sum(p.data.size for p in params),
                        sum(p.data.size for p in params if p.requires_grad),
                        sum(row.mult_adds for row in recorder.rows), sizes)


class _Recorder:
    """The hooks' shared state: the rows so far, the parameters already counted, and the
    receptive field of every (N, C, H, W) tensor seen, kept alive so that ids stay unique."""

    def __init__(self):
        self.rows = []
        self.counted = set()
        self.fields = {}  # id(tensor) -> (tensor, _Field)
        self.order = []   # the _Fields in the order recorded

    def record(self, tensor, field):
        self.fields[id(tensor)] = (tensor, field)
        self.order.append(field)

    def field(self, tensor):
        """The tensor's receptive field; one no hook produced gets the rule for joins."""
        if id(tensor) in self.fields:
            return self.fields[id(tensor)][1]
        if not self.order:
            return None
        size = tensor.data.shape[2:]
        joined = _join(self.order)
        same_size = [field for field in self.order if field.size == size]
        field = _Field(size, joined.r, same_size[-1].j if same_size else joined.j)
        self.record(tensor, field)
        return field

    def hook(self, name, module, args, output):
        inputs, outputs = _tensors(args), _tensors(output)
        is_container = next(module.children(), None) is not None
        trainable = frozen = 0
        for _, param in module.named_parameters(recurse=False):
            if id(param) not in self.counted:
                self.counted.add(id(param))
                trainable += param.data.size if param.requires_grad else 0
                frozen += 0 if param.requires_grad else param.data.size
        formula, field = self._spatial(module, inputs, outputs, is_container)
        mult_adds = _mult_adds(module, inputs, outputs)
        # this call's submodule rows are the trailing rows named under this module
        start = len(self.rows)
        while start and _is_under(self.rows[start - 1].name, name):
            start -= 1
        below = self.rows[start:]
        shapes = [tuple(t.data.shape) for t in outputs]
        self.rows.insert(start, Row(
            name=name, type=type(module).__name__, depth=name.count(".") + 1 if name else 0,
            output_shape=shapes[0] if len(shapes) == 1 else shapes,
            trainable=trainable, frozen=frozen,
            subtree_params=sum(p.data.size for p in module.parameters()),
            mult_adds=mult_adds, subtree_mult_adds=mult_adds + sum(r.mult_adds for r in below),
            formula=formula, receptive_field=field and field.r, jump=field and field.j,
            is_container=is_container))

    def _spatial(self, module, inputs, outputs, is_container):
        """(formula, field of the first output); records the fields of the 4-D outputs."""
        images = [t for t in outputs if t.data.ndim == 4]
        if is_container:
            fields = [self.field(t) for t in images]
            return None, fields[0] if fields else None
        grids = [t for t in inputs if t.data.ndim == 4]
        sources = [field for field in map(self.field, grids) if field is not None]
        if not images or not sources:
            return None, None
        rule = _window(module, grids[0].data.shape[2:], images[0].data.shape[2:])
        if rule is None:  # elementwise or per-pixel layer: r and j pass through
            source, formula, span, factor = _join(sources), None, (0, 0), (1, 1)
        else:
            (formula, span, factor), source = rule, sources[0]
        field = _Field(images[0].data.shape[2:],
                       tuple(_whole(r + s * j) for r, s, j in zip(source.r, span, source.j)),
                       tuple(_whole(j * f) for j, f in zip(source.j, factor)))
        for tensor in images:
            self.record(tensor, field)
        return formula, field


def _window(module, size_in, size_out):
    """(formula, span per axis, factor per axis) of a layer that changes the grid, else None;
    r_out = r_in + span·j_in, j_out = j_in·factor."""
    axes = range(2)
    if isinstance(module, (Conv2d, MaxPool2d, AvgPool2d)):
        where = type(module).__name__
        k = _pair(module.kernel_size, "kernel_size", where)
        s = _pair(module.stride, "stride", where)
        d = (1, 1) if isinstance(module, AvgPool2d) else _pair(module.dilation, "dilation", where)
        if module.padding == "same":  # stride 1: total padding d·(k−1) keeps the size
            p = tuple(d[a] * (k[a] - 1) / 2 for a in axes)
        else:
            p = (0, 0) if module.padding == "valid" else _pair(module.padding, "padding", where)
        ceil = getattr(module, "ceil_mode", False)
        texts = [_sliding(size_in[a], k[a], s[a], p[a], d[a], ceil) for a in axes]
        span = [(k[a] - 1) * d[a] for a in axes]
        factor = s
    elif isinstance(module, (ConvTranspose2d, MaxUnpool2d)):
        where = type(module).__name__
        k = _pair(module.kernel_size, "kernel_size", where)
        s = _pair(module.stride, "stride", where)
        p = _pair(module.padding, "padding", where)
        if isinstance(module, ConvTranspose2d):
            d, extra = module.dilation, module.output_padding
            texts = [(f"({size_in[a]} − 1)·{s[a]} − 2·{p[a]} + {d[a]}·({k[a]}−1) + "
                      f"{extra[a]} + 1",
                      (size_in[a] - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + extra[a] + 1)
                     for a in axes]
        else:
            d = (1, 1)
            texts = [(f"({size_in[a]} − 1)·{s[a]} − 2·{p[a]} + {k[a]}",
                      (size_in[a] - 1) * s[a] - 2 * p[a] + k[a]) for a in axes]
        span = [_adjoint_span(k[a], s[a], d[a]) for a in axes]
        factor = [Fraction(1, s[a]) for a in axes]
    elif isinstance(module, (AdaptiveAvgPool2d, AdaptiveMaxPool2d)):
        texts = [(f"adaptive: {size_in[a]} → output_size", size_out[a]) for a in axes]
        span = [_widest_bin(size_in[a], size_out[a]) - 1 for a in axes]
        factor = [Fraction(size_in[a], size_out[a]) for a in axes]
    elif isinstance(module, Upsample):
        if module.scale_factor is None:
            texts = [("given size", size_out[a]) for a in axes]
        else:
            scale = module.scale_factor
            scale = scale if isinstance(scale, (tuple, list)) else (scale, scale)
            texts = [(f"⌊{size_in[a]}·{scale[a]:g}⌋", int(size_in[a] * scale[a])) for a in axes]
        span = [_TAPS.get(module.mode, 1) - 1] * 2
        factor = [Fraction(size_in[a], size_out[a]) for a in axes]
    else:
        return None
    # the formula, checked against the size the layer produced (output_size= can differ)
    filled = [f"{text} = {value}" if value == size_out[a]
              else f"{text} = {value}; output_size gives {size_out[a]}"
              for a, (text, value) in enumerate(texts)]
    formula = filled[0] if filled[0] == filled[1] else f"H: {filled[0]}; W: {filled[1]}"
    return formula, tuple(span), tuple(factor)


def _sliding(size, k, s, p, d, ceil_mode):
    """(text, value) of PyTorch's sliding-window output size along one axis."""
    numerator = size + int(2 * p) - d * (k - 1) - 1
    value = (-(-numerator // s) if ceil_mode else numerator // s) + 1
    left, right = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
    text = f"{left}({size} + 2·{p:g} − {d}·({k}−1) − 1)/{s}{right} + 1"
    if ceil_mode and (value - 1) * s >= size + p:  # PyTorch drops a window starting in padding
        value -= 1
        text += " − 1"
    return text, value


def _adjoint_span(k, s, d):
    """Widest spread, in input positions, of the inputs feeding one output of a strided
    window's adjoint: taps k' with equal k'·d mod s land on the same outputs."""
    taps = {}
    for tap in range(k):
        taps.setdefault(tap * d % s, []).append(tap)
    return max((max(group) - min(group)) * d // s for group in taps.values())


def _widest_bin(size, bins):
    """Adaptive pooling's widest bin: bin i covers [⌊i·H/Ho⌋, ⌈(i+1)·H/Ho⌉)."""
    return max(-(-(i + 1) * size // bins) - i * size // bins for i in range(bins))


def _join(fields):
    """The field of a tensor made from these: the largest r per axis, with the jump of the
    latest field holding it."""
    r, j = [], []
    for axis in range(2):
        best = max(field.r[axis] for field in fields)
        r.append(best)
        j.append([field.j[axis] for field in fields if field.r[axis] == best][-1])
    return _Field(fields[-1].size, tuple(r), tuple(j))


def _whole(number):
    """An int when the (possibly Fraction) number is whole, so rows read 32, not 32/1."""
    return int(number) if number.denominator == 1 else number


def _mult_adds(module, inputs, outputs):
    """Multiply-accumulates of one call (formulas in the module docstring); 0 for layers
    other than Conv2d, ConvTranspose2d and Linear."""
    if isinstance(module, Conv2d):
        kh, kw = module.kernel_size
        return outputs[0].data.size * module.in_channels // module.groups * kh * kw
    if isinstance(module, ConvTranspose2d):
        kh, kw = module.kernel_size
        return inputs[0].data.size * module.out_channels // module.groups * kh * kw
    if isinstance(module, Linear):
        return inputs[0].data.size * module.out_features
    return 0


def _tensors(value):
    """The Tensors in a hook's arguments or output (nested tuples, lists and dicts)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _tensors(item)]
    return []


def _is_under(name, parent):
    return name.startswith(parent + ".") if parent else name != ""


def _input_sizes(input_size):
    """[size, ...] from one size with the batch, e.g. (1, 3, 32, 32), or a list of sizes."""
    def is_size(value):
        return (isinstance(value, (tuple, list)) and len(value) > 0 and
                all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                    for n in value))
    if is_size(input_size):
        sizes = [tuple(int(n) for n in input_size)]
    elif (isinstance(input_size, (tuple, list)) and input_size
          and all(is_size(size) for size in input_size)):
        sizes = [tuple(int(n) for n in size) for size in input_size]
    else:
        raise TypeError(f"summary: input_size must be a size with the batch, e.g. "
                        f"(1, 3, 224, 224), or a list of sizes, got {input_size!r}")
    for size in sizes:
        if min(size) < 1:
            raise ValueError(f"summary: input_size {size} has a size below 1; every "
                             f"dimension must be positive")
    return sizes


def _cells(row):
    """The table cells of one row."""
    name = "  " * row.depth + (row.name.rsplit(".", 1)[-1] or "(model)")
    shapes = row.output_shape if isinstance(row.output_shape, list) else [row.output_shape]
    params = (f"{row.trainable:,} / {row.frozen:,}" if row.frozen
              else f"{row.trainable:,}" if row.trainable else "")
    mult_adds = f"{row.mult_adds:,}" if row.mult_adds else ""
    if row.is_container:
        params = " ".join(filter(None, [params, f"({row.subtree_params:,})"]))
        mult_adds = " ".join(filter(None, [mult_adds, f"({row.subtree_mult_adds:,})"]))
    return (name, row.type, ", ".join(str(list(shape)) for shape in shapes), params or "—",
            mult_adds or "—", _pair_text(row.receptive_field), _pair_text(row.jump),
            row.formula or "")


def _pair_text(pair):
    if pair is None:
        return ""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"


def _engineering(count):
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= scale:
            return f"{count / scale:.3f} {unit}"
    return str(count)
