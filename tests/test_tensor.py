"""The engine: construction rules, backward semantics, graph lifetime, errors."""
import gc
import sys
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor


# --- construction (API.md's dtype rules) ---------------------------------------------------
@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32), ([1.0, 2], np.float32), ([[1, 2], [3, 4]], np.int64), (3, np.int64),
    (np.zeros(2, np.float64), np.float64), (np.zeros(2, np.int32), np.int32),
    (np.float64(2.0), np.float64), ([True, False], np.bool_),
])
def test_tensor_infers_the_dtype_as_torch_tensor(data, dtype):
    assert mg.tensor(data).dtype == dtype


@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32), ([[1, 2], [3, 4]], np.float32), ([3], np.float32),
    ([True, False], np.float32), (np.zeros(2, np.int32), np.int32),
    (np.float64(2.0), np.float64),
])
def test_legacy_constructor_makes_float32_from_python_data(data, dtype):
    assert Tensor(data).dtype == dtype


def test_explicit_dtype_and_tensor_input():
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    t = Tensor(np.arange(3.0))
    assert Tensor(t).dtype == np.float64 and np.array_equal(Tensor(t).data, t.data)
    assert mg.tensor(t).data is not t.data  # torch.tensor copies


def test_ndarray_is_not_copied():
    a = np.zeros(3)
    assert Tensor(a).data is a and mg.from_numpy(a).data is a and mg.as_tensor(a).data is a


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        mg.tensor([1, 2, 3], requires_grad=True)


def test_attributes_and_methods():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert (t.shape, t.ndim, t.numel(), t.dtype) == ((2, 3), 2, 6, np.float64)
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-2) == 2 and t.dim() == 2
    assert t.numpy() is t.data and t.grad is None and t.requires_grad
    assert Tensor(2.5).item() == 2.5
    d = t.detach()
    assert not d.requires_grad and d.data is t.data
    assert t.T.shape == (3, 2) and t.astype(np.float32).dtype == np.float32
    assert "requires_grad=True" in repr(t)


def test_python_scalars_keep_the_tensor_dtype():
    x = Tensor(np.ones(2, np.float32))
    assert (x * 2).dtype == np.float32 and (2.5 + x).dtype == np.float32
    assert (x ** 2).dtype == np.float32 and (1 / x).dtype == np.float32


def test_ndarray_on_the_left_gives_a_tensor():
    x = Tensor(np.ones(2), requires_grad=True)
    y = np.array([2.0, 3.0]) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 3.0])


def test_comparisons_are_not_differentiable():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2):
        assert result.dtype == np.bool_ and not result.requires_grad
    np.testing.assert_array_equal((x > 1.5).data, [False, True, True])


# --- backward semantics ---------------------------------------------------------------------
def test_node_used_twice_gets_the_sum_of_both_paths():
    # y = x*x + x  ->  dy/dx = 2x + 1 = 7 at x = 3
    x = Tensor(3.0, dtype=np.float64, requires_grad=True)
    (x * x + x).backward()
    assert x.grad == 7.0
    # b = a + a: micrograd's original bug overwrote instead of summing (grad 1, not 2)
    a = Tensor(5.0, dtype=np.float64, requires_grad=True)
    (a + a).backward()
    assert a.grad == 2.0


def test_diamond_graph_by_hand():
    # p = 2x, q = 3x, z = p*q = 6x^2, w = z + p  ->  dw/dx = 12x + 2 = 26 at x = 2
    x = Tensor(2.0, dtype=np.float64, requires_grad=True)
    p, q = x * 2, x * 3
    (p * q + p).backward()
    assert x.grad == 26.0


def test_micrograd_expression_by_hand():
    # a = -4, b = 2: c = a + b = -2; d = a*b + b^3 = 0; e = c*d + relu(b - a)*c
    # de/da = d*1 + c*(b) + [b - a > 0]*(-1)*c + relu(b - a)*1 = 0 + (-4) + 2 + 6 = 4
    # de/db = d*1 + c*(a + 3b^2) + [b - a > 0]*c + relu(b - a)*1 = 0 + (-2)(8) - 2 + 6 = -12
    a = Tensor(-4.0, dtype=np.float64, requires_grad=True)
    b = Tensor(2.0, dtype=np.float64, requires_grad=True)
    c = a + b
    d = a * b + b ** 3
    e = c * d + (b - a).relu() * c
    e.backward()
    assert e.item() == -12.0 and a.grad == 4.0 and b.grad == -12.0


