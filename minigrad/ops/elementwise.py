"""Element-wise arithmetic: + - * / ** neg exp log sqrt abs sin cos erf clamp where.

Notation: ȳ is the upstream gradient dL/dy, x̄ the gradient we return. Binary ops
broadcast; their VJPs end in ``unbroadcast`` so each gradient has its input's shape.
"""
import math

import numpy as np
from scipy import special

from ..autograd import Function
from ..tensor import Tensor, _Defaults
from .broadcast import broadcast_error, unbroadcast


def _d(x):
    return x.data if isinstance(x, Tensor) else x


def _binary(op, fn, a, b):
    try:
        return fn(_d(a), _d(b))
    except ValueError:
        raise broadcast_error(op, _d(a), _d(b)) from None


def _operand(x, like):
    """Tensors pass through; numbers stay numbers (as torch, an int tensor times a float
    becomes the default float dtype); arrays and lists become constant tensors."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.generic):           # a numpy scalar counts as a number, as in torch
        return x.item()
    if isinstance(x, (bool, int, float)):
        return x
    return Tensor(x)


def _tensor_or_none(x):
    return x if isinstance(x, Tensor) else None


def _const_or_none(x):
    return None if isinstance(x, Tensor) else x


def _promote(a, b):
    """Type promotion as torch does it: an integer (or bool) tensor meeting a float tensor
    takes that tensor's dtype, and meeting a Python float the default float dtype (numpy
    would go to float64 in both cases)."""
    a_int = a.data.dtype.kind != "f"
    if isinstance(b, Tensor):
        b_int = b.data.dtype.kind != "f"
        if a_int and not b_int:
            a = a.to(b.data.dtype)
        elif b_int and not a_int:
            b = b.to(a.data.dtype)
    elif isinstance(b, float) and a_int:
        a = a.to(_Defaults.dtype)
    return a, b


class Add(Function):
    """y = a + b.   VJP: ā = ȳ,  b̄ = ȳ (each unbroadcast to its input's shape).
    The gradient is copied unchanged to both inputs: why skip connections keep gradients
    alive. Saves nothing."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, np.shape(_d(b)))
        return _binary("add", np.add, a, b)

    @staticmethod
    def backward(ctx, grad):
        na, nb = ctx.needs_input_grad
        return (unbroadcast(grad, ctx.shapes[0]) if na else None,
                unbroadcast(grad, ctx.shapes[1]) if nb else None)


class Sub(Function):
    """y = a − b.   VJP: ā = ȳ,  b̄ = −ȳ. Saves nothing."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(_d(a)), np.shape(_d(b)))
        return _binary("sub", np.subtract, a, b)

    @staticmethod
    def backward(ctx, grad):
        na, nb = ctx.needs_input_grad
        return (unbroadcast(grad, ctx.shapes[0]) if na else None,
                unbroadcast(-grad, ctx.shapes[1]) if nb else None)


class Mul(Function):
    """y = a ⊙ b.   VJP: ā = ȳ ⊙ b,  b̄ = ȳ ⊙ a ("multiply by the other one").
    Saves a and b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if isinstance(b, Tensor) else None, _tensor_or_none(b))
        ctx.other = _const_or_none(b)
        return _binary("mul", np.multiply, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        b = ctx.other if b is None else b
        na, nb = ctx.needs_input_grad
        return (unbroadcast(grad * b, ctx._input_meta[0][0]) if na else None,
                unbroadcast(grad * a, b.shape) if nb else None)


class Div(Function):
    """y = a / b.   VJP: ā = ȳ / b,  b̄ = −ȳ ⊙ a / b². Saves a and b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(_tensor_or_none(a) if isinstance(b, Tensor) else None,
                              _tensor_or_none(b))
        ctx.consts = (_const_or_none(a), _const_or_none(b))
        return _binary("div", np.true_divide, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a = ctx.consts[0] if a is None else a
        b = ctx.consts[1] if b is None else b
        na, nb = ctx.needs_input_grad
        return (unbroadcast(grad / b, ctx._input_meta[0][0]) if na else None,
                unbroadcast(-grad * a / (b * b), b.shape) if nb else None)


class Pow(Function):
    """y = a ** n.   VJP: ā = n · a^(n−1) · ȳ;  for a tensor exponent also
    n̄ = ȳ · y · ln a (taken as 0 where a = 0, as torch). Saves a and n."""

    @staticmethod
    def forward(ctx, a, n):
        ctx.save_for_backward(_tensor_or_none(a), _tensor_or_none(n))
        ctx.consts = (_const_or_none(a), _const_or_none(n))
        return _binary("pow", np.power, a, n)

    @staticmethod
    def backward(ctx, grad):
        a, n = ctx.saved_tensors
        a = ctx.consts[0] if a is None else a
        n = ctx.consts[1] if n is None else n
        na, nn = ctx.needs_input_grad
        ga = gn = None
        if na:
            if not isinstance(n, Tensor) and n == 0:
                ga = grad * 0.0
            else:
                ga = unbroadcast(grad * n * a ** (n - 1), a.shape)
        if nn:
            a_t = a if isinstance(a, Tensor) else Tensor._make(np.asarray(a, n.data.dtype))
            safe = where(a_t == 0, 1.0, a_t)
            ga_n = grad * (a_t ** n) * log(safe)
            gn = unbroadcast(ga_n, n.shape)
        return ga, gn


class Neg(Function):
    """y = −x.   VJP: x̄ = −ȳ. Saves nothing."""

    @staticmethod
    def forward(ctx, x):
        return np.negative(x.data)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Function):
    """y = eˣ.   VJP: x̄ = ȳ ⊙ y (the output itself: why exp gradients can explode).
    Saves y."""

    @staticmethod
    def forward(ctx, x):
        y = Tensor._make(np.exp(x.data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * y


class Log(Function):
    """y = ln x.   VJP: x̄ = ȳ / x (explodes as x → 0: hence log(x + eps)). Saves x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x.data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """y = √x.   VJP: x̄ = ȳ / (2y) (infinite at x = 0). Saves y."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            y = Tensor._make(np.sqrt(x.data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad / (2 * y)


class Abs(Function):
    """y = |x|.   VJP: x̄ = ȳ · sign(x) (0 at x = 0, as torch). Saves x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x.data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * sign(x)


class Sin(Function):
    """y = sin x.   VJP: x̄ = ȳ · cos x. Saves x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x.data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * cos(x)


class Cos(Function):
    """y = cos x.   VJP: x̄ = −ȳ · sin x. Saves x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x.data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return -grad * sin(x)


class Erf(Function):
    """y = erf x = (2/√π) ∫₀ˣ e^(−t²) dt.   VJP: x̄ = ȳ · (2/√π) e^(−x²). Saves x.
    (GELU's Φ(x) = ½(1 + erf(x/√2)) is built on it.)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return special.erf(x.data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * exp(-(x * x))


class Clamp(Function):
    """y = min(max(x, lo), hi).   VJP: x̄ = ȳ where lo ≤ x ≤ hi, else 0 (as torch). Saves x."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return np.clip(x.data, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        lo, hi = ctx.bounds
        keep = np.ones(x.shape, bool)
        if lo is not None:
            keep &= x.data >= lo
        if hi is not None:
            keep &= x.data <= hi
        return grad * Tensor._make(keep), None, None


class Where(Function):
    """y = cond ? a : b.   VJP: ā = ȳ where cond else 0,  b̄ = ȳ where not cond else 0
    (unbroadcast). Saves cond (a bool array, never differentiated)."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        ctx.shapes = (np.shape(_d(a)), np.shape(_d(b)))
        try:
            return np.where(cond, _d(a), _d(b))
        except ValueError:
            raise RuntimeError(f"where: condition {cond.shape}, input {ctx.shapes[0]} and "
                               f"other {ctx.shapes[1]} cannot be broadcast together.") from None

    @staticmethod
    def backward(ctx, grad):
        _, na, nb = ctx.needs_input_grad
        zero = Tensor._make(np.zeros((), grad.data.dtype))
        return (None,
                unbroadcast(where(ctx.cond, grad, zero), ctx.shapes[0]) if na else None,
                unbroadcast(where(ctx.cond, zero, grad), ctx.shapes[1]) if nb else None)


class ToDtype(Function):
    """y = x cast to another float dtype.   VJP: x̄ = ȳ cast back. Saves nothing."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.data.dtype
        return x.data.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.dtype), None


