"""Broadcasting and its gradient: ``expand`` forward, ``unbroadcast`` backward.

When ``x + b`` broadcasts a bias of shape (n,) over a batch of shape (B, n), the bias is
used B times, so its gradient is the sum of the B gradients it contributed to. That sum
is ``unbroadcast``: every VJP of a broadcasting op passes its result through it, and the
rule "a gradient always has its variable's shape" holds by construction.
"""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor


def _view_of(out, x):
    """Wrap a numpy view of x's memory as a Tensor: it shares x's version counter, and its
    ``_base`` is the tensor that owns the memory (x, or x's own base if x is a view).
    ``Function.apply`` then gives it the :class:`~minigrad.autograd.ViewFn` that takes
    the same view again."""
    t = Tensor._make(out, vc=x._vc)
    t._base = x._base if x._view_fn is not None else x
    return t


def row_major(a):
    """``a`` laid out row by row (C order), as torch lays out the new tensor of most ops
    (softmax, layer_norm, cumsum, cat, index_select...) whatever its input's order, so that
    ``.view`` of it works as torch's does; numpy keeps its input's order instead."""
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def iter_order(shape, operands):
    """The order torch's TensorIterator gives a new result's dimensions (its
    ``reorder_dimensions``), slowest first: ``operands`` are the inputs' strides along the
    result's dimensions, in the op's order of inputs, 0 where an input is broadcast. Sorted
    from the fastest dimension by insertion: the first input whose strides differ in two
    dimensions decides their order (equal strides: the larger dimension goes after, if that
    input says so); an input with stride 0 in either leaves the choice to the next one, and
    when none decides, the two keep their places (the last dimension fastest)."""
    def swap(d0, d1):                      # TensorIterator's should_swap: 1, -1 or 0
        for st in operands:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return 1 if s0 > s1 else -1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = list(range(len(shape)))[::-1]   # fastest first
    for i in range(1, len(perm)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return perm[::-1]


def in_order(out, order):
    """``out`` laid out densely with its dimensions in memory as ``order`` (slowest first)."""
    if order == list(range(out.ndim)):
        return np.ascontiguousarray(out)
    dense = np.ascontiguousarray(out.transpose(order)).transpose(np.argsort(order))
    strides, step = [0] * out.ndim, out.itemsize     # torch's, in dimensions of size 1 too
    for d in reversed(order):
        strides[d], step = step, step * out.shape[d]
    return with_strides(dense, strides)


def iter_layout(out, inputs):
    """``out``, the new result of an element-wise op on the numpy arrays ``inputs`` (in the
    op's order; numbers left out), laid out as torch's TensorIterator lays it out: the
    inputs' strides along the result's dimensions (0 where an input is broadcast, its own
    stride where it has size 1 and so has the result) order the result's dimensions, by
    :func:`iter_order`. Inputs all row by row give a result row by row; so does the ordering
    when no input decides."""
    if out.size == 0:
        return out                         # no element: any layout views as any other
    shape, operands = out.shape, []
    for x in inputs:
        lead = out.ndim - x.ndim
        operands.append([0] * lead + [0 if n == 1 and shape[lead + i] != 1 else st
                                      for i, (n, st) in enumerate(zip(x.shape, x.strides))])
    return in_order(out, iter_order(shape, operands))


def unbroadcast(grad, shape):
    """Reduce ``grad`` back to ``shape`` by summing over the dimensions broadcasting added.

    1. dimensions that broadcasting prepended (``grad.ndim - len(shape)`` leading ones) are
       summed away;
    2. dimensions where ``shape`` has size 1 but ``grad`` does not are summed with keepdim.

    >>> unbroadcast(ones(32, 10), (10,)).shape        # the bias gradient of a batch of 32
    minigrad.Size([10])
    """
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"unbroadcast: a gradient of shape {tuple(grad.shape)} cannot be "
                           f"reduced to the larger shape {shape}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and grad.shape[lead + i] != 1)
    if dims:
        grad = grad.sum(dim=dims, keepdim=True)
    return grad.reshape(shape) if grad.shape != shape else grad


def unbroadcast_array(grad, shape):
    """:func:`unbroadcast` on a numpy array (for the ``array_backward`` VJPs)."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and grad.shape[lead + i] != 1)
    if dims:
        grad = grad.sum(axis=dims, keepdims=True)
    return grad.reshape(shape) if grad.shape != shape else grad


class Expand(Function):
    """``y = expand(x, shape)``: x repeated along broadcast dimensions (no copy).

    VJP: ``x̄ = unbroadcast(ȳ, x.shape)`` — each copy's gradient is summed back.
    Saves nothing (only x's shape)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:      # a read-only view: several of its elements are one place in memory
            out = np.broadcast_to(x._data, shape)
        except ValueError:
            raise RuntimeError(
                f"expand: cannot expand shape {tuple(x.shape)} to {tuple(shape)}: each "
                f"dimension must match or be 1 (new dimensions go in front).") from None
        if 1 in shape and x._data.ndim:
            out = _torch_strides(out, x._data)
        return _view_of(out, x)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.shape), None


def _torch_strides(out, x):
    """``out = broadcast_to(x, shape)`` with torch's strides in its dimensions of size 1:
    torch's expand keeps x's stride where x has size 1 and is not expanded, and gives a new
    leading dimension of size 1 the size times the stride of the next (numpy makes both 0).
    They address nothing, but torch's TensorIterator reads them to order a result's
    dimensions (:func:`iter_order`)."""
    shape, lead, strides = out.shape, out.ndim - x.ndim, list(out.strides)
    for i in range(out.ndim - 1, -1, -1):
        if shape[i] == 1:
            strides[i] = x.strides[i - lead] if i >= lead else (
                shape[i + 1] * strides[i + 1] if i + 1 < out.ndim else x.itemsize)
    return with_strides(out, strides)


def with_strides(out, strides):
    """``out`` with other strides in its dimensions of size 1 (which address nothing): the
    same view of the same memory, for torch's strides there, which torch's TensorIterator
    reads to order a result's dimensions. ``out`` itself when numpy cannot make it."""
    strides = tuple(strides)
    if strides == out.strides or out.size == 0:
        return out
    root = out
    while isinstance(root.base, np.ndarray):
        root = root.base
    try:        # a view of the same memory (as_strided's would hide whose memory it is)
        v = np.ndarray(out.shape, out.dtype, buffer=root, strides=strides,
                       offset=out.__array_interface__["data"][0] -
                       root.__array_interface__["data"][0])
    except (TypeError, ValueError, BufferError):
        return out
    if not out.flags.writeable:
        v.flags.writeable = False
    return v


def expand(x, *shape):
    shape = tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape
    lead = len(shape) - x.ndim
    if any(n < 0 and (i < lead or n != -1) for i, n in enumerate(shape)):
        raise RuntimeError(f"expand: cannot expand shape {tuple(x.shape)} to {tuple(shape)}: -1 "
                           f"(keep the size) is allowed only for an existing dimension, and no "
                           f"size may be negative.")
    shape = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    if shape == x.shape:
        return x
    return Expand.apply(x, shape)


def expand_as(x, other):
    return expand(x, other.shape)


def broadcast_to(x, shape):
    return expand(x, tuple(shape))


def broadcast_error(op, a, b):
    sa, sb = np.shape(a), np.shape(b)
    return RuntimeError(
        f"{op}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast together: aligned from "
        f"the right, each pair of dimensions must be equal or one of them 1.")
