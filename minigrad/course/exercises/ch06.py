"""Tasks of chapter 06, a transformer layer by hand: LayerNorm's per-token statistics, the
notes' feed-forward example backward with its numbers, the same backward as code for any
input, and the split into heads as an ``mg.autograd.Function``.

The notes' numbers are typed here as the notes print them, and each is also recomputed from
the notes' X, W₁, b₁, T (with the chapter's W₂, b₂ — the notes do not print them) so that a
typo in either would fail the import-time consistency check below.
"""
import numpy as np

from ..lang import tr
from .ch05 import _close, check_function
from .core import (Misconception, as_numpy, assert_close_or_explain, by_hand, explain_upstream,
                   reveal, seeded, task)

__all__ = ["WRONG", "RIGHT", "NOTES", "MLP_GRADS", "mlp_case", "mlp_step"]

# ------------------------------------------------------------------ the notes' example
NOTES = dict(
    X=np.array([[1, 0, 2, 1], [0, 1, 1, 0]], float),
    W1=np.array([[1, 0, 1], [0, 1, 1], [1, 0, 0], [0, 1, 0]], float),
    b1=np.array([0, 1, 0], float),
    W2=np.array([[1, 0, 1, 0], [0, 1, 1, 1], [1, 0, 0, 0]], float),   # the chapter's choice
    b2=np.zeros(4),
    T=np.array([[1, 0, 0, 1], [0, 0, 1, 1]], float),
    # printed by the notes:
    V=np.array([[3, 2, 1], [1, 2, 1]], float),
    Y=np.array([[4, 2, 5, 2], [2, 2, 3, 2]], float),
    dY=np.array([[3, 2, 5, 1], [2, 2, 2, 1]], float),
    dW2=np.array([[11, 8, 17, 4], [10, 8, 14, 4], [5, 4, 7, 2]], float),
    db2=np.array([5, 4, 7, 2], float),
    # δY·W₂ᵀ with the chapter's W₂ (the notes give the formula only):
    dV=np.array([[8, 8, 3], [4, 5, 2]], float),
)


def _ffn_reference(X, W1, b1, W2, b2, dY):
    """(dX, dW1, db1, dW2, db2) of Y = ReLU(X·W₁ + b₁)·W₂ + b₂ pulled back with dY, by torch."""
    import torch
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (X, W1, b1, W2, b2)]
    Y = torch.relu(ts[0] @ ts[1] + ts[2]) @ ts[3] + ts[4]
    return tuple(g.numpy() for g in torch.autograd.grad(Y, ts, torch.tensor(dY)))


def _consistent():
    n = NOTES
    Z = n["X"] @ n["W1"] + n["b1"]
    V = np.maximum(Z, 0)
    Y = V @ n["W2"] + n["b2"]
    dY = Y - n["T"]
    assert np.array_equal(V, n["V"]) and np.array_equal(Y, n["Y"])
    assert np.array_equal(dY, n["dY"]) and np.array_equal(V.T @ dY, n["dW2"])
    assert np.array_equal(dY.sum(0), n["db2"]) and np.array_equal(dY @ n["W2"].T, n["dV"])
    ref = _ffn_reference(n["X"], n["W1"], n["b1"], n["W2"], n["b2"], dY)
    assert np.allclose(ref[3], n["dW2"]) and np.allclose(ref[4], n["db2"])


_consistent()


# --------------------------------------------------------------------------- 06.1 statistics
@task("06.1", title="LayerNorm's per-token statistics",
      goal="The mean μ and the population variance σ² of every row", difficulty=1, minutes=5)
def _(token_stats):
    import minigrad as mg
    rng = seeded(0)
    Q = np.array([[1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 0, 1, 3, 3, 2, 2], [0, 1, 1, 0, 9, 8, 7, 6]],
                 float)
    cases = [(Q, [4.5, 1.75, 4.0], [5.25, 0.9375, 13.0])]       # the chapter's numbers
    for shape in ((4, 6), (2, 5)):
        z = rng.standard_normal(shape)
        cases.append((z, z.mean(-1), z.var(-1)))
    for z, mu, var in cases:
        got = token_stats(mg.tensor(z))
        if got is None:
            raise Misconception(tr("token_stats returned None — did you forget to return?"))
        if not isinstance(got, tuple) or len(got) != 2:
            raise Misconception(tr("token_stats must return two things: (μ, σ²)"))
        assert_close_or_explain("μ", got[0], np.array(mu), kind=None,
                                formula=tr("μ = (1/d)·Σⱼ zⱼ per row, shape (n,)"))
        unbiased = z.var(-1, ddof=1)
        if _close(got[1], unbiased) and not _close(got[1], var):
            raise Misconception(tr("your σ² divides by d − 1 (the unbiased variance, "
                                   "torch.var's default): LayerNorm uses the population "
                                   "variance, ÷ d — var(dim=-1, correction=0)"))
        assert_close_or_explain("σ²", got[1], np.array(var), kind=None,
                                formula=tr("σ² = (1/d)·Σⱼ (zⱼ − μ)² per row, shape (n,)"))


