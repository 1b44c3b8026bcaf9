"""Shape operations: reshape/view, transpose, permute, unsqueeze, squeeze, indexing,
cat, stack, split, chunk, tril/triu, repeat, repeat_interleave.

None of them changes a value; each only moves values around. So each VJP moves the
gradient back the same way: reshape back, transpose back, scatter back into place.
Results that share memory with their input (views) share its version counter, so an
in-place change through either is seen by backward.
"""
import math

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .broadcast import _view_of, iter_order, row_major, unbroadcast, with_strides
from .elementwise import _cast, clone, result_type, select


class CopySlices(Function):
    """The base of a view that was changed in place (torch's ``CopySlices``): its old values
    outside the view, the view's new values inside. Forward only names the base's memory,
    already written. VJP: the old base gets ȳ outside the view and 0 inside it; the new
    values get the view's part of ȳ. Saves nothing (the view's ViewFn)."""

    @staticmethod
    def forward(ctx, base, new, view_fn):
        ctx.view_fn, ctx.shape = view_fn, base.shape
        return base._data

    @staticmethod
    def backward(ctx, grad):
        inside = ctx.view_fn.region(ctx.shape)
        return select(~inside, grad), ctx.view_fn(grad.contiguous()), None


CopySlices._backward_cls.__name__ = "CopySlices"      # torch's name for it, without "Backward"


class IndexPut(Function):
    """y = x with ``value`` put at the places an index with arrays names (``x[idx] = v``).
    VJP: x̄ = ȳ with those places zeroed (their old values were overwritten);
    v̄ = unbroadcast(ȳ[idx], v.shape). Saves the index."""

    @staticmethod
    def forward(ctx, x, key, value):
        ctx.key, ctx.shape, ctx.vshape = key, x.shape, value.shape
        out = x._data.copy()
        try:
            out[key] = value._data
        except (ValueError, IndexError) as e:
            raise RuntimeError(f"index_put: cannot put a value of shape {tuple(value.shape)} "
                               f"into a tensor of shape {tuple(x.shape)} at that index: {e}") from None
        return out

    @staticmethod
    def backward(ctx, grad):
        nx, _, nv = ctx.needs_input_grad
        put = np.zeros(ctx.shape, bool)
        put[ctx.key] = True
        gx = select(~put, grad) if nx else None
        gv = unbroadcast(Index.apply(grad, ctx.key), ctx.vshape) if nv else None
        return gx, None, gv


