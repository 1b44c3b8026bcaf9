"""Element-wise arithmetic: + - * / ** neg exp log sqrt abs sin cos erf clamp where,
log10 log2 log1p expm1, // % fmod (and the comparisons, isclose, equal: no gradient).

Notation: ȳ is the upstream gradient dL/dy, x̄ the gradient we return. Binary ops
broadcast; their VJPs end in ``unbroadcast`` so each gradient has its input's shape.
"""
import math

import numpy as np
from scipy import special

from ..autograd import Function, NoDerivative
from ..tensor import Tensor, _Defaults
from .broadcast import broadcast_error, iter_layout, unbroadcast, unbroadcast_array


def _d(x):
    return x._data if isinstance(x, Tensor) else x


def _binary(op, fn, a, b):
    try:
        out = fn(_d(a), _d(b))
        # operands row by row (or numbers) give a result row by row, in numpy as in torch:
        # nothing to compute
        if (isinstance(a, Tensor) and not a._data.flags.c_contiguous or
                isinstance(b, Tensor) and not b._data.flags.c_contiguous) and out.ndim > 1:
            out = iter_layout(out, [x._data for x in (a, b) if isinstance(x, Tensor)])
        return out
    except ValueError as e:
        da, db = _d(a), _d(b)
        try:
            np.broadcast_shapes(np.shape(da), np.shape(db))
        except ValueError:
            raise broadcast_error(op, da, db) from None
        if op == "pow" and isinstance(b, Tensor):   # torch: 2 ** -1 = 0, 1 ** -1 = 1, 0 ** -1 = 0
            neg = db < 0
            odd = np.where(np.abs(db) % 2 == 1, -1, 1)
            small = np.where(da == 1, 1, np.where(da == -1, odd, 0))
            return np.where(neg, small, np.power(da, np.where(neg, 0, db))).astype(
                np.result_type(da, db))
        if op == "pow":      # numpy refuses integers to negative integer powers, as torch
            raise RuntimeError(
                f"pow: integers to negative integer powers are not allowed (base of dtype "
                f"{np.result_type(da)} and shape {np.shape(da)}, exponent {db}); use a "
                f"floating-point base, e.g. x.float() ** {db}.") from None
        raise RuntimeError(f"{op}: {e} (shapes {np.shape(da)} and {np.shape(db)})") from None


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


_BOOL, _INT64 = np.dtype(bool), np.dtype(np.int64)


def _category(dtype):
    """torch's dtype categories, lowest first: 0 bool, 1 integer, 2 floating point."""
    return 2 if dtype.kind == "f" else 0 if dtype.kind == "b" else 1


def _join(a, b):
    """Two dtypes of the same rank of operand: the higher category wins (int64 with float32
    gives float32); within one category the wider dtype."""
    if a is None or a == b:
        return b
    ca, cb = _category(a), _category(b)
    return np.promote_types(a, b) if ca == cb else a if ca > cb else b


def result_type(*operands):
    """The dtype of an operation on ``operands``, by torch's promotion table.

    Operands come in three ranks: tensors with dimensions, 0-d tensors, Python numbers.
    The result takes the dtype of the highest rank present (joined by :func:`_join`); a
    lower rank changes it only if its category is higher, and then gives its own dtype (a
    0-d tensor) or the default one (a Python number: an int meeting a bool tensor gives
    int64, a float meeting an integer tensor the default float dtype). So
    ``float32 + float64 0-d`` stays float32, ``int64 + 0.5`` is float32 (numpy: float64)."""
    dims = zero = number = None
    for o in operands:
        if isinstance(o, Tensor):
            if o._data.ndim:
                dims = _join(dims, o._data.dtype)
            else:
                zero = _join(zero, o._data.dtype)
        elif o is not None:
            dt = (_BOOL if isinstance(o, (bool, np.bool_)) else
                  _INT64 if isinstance(o, (int, np.integer)) else _Defaults.dtype)
            number = _join(number, dt)
    out = dims
    for dt in (zero, number):
        if dt is not None and (out is None or _category(dt) > _category(out)):
            out = dt
    return out


def _cast(x, dtype):
    return x.to(dtype) if isinstance(x, Tensor) and x._data.dtype != dtype else x


def _promote(a, b):
    """Both operands of a binary op brought to :func:`result_type` (a Python number stays a
    number: numpy then keeps the tensor's dtype, as torch)."""
    if isinstance(b, Tensor):
        if a._data.dtype == b._data.dtype:
            return a, b
    elif a._data.dtype.kind == "f":          # a number never changes a float tensor's dtype
        return a, b
    dt = result_type(a, b)
    return _cast(a, dt), _cast(b, dt)


