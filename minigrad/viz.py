"""Pictures with matplotlib: the computation graph behind a Tensor and a classifier's
decision regions. Nothing here changes a tensor. The graph is read the way backward reads
it: a tensor's `_ctx` is the Function that made it, and `_ctx.parents` holds one node per
input of that Function: the Function that made the input, the input itself if it is a
leaf that requires grad, or None (a constant, outside the graph).
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from .tensor import Function, Tensor, _graph_node

_TENSOR_STYLE = dict(boxstyle="round,pad=0.4", facecolor="#dceefc", edgecolor="#2b6ca3")
_OP_STYLE = dict(boxstyle="round4,pad=0.4", facecolor="#fde5c8", edgecolor="#b8660b")
_ARROW = dict(arrowstyle="-|>", color="0.35", shrinkA=6, shrinkB=6)


def topological_order(tensor):
    """The graph nodes behind `tensor` in backward order: each before its parents.

    A node is a Function (standing for the tensor it computed) or a leaf Tensor. This is
    the order in which backward can visit them: a node comes only after every node that
    consumed it, so its gradient is complete (summed over all paths) when reached. The walk
    is iterative, as the engine's: count each node's consumers, then release a node when
    its last consumer has been visited (Kahn's algorithm). Empty if `tensor` has no graph.
    """
    root = _graph_node(tensor)
    if root is None:
        return []
    consumers = {}  # id(node) -> how many times ops in this graph use it
    stack = [root]
    while stack:
        node = stack.pop()
        for parent in _parents(node):
            if id(parent) not in consumers:
                consumers[id(parent)] = 0
                stack.append(parent)
            consumers[id(parent)] += 1
    order, ready = [], [root]
    while ready:
        node = ready.pop()
        order.append(node)
        for parent in reversed(_parents(node)):  # reversed: the first input is visited first
            consumers[id(parent)] -= 1
            if consumers[id(parent)] == 0:
                ready.append(parent)
    return order


def _parents(node):
    if isinstance(node, Function):
        return [parent for parent in node.parents if parent is not None]
    return []


def draw_graph(tensor, ax=None, names=None):
    """Draw the graph that computed `tensor`: tensors as blue boxes, ops as orange ones.

    Columns are topological depth: `tensor` on the right, each node one column left of
    the deepest consumer, so every arrow points right. A tensor shows its value (and
    gradient, once backward ran) if it holds one number, else its shape. The graph keeps
    no intermediate values, so an intermediate tensor shows its value only if you name it:
    `names`, a dict {"name": tensor}, labels the tensors you care about. Returns the Axes.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    order = topological_order(tensor)
    if not order:
        raise ValueError("draw_graph: this tensor has no graph (it does not require grad)")
    named = {id(_graph_node(t)): (name, t) for name, t in (names or {}).items()
             if isinstance(t, Tensor) and t.requires_grad}
    named.setdefault(id(order[0]), (None, tensor))
    depth = {id(order[0]): 0}
    for node in order:  # all consumers come first, so depth[id(node)] is final here
        for parent in _parents(node):
            depth[id(parent)] = max(depth.get(id(parent), 0), depth[id(node)] + 1)

    # column 2d holds the tensors at depth d, column 2d + 1 the ops that produced them
    columns = {}
    for node in order:
        columns.setdefault(2 * depth[id(node)], []).append(("tensor", node))
        if isinstance(node, Function):
            columns.setdefault(2 * depth[id(node)] + 1, []).append(("op", node))
    position = {}
    for column, members in columns.items():
        for row, member in enumerate(members):
            position[member[0], id(member[1])] = (-column, (len(members) - 1) / 2 - row)

    n_columns, n_rows = max(columns) + 1, max(len(m) for m in columns.values())
    if ax is None:
        _, ax = plt.subplots(figsize=(min(2 + 1.6 * n_columns, 20), 1 + 1.1 * n_rows))
    box, op_box = {}, {}
    for node in order:
        name, shown = named.get(id(node), (None, node if isinstance(node, Tensor) else None))
        label = _tensor_label(shown, name) if shown is not None else _shape_label(node)
        box[id(node)] = ax.text(*position["tensor", id(node)], label, ha="center",
                                va="center", fontsize=8, bbox=_TENSOR_STYLE, gid="tensor")
        if isinstance(node, Function):
            op_box[id(node)] = ax.text(*position["op", id(node)], type(node).__name__,
                                       ha="center", va="center", fontsize=8, bbox=_OP_STYLE,
                                       gid="op")
    for node in order:
        if not isinstance(node, Function):
            continue
        op = op_box[id(node)]
        _arrow(ax, op, box[id(node)])
        drawn = []
        for parent in _parents(node):
            # an input used twice (x * x) gets a second arrow, curved; so does an arrow
            # that skips columns, which would otherwise run through the nodes between
            skips = position["op", id(node)][0] - position["tensor", id(parent)][0] > 1
            bend = 0.4 * drawn.count(id(parent)) + (0.25 if skips else 0.0)
            _arrow(ax, box[id(parent)], op, bend)
            drawn.append(id(parent))
    ax.set_xlim(-n_columns + 0.3, 0.7)
    ax.set_ylim(-n_rows / 2, n_rows / 2)
    ax.axis("off")
    return ax


def _arrow(ax, source, target, bend=0.0):
    """An arrow from the right edge of one label to the left edge of another."""
    ax.annotate("", xy=(0, 0.5), xycoords=target, xytext=(1, 0.5), textcoords=source,
                arrowprops=dict(_ARROW, connectionstyle=f"arc3,rad={bend}"))


def _tensor_label(tensor, name):
    lines = [name] if name else []
    if tensor.numel() == 1:
        lines.append(f"data {tensor.item():.4g}")
        if tensor.grad is not None:
            lines.append(f"grad {tensor.grad.item():.4g}")
    else:
        lines.append(f"{tensor.shape} {tensor.dtype}")
    return "\n".join(lines)


def _shape_label(function):
    """An unnamed intermediate: only its shape and dtype are known (the graph keeps no values)."""
    shape, dtype = function._output
    return f"{shape} {dtype}"


def plot_decision_boundary(predict_fn, X, y, ax=None, resolution=200):
    """Colour the plane by the class `predict_fn` picks, and scatter the points on top.

    `predict_fn` maps float32 points (M, 2) to class indices (M,) or to scores (M, C)
    (ndarray or Tensor; scores are turned into classes by argmax).
    Shapes: X (N, 2), y (N,) integer labels. Returns the Axes.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != X.shape[:1]:
        raise ValueError(f"plot_decision_boundary: X of shape {X.shape} and y of shape "
                         f"{y.shape} do not fit; expected X (N, 2) and y (N,)")
    margin = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-3
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(low[0], high[0], resolution),
                         np.linspace(low[1], high[1], resolution))
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)  # (R*R, 2)
    predicted = predict_fn(grid)
    predicted = np.asarray(predicted.data if isinstance(predicted, Tensor) else predicted)
    if predicted.ndim == 2:
        predicted = predicted.argmax(axis=1)
    n_classes = int(max(predicted.max(), y.max())) + 1
    colours = ListedColormap(plt.get_cmap("tab10").colors[:n_classes])
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(xx, yy, predicted.reshape(xx.shape), levels=np.arange(n_classes + 1) - 0.5,
                cmap=colours, alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=colours, vmin=-0.5, vmax=n_classes - 0.5, s=14,
               edgecolors="k", linewidths=0.4)
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_aspect("equal")
    return ax
