"""Reductions: sum, mean, var, max, amax, prod, cumsum, cumprod (and argmax, all, any,
which have no gradient).

A reduction uses each input once per output, so its VJP sends the output gradient back
to every input it summarised: expanded (sum, mean), shifted (var) or routed to the winner
(max).
"""
import builtins
import functools
from collections import namedtuple

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .broadcast import row_major
from .elementwise import _floating, maximum, minimum, select, where

values_indices = namedtuple("max", ["values", "indices"])
min_values_indices = namedtuple("min", ["values", "indices"])


def _dims(dim, ndim, op):
    """The dimensions to reduce, non-negative and sorted: all of them for ``None``, ``()``
    or ``[]`` (as torch); a 0-d tensor accepts dim 0 and -1."""
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    out = []
    for d in dims:
        n = builtins.max(ndim, 1)
        if not -n <= d < n:
            raise IndexError(f"{op}: dimension {d} is out of range for a tensor with {ndim} "
                             f"dimension(s) (valid: {-n} to {n - 1}).")
        out.append(d % n)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {dim} names a dimension twice (a tensor with {ndim} "
                           f"dimension(s)); a dim may not appear multiple times in the list.")
    return tuple(sorted(out)) if ndim else ()


def _kept_shape(shape, dims):
    """The shape with every reduced dimension kept as size 1."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


class Sum(Function):
    """y = Σ x over ``dims``.   VJP: x̄ᵢ = ȳ for every summed xᵢ — ȳ expanded back to
    x's shape. Saves nothing."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims = x.shape, dims
        return x._data.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(_kept_shape(ctx.shape, ctx.dims)).expand(ctx.shape), None, None

    @staticmethod
    def array_backward(ctx, grad):
        return (np.broadcast_to(grad.reshape(_kept_shape(ctx.shape, ctx.dims)), ctx.shape),
                None, None)


class Mean(Function):
    """y = (1/n) Σ x over ``dims``.   VJP: x̄ᵢ = ȳ / n. Saves nothing."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims = x.shape, dims
        ctx.n = int(np.prod([x.shape[d] for d in dims]))
        if ctx.n == 0:                            # the mean of nothing is NaN, as torch
            return np.full(np.sum(x._data, axis=dims, keepdims=keepdim).shape, np.nan,
                           x._data.dtype)
        return x._data.mean(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        g = grad.reshape(_kept_shape(ctx.shape, ctx.dims)) * (1.0 / ctx.n if ctx.n else np.nan)
        return g.expand(ctx.shape), None, None

    @staticmethod
    def array_backward(ctx, grad):
        g = grad.reshape(_kept_shape(ctx.shape, ctx.dims)) * (1.0 / ctx.n if ctx.n else np.nan)
        return np.broadcast_to(g, ctx.shape), None, None


class Var(Function):
    """y = Σ (x − μ)² / (n − correction) over ``dims`` (correction 0: the population
    variance LayerNorm uses; 1: unbiased).   VJP: x̄ = ȳ · 2(x − μ) / (n − correction).
    Saves x."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.correction = dims, correction
        ctx.n = int(np.prod([x.shape[d] for d in dims]))
        return _var(x, dims, correction, keepdim, ctx.n)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return _var_vjp(ctx, x, grad.reshape(_kept_shape(x.shape, ctx.dims))), None, None, None


def _var(x, dims, correction, keepdim, n):
    if n - correction <= 0:                   # no degrees of freedom left: NaN, as torch
        return np.full(np.sum(x._data, axis=dims, keepdims=keepdim).shape, np.nan, x._data.dtype)
    return x._data.var(axis=dims, ddof=correction, keepdims=keepdim)


def _var_vjp(ctx, x, g):
    """x̄ = g · 2(x − μ) / (n − correction), g the gradient of the variance (kept shape)."""
    centred = x - x.mean(dim=ctx.dims, keepdim=True)
    dof = ctx.n - ctx.correction
    return g * centred * (2.0 / dof if dof > 0 else float("nan"))


