"""Reductions: sum, mean, var, max, amax (and the argmax that has no gradient).

A reduction uses each input once per output, so its VJP sends the output gradient back
to every input it summarised: expanded (sum, mean), shifted (var) or routed to the winner
(max).
"""
import builtins
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..tensor import Tensor

values_indices = namedtuple("max", ["values", "indices"])


def _dims(dim, ndim, op):
    if dim is None:
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    out = []
    for d in dims:
        n = builtins.max(ndim, 1)
        if not -n <= d < n:
            raise IndexError(f"{op}: dimension {d} is out of range for a tensor with {ndim} "
                             f"dimension(s).")
        out.append(d % n)
    return tuple(sorted(set(out))) if ndim else ()


def _kept_shape(shape, dims):
    """The shape with every reduced dimension kept as size 1."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


class Sum(Function):
    """y = Σ x over ``dims``.   VJP: x̄ᵢ = ȳ for every summed xᵢ — ȳ expanded back to
    x's shape. Saves nothing."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims = x.shape, dims
        return x.data.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(_kept_shape(ctx.shape, ctx.dims)).expand(ctx.shape), None, None


class Mean(Function):
    """y = (1/n) Σ x over ``dims``.   VJP: x̄ᵢ = ȳ / n. Saves nothing."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims = x.shape, dims
        ctx.n = int(np.prod([x.shape[d] for d in dims]))
        return x.data.mean(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        g = grad.reshape(_kept_shape(ctx.shape, ctx.dims)) * (1.0 / ctx.n)
        return g.expand(ctx.shape), None, None


class Var(Function):
    """y = Σ (x − μ)² / (n − correction) over ``dims`` (correction 0: the population
    variance LayerNorm uses; 1: unbiased).   VJP: x̄ = ȳ · 2(x − μ) / (n − correction).
    Saves x."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.correction = dims, correction
        ctx.n = int(np.prod([x.shape[d] for d in dims]))
        return x.data.var(axis=dims, ddof=correction, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        g = grad.reshape(_kept_shape(x.shape, ctx.dims))
        centred = x - x.mean(dim=ctx.dims, keepdim=True)
        dof = ctx.n - ctx.correction           # no degrees of freedom left: NaN, as torch
        return g * centred * (2.0 / dof if dof > 0 else float("nan")), None, None, None


class Max(Function):
    """y = max x over all elements, or over one ``dim``.

    VJP: the gradient goes to the maximal element(s) only, 0 elsewhere. Ties, as torch:
    the whole-tensor ``max()`` and ``amax`` share ȳ evenly among tied maxima; ``max(dim)``
    gives it all to the index it returned. Saves x and y (or the indices)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, indices):
        y = x.data.max(axis=dims, keepdims=keepdim)
        ctx.save_for_backward(x)
        ctx.dims, ctx.indices = dims, indices
        return y

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        kept = _kept_shape(x.shape, ctx.dims)
        g = grad.reshape(kept)
        if ctx.indices is not None:           # max(dim): to the returned index
            d = ctx.dims[0]
            pos = np.arange(x.shape[d]).reshape([-1 if i == d else 1 for i in range(x.ndim)])
            mask = pos == ctx.indices.reshape(kept)
        else:                                 # ties share evenly
            mask = x.data == x.data.max(axis=ctx.dims, keepdims=True)
            mask = mask / mask.sum(axis=ctx.dims, keepdims=True)
        return g * Tensor._make(mask.astype(x.data.dtype)), None, None, None


def sum(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    return Sum.apply(x, _dims(dim, x.ndim, "sum"), keepdim)


def mean(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"mean: input dtype should be floating point, got {x.data.dtype}; "
                           f"use .float() first.")
    return Mean.apply(x, _dims(dim, x.ndim, "mean"), keepdim)


def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    if correction is None:
        correction = 0 if unbiased is False else 1
    return Var.apply(x, _dims(dim, x.ndim, "var"), correction, keepdim)


def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    return var(x, dim, unbiased, keepdim, correction).sqrt()


def max(x, dim=None, keepdim=False):
    """``x.max()``: the largest element; ``x.max(dim)``: a (values, indices) pair."""
    if dim is None:
        return Max.apply(x, _dims(None, x.ndim, "max"), False, None)
    if isinstance(dim, Tensor):
        from .elementwise import Where
        return Where.apply(np.asarray(x.data >= dim.data), x, dim)
    dims = _dims(dim, x.ndim, "max")
    idx = np.argmax(x.data, axis=dims[0]) if x.ndim else np.zeros((), np.int64)
    values = Max.apply(x, dims, keepdim, idx)
    idx = np.expand_dims(idx, dims[0]) if keepdim and x.ndim else idx
    return values_indices(values, Tensor._make(idx.astype(np.int64)))


def min(x, dim=None, keepdim=False):
    if dim is None:
        return -max(-x)
    v, i = max(-x, dim, keepdim)
    return values_indices(-v, i)


def amax(x, dim=None, keepdim=False):
    dims = _dims(dim if dim != () else None, x.ndim, "amax")
    return Max.apply(x, dims, keepdim, None)


def amin(x, dim=None, keepdim=False):
    return -amax(-x, dim, keepdim)


def argmax(x, dim=None, keepdim=False):
    if dim is None:
        return Tensor._make(np.asarray(np.argmax(x.data), dtype=np.int64))
    return Tensor._make(np.argmax(x.data, axis=dim, keepdims=keepdim).astype(np.int64))


def argmin(x, dim=None, keepdim=False):
    return argmax(-x, dim, keepdim)


def logsumexp(x, dim, keepdim=False):
    """log Σ eˣ, computed stably as m + log Σ e^(x−m) with m = max x (m carries no gradient,
    it cancels)."""
    m = Tensor._make(np.max(x.data, axis=dim, keepdims=True))
    out = (x - m).exp().sum(dim=dim, keepdim=True).log() + m
    return out if keepdim else out.squeeze(dim)