class Clone(Function):
    """y = a copy of x.   VJP: x̄ = ȳ. Saves nothing."""

    @staticmethod
    def forward(ctx, x):
        return x.data.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


# ---------------------------------------------------------------- functions
def add(a, b, alpha=1):
    b = _operand(b, a)
    if alpha != 1:
        b = b * alpha
    if isinstance(a, Tensor):
        return Add.apply(*_promote(a, b))
    return Add.apply(b, a)


def sub(a, b, alpha=1):
    b = _operand(b, a)
    if alpha != 1:
        b = b * alpha
    return Sub.apply(*_promote(a, b))


def rsub(a, b):
    """b − a, for ``number - tensor``."""
    if isinstance(b, Tensor):
        a, b = _promote(a, b)
        return Sub.apply(b, a)
    return add(neg(a), b)


def mul(a, b):
    b = _operand(b, a)
    if not isinstance(a, Tensor):
        a, b = b, a
    return Mul.apply(*_promote(a, b))


def div(a, b, rounding_mode=None):
    if rounding_mode is not None:
        raise NotImplementedError("div: rounding_mode is not differentiable; use a // b on .data")
    b = _operand(b, a)
    a, b = _promote(a, b)
    if a.data.dtype.kind != "f" and (not isinstance(b, Tensor) or b.data.dtype.kind != "f"):
        a = a.to(_Defaults.dtype)       # as torch: integer division gives a float
    return Div.apply(a, b)


