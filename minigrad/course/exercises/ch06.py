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
from .core import (Misconception, as_numpy, assert_close_or_explain, by_hand, reveal, seeded,
                   task)

__all__ = ["WRONG", "NOTES"]

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
    }


WRONG = _wrong()
