"""The ``Optimizer`` base class, as ``torch.optim.Optimizer``.

An optimizer is given the model's parameters — the *same* Parameter objects the model holds,
not copies — and keeps them in ``param_groups``. ``step()`` reads each parameter's ``.grad``
(filled by ``loss.backward()``) and changes the parameter's data in place, so the model sees
the new weights without being told anything:

    opt = minigrad.optim.SGD(model.parameters(), lr=0.1)
    opt.param_groups[0]["params"][0] is model.fc1.weight     # True

Groups let different parameters use different hyper-parameters (``lr``, ``weight_decay``…):
pass a list of dicts, ``[{"params": a}, {"params": b, "lr": 1e-4}]``; keys missing from a
group take the optimizer's defaults. ``state`` holds what the optimizer remembers per
parameter between steps (momentum, Adam's moments), keyed by the Parameter object.

The updates are plain numpy operations on ``p._data``: no graph is recorded, and the
parameter's version counter goes up, so a graph that saved the old value refuses to
backward through it.
"""
from collections import defaultdict

import numpy as np

from ..autograd import enable_grad
from ..nn.modules.module import zero_grads
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


def _numpy(value):
    """A numpy array from a minigrad tensor, a torch tensor or anything array-like."""
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach") and hasattr(value, "numpy"):        # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _implementation_flags(foreach, fused, differentiable, capturable=False):
    """torch's choices of how an update is computed (``foreach``, ``fused``: one kernel per
    list of tensors or per step), which give the same update, so minigrad accepts them and
    computes the update its one way; ``differentiable`` and ``capturable`` are refused."""
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if differentiable:
        raise NotImplementedError("differentiable=True: minigrad's optimizer steps change the "
                                  "parameters outside the graph, so backward cannot go through "
                                  "a step.")
    if capturable:
        raise RuntimeError("If capturable=True, params and state_steps must be on supported "
                           "devices: minigrad runs on the CPU only, which cannot capture a "
                           "step in a CUDA graph.")
    return dict(foreach=foreach, differentiable=differentiable, fused=fused)


class _RequiredParameter:
    """The default of a hyper-parameter that every group must give (e.g. SGD's ``lr``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class: subclasses define ``_update(p, grad, group)`` (one parameter, numpy)."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor; pass model.parameters() or "
                            "[tensor].")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group (a dict with ``"params"`` and optional hyper-parameters)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        param_group = dict(param_group, params=list(params))
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                                f"is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (shape {tuple(p.shape)}, "
                                 f"made by {p.grad_fn.name()}); optimize the leaf it was "
                                 f"computed from.")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient (backward *adds* into ``.grad``)."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        """One update of every parameter that has a gradient. ``closure`` (optional)
        re-evaluates the model and returns the loss, which ``step`` returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                self._update(p, p.grad._data, group)
                p._vc[0] += 1          # p changed in place
        return loss

    def _update(self, p, grad, group):
        raise NotImplementedError

    # ------------------------------------------------------------------ saving
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}`` as in
        torch: parameters are replaced by their position across the groups; the state's
        arrays are tensors (copies), and Adam's ``step`` a float32 0-d tensor, as torch's.
        ``minigrad.save`` stores it."""
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: {k: self._save_value(k, v) for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    @staticmethod
    def _save_value(key, value):
        if key == "step":
            return Tensor(np.float32(value))
        return Tensor(value.copy()) if isinstance(value, np.ndarray) else value

    def load_state_dict(self, state_dict):
        """Restore what :meth:`state_dict` saved (array-likes, torch tensors included, are
        accepted; arrays take the parameter's dtype)."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for own, saved in zip(self.param_groups, saved_groups):
            if len(own["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        by_index = {}
        for own, saved in zip(self.param_groups, saved_groups):
            by_index.update(zip(saved["params"], own["params"]))
            for k, v in saved.items():                  # every saved key, as torch
                if k != "params":
                    own[k] = v
        self.state = defaultdict(dict)
        for i, s in state_dict["state"].items():
            p = by_index[i]
            self.state[p] = {k: self._load_value(k, v, p) for k, v in s.items()}

    @staticmethod
    def _load_value(key, value, p):
        if key == "step":
            return int(float(_numpy(value)))
        if value is None or isinstance(value, (int, float)):
            return value
        return np.array(_numpy(value), dtype=p._data.dtype)

    def __repr__(self):
        s = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"