class Std(Function):
    """y = √var(x) over ``dims`` (see Var).   VJP: x̄ = ȳ · (x − μ) / ((n − correction) · y),
    i.e. Var's VJP with the gradient ȳ / (2y) — taken as 0 where y = 0 (a constant input:
    as torch, not ∞ · 0 = NaN). Saves x and y."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.dims, ctx.correction = dims, correction
        ctx.n = int(np.prod([x.shape[d] for d in dims]))
        y = Tensor._make(np.sqrt(_var(x, dims, correction, keepdim, ctx.n)))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        kept = _kept_shape(x.shape, ctx.dims)
        y, grad = y.reshape(kept), grad.reshape(kept)
        zero = np.asarray(y._data == 0)
        g_var = select(~zero, grad / (2 * where(zero, 1.0, y)))
        return _var_vjp(ctx, x, g_var), None, None, None


def _check_not_empty(x, dims, op, whole=False):
    """The maximum of nothing is undefined: refuse a reduction over an empty dimension."""
    if not any(x.shape[d] == 0 for d in dims):
        return
    if whole:
        raise RuntimeError(f"{op}: the tensor of shape {tuple(x.shape)} is empty and the maximum "
                           f"of nothing is undefined; give dim= to reduce over a dimension that "
                           f"is not empty.")
    raise IndexError(f"{op}: cannot reduce a tensor of shape {tuple(x.shape)} over its empty "
                     f"dimension(s) {dims}: a reduced dimension must have non-zero size, the "
                     f"maximum of nothing is undefined.")


class Max(Function):
    """y = max x over all elements, or over one ``dim``.

    VJP: the gradient goes to the maximal element(s) only, 0 elsewhere (selected, so an
    infinite ȳ stays off the others). As torch: ``max(dim)`` gives it all to the index it
    returned (a NaN's, if any); the whole-tensor ``max()`` shares ȳ evenly among tied
    maxima, a NaN maximum counting as the NaNs; ``amax`` shares it too but, as torch,
    multiplies by the mask (ȳ/count · 1[x = y]: NaN everywhere when y is NaN).
    Saves x (and the indices)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, indices):
        if x._data.size == 0:
            _check_not_empty(x, dims, "amax" if isinstance(indices, str) else "max", indices is None)
        y = x._data.max(axis=dims, keepdims=keepdim)
        ctx.save_for_backward(x)
        ctx.dims, ctx.indices = dims, indices
        return y

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        kept = _kept_shape(x.shape, ctx.dims)
        g = grad.reshape(kept)
        d = x._data
        if ctx.indices is not None and not isinstance(ctx.indices, str):   # max(dim)
            if x.ndim == 0:
                return g, None, None, None
            dim = ctx.dims[0]
            pos = np.arange(x.shape[dim]).reshape([-1 if i == dim else 1 for i in range(x.ndim)])
            return select(pos == ctx.indices.reshape(kept), g), None, None, None
        y = d.max(axis=ctx.dims, keepdims=True)
        mask = d == y
        if ctx.indices == "amax":                 # torch's amax: ȳ/count times the mask
            share = mask / mask.sum(axis=ctx.dims, keepdims=True)
            return g * Tensor._make(share.astype(d.dtype)), None, None, None
        mask |= np.isnan(d) & np.isnan(y)         # max(): ties (or NaNs) share evenly
        share = Tensor._make((1.0 / mask.sum(axis=ctx.dims, keepdims=True)).astype(d.dtype))
        return select(mask, g * share), None, None, None


def sum(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    return Sum.apply(x, _dims(dim, x.ndim, "sum"), keepdim)


def mean(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"mean: input dtype should be floating point, got {x._data.dtype}; "
                           f"use .float() first.")
    return Mean.apply(x, _dims(dim, x.ndim, "mean"), keepdim)


def _correction(unbiased, correction):
    return (0 if unbiased is False else 1) if correction is None else correction


def _float_spread(x, op):
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: std and var only support floating-point tensors, got dtype "
                           f"{x._data.dtype} (shape {tuple(x.shape)}); use .float() first.")


