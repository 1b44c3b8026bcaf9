"""Lookup and random masking: embedding and dropout.

Both keep something from forward that backward must reuse exactly: which rows were
looked up, which units were dropped.
"""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _Defaults
from .elementwise import select
from .shape import IndexAdd, index_add_array


class Embedding(Function):
    """Y = W[idx] (row lookup).   VJP: W̄[i] = Σ_{j: idx_j = i} Ȳ_j — the gradient is
    scattered back to the rows that were read, and a row read twice gets both gradients
    added (scatter-add); with ``scale_grad_by_freq`` row i's sum is divided by how many
    times i was read; the ``padding_idx`` row gets 0 (selected). Saves idx."""

    @staticmethod
    def forward(ctx, idx, weight, padding_idx, scale_grad_by_freq=False):
        d = idx._data
        if d.dtype.kind not in "iu":
            raise RuntimeError(f"embedding: indices must be integers, got dtype {d.dtype}.")
        if d.size and (d.min() < 0 or d.max() >= weight.shape[0]):
            bad = d[(d < 0) | (d >= weight.shape[0])].flat[0]
            raise IndexError(f"embedding: index {bad} is out of range for a table of "
                             f"{weight.shape[0]} rows (valid 0..{weight.shape[0] - 1}).")
        ctx.idx, ctx.padding_idx, ctx.shape = d, padding_idx, weight.shape
        ctx.scale_grad_by_freq = scale_grad_by_freq
        return weight._data[d]

    @staticmethod
    def backward(ctx, grad):
        gw = IndexAdd.apply(grad, ctx.shape, (ctx.idx,))
        if ctx.scale_grad_by_freq:
            counts = np.bincount(ctx.idx.ravel(), minlength=ctx.shape[0])
            gw = gw * Tensor._make((1.0 / np.maximum(counts, 1)).astype(grad._data.dtype)[:, None])
        if ctx.padding_idx is not None:           # the padding row never learns
            keep = np.ones((ctx.shape[0], 1), bool)
            keep[ctx.padding_idx] = False
            gw = select(keep, gw)
        return None, gw, None, None

    @staticmethod
    def array_backward(ctx, grad):
        gw = index_add_array(grad, ctx.shape, (ctx.idx,))
        if ctx.scale_grad_by_freq:
            counts = np.bincount(ctx.idx.ravel(), minlength=ctx.shape[0])
            gw = gw * (1.0 / np.maximum(counts, 1)).astype(grad.dtype)[:, None]
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return None, gw, None, None


class Dropout(Function):
    """y = x ⊙ m / (1 − p), m ~ Bernoulli(1 − p) drawn once in forward.
    VJP: x̄ = ȳ ⊙ m / (1 − p) — the *same* mask. Saves the scaled mask."""

    @staticmethod
    def forward(ctx, x, p):
        keep = _Defaults.rng.random(x.shape) >= p
        mask = Tensor._make((keep / (1 - p)).astype(x._data.dtype))
        ctx.save_for_backward(mask)
        return x._data * mask._data

    @staticmethod
    def backward(ctx, grad):
        mask, = ctx.saved_tensors
        return grad * mask, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows ``input`` of ``weight``. With ``max_norm``, as torch, each row that is read and
    whose ``norm_type``-norm exceeds max_norm is first rescaled *in place* (outside the graph)
    to norm max_norm (· max_norm / (norm + 1e-7))."""
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported by minigrad.")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D (num_embeddings, embedding_dim), "
                           f"got shape {tuple(weight.shape)}.")
    n = weight.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError(f"embedding: padding_idx {padding_idx} must be within "
                                 f"num_embeddings (valid {-n}..{n - 1} for a table of {n} rows)")
        padding_idx %= n
    if max_norm is not None:
        _renorm(input, weight, max_norm, norm_type)
    return Embedding.apply(input, weight, padding_idx, scale_grad_by_freq)


def _renorm(input, weight, max_norm, norm_type):
    rows = np.unique(input._data)
    rows = rows[(rows >= 0) & (rows < weight.shape[0])]     # Embedding reports the others
    norms = np.linalg.norm(weight._data[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        weight._data[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(
            weight._data.dtype)
        weight._vc[0] += 1


def dropout(input, p=0.5, training=True, inplace=False):
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}.")
    if input._data.dtype.kind != "f" and training and p:
        raise RuntimeError(f"dropout: the result (kept values scaled by 1/(1 - p)) has a float "
                           f"dtype, which can't be cast to the tensor's dtype "
                           f"{input._data.dtype} (shape {tuple(input.shape)}); use .float().")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    return Dropout.apply(input, p)