# --------------------------------------------------------------------------- 06.2 by hand
@task("06.2", title="the notes' FFN gradients, by hand",
      goal="δY, ∂L/∂W₂, ∂L/∂b₂ and ∂L/∂V of the notes' example, as numbers",
      difficulty=1, minutes=15)
def _(ffn_answers):
    got = ffn_answers()
    if got is None:
        raise Misconception(tr("ffn_answers returned None — did you forget to return?"))
    if not isinstance(got, tuple) or len(got) != 4:
        raise Misconception(tr("ffn_answers must return four matrices: (dY, dW2, db2, dV)"))
    # numbers typed by hand may be lists or integer arrays: read them as float64 matrices
    dY, dW2, db2, dV = (None if g is None else np.asarray(as_numpy(g) if hasattr(g, "numpy")
                                                          else g, dtype=float) for g in got)
    n = NOTES
    if dY is not None and _close(dY, n["T"] - n["Y"]):
        raise Misconception(tr("your δY has the wrong sign: L = ½Σ(Y − T)² gives δY = Y − T"))
    assert_close_or_explain("δY", dY, n["dY"],
                            formula=tr("δY = ∂L/∂Y = Y − T for L = ½Σ(Y − T)²"))
    assert_close_or_explain("W2", dW2, n["dW2"], formula="∂L/∂W₂ = Vᵀ·δY (3×2 · 2×4)")
    if db2 is not None and np.shape(db2) == (2, 4):
        raise Misconception(tr("your ∂L/∂b₂ has shape (2, 4) but b₂ is (4,) — b₂ was added "
                               "to every row (broadcast), so its gradient is the SUM of the "
                               "rows of δY"))
    assert_close_or_explain("b2", db2, n["db2"],
                            formula=tr("∂L/∂b₂ = Σᵢ δYᵢ (sum of the rows)"))
    assert_close_or_explain("V", dV, n["dV"], formula="∂L/∂V = δY·W₂ᵀ (2×4 · 4×3)")


# --------------------------------------------------------------------------- 06.3 as code
def _ffn_case(rng):
    n, d, hdim = int(rng.integers(2, 5)), int(rng.integers(2, 5)), int(rng.integers(3, 6))
    return (rng.standard_normal((n, d)), rng.standard_normal((d, hdim)),
            rng.standard_normal(hdim), rng.standard_normal((hdim, d)), rng.standard_normal(d),
            rng.standard_normal((n, d)))


@task("06.3", title="FFN backward for any input",
      goal="All five gradients of Y = ReLU(X·W₁ + b₁)·W₂ + b₂", difficulty=2, minutes=15)
def _(ffn_backward):
    import minigrad as mg
    n = NOTES
    rng = seeded(1)
    cases = [(n["X"], n["W1"], n["b1"], n["W2"], n["b2"], n["dY"])]
    cases += [_ffn_case(rng) for _ in range(3)]
    names = ("X", "W1", "b1", "W2", "b2")
    formulas = ("∂L/∂X = ∂L/∂Z·W₁ᵀ", "∂L/∂W₁ = Xᵀ·∂L/∂Z, ∂L/∂Z = ∂L/∂V ⊙ 1[Z > 0]",
                "∂L/∂b₁ = Σ_rows ∂L/∂Z", "∂L/∂W₂ = Vᵀ·δY", "∂L/∂b₂ = Σ_rows δY")
    for case in cases:
        with by_hand("06.3"):
            got = ffn_backward(*(mg.tensor(a) for a in case))
        if got is None:
            raise Misconception(tr("ffn_backward returned None — did you forget to return?"))
        if not isinstance(got, tuple) or len(got) != 5:
            raise Misconception(tr("ffn_backward must return five gradients: (dX, dW1, db1, "
                                   "dW2, db2)"))
        ref = _ffn_reference(*case)
        X, W1, b1, W2, b2, dY = case
        no_mask = X.T @ (dY @ W2.T)
        if _close(got[1], no_mask) and not _close(got[1], ref[1]):
            raise Misconception(tr("your gradient for W1 ignores the ReLU: it passes the "
                                   "gradient only where Z = X·W₁ + b₁ > 0 — ∂L/∂Z = ∂L/∂V ⊙ "
                                   "1[Z > 0]"))
        for g, r, name, formula in zip(got, ref, names, formulas):
            assert_close_or_explain(name, g, r, formula=formula, batch=X.shape[0])


