"""viz: the topological order, the drawn computation graph, the decision-boundary plot."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.collections import PathCollection
from matplotlib.text import Annotation

import minigrad as mg
from minigrad.tensor import Function, _graph_node
from minigrad.viz import draw_graph, plot_decision_boundary, topological_order


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def micrograd_example():
    """c = a b; d = c + a; e = d d; L = tanh(e): 6 tensors, 4 ops, a used twice, d twice."""
    a = mg.tensor(0.5, requires_grad=True, dtype=np.float64)
    b = mg.tensor(-0.3, requires_grad=True, dtype=np.float64)
    c = a * b
    d = c + a
    e = d * d
    return dict(a=a, b=b, c=c, d=d, e=e, L=e.tanh())


@st.composite
def random_graphs(draw):
    """A random DAG of scalar ops over a few leaves; returns (output, every tensor made)."""
    nodes = [mg.tensor(float(i + 1), requires_grad=True, dtype=np.float64)
             for i in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(0, 12))):
        op = draw(st.sampled_from(["add", "mul", "tanh"]))
        x = nodes[draw(st.integers(0, len(nodes) - 1))]
        y = nodes[draw(st.integers(0, len(nodes) - 1))]
        nodes.append(x.tanh() if op == "tanh" else x + y if op == "add" else x * y)
    return nodes[-1], nodes


def graph_parents(node):
    return [p for p in node.parents if p is not None] if isinstance(node, Function) else []


def reachable(output):
    """Every graph node `output` depends on, by a plain search (no ordering)."""
    root = _graph_node(output)
    seen, stack = {id(root): root}, [root]
    while stack:
        node = stack.pop()
        for parent in graph_parents(node):
            if id(parent) not in seen:
                seen[id(parent)] = parent
                stack.append(parent)
    return seen


@given(random_graphs())
def test_topological_order_puts_every_node_before_its_parents(graph):
    output, _ = graph
    order = topological_order(output)
    position = {id(t): i for i, t in enumerate(order)}
    assert len(position) == len(order), "a node appears twice"
    assert position.keys() == reachable(output).keys()
    assert order[0] is _graph_node(output)
    for node in order:
        for parent in graph_parents(node):
            assert position[id(node)] < position[id(parent)]


def test_topological_order_of_the_micrograd_example():
    t = micrograd_example()
    # each node after all of its consumers: L e d c, then a and b (both consumed by c) in
    # either order; a DFS preorder would put a right after d, before c has been visited
    order = [id(x) for x in topological_order(t["L"])]
    assert order[:4] == [id(t[k]._ctx) for k in ["L", "e", "d", "c"]]
    assert set(order[4:]) == {id(t["a"]), id(t["b"])}


def test_topological_order_of_a_long_chain_needs_no_recursion():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    order = topological_order(y)
    # 5000 products and x; the constant factors need no gradient, so are not in the graph
    assert len(order) == 5001 and order[0] is y._ctx and sum(t is x for t in order) == 1


def node_texts(ax, kind):
    return [t for t in ax.texts if t.get_gid() == kind]


def test_draw_graph_draws_every_tensor_op_and_edge():
    t = micrograd_example()
    ax = draw_graph(t["L"], names=t)
    assert len(node_texts(ax, "tensor")) == 6
    assert [x.get_text() for x in node_texts(ax, "op")].count("Mul") == 2
    assert sorted(x.get_text() for x in node_texts(ax, "op")) == ["Add", "Mul", "Mul", "Tanh"]
    # one arrow per op output (4) and per op input: Mul(a, b), Add(c, a), Mul(d, d), Tanh(e)
    assert sum(isinstance(x, Annotation) for x in ax.texts) == 4 + 7
    labels = [x.get_text() for x in node_texts(ax, "tensor")]
    assert any(label.startswith("a\ndata 0.5") for label in labels)


def test_draw_graph_lays_out_by_depth_after_backward():
    t = micrograd_example()
    t["L"].backward()  # frees saved values; the graph structure stays drawable
    ax = draw_graph(t["L"], names=t)
    x_of = {x.get_text().split("\n")[0]: x.get_position()[0] for x in node_texts(ax, "tensor")}
    # depth: L 0, e 1, d 2, c 3, a and b 4 (a's deepest consumer is c): two columns each
    assert x_of == {"L": 0, "e": -2, "d": -4, "c": -6, "a": -8, "b": -8}
    assert any("grad" in x.get_text() for x in node_texts(ax, "tensor"))
    ax.figure.canvas.draw()  # arrows anchored to the labels resolve at draw time


def test_draw_graph_of_arrays_shows_shapes():
    x = mg.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    w = mg.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    fig, ax = plt.subplots()
    assert draw_graph(((x @ w).relu() * 2).sum(), ax=ax) is ax
    labels = sorted(t.get_text() for t in node_texts(ax, "tensor"))
    # w, the outputs of matmul, relu and * 2, x, and the sum: 8 entries of 2 * relu(1+1+1);
    # the constant 2 needs no gradient, so it is not part of the graph
    assert labels == ["(3, 2) float32", "(4, 2) float32", "(4, 2) float32", "(4, 2) float32",
                      "(4, 3) float32", "data 48"]


def test_draw_graph_rejects_arrays_and_tensors_without_graph():
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw_graph(np.ones(3))
    with pytest.raises(ValueError, match="no graph"):
        draw_graph(mg.tensor([1.0, 2.0]) * 2)


def test_plot_decision_boundary_colours_the_predicted_classes():
    X = np.array([[-1.0, 0.0], [1.0, 0.5], [0.5, -1.0], [-0.5, 1.0]], np.float32)
    y = np.array([0, 1, 1, 0])
    seen = []

    def predict(points):
        seen.append(points)
        return mg.tensor(np.stack([-points[:, 0], points[:, 0]], axis=1))  # scores (M, 2)

    ax = plot_decision_boundary(predict, X, y, resolution=30)
    assert seen[0].shape == (900, 2) and seen[0].dtype == np.float32
    assert len(ax.collections) >= 2  # the filled regions and the scattered points
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points) == 1 and len(points[0].get_offsets()) == 4
    # the grid covers the points with a margin
    assert ax.get_xlim()[0] < -1 and ax.get_xlim()[1] > 1


def test_plot_decision_boundary_checks_shapes():
    with pytest.raises(ValueError, match=r"X of shape \(4, 3\)"):
        plot_decision_boundary(lambda p: p[:, 0] > 0, np.zeros((4, 3)), np.zeros(4, int))
