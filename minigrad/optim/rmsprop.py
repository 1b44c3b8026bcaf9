"""RMSprop and Adagrad, with torch's exact updates (``torch.optim.RMSprop`` / ``Adagrad``)."""
import numpy as np

from .optimizer import Optimizer, _implementation_flags

__all__ = ["RMSprop", "Adagrad"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton): each coordinate's step divided by a running root mean square of its
    gradients.

    For each parameter θ with gradient g (torch's algorithm):

        g ← −g                              if maximize
        g ← g + λ·θ                         weight decay λ (L2, through the gradient)
        v ← α·v + (1 − α)·g²                (``square_avg``)
        m̄ ← α·m̄ + (1 − α)·g                 if centered (``grad_avg``)
        d ← √(v − m̄²) + ε  if centered, else  √v + ε
        b ← μ·b + g / d,  θ ← θ − γ·b       with momentum μ > 0 (``momentum_buffer``)
        θ ← θ − γ·g / d                     without"""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        for name, value in (("learning rate", lr), ("epsilon value", eps),
                            ("momentum value", momentum), ("weight_decay value", weight_decay),
                            ("alpha value", alpha)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        _implementation_flags(foreach, None, differentiable, capturable)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,   # torch's
                                      centered=centered, weight_decay=weight_decay,    # key order
                                      capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _update(self, p, g, group):
        alpha, eps, wd, momentum = group["alpha"], group["eps"], group["weight_decay"], \
            group["momentum"]
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p._data)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(p._data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p._data)
        state["step"] += 1
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p._data
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            m = state["grad_avg"]
            m += (1 - alpha) * (g - m)               # torch's lerp
            d = np.sqrt(v - m * m) + eps
        else:
            d = np.sqrt(v) + eps
        if momentum > 0:
            b = state["momentum_buffer"]
            b *= momentum
            b += g / d
            p._data -= group["lr"] * b
        else:
            p._data -= group["lr"] * (g / d)


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al.): each coordinate's step divided by the root of the sum of all
    its squared gradients so far, so often-updated coordinates slow down.

    For each parameter θ with gradient g, at step t = 1, 2, … (torch's algorithm):

        g ← −g                              if maximize
        g ← g + λ·θ                         weight decay λ
        γₜ = γ / (1 + (t − 1)·η)            learning-rate decay η
        s ← s + g²                          (``sum``, starting at initial_accumulator_value)
        θ ← θ − γₜ · g / (√s + ε)"""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay),
                            ("weight_decay value", weight_decay),
                            ("initial_accumulator_value value", initial_accumulator_value),
                            ("epsilon value", eps)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        _implementation_flags(foreach, fused, differentiable)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,        # torch's order
                                      differentiable=differentiable, fused=fused))
        for group in self.param_groups:       # torch fills the state at construction
            for p in group["params"]:
                self.state[p] = {"step": 0, "sum": np.full_like(
                    p._data, group["initial_accumulator_value"])}

    def _update(self, p, g, group):
        state = self.state[p]
        state["step"] += 1
        if group["maximize"]:
            g = -g
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p._data
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += g * g
        p._data -= clr * (g / (np.sqrt(s) + group["eps"]))
