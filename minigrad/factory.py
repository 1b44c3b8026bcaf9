"""Building tensors: ``tensor``, ``zeros``, ``ones``, ``randn``, ``arange``… as in torch."""
import numpy as np

from . import dtypes
from .tensor import Tensor, _as_array, _Defaults


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new leaf tensor holding a copy of ``data`` (Python floats become float32 by default;
    a numpy array keeps its dtype, as torch.tensor does)."""
    return Tensor(np.array(_as_array(data, dtype), copy=True), requires_grad=requires_grad)


def _size(size):
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = size[0]
    size = tuple(size)
    if any(n < 0 for n in size):
        raise RuntimeError(f"cannot create a tensor of shape {size} with a negative dimension: "
                           f"every size must be 0 or more.")
    return size


def _new(data, dtype, requires_grad):
    dtype = _Defaults.dtype if dtype is None else dtypes.to_numpy(dtype)
    return Tensor(data.astype(dtype, copy=False), requires_grad=requires_grad)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _new(np.zeros(_size(size)), dtype, requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _new(np.ones(_size(size)), dtype, requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None):
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of ``size`` holding ``fill_value``; its dtype, unless given, follows the value
    as in torch: bool, int64 for an int, the default float dtype for a float."""
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, (int, np.integer)):
        dtype = np.int64
    return _new(np.full(_size((size,)), fill_value), dtype, requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye: n and m must be greater or equal to 0, got {n} and {m}.")
    return _new(np.eye(n, m), dtype, requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Standard normal samples from minigrad's generator (seed it with manual_seed)."""
    return _new(_Defaults.rng.standard_normal(_size(size)), dtype, requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None):
    return _new(_Defaults.rng.random(_size(size)), dtype, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)``, as torch."""
    if size is None and not isinstance(high, (int, np.integer)) and high is not None:
        low, high, size = 0, low, high                     # randint(high, size)
    if size is None or high is None:
        raise TypeError("randint: give randint(high, size) or randint(low, high, size); size "
                        "(a tuple) is required.")
    out = _Defaults.rng.integers(low, high, size=tuple(size))
    return Tensor(out.astype(np.int64 if dtype is None else dtype))


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError(f"arange: step must be nonzero (from {start} to {end}).")
    out = np.arange(start, end, step)
    if dtype is None and out.dtype.kind == "f":
        dtype = _Defaults.dtype
    return Tensor(out if dtype is None else out.astype(dtype), requires_grad=requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    return _new(np.linspace(start, end, steps), dtype, requires_grad)


def _like(fn, x, dtype, requires_grad):
    return Tensor(fn(x.shape).astype(x._data.dtype if dtype is None else dtype),
                  requires_grad=requires_grad)


def zeros_like(x, dtype=None, requires_grad=False, device=None):
    return _like(np.zeros, x, dtype, requires_grad)


def ones_like(x, dtype=None, requires_grad=False, device=None):
    return _like(np.ones, x, dtype, requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False, device=None):
    return _like(lambda s: np.full(s, fill_value), x, dtype, requires_grad)


def randn_like(x, dtype=None, requires_grad=False, device=None):
    return _like(_Defaults.rng.standard_normal, x, dtype, requires_grad)


def rand_like(x, dtype=None, requires_grad=False, device=None):
    return _like(_Defaults.rng.random, x, dtype, requires_grad)
