"""Indexing by tensors and sorting: gather, scatter, scatter_add, index_select,
take_along_dim, sort, argsort, topk, kthvalue, median, unique and unique_consecutive.

Each moves values to or from the places an integer index tensor names, so each VJP moves the
gradient back the other way: what gather read, scatter_add sends back (added where an element
was read twice); what scatter wrote over keeps no gradient for its old value; a sorted value's
gradient goes back to the position it came from.

Along ``dim`` (here dim = 1 of a 2-D tensor) the index names a position, elsewhere its own
position is used::

    gather:       y[i][j] = x[i][index[i][j]]
    scatter:      y = x;  y[i][index[i][j]] = src[i][j]
    scatter_add:  y = x;  y[i][index[i][j]] += src[i][j]
"""
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .broadcast import row_major
from .elementwise import select
from .shape import IndexAdd, _dim

sort_values_indices = namedtuple("sort", ["values", "indices"])
topk_values_indices = namedtuple("topk", ["values", "indices"])
kthvalue_values_indices = namedtuple("kthvalue", ["values", "indices"])
median_values_indices = namedtuple("median", ["values", "indices"])


# ------------------------------------------------------------------ the index, checked
def _index_array(index, op, dtypes=(np.int32, np.int64)):
    """The numbers of an index tensor, refused as torch refuses them: not a tensor, not an
    integer dtype torch takes for ``op``."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: index must be a tensor of integers, got {type(index).__name__}.")
    d = index._data
    if d.dtype not in dtypes:
        names = "/".join(str(np.dtype(t)) for t in dtypes)
        raise RuntimeError(f"{op}: expected dtype {names} for index, got {d.dtype} (shape "
                           f"{tuple(index.shape)}); convert it with .long().")
    return d


def _in_range(idx, n, op, dim, shape):
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].flat[0]
        raise RuntimeError(f"{op}: index {bad} is out of bounds for dimension {dim} with size "
                           f"{n} (tensor of shape {shape}); an index along dim counts from 0 "
                           f"to {n - 1}.")


def _key(x, dim, index, op, src=None):
    """The places ``index`` names along ``dim`` of x (with its own position in every other
    dimension), as numpy's advanced-indexing key of x (a 0-d x read as 1-d), after torch's
    checks: an integer index of x's rank, no larger than x apart from dim (nor than src),
    every value in range. An empty index names nothing (torch checks nothing then)."""
    idx = np.atleast_1d(_index_array(index, op))
    if idx.size == 0:
        return None
    shape = np.atleast_1d(x._data).shape
    if idx.ndim != len(shape):
        raise RuntimeError(f"{op}: the index (shape {tuple(index.shape)}) must have the same "
                           f"number of dimensions as the tensor it indexes (shape "
                           f"{tuple(x.shape)}).")
    d = _dim(dim, x.ndim, op)
    small = all(i <= n for k, (i, n) in enumerate(zip(idx.shape, shape)) if k != d)
    if src is not None:
        small = small and all(i <= n for i, n in zip(idx.shape, np.atleast_1d(src._data).shape))
    if not small:
        than = f" and than src (shape {tuple(src.shape)})" if src is not None else ""
        raise RuntimeError(f"{op}: the index (shape {tuple(index.shape)}) must be no larger "
                           f"than the tensor (shape {tuple(x.shape)}) in every dimension "
                           f"apart from dim {d}{than}.")
    _in_range(idx, shape[d], op, d, tuple(x.shape))
    return _coords(idx.astype(np.int64, copy=False), d)


def _coords(idx, dim):
    """numpy's key for "position idx along dim, its own position elsewhere"."""
    return tuple(idx if k == dim else
                 np.arange(n).reshape([-1 if j == k else 1 for j in range(idx.ndim)])
                 for k, n in enumerate(idx.shape))


def _key_shape(key):
    return np.broadcast_shapes(*(k.shape for k in key))


def _part(a, shape):
    """The leading block of ``a`` (read as at least 1-d) of ``shape``: the elements of src
    that an index of that shape uses."""
    a = np.atleast_1d(a)
    return a if a.shape == shape else a[tuple(slice(0, n) for n in shape)]


