"""Adam and AdamW, with torch's exact updates (``torch.optim.Adam`` / ``AdamW``)."""
import math

import numpy as np

from .optimizer import Optimizer, _implementation_flags

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba): a per-coordinate step size from running moments of the gradient.

    For each parameter θ with gradient g, at step t = 1, 2, … (torch's algorithm):

        g ← −g                                   if maximize
        g ← g + λ·θ                              Adam: L2 weight decay λ, through the gradient
        θ ← θ − γ·λ·θ                            AdamW: decoupled, on θ itself, before the rest
        m ← β₁·m + (1 − β₁)·g                    first moment  (``exp_avg``)
        v ← β₂·v + (1 − β₂)·g²                   second moment (``exp_avg_sq``)
        v̂ ← max(v̂, v) if amsgrad, else v         (``max_exp_avg_sq``)
        θ ← θ − γ/(1 − β₁ᵗ) · m / (√v̂/√(1 − β₂ᵗ) + ε)

    The divisions by 1 − βᵗ undo the bias of m and v towards their zero start. With L2
    decay (Adam) λ·θ is also divided by √v̂, so large-gradient weights are barely decayed;
    AdamW's decoupled decay shrinks every weight by the same factor 1 − γλ."""
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        flags = _implementation_flags(foreach, fused, differentiable, capturable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=flags["fused"],
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, p, g, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], \
            group["weight_decay"]
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p._data)
            state["exp_avg_sq"] = np.zeros_like(p._data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p._data)
        state["step"] += 1
        t = state["step"]
        if group["maximize"]:
            g = -g
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p._data *= 1 - lr * wd                # AdamW
            else:
                g = g + wd * p._data                  # Adam (L2)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (g - m)                   # = β₁·m + (1 − β₁)·g (torch's lerp)
        v *= beta2
        v += (1 - beta2) * g * g
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        step_size = lr / (1 - beta1 ** t)
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
        p._data -= step_size * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): θ ← θ·(1 − γλ) before the
    Adam step, instead of adding λθ to the gradient (``Adam(...,
    decoupled_weight_decay=True)``). Default ``weight_decay=1e-2``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
