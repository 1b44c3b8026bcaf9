"""Matrix products: matmul (``@``) and the linear layer ``F.linear``.

The dimension rule of the notes: a gradient has its variable's shape, so
X̄ = Ȳ·Wᵀ ((m,p)·(p,n) = (m,n)) and W̄ = Xᵀ·Ȳ ((n,m)·(m,p) = (n,p)).
"""
import math

import numpy as np

from ..autograd import Function
from .broadcast import unbroadcast, unbroadcast_array
from .shape import IndexAdd


def _matmul_error(a, b):
    sa, sb = tuple(a.shape), tuple(b.shape)
    if a.ndim == 0 or b.ndim == 0:
        return RuntimeError(f"matmul: both arguments need at least one dimension, got shapes "
                            f"{sa} and {sb}; use * to scale by a scalar.")
    ka = sa[-1]
    kb = sb[0] if b.ndim == 1 else sb[-2]
    if ka != kb:
        return RuntimeError(
            f"matmul: cannot multiply shapes {sa} and {sb}: the last dimension of the first "
            f"({ka}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} dimension of "
            f"the second ({kb}).")
    return RuntimeError(f"matmul: the batch dimensions of shapes {sa} and {sb} cannot be "
                        f"broadcast together.")


class MatMul(Function):
    """Y = A @ B (batched; batch dimensions broadcast; 1-D operands are a row / a column).

    VJP: Ā = Ȳ @ Bᵀ,  B̄ = Aᵀ @ Ȳ, each then ``unbroadcast`` over the batch dimensions that
    broadcasting added. Saves A and B."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return np.matmul(a._data, b._data)
        except ValueError:
            raise _matmul_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a2 = a.unsqueeze(0) if a.ndim == 1 else a          # (k,) -> (1, k)
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b         # (k,) -> (k, 1)
        out_shape = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1])
        g = grad.reshape(out_shape)
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(g @ b2.mT, a2.shape).reshape(a.shape) if na else None
        gb = unbroadcast(a2.mT @ g, b2.shape).reshape(b.shape) if nb else None
        return ga, gb

    @staticmethod
    def array_backward(ctx, grad):
        a, b = (t._data for t in ctx.saved_tensors)
        a2 = a[None] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad.reshape(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) +
                         (a2.shape[-2], b2.shape[-1]))
        na, nb = ctx.needs_input_grad
        ga = unbroadcast_array(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape) \
            if na else None
        gb = unbroadcast_array(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape) \
            if nb else None
        return ga, gb


class Linear(Function):
    """Y = X·Wᵀ + b with torch's (out_features, in_features) weight.

    VJP: X̄ = Ȳ·W,  W̄ = Ȳᵀ·X (summed over all batch dimensions),
         b̄ = Σ_batch Ȳ (the bias was broadcast over the batch, so its gradient is the sum).
    Saves X and W."""

    @staticmethod
    def forward(ctx, x, w, b):
        if x.shape[-1:] != w.shape[-1:] or w.ndim != 2:
            raise RuntimeError(
                f"linear: input of shape {tuple(x.shape)} and weight of shape {tuple(w.shape)} "
                f"do not fit: the weight is (out_features, in_features) and its last dimension "
                f"must equal the input's last dimension.")
        if b is not None and b.shape != w.shape[:1]:
            raise RuntimeError(f"linear: bias of shape {tuple(b.shape)} does not fit weight of "
                               f"shape {tuple(w.shape)}; it must be ({w.shape[0]},).")
        ctx.save_for_backward(x, w)
        y = x._data @ w._data.T
        if b is not None:
            y += b._data
        return y

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad
        rows = math.prod(grad.shape[:-1])      # not -1: that is ambiguous for 0 elements
        g2 = grad.reshape(rows, grad.shape[-1]) if grad.ndim != 2 else grad
        gx = grad @ w if nx else None
        gw = g2.mT @ (x.reshape(rows, x.shape[-1]) if x.ndim != 2 else x) if nw else None
        gb = g2.sum(0) if nb else None
        return gx, gw, gb

    @staticmethod
    def array_backward(ctx, grad):
        x, w = (t._data for t in ctx.saved_tensors)
        nx, nw, nb = ctx.needs_input_grad
        g2 = grad.reshape(math.prod(grad.shape[:-1]), grad.shape[-1])
        return (grad @ w if nx else None,
                g2.T @ x.reshape(g2.shape[0], x.shape[-1]) if nw else None,
                g2.sum(0) if nb else None)


def _same_dtype(op, *xs):
    dtypes = [x._data.dtype for x in xs if x is not None]
    if any(dt != dtypes[0] for dt in dtypes):
        raise RuntimeError(f"{op}: expected both operands to have the same dtype, but got "
                           f"{' and '.join(str(dt) for dt in dtypes)} (shapes "
                           f"{' and '.join(str(tuple(x.shape)) for x in xs if x is not None)}); "
                           f"matrix products do not promote: cast one with .to(other.dtype).")


def matmul(a, b):
    if a._data.dtype != b._data.dtype:
        _same_dtype("matmul", a, b)
    return MatMul.apply(a, b)


def mm(a, b):
    """The product of two matrices (2-D only; ``matmul`` broadcasts batches)."""
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: both arguments must be matrices (2-D), got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}; use bmm or matmul for "
                           f"batches.")
    return matmul(a, b)


def bmm(a, b):
    """Batched matrix product of two 3-D tensors (b, n, m) @ (b, m, p), no broadcasting."""
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: both arguments must be 3-D batches of matrices, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}; use mm for matrices.")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: the batch sizes of shapes {tuple(a.shape)} and "
                           f"{tuple(b.shape)} differ ({a.shape[0]} and {b.shape[0]}); bmm does "
                           f"not broadcast, use matmul.")
    return matmul(a, b)


def linear(input, weight, bias=None):
    if input._data.dtype != weight._data.dtype or (bias is not None and
                                                  bias._data.dtype != weight._data.dtype):
        _same_dtype("linear", input, weight, bias)
    return Linear.apply(input, weight, bias)