# ------------------------------------------------------------------ the functions
class Gather(Function):
    """y[i][j] = x[i][index[i][j]] (along dim = 1; likewise along any dim).
    VJP: x̄ = scatter_add(zeros_like(x), dim, index, ȳ) — an element read twice gets both
    gradients, added; one never read gets 0. Saves the index."""

    @staticmethod
    def forward(ctx, x, key, shape):
        ctx.key, ctx.shape = key, x.shape
        if key is None:
            return np.zeros(shape, x._data.dtype)
        return np.atleast_1d(x._data)[key].reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        zeros = Tensor._make(np.zeros(ctx.shape, grad._data.dtype))
        if ctx.key is not None and tuple(grad.shape) != _key_shape(ctx.key):
            grad = grad.reshape(_key_shape(ctx.key))       # a reduced dim kept no size 1
        return ScatterAdd.apply(zeros, ctx.key, grad), None, None


class ScatterAdd(Function):
    """y = x; y[i][index[i][j]] += src[i][j] (along dim = 1; repeated places add up).
    VJP: x̄ = ȳ,  src̄ = gather(ȳ, dim, index) (0 where src is larger than the index and
    was not read). Saves the index."""

    @staticmethod
    def forward(ctx, x, key, src):
        ctx.key, ctx.src_shape = key, tuple(src.shape)
        out = np.atleast_1d(x._data).copy()
        if key is not None:
            np.add.at(out, key, _part(src._data, _key_shape(key)))
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        nx, _, ns = ctx.needs_input_grad
        return grad if nx else None, None, _src_grad(ctx, grad) if ns else None


def _src_grad(ctx, grad):
    """src̄ = gather(ȳ, dim, index), put in the leading block of a zero tensor when src is
    larger than the index."""
    if ctx.key is None:
        return Tensor._make(np.zeros(ctx.src_shape, grad._data.dtype))
    shape = _key_shape(ctx.key)
    g = Gather.apply(grad, ctx.key, shape)
    full = (ctx.src_shape or (1,))
    if shape != full:
        g = IndexAdd.apply(g, full, tuple(slice(0, n) for n in shape))
    return g.reshape(ctx.src_shape)


class Scatter(Function):
    """y = x; y[i][index[i][j]] = src[i][j] (along dim = 1), or the number ``value``.
    VJP: x̄ = ȳ with the written places zeroed (their old values were overwritten, as
    torch: selected, not multiplied);  src̄ = gather(ȳ, dim, index). Saves the index."""

    @staticmethod
    def forward(ctx, x, key, src):
        ctx.key, ctx.src_shape = key, tuple(src.shape) if isinstance(src, Tensor) else None
        out = np.atleast_1d(x._data).copy()
        if key is not None:
            out[key] = _part(src._data, _key_shape(key)) if isinstance(src, Tensor) else src
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        nx, _, ns = ctx.needs_input_grad
        gx = None
        if nx:
            kept = np.ones(np.atleast_1d(grad._data).shape, bool)
            if ctx.key is not None:
                kept[ctx.key] = False
            gx = select(kept.reshape(grad.shape), grad)
        return gx, None, _src_grad(ctx, grad) if ns else None


class Sort(Gather):
    """(y, i) = sort(x, dim): y = gather(x, dim, i), i the sorting permutation.
    VJP: x̄ = scatter(zeros_like(x), dim, i, ȳ) — each value's gradient goes back to where it
    came from (Gather's VJP; i has no repeats, so adding is putting). Saves i."""


class Topk(Gather):
    """(y, i) = topk(x, k, dim): the k largest (or smallest) along dim, y = gather(x, dim, i).
    VJP: x̄ = scatter(zeros_like(x), dim, i, ȳ): the gradient goes to the k chosen places,
    0 elsewhere. Saves i."""


class Kthvalue(Gather):
    """(y, i) = kthvalue(x, k, dim): the k-th smallest along dim and where it is,
    y = gather(x, dim, i).   VJP: x̄ = scatter(zeros_like(x), dim, i, ȳ): all of ȳ to that
    one place. Saves i."""