def float_only(op, x):
    """Refuse, as torch, an integer or bool tensor where only floats are implemented."""
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for a tensor of dtype {x._data.dtype} "
                                  f"(shape {tuple(x.shape)}); convert it with .float() first.")


def _floating(x):
    """An integer or bool tensor as the default float dtype (exp, log, sin, ... of an
    integer tensor are floats, as in torch); a float tensor unchanged."""
    return x if x._data.dtype.kind == "f" else x.to(_Defaults.dtype)


def _zero(like):
    return Tensor._make(np.zeros((), like._data.dtype))


def select_array(keep, a):
    """``a`` where ``keep`` holds, +0 elsewhere, for a float array: ``np.where(keep, a, 0)``
    without its branches (numpy's where is ten times slower on a mask with no pattern, as a
    ReLU's is): the bits of ``a`` ANDed with all ones or all zeros. A −0 or NaN that is kept
    stays as it is. ``keep`` has the shape of ``a``."""
    ints = np.dtype(f"i{a.itemsize}")
    bits = np.asarray(keep).astype(ints)
    np.negative(bits, out=bits)                   # 1 → −1: every bit set
    np.bitwise_and(a.view(ints), bits, out=bits)
    return bits.view(a.dtype)


def select(mask, grad):
    """ȳ where ``mask`` (a bool array) holds, 0 elsewhere: how a VJP masks a gradient.

    By selection, not multiplication: ȳ · 0 would turn an infinite or NaN ȳ into NaN where
    the gradient must be 0 (√relu(x) at x < 0, as torch). A minigrad op (Where), so it stays
    differentiable with create_graph=True."""
    return Where.apply(mask, grad, _zero(grad), False)


class Add(Function):
    """y = a + b.   VJP: ā = ȳ,  b̄ = ȳ (each unbroadcast to its input's shape).
    The gradient is copied unchanged to both inputs: why skip connections keep gradients
    alive. Saves nothing."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a._data.shape, np.shape(_d(b)))
        return _binary("add", np.add, a, b)

    @staticmethod
    def backward(ctx, grad):
        na, nb = ctx.needs_input_grad
        return (unbroadcast(grad, ctx.shapes[0]) if na else None,
                unbroadcast(grad, ctx.shapes[1]) if nb else None)

    @staticmethod
    def array_backward(ctx, grad):
        na, nb = ctx.needs_input_grad
        return (unbroadcast_array(grad, tuple(ctx.shapes[0])) if na else None,
                unbroadcast_array(grad, tuple(ctx.shapes[1])) if nb else None)


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

    @staticmethod
    def array_backward(ctx, grad):
        na, nb = ctx.needs_input_grad
        return (unbroadcast_array(grad, tuple(ctx.shapes[0])) if na else None,
                unbroadcast_array(-grad, tuple(ctx.shapes[1])) if nb else None)


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

    @staticmethod
    def array_backward(ctx, grad):
        a, b = ctx.saved_tensors
        b = ctx.other if b is None else b._data
        na, nb = ctx.needs_input_grad
        return (unbroadcast_array(grad * b, ctx._input_meta[0][0]) if na else None,
                unbroadcast_array(grad * a._data, b.shape) if nb else None)


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
                unbroadcast(-grad * ((a / b) / b), b.shape) if nb else None)   # torch's order

    @staticmethod
    def array_backward(ctx, grad):
        a, b = ctx.saved_tensors
        a = ctx.consts[0] if a is None else a._data
        b = ctx.consts[1] if b is None else b._data
        na, nb = ctx.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (unbroadcast_array(grad / b, ctx._input_meta[0][0]) if na else None,
                    unbroadcast_array(-grad * ((a / b) / b), np.shape(b)) if nb else None)


class Pow(Function):
    """y = a ** n.   VJP: ā = n · a^(n−1) · ȳ (0 where n = 0, even at a = 0 and whatever ȳ:
    the product is selected away, as torch);  for a tensor exponent also
    n̄ = ȳ · y · ln a, the factor taken as 0 where a = 0 and n ≥ 0 (as torch; at a = 0,
    n < 0 it is ∞ · (−∞) = −∞). The factors are masked, then multiplied by ȳ, as torch: a
    NaN ȳ stays NaN. Saves a and n."""

    @staticmethod
    def forward(ctx, a, n):
        ctx.save_for_backward(_tensor_or_none(a), _tensor_or_none(n))
        ctx.consts = (_const_or_none(a), _const_or_none(n))
        with np.errstate(divide="ignore", invalid="ignore"):     # 0 ** -1 = inf, as torch
            if isinstance(a, Tensor) and not isinstance(n, Tensor) and n in (0.5, -0.5) \
                    and a._data.dtype.kind == "f":
                r = np.sqrt(a._data)          # as torch: sqrt and rsqrt, so (−∞) ** −0.5 is NaN
                return r if n == 0.5 else 1 / r
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
                ga = select(np.zeros(grad.shape, bool), grad)     # 0, even where ȳ is NaN
            elif isinstance(n, Tensor):
                # as torch: 0 where n = 0, the product selected away (an infinite or NaN ȳ too)
                prod = grad * n * a ** (n - 1)
                ga = unbroadcast(select(np.broadcast_to(n._data != 0, prod.shape), prod), a.shape)
            else:
                ga = unbroadcast(grad * n * a ** (n - 1), a.shape)
        if nn:
            a_t = a if isinstance(a, Tensor) else Tensor._make(np.asarray(a, n._data.dtype))
            zero = np.asarray((a_t._data == 0) & (n._data >= 0))
            safe = where(zero, 1.0, a_t)            # log(1) = 0: no NaN in a second derivative
            gn = unbroadcast(grad * select(~zero, (a_t ** n) * log(safe)), n.shape)
        return ga, gn


class Neg(Function):
    """y = −x.   VJP: x̄ = −ȳ. Saves nothing."""

    @staticmethod
    def forward(ctx, x):
        return np.negative(x._data)

    @staticmethod
    def backward(ctx, grad):
        return -grad

    @staticmethod
    def array_backward(ctx, grad):
        return -grad


class Exp(Function):
    """y = eˣ.   VJP: x̄ = ȳ ⊙ y (the output itself: why exp gradients can explode).
    Saves y."""

    @staticmethod
    def forward(ctx, x):
        y = Tensor._make(np.exp(x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * y

    @staticmethod
    def array_backward(ctx, grad):
        return grad * ctx.saved_tensors[0]._data


class Log(Function):
    """y = ln x.   VJP: x̄ = ȳ / x (explodes as x → 0: hence log(x + eps)). Saves x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """y = √x.   VJP: x̄ = ȳ / (2y) (infinite at x = 0). Saves y."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            y = Tensor._make(np.sqrt(x._data))
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
        return np.abs(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * sign(x)


class Sin(Function):
    """y = sin x.   VJP: x̄ = ȳ · cos x. Saves x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * cos(x)


