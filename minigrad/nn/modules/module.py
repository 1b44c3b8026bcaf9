"""``Parameter`` and ``Module``: how a model knows its weights.

A :class:`Parameter` is an ordinary leaf tensor that requires grad; the only thing special
about it is its type. When a module is given one as an attribute (``self.weight =
Parameter(...)``), ``Module.__setattr__`` notices the type and files it under the attribute's
name. Submodules are filed the same way, so a model is a tree of modules whose leaves hold
parameters, and ``named_parameters()`` walks that tree to produce torch's dotted names
(``blocks.0.attn.W_q.weight``).

Nothing here takes part in differentiation: ``loss.backward()`` reaches the parameters through
the graph the forward pass recorded, and fills their ``.grad``. ``parameters()`` only hands
the *same* tensor objects to whoever asks — typically an optimizer, which then updates them in
place.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from ..._device import check_device
from ...autograd import RemovableHandle
from ...tensor import Tensor, float16, float32, float64

__all__ = ["Parameter", "Module"]


class Parameter(Tensor):
    """A tensor that is a module's weight: a leaf with ``requires_grad=True`` by default.

    ``Parameter(t)`` shares ``t``'s memory, as in torch. Operations on a parameter give
    plain tensors (with a ``grad_fn``); only the parameter itself is a leaf."""
    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=float32)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        """A copy with its own data (and grad): it must not share the original's graph node."""
        if id(self) in memo:
            return memo[id(self)]
        new = Parameter(self._data.copy(), self._requires_grad)
        if self.grad is not None:
            new.grad = Tensor._make(self.grad._data.copy())
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol):
        return (Parameter, (self._data, self._requires_grad))


def _numpy(value):
    """A numpy array from a minigrad tensor, a torch tensor or anything array-like, keeping
    its dtype (a float64 checkpoint is not rounded through float32 on the way in)."""
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach") and hasattr(value, "numpy"):        # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns, printed as torch prints it."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")

    __str__ = __repr__


def _addindent(s, n):
    """Indent every line but the first by ``n`` spaces (torch's nested repr)."""
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


def _parse_to(args, kwargs):
    """The dtype asked for by ``module.to(...)``: ``to(dtype)``, ``to("cpu")``,
    ``to("cpu", dtype)``, ``to(tensor)`` or ``to(dtype=..., device=...)``."""
    dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword argument(s) {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) or a is None or type(a).__name__ == "device":
            device = a
        else:
            dtype = a
    check_device("to", device)
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in "fc":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                            f"desired dtype={dtype}")
    return dtype


def zero_grads(params, set_to_none=True):
    """Forget the gradients of ``params``: set ``.grad`` to None (the default), or fill it with
    zeros. Shared by ``Module.zero_grad`` and ``Optimizer.zero_grad``."""
    for p in params:
        if p.grad is not None:
            if set_to_none:
                p.grad = None
            else:
                p.grad = p.grad.detach()
                p.grad._data[...] = 0
                p.grad._vc[0] += 1


