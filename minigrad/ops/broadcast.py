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
        return _view_of(out, x)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.shape), None


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
