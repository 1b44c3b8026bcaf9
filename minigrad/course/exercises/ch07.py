"""Tasks of chapter 07, attention as a graph and its backward: where the three branches of x
meet, FlashAttention's row term D, the attention VJP (Q̄, K̄, V̄) as an
``mg.autograd.Function``, and the whole multi-head attention backward by hand.

Every reference is torch.autograd on the same numbers (float64), with random upstream
gradients; the Function of 07.3 is also run through the engine and checked by finite
differences.
"""
import math

import numpy as np

from ..lang import tr
from .ch05 import _close, check_function
from .core import Misconception, assert_close_or_explain, by_hand, seeded, task

__all__ = ["WRONG", "reference_mha"]

_KEYS = ("W_q", "W_k", "W_v", "W_out", "b_q", "b_k", "b_v", "b_out")


# --------------------------------------------------------------------------- 07.1 branches
@task("07.1", title="where the three branches meet",
      goal="The gradient of x, used by the Q, K and V projections", difficulty=1, minutes=5)
def _(input_grad):
    import minigrad as mg
    import torch
    rng = seeded(0)
    for n, d_model in ((3, 8), (5, 4), (2, 6)):
        bars = [rng.standard_normal((n, d_model)) for _ in range(3)]     # random upstreams
        Ws = [rng.standard_normal((d_model, d_model)) for _ in range(3)]
        got = input_grad(*(mg.tensor(a) for a in bars + Ws))
        parts = [b @ W.T for b, W in zip(bars, Ws)]
        xt = torch.tensor(rng.standard_normal((n, d_model)), requires_grad=True)
        projections = [xt @ torch.tensor(W) for W in Ws]                # Q, K and V
        expected = torch.autograd.grad(projections, xt, [torch.tensor(b) for b in bars])[0]
        if _close(got, sum(b @ W for b, W in zip(bars, Ws))):
            raise Misconception(tr("your gradient for x multiplies each branch's gradient by W, "
                                   "not by Wᵀ: missing transpose? — a projection P = x·W sends "
                                   "back P̄·Wᵀ"))
        for i, p in enumerate(parts):
            if _close(got, p):
                raise Misconception(tr(
                    "your gradient for x is only the {branch} branch's contribution: x feeds "
                    "three projections, so it receives the SUM of what the three send back — "
                    "x̄ = Q̄·W_qᵀ + K̄·W_kᵀ + V̄·W_vᵀ", branch="QKV"[i]))
        assert_close_or_explain("x", got, expected, reuse=True,
                                formula=tr("x̄ = Q̄·W_qᵀ + K̄·W_kᵀ + V̄·W_vᵀ (X̄ = Ȳ·Wᵀ per "
                                           "branch)"))


# --------------------------------------------------------------------------- 07.2 delta
@task("07.2", title="FlashAttention's row term",
      goal="D = rowsum(Ā ⊙ A) computed from the output alone: rowsum(Ō ⊙ O)",
      difficulty=1, minutes=5)
def _(attention_delta):
    import minigrad as mg
    import torch
    rng = seeded(1)
    for shape in ((2, 3, 4), (5, 2), (1, 6, 3)):
        q, k, v = (torch.tensor(rng.standard_normal(shape)) for _ in range(3))
        a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(shape[-1]), -1).requires_grad_()
        o = a @ v
        o_bar = rng.standard_normal(shape)                              # a random upstream
        a_bar, = torch.autograd.grad(o, a, torch.tensor(o_bar))        # Ā, by torch
        expected = (a_bar * a).sum(-1).detach().numpy()
        o = o.detach().numpy()
        got = attention_delta(mg.tensor(o), mg.tensor(o_bar))
        if got is not None and hasattr(got, "shape") and tuple(got.shape) != expected.shape:
            raise Misconception(tr("your D has shape {shape} but O is {o_shape}: D holds one "
                                   "number per query row, shape {expected} — sum Ō ⊙ O over "
                                   "the LAST dimension (dim=-1), without keepdim",
                                   shape=tuple(got.shape), o_shape=shape,
                                   expected=expected.shape))
        assert_close_or_explain("D", got, expected, kind="result",
                                formula=tr("D_i = Σ_j Ō_ij O_ij, one number per query row "
                                           "(shape (…, n))"))


# --------------------------------------------------------------------------- 07.3 attention
def _attention_case(rng):
    h, n, m = int(rng.integers(1, 3)), int(rng.integers(2, 5)), int(rng.integers(3, 6))
    d = 9                                          # √d = 3: a forgotten scale is a factor 3
    return [rng.standard_normal((h, n, d)), rng.standard_normal((h, m, d)),
            rng.standard_normal((h, m, int(rng.integers(2, 5))))]