# --------------------------------------------------------------------------- 06.4 split heads
def _split_case(rng):
    n, h, d = int(rng.integers(2, 5)), int(rng.integers(2, 4)), int(rng.integers(2, 4))
    if n == h:
        n += 1
    return [rng.standard_normal((n, h * d)), h]


def _split_explain(i, got, case, ref, up):
    x, h = case
    if i == 0 and _close(got, up.reshape(x.shape)) and not _close(got, ref):
        how = reveal(tr("transpose(0, 1) back to (n, h, d) FIRST, then reshape to (n, "
                        "d_model); head i's gradient must land in columns i·d … (i+1)·d − 1"))
        raise Misconception(tr("your gradient for x reshapes the heads' gradient straight "
                               "back: the backward of split is a merge") +
                            (f" — {how}" if how else ""))


@task("06.4", title="split into heads: the backward is a merge",
      goal="The VJP of (n, d_model) → (h, n, d) as an mg.autograd.Function",
      difficulty=2, minutes=10)
def _(SplitHeads):
    import torch
    torch_split = lambda x, h: x.reshape(x.shape[0], h, -1).transpose(0, 1)
    check_function(SplitHeads, torch_split, _split_case, output=tr("the heads"),
                   names=["x", None], formulas=[tr("x̄ = merge(H̄): transpose(0, 1), then "
                                                    "reshape(n, d_model)"), None],
                   cases=3, explain=_split_explain)


# --------------------------------------------------------------------------- 06.5 a whole step
MLP_SIZES = dict(batch=32, context=3, vocab=27, n_embd=10, hidden=64)
"""A makemore-sized model: 32 examples of 3 characters, 27 characters, 10 numbers per
character, 64 hidden units."""

MLP_GRADS = ("logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits",
             "logit_maxes", "logits", "h", "W2", "b2", "hln", "gamma", "beta", "raw",
             "var_inv", "var", "diff2", "diff", "mu", "hpre", "embcat", "W1", "b1", "emb", "C")
"""Every tensor of the step whose gradient the learner returns, from the loss back."""

# a tensor broadcast in the forward pass → the tensor it was broadcast against
_BROADCAST = {"counts_sum_inv": "counts", "logit_maxes": "logits", "b2": "logits",
              "gamma": "raw", "beta": "raw", "var_inv": "diff", "mu": "hpre", "b1": "hpre"}
# a tensor used twice → the two tensors computed from it
_REUSED = {"counts": ("probs", "counts_sum"), "logits": ("norm_logits", "logit_maxes"),
           "diff": ("diff2", "raw"), "hpre": ("diff", "mu")}


def mlp_case(seed=0, sizes=MLP_SIZES):
    """The parameters and a batch of a makemore-style MLP, as float64/int numpy arrays."""
    rng = seeded(seed)
    s = sizes
    P = dict(C=rng.standard_normal((s["vocab"], s["n_embd"])),
             W1=rng.standard_normal((s["context"] * s["n_embd"], s["hidden"])) * 0.2,
             b1=rng.standard_normal(s["hidden"]) * 0.1,
             gamma=1 + 0.1 * rng.standard_normal(s["hidden"]),
             beta=0.1 * rng.standard_normal(s["hidden"]),
             W2=rng.standard_normal((s["hidden"], s["vocab"])) * 0.1,
             b2=rng.standard_normal(s["vocab"]) * 0.1)
    Xb = rng.integers(0, s["vocab"], (s["batch"], s["context"]))
    Yb = rng.integers(0, s["vocab"], s["batch"])
    return P, Xb, Yb


