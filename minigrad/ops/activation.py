"""Activation functions: relu, leaky_relu, sigmoid, tanh, gelu, silu (SwiGLU composes them).

Each VJP multiplies the upstream gradient by the activation's derivative, element-wise.
"""
import math

import numpy as np
from scipy import special

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .elementwise import _floating, erf, erf_array, exp, float_only, select, select_array


class Relu(Function):
    """y = max(0, x).   VJP: x̄ = ȳ where y > 0, else 0 (0 at x = 0, as torch; a unit that is
    never positive never learns: "dead ReLU"). The 0 is selected, not multiplied in, so an
    infinite ȳ (from √relu(x)) gives 0, not NaN; at x = NaN (y = NaN) ȳ passes, as torch.
    Saves y (y > 0 exactly where x > 0)."""

    @staticmethod
    def forward(ctx, x):
        d = x._data
        # keeps −0 and NaN, as torch
        y = Tensor._make(select_array(~(d < 0), d) if d.dtype.kind == "f" else
                         np.where(d < 0, 0, d))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return select(~(y._data <= 0), grad)

    @staticmethod
    def array_backward(ctx, grad):
        return select_array(~(ctx.saved_tensors[0]._data <= 0), grad)


class LeakyRelu(Function):
    """y = x if x > 0 else α·x.   VJP: x̄ = ȳ if x > 0 else α·ȳ (α at x = 0, as torch).
    Saves x."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return np.where(x._data > 0, x._data, x._data * slope)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        scale = np.where(x._data > 0, 1.0, ctx.slope).astype(x._data.dtype)
        return grad * Tensor._make(scale), None


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e^(−x)).   VJP: x̄ = ȳ · y · (1 − y) (vanishes as y → 0 or 1).
    Saves y. Forward is computed without overflow for x = ±1000."""

    @staticmethod
    def forward(ctx, x):
        y = Tensor._make(special.expit(x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * y * (1 - y)


class Tanh(Function):
    """y = tanh x.   VJP: x̄ = ȳ · (1 − y²). Saves y."""

    @staticmethod
    def forward(ctx, x):
        y = Tensor._make(np.tanh(x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (1 - y * y)

    @staticmethod
    def array_backward(ctx, grad):
        y = ctx.saved_tensors[0]._data
        return grad * (1 - y * y)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class Gelu(Function):
    """y = x · Φ(x), Φ the standard normal CDF (``approximate='none'``), or
    y = ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (``approximate='tanh'``, GPT-2's).

    VJP (exact): x̄ = ȳ · (Φ(x) + x · φ(x)), φ(x) = e^(−x²/2)/√(2π).
    VJP (tanh):  with t = tanh(√(2/π)(x + 0.044715x³)):
                 x̄ = ȳ · ½(1 + t + x(1 − t²) · √(2/π)(1 + 3·0.044715x²)).
    Saves x and Φ(x) (or t), so backward needs no second erf (or tanh); when the gradient
    must itself be differentiable (create_graph) Φ(x) or t is rebuilt from x with minigrad
    ops, so that it carries its dependence on x."""

    @staticmethod
    def forward(ctx, x, approximate):
        d = x._data
        if approximate == "tanh":      # tanh(√(2/π)(x + 0.044715x³)), then ½x(1 + t), in place
            inner = np.multiply(d, d, out=np.empty_like(d))
            inner *= d
            inner *= 0.044715
            inner += d
            inner *= _SQRT_2_OVER_PI
            np.tanh(inner, out=inner)
            y = np.multiply(d, 0.5, out=np.empty_like(d))
            y *= inner + 1
        else:
            inner = 0.5 * (1 + erf_array(d * (1 / math.sqrt(2))))
            y = d * inner
        ctx.save_for_backward(x, Tensor._make(inner))
        ctx.approximate = approximate
        return y

    @staticmethod
    def backward(ctx, grad):
        x, inner = ctx.saved_tensors
        if ctx.approximate == "tanh":
            if is_grad_enabled():
                inner = tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            t = inner
            d = 0.5 * (1 + t + x * (1 - t * t) * (_SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)))
        else:
            if is_grad_enabled():
                inner = 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
            d = inner + x * exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return grad * d, None

    @staticmethod
    def array_backward(ctx, grad):
        x, t = (s._data for s in ctx.saved_tensors)
        # backward's formula, each operation in the same order, into three buffers
        with np.errstate(invalid="ignore", over="ignore"):
            if ctx.approximate == "tanh":
                s = np.multiply(x, 3 * 0.044715, out=np.empty_like(x))
                s *= x
                s += 1
                s *= _SQRT_2_OVER_PI                      # √(2/π)(1 + 3·0.044715x²)
                b = np.multiply(t, t, out=np.empty_like(t))
                np.subtract(1, b, out=b)
                b *= x
                b *= s                                    # x(1 − t²)·…
                d = np.add(t, 1, out=s)
                d += b
                d *= 0.5
            else:
                d = np.multiply(x, -0.5, out=np.empty_like(x))
                d *= x
                np.exp(d, out=d)
                d *= x
                d *= 1 / math.sqrt(2 * math.pi)          # x·φ(x)
                d += t                                    # Φ(x) + x·φ(x)
            d *= grad
            return d, None


class Silu(Function):
    """y = x · σ(x) (Swish).   VJP: x̄ = ȳ · (σ(x) + x·σ(x)(1 − σ(x))) = ȳ · (y + σ(x)(1 − y)).
    Saves x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._data * special.expit(x._data)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        s = sigmoid(x)
        return grad * (s * (1 + x * (1 - s)))


def relu(x, inplace=False):
    return x.relu_() if inplace else Relu.apply(x)


def leaky_relu(x, negative_slope=0.01, inplace=False):
    return LeakyRelu.apply(x, negative_slope)


def sigmoid(x):
    return Sigmoid.apply(_floating(x))


def tanh(x):
    return Tanh.apply(_floating(x))


def gelu(x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', not {approximate!r}")
    float_only("gelu", x)
    return Gelu.apply(x, approximate)


def silu(x, inplace=False):
    return Silu.apply(x)


def swiglu(x, w_gate, w_up):
    """SwiGLU(x) = silu(x·W_gate) ⊙ (x·W_up) (LLaMA's FFN gate), composed from matmul,
    silu and mul — its VJP is theirs, chained by the engine."""
    return silu(x @ w_gate) * (x @ w_up)
