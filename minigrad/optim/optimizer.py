"""The Optimizer base class: parameter groups, per-parameter state, zero_grad, state_dict.

An optimizer changes `Parameter.data` in place and records no graph. Subclasses write
`update(param, grad, state, group)`: one parameter's step, on ndarrays, in PyTorch's order
of operations so that trajectories match PyTorch's step for step.
"""
import copy
import math
import numbers
from collections import defaultdict

import numpy as np

from ..tensor import Tensor


class Optimizer:
    """Base class. `params`: an iterable of Parameters, of (name, Parameter) pairs (as
    `named_parameters()` gives), or of dicts (parameter groups) each with a "params" list and
    any hyperparameters that override `defaults` for that group."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)  # parameter -> its state (momentum buffers, step, ...)
        self.param_groups = []
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict {"params": [...], hyperparameter: value, ...}; unset ones take defaults."""
        name = type(self).__name__
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        named = [isinstance(p, tuple) for p in params]
        if any(named):
            if not all(named):
                raise ValueError(f"{name}: give every parameter with its name, as (name, "
                                 f"tensor) pairs, or none; got {sum(named)} named of "
                                 f"{len(params)}")
            group["param_names"] = [param_name for param_name, _ in params]
            params = [p for _, p in params]
        group["params"] = params
        for p in params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(f"{name}: can only optimise Tensors that require grad, "
                                 f"got {type(p).__name__}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: a parameter appears in more than one parameter group")
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        _check_implementation_flags(name, group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's `.grad`: to None (PyTorch's default), or with
        `set_to_none=False` to zeros, in place, where a gradient exists."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient; `closure` (re-evaluating the loss)
        is called first if given and its value returned. With `maximize` the update is the
        one for the negated gradient: gradient ascent."""
        loss = closure() if closure is not None else None
        for group_index, group in enumerate(self.param_groups):
            for index, p in enumerate(group["params"]):
                if p.grad is not None:
                    if getattr(p.grad, "shape", None) != p.data.shape:  # NumPy would broadcast
                        self._refuse_grad(group_index, index, p)
                    grad = -p.grad if group.get("maximize", False) else p.grad
                    self.update(p.data, grad, self.state[p], group)
        return loss

    def _refuse_grad(self, group_index, index, p):
        names = self.param_groups[group_index].get("param_names")
        which = repr(names[index]) if names else f"{index} of parameter group {group_index}"
        raise ValueError(f"{type(self).__name__}.step: the .grad of parameter {which} has "
                         f"shape {tuple(np.shape(p.grad))}, but the parameter has shape "
                         f"{tuple(p.data.shape)}; a gradient must have its parameter's shape")

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
        state = {ids[id(p)]: copy.deepcopy(value) for p, value in self.state.items()
                 if id(p) in ids}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by `state_dict` from an optimizer over
        parameters of the same shapes, in the same order. Hyperparameters missing from an
        older state_dict keep this optimizer's values."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups) or any(
                len(s["params"]) != len(g["params"])
                for s, g in zip(saved_groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved parameter "
                             f"groups have sizes {[len(s['params']) for s in saved_groups]}, "
                             f"this optimizer's "
                             f"{[len(g['params']) for g in self.param_groups]}")
        for saved, group in zip(saved_groups, self.param_groups):  # check all, then load
            for index, p in zip(saved["params"], group["params"]):
                for key, value in state_dict["state"].get(index, {}).items():
                    if isinstance(value, np.ndarray) and value.ndim and \
                            value.shape != p.data.shape:
                        raise ValueError(f"{type(self).__name__}.load_state_dict: state "
                                         f"{key!r} of parameter {index} has shape "
                                         f"{value.shape}, but the parameter has shape "
                                         f"{p.data.shape}")
        self.state = defaultdict(dict)
        for saved, group in zip(saved_groups, self.param_groups):
            for index, p in zip(saved["params"], group["params"]):
                if index in state_dict["state"]:
                    self.state[p] = copy.deepcopy(state_dict["state"][index])
            group.update({k: v for k, v in saved.items() if k != "params"})


def check_number(owner, name, value, low=0.0, high=math.inf, high_open=False):
    """Raise TypeError unless `value` is a real number, ValueError unless it lies in
    [low, high] (or [low, high) with `high_open`); the messages name `owner` and `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r} "
                        f"({type(value).__name__})")
    if not (low <= value and (value < high if high_open else value <= high)):
        upper = "" if high == math.inf else f" and {'<' if high_open else '<='} {high}"
        raise ValueError(f"{owner}: {name} must be >= {low}{upper}, got {value!r}")


def _check_implementation_flags(owner, group):
    """PyTorch's implementation switches, kept in the groups as PyTorch keeps them. foreach
    and fused only choose how the same arithmetic is batched on a device (NumPy updates one
    parameter at a time either way); capturable (CUDA graphs) and differentiable (an update
    recorded in the autograd graph) cannot be honoured on ndarrays."""
    if group.get("foreach") and group.get("fused"):
        raise ValueError(f"{owner}: foreach=True and fused=True cannot be used together "
                         f"(as in PyTorch); choose one")
    for flag, reason in (("capturable", "it captures CUDA graphs, and minigrad runs on the "
                                        "CPU"),
                         ("differentiable", "minigrad's optimisers update .data in place "
                                            "and record no graph")):
        if group.get(flag):
            raise NotImplementedError(f"{owner}: {flag}=True is not supported: {reason}; "
                                      f"use {flag}=False")