def rdiv(a, b):
    """b / a, for ``number / tensor``."""
    a, b = _promote(a, b)
    return Div.apply(b, a)


def pow(a, n):
    n = _operand(n, a)
    return Pow.apply(*_promote(a, n))


def rpow(a, base):
    return Pow.apply(base, a)


def neg(x):
    return Neg.apply(x)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def rsqrt(x):
    return sqrt(x) ** -1


def abs(x):
    return Abs.apply(x)


def sin(x):
    return Sin.apply(x)


def cos(x):
    return Cos.apply(x)


def erf(x):
    return Erf.apply(x)


def square(x):
    return x * x


def clamp(x, min=None, max=None):
    return Clamp.apply(x, min, max)


clip = clamp


def where(condition, input, other):
    """``condition ? input : other`` element-wise; differentiable in ``input`` and ``other``."""
    cond = np.asarray(_d(condition), dtype=bool)
    input, other = _operand(input, None), _operand(other, None)
    return Where.apply(cond, input, other)


def to_dtype(x, dtype):
    if x.data.dtype.kind == "f" and np.dtype(dtype).kind == "f":
        return ToDtype.apply(x, dtype)
    return Tensor._make(x.data.astype(dtype))


def clone(x):
    return Clone.apply(x)


def sign(x):
    return Tensor._make(np.sign(x.data))


# comparisons and logic: results are boolean and carry no gradient
def _compare(fn, name):
    def compare(a, b):
        return Tensor._make(_binary(name, fn, a, b))
    compare.__name__ = name
    compare.__doc__ = f"Element-wise ``{name}``; a bool tensor with no gradient."
    return compare


lt, le, gt, ge = (_compare(np.less, "lt"), _compare(np.less_equal, "le"),
                  _compare(np.greater, "gt"), _compare(np.greater_equal, "ge"))
eq, ne = _compare(np.equal, "eq"), _compare(np.not_equal, "ne")
logical_and, logical_or = _compare(np.logical_and, "logical_and"), _compare(np.logical_or, "logical_or")


def logical_not(x):
    return Tensor._make(np.logical_not(x.data) if x.data.dtype == bool else np.invert(x.data))


def isnan(x):
    return Tensor._make(np.isnan(x.data))


def isfinite(x):
    return Tensor._make(np.isfinite(x.data))


def allclose(a, b, rtol=1e-5, atol=1e-8):
    return bool(np.allclose(_d(a), _d(b), rtol=rtol, atol=atol))


def masked_fill(x, mask, value):
    """``x`` with ``value`` wherever ``mask`` is True; the gradient flows only where it is not."""
    return where(mask, value, x)