class Module:
    """Base class of every layer and model, as ``torch.nn.Module``.

    Subclasses call ``super().__init__()`` first, assign parameters and submodules as
    attributes, and define ``forward``; ``module(x)`` calls ``forward(x)``::

        class TwoLayer(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(4, 8)      # registered as a submodule "fc1"
                self.fc2 = nn.Linear(8, 2)

            def forward(self, x):
                return self.fc2(self.fc1(x).relu())

        [name for name, _ in TwoLayer().named_parameters()]
        # ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    """

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers"] = set()
        d["_modules"] = {}

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  f'"forward" function')

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if "_forward_hooks" not in d:
            return self.forward(*args, **kwargs)
        for hook in list(d["_forward_pre_hooks"]):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(d["_forward_hooks"]):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def _hooks(self, kind):
        d = self.__dict__
        if "_forward_hooks" not in d:
            d["_forward_hooks"], d["_forward_pre_hooks"] = [], []
        return d[kind]

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before each forward; a value it returns replaces the
        arguments. Returns a handle whose ``remove()`` takes the hook away."""
        hooks = self._hooks("_forward_pre_hooks")
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_forward_hook(self, hook):
        """Call ``hook(module, args, output)`` after each forward (to look at activations,
        say); a value it returns replaces the output. Returns a removable handle."""
        hooks = self._hooks("_forward_hooks")
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(f"cannot assign {type(value).__name__} '{name}' before "
                                     f"Module.__init__() call")
            object.__setattr__(self, name, value)
            return
        params, modules, buffers = d["_parameters"], d["_modules"], d["_buffers"]
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(minigrad.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (minigrad.nn.Module or None expected)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(minigrad.Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_modules", "_buffers"):
            self.__dict__[registry].pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name):
        # only called when normal lookup fails: parameters, buffers and submodules live here
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[registry]:
                del self.__dict__[registry][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (minigrad.nn.Parameter or None required)")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a tensor that is state but not a parameter (no gradient, not optimized),
        e.g. a mask; it is saved in ``state_dict`` unless ``persistent=False``."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            f"(minigrad.Tensor or None required)")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------------ walking the tree
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """This module and every submodule, depth first, each with its dotted name
        (``""`` for this one); a module reachable twice is listed once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, prefix + ("." if prefix else "") + name,
                                                remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_prefix, module in mods:
            for name, t in module.__dict__[registry].items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield mod_prefix + ("." if mod_prefix else "") + name, t

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, Parameter)`` pairs; a parameter shared by two modules (tied
        weights) is listed once, under the first name it is reached by."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """The model's own Parameter objects (not copies): what an optimizer is given."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _get_member(self, target, registry, what):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module.__dict__[registry]:
            raise AttributeError(f"{type(module).__name__} has no {what} `{name}`")
        return module.__dict__[registry][name]

    def get_parameter(self, target):
        """The parameter at a dotted name (``"blocks.0.attn.c_attn.weight"``)."""
        return self._get_member(target, "_parameters", "parameter")

    def get_buffer(self, target):
        return self._get_member(target, "_buffers", "buffer")

    def get_submodule(self, target):
        module = self
        for item in target.split(".") if target else []:
            if item not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = module._modules[item]
        return module

    def apply(self, fn):
        """Call ``fn(m)`` on every submodule (children first) and on self; returns self.
        The usual use is a custom initialisation."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode=True):
        """Set training mode (``True``) or evaluation mode on this module and all below it;
        it changes what Dropout does. Returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of every parameter (backward *adds* into ``.grad``)."""
        zero_grads(self.parameters(), set_to_none)

    # ------------------------------------------------------------------ dtype
    def _convert(self, dtype):
        """Change the dtype of every floating parameter and buffer *in place*: the Parameter
        objects stay the same (an optimizer built before still holds them)."""
        for m in self.modules():
            for t in list(m._parameters.values()) + list(m._buffers.values()):
                if t is None or t._data.dtype.kind != "f" or t._data.dtype == dtype:
                    continue
                t._data = t._data.astype(dtype)
                t._vc[0] += 1                  # a graph that saved the old value must not use it
                if t.grad is not None:
                    t.grad._data = t.grad._data.astype(dtype)
        return self

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to("cpu")``, ``to(tensor)``: converts floating parameters and
        buffers in place (minigrad has one device, the CPU)."""
        dtype = _parse_to(args, dict(kwargs))
        return self if dtype is None else self._convert(dtype)

    def double(self):
        return self._convert(float64)

    def float(self):
        return self._convert(float32)

    def half(self):
        return self._convert(float16)

    def cpu(self):
        return self

    def cuda(self, device=None):
        """Refused: minigrad runs on the CPU only (``minigrad.cuda.is_available()`` is False)."""
        raise RuntimeError(f"{type(self).__name__}.cuda(): minigrad runs on the CPU only; there "
                           f"is no CUDA device. Use model.to(device) with device = \"cpu\" (or "
                           f"\"cuda\" if minigrad.cuda.is_available() else \"cpu\").")

    # ------------------------------------------------------------------ state_dict
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict ``{dotted name: tensor}`` of every parameter and persistent buffer,
        under torch's keys and in torch's order (each module's parameters, then its buffers,
        then its children). As in torch the tensors are detached views of the model's own
        memory: writing one (``sd[k].copy_(w)``) writes the model, and training changes them;
        keep a snapshot with ``{k: v.clone() for k, v in sd.items()}``."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy the values of ``state_dict`` into this model's parameters and buffers, in
        place (the Parameter objects are kept). Values may be numpy arrays, minigrad tensors,
        torch tensors or anything array-like, so a torch model's ``state_dict()`` loads into
        the equivalent minigrad model. A shape mismatch always raises; missing and unexpected
        keys raise when ``strict``. Returns ``(missing_keys, unexpected_keys)``."""
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = _numpy(state_dict[key])
            if value.shape != target._data.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{tuple(value.shape)} from checkpoint, the shape in current "
                              f"model is {tuple(target._data.shape)}.")
                continue
            target._data[...] = value
            target._vc[0] += 1
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self):
        """The text inside this module's parentheses, e.g. ``in_features=4, ...``."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(m), 2)
                       for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        s = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                s += extra_lines[0]
            else:
                s += "\n  " + "\n  ".join(lines) + "\n"
        return s + ")"

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))