def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    _float_spread(x, "var")
    return Var.apply(x, _dims(dim, x.ndim, "var"), _correction(unbiased, correction), keepdim)


def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    _float_spread(x, "std")
    return Std.apply(x, _dims(dim, x.ndim, "std"), _correction(unbiased, correction), keepdim)


def max(x, dim=None, keepdim=False):
    """``x.max()``: the largest element; ``x.max(dim)``: a (values, indices) pair;
    ``max(a, b)`` with a tensor b: the element-wise maximum (``maximum``)."""
    if dim is None:
        return Max.apply(x, _dims(None, x.ndim, "max"), False, None)
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    dims = _dims(dim, x.ndim, "max")
    if isinstance(dim, (tuple, list)) and len(dim) != 1:
        raise TypeError(f"max: dim must be one dimension (an int), got {dim!r}; use amax "
                        f"to reduce over several.")
    _check_not_empty(x, dims, "max")
    idx = np.argmax(x._data, axis=dims[0]) if x.ndim else np.zeros((), np.int64)
    values = Max.apply(x, dims, keepdim, idx)
    idx = np.expand_dims(idx, dims[0]) if keepdim and x.ndim else idx
    return values_indices(values, Tensor._make(idx.astype(np.int64)))


def _flipped(x):
    """−x, which turns a minimum into a maximum; for a bool tensor, not x."""
    return Tensor._make(~x._data) if x._data.dtype.kind == "b" else -x


def min(x, dim=None, keepdim=False):
    """As max: the smallest element, a (values, indices) pair, or ``minimum(a, b)``."""
    if dim is None:
        return _flipped(max(_flipped(x)))
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    v, i = max(_flipped(x), dim, keepdim)
    return min_values_indices(_flipped(v), i)


def amax(x, dim=None, keepdim=False):
    return Max.apply(x, _dims(dim, x.ndim, "amax"), keepdim, "amax")


def amin(x, dim=None, keepdim=False):
    return _flipped(amax(_flipped(x), dim, keepdim))


def argmax(x, dim=None, keepdim=False):
    if dim is None:
        return Tensor._make(np.asarray(np.argmax(x._data), dtype=np.int64))
    if x.ndim == 0:
        _dims(dim, 0, "argmax")
        return Tensor._make(np.zeros((), np.int64))
    d, = _dims(dim, x.ndim, "argmax")
    return Tensor._make(np.argmax(x._data, axis=d, keepdims=keepdim).astype(np.int64))


def argmin(x, dim=None, keepdim=False):
    return argmax(-x, dim, keepdim)


def logsumexp(x, dim, keepdim=False):
    """log Σ eˣ, computed stably as m + log Σ e^(x−m) with m = max x (m carries no gradient,
    it cancels). An infinite m is replaced by 0, as torch: a row of −∞ gives −∞ and a row
    holding +∞ gives +∞ (not ∞ − ∞ = NaN); over an empty dimension the sum is 0, log 0 = −∞."""
    dims = _dims(dim, x.ndim, "logsumexp")
    x = _floating(x)
    m = np.max(x._data, axis=dims, keepdims=True, initial=-np.inf)
    m = Tensor._make(np.where(np.isfinite(m), m, 0).astype(x._data.dtype))
    out = (x - m).exp().sum(dim=dims, keepdim=True).log() + m
    return out if keepdim else out.reshape(np.sum(x._data, axis=dims).shape)


# ---------------------------------------------------------------- all, any
# (exported as ``all`` and ``any``: here they would hide Python's, which this module uses)
def _logical_reduction(op, fn, x, dim, keepdim):
    dims = _dims(dim, x.ndim, op)
    r = np.asarray(fn(x._data, axis=dims, keepdims=keepdim))
    return Tensor._make(r.astype(np.uint8) if x._data.dtype == np.uint8 else r)  # as torch


def _all(input, dim=None, keepdim=False):
    """Whether every element (along ``dim``) is nonzero; a bool tensor without gradient
    (uint8 for a uint8 input, as torch)."""
    return _logical_reduction("all", np.all, input, dim, keepdim)


