"""mg.gradcheck itself: it passes right gradients and catches wrong ones, saying where."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor


class CubeWithWrongGradient(mg.Function):
    """y = x^3 with the derivative deliberately off: 3x^2 + 0.01 at one element."""

    def forward(self, x):
        self.save_for_backward(x)
        return x ** 3

    def backward(self, grad):
        (x,) = self.saved_tensors
        wrong = 3 * x ** 2
        wrong.flat[4] += 0.01
        return grad * wrong


class Cube(mg.Function):
    def forward(self, x):
        self.save_for_backward(x)
        return x ** 3

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * 3 * x ** 2


def _input():
    return Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)


def test_right_gradient_passes_both_modes():
    assert mg.gradcheck(Cube.apply, _input())
    assert mg.gradcheck(Cube.apply, (_input(),), mode="random", seed=0)


def test_wrong_gradient_is_caught_and_located():
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(lambda x: Cube.apply(x) * 2 + CubeWithWrongGradient.apply(x), _input())
    message = str(info.value)
    # element 4 of a (2, 3) input is (1, 1); analytic and numeric differ by 0.01
    assert "input 0" in message and "(1, 1)" in message
    assert "analytic" in message and "numeric" in message and "error 0.01" in message


def test_wrong_gradient_is_caught_by_random_directions():
    with pytest.raises(mg.GradcheckError, match="direction 0"):
        mg.gradcheck(CubeWithWrongGradient.apply, _input(), mode="random", seed=1, eps=1e-6,
                     atol=1e-7, rtol=1e-7)


def test_raise_exception_false_returns_false():
    assert mg.gradcheck(CubeWithWrongGradient.apply, _input(), raise_exception=False) is False


def test_names_the_failing_input():
    a, b = _input(), Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(mg.GradcheckError, match="input 1"):
        mg.gradcheck(lambda a, b: a + CubeWithWrongGradient.apply(b), (a, b))


def test_float32_input_warns():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="float32"):
        mg.gradcheck(lambda t: t * 2, x, atol=1e-1, rtol=1e-1)


def test_inputs_are_left_untouched():
    x = _input()
    before = x.data.copy()
    mg.gradcheck(Cube.apply, x)
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        mg.gradcheck(Cube.apply, _input(), mode="fast")
    with pytest.raises(TypeError, match="input 0"):
        mg.gradcheck(Cube.apply, (np.ones(3),))
    with pytest.raises(TypeError, match="must return a Tensor"):
        mg.gradcheck(lambda x: x.data, _input())
