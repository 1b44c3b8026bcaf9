"""``minigrad.nn.utils``: gradient clipping and flat parameter vectors, as ``torch.nn.utils``.

``clip_grad_norm_`` is torch's recipe: the norm of each gradient, the norm of those norms (the
norm of all the gradients as one vector), and every gradient multiplied in place by
``min(1, max_norm / (total + 1e-6))`` — so gradients are only ever scaled down, all by the
same factor, and their direction is kept.
"""
import math

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters"]


def _tensors(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(x, p):
    """‖x‖_p of a flat numpy array, in its own dtype (p = inf, -inf, 0 or a number)."""
    a = np.abs(x)
    if p == math.inf:
        return a.max(initial=0)
    if p == -math.inf:
        return a.min()
    if p == 0:
        return np.asarray(np.count_nonzero(x), dtype=x.dtype)
    if p == 1:
        return a.sum()
    if p == 2:
        return np.sqrt(np.dot(x, x))
    return (a ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` taken as one vector (a 0-d tensor)."""
    tensors = [t for t in _tensors(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return Tensor(np.float32(0.0))
    norms = [_vector_norm(t._data.reshape(-1), norm_type) for t in tensors]
    total = _vector_norm(np.array(norms, dtype=np.result_type(*norms)), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           f"is non-finite, so it cannot be clipped. To disable this error and "
                           f"scale the gradients by the non-finite norm anyway, set "
                           f"`error_if_nonfinite=False`")
    return Tensor(np.asarray(total))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Multiply every gradient by ``min(1, max_norm / (total_norm + 1e-6))``, in place."""
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    coef = np.minimum(np.asarray(max_norm, total.dtype) / (total + total.dtype.type(1e-6)), 1.0)
    for g in grads:
        g._data *= coef.astype(g._data.dtype) if g._data.dtype.kind == "f" else coef
        g._vc[0] += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients of ``parameters`` in place so that their total ``norm_type``-norm
    is at most ``max_norm``; returns the total norm before clipping (a 0-d tensor), which
    training scripts log."""
    params = _tensors(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    if grads:
        clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient into [−clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _tensors(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._vc[0] += 1


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one vector (recorded in the graph)."""
    from .. import cat
    return cat([p.reshape(-1) for p in _tensors(parameters)])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of ``vec`` into the parameters (in place, outside the graph)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected minigrad.Tensor, but got: {type(vec).__name__}")
    start = 0
    for p in _tensors(parameters):
        n = p._data.size
        p._data[...] = vec._data[start:start + n].reshape(p._data.shape)
        p._vc[0] += 1
        start += n
