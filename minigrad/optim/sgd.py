"""Stochastic gradient descent, with torch's exact update (``torch.optim.SGD``)."""
from .optimizer import Optimizer, _implementation_flags, required

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""SGD with optional momentum, dampening, L2 weight decay and Nesterov momentum.

    For each parameter θ with gradient g, at step t (torch's algorithm):

        g ← −g                          if maximize
        g ← g + λ·θ                     if weight_decay λ ≠ 0 (L2 penalty λ/2·‖θ‖²)
        if momentum μ ≠ 0:
            b ← g                       at the first step (no dampening then)
            b ← μ·b + (1 − τ)·g         afterwards (τ = dampening)
            g ← g + μ·b  if nesterov,  else  g ← b
        θ ← θ − γ·g                     (γ = lr)

    The momentum buffer b is ``state[p]["momentum_buffer"]``."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize,
                                      **_implementation_flags(foreach, fused, differentiable)))

    def _update(self, p, g, group):
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p._data                     # a new array: p.grad is left alone
        if momentum != 0:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        p._data -= lr * g                            # in place: the model's own array
