"""F.pad (PyTorch's form): values by hand, gradients by gradcheck, PyTorch parity, errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad.testing import arrays, assert_gradcheck


def test_modes_by_hand():
    x = mg.Tensor([[1.0, 2.0, 3.0]])
    # (left, right) = (2, 1) on the last axis
    assert F.pad(x, (2, 1)).data.tolist() == [[0, 0, 1, 2, 3, 0]]
    assert F.pad(x, (2, 1), value=9.0).data.tolist() == [[9, 9, 1, 2, 3, 9]]
    assert F.pad(x, (2, 1), mode="reflect").data.tolist() == [[3, 2, 1, 2, 3, 2]]
    assert F.pad(x, (2, 1), mode="replicate").data.tolist() == [[1, 1, 1, 2, 3, 3]]
    assert F.pad(x, (2, 1), mode="circular").data.tolist() == [[2, 3, 1, 2, 3, 1]]
    assert F.pad(x, (-1, 1)).data.tolist() == [[2, 3, 0]]  # a negative width crops
    # the last pair pads the first of the two axes named: (left, right, top, bottom)
    assert F.pad(x, (0, 0, 1, 0)).data.tolist() == [[0, 0, 0], [1, 2, 3]]


def test_gradient_flows_back_to_the_copied_element():
    # replicate (2, 1): outputs copy x0, x0, x0, x1, x2, x2 -> gradient (3, 1, 2)
    x = mg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    F.pad(x, (2, 1), mode="replicate").sum().backward()
    assert x.grad.tolist() == [3.0, 1.0, 2.0]


@given(data=st.data(), mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]))
def test_gradcheck(data, mode):
    shape = (2, data.draw(st.integers(3, 4)), data.draw(st.integers(3, 4)))  # -1 twice leaves 1
    limit = {"reflect": 1, "circular": 2}.get(mode, 3)
    widths = tuple(data.draw(st.integers(-1 if mode == "constant" else 0, limit))
                   for _ in range(4))
    x = mg.Tensor(data.draw(arrays(shape)), requires_grad=True)
    assert_gradcheck(lambda t: F.pad(t, widths, mode=mode, value=0.5), x)


@pytest.mark.parametrize("call, error, match", [
    (lambda x: F.pad(x, (1, 2, 3)), ValueError, "pairs"),
    (lambda x: F.pad(x, (1, 1, 1, 1, 1, 1)), ValueError, "at most the 2 axes"),
    (lambda x: F.pad(x, (3, 0), mode="reflect"), ValueError, "at most 2"),
    (lambda x: F.pad(x, (-1, 0), mode="replicate"), ValueError, "constant mode"),
    (lambda x: F.pad(x, (-2, -1)), ValueError, "to nothing"),
    (lambda x: F.pad(x, (1, 1), mode="wrap"), ValueError, "mode"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(mg.Tensor(np.ones((2, 3))))


@pytest.mark.parametrize("mode, widths", [
    (mode, widths) for mode in ["constant", "reflect", "replicate", "circular"]
    for widths in [(1, 2, 3, 0), (2, 1, 0, 3), (0, 0, 1, 1)]] + [("constant", (-1, 2, 1, -2))])
def test_matches_torch(mode, widths):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5))
    kwargs = dict(value=0.5) if mode == "constant" else {}
    theirs = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.pad(theirs, widths, mode=mode, **kwargs)
    ours = mg.Tensor(x, requires_grad=True)
    out = F.pad(ours, widths, mode=mode, **kwargs)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12)