class Median(Gather):
    """y = the lower median of all of x (the ⌈n/2⌉-th smallest), NaN if x holds a NaN; with a
    key, the lower median of each line along dim, gathered as kthvalue does (a NaN, at the
    line's first NaN, if it holds one).

    VJP: of the whole median, ȳ shared evenly among the elements equal to y (among the NaNs
    when y is NaN), 0 elsewhere — as torch, which treats ties as max() does; of median(dim),
    Kthvalue's. Saves x (the whole median) or the indices."""

    @staticmethod
    def forward(ctx, x, key, shape):
        ctx.whole = key is None
        if not ctx.whole:
            return Gather.forward(ctx, x, key, shape)
        d = x._data.reshape(-1)
        ctx.save_for_backward(x)
        if d.size == 0 or (d.dtype.kind == "f" and np.isnan(d).any()):
            ctx.y = np.asarray(np.nan, d.dtype if d.dtype.kind == "f" else np.float64)
        else:
            ctx.y = np.asarray(np.sort(d)[(d.size - 1) // 2])
        return ctx.y

    @staticmethod
    def backward(ctx, grad):
        if not ctx.whole:
            return Gather.backward(ctx, grad)
        x, = ctx.saved_tensors
        d = x._data
        hit = (d == ctx.y) | (np.isnan(d) & np.isnan(ctx.y))
        return select(hit, grad * (1.0 / max(hit.sum(), 1))), None, None


class IndexSelect(Function):
    """y = x with the slices ``index`` (1-D) of dim, in that order (repeats allowed).
    VJP: x̄ = index_add(zeros_like(x), dim, index, ȳ) — a slice picked twice gets both
    gradients. Saves the index."""

    @staticmethod
    def forward(ctx, x, key):
        ctx.key, ctx.shape = key, np.atleast_1d(x._data).shape
        out = row_major(np.atleast_1d(x._data)[key])
        return out.reshape(()) if x.ndim == 0 else out

    @staticmethod
    def backward(ctx, grad):
        g = grad.reshape(1) if grad.ndim == 0 else grad
        out = IndexAdd.apply(g, ctx.shape, ctx.key)
        return (out.reshape(()) if grad.ndim == 0 else out), None


def gather(input, dim, index, sparse_grad=False):
    key = _key(input, dim, index, "gather")
    return Gather.apply(input, key, tuple(index.shape))


def _src(input, src, op):
    if not isinstance(src, Tensor):
        src = Tensor(np.asarray(src))
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{op}: src (dtype {src._data.dtype}) must have the dtype of the "
                           f"tensor it is written into ({input._data.dtype}); convert it "
                           f"first (src.to(x.dtype)).")
    return src


def scatter(input, dim, index, src=None, value=None, reduce=None):
    """``src`` (a tensor), or ``value`` (a number; also given in src's place, as torch),
    written at the places ``index`` names along ``dim``. Where the index names one place
    twice, one of the values is kept (which one is not defined, as in torch)."""
    if reduce is not None:
        raise NotImplementedError(f"scatter: reduce={reduce!r} is not supported by minigrad; "
                                  f"use scatter_add for reduce='add'.")
    if src is None and value is None:
        raise TypeError("scatter: give src (a tensor) or value (a number).")
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if src is None:
        key = _key(input, dim, index, "scatter")
        return Scatter.apply(input, key, np.asarray(value).astype(input._data.dtype))
    src = _src(input, src, "scatter")
    return Scatter.apply(input, _key(input, dim, index, "scatter", src), src)


def scatter_add(input, dim, index, src):
    src = _src(input, src, "scatter_add")
    return ScatterAdd.apply(input, _key(input, dim, index, "scatter_add", src), src)


def index_select(input, dim, index):
    idx = _index_array(index, "index_select")
    if idx.ndim > 1:
        raise IndexError(f"index_select: the index must be a vector (1-D), got shape "
                         f"{tuple(index.shape)}.")
    d = _dim(dim, input.ndim, "index_select")
    idx = np.atleast_1d(idx).astype(np.int64, copy=False)
    n = np.atleast_1d(input._data).shape[d]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)][0]
        raise RuntimeError(f"index_select: index {bad} is out of range for dimension {d} with "
                           f"size {n} (tensor of shape {tuple(input.shape)}).")
    return IndexSelect.apply(input, (slice(None),) * d + (idx,))