class Cos(Function):
    """y = cos x.   VJP: x̄ = −ȳ · sin x. Saves x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return -grad * sin(x)


# erf(x) ≈ x·P(x²)/Q(x²) on [−4, 4] (beyond, erf is ±1 to float32's precision): a rational
# fit of our own (least squares on the relative error, iteratively reweighted), within
# 5e-9 of erf there. Evaluated in float64, it gives float32 results within 0.54 ulp of the
# exact erf (tests/test_stability.py), where scipy's erf, element by element, takes 3× as
# long; float64 inputs keep scipy's erf, exact to float64's precision.
_ERF_P = (1.1283791692183167, 0.18515432004396964, 0.05430545249708216,
          0.003847048151169808, 0.00037935510669796606, 4.678553775148281e-06,
          -1.3163528767012878e-08)
_ERF_Q = (1.0, 0.49742215705468223, 0.11393381403660462, 0.015455954984227692,
          0.0013067237691909079, 6.305400575646984e-05)


def erf_array(d):
    """erf of a numpy array, in its dtype: vectorized for float32 (and smaller floats), in
    blocks of 16384 elements, whose float64 temporaries stay small (memory that is reused,
    not fresh pages the system must supply at every call)."""
    if d.dtype == np.float64 or d.dtype.kind != "f":
        return special.erf(d)
    if not d.flags.c_contiguous:          # the layout numpy's erf would give, as before
        out = np.empty_like(d)
        out[...] = erf_array(np.ascontiguousarray(d))
        return out
    out = np.empty(d.shape, d.dtype)
    flat, into = d.reshape(-1), out.reshape(-1)
    for i in range(0, flat.size, 16384):
        into[i:i + 16384] = _erf_block(flat[i:i + 16384])
    return out


def _erf_block(d):
    x = np.clip(d, -4.0, 4.0, dtype=np.float64)       # NaN stays NaN, ±inf gives ±1
    t = x * x
    p = t * _ERF_P[6]
    q = t * _ERF_Q[5]
    for c in _ERF_P[5:0:-1]:
        p += c
        p *= t
    for c in _ERF_Q[4:0:-1]:
        q += c
        q *= t
    p += _ERF_P[0]
    q += _ERF_Q[0]
    p *= x
    p /= q
    return p


class Erf(Function):
    """y = erf x = (2/√π) ∫₀ˣ e^(−t²) dt.   VJP: x̄ = ȳ · (2/√π) e^(−x²). Saves x.
    (GELU's Φ(x) = ½(1 + erf(x/√2)) is built on it.)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * exp(-(x * x))


def _maybe_zero(bound):
    """A clamp bound that may be a zero (a tensor bound may hold one)."""
    return bound is not None and (np.ndim(bound) > 0 or bound == 0)


class Clamp(Function):
    """y = min(max(x, lo), hi) (lo, hi numbers or tensors, broadcast; NaN in x stays NaN; x
    itself where it equals a bound, as torch: its sign of zero).

    VJP (as torch): x̄ = ȳ where lo ≤ x ≤ hi, else 0;  lo̅ = ȳ where x < lo (and lo < hi);
    hi̅ = ȳ where x > hi (or hi < lo) — each by selection, then unbroadcast. Saves x and the
    tensor bounds."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, _tensor_or_none(lo), _tensor_or_none(hi))
        ctx.bounds = (_const_or_none(lo), _const_or_none(hi))
        lo_d, hi_d = _d(lo), _d(hi)
        try:
            out = np.clip(x._data, lo_d, hi_d)
        except ValueError:
            raise RuntimeError(
                f"clamp: input {tuple(x.shape)}, min {np.shape(lo_d)} and max {np.shape(hi_d)} "
                f"cannot be broadcast together.") from None
        if _maybe_zero(lo_d) or _maybe_zero(hi_d):
            # torch's max(x, lo) and min(·, hi) keep x where it equals the bound, so −0
            # clamped at min=0 stays −0 (numpy gives the bound's +0); lo > hi gives hi
            keep = out == x._data
            if lo_d is not None and hi_d is not None:
                with np.errstate(invalid="ignore"):
                    keep &= ~(np.asarray(lo_d) > hi_d)
            out = np.where(keep, x._data, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, lo_t, hi_t = ctx.saved_tensors
        lo = ctx.bounds[0] if lo_t is None else lo_t._data
        hi = ctx.bounds[1] if hi_t is None else hi_t._data
        d = x._data
        keep = True
        if lo is not None:
            keep = d >= lo
        if hi is not None:
            keep = keep & (d <= hi)
        nx, nlo, nhi = ctx.needs_input_grad
        gx = unbroadcast(select(np.broadcast_to(keep, grad.shape), grad), x.shape) if nx else None
        glo = ghi = None
        if nlo:
            below = d < lo if hi is None else (d < lo) & (lo < hi)
            glo = unbroadcast(select(np.broadcast_to(below, grad.shape), grad), lo_t.shape)
        if nhi:
            above = d > hi if lo is None else (d > hi) | (hi < lo)
            ghi = unbroadcast(select(np.broadcast_to(above, grad.shape), grad), hi_t.shape)
        return gx, glo, ghi


class Where(Function):
    """y = cond ? a : b.   VJP: ā = ȳ where cond else 0,  b̄ = ȳ where not cond else 0
    (unbroadcast). Saves cond (a bool array, never differentiated).

    The result is laid out as torch's TensorIterator lays it out, the condition's strides
    first, then a's, then b's (:func:`~.broadcast.iter_layout`); ``row_major`` (masked_fill,
    which torch computes on a row-by-row clone of its input) lays it out row by row."""

    @staticmethod
    def forward(ctx, cond, a, b, row_major=False):
        ctx.cond = cond
        ctx.shapes = (np.shape(_d(a)), np.shape(_d(b)))
        try:
            out = np.where(cond, _d(a), _d(b))
        except ValueError:
            raise RuntimeError(f"where: condition {cond.shape}, input {ctx.shapes[0]} and "
                               f"other {ctx.shapes[1]} cannot be broadcast together.") from None
        if out.ndim > 1 and not (cond.flags.c_contiguous and a._data.flags.c_contiguous and
                                 b._data.flags.c_contiguous):
            out = np.ascontiguousarray(out) if row_major else iter_layout(
                out, [cond, a._data, b._data])
        return out

    @staticmethod
    def backward(ctx, grad):
        _, na, nb = ctx.needs_input_grad[:3]
        zero = _zero(grad)
        return (None,
                unbroadcast(where(ctx.cond, grad, zero), ctx.shapes[0]) if na else None,
                unbroadcast(where(ctx.cond, zero, grad), ctx.shapes[1]) if nb else None,
                None)


class ToDtype(Function):
    """y = x cast to another float dtype.   VJP: x̄ = ȳ cast back. Saves nothing."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x._data.dtype
        return _cast_array(x._data, dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.dtype), None


class Clone(Function):
    """y = a copy of x.   VJP: x̄ = ȳ. Saves nothing.
    Laid out as torch's clone (preserve_format): dense, its dimensions in x's order (the
    TensorIterator rule with x alone, :func:`~.broadcast.iter_layout`), so a transposed x
    gives a transposed copy, and an expanded one a copy row by row; ``row_major`` (torch's
    contiguous_format: ``.contiguous()``, a gradient kept in ``.grad``) row by row."""

    @staticmethod
    def forward(ctx, x, row_major):
        d = x._data
        if row_major or d.flags.c_contiguous:
            return np.array(d, order="C")
        return iter_layout(d.copy(order="K"), [d])

    @staticmethod
    def backward(ctx, grad):
        return grad, None


# ---------------------------------------------------------------- functions
def _scaled(a, b, alpha, op):
    """``alpha * b`` for add/sub; a bool result takes alpha as a bool, as torch, and only a
    bool result takes a bool alpha."""
    if result_type(a, b) == _BOOL:
        return b * bool(alpha)
    if isinstance(alpha, (bool, np.bool_)):
        raise RuntimeError(f"{op}: Boolean alpha only supported for Boolean results; the "
                           f"result here has dtype {result_type(a, b)}, so give alpha as a "
                           f"number.")
    return b * alpha


def _no_bool_subtraction(a, b):
    if any(isinstance(o, (bool, np.bool_)) or (isinstance(o, Tensor) and o._data.dtype == _BOOL)
           for o in (a, b)):
        both = all(isinstance(o, (bool, np.bool_)) or (isinstance(o, Tensor) and
                                                        o._data.dtype == _BOOL) for o in (a, b))
        raise RuntimeError(
            f"sub: Subtraction, the `-` operator, with {'two bool tensors' if both else 'a bool tensor'} "
            f"is not supported (shapes {np.shape(_d(a))} and {np.shape(_d(b))}). "
            + ("Use the `^` or logical_xor() operator instead." if both else
               "If you are trying to invert a mask, use the `~` or logical_not() operator instead."))


def add(a, b, alpha=1):
    b = _operand(b, a)
    if alpha != 1 or isinstance(alpha, (bool, np.bool_)):
        b = _scaled(a, b, alpha, "add")
    if not isinstance(a, Tensor):
        a, b = b, a
    return Add.apply(*_promote(a, b))


def sub(a, b, alpha=1):
    b = _operand(b, a)
    _no_bool_subtraction(a, b)
    if alpha != 1 or isinstance(alpha, (bool, np.bool_)):
        b = _scaled(a, b, alpha, "sub")
    return Sub.apply(*_promote(a, b))


def rsub(a, b):
    """b − a, for ``number - tensor``."""
    _no_bool_subtraction(b, a)
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
        raise NotImplementedError("div: rounding_mode is not differentiable; use a // b on ._data")
    b = _operand(b, a)
    a, b = _promote(a, b)
    if a._data.dtype.kind != "f":        # as torch: true division of integers gives a float
        a, b = a.to(_Defaults.dtype), _cast(b, _Defaults.dtype)
    return Div.apply(a, b)


def rdiv(a, b):
    """b / a, for ``number / tensor``."""
    a, b = _promote(a, b)
    if a._data.dtype.kind != "f":
        a = a.to(_Defaults.dtype)
    return Div.apply(b, a)


def pow(a, n):
    n = _operand(n, a)
    return Pow.apply(*_promote(a, n))


def rpow(a, base):
    """base ** a, for ``number ** tensor``."""
    a, base = _promote(a, _operand(base, a))
    return Pow.apply(base, a)


def neg(x):
    if x._data.dtype == _BOOL:
        raise RuntimeError(f"neg: Negation, the `-` operator, on a bool tensor (shape "
                           f"{tuple(x.shape)}) is not supported. If you are trying to invert a "
                           f"mask, use the `~` or logical_not() operator instead.")
    return Neg.apply(x)


def exp(x):
    return Exp.apply(_floating(x))


def log(x):
    return Log.apply(_floating(x))


def sqrt(x):
    return Sqrt.apply(_floating(x))


def rsqrt(x):
    return sqrt(x) ** -1


def abs(x):
    if x._data.dtype == _BOOL:
        raise NotImplementedError(f"abs: not implemented for bool tensors (shape "
                                  f"{tuple(x.shape)}), as in torch; a bool is its own absolute "
                                  f"value.")
    return Abs.apply(x)


def sin(x):
    return Sin.apply(_floating(x))


def cos(x):
    return Cos.apply(_floating(x))


def erf(x):
    return Erf.apply(_floating(x))


def square(x):
    return x * x


def clamp(x, min=None, max=None):
    """``x`` limited to [min, max]; each bound a number, a tensor (broadcast) or None."""
    if min is None and max is None:
        raise RuntimeError(f"clamp: at least one of min and max must be given (input of shape "
                           f"{tuple(x.shape)}); with neither there is nothing to clamp to.")
    if min is not None and max is not None and isinstance(min, Tensor) != isinstance(max, Tensor):
        raise TypeError(f"clamp: min and max must be both numbers or both tensors, got "
                        f"{type(min).__name__} and {type(max).__name__} (input of shape "
                        f"{tuple(x.shape)}); wrap the number with tensor().")
    min, max = (None if v is None else _operand(v, x) for v in (min, max))
    dt = result_type(x, min, max)
    return Clamp.apply(_cast(x, dt), _cast(min, dt), _cast(max, dt))


clip = clamp


def where(condition, input, other):
    """``condition ? input : other`` element-wise; differentiable in ``input`` and ``other``.
    The result's dtype is that of ``input + other`` (torch's promotion)."""
    cond = np.asarray(_d(condition))
    if cond.dtype != bool:
        raise RuntimeError(f"where: the condition must be a boolean tensor, but got one of dtype "
                           f"{cond.dtype} and shape {cond.shape}; compare first (x > 0) or "
                           f"call .bool().")
    input, other = _operand(input, None), _operand(other, None)
    dt = result_type(input, other)
    input, other = (_cast(v, dt) if isinstance(v, Tensor) else Tensor._make(np.asarray(v, dt))
                    for v in (input, other))
    return Where.apply(cond, input, other, False)


def to_dtype(x, dtype):
    if x._data.dtype.kind == "f" and np.dtype(dtype).kind == "f":
        return ToDtype.apply(x, dtype)
    return Tensor._make(_cast_array(x._data, dtype))


def _cast_array(d, dtype):
    """A cast keeps the memory order (a transposed input stays transposed), except that an
    expanded input (a stride of 0) is cast into a row-by-row result, as torch's."""
    return d.astype(dtype, order="C" if 0 in d.strides else "K")


def clone(x, row_major=False):
    return Clone.apply(x, row_major)


def sign(x):
    """−1, 0 or 1; 0 for NaN, as torch (numpy gives NaN)."""
    d = x._data
    s = np.sign(d)
    return Tensor._make(np.where(np.isnan(d), 0, s).astype(s.dtype) if d.dtype.kind == "f" else s)


# comparisons and logic: results are boolean and carry no gradient
def _compare(fn, name):
    def compare(a, b):
        if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.dtype != b._data.dtype:
            a, b = _promote(a, b)              # torch's table: float32 == 0-d float64 in float32
        return Tensor._make(_binary(name, fn, a, b))
    compare.__name__ = name
    compare.__doc__ = f"Element-wise ``{name}``; a bool tensor with no gradient."
    return compare


lt, le, gt, ge = (_compare(np.less, "lt"), _compare(np.less_equal, "le"),
                  _compare(np.greater, "gt"), _compare(np.greater_equal, "ge"))
eq, ne = _compare(np.equal, "eq"), _compare(np.not_equal, "ne")
logical_and, logical_or = _compare(np.logical_and, "logical_and"), _compare(np.logical_or, "logical_or")


def logical_not(x):
    return Tensor._make(np.logical_not(x._data) if x._data.dtype == bool else np.invert(x._data))


def isnan(x):
    return Tensor._make(np.isnan(x._data))


def isfinite(x):
    return Tensor._make(np.isfinite(x._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input − other| ≤ atol + rtol · |other| element-wise (infinities close only to
    themselves); a bool tensor with no gradient. As torch: both of one dtype."""
    a, b = _d(input), _d(other)
    if isinstance(other, Tensor) and a.dtype != b.dtype:
        raise RuntimeError(f"isclose: {b.dtype} did not match {a.dtype}: both tensors must have "
                           f"the same dtype (shapes {a.shape} and {b.shape}); convert one with "
                           f".to(other.dtype).")
    try:
        return Tensor._make(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol,
                                                  equal_nan=equal_nan)))
    except ValueError:
        raise broadcast_error("isclose", a, b) from None


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of ``isclose`` holds: a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):
    """True if both tensors have the same shape and the same elements (NaN is not equal to
    itself; dtypes are promoted, as torch); a Python bool."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(eq(input, other)._data.all())


def masked_fill(x, mask, value):
    """``x`` with ``value`` wherever ``mask`` is True; the gradient flows only where it is not.
    The result keeps ``x``'s dtype (the value is cast to it, as torch)."""
    m = _d(mask)
    if np.asarray(m).dtype != bool:
        raise RuntimeError(f"masked_fill: the mask must be a bool tensor, but got one of dtype "
                           f"{np.asarray(m).dtype} and shape {np.shape(m)} (input of shape "
                           f"{tuple(x.shape)}); compare first (mask == 1) or call .bool().")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill: the value must be a number or a 0-dimensional "
                               f"tensor, got a "
                               f"tensor of shape {tuple(value.shape)}.")
        value = _cast(value, x._data.dtype)
    else:
        if x._data.dtype.kind in "iu" and isinstance(value, float) and not math.isfinite(value):
            raise RuntimeError(f"masked_fill: value {value} cannot be converted to the dtype "
                               f"{x._data.dtype} of the input (shape {tuple(x.shape)}) without "
                               f"overflow; fill a floating-point tensor instead (x.float()).")
        value = Tensor._make(np.asarray(value).astype(x._data.dtype))
    return Where.apply(np.asarray(m), value, x, True)


class Maximum(Function):
    """y = max(a, b) element-wise (NaN if either is NaN, as torch).

    VJP (as torch): ā = ȳ where a > b, ȳ/2 where a = b (a tie splits it), 0 where a < b;
    b̄ the mirror image; where a NaN is involved both receive ȳ. By selection, then
    unbroadcast. ``Minimum`` is the same with the comparison reversed. Saves a and b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _binary("maximum", np.maximum, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _tie_split(ctx, grad, a._data < b._data, a._data == b._data, a._data > b._data)


class Minimum(Function):
    """y = min(a, b) element-wise; the VJP of ``Maximum`` with the comparison reversed."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _binary("minimum", np.minimum, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _tie_split(ctx, grad, a._data > b._data, a._data == b._data, a._data < b._data)


def _tie_split(ctx, grad, loses, tie, wins):
    """The gradients of max(a, b) (or min): ȳ to the winner, ȳ/2 to each on a tie, 0 to the
    loser; ``loses`` and ``wins`` are a's, and a NaN compares as neither."""
    na, nb = ctx.needs_input_grad
    shape = grad.shape
    g = where(np.broadcast_to(tie, shape), grad * 0.5, grad)
    return (unbroadcast(select(np.broadcast_to(~loses, shape), g), ctx._input_meta[0][0])
            if na else None,
            unbroadcast(select(np.broadcast_to(~wins, shape), g), ctx._input_meta[1][0])
            if nb else None)


def _two_tensors(op, a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{op}: both arguments must be tensors, got {type(a).__name__} and "
                        f"{type(b).__name__}; for a number use clamp(min=...) or clamp(max=...).")
    return _promote(a, b)


def maximum(a, b):
    """Element-wise max of two tensors (``torch.max(a, b)`` too)."""
    return Maximum.apply(*_two_tensors("maximum", a, b))


def minimum(a, b):
    """Element-wise min of two tensors (``torch.min(a, b)`` too)."""
    return Minimum.apply(*_two_tensors("minimum", a, b))


# ---------------------------------------------------------------- logarithms and exponentials
class Log10(Function):
    """y = log₁₀ x.   VJP: x̄ = ȳ / (x ln 10). Saves x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x * math.log(10))


class Log2(Function):
    """y = log₂ x.   VJP: x̄ = ȳ / (x ln 2). Saves x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log2(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x * math.log(2))


class Log1P(Function):
    """y = ln(1 + x), exact for small x (where 1 + x would round to 1).
    VJP: x̄ = ȳ / (1 + x). Saves x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad / (x + 1)


class Expm1(Function):
    """y = eˣ − 1, exact for small x.   VJP: x̄ = ȳ ⊙ (y + 1). Saves y."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):
            y = Tensor._make(np.expm1(x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (y + 1)


def log10(x):
    return Log10.apply(_floating(x))


def log2(x):
    return Log2.apply(_floating(x))


def log1p(x):
    return Log1P.apply(_floating(x))


def expm1(x):
    return Expm1.apply(_floating(x))


# ---------------------------------------------------------------- integer-style division
def _division_operands(op, a, b):
    """The operands of floor_divide, remainder and fmod promoted as for a − b; refused, as
    torch, for bool tensors and for an integer division by zero (one that is done: a result
    with no elements divides nothing, and shapes that do not broadcast are refused first)."""
    b = _operand(b, a)
    if not isinstance(a, Tensor):
        a = Tensor._make(np.asarray(a, result_type(a, b)))        # remainder(number, tensor)
    a, b = _promote(a, b)
    dt = a._data.dtype
    if dt == _BOOL:
        raise NotImplementedError(f"{op}: not implemented for bool tensors (shapes "
                                  f"{tuple(a.shape)} and {np.shape(_d(b))}), as in torch; "
                                  f"convert them with .long() first.")
    if dt.kind in "iu" and np.any(np.asarray(_d(b)) == 0) and _divides(a, b):
        raise RuntimeError(f"{op}: ZeroDivisionError: integer division by zero (dividend of "
                           f"shape {tuple(a.shape)}, divisor of shape {np.shape(_d(b))} "
                           f"holding a 0); use a floating-point tensor to get inf or NaN.")
    return a, b


def _divides(a, b):
    """Whether a ⊘ b divides anything: its shapes broadcast to a shape with elements."""
    try:
        return 0 not in np.broadcast_shapes(tuple(a.shape), np.shape(_d(b)))
    except ValueError:
        return False


def _quotient(op, a, b):
    """floor(a / b) (``remainder``) or trunc(a / b) (``fmod``), a constant of a's dtype."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = _binary(op, np.floor_divide, a, b)
        if op == "fmod":
            q = np.trunc(np.true_divide(_d(a), _d(b))).astype(q.dtype)
    return Tensor._make(np.asarray(q))


def _fmod_forward(ctx, op, a, b):
    """What Remainder and Fmod share: the shapes, the quotient b̄ will need, and fmod(a, b)."""
    ctx.shapes = (a.shape, np.shape(_d(b)))
    if ctx.needs_input_grad[1]:
        ctx.q = _quotient(op, a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _binary(op, np.fmod, a, b)


def _quotient_vjp(ctx, grad):
    """ā = ȳ,  b̄ = −q ⊙ ȳ (q the saved quotient), each unbroadcast."""
    na, nb = ctx.needs_input_grad
    return (unbroadcast(grad, ctx.shapes[0]) if na else None,
            unbroadcast(-grad * ctx.q, ctx.shapes[1]) if nb else None)


class Remainder(Function):
    """y = a − b · floor(a / b): the remainder with the sign of the divisor (Python's %).
    VJP (as torch): ā = ȳ,  b̄ = −floor(a / b) ⊙ ȳ (the floor is piecewise constant, so it
    carries no gradient itself). Saves floor(a / b) when b needs a gradient."""

    @staticmethod
    def forward(ctx, a, b):
        m = _fmod_forward(ctx, "remainder", a, b)
        if m.dtype.kind != "f":
            return np.remainder(_d(a), _d(b))
        d = np.asarray(_d(b))            # as torch: fmod, moved by b where the signs differ
        with np.errstate(invalid="ignore"):
            return np.where((m != 0) & ((d < 0) != (m < 0)), m + d, m).astype(m.dtype)

    @staticmethod
    def backward(ctx, grad):
        return _quotient_vjp(ctx, grad)


class Fmod(Function):
    """y = a − b · trunc(a / b): the remainder with the sign of the dividend (C's fmod).
    VJP (as torch): ā = ȳ,  b̄ = −trunc(a / b) ⊙ ȳ. Saves trunc(a / b) when b needs a
    gradient."""

    @staticmethod
    def forward(ctx, a, b):
        return _fmod_forward(ctx, "fmod", a, b)

    @staticmethod
    def backward(ctx, grad):
        return _quotient_vjp(ctx, grad)


def remainder(input, other):
    """``input % other``, the sign of ``other`` (``torch.remainder(number, tensor)`` too)."""
    if not isinstance(input, Tensor):
        return rremainder(other, input)
    return Remainder.apply(*_division_operands("remainder", input, other))


def rremainder(a, b):
    """b % a, for ``number % tensor``: as torch, with no derivative for a."""
    y = Remainder.apply(*_division_operands("remainder", b, a)).detach()
    return NoDerivative.apply("remainder(number, tensor)", y._data, a)


def fmod(input, other):
    if not isinstance(input, Tensor):
        raise TypeError(f"fmod: the input must be a tensor, got {type(input).__name__}; "
                        f"write minigrad.tensor({input!r}) (torch has no fmod(number, tensor)).")
    return Fmod.apply(*_division_operands("fmod", input, other))


def floor_divide(input, other):
    """floor(input / other), ``input // other``: a step function, so it has no gradient
    (torch leaves a node that refuses backward; minigrad leaves none)."""
    a, b = _division_operands("floor_divide", input, other)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.asarray(_binary("floor_divide", np.floor_divide, a, b))
    return NoDerivative.apply("floor_divide", value, a, b)


def rfloordiv(a, b):
    """b // a, for ``number // tensor``."""
    return floor_divide(b, a)
