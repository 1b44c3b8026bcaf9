"""``out=``: torch's functions can write their result into a tensor the caller gives, as in
``torch.matmul(a, b, out=c)``; minigrad's top-level functions accept it the same way.

The result is computed as usual, then copied into ``out`` (resized first if its shape differs,
with torch's warning when it had elements), and ``out`` is returned. As in torch, ``out=``
records no graph, so it refuses arguments that require grad while grad mode is on, and the
result must fit ``out``'s dtype: matrix products and clamp want it exactly, reductions that
sum compute in it, the rest cast up, never down a category (no float into an integer)."""
import functools
import warnings

import numpy as np

from . import autograd
from .tensor import Tensor

STRICT = {"matmul", "mm", "bmm", "clamp"}        # out must have the result's dtype
COMPUTES_IN_OUT = {"sum", "prod", "cumsum", "cumprod"}
OUT_FUNCTIONS = ("add", "sub", "mul", "div", "pow", "neg", "exp", "log",
                 "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "maximum", "minimum",
                 "matmul", "mm", "bmm", "cat", "stack", "sum", "mean", "prod", "cumsum",
                 "cumprod", "clamp", "floor_divide", "remainder", "log1p", "expm1")


def _category(dtype):
    return 2 if dtype.kind == "f" else 0 if dtype.kind == "b" else 1


def _requires_grad(values):
    for v in values:
        if isinstance(v, Tensor) and v.requires_grad:
            return True
        if isinstance(v, (list, tuple)) and _requires_grad(v):
            return True
    return False


def with_out(fn):
    """``fn`` that also takes ``out=`` (a Tensor), as torch's function of the same name."""
    name = fn.__name__

    @functools.wraps(fn)
    def call(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
        if autograd.is_grad_enabled() and _requires_grad(args + tuple(kwargs.values())):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               f"automatic differentiation, but one of the arguments requires "
                               f"grad.")
        with autograd.no_grad():
            if name in COMPUTES_IN_OUT and "dtype" not in kwargs:
                kwargs["dtype"] = out.dtype
            result = fn(*args, **kwargs)
        r, o = result._data.dtype, out._data.dtype
        if name in STRICT and r != o:
            raise RuntimeError(f"{name}(): expected out tensor to have dtype {result.dtype}, "
                               f"but got {out.dtype} instead (out has shape {tuple(out.shape)}).")
        if _category(r) > _category(o):
            raise RuntimeError(f"{name}(): result type {result.dtype} can't be cast to the "
                               f"desired output type {out.dtype} (out has shape "
                               f"{tuple(out.shape)}); give out a dtype that can hold it.")
        if out._data.shape != result._data.shape:
            if out._data.size:
                warnings.warn(
                    f"{name}(): an output with one or more elements was resized since it had "
                    f"shape {list(out.shape)}, which does not match the required output shape "
                    f"{list(result.shape)}. This behavior is deprecated, and in a future "
                    f"release outputs will not be resized unless they have zero elements. You "
                    f"can explicitly reuse an out tensor t by resizing it, inplace, to zero "
                    f"elements with t.resize_(0).", UserWarning, stacklevel=2)
            out._data = np.empty(result._data.shape, o)
        with autograd.no_grad():
            out.copy_(result)
        return out
    return call
