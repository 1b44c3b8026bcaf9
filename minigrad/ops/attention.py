"""Scaled dot-product attention as one fused op, with the notes' backward.

    S = Q·Kᵀ · scale (+ mask),   A = softmax(S),   O = A·V
"""
import functools
import math

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor, _Defaults
from .broadcast import unbroadcast, unbroadcast_array
from .elementwise import where
from .linalg import mm_array


def _bias(mask, causal, L, S, dtype):
    """The additive mask: 0 where attention is allowed, −inf where it is not (a boolean mask
    is True where allowed, as torch); causal allows key j ≤ query i."""
    if causal:
        return _causal_bias(L, S, np.dtype(dtype))
    if mask is not None:
        m = mask._data
        return np.where(m, 0.0, -np.inf).astype(dtype) if m.dtype == bool else m
    return None


@functools.lru_cache(maxsize=64)
def _causal_bias(L, S, dtype):
    """The causal mask of L queries and S keys, made once per shape (read-only: shared)."""
    bias = np.where(np.tril(np.ones((L, S), bool)), 0.0, -np.inf).astype(dtype)
    bias.flags.writeable = False
    return bias


def _softmax_rows(s):
    """softmax over the last axis, with a row that allows nothing (all −∞, or no key at
    all) giving zeros, as torch's attention does, instead of 0/0 = NaN. Returns the weights
    and the mask of such rows (None if there are none)."""
    m = np.maximum.reduce(s, axis=-1, keepdims=True, initial=-np.inf)      # = s.max(...)
    dead = np.isneginf(m)
    if dead.any():
        m = np.where(dead, 0, m)
    else:
        dead = None
    e = s - m
    np.exp(e, out=e)
    total = np.add.reduce(e, axis=-1, keepdims=True)                        # = e.sum(...)
    e /= total if dead is None else np.where(dead, 1, total)
    return e, dead