def test_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3 + 2, 3 + 4])
    x.zero_grad()
    assert x.grad is None


def test_retain_graph_allows_a_second_backward():
    x = Tensor(3.0, dtype=np.float64, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == 12.0


def test_second_backward_through_a_freed_graph_raises():
    x = Tensor(3.0, dtype=np.float64, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_graph_without_saved_values_can_be_walked_twice():
    # As PyTorch: freeing only matters for ops that saved values for backward.
    x = Tensor(3.0, dtype=np.float64, requires_grad=True)
    y = x + 1
    y.backward()
    y.backward()
    assert x.grad == 2.0


def test_non_scalar_backward_needs_grad():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar output.*\(2, 2\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\)"):
        y.backward(np.ones(3))
    y.backward(Tensor(np.full((2, 2), 0.5)))
    np.testing.assert_array_equal(x.grad, np.ones((2, 2)))


def test_backward_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(1.0).backward()


def test_only_needed_gradients_reach_leaves():
    x = Tensor([1.0], requires_grad=True)
    c = Tensor([2.0])
    (x * c).sum().backward()
    assert c.grad is None and x.grad is not None


def test_mixed_dtypes_give_each_input_its_own_dtype_of_gradient():
    x32 = Tensor(np.ones(3, np.float32), requires_grad=True)
    x64 = Tensor(np.ones(3, np.float64), requires_grad=True)
    (x32 * x64).sum().backward()
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64


def test_hook_sees_and_may_replace_the_gradient():
    x = Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.copy()))
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_array_equal(seen[0], [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [30.0, 30.0])


# --- no_grad ----------------------------------------------------------------------------------
def test_no_grad_context_and_decorator():
    x = Tensor([1.0], requires_grad=True)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert mg.is_grad_enabled() and (x * 2).requires_grad

    @mg.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad and mg.is_grad_enabled()


# --- graph lifetime ---------------------------------------------------------------------------
def test_deep_chain_of_100000_ops_backpropagates():
    limit = sys.getrecursionlimit()
    x = Tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.00001 ** 100_000, rtol=1e-9)
    assert sys.getrecursionlimit() == limit
    del y  # freeing the chain must not overflow the C stack either


def test_graph_does_not_keep_intermediate_tensors():
    # Add saves nothing for backward, so once the program drops y nothing holds its value;
    # the graph keeps the Mul that made y (and what Mul saved), as PyTorch keeps grad_fn
    x = Tensor(np.arange(3.0), requires_grad=True)
    y = x * 2.0
    y_ref = weakref.ref(y)
    z = (y + 1.0).sum()
    del y
    assert y_ref() is None
    z.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


def test_hook_on_an_intermediate_tensor_outlives_it():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x * 3.0
    y.register_hook(lambda g: g * 10)
    z = y.sum()
    del y
    z.backward()
    np.testing.assert_array_equal(x.grad, [30.0, 30.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(1.0).register_hook(print)


def _live_tensors():
    return sum(issubclass(type(o), Tensor) for o in gc.get_objects())


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_training_steps_free_their_graphs():
    rng = np.random.default_rng(0)
    w1 = Tensor(rng.standard_normal((8, 16)) * 0.1, requires_grad=True)
    w2 = Tensor(rng.standard_normal((16, 1)) * 0.1, requires_grad=True)
    x, target = rng.standard_normal((4, 8)), rng.standard_normal((4, 1))

    def step():
        loss = (((Tensor(x) @ w1).relu() @ w2 - target) ** 2).mean()
        loss.backward()
        for w in (w1, w2):
            w.data -= 0.01 * w.grad
            w.grad = None
        return loss.item()

    for _ in range(200):
        step()
    gc.collect()
    tensors_before, rss_before = _live_tensors(), _rss_bytes()
    losses = [step() for _ in range(10_000)]
    gc.collect()
    assert _live_tensors() == tensors_before
    assert _rss_bytes() - rss_before < 8 * 2**20
    assert losses[-1] < losses[0]