def mlp_step(lib, P, Xb, Yb, eps=1e-5):
    """The forward pass of one training step, one line per operation (``lib`` is minigrad or
    torch, ``P`` the parameters as tensors of ``lib``): every intermediate tensor, by name."""
    t = dict(P)
    n = Xb.shape[0]
    t["emb"] = P["C"][Xb]                                   # (n, context, n_embd)
    t["embcat"] = t["emb"].reshape(n, -1)                   # (n, context·n_embd)
    t["hpre"] = t["embcat"] @ P["W1"] + P["b1"]             # (n, hidden)
    t["mu"] = t["hpre"].mean(1, keepdim=True)               # layer norm, per example
    t["diff"] = t["hpre"] - t["mu"]
    t["diff2"] = t["diff"] ** 2
    t["var"] = t["diff2"].mean(1, keepdim=True)             # population variance
    t["var_inv"] = (t["var"] + eps) ** -0.5
    t["raw"] = t["diff"] * t["var_inv"]
    t["hln"] = P["gamma"] * t["raw"] + P["beta"]
    t["h"] = t["hln"].tanh()
    t["logits"] = t["h"] @ P["W2"] + P["b2"]                # (n, vocab)
    t["logit_maxes"] = t["logits"].max(1, keepdim=True).values
    t["norm_logits"] = t["logits"] - t["logit_maxes"]       # for a stable exp
    t["counts"] = t["norm_logits"].exp()
    t["counts_sum"] = t["counts"].sum(1, keepdim=True)
    t["counts_sum_inv"] = t["counts_sum"] ** -1
    t["probs"] = t["counts"] * t["counts_sum_inv"]
    t["logprobs"] = t["probs"].log()
    t["loss"] = -t["logprobs"][lib.arange(n), Yb].mean()
    return t


def _mlp_reference(P, Xb, Yb, dloss):
    """torch's value of every tensor of the step and its gradient, pulled back from ``dloss``."""
    import torch
    Pt = {k: torch.tensor(a, requires_grad=True) for k, a in P.items()}
    t = mlp_step(torch, Pt, torch.tensor(Xb), torch.tensor(Yb))
    for k in MLP_GRADS:
        if k not in P:
            t[k].retain_grad()
    t["loss"].backward(torch.tensor(dloss))
    values = {k: v.detach().numpy() for k, v in t.items()}
    return values, {k: t[k].grad.numpy() for k in MLP_GRADS}


