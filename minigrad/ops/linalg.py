"""Matrix multiplication with NumPy's `@` rules (1-D operands, batched broadcasting)."""
import numpy as np

from ..kernels.blas import gemm
from ..tensor import Function
from .elementwise import lift


class MatMul(Function):
    """a @ b.  grad_a = g @ b^T, grad_b = a^T @ g (batch axes summed by the engine).

    A 1-D operand is treated as a row (a) or column (b) vector, and the axis NumPy drops
    for it is re-inserted into `g` first.
    """

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return np.asarray(gemm(a, b))

    def backward(self, grad):
        a, b = self.saved_tensors
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        if b_vec:  # b's dropped axis was the last one of the output
            b, grad = b[:, None], np.expand_dims(grad, -1)
        if a_vec:
            a, grad = a[None, :], np.expand_dims(grad, -2)
        grad_a = gemm(grad, np.swapaxes(b, -1, -2)) if self.needs_input_grad[0] else None
        grad_b = gemm(np.swapaxes(a, -1, -2), grad) if self.needs_input_grad[1] else None
        if grad_a is not None and a_vec:
            grad_a = grad_a[..., 0, :]
        if grad_b is not None and b_vec:
            grad_b = grad_b[..., :, 0]
        return grad_a, grad_b


def matmul(a, b):
    a, b = lift(a, b), lift(b, a)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension, "
                         f"got shapes {a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        which = "only" if b.ndim == 1 else "second-to-last"
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match: a's last "
                         f"axis ({k_a}) must equal b's {which} axis ({k_b})")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch axes of {a.shape} and {b.shape} do not "
                         f"broadcast") from None
    return MatMul.apply(a, b)


def _check_dims(name, expected, *tensors):
    for t in tensors:
        if t.ndim != expected:
            raise ValueError(f"{name}: expects {expected}-D tensors, got shapes "
                             f"{[tuple(x.shape) for x in tensors]}")


def mm(a, b):
    """Matrix product of two 2-D tensors (torch.mm)."""
    a, b = lift(a, b), lift(b, a)
    _check_dims("mm", 2, a, b)
    return matmul(a, b)


def bmm(a, b):
    """Batched matrix product of (B, n, m) and (B, m, p) tensors (torch.bmm)."""
    a, b = lift(a, b), lift(b, a)
    _check_dims("bmm", 3, a, b)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def dot(a, b):
    """Inner product of two 1-D tensors (torch.dot)."""
    a, b = lift(a, b), lift(b, a)
    _check_dims("dot", 1, a, b)
    return matmul(a, b)