def take_along_dim(input, indices, dim=None):
    """gather after broadcasting: ``dim=None`` reads the flattened tensor at the flattened
    indices; otherwise input and indices are broadcast against each other in every
    dimension but dim."""
    _index_array(indices, "take_along_dim", (np.int64,))
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if input.ndim != indices.ndim:
        raise RuntimeError(f"take_along_dim: input (shape {tuple(input.shape)}) and indices "
                           f"(shape {tuple(indices.shape)}) must have the same number of "
                           f"dimensions.")
    d = _dim(dim, input.ndim, "take_along_dim")
    rest = lambda s: tuple(1 if k == d else n for k, n in enumerate(s))
    try:
        common = np.broadcast_shapes(rest(input.shape), rest(indices.shape))
    except ValueError:
        raise RuntimeError(f"take_along_dim: input (shape {tuple(input.shape)}) and indices "
                           f"(shape {tuple(indices.shape)}) cannot be broadcast together in the "
                           f"dimensions other than dim {d}.") from None
    full = lambda n: tuple(n if k == d else c for k, c in enumerate(common))
    x = input.expand(*full(input.shape[d])) if input.ndim else input
    return gather(x, d, indices.expand(*full(indices.shape[d])) if indices.ndim else indices)


# ------------------------------------------------------------------ sorting
def _order(data, axis, descending):
    """The stable sorting permutation of ``data`` along axis, NaN counted as the largest (as
    torch). Descending keeps ties in their order too: the ascending order of the reversed
    tensor, reversed."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    n = data.shape[axis]
    rev = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    return (n - 1 - np.flip(rev, axis)).astype(np.int64)


def _ranked(input, dim, descending, op, k=None):
    d = _dim(dim, input.ndim, op)
    order = _order(np.atleast_1d(input._data), d, descending).astype(np.int64)
    if k is not None and input.ndim:      # a 0-d tensor keeps its one value, k = 0 or 1 (torch)
        order = order.take(np.arange(k), axis=d)
    shape = order.shape if input.ndim else ()
    return order, _coords(order, d) if order.size else None, shape


def sort(input, dim=-1, descending=False, stable=False):
    """Values in order along dim, and where each came from. Always stable (ties keep their
    order, as torch's sort on the CPU); NaN sorts as the largest."""
    order, key, shape = _ranked(input, dim, descending, "sort")
    return sort_values_indices(Sort.apply(input, key, shape), Tensor._make(order.reshape(shape)))


def argsort(input, dim=-1, descending=False, stable=False):
    order, _, shape = _ranked(input, dim, descending, "argsort")
    return Tensor._make(order.reshape(shape))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest values along dim (the k smallest with largest=False), in order, and
    their indices; NaN counts as the largest. Among equal values the first ones are taken
    (torch's choice among ties is its own), and the result is always in order."""
    if input._data.dtype == bool:
        raise RuntimeError(f"topk: bool tensors are not supported (shape {tuple(input.shape)}); "
                           f"convert to an integer or float dtype first.")
    d = _dim(dim, input.ndim, "topk")
    n = np.atleast_1d(input._data).shape[d]
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k out of range: k = {k} but dimension {d} "
                           f"of the tensor (shape {tuple(input.shape)}) has {n} elements.")
    order, key, shape = _ranked(input, d, largest, "topk", k)
    return topk_values_indices(Topk.apply(input, key, shape), Tensor._make(order.reshape(shape)))


def _selected(input, dim, keepdim, op, pick, cls):
    """The value at position ``pick(n)`` of each line's ascending order along dim, as
    (values, indices): kthvalue and median(dim)."""
    d = _dim(dim, input.ndim, op)
    data = np.atleast_1d(input._data)
    n = data.shape[d]
    k = pick(n)
    idx = np.take(_order(data, d, False), [k], axis=d).astype(np.int64)
    if data.dtype.kind == "f" and op == "median":      # a line holding a NaN: its first NaN
        nans = np.isnan(data)
        first = np.expand_dims(np.argmax(nans, axis=d), d)
        idx = np.where(nans.any(axis=d, keepdims=True), first, idx)
    shape = idx.shape if keepdim else np.squeeze(idx, d).shape
    shape = shape if input.ndim else ()
    values = cls.apply(input, _coords(idx, d), shape)
    return values, Tensor._make(idx.reshape(shape))


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest value along dim (NaN counted as the largest) and its index. Among
    equal values the one minigrad's stable order puts k-th is taken (torch's choice among ties
    is its own). As torch, a 0-d tensor is its own k-th value, bool too."""
    if input._data.dtype == bool and input.ndim:
        raise NotImplementedError("kthvalue: bool tensors are not supported (as in torch); "
                                  "convert to an integer or float dtype first.")
    n = np.atleast_1d(input._data).shape[_dim(dim, input.ndim, "kthvalue")]
    if n == 0:
        raise IndexError(f"kthvalue: the reduced dimension {dim} of the tensor (shape "
                         f"{tuple(input.shape)}) is empty; it must have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue: selected number k = {k} is out of range for dimension "
                           f"{dim} with {n} elements (tensor of shape {tuple(input.shape)}); k "
                           f"counts from 1.")
    return kthvalue_values_indices(*_selected(input, dim, keepdim, "kthvalue", lambda n: k - 1,
                                              Kthvalue))


def median(input, dim=None, keepdim=False):
    """``median()``: the lower median of all elements (NaN if one is NaN); ``median(dim)``:
    the lower median of each line and its index (a line holding a NaN gives NaN, at its first
    NaN), the index among equal values as kthvalue's."""
    if input._data.dtype == bool:
        raise NotImplementedError("median: bool tensors are not supported (as in torch); "
                                  "convert to an integer or float dtype first.")
    if dim is None:
        return Median.apply(input, None, None)
    d = _dim(dim, input.ndim, "median")
    if np.atleast_1d(input._data).shape[d] == 0:
        raise IndexError(f"median: the reduced dimension {dim} of the tensor (shape "
                         f"{tuple(input.shape)}) is empty; it must have non-zero size.")
    return median_values_indices(*_selected(input, dim, keepdim, "median", lambda n: (n - 1) // 2,
                                            Median))