def _any(input, dim=None, keepdim=False):
    """Whether some element (along ``dim``) is nonzero; a bool tensor without gradient."""
    return _logical_reduction("any", np.any, input, dim, keepdim)


# ---------------------------------------------------------------- prod
def _integer_sum_dtype(x, dtype):
    """As torch: a product or running sum of integers or bools is int64; ``dtype`` casts first."""
    if dtype is not None:
        return x.to(dtype)
    return x.to(np.int64) if x._data.dtype.kind in "biu" and x._data.dtype != np.int64 else x


def _others_product(x, dim):
    """For every element of x, the product of the other elements of its slice along ``dim``
    (all of x for None), without dividing: each slice repeated n times with the element's
    own place set to 1, then multiplied out. Differentiable (it is made of prod, where and
    expand), so the VJP of prod has a derivative too."""
    shape = x.shape
    if dim is None:
        x, dim = x.reshape(-1), 0
    t = x.transpose(dim, -1) if x.ndim > 1 else x
    n = t.shape[-1]
    rows = t.unsqueeze(-2).expand(*t.shape[:-1], n, n)
    others = prod(where(np.eye(n, dtype=bool), 1.0, rows), -1)
    others = others.transpose(dim, -1) if x.ndim > 1 else others
    return others.reshape(shape)


class Prod(Function):
    """y = Π x over all elements or along one ``dim``.

    VJP (as torch): with no zero in x, x̄ = ȳ · y / x; with a zero anywhere, x̄ᵢ = ȳ ·
    Πⱼ≠ᵢ xⱼ, the product of the others in its slice — at a slice's only zero the product of
    the rest, 0 everywhere else in that slice, and 0 for the whole of a slice with two zeros
    (no division by zero). As torch, the product of all elements with two zeros or more gives
    zeros without multiplying (so an infinite ȳ too) when no graph of the backward is made.
    Saves x and y."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.dim = dim
        y = Tensor._make(np.asarray(np.prod(x._data, axis=dim, keepdims=keepdim)))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if x.ndim == 0:
            return grad, None, None
        kept = _kept_shape(x.shape, range(x.ndim) if ctx.dim is None else (ctx.dim,))
        g = grad.reshape(kept)
        zeros = np.count_nonzero(x._data == 0)
        if not zeros:
            return g * (y.reshape(kept) / x), None, None
        if ctx.dim is None and zeros > 1 and not is_grad_enabled():
            return Tensor._make(np.zeros(x.shape, x._data.dtype)), None, None
        return g * _others_product(x, ctx.dim), None, None


def prod(input, dim=None, keepdim=False, dtype=None):
    """The product of all elements, or along one ``dim`` (an int, as torch's)."""
    x = _integer_sum_dtype(input, dtype)
    if dim is None:
        return Prod.apply(x, None, False)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod: dim must be one dimension (an int), got {dim!r} (input of "
                        f"shape {tuple(input.shape)}); reduce one dimension at a time.")
    dims = _dims(dim, x.ndim, "prod")                      # () for a 0-d tensor
    return Prod.apply(x, dims[0] if dims else None, keepdim)


# ---------------------------------------------------------------- cumsum, cumprod
def _flip(x, dim):
    """x reversed along ``dim`` (a view, through indexing: differentiable)."""
    return x[(slice(None),) * dim + (slice(None, None, -1),)]


class Cumsum(Function):
    """yᵢ = Σⱼ≤ᵢ xⱼ along ``dim``.   VJP: x̄ⱼ = Σᵢ≥ⱼ ȳᵢ, the running sum of ȳ taken from the
    end (flip, cumsum, flip). Saves nothing."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return row_major(np.cumsum(x._data, axis=dim)) if x.ndim else x._data.copy()

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim == 0:
            return grad, None
        return _flip(cumsum(_flip(grad, ctx.dim), ctx.dim), ctx.dim), None


def cumsum(input, dim, dtype=None):
    x = _integer_sum_dtype(input, dtype)
    d, = _dims(dim, x.ndim, "cumsum") or (0,)
    return Cumsum.apply(x, d)


class Cumprod(Function):
    """yᵢ = Πⱼ≤ᵢ xⱼ along ``dim``.

    VJP (as torch): with no zero in x, x̄ = (the running sum from the end of ȳ ⊙ y) / x;
    with a zero, x̄ₖ = Σᵢ≥ₖ ȳᵢ Πⱼ≤ᵢ,ⱼ≠ₖ xⱼ, from the running products of x with its k-th
    element set to 1 (no division by zero); along a dimension of one element, x̄ = ȳ. When
    no graph of the backward is made, torch's O(n) way for a line with zeros (numbers for
    numbers, an infinite ȳ too): the formula without zeros before the first zero z, at z
    y_(z−1) · Σ ȳᵢ Π_(z<j≤i) xⱼ over z ≤ i < the next zero, 0 after z. Saves x and y."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        y = Tensor._make(row_major(np.cumprod(x._data, axis=dim)) if x.ndim else
                         x._data.copy())
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        d = ctx.dim
        if x.ndim == 0 or x.shape[d] <= 1:      # y = x (torch too: no inf / inf there)
            return grad, None
        if not (x._data == 0).any():
            return _flip(cumsum(_flip(grad * y, d), d), d) / x, None
        if not is_grad_enabled():
            return Tensor._make(_cumprod_vjp_with_zeros(x._data, y._data, grad._data, d)), None
        t, g = x.transpose(d, -1), grad.transpose(d, -1)
        n = t.shape[-1]
        rows = t.unsqueeze(-2).expand(*t.shape[:-1], n, n)        # [..., k, j] = x_j
        running = cumprod(where(np.eye(n, dtype=bool), 1.0, rows), -1)   # Π_{j≤i, j≠k}
        upper = np.triu(np.ones((n, n), dtype=bool))                # i ≥ k
        gx = (where(upper, running, 0.0) * g.unsqueeze(-2)).sum(-1)
        return gx.transpose(d, -1), None