class ScaledDotProductAttention(Function):
    """O = softmax(Q·Kᵀ·scale + mask)·V, scale = 1/√d_k by default; with dropout_p = p,
    O = (A ⊙ D)·V, D = m / (1 − p), m ~ Bernoulli(1 − p) drawn once from minigrad's
    generator (the attention weights are dropped, as torch).

    VJP (with A the attention weights, dS the gradient of the scores):
        V̄ = (A ⊙ D)ᵀ·Ō,   Ā = (Ō·Vᵀ) ⊙ D,   dS = A ⊙ (Ā − Σⱼ Āⱼ Aⱼ)   (softmax backward),
        Q̄ = dS·K · scale,   K̄ = dSᵀ·Q · scale,   mask̄ = dS (a float mask);
    without dropout D = 1. A query whose every key is masked out gets zero weights, hence a
    zero output and zero gradients (as torch). Saves Q, K, V, A, D and a float mask (A is
    recomputed from Q, K and the mask when the gradient itself must be differentiable,
    create_graph=True)."""

    @staticmethod
    def forward(ctx, q, k, v, mask, causal, scale, dropout_p=0.0):
        if min(q.ndim, k.ndim, v.ndim) < 2:
            raise RuntimeError(
                f"scaled_dot_product_attention: query {tuple(q.shape)}, key {tuple(k.shape)} and "
                f"value {tuple(v.shape)} must all be at least 2 dimensional (..., L or S, E).")
        if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
            raise RuntimeError(
                f"scaled_dot_product_attention: query {tuple(q.shape)}, key {tuple(k.shape)} and "
                f"value {tuple(v.shape)} do not fit: query and key need the same last dimension "
                f"(E), key and value the same sequence length (S).")
        if scale is None:        # d_k = 0: Q·Kᵀ is all zeros, whatever the scale (torch)
            scale = 1 / math.sqrt(q.shape[-1]) if q.shape[-1] else 1.0
        bias = _bias(mask, causal, q.shape[-2], k.shape[-2], q._data.dtype)
        s = q._data @ np.swapaxes(k._data, -1, -2)
        s *= scale
        if bias is not None:
            try:
                s = s + bias
            except ValueError:
                raise RuntimeError(
                    f"scaled_dot_product_attention: attn_mask of shape {tuple(bias.shape)} "
                    f"cannot be broadcast to the attention scores' shape {s.shape} (batch..., "
                    f"L, S) of query {tuple(q.shape)} and key {tuple(k.shape)}.") from None
        a, ctx.dead = _softmax_rows(s)
        float_mask = mask if mask is not None and mask._data.dtype != bool else None
        ctx.save_for_backward(q, k, v, Tensor._make(a), float_mask)
        ctx.scale, ctx.bias, ctx.drop = scale, bias, None
        if dropout_p:               # the kept weights, scaled by 1/(1 − p); p = 1 keeps none
            keep = _Defaults.rng.random(a.shape) >= dropout_p
            scaled = keep / (1 - dropout_p) if dropout_p < 1 else np.zeros(a.shape)
            ctx.drop = Tensor._make(scaled.astype(a.dtype))
            a = a * ctx.drop._data
        return mm_array(a, v._data)   # torch's matmul, its zeros too (one key: 0 · −1)

    @staticmethod
    def backward(ctx, grad):
        q, k, v, a, float_mask = ctx.saved_tensors
        scale = ctx.scale
        if is_grad_enabled():      # create_graph: A must carry its dependence on Q, K, mask
            s = q @ k.mT * scale
            if ctx.bias is not None:
                s = s + (float_mask if float_mask is not None else Tensor._make(ctx.bias))
            if ctx.dead is not None:       # a dead row: finite scores in, zero weights out
                s = where(np.broadcast_to(ctx.dead, s.shape), 0.0, s)
                a = where(np.broadcast_to(ctx.dead, s.shape), 0.0, s.softmax(-1))
            else:
                a = s.softmax(-1)
        nq, nk, nv, nm = ctx.needs_input_grad[:4]
        dropped = a if ctx.drop is None else a * ctx.drop
        gv = unbroadcast(dropped.mT @ grad, v.shape) if nv else None
        ga = grad @ v.mT if ctx.drop is None else (grad @ v.mT) * ctx.drop
        ds = a * (ga - (ga * a).sum(dim=-1, keepdim=True))
        gq = unbroadcast(ds @ k * scale, q.shape) if nq else None
        gk = unbroadcast(ds.mT @ q * scale, k.shape) if nk else None
        gm = None
        if nm and grad._data.size:      # torch gives an empty attention's mask no gradient
            gm = unbroadcast(ds, ctx._input_meta[3][0])
        return gq, gk, gv, gm, None, None, None

    @staticmethod
    def array_backward(ctx, grad):
        q, k, v, a, _ = (None if t is None else t._data for t in ctx.saved_tensors)
        drop = None if ctx.drop is None else ctx.drop._data
        scale, mt = ctx.scale, lambda m: np.swapaxes(m, -1, -2)
        nq, nk, nv, nm = ctx.needs_input_grad[:4]
        gv = unbroadcast_array(mt(a if drop is None else a * drop) @ grad, v.shape) \
            if nv else None
        ga = grad @ mt(v)
        if drop is not None:
            ga *= drop
        ga -= (ga * a).sum(axis=-1, keepdims=True)
        ga *= a                                    # dS = A ⊙ (Ā − Σⱼ Āⱼ Aⱼ), in Ā's buffer
        ds = ga
        gq = gk = None
        if nq:
            gq = ds @ k
            gq *= scale
            gq = unbroadcast_array(gq, q.shape)
        if nk:
            gk = mt(ds) @ q
            gk *= scale
            gk = unbroadcast_array(gk, k.shape)
        gm = unbroadcast_array(ds, ctx._input_meta[3][0]) if nm and grad.size else None
        return gq, gk, gv, gm, None, None, None


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q·Kᵀ·scale + mask)·V. With dropout_p > 0 the attention weights are dropped
    (each kept with probability 1 − dropout_p and scaled by 1/(1 − dropout_p), the mask drawn
    from minigrad's generator) whether or not a module is training: as torch's functional
    form, which has no training flag (a module passes dropout_p=0.0 in eval mode)."""
    if not 0 <= dropout_p <= 1:
        raise RuntimeError(f"scaled_dot_product_attention: dropout probability has to be "
                           f"between 0 and 1, but got {dropout_p}.")
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            attn_mask = Tensor(attn_mask)
        if is_causal:
            raise RuntimeError("scaled_dot_product_attention: give either attn_mask or "
                               "is_causal=True, not both; for both, pass a mask that already "
                               "combines them (mask & causal).")
        dt = attn_mask._data.dtype
        if dt != bool and dt != query._data.dtype:
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask must be bool (True = may attend) or "
                f"a float of the query's dtype {query._data.dtype} (added to the scores), but "
                f"got dtype {dt} (shape {tuple(attn_mask.shape)}).")
        if attn_mask.requires_grad and (0 in query.shape[:-1] or 0 in value.shape[-2:] or
                                        0 in key.shape[:-2]):
            # no query, key or value to attend with (a result of no elements, or no keys):
            # torch's result then takes no gradient from the mask, only from q, k and v
            attn_mask = attn_mask.detach()
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, is_causal, scale,
                                           dropout_p)