def _unique_results(values, inverse, counts, return_inverse, return_counts):
    out = (Tensor._make(values),)
    if return_inverse:
        out += (Tensor._make(inverse.astype(np.int64)),)
    if return_counts:
        out += (Tensor._make(counts.astype(np.int64)),)
    return out if len(out) > 1 else out[0]


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (or slices along ``dim``), always sorted; with return_inverse,
    where each element went; with return_counts, how many times each occurs. Every NaN is
    distinct (NaN ≠ NaN, as torch). No gradient flows through it."""
    d = input._data
    if dim is None:
        values, inverse, counts = np.unique(d.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        return _unique_results(values, inverse.reshape(d.shape), counts, return_inverse,
                               return_counts)
    if input.ndim == 0:
        raise IndexError(f"unique: dimension {dim} was given but the tensor is 0-d (it has no "
                         f"dimensions).")
    axis = _dim(dim, input.ndim, "unique")
    if d.shape[axis] == 0:
        return _unique_results(d, np.zeros(0), np.zeros(0), return_inverse, return_counts)
    if d.size == 0:
        raise RuntimeError(f"unique: the tensor (shape {tuple(input.shape)}) has a dimension "
                           f"of size 0 other than dim {axis}, so its slices cannot be compared.")
    values, inverse, counts = np.unique(d, axis=axis, return_inverse=True, return_counts=True)
    return _unique_results(values, inverse.reshape(-1), counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive values (or slices along ``dim``) kept once; with
    return_inverse, which run each element is in; with return_counts, each run's length."""
    d = input._data
    if dim is None:
        flat = d.reshape(-1)
        lines, axis = flat.reshape(-1, 1), 0
    else:
        axis = _dim(dim, input.ndim, "unique_consecutive")
        flat = d
        lines = np.moveaxis(d, axis, 0).reshape(d.shape[axis], d.size // max(d.shape[axis], 1))
    starts = np.ones(len(lines), bool)
    starts[1:] = (lines[1:] != lines[:-1]).any(axis=1)
    first = np.flatnonzero(starts)
    values = np.take(flat, first, axis=axis)
    inverse = np.cumsum(starts) - 1
    counts = np.diff(np.append(first, len(lines)))
    return _unique_results(values, inverse.reshape(d.shape) if dim is None else inverse, counts,
                           return_inverse, return_counts)