def _cumprod_vjp_with_zeros(x, y, g, d):
    """torch's first-order VJP of cumprod along d for an x holding zeros, on arrays: each
    line's part after its first zero is masked out (not multiplied by 0), as torch does."""
    zeros = np.cumsum(x == 0, axis=d)
    before, first = zeros == 0, (zeros == 1) & (x == 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = np.where(before, y * g, 0)
        gx = np.where(before, np.flip(np.cumsum(np.flip(w, d), d), d) / x, 0)
        run = np.cumprod(np.where((zeros == 1) & ~first, x, 1), axis=d)
        at_z = (run * np.where(zeros == 1, g, 0)).sum(axis=d, keepdims=True)
        z = np.argmax(first, axis=d, keepdims=True)           # the first zero's place
        prev = np.where(z == 0, 1, np.take_along_axis(y, np.maximum(z - 1, 0), axis=d))
        return np.where(first, at_z * prev, gx).astype(x.dtype)


def cumprod(input, dim, dtype=None):
    x = _integer_sum_dtype(input, dtype)
    d, = _dims(dim, x.ndim, "cumprod") or (0,)
    return Cumprod.apply(x, d)


# ---------------------------------------------------------------- keepdims=
def _keepdims_alias(fn):
    """torch's reductions also take numpy's spelling, ``keepdims=``."""
    @functools.wraps(fn)
    def reduction(*args, keepdims=None, **kwargs):
        if keepdims is not None:
            if "keepdim" in kwargs:
                raise TypeError(f"{fn.__name__}: got both keepdim and keepdims (the same "
                                f"argument spelled two ways); give one.")
            kwargs["keepdim"] = keepdims
        return fn(*args, **kwargs)
    reduction.__name__ = fn.__name__.lstrip("_")
    return reduction


sum, mean, var, std, max, min, amax, amin, argmax, argmin, logsumexp, prod, _all, _any = (
    _keepdims_alias(f) for f in (sum, mean, var, std, max, min, amax, amin, argmax, argmin,
                                 logsumexp, prod, _all, _any))
