"""The Optimizer base class: parameter groups, per-parameter state, zero_grad, state_dict.

An optimizer changes `Parameter.data` in place and records no graph. Subclasses write
`update(param, grad, state, group)`: one parameter's step, on ndarrays, in PyTorch's order
of operations so that trajectories match PyTorch's step for step.
"""
import copy

from ..tensor import Tensor


class Optimizer:
    """Base class. `params`: an iterable of Parameters, or of dicts (parameter groups) each
    with a "params" list and any hyperparameters that override `defaults` for that group."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}  # id(param) -> that parameter's state (momentum buffers, step, ...)
        self.param_groups = []
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict {"params": [...], hyperparameter: value, ...}; unset ones take defaults."""
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(f"{type(self).__name__}: can only optimise Tensors that "
                                 f"require grad, got {type(p).__name__}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError(f"{type(self).__name__}: a parameter appears in more than one "
                             f"parameter group")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self.param_groups.append(group)

    def zero_grad(self):
        """Set every parameter's `.grad` to None (PyTorch's default, set_to_none=True)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self, closure=None):
        """Update every parameter that has a gradient; `closure` (re-evaluating the loss)
        is called first if given and its value returned."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p.data, p.grad, self.state.setdefault(id(p), {}), group)
        return loss

    def update(self, param, grad, state, group):
        raise NotImplementedError(f"{type(self).__name__} must define update")

    def state_dict(self):
        """PyTorch's layout: {"state": {index: {...}}, "param_groups": [{..., "params":
        [indices]}]}, parameters numbered in group order. Arrays are copies."""
        ids = {}
        groups = []
        for group in self.param_groups:
            indices = [ids.setdefault(id(p), len(ids)) for p in group["params"]]
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": indices})
        state = {ids[key]: copy.deepcopy(value) for key, value in self.state.items()
                 if key in ids}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by `state_dict` from an optimizer over
        parameters of the same shapes, in the same order."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups) or any(
                len(s["params"]) != len(g["params"])
                for s, g in zip(saved_groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved parameter "
                             f"groups have sizes {[len(s['params']) for s in saved_groups]}, "
                             f"this optimizer's "
                             f"{[len(g['params']) for g in self.param_groups]}")
        self.state = {}
        for saved, group in zip(saved_groups, self.param_groups):
            for index, p in zip(saved["params"], group["params"]):
                if index in state_dict["state"]:
                    self.state[id(p)] = copy.deepcopy(state_dict["state"][index])
            group.update({k: v for k, v in saved.items() if k != "params"})
