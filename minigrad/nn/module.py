"""Module, Parameter and the containers.

A Module finds its parameters, buffers and submodules by walking its own `__dict__` (no
registration step): a `Parameter` attribute is a parameter, a `Module` attribute is a
submodule, and an ndarray named in `register_buffer` is a buffer (running statistics are
plain arrays, never Parameters). Names are dotted paths, as PyTorch's, so a state_dict
moves between minigrad and PyTorch unchanged; an `id` memo lists a shared parameter once.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from ..device import check_device, device
from ..tensor import Tensor, hook_result


class Parameter(Tensor):
    """A Tensor that is a module's learnable weight: it requires grad unless told otherwise."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class RemovableHandle:
    """Returned by `register_*_hook`; `.remove()` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer and model: subclasses set attributes in `__init__` (after
    `super().__init__()`) and define `forward`."""

    def __init__(self):
        self.training = True
        self._buffer_names = {}  # name -> persistent (saved in state_dict)
        self._forward_hooks = {}
        self._backward_hooks = {}

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def __call__(self, *args, **kwargs):
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            replaced = hook(self, args, output)
            output = output if replaced is None else replaced
        if self._backward_hooks:
            outputs = output if isinstance(output, (tuple, list)) else (output,)
            for out in outputs:
                if isinstance(out, Tensor) and out.requires_grad:
                    out.register_hook(self._run_backward_hooks)
        return output

    # --- hooks -------------------------------------------------------------------------
    def register_forward_hook(self, fn):
        """Call `fn(module, inputs, output)` after every forward; a returned value replaces
        the output. Returns a handle with `.remove()`."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = fn
        return handle

    def register_backward_hook(self, fn):
        """Call `fn(module, grad_output)` with the gradient of the module's output (an
        ndarray, once per output tensor) during backward; a returned array replaces that
        gradient. Returns a handle with `.remove()`."""
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = fn
        return handle

    def _run_backward_hooks(self, grad):
        # looked up at backward time, so a hook removed after forward no longer runs
        for hook in list(self._backward_hooks.values()):
            grad = hook_result(hook, hook(self, grad), grad)
        return grad

    # --- walking the module tree ------------------------------------------------------
    def register_buffer(self, name, array, persistent=True):
        """Keep `array` (an ndarray, e.g. a running mean; a Tensor gives its array) as
        attribute `name`; persistent buffers are saved in the state_dict."""
        if isinstance(array, Tensor):
            array = array.data
        if array is not None and not isinstance(array, np.ndarray):
            raise TypeError(f"register_buffer: buffer {name!r} must be an ndarray or None, "
                            f"got {type(array).__name__}")
        setattr(self, name, array)
        self._buffer_names[name] = persistent

    def named_children(self):
        """(name, module) for each direct submodule, in assignment order."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every submodule, parents first; a
        module reached twice is listed once unless remove_duplicate=False."""
        memo = set() if memo is None else memo
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                           remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def _own_parameters(self):
        return [(name, v) for name, v in vars(self).items() if isinstance(v, Parameter)]

    def _own_buffers(self, persistent_only=False):
        return [(name, getattr(self, name)) for name, persistent in self._buffer_names.items()
                if getattr(self, name) is not None and (persistent or not persistent_only)]

    def _named_members(self, own, prefix, recurse, remove_duplicate):
        """(dotted name, member) over `own(module)` of this module (and, with recurse, every
        submodule's), each module's own first; a member held twice is listed once, under its
        first name, unless remove_duplicate=False."""
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        memo = set()
        for module_name, module in modules:
            for name, member in own(module):
                if remove_duplicate and id(member) in memo:
                    continue
                memo.add(id(member))
                yield (f"{module_name}.{name}" if module_name else name), member

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter), each module's own first, then its children's; a
        parameter shared by two modules is listed once, under its first name."""
        return self._named_members(Module._own_parameters, prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members(Module._own_buffers, prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, array in self.named_buffers(recurse=recurse):
            yield array

    def get_submodule(self, target):
        """The submodule at dotted path `target` ("" is this module), as PyTorch; an
        AttributeError names the first piece of the path that is missing."""
        module = self
        for item in target.split(".") if target else ():
            children = dict(module.named_children())
            if item not in children:
                if hasattr(module, item):
                    raise AttributeError(f"`{item}` is not an nn.Module (looking up {target!r})")
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}` "
                                     f"(looking up {target!r})")
            module = children[item]
        return module

    def get_parameter(self, target):
        """The Parameter at dotted path `target` (e.g. "layer1.0.conv1.weight")."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}` "
                                 f"(looking up {target!r})")
        if not isinstance(getattr(module, name), Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter (looking up {target!r})")
        return getattr(module, name)

    # --- building the tree ------------------------------------------------------------
    def _check_new_name(self, kind, name, same_kind):
        """PyTorch's rules for a new member's name; an existing member of the same kind
        (`same_kind(value)`) may be replaced, any other attribute may not."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if not name:
            raise KeyError(f"{kind} name cannot be an empty string")
        if "." in name:
            raise KeyError(f"{kind} name cannot contain '.', got {name!r}")
        if hasattr(self, name) and not same_kind(getattr(self, name)):
            raise KeyError(f"attribute '{name}' already exists")

    def add_module(self, name, module):
        """Attach `module` (or None, an empty slot) as submodule `name`: what
        `self.name = module` does, for names built at run time."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        self._check_new_name("module", name, lambda value: value is None
                             or isinstance(value, Module))
        self._set_child(name, module)

    def register_module(self, name, module):
        """add_module under its other PyTorch name."""
        self.add_module(name, module)

    def _set_child(self, name, module):
        setattr(self, name, module)

    def register_parameter(self, name, param):
        """Attach `param` (a Parameter, or None for an absent one such as a bias) as
        `self.name`."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: cannot assign {type(param).__name__} to "
                            f"parameter {name!r} (Parameter or None required)")
        self._check_new_name("parameter", name, lambda value: value is None
                             or isinstance(value, Parameter))
        setattr(self, name, param)

    def apply(self, fn):
        """Call `fn(module)` on every submodule (children first, recursively), then on this
        module; returns self. The usual way to initialise weights by layer type."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- dtype and device -------------------------------------------------------------
    def _convert(self, convert):
        """Replace every parameter's array (and gradient) and every buffer by
        `convert(array)`. A Parameter keeps its identity, so optimisers holding it still
        see it; only its `.data` changes, as in PyTorch."""
        for param in self.parameters():
            param.data = convert(param.data)
            if param.grad is not None:
                param.grad = convert(param.grad)
        for module in self.modules():
            for name, array in module._own_buffers():
                setattr(module, name, convert(array))
        return self

    def to(self, *args, **kwargs):
        """Convert floating-point parameters and buffers to a dtype, as `Module.to`:
        `to(dtype)`, `to(device)`, `to(device, dtype)`, `to(tensor)` or the keywords
        `device, dtype, non_blocking, memory_format`. The CPU is the only device ("cuda"
        raises); non_blocking and memory_format change nothing. Returns self."""
        dtype = _parse_to(args, kwargs)
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, but got desired "
                            f"dtype={dtype}")
        return self._convert(lambda a: a.astype(dtype, copy=False) if a.dtype.kind == "f"
                             else a)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def type(self, dst_type):
        """Convert every parameter and buffer, integer ones included, to `dst_type`."""
        dtype = _as_dtype("Module.type", dst_type)
        return self._convert(lambda a: a.astype(dtype, copy=False))

    def cpu(self):
        return self

    def cuda(self, device=None):
        """Raises: minigrad computes on the CPU only."""
        check_device(f"{type(self).__name__}.cuda", "cuda")

    # --- modes and gradients ----------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (dropout active, batch statistics) here and in every submodule."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's `.grad`: to None (PyTorch's default), or, with
        set_to_none=False, to zeros written into the existing array."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad[...] = 0

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze (True) every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    # --- state_dict -------------------------------------------------------------------
    def state_dict(self):
        """{dotted name: ndarray} of parameters and persistent buffers, PyTorch's keys and
        order. The arrays are the module's own (not copies), as in PyTorch: copy them to
        keep a snapshot while training goes on."""
        state = OrderedDict()
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._own_parameters():
                state[prefix + name] = param.data
            for name, array in module._own_buffers(persistent_only=True):
                state[prefix + name] = array
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy the arrays of `state_dict` (ndarrays or Tensors) into this module's
        parameters and buffers.

        Every key, shape and dtype is checked before anything is copied, so a refused
        state_dict leaves the module as it was. Shapes must match and values must cast to
        the module's dtype (same kind or safer: float64 into float32, not float into int).
        With `strict`, missing or unexpected keys are refused too; otherwise the matching
        keys are loaded and `(missing_keys, unexpected_keys)` returned, as PyTorch does.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict: expected a dict of arrays (a state_dict), got "
                            f"{type(state_dict).__name__}")
        own = self.state_dict()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        sources, mismatched = {}, []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            source = np.asarray(value.data if isinstance(value, Tensor) else value)
            if source.dtype.kind not in "biufc":
                raise TypeError(f"load_state_dict: value for key {key!r} is not a numeric "
                                f"array (type {type(value).__name__}, dtype {source.dtype})")
            if source.shape != target.shape:
                mismatched.append(f"{key}: got shape {source.shape}, the module has "
                                  f"{target.shape}")
            elif not np.can_cast(source.dtype, target.dtype, "same_kind"):
                mismatched.append(f"{key}: got dtype {source.dtype}, which does not cast to "
                                  f"the module's {target.dtype}")
            sources[key] = source
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if mismatched:
            problems.append("mismatch for " + "; ".join(mismatched))
        if problems:
            raise ValueError(f"load_state_dict: cannot load into {type(self).__name__}: "
                             + " | ".join(problems))
        for key, source in sources.items():
            np.copyto(own[key], source, casting="same_kind")
        return IncompatibleKeys(missing, unexpected)

    # --- repr -------------------------------------------------------------------------
    def extra_repr(self):
        """The text inside the parentheses of this module's repr (its constructor arguments)."""
        return ""

    def __repr__(self):
        children = [f"({name}): " + repr(child).replace("\n", "\n  ")
                    for name, child in self.named_children()]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = ([self.extra_repr()] if self.extra_repr() else []) + children
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class Sequential(Module):
    """`Sequential(m0, m1, ...)` applies the modules in order; state_dict keys are "0.weight",
    "1.weight", ... An OrderedDict argument names the submodules instead."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            self._items = OrderedDict(modules[0])
        else:
            self._items = OrderedDict((str(i), module) for i, module in enumerate(modules))
        for name, module in self._items.items():
            _check_module(self, name, module)

    def named_children(self):
        yield from self._items.items()

    def __getattr__(self, name):
        return _named_item(self, name)

    def __getitem__(self, index):
        modules = list(self._items.values())
        return Sequential(*modules[index]) if isinstance(index, slice) else modules[index]

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items.values())

    def append(self, module):
        self._set_child(str(len(self)), module)
        return self

    def _set_child(self, name, module):
        _check_module(self, name, module)
        self._items[name] = module

    def forward(self, x):
        for module in self._items.values():
            x = module(x)
        return x


class ModuleList(Module):
    """A list of modules whose parameters are found (names "0", "1", ...); no forward."""

    def __init__(self, modules=()):
        super().__init__()
        self._items = []
        self.extend(modules)

    def named_children(self):
        for i, module in enumerate(self._items):
            yield str(i), module

    def __getitem__(self, index):
        return ModuleList(self._items[index]) if isinstance(index, slice) else self._items[index]

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def append(self, module):
        _check_module(self, str(len(self)), module)
        self._items.append(module)
        return self

    def _set_child(self, name, module):
        """add_module on a list: name "i" replaces entry i, name str(len) appends."""
        if not name.isdigit() or int(name) > len(self._items):
            raise KeyError(f"ModuleList.add_module: the name must be an index from 0 to "
                           f"{len(self._items)}, got {name!r}")
        if int(name) == len(self._items):
            self.append(module)
        else:
            _check_module(self, name, module)
            self._items[int(name)] = module

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self


class ModuleDict(Module):
    """A dict of modules, keyed by name, in insertion order; no forward."""

    def __init__(self, modules=None):
        super().__init__()
        self._items = OrderedDict()
        for name, module in (dict(modules) if modules is not None else {}).items():
            self[name] = module

    def named_children(self):
        yield from self._items.items()

    def __getattr__(self, name):
        return _named_item(self, name)

    def __setitem__(self, name, module):
        self._set_child(name, module)

    def _set_child(self, name, module):
        _check_module(self, name, module)
        self._items[name] = module

    def __getitem__(self, name):
        return self._items[name]

    def __contains__(self, name):
        return name in self._items

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def keys(self):
        return self._items.keys()

    def values(self):
        return self._items.values()

    def items(self):
        return self._items.items()


def _check_module(container, name, module):
    if not isinstance(module, Module):
        raise TypeError(f"{type(container).__name__}: entry {name!r} must be a Module, got "
                        f"{type(module).__name__}")


def _named_item(container, name):
    """`container.name` for a named submodule, as PyTorch (called only when the ordinary
    attribute lookup fails)."""
    items = container.__dict__.get("_items", {})
    if name in items:
        return items[name]
    raise AttributeError(f"{type(container).__name__} has no attribute or submodule {name!r}")


def _as_dtype(where, value):
    """`value` (a NumPy dtype or type, or a minigrad dtype) as a numpy.dtype."""
    if value is None or isinstance(value, (str, device)):
        raise TypeError(f"{where}: expected a dtype such as minigrad.float32, got {value!r}")
    try:
        return np.dtype(value)
    except TypeError:
        raise TypeError(f"{where}: expected a dtype such as minigrad.float32, "
                        f"got {value!r}") from None


def _parse_to(args, kwargs):
    """The dtype asked of `Module.to(...)` (None if none), after checking the device.

    PyTorch's forms: to(device, dtype, non_blocking), to(dtype, non_blocking),
    to(tensor, non_blocking) (its dtype), and the keywords device, dtype, non_blocking,
    memory_format.
    """
    unknown = sorted(set(kwargs) - {"device", "dtype", "non_blocking", "memory_format"})
    if unknown:
        raise TypeError(f"Module.to: unexpected keyword argument(s) {unknown}")
    target, dtype = kwargs.get("device"), kwargs.get("dtype")
    for arg in args:
        if isinstance(arg, bool):
            continue  # non_blocking given by position
        if isinstance(arg, (str, device)):
            target = arg
        elif isinstance(arg, (int, np.integer)):
            target = device("cuda", int(arg))  # PyTorch reads an int as a CUDA device index
        elif isinstance(arg, Tensor):
            dtype = arg.dtype
        else:
            dtype = arg
    check_device("Module.to", target)
    return None if dtype is None else _as_dtype("Module.to", dtype)
