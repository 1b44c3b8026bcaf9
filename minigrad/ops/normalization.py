"""Normalization layers as single fused ops: layer_norm and rms_norm.

Their VJPs are the closed forms of the notes, written with minigrad ops so that they can
be differentiated again. x̂ is the normalized input, γ the weight, β the bias, and every
mean ⟨·⟩ runs over the normalized (last) dimensions.
"""
import math

import numpy as np

from ..autograd import Function
from ..dtypes import float64
from .broadcast import row_major, unbroadcast, unbroadcast_array
from .elementwise import float_only, where


def _norm_dims(x, normalized_shape, op):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape:
        raise RuntimeError(f"{op}: expected normalized_shape to be at least 1-dimensional (the "
                           f"sizes of the last dimensions to normalize), got (); input of shape "
                           f"{tuple(x.shape)}.")
    if tuple(x.shape[x.ndim - len(shape):]) != shape or len(shape) > x.ndim:
        raise RuntimeError(
            f"{op}: normalized_shape {shape} must be the last dimensions of the input, whose "
            f"shape is {tuple(x.shape)}.")
    return shape, tuple(range(x.ndim - len(shape), x.ndim))


def _check_param(p, shape, op, name):
    if p is not None and tuple(p.shape) != shape:
        raise RuntimeError(f"{op}: {name} has shape {tuple(p.shape)} but normalized_shape is "
                           f"{shape}; they must be equal.")


class LayerNorm(Function):
    """x̂ = (x − μ) / √(σ² + ε),  y = γ ⊙ x̂ + β   (μ, σ² the mean and population variance
    over the normalized dimensions, n elements).

    VJP: with ĝ = ȳ ⊙ γ,
         x̄ = (1/√(σ² + ε)) · (ĝ − ⟨ĝ⟩ − x̂ ⊙ ⟨ĝ ⊙ x̂⟩),
         γ̄ = Σ_batch ȳ ⊙ x̂,   β̄ = Σ_batch ȳ.
    Where ĝ or x is not finite (an infinite upstream gradient) x̄ has no value the formula's
    order of operations decides (the exact limit, ±∞ by the sign of each Jacobian entry, is
    given by neither library); those rows take torch's order, :func:`_torch_order`, so the
    NaN and ±inf are torch's. Saves x, γ; μ and σ² are recomputed in backward from x (cheap,
    and differentiable)."""

    @staticmethod
    def forward(ctx, x, weight, bias, dims, eps):
        ctx.save_for_backward(x, weight)
        ctx.dims, ctx.eps = dims, eps
        d = x._data
        xc = d - _mean(d, dims)
        rstd = 1.0 / np.sqrt(_mean_over(xc * xc, dims) + eps)
        y = xc * rstd
        if weight is not None:
            y *= weight._data
        if bias is not None:
            y += bias._data
        return row_major(y)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        dims = ctx.dims
        xc = x - x.mean(dim=dims, keepdim=True, dtype=float64).to(x.dtype)      # as _mean
        rstd = ((xc * xc).mean(dim=dims, keepdim=True) + ctx.eps) ** -0.5
        xhat = xc * rstd
        nx, nw, nb = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if nx:
            g = grad * weight if weight is not None else grad
            gx = rstd * (g - g.mean(dim=dims, keepdim=True)
                         - xhat * (g * xhat).mean(dim=dims, keepdim=True))
            bad = _nonfinite_rows(g._data, x._data, dims)
            if bad.any():
                gx = where(bad, _torch_order(x, g, rstd, lambda t: t.sum(dim=dims, keepdim=True),
                                             dims), gx)
        if nw:
            gw = unbroadcast(grad * xhat, weight.shape)
        if nb:
            gb = unbroadcast(grad, weight.shape if weight is not None else xhat.shape[-len(dims):])
        return gx, gw, gb, None, None

    @staticmethod
    def array_backward(ctx, grad):
        x, weight = ctx.saved_tensors
        d, dims = x._data, ctx.dims
        nx, nw, nb = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        # backward's formula, each operation in the same order, in three full-size buffers
        with np.errstate(invalid="ignore", divide="ignore"):
            xhat = d - _mean(d, dims)                                      # x − μ
            tmp = np.multiply(xhat, xhat, out=np.empty_like(xhat))
            rstd = 1 / np.sqrt(_mean_over(tmp, dims) + ctx.eps)
            xhat *= rstd                                                   # x̂
            shape = tuple(weight.shape) if weight is not None else xhat.shape[-len(dims):]
            if nw:                       # its own array: tmp is written again below
                gw = unbroadcast_array(grad * xhat, shape)
            if nb:
                gb = unbroadcast_array(grad, shape)
            if nx:
                g = grad * weight._data if weight is not None else grad.copy()     # ĝ
                bad = _nonfinite_rows(g, d, dims)
                mean_g = _mean_over(g, dims)
                mean_gx = _mean_over(np.multiply(g, xhat, out=tmp), dims)
                g -= mean_g                                                # ĝ − ⟨ĝ⟩
                g -= np.multiply(xhat, mean_gx, out=tmp)                   # − x̂ ⊙ ⟨ĝ ⊙ x̂⟩
                g *= rstd
                gx = g
                if bad.any():
                    ghat = grad * weight._data if weight is not None else grad
                    gx = np.where(bad, _torch_order(d, ghat, rstd, lambda t: t.sum(
                        axis=dims, keepdims=True), dims), gx)
        return gx, gw, gb, None, None