def _memory(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _shares(out, x):
    """Whether numpy gave a view of x's memory (also for 0 elements, where nothing overlaps)."""
    return out.base is not None and _memory(out) is _memory(x._data)


def _dim(d, ndim, op):
    n = ndim or 1                      # a 0-d tensor takes dim 0 and -1, as torch
    if not -n <= d < n:
        raise IndexError(f"{op}: dimension {d} is out of range for a tensor with {ndim} "
                         f"dimension(s) (valid: {-n} to {n - 1}).")
    return d % n


class Reshape(Function):
    """y = reshape(x, shape).   VJP: x̄ = reshape(ȳ, x.shape) — values are not changed,
    only how they are laid out, so the gradient is laid out back. Saves nothing."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            out = x._data.reshape(shape)
        except ValueError:
            raise RuntimeError(f"reshape: shape {tuple(shape)} is invalid for a tensor of shape "
                               f"{tuple(x.shape)} ({x._data.size} elements); the number of "
                               f"elements must stay the same.") from None
        if not _shares(out, x):
            return out
        if 1 in shape and not x._data.flags.c_contiguous:
            out = with_strides(out, _view_strides(x._data, out.shape))
        return _view_of(out, x)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None

    @staticmethod
    def array_backward(ctx, grad):
        return grad.reshape(ctx.shape), None


def _view_strides(x, shape):
    """The strides torch's view gives x's memory seen with ``shape`` (its computeStride),
    in bytes, for a reshape numpy made without a copy: numpy's agree but in dimensions of
    size 1 (they address nothing, but order a later element-wise result's dimensions)."""
    new, view_d = [0] * len(shape), len(shape) - 1
    base, tensor_numel, view_numel = x.strides[-1], 1, 1
    for d in range(x.ndim - 1, -1, -1):
        tensor_numel *= x.shape[d]
        if d == 0 or (x.shape[d - 1] != 1 and x.strides[d - 1] != tensor_numel * base):
            while view_d >= 0 and (view_numel < tensor_numel or shape[view_d] == 1):
                new[view_d] = view_numel * base
                view_numel *= shape[view_d]
                view_d -= 1
            if d > 0:
                base, tensor_numel, view_numel = x.strides[d - 1], 1, 1
    return new


class Permute(Function):
    """y = x with its dimensions reordered by ``dims``.
    VJP: x̄ = ȳ permuted by the inverse permutation (argsort(dims)). Saves nothing."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return _view_of(x._data.transpose(dims), x)

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(*np.argsort(ctx.dims).tolist()), None

    @staticmethod
    def array_backward(ctx, grad):
        return grad.transpose(np.argsort(ctx.dims)), None


class Index(Function):
    """y = x[key] (slices, ints, None, Ellipsis, integer or boolean arrays).
    VJP: x̄ = zeros_like(x) with ȳ scattered back into the indexed places; with integer
    arrays the same element can be picked twice, so gradients are *added* (scatter-add).
    Saves the key."""

    @staticmethod
    def forward(ctx, x, key):
        ctx.key, ctx.shape = key, x.shape
        try:
            # an Ellipsis keeps a basic index a view even when it picks one element
            out = x._data[_with_ellipsis(key)] if _is_basic(key) else x._data[key]
        except IndexError as e:
            raise _index_error(e, x, key) from None
        if _shares(out, x):
            if isinstance(key, tuple) and None in key or key is None:
                out = with_strides(out, _none_strides(x._data, out, key))
            return _view_of(out, x)
        return _index_layout(out, x._data, key) if out.ndim > 1 else out

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, ctx.shape, ctx.key), None

    @staticmethod
    def array_backward(ctx, grad):
        return index_add_array(grad, ctx.shape, ctx.key), None


def _none_strides(x, out, key):
    """The strides of a basic index with None (a view), as torch's: each None is an
    unsqueeze of the dimension of x that follows it, of stride its size times its stride,
    or 1 at the end (numpy gives a None's dimension stride 0)."""
    parts = list(_with_ellipsis(key))
    at = parts.index(Ellipsis)
    parts[at:at + 1] = [slice(None)] * (x.ndim - sum(k is not None for k in parts) + 1)
    strides, d, r = list(out.strides), 0, 0
    for k in parts:
        if k is None:
            strides[r] = x.shape[d] * x.strides[d] if d < x.ndim else x.itemsize
        d += k is not None
        r += not isinstance(k, int)
    return strides


def _index_layout(out, x, key):
    """An index with arrays gives a new tensor, laid out as torch lays it out (so that
    ``.view`` of it works where torch's does): torch's TensorIterator orders the result's
    dimensions by the strides of its inputs — x, with stride 0 along the index arrays'
    dimensions, then each index array, with stride 0 elsewhere — from the fastest, an input
    with stride 0 in either dimension leaving the choice to the next one; numpy picks its own
    order. Keys of slices, None and arrays (integers were applied first, by getitem)."""
    if isinstance(key, np.ndarray) and key.dtype != bool and key.flags.c_contiguous and \
            x.flags.c_contiguous and out.flags.c_contiguous:
        return out           # a lookup of rows, W[idx]: row by row in both libraries
    parts = list(_with_ellipsis(key))
    at = next(i for i, k in enumerate(parts) if k is Ellipsis)
    n_x = sum(1 if k is not None else 0 for k in parts if k is not Ellipsis) + sum(
        np.ndim(k) - 1 for k in parts if isinstance(k, np.ndarray) and k.dtype == bool)
    parts[at:at + 1] = [slice(None)] * (x.ndim - n_x)
    parts = [a for k in parts for a in (np.nonzero(k) if isinstance(k, np.ndarray) and
                                        k.dtype == bool else (k,))]
    if any(not isinstance(k, (slice, np.ndarray, type(None))) for k in parts):
        return out
    arrays = [i for i, k in enumerate(parts) if isinstance(k, np.ndarray)]
    bshape = np.broadcast_shapes(*(parts[i].shape for i in arrays))
    # adjacent arrays put their dimensions where they stand, others put them first
    before = arrays[0] if arrays == list(range(arrays[0], arrays[-1] + 1)) else 0
    src, dim = [], 0                       # x's strides along the result's dimensions
    for k in parts:
        if k is None:                      # torch's unsqueeze of the dimension that follows
            src.append(x.strides[dim] * x.shape[dim] if dim < x.ndim else x.itemsize)
        elif isinstance(k, slice):
            src.append(x.strides[dim] * (k.step or 1))
        dim += k is not None
    src[before:before] = [0] * len(bshape)
    operands = [src]
    for i in arrays:
        a = np.broadcast_to(np.ascontiguousarray(parts[i]), bshape).strides
        operands.append([0] * before + list(a) + [0] * (out.ndim - before - len(bshape)))
    order = iter_order(out.shape, operands)   # slowest first
    return np.ascontiguousarray(out.transpose(order)).transpose(np.argsort(order))


def _index_error(e, x, key):
    """numpy's indexing error, said in the tensor's terms (which rule the key broke)."""
    shape, parts = tuple(x.shape), key if isinstance(key, tuple) else (key,)
    msg = str(e)
    if msg.startswith("too many indices"):
        n = sum(1 for k in parts if k is not None and k is not Ellipsis)
        return IndexError(f"index: too many indices for a tensor of shape {shape}: it has "
                          f"{x.ndim} dimension(s) but {n} were indexed.")
    if msg.startswith("boolean index did not match"):
        masks = [tuple(np.shape(k)) for k in parts if getattr(k, "dtype", None) == bool]
        return IndexError(f"index: the shape of the mask {masks[0] if masks else ''} (a "
                          f"boolean index) does not match the shape of the tensor {shape} it "
                          f"indexes; a mask must have the sizes of the dimensions it covers.")
    if msg.startswith("arrays used as indices"):
        kinds = sorted({str(k.dtype) for k in parts if isinstance(k, np.ndarray)})
        return IndexError(f"index: tensors used as indices must be integer or bool tensors, "
                          f"got dtype {', '.join(kinds)} (tensor of shape {shape}).")
    return IndexError(f"index: {msg} (tensor of shape {shape})")


class IndexAdd(Function):
    """y = zeros(shape); y[key] += g (repeated indices accumulate). The backward of
    indexing and of embedding.   VJP: ḡ = ȳ[key]. Saves the key."""

    @staticmethod
    def forward(ctx, g, shape, key):
        ctx.key = key
        return index_add_array(g._data, shape, key)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.key], None, None


def index_add_array(g, shape, key):
    """zeros(shape) with g added at ``key`` (a repeated index adds up): IndexAdd's numbers."""
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(key):
        out[key] = g
    elif _rows_key(key, shape) and g.size <= 1 << 22:
        _add_rows(out, key[0] if isinstance(key, tuple) else key, g)
    else:
        np.add.at(out, key, g)
    return out


def _rows_key(key, shape):
    """Whether ``key`` picks whole rows by one integer array (``W[idx]``, an embedding)."""
    k = key[0] if isinstance(key, tuple) and len(key) == 1 else key
    return isinstance(k, np.ndarray) and k.dtype.kind in "iu" and len(shape) >= 1


def _add_rows(out, idx, g):
    """``np.add.at(out, idx, g)`` for whole rows, as one flat add.at over every element of
    those rows: the same additions in the same order (bit for bit), numpy's quick 1-D loop
    instead of its row-by-row one (3 to 6 times as fast)."""
    n = out.shape[0]
    row = math.prod(out.shape[1:])
    rows = np.where(idx < 0, idx + n, idx).reshape(-1, 1) * row
    np.add.at(out.reshape(-1), (rows + np.arange(row)).reshape(-1), g.reshape(-1))


def _with_ellipsis(key):
    parts = key if isinstance(key, tuple) else (key,)
    return parts if any(k is Ellipsis for k in parts) else parts + (Ellipsis,)


def _is_basic(key):
    parts = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (int, slice, type(None), type(Ellipsis))) for k in parts)


