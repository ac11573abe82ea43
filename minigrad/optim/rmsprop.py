"""RMSprop: divide the gradient by a running root mean square of recent gradients."""
import numpy as np

from .optimizer import Optimizer, check_number


class RMSprop(Optimizer):
    """RMSprop as torch.optim.RMSprop, with g = -grad if maximize else grad:

        g = g + weight_decay * p
        v = alpha v + (1 - alpha) g^2
        centered: a = alpha a + (1 - alpha) g,  d = sqrt(v - a^2) + eps;  else d = sqrt(v) + eps
        momentum > 0: b = momentum b + g / d,  p = p - lr b;   else p = p - lr g / d

    `foreach` is accepted (the arithmetic is the same); `capturable=True` and
    `differentiable=True` raise NotImplementedError.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        for name, value in (("lr", lr), ("alpha", alpha), ("eps", eps),
                            ("weight_decay", weight_decay), ("momentum", momentum)):
            check_number("RMSprop", name, value)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def update(self, param, grad, state, group):
        alpha = group["alpha"]
        if not state:
            state.update(step=0, square_avg=np.zeros_like(param))
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * (grad * grad)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - alpha) * (grad - grad_avg)  # a lerp towards g, as PyTorch
            denom = np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            denom = np.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]
            buffer *= group["momentum"]
            buffer += grad / denom
            param -= group["lr"] * buffer
        else:
            param -= group["lr"] * (grad / denom)