def _mean_over(a, dims, dtype=None):
    """``a.mean(axis=dims, keepdims=True)``: the same sum and the same division by the count,
    without numpy's Python wrapper around them (a third of a small layer norm's time)."""
    return np.add.reduce(a, axis=dims, dtype=dtype, keepdims=True) / math.prod(
        [a.shape[i] for i in dims])


def _mean(d, dims):
    """μ summed in float64 and given the input's dtype: as exact as torch's kernel (a row of
    equal float32 values has μ equal to them, so x − μ = 0 and y = β, where a float32 sum
    is off by round-off that 1/√ε then scales up to 1e-5)."""
    return _mean_over(d, dims, np.float64).astype(d.dtype, copy=False)


def _nonfinite_rows(g, x, dims):
    """The rows (over the normalized dims, kept) where ĝ or x holds an inf or a NaN; at once
    all False when the sums of both are finite (an inf or NaN anywhere makes a sum so)."""
    with np.errstate(invalid="ignore", over="ignore"):
        if np.isfinite(np.add.reduce(g, axis=None)) and np.isfinite(np.add.reduce(x, axis=None)):
            return np.zeros(g.shape[:g.ndim - len(dims)] + (1,) * len(dims), bool)
        return ~(np.isfinite(g).all(axis=dims, keepdims=True)
                 & np.isfinite(x).all(axis=dims, keepdims=True))


def _torch_order(x, g, rstd, total, dims):
    """layer_norm's x̄ as torch's kernel computes it: a·ĝ + b·x + c, with a = rstd,
    b = (Σĝ·μ − Σĝx)·a³/n and c = −b·μ − Σĝ·a/n — the same VJP in another order, which
    decides where an infinite ĝ gives NaN and where ±inf. On arrays or tensors (``total``
    sums over the normalized dims, keeping them)."""
    n = int(np.prod([x.shape[i] for i in dims]))
    mu, ds, db = total(x) / n, total(g * x), total(g)
    b = (db * mu - ds) * rstd * rstd * rstd / n
    c = -b * mu - db * rstd / n
    return rstd * g + b * x + c


class RmsNorm(Function):
    """y = γ ⊙ x / RMS(x),  RMS(x) = √(⟨x²⟩ + ε)  (no mean subtracted, no bias).

    VJP: with ĝ = ȳ ⊙ γ and r = 1/RMS,
         x̄ = ĝ · r + (−½ · Σ(ĝ ⊙ x) · r³ / n) · 2x     (= r · (ĝ − x ⊙ ⟨ĝ ⊙ x⟩ · r²)),
         γ̄ = Σ_batch ȳ ⊙ (x · r),
    in the order of torch's autograd through its composite x · rsqrt(⟨x²⟩ + ε) (the VJPs
    of mul, rsqrt, mean and pow): the same last bits, which matter where x̄ is all
    cancellation (one element normalized: x̄ = ĝ · r · (1 − x²r²), exactly ε-small).
    Saves x, γ; RMS is recomputed in backward from x."""

    @staticmethod
    def forward(ctx, x, weight, dims, eps):
        ctx.save_for_backward(x, weight)
        ctx.dims, ctx.eps = dims, eps
        d = x._data
        # x · (1/√…) in torch's order, not x / √…: the same last bits as torch's
        y = d * (1.0 / np.sqrt(_mean_over(d * d, dims) + eps))
        if weight is not None:
            y *= weight._data
        return row_major(y)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        dims = ctx.dims
        rstd = ((x * x).mean(dim=dims, keepdim=True) + ctx.eps) ** -0.5
        nx, nw = ctx.needs_input_grad[:2]
        gx = gw = None
        if nx:
            n = math.prod(x.shape[i] for i in dims)
            g = grad * weight if weight is not None else grad
            gx = g * rstd + (-0.5 * (g * x).sum(dim=dims, keepdim=True)) * (
                rstd * rstd * rstd) / n * (2.0 * x)
        if nw:
            gw = unbroadcast(grad * (x * rstd), weight.shape)
        return gx, gw, None, None


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    float_only("layer_norm", input)
    shape, dims = _norm_dims(input, normalized_shape, "layer_norm")
    _check_param(weight, shape, "layer_norm", "weight")
    _check_param(bias, shape, "layer_norm", "bias")
    return LayerNorm.apply(input, weight, bias, dims, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    float_only("rms_norm", input)
    shape, dims = _norm_dims(input, normalized_shape, "rms_norm")
    _check_param(weight, shape, "rms_norm", "weight")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    return RmsNorm.apply(input, weight, dims, eps)
