"""Lookup and random masking: embedding and dropout.

Both keep something from forward that backward must reuse exactly: which rows were
looked up, which units were dropped.
"""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _Defaults
from .shape import IndexAdd


class Embedding(Function):
    """Y = W[idx] (row lookup).   VJP: W̄[i] = Σ_{j: idx_j = i} Ȳ_j — the gradient is
    scattered back to the rows that were read, and a row read twice gets both gradients
    added (scatter-add). Saves idx."""

    @staticmethod
    def forward(ctx, idx, weight, padding_idx):
        d = idx.data
        if d.dtype.kind not in "iu":
            raise RuntimeError(f"embedding: indices must be integers, got dtype {d.dtype}.")
        if d.size and (d.min() < 0 or d.max() >= weight.shape[0]):
            bad = d[(d < 0) | (d >= weight.shape[0])].flat[0]
            raise IndexError(f"embedding: index {bad} is out of range for a table of "
                             f"{weight.shape[0]} rows (valid 0..{weight.shape[0] - 1}).")
        ctx.idx, ctx.padding_idx, ctx.shape = d, padding_idx, weight.shape
        return weight.data[d]

    @staticmethod
    def backward(ctx, grad):
        gw = IndexAdd.apply(grad, ctx.shape, (ctx.idx,))
        if ctx.padding_idx is not None:           # the padding row never learns
            keep = np.ones((ctx.shape[0], 1), grad.data.dtype)
            keep[ctx.padding_idx] = 0
            gw = gw * Tensor._make(keep)
        return None, gw, None


class Dropout(Function):
    """y = x ⊙ m / (1 − p), m ~ Bernoulli(1 − p) drawn once in forward.
    VJP: x̄ = ȳ ⊙ m / (1 − p) — the *same* mask. Saves the scaled mask."""

    @staticmethod
    def forward(ctx, x, p):
        keep = _Defaults.rng.random(x.shape) >= p
        mask = Tensor._make((keep / (1 - p)).astype(x.data.dtype))
        ctx.save_for_backward(mask)
        return x.data * mask.data

    @staticmethod
    def backward(ctx, grad):
        mask, = ctx.saved_tensors
        return grad * mask, None


def embedding(input, weight, padding_idx=None, max_norm=None, scale_grad_by_freq=False,
              sparse=False):
    if not isinstance(input, Tensor):
        input = Tensor(input)
    return Embedding.apply(input, weight, padding_idx)


def dropout(input, p=0.5, training=True, inplace=False):
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}.")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    return Dropout.apply(input, p)