class Cat(Function):
    """Y = [X₁; X₂; …] along ``dim``.   VJP: X̄ᵢ = the slice of Ȳ where Xᵢ was placed.
    Saves the sizes along dim."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ndim = max(x.ndim for x in xs)                 # a 1-D empty tensor is skipped (torch)
        ctx.skipped = [x.ndim != ndim and x.shape == (0,) for x in xs]
        xs = [x for x, skip in zip(xs, ctx.skipped) if not skip]
        ctx.dim, ctx.sizes = dim, [x.shape[dim] for x in xs]
        try:
            return row_major(np.concatenate([x._data for x in xs], axis=dim))
        except ValueError:
            raise RuntimeError(f"cat: shapes {[tuple(x.shape) for x in xs]} cannot be "
                               f"concatenated along dim {dim}: all other dimensions must "
                               f"match.") from None

    @staticmethod
    def backward(ctx, grad):
        pieces = iter(grad.split(ctx.sizes, ctx.dim))
        return (None,) + tuple(Tensor._make(np.zeros(0, grad._data.dtype)) if skip else next(pieces)
                               for skip in ctx.skipped)


class Split(Function):
    """(Y₁, Y₂, …) = the pieces of X of ``sizes`` along ``dim``.
    VJP: X̄ = cat(Ȳ₁, Ȳ₂, …) (a piece that received no gradient contributes zeros).
    Saves nothing."""

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        bounds = np.cumsum(sizes)[:-1]
        return tuple(_view_of(p, x) for p in np.split(x._data, bounds, axis=dim))

    @staticmethod
    def backward(ctx, *grads):
        return cat(grads, ctx.dim), None, None


# ------------------------------------------------------------------ functions
def _shape_args(shape):
    return tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else tuple(shape)


def reshape(x, *shape):
    shape = _shape_args(shape)
    if shape == x.shape:
        return x
    if shape and min(shape) < -1:
        raise RuntimeError(f"reshape: invalid size {min(shape)} in shape {shape} (tensor of "
                           f"shape {tuple(x.shape)}): sizes are 0 or more, or -1 for the one "
                           f"dimension to infer.")
    return Reshape.apply(x, shape)


def view(x, *shape):
    """Like reshape, but only where no copy is needed (as torch: a transposed tensor cannot be
    viewed with a new shape; call .reshape() or .contiguous() first)."""
    shape = _shape_args(shape)
    try:
        moved = x._data.reshape(shape)
    except ValueError:
        raise RuntimeError(f"view: shape {shape} is invalid for a tensor of shape "
                           f"{tuple(x.shape)} ({x._data.size} elements); the number of elements "
                           f"must stay the same.") from None
    if not x._data.flags.c_contiguous and shape != x.shape and x._data.size and \
            not np.shares_memory(moved, x._data):        # row by row always views
        raise RuntimeError(
            f"view: a tensor of shape {tuple(x.shape)} whose memory is not laid out "
            f"contiguously cannot be viewed as {shape} without copying; use .reshape({shape}).")
    return reshape(x, shape)


def flatten(x, start_dim=0, end_dim=-1):
    s, e = _dim(start_dim, x.ndim, "flatten"), _dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                           f"tensor of shape {tuple(x.shape)}; flatten joins the dimensions "
                           f"from start_dim through end_dim, so start_dim must not come after.")
    if x.ndim == 0:
        return x.reshape(1)
    return x.reshape(x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:])


def permute(x, *dims):
    dims = tuple(_dim(d, x.ndim, "permute") for d in _shape_args(dims))
    if sorted(dims) != list(range(x.ndim)):
        raise RuntimeError(f"permute: {dims} is not a permutation of the {x.ndim} dimensions of "
                           f"a tensor of shape {tuple(x.shape)}.")
    return Permute.apply(x, dims)


def transpose(x, dim0, dim1):
    d0, d1 = _dim(dim0, x.ndim, "transpose"), _dim(dim1, x.ndim, "transpose")
    if x.ndim < 2 or d0 == d1:
        return x
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, tuple(dims))


def t(x):
    if x.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with at most 2 dimensions, but got one of shape "
                           f"{tuple(x.shape)}; use .transpose(dim0, dim1) or .mT for batches.")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def unsqueeze(x, dim):
    """A new dimension of size 1 at ``dim``, with torch's stride for it: the size times the
    stride of the dimension it goes before, 1 at the end (a view's would be the stride of
    the one after it)."""
    d = _dim(dim, x.ndim + 1, "unsqueeze")
    y = x.reshape(x.shape[:d] + (1,) + x.shape[d:])
    if not x._data.flags.c_contiguous and y._base is not None:
        a = x._data
        y._data = with_strides(y._data, a.strides[:d] + (
            a.shape[d] * a.strides[d] if d < a.ndim else a.itemsize,) + a.strides[d:])
    return y


def squeeze(x, dim=None):
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        given = [_dim(d, x.ndim, "squeeze")
                 for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        dims = set(given)
        if len(dims) != len(given):
            raise RuntimeError(f"squeeze: dims {tuple(dim)} name a dimension twice (tensor of "
                               f"shape {tuple(x.shape)}); each dim may appear once.")
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return x.reshape(shape)


def _seq_as_tuple(key):
    """torch's (and old numpy's) rule: a list holding a list, tuple, tensor, slice, None or
    Ellipsis is read as a tuple of indices, one per dimension (``x[[[1, -1, 1]]]`` is
    ``x[[1, -1, 1]]``); a list of numbers is one integer-array index."""
    return len(key) < 32 and any(isinstance(k, (list, tuple, Tensor, np.ndarray, slice))
                                 or k is None or k is Ellipsis for k in key)


def _norm_key(key):
    """Tensors inside an index become numpy arrays (they carry no gradient)."""
    if isinstance(key, list) and _seq_as_tuple(key):
        key = tuple(key)
    if isinstance(key, tuple):
        return tuple(_norm_key(k) for k in key)
    if isinstance(key, Tensor):          # a 0-d integer tensor indexes as an integer (torch)
        return int(key._data) if key._data.ndim == 0 and key._data.dtype.kind in "iu" else key._data
    if isinstance(key, list):
        return np.asarray(key)
    return key


def _ints_first(key):
    """torch applies the integers of an index before its integer arrays (an integer is a
    ``select``), so ``x[1, :, [0, 2]]`` places the array's dimension where the slice leaves
    it; numpy counts the integer as one more array, and puts the result's dimension first.
    For a key with both: (the key of the integers, the key of the arrays on its result);
    otherwise None."""
    parts = key if isinstance(key, tuple) else (key,)
    is_int = [isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in parts]
    is_array = [isinstance(k, np.ndarray) and k.ndim > 0 and k.dtype.kind in "iu" for k in parts]
    if not any(is_int) or not any(is_array):
        return None
    first = tuple(slice(None) if a else k for k, a in zip(parts, is_array))
    then = tuple(k if a else Ellipsis if k is Ellipsis else slice(None)
                 for k, a, i in zip(parts, is_array, is_int) if not i)
    return first, then


def _strip_leading_ones(value, ndim):
    """As torch, a value may carry extra leading dimensions of size 1 (x[0] = v[None])."""
    extra = 0
    while value.ndim - extra > ndim and value.shape[extra] == 1:
        extra += 1
    return value.reshape(value.shape[extra:]) if extra else value


def setitem(x, key, value):
    """``x[key] = value`` (``Tensor.__setitem__``): through the view ``x[key]`` for a basic
    index (slices, integers, None, Ellipsis), by :class:`IndexPut` for one with arrays or a
    mask; recorded in the graph when x or value requires grad (``Tensor._inplace``)."""
    key = _norm_key(key)
    split = _ints_first(key)
    if split is not None:                  # the integers first, as getitem does
        return setitem(getitem(x, split[0]), split[1], value)
    if not isinstance(value, Tensor):
        value = Tensor._make(np.asarray(value).astype(x._data.dtype))
    if _is_basic(key):
        target = getitem(x, key)
        target.copy_(_strip_leading_ones(value, target.ndim))
        return
    x._inplace("index_put_", lambda old: IndexPut.apply(old, key, _cast(value, old.dtype)), value)


def getitem(x, key):
    key = _norm_key(key)
    split = _ints_first(key)
    if split is not None:
        return Index.apply(Index.apply(x, split[0]), split[1])
    return Index.apply(x, key)


def cat(tensors, dim=0):
    """The tensors joined along ``dim``, promoted to one dtype (torch's table). As torch, a
    1-D empty tensor (shape (0,)) is skipped whatever the others' shapes, but its dtype
    still counts in the promotion."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of tensors.")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: the tensor at position {i} is zero-dimensional (0-d) and "
                               f"cannot be concatenated (it has no dimension to join along); use stack, "
                               f"or .reshape(1) it first.")
    kept = [t for t in tensors if t.shape != (0,)] or tensors[:1]
    ndims = {t.ndim for t in kept}
    if len(ndims) > 1:
        raise RuntimeError(f"cat: tensors must have the same number of dimensions, got shapes "
                           f"{[tuple(t.shape) for t in tensors]}.")
    d = _dim(dim, kept[0].ndim, "cat")
    dt = result_type(*tensors)
    return Cat.apply(d, *(_cast(t, dt) for t in tensors))


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors.")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack: all tensors must have the same shape, got {sorted(shapes)}.")
    d = _dim(dim, tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], d)