def _attention_parts(q, k, v, up):
    scale = 1 / math.sqrt(q.shape[-1])
    s = q @ np.swapaxes(k, -1, -2) * scale
    a = np.exp(s - s.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    a_bar = up @ np.swapaxes(v, -1, -2)
    ds = a * (a_bar - (a_bar * a).sum(-1, keepdims=True))
    return ds, scale


def _attention_explain(i, got, case, ref, up):
    q, k, v = case
    ds, scale = _attention_parts(q, k, v, up)
    if i == 0 and _close(got, ds @ k) and not _close(got, ref):
        raise Misconception(tr("your gradient for Q misses the scale 1/√d_k: the scores were "
                               "multiplied by it in forward, so their gradient is too — "
                               "Q̄ = S̄·K · scale"))
    if i == 0 and not _close(got, ref):
        s = q @ np.swapaxes(k, -1, -2) * scale
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        diagonal_only = a * (up @ np.swapaxes(v, -1, -2)) * scale
        if _close(got, diagonal_only @ k):
            raise Misconception(tr("your gradient for Q goes back through softmax as if it were "
                                   "elementwise (A ⊙ Ā): every score of a row moves every "
                                   "probability of the row, so S̄ also has the term "
                                   "− A ⊙ rowsum(Ā ⊙ A)"))
    if i == 1:
        if _close(got, np.swapaxes(ds, -1, -2) @ q) and not _close(got, ref):
            raise Misconception(tr("your gradient for K misses the scale 1/√d_k — "
                                   "K̄ = S̄ᵀ·Q · scale"))
        if ds.shape[-1] == ds.shape[-2] and _close(got, ds @ q * scale) and not _close(got, ref):
            raise Misconception(tr("your gradient for K uses S̄·Q: missing transpose? — "
                                   "K̄ = S̄ᵀ·Q · scale"))


@task("07.3", title="attention backward: Q̄, K̄, V̄",
      goal="The VJP of O = softmax(Q·Kᵀ/√d_k)·V as an mg.autograd.Function",
      difficulty=2, minutes=20)
def _(Attention):
    import torch
    sdpa = torch.nn.functional.scaled_dot_product_attention
    kw = dict(output=tr("attention output"), names=["Q", "K", "V"],
              formulas=["Q̄ = S̄·K/√d_k, S̄ = A ⊙ (Ā − rowsum(Ā ⊙ A)), Ā = Ō·Vᵀ",
                        "K̄ = S̄ᵀ·Q/√d_k", "V̄ = Aᵀ·Ō"], explain=_attention_explain)
    square = lambda rng: [rng.standard_normal((2, 4, 9)) for _ in range(3)]   # n = m
    check_function(Attention, sdpa, square, cases=1, seed=3, **kw)
    check_function(Attention, sdpa, _attention_case, cases=3, seed=4, **kw)


# --------------------------------------------------------------------------- 07.4 whole MHA
def reference_mha(lib, x, P, num_heads):
    """The chapter's diagram, one line per box, on either library (x @ W, biases added)."""
    n, d_model = x.shape
    d = d_model // num_heads
    heads = {s: (x @ P["W_" + s] + P["b_" + s]).reshape(n, num_heads, d).transpose(0, 1)
             for s in "qkv"}
    probs = (heads["q"] @ heads["k"].transpose(-2, -1) / d ** 0.5).softmax(dim=-1)
    merged = (probs @ heads["v"]).transpose(0, 1).reshape(n, d_model)
    return merged @ P["W_out"] + P["b_out"]


def _mha_case(rng, n, d_model):
    P = {k: rng.standard_normal((d_model, d_model)) / math.sqrt(d_model) for k in _KEYS[:4]}
    P.update({k: 0.1 * rng.standard_normal(d_model) for k in _KEYS[4:]})
    return rng.standard_normal((n, d_model)), P, rng.standard_normal((n, d_model))


@task("07.4", title="multi-head attention backward by hand",
      goal="All nine gradients of multi-head attention, merge ↔ split included",
      difficulty=3, minutes=30)
def _(mha_backward):
    import minigrad as mg
    import torch
    rng = seeded(5)
    for n, d_model, h in ((3, 8, 2), (4, 6, 3), (2, 8, 4)):
        x, P, o_bar = _mha_case(rng, n, d_model)
        xt = torch.tensor(x, requires_grad=True)
        Pt = {k: torch.tensor(a, requires_grad=True) for k, a in P.items()}
        reference_mha(torch, xt, Pt, h).backward(torch.tensor(o_bar))
        expected = {"x": xt.grad.numpy(), **{k: Pt[k].grad.numpy() for k in _KEYS}}
        with by_hand("07.4"):
            got = mha_backward(mg.tensor(x), {k: mg.tensor(a) for k, a in P.items()},
                               mg.tensor(o_bar), h)
        if got is None:
            raise Misconception(tr("mha_backward returned None — did you forget to return?"))
        if not isinstance(got, dict):
            raise Misconception(tr("mha_backward returned a {type}; return a dict {example} "
                                   "with the nine gradients", type=type(got).__name__,
                                   example="{'x': …, 'W_q': …, …}"))
        missing = [k for k in expected if k not in got]
        if missing:
            raise Misconception(tr("the dict mha_backward returned has no {keys}: return all "
                                   "nine gradients (x and the eight parameters)",
                                   keys=", ".join(missing)))
        formulas = _formulas()
        for k in ("W_out", "b_out", "W_v", "b_v", "W_q", "b_q", "W_k", "b_k", "x"):
            if k in ("W_v", "W_q", "W_k") and not _close(got[k], expected[k]):
                _explain_merge(got[k], k, x, P, o_bar, h)
            assert_close_or_explain(k, got[k], expected[k], formula=formulas[k],
                                    reuse=k == "x")


def _formulas():
    """The rule of each of the nine gradients (looked up when a check runs)."""
    return {"W_out": "W̄_out = mergedᵀ·Ō", "b_out": "b̄_out = Σ_rows Ō",
            "W_q": "W̄_q = xᵀ·Q̄_proj", "W_k": "W̄_k = xᵀ·K̄_proj", "W_v": "W̄_v = xᵀ·V̄_proj",
            "b_q": "b̄_q = Σ_rows Q̄_proj", "b_k": "b̄_k = Σ_rows K̄_proj",
            "b_v": "b̄_v = Σ_rows V̄_proj",
            "x": tr("x̄ = Q̄_proj·W_qᵀ + K̄_proj·W_kᵀ + V̄_proj·W_vᵀ (three branches, summed)")}


def _explain_merge(got, key, x, P, o_bar, h):
    """Recognise a merge (or split) undone with a bare reshape, without the transpose."""
    import torch
    n, d_model = x.shape
    d = d_model // h
    xt = torch.tensor(x)
    Pt = {k: torch.tensor(a, requires_grad=True) for k, a in P.items()}
    heads = {s: (xt @ Pt["W_" + s] + Pt["b_" + s]).reshape(n, h, d).transpose(0, 1)
             for s in "qkv"}
    probs = (heads["q"] @ heads["k"].transpose(-2, -1) / d ** 0.5).softmax(dim=-1)
    context = probs @ heads["v"]
    merged_bar = torch.tensor(o_bar) @ Pt["W_out"].detach().T
    wrong_ctx_bar = merged_bar.reshape(h, n, d)                 # split without the transpose
    g, = torch.autograd.grad(context, Pt["W_" + key[-1]], wrong_ctx_bar)
    if n != h and _close(got, g.numpy()):
        raise Misconception(tr("your gradient for {key} comes from a merge undone with a bare "
                               "reshape: the backward of merge is a split, reshape(n, h, d) "
                               "THEN transpose(0, 1) — a reshape(h, n, d) alone mixes the "
                               "tokens", key=key))


# --------------------------------------------------------------------------- wrong answers
def _wrong():
    import minigrad as mg
    Function = mg.autograd.Function

    def only_q(dQ, dK, dV, W_q, W_k, W_v):
        return dQ @ W_q.T

    def untransposed(dQ, dK, dV, W_q, W_k, W_v):
        return dQ @ W_q + dK @ W_k + dV @ W_v

    def delta_wrong_axis(O, dO):
        return (dO * O).sum(dim=-2)

    def delta_keepdim(O, dO):
        return (dO * O).sum(dim=-1, keepdim=True)

    class _AttentionBase(Function):
        @staticmethod
        def forward(ctx, q, k, v):
            scale = q.shape[-1] ** -0.5
            s = q @ k.transpose(-2, -1) * scale
            a = (s - s.max(dim=-1, keepdim=True).values).exp()
            a = a / a.sum(dim=-1, keepdim=True)
            ctx.save_for_backward(q, k, v, a)
            ctx.scale = scale
            return a @ v

    def _grads(ctx, grad):
        q, k, v, a = ctx.saved_tensors
        ga = grad @ v.transpose(-2, -1)
        ds = a * (ga - (ga * a).sum(dim=-1, keepdim=True))
        return q, k, a, ds

    class AttentionNoScale(_AttentionBase):
        @staticmethod
        def backward(ctx, grad):
            q, k, a, ds = _grads(ctx, grad)
            return ds @ k, ds.transpose(-2, -1) @ q, a.transpose(-2, -1) @ grad

    class AttentionKNoTranspose(_AttentionBase):
        @staticmethod
        def backward(ctx, grad):
            q, k, a, ds = _grads(ctx, grad)
            return (ds @ k * ctx.scale, ds @ q * ctx.scale, a.transpose(-2, -1) @ grad)

    class AttentionVNoTranspose(_AttentionBase):
        @staticmethod
        def backward(ctx, grad):
            q, k, a, ds = _grads(ctx, grad)
            return (ds @ k * ctx.scale, ds.transpose(-2, -1) @ q * ctx.scale, a @ grad)

    class AttentionSoftmaxElementwise(_AttentionBase):
        @staticmethod
        def backward(ctx, grad):
            q, k, v, a = ctx.saved_tensors
            ds = a * (grad @ v.transpose(-2, -1)) * ctx.scale
            return ds @ k, ds.transpose(-2, -1) @ q, a.transpose(-2, -1) @ grad

    def mha_bare_reshape(x, P, dO, num_heads):
        return _mha_backward(x, P, dO, num_heads, merge_transpose=False)

    def mha_one_branch(x, P, dO, num_heads):
        g = _mha_backward(x, P, dO, num_heads)
        g["x"] = g.pop("_x_q")
        return g

    def mha_autograd(x, P, dO, num_heads):
        import torch
        xt = torch.tensor(x.numpy(), requires_grad=True)
        Pt = {k: torch.tensor(a.numpy(), requires_grad=True) for k, a in P.items()}
        grads = torch.autograd.grad(reference_mha(torch, xt, Pt, num_heads), [xt, *Pt.values()],
                                    torch.tensor(dO.numpy()))
        return dict(zip(["x", *Pt], (mg.tensor(g.numpy()) for g in grads)))

    return {
        "07.1": [(only_q, "only the Q branch"), (untransposed, "not by Wᵀ: missing transpose?")],
        "07.2": [(delta_wrong_axis, "sum Ō ⊙ O over the LAST dimension"),
                 (delta_keepdim, "without keepdim")],
        "07.3": [(AttentionNoScale, "misses the scale"),
                 (AttentionKNoTranspose, "missing transpose?"),
                 (AttentionVNoTranspose, "your gradient for V"),
                 (AttentionSoftmaxElementwise, "as if it were elementwise")],
        "07.4": [(mha_bare_reshape, "the backward of merge is a split"),
                 (mha_one_branch, "your gradient for x is wrong"),
                 (mha_autograd, "torch.autograd.grad")],
    }


def _mha_backward(x, P, dO, num_heads, merge_transpose=True):
    """A by-hand backward (with minigrad ops) used to build the wrong answers of 07.4."""
    n, d_model = x.shape
    h, d = num_heads, d_model // num_heads
    proj = {s: x @ P["W_" + s] + P["b_" + s] for s in "qkv"}
    H = {s: proj[s].reshape(n, h, d).transpose(0, 1) for s in "qkv"}
    A = (H["q"] @ H["k"].transpose(-2, -1) / d ** 0.5).softmax(dim=-1)
    merged = (A @ H["v"]).transpose(0, 1).reshape(n, d_model)
    g = {"W_out": merged.T @ dO, "b_out": dO.sum(dim=0)}
    merged_bar = dO @ P["W_out"].T
    if merge_transpose:
        ctx_bar = merged_bar.reshape(n, h, d).transpose(0, 1)
    else:
        ctx_bar = merged_bar.reshape(h, n, d)
    V_bar = A.transpose(-2, -1) @ ctx_bar
    A_bar = ctx_bar @ H["v"].transpose(-2, -1)
    S_bar = A * (A_bar - (A_bar * A).sum(dim=-1, keepdim=True)) / d ** 0.5
    bars = {"q": S_bar @ H["k"], "k": S_bar.transpose(-2, -1) @ H["q"], "v": V_bar}
    proj_bar = {s: bars[s].transpose(0, 1).reshape(n, d_model) for s in "qkv"}
    for s in "qkv":
        g["W_" + s] = x.T @ proj_bar[s]
        g["b_" + s] = proj_bar[s].sum(dim=0)
    g["x"] = sum(proj_bar[s] @ P["W_" + s].T for s in "qkv")
    g["_x_q"] = proj_bar["q"] @ P["W_q"].T
    return g


WRONG = _wrong()
