"""Scaled dot-product attention as one fused op, with the notes' backward.

    S = Q·Kᵀ · scale (+ mask),   A = softmax(S),   O = A·V
"""
import math

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .broadcast import unbroadcast


def _bias(mask, causal, L, S, dtype):
    """The additive mask: 0 where attention is allowed, −inf where it is not (a boolean mask
    is True where allowed, as torch); causal allows key j ≤ query i."""
    bias = None
    if causal:
        bias = np.where(np.tril(np.ones((L, S), bool)), 0.0, -np.inf).astype(dtype)
    if mask is not None:
        m = mask.data
        m = np.where(m, 0.0, -np.inf).astype(dtype) if m.dtype == bool else m
        bias = m if bias is None else bias + m
    return bias


class ScaledDotProductAttention(Function):
    """O = softmax(Q·Kᵀ·scale + mask)·V, scale = 1/√d_k by default.

    VJP (with A the attention weights, dS the gradient of the scores):
        V̄ = Aᵀ·Ō,   Ā = Ō·Vᵀ,   dS = A ⊙ (Ā − Σⱼ Āⱼ Aⱼ)   (softmax backward),
        Q̄ = dS·K · scale,   K̄ = dSᵀ·Q · scale,   mask̄ = dS (a float mask).
    Saves Q, K, V and A (A is recomputed from Q and K when the gradient itself must be
    differentiable, create_graph=True)."""

    @staticmethod
    def forward(ctx, q, k, v, mask, causal, scale):
        if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
            raise RuntimeError(
                f"scaled_dot_product_attention: query {tuple(q.shape)}, key {tuple(k.shape)} and "
                f"value {tuple(v.shape)} do not fit: query and key need the same last dimension "
                f"(E), key and value the same sequence length (S).")
        scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
        bias = _bias(mask, causal, q.shape[-2], k.shape[-2], q.data.dtype)
        s = q.data @ np.swapaxes(k.data, -1, -2) * scale
        if bias is not None:
            s = s + bias
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        a = e / e.sum(axis=-1, keepdims=True)
        ctx.save_for_backward(q, k, v, Tensor._make(a))
        ctx.scale, ctx.bias = scale, bias
        return a @ v.data

    @staticmethod
    def backward(ctx, grad):
        q, k, v, a = ctx.saved_tensors
        scale = ctx.scale
        if is_grad_enabled():      # create_graph: A must carry its dependence on Q and K
            s = q @ k.mT * scale
            a = (s + Tensor._make(ctx.bias) if ctx.bias is not None else s).softmax(-1)
        nq, nk, nv, nm = ctx.needs_input_grad[:4]
        gv = unbroadcast(a.mT @ grad, v.shape) if nv else None
        ga = grad @ v.mT
        ds = a * (ga - (ga * a).sum(dim=-1, keepdim=True))
        gq = unbroadcast(ds @ k * scale, q.shape) if nq else None
        gk = unbroadcast(ds.mT @ q * scale, k.shape) if nk else None
        gm = None
        if nm:
            gm = unbroadcast(ds, ctx._input_meta[3][0])
        return gq, gk, gv, gm, None, None


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    if dropout_p:
        raise NotImplementedError(
            "scaled_dot_product_attention: dropout_p > 0 is not supported by minigrad; apply "
            "F.dropout to the output instead.")
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        attn_mask = Tensor(attn_mask)
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, is_causal, scale)