def _at_least_1d(x, op):
    if x.ndim == 0:
        raise RuntimeError(f"{op}: expects at least a 1-dimensional tensor, got a 0-d one; "
                           f"there is no dimension to cut.")


def split(x, split_size_or_sections, dim=0):
    _at_least_1d(x, "split")
    d = _dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0 or (step == 0 and n):
            raise RuntimeError(f"split: split_size must be positive (0 only for an empty "
                               f"dimension), got {step} for dimension {d} of shape "
                               f"{tuple(x.shape)}.")
        sizes = [step] * (n // step) + ([n % step] if n % step else []) if step else [0]
    else:
        sizes = list(split_size_or_sections)
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split: sizes {sizes} must have only non-negative entries "
                               f"(dimension {d} of shape {tuple(x.shape)}).")
        if sum(sizes) != n:
            raise RuntimeError(f"split: sizes {sizes} add up to {sum(sizes)} but dimension {d} of "
                               f"shape {tuple(x.shape)} has {n} elements.")
    out = Split.apply(x, sizes, d)
    return out if isinstance(out, tuple) else (out,)


def chunk(x, chunks, dim=0):
    _at_least_1d(x, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk: the number of chunks must be positive, got {chunks} "
                           f"(tensor of shape {tuple(x.shape)}).")
    n = x.shape[_dim(dim, x.ndim, "chunk")]
    if n == 0:                  # torch: as many empty chunks as asked for
        return split(x, [0] * chunks, dim)
    return split(x, -(-n // chunks), dim)


def unbind(x, dim=0):
    if x.ndim == 0:
        raise IndexError(f"unbind: dimension {dim} was given but the tensor is 0-d (it has no "
                         f"dimensions to take apart).")
    d = _dim(dim, x.ndim, "unbind")
    return tuple(p.squeeze(d) for p in split(x, 1, d))


# ---------------------------------------------------------------- tril, triu
def _matrices(x, op):
    if x.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got one of shape "
                           f"{tuple(x.shape)} (it works on the last two, a batch of matrices).")


class Tril(Function):
    """y = the lower triangle of each matrix (the last two dims) of x: yᵢⱼ = xᵢⱼ where
    j − i ≤ diagonal, else 0.   VJP: x̄ = tril(ȳ, diagonal), the same mask. Saves nothing."""

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return np.tril(x._data, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return Tril.apply(grad, ctx.diagonal), None


class Triu(Function):
    """y = the upper triangle: yᵢⱼ = xᵢⱼ where j − i ≥ diagonal, else 0.
    VJP: x̄ = triu(ȳ, diagonal). Saves nothing."""

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return np.triu(x._data, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return Triu.apply(grad, ctx.diagonal), None


def tril(input, diagonal=0):
    _matrices(input, "tril")
    return Tril.apply(input, int(diagonal))


def triu(input, diagonal=0):
    _matrices(input, "triu")
    return Triu.apply(input, int(diagonal))


# ---------------------------------------------------------------- repeat, repeat_interleave
class Repeat(Function):
    """y = x tiled: ``sizes[i]`` copies along dim i (x first given leading 1s when there are
    more sizes than dims).   VJP: x̄ = the sum of ȳ's copies — ȳ reshaped to (s₀, n₀, s₁, n₁,
    …) and summed over the copy axes. Saves nothing. Laid out row by row, as torch."""

    @staticmethod
    def forward(ctx, x, sizes):
        ctx.shape = x.shape
        ctx.padded = (1,) * (len(sizes) - x.ndim) + tuple(x.shape)
        ctx.sizes = sizes
        # a new tensor row by row, as torch's, even when every count is 1 (np.tile then
        # copies in x's order of dimensions)
        return row_major(np.tile(x._data.reshape(ctx.padded), sizes))

    @staticmethod
    def backward(ctx, grad):
        split = [m for s, n in zip(ctx.sizes, ctx.padded) for m in (s, n)]
        copies = tuple(range(0, 2 * len(ctx.sizes), 2))
        return grad.reshape(split).sum(dim=copies).reshape(ctx.shape), None


def repeat(x, *sizes):
    """``Tensor.repeat(*sizes)``: x tiled ``sizes[i]`` times along dim i."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not sizes:
        raise TypeError("repeat() missing 1 required positional arguments: \"repeats\" (one "
                        "count per dimension, e.g. x.repeat(2, 1)).")
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"repeat: Number of dimensions of repeat dims can not be smaller than "
                           f"number of dimensions of tensor: {len(sizes)} sizes {sizes} for a "
                           f"tensor of shape {tuple(x.shape)}.")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: Trying to create tensor with negative dimension: sizes "
                           f"{sizes} (tensor of shape {tuple(x.shape)}); counts must be ≥ 0.")
    return Repeat.apply(x, sizes)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or each slice along ``dim``) repeated ``repeats`` times in place:
    [a, b] → [a, a, b, b]. ``repeats`` an int or a tensor (one count per slice); without
    ``dim`` the input is flattened first. Composed: unsqueeze, expand and reshape for an int,
    indexing for a tensor, so the gradient sums the copies. ``repeat_interleave(counts)``
    alone gives the indices 0, 1, … each repeated its count."""
    if repeats is None:                         # repeat_interleave(counts)
        counts = input._data
        if counts.ndim != 1 or counts.dtype.kind not in "iu":
            raise RuntimeError(f"repeat_interleave: repeats must be a 1-d integer tensor, got "
                               f"one of shape {tuple(input.shape)} and dtype {counts.dtype}.")
        if (counts < 0).any():
            raise RuntimeError("repeat_interleave: repeats can not be negative.")
        return Tensor._make(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    if dim is not None and input.ndim == 0:          # torch: a 0-d tensor has no dim to repeat
        raise IndexError(f"repeat_interleave: dimension {dim} is out of range for a 0-d tensor; "
                         f"leave dim out to repeat its one element.")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim(dim, x.ndim, "repeat_interleave")
    if x.ndim == 0:
        x = x.reshape(1)
    n = x.shape[d]
    if isinstance(repeats, Tensor):
        r = repeats._data
        if r.ndim > 1 or r.dtype.kind not in "iu":
            raise RuntimeError(f"repeat_interleave: repeats must be an integer tensor of 0 or 1 "
                               f"dimension, got shape {tuple(repeats.shape)}, dtype {r.dtype}.")
        if r.size == 1:
            repeats = int(r.reshape(()))
        else:
            if r.size != n:
                raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                                   f"along dim: {r.size} counts for {n} slices (input of shape "
                                   f"{tuple(input.shape)}, dim {dim}).")
            if (r < 0).any():
                raise RuntimeError("repeat_interleave: repeats can not be negative.")
            idx = Tensor._make(np.repeat(np.arange(n, dtype=np.int64), r))
            return _new_rows(x[(slice(None),) * d + (idx,)], input)
    repeats = int(repeats)
    if repeats < 0:
        raise RuntimeError("repeat_interleave: repeats can not be negative.")
    shape = tuple(x.shape)
    wide = x.unsqueeze(d + 1).expand(*shape[:d + 1], repeats, *shape[d + 1:])
    return _new_rows(wide.reshape(*shape[:d], n * repeats, *shape[d + 1:]), input)


def _new_rows(y, x):
    """As torch's repeat_interleave, a new tensor laid out row by row: never a view of x (a
    reshape of the expanded x may be one), never in x's order of dimensions."""
    return clone(y, True) if np.shares_memory(y._data, x._data) or not y.is_contiguous() else y