def _sum_to(g, shape):
    """``g`` summed over the dimensions along which a tensor of ``shape`` was broadcast."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1),
                 keepdims=True).reshape(shape)


def _one_path(name, v, ref):
    """The contributions that reach the reused tensor ``name`` through each of its two uses
    (by the chain rule, from torch's gradients of the tensors computed from it)."""
    if name == "counts":
        return ref["probs"] * v["counts_sum_inv"], np.broadcast_to(ref["counts_sum"],
                                                                   v["counts"].shape)
    if name == "logits":
        hot = v["logits"] == v["logit_maxes"]
        return ref["norm_logits"], hot * ref["logit_maxes"]
    if name == "diff":
        return 2 * v["diff"] * ref["diff2"], ref["raw"] * v["var_inv"]
    hidden = v["hpre"].shape[1]
    return ref["diff"], np.broadcast_to(ref["mu"] / hidden, v["hpre"].shape)


def _mlp_explain(name, got, v, ref, batch, dloss):
    """Raise the diagnosis of the first wrong gradient, ``name`` (``got`` as numpy)."""
    want = ref[name]
    explain_upstream(name, got, want, np.float64(dloss))
    if name in _BROADCAST and got.shape == v[_BROADCAST[name]].shape != want.shape and \
            np.allclose(_sum_to(got, want.shape), want, rtol=1e-7, atol=1e-10):
        raise Misconception(tr(
            "{name} was broadcast over {other} in the forward pass ({shape} against "
            "{other_shape}): each copy sends a gradient back, so its gradient is their sum, "
            "of {name}'s shape — sum over the broadcast dimensions (keepdim=True)",
            name=name, other=_BROADCAST[name], shape=want.shape,
            other_shape=v[_BROADCAST[name]].shape))
    if name in _REUSED and got.shape == want.shape:
        for path, used_by in zip(_one_path(name, v, ref), _REUSED[name]):
            if np.allclose(got, path, rtol=1e-7, atol=1e-10):
                first, second = _REUSED[name]
                raise Misconception(tr(
                    "{name} is used twice in the forward pass (by {first} and by {second}), "
                    "but your gradient holds only what comes back through {used_by}: add both "
                    "contributions (+=, not =)", name=name, first=first, second=second,
                    used_by=used_by))
    if name == "C" and got.shape == want.shape:
        overwritten = np.zeros_like(want)
        overwritten[v["Xb"]] = ref["emb"]
        if np.allclose(got, overwritten, rtol=1e-7, atol=1e-10):
            raise Misconception(tr(
                "your gradient for C keeps one contribution per row: a character that "
                "appears several times in Xb reads its row several times, and every read "
                "sends a gradient back — add them (np.add.at, or a loop with +=), do not "
                "assign them"))
    assert_close_or_explain(name, got, want, batch=batch, reuse=name in _REUSED)


def _compare_all(got, ref):
    """cmp: each gradient exact, approximate (max |Δ|) or wrong, in MLP_GRADS order."""
    rows = []
    for name in MLP_GRADS:
        g = got.get(name)
        g = None if g is None else as_numpy(g)
        want = ref[name]
        if g is None or g.dtype == object or g.shape != want.shape:
            rows.append((name, "wrong", None))
        elif np.array_equal(g, want):
            rows.append((name, "exact", 0.0))
        elif np.allclose(g, want, rtol=1e-7, atol=1e-10):
            rows.append((name, "approximate", float(np.abs(g - want).max())))
        else:
            rows.append((name, "wrong", None))
    return rows


def note_text(task_id, message, lang):
    """A failed check's message as the solution's notes list it: for 06.5 without the
    gradients that passed (which of them are exact depends on the machine's round-off)."""
    if task_id != "06.5":
        return message
    passed = (tr("exact: {names}", lang, names=""), tr("approximate (max |Δ| = {delta:.1e}): "
                                                        "{names}", lang, delta=0.0, names=""))
    passed = tuple(p.split("=")[0] for p in passed)
    return "; ".join(part for part in message.split("; ") if not part.startswith(passed))


def mlp_report(rows):
    """The cmp table as one line: which gradients are exact, which approximate (with the
    largest |Δ|), which wrong."""
    parts = []
    exact = [n for n, s, _ in rows if s == "exact"]
    approx = [n for n, s, _ in rows if s == "approximate"]
    wrong = [n for n, s, _ in rows if s == "wrong"]
    if exact:
        parts.append(tr("exact: {names}", names=", ".join(exact)))
    if approx:
        worst = max(d for _, s, d in rows if s == "approximate")
        parts.append(tr("approximate (max |Δ| = {delta:.1e}): {names}", delta=worst,
                        names=", ".join(approx)))
    if wrong:
        parts.append(tr("wrong: {names}", names=", ".join(wrong)))
    return "; ".join(parts)


@task("06.5", title="a whole MLP step, backward by hand",
      goal="The gradient of every tensor of the step, from ∂loss back to ∂C: each one the "
           "upstream gradient times the local derivative, summed over broadcast dimensions "
           "and over every use", difficulty=3, minutes=60)
def _(mlp_backward):
    import minigrad as mg
    rng = seeded(7)
    for seed in (0, 1):
        P, Xb, Yb = mlp_case(seed)
        dloss = float(rng.uniform(0.5, 2.0))                      # a random upstream
        values, ref = _mlp_reference(P, Xb, Yb, dloss)
        given = {k: mg.tensor(a) for k, a in values.items()}
        given.update(Xb=mg.tensor(Xb), Yb=mg.tensor(Yb))
        with by_hand("06.5"):
            got = mlp_backward(given, dloss)
        if got is None:
            raise Misconception(tr("mlp_backward returned None — did you forget to return?"))
        if not isinstance(got, dict):
            raise Misconception(tr("mlp_backward returned a {type}; return a dict {example} "
                                   "with the gradient of every tensor of the step",
                                   type=type(got).__name__,
                                   example="{'logprobs': …, 'probs': …, …, 'C': …}"))
        missing = [k for k in MLP_GRADS if k not in got]
        if missing:
            raise Misconception(tr("the dict mlp_backward returned has no {keys}: return the "
                                   "gradient of every tensor of the step", keys=", ".join(missing)))
        rows = _compare_all(got, ref)
        first = next((n for n, s, _ in rows if s == "wrong"), None)
        if first is None:
            continue
        v = dict(values, Xb=Xb, Yb=Yb)
        try:
            _mlp_explain(first, as_numpy(got[first]) if got[first] is not None else None, v,
                         ref, Xb.shape[0], dloss)
            why = tr("your gradient for {name} is wrong", name=first)
        except Misconception as e:
            why = str(e)
        raise Misconception(tr("{report} — the first wrong one, {name}: {why}",
                               report=mlp_report(rows), name=first, why=why))


def _mlp_by_hand(t, dloss, mistake=None):
    """The backward of the whole step with minigrad's operations; ``mistake`` names one
    typical slip to make on purpose (the WRONG answers of task 06.5)."""
    import minigrad as mg
    F = mg.nn.functional
    n, vocab = t["logits"].shape
    hidden = t["hpre"].shape[1]
    d = {}
    target = F.one_hot(t["Yb"], vocab).to(t["probs"].dtype)
    d["logprobs"] = -(1.0 if mistake == "no_upstream" else dloss) * target / \
        (1 if mistake == "no_mean" else n)
    d["probs"] = d["logprobs"] / t["probs"]
    d["counts_sum_inv"] = d["probs"] * t["counts"]
    if mistake != "not_summed":
        d["counts_sum_inv"] = d["counts_sum_inv"].sum(1, keepdim=True)
    d["counts_sum"] = -t["counts_sum"] ** -2 * d["counts_sum_inv"]
    d["counts"] = d["probs"] * t["counts_sum_inv"]
    if mistake != "counts_once":
        d["counts"] = d["counts"] + d["counts_sum"]
    d["norm_logits"] = d["counts"] * t["counts"]
    d["logit_maxes"] = -d["norm_logits"].sum(1, keepdim=True)
    hot = F.one_hot(t["logits"].argmax(1), vocab)
    d["logits"] = d["norm_logits"] + hot * d["logit_maxes"]
    d["h"] = d["logits"] @ t["W2"].T
    d["W2"] = t["h"].T @ d["logits"]
    d["b2"] = d["logits"].sum(0)
    act = t["hln"] if mistake == "tanh_of_input" else t["h"]
    d["hln"] = (1 - act ** 2) * d["h"]
    d["gamma"] = (t["raw"] * d["hln"]).sum(0)
    d["beta"] = d["hln"].sum(0)
    d["raw"] = t["gamma"] * d["hln"]
    d["var_inv"] = (t["diff"] * d["raw"]).sum(1, keepdim=True)
    d["var"] = -0.5 * t["var_inv"] ** 3 * d["var_inv"]
    d["diff2"] = mg.ones_like(t["diff2"]) * d["var"] / (hidden - (mistake == "bessel"))
    d["diff"] = t["var_inv"] * d["raw"] + 2 * t["diff"] * d["diff2"]
    d["mu"] = -d["diff"].sum(1, keepdim=True)
    d["hpre"] = d["diff"] if mistake == "hpre_once" else d["diff"] + d["mu"] / hidden
    d["embcat"] = d["hpre"] @ t["W1"].T
    d["W1"] = (d["hpre"].T @ t["embcat"]) if mistake == "W1_transposed" else \
        t["embcat"].T @ d["hpre"]
    d["b1"] = d["hpre"].sum(0)
    d["emb"] = d["embcat"].reshape(t["emb"].shape)
    rows = d["emb"].reshape(-1, t["C"].shape[1])
    if mistake == "C_assigned":
        dC = np.zeros(t["C"].shape)
        dC[t["Xb"].numpy().reshape(-1)] = rows.numpy()
        d["C"] = mg.tensor(dC)
    else:
        d["C"] = F.one_hot(t["Xb"].reshape(-1), t["C"].shape[0]).T.to(rows.dtype) @ rows
    return d


def _mlp_numpy_einsum(t, dloss):
    """A right answer another way: numpy throughout, einsum for the products, the
    cross-entropy's gradient in one formula (softmax − one-hot) and np.add.at for C."""
    a = {k: v.numpy() for k, v in t.items()}
    n, vocab = a["logits"].shape
    hidden = a["hpre"].shape[1]
    rows = np.arange(n)
    d = {}
    d["logprobs"] = np.zeros((n, vocab))
    d["logprobs"][rows, a["Yb"]] = -dloss / n
    d["probs"] = d["logprobs"] / a["probs"]
    d["counts_sum_inv"] = np.einsum("ij,ij->i", d["probs"], a["counts"])[:, None]
    d["counts_sum"] = -d["counts_sum_inv"] / a["counts_sum"] ** 2
    d["counts"] = d["probs"] * a["counts_sum_inv"] + d["counts_sum"]
    d["norm_logits"] = d["counts"] * a["counts"]
    d["logit_maxes"] = -d["norm_logits"].sum(1, keepdims=True)
    d["logits"] = a["probs"].copy()                     # the fused formula
    d["logits"][rows, a["Yb"]] -= 1
    d["logits"] *= dloss / n
    d["W2"] = np.einsum("ni,nj->ij", a["h"], d["logits"])
    d["b2"] = d["logits"].sum(0)
    d["h"] = np.einsum("nj,ij->ni", d["logits"], a["W2"])
    d["hln"] = d["h"] * (1 - a["h"]) * (1 + a["h"])
    d["beta"] = d["hln"].sum(0)
    d["gamma"] = np.einsum("ni,ni->i", d["hln"], a["raw"])
    d["raw"] = d["hln"] * a["gamma"]
    d["var_inv"] = (d["raw"] * a["diff"]).sum(1, keepdims=True)
    d["var"] = -0.5 * d["var_inv"] * a["var_inv"] ** 3
    d["diff2"] = np.repeat(d["var"] / hidden, hidden, axis=1)
    d["diff"] = d["raw"] * a["var_inv"]
    d["diff"] += 2 * a["diff"] * d["diff2"]
    d["mu"] = -d["diff"].sum(1, keepdims=True)
    d["hpre"] = d["diff"] + d["mu"] / hidden
    d["W1"] = np.einsum("nk,nj->kj", a["embcat"], d["hpre"])
    d["b1"] = d["hpre"].sum(0)
    d["embcat"] = np.einsum("nj,kj->nk", d["hpre"], a["W1"])
    d["emb"] = d["embcat"].reshape(a["emb"].shape)
    d["C"] = np.zeros_like(a["C"])
    np.add.at(d["C"], a["Xb"], d["emb"])
    return d


def _mlp_max_path_zero(t, dloss):
    """Right: the max's path sends back exactly 0 (softmax does not change when a row's
    max is subtracted), so logits' gradient is norm_logits'; the tiny round-off of
    logit_maxes' gradient makes it approximate, not exact."""
    d = _mlp_by_hand(t, dloss)
    d["logits"] = d["norm_logits"]
    return d


def _mlp_autograd(t, dloss):
    import minigrad as mg
    leaves = {k: mg.tensor(t[k].numpy(), requires_grad=True)
              for k in ("C", "W1", "b1", "gamma", "beta", "W2", "b2")}
    step = mlp_step(mg, leaves, t["Xb"], t["Yb"])
    step["loss"].backward(mg.tensor(dloss))
    return {k: leaves[k].grad for k in leaves}


def _mlp_wrong(mistake):
    def mlp_backward(t, dloss):
        return _mlp_by_hand(t, dloss, mistake)
    mlp_backward.__name__ = f"mlp_backward_{mistake}"
    return mlp_backward

# --------------------------------------------------------------------------- wrong answers
def _wrong():
    import minigrad as mg

    def stats_unbiased(z):
        return z.mean(dim=-1), z.var(dim=-1)

    def stats_keepdim(z):
        return z.mean(dim=-1, keepdim=True), z.var(dim=-1, correction=0, keepdim=True)

    def answers_transposed():
        return ([[3, 2, 5, 1], [2, 2, 2, 1]], [[11, 10, 5], [8, 8, 4], [17, 14, 7], [4, 4, 2]],
                [5, 4, 7, 2], [[8, 8, 3], [4, 5, 2]])

    def answers_bias_not_summed():
        return ([[3, 2, 5, 1], [2, 2, 2, 1]], [[11, 8, 17, 4], [10, 8, 14, 4], [5, 4, 7, 2]],
                [[3, 2, 5, 1], [2, 2, 2, 1]], [[8, 8, 3], [4, 5, 2]])

    def answers_sign():
        return ([[-3, -2, -5, -1], [-2, -2, -2, -1]], None, None, None)

    def ffn_no_relu(X, W1, b1, W2, b2, dY):
        V = (X @ W1 + b1).relu()
        dV = dY @ W2.T
        return dV @ W1.T, X.T @ dV, dV.sum(dim=0), V.T @ dY, dY.sum(dim=0)

    def ffn_bias_rows(X, W1, b1, W2, b2, dY):
        Z = X @ W1 + b1
        V = Z.relu()
        dZ = (dY @ W2.T) * (Z > 0)
        return dZ @ W1.T, X.T @ dZ, dZ, V.T @ dY, dY.sum(dim=0)

    def ffn_bias_mean(X, W1, b1, W2, b2, dY):
        Z = X @ W1 + b1
        V = Z.relu()
        dZ = (dY @ W2.T) * (Z > 0)
        return dZ @ W1.T, X.T @ dZ, dZ.mean(dim=0), V.T @ dY, dY.mean(dim=0)

    def ffn_autograd(X, W1, b1, W2, b2, dY):
        leaves = [mg.tensor(a.numpy(), requires_grad=True) for a in (X, W1, b1, W2, b2)]
        Y = (leaves[0] @ leaves[1] + leaves[2]).relu() @ leaves[3] + leaves[4]
        Y.backward(dY)
        return tuple(t.grad for t in leaves)

    class _SplitBase(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x, num_heads):
            n, d_model = x.shape
            ctx.shape = (n, d_model)
            return x.reshape(n, num_heads, d_model // num_heads).transpose(0, 1)

    class SplitBareReshape(_SplitBase):
        @staticmethod
        def backward(ctx, grad):
            return grad.reshape(*ctx.shape), None

    class SplitForgotNone(_SplitBase):
        @staticmethod
        def backward(ctx, grad):
            return grad.transpose(0, 1).reshape(*ctx.shape)

    return {
        "06.1": [(stats_unbiased, "divides by d − 1"), (stats_keepdim, "your μ has shape")],
        "06.2": [(answers_transposed, "missing transpose?"),
                 (answers_bias_not_summed, "SUM of the rows"),
                 (answers_sign, "wrong sign")],
        "06.3": [(ffn_no_relu, "ignores the ReLU"),
                 (ffn_bias_rows, "did you sum over the broadcast (batch) dimensions?"),
                 (ffn_bias_mean, "is the batch size — did you divide by N"),
                 (ffn_autograd, "task 06.3 asks for the backward by hand")],
        "06.4": [(SplitBareReshape, "the backward of split is a merge"),
                 (SplitForgotNone, "return one per forward argument")],
        "06.5": [(_mlp_wrong("no_mean"), "the first wrong one, logprobs: your gradient for "
                                         "logprobs is exactly 32× the right value: 32 is the "
                                         "batch size"),
                 (_mlp_wrong("no_upstream"), "the first wrong one, logprobs: your gradient "
                                             "for logprobs leaves out the upstream gradient"),
                 (_mlp_wrong("not_summed"), "the first wrong one, counts_sum_inv: "
                                            "counts_sum_inv was broadcast over counts"),
                 (_mlp_wrong("counts_once"), "the first wrong one, counts: counts is used twice "
                                             "in the forward pass (by probs and by counts_sum), "
                                             "but your gradient holds only what comes back "
                                             "through probs"),
                 (_mlp_wrong("tanh_of_input"), "wrong: hln, gamma, beta,"),
                 (_mlp_wrong("bessel"), "the first wrong one, diff2: your gradient for diff2 is "
                                        "exactly"),
                 (_mlp_wrong("hpre_once"), "the first wrong one, hpre: hpre is used twice in the "
                                           "forward pass (by diff and by mu), but your gradient "
                                           "holds only what comes back through diff"),
                 (_mlp_wrong("W1_transposed"), "wrong: W1 — the first wrong one, W1: your "
                                               "gradient for W1 has shape (64, 30) but W1 is "
                                               "(30, 64) — missing transpose?"),
                 (_mlp_wrong("C_assigned"), "wrong: C — the first wrong one, C: your gradient "
                                            "for C keeps one contribution per row"),
                 (_mlp_autograd, "task 06.5 asks for the backward by hand")],
    }


WRONG = _wrong()
RIGHT = {"06.5": [_mlp_numpy_einsum, _mlp_max_path_zero]}
