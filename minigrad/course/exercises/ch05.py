"""Tasks of chapter 05, the operator catalogue: softmax, fused cross-entropy, embedding,
RMSNorm and LayerNorm, each as an ``mg.autograd.Function`` whose backward the learner writes.

Every checker runs the learner's Function on several random float64 cases (random upstream
gradients), calls its ``backward`` directly so that a gradient of the wrong shape is
explained rather than refused by the engine, then runs it through the engine and through
finite differences; torch.autograd is the reference. Where the notes give a formula that is
exact only in a special case (LayerNorm's and RMSNorm's x̄ for a per-feature γ), a learner
who copies it is told so.
"""
import numpy as np

from ..lang import tr
from .core import (Misconception, as_numpy, assert_close_or_explain, explain_upstream,
                   function_vjp, gradcheck_or_explain, seeded, task)


__all__ = ["WRONG", "check_function"]


# --------------------------------------------------------------------------- shared runner
def _tensors(lib, args):
    """Float arrays become float64 leaves that require grad; integer arrays constant tensors;
    anything else (eps, a number of heads) is passed unchanged."""
    out = []
    for a in args:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            out.append(lib.tensor(a, dtype=lib.float64, requires_grad=True))
        elif isinstance(a, np.ndarray):
            out.append(lib.tensor(a))
        else:
            out.append(a)
    return out


def _torch_reference(torch_fn, args, upstream):
    """torch's output and its VJP with ``upstream``, one gradient (or None) per argument."""
    import torch
    ts = _tensors(torch, args)
    y = torch_fn(*ts)
    leaves = [t for t in ts if isinstance(t, torch.Tensor) and t.requires_grad]
    gs = iter(torch.autograd.grad(y, leaves, torch.tensor(upstream), allow_unused=True))
    grads = []
    for t in ts:
        if isinstance(t, torch.Tensor) and t.requires_grad:
            g = next(gs)
            grads.append(np.zeros(tuple(t.shape)) if g is None else g.numpy())
        else:
            grads.append(None)
    return y.detach().numpy(), grads


def _torch_output(torch_fn, args):
    """torch's output alone, as a numpy array."""
    import torch
    with torch.no_grad():
        return torch_fn(*_tensors(torch, args)).numpy()


def check_function(Fn, torch_fn, make_case, *, output, names, formulas, cases=3, seed=0,
                   batch=None, explain=None, hint=None):
    """Check the ``mg.autograd.Function`` ``Fn`` against ``torch_fn`` (the same computation
    in torch) on ``cases`` random cases ``make_case(rng)`` (a list of forward arguments:
    float arrays are differentiated, integer arrays and numbers are not).

    ``output`` names the forward result; ``names``/``formulas`` give one entry per forward
    argument (None for the ones without a gradient). ``explain(i, got, case, ref)``, when
    given, may raise a more specific :class:`Misconception` about gradient i before the
    generic diagnosis; ``hint`` is the advice for a NaN/inf. Used by chapters 05–07."""
    import minigrad as mg
    rng = seeded(seed)
    xs = None
    for _ in range(cases):
        case = make_case(rng)
        xs = _tensors(mg, case)
        y_ref = _torch_output(torch_fn, case)
        out = Fn.apply(*xs)
        if out is None or as_numpy(out).dtype == object:
            raise Misconception(tr("{fn}.forward returned None — did you forget to return "
                                   "{output}?", fn=Fn.__name__, output=output))
        assert_close_or_explain(output, out, y_ref, kind=None, unstable_hint=hint)
        up = rng.standard_normal(y_ref.shape)
        y_ref, g_ref = _torch_reference(torch_fn, case, up)
        _, grads = function_vjp(Fn, xs, mg.tensor(up))
        for i, (g, ref, name, formula) in enumerate(zip(grads, g_ref, names, formulas)):
            if ref is None or name is None:
                continue
            _explain_placement(grads, i, ref, name)
            explain_upstream(name, g, ref, up)
            if explain is not None:
                explain(i, g, case, ref, up)
            assert_close_or_explain(name, g, ref, formula=formula, batch=batch,
                                    unstable_hint=hint)
        y = Fn.apply(*xs)
        y.backward(gradient=mg.tensor(up))
        for x, ref, name, formula in zip(xs, g_ref, names, formulas):
            if ref is not None and name is not None:
                assert_close_or_explain(name, x.grad, ref, formula=formula, batch=batch,
                                        unstable_hint=hint)
    gradcheck_or_explain(lambda *t: Fn.apply(*t), xs, f"{Fn.__name__}.backward")


def _explain_placement(grads, i, ref, name):
    """Gradient i is missing but another slot of what backward returned holds it."""
    if grads[i] is not None and _close(grads[i], ref):
        return
    for j, g in enumerate(grads):
        if j != i and g is not None and _close(g, ref):
            raise Misconception(tr(
                "your backward returns the gradient of {name} in place {got} of its result, "
                "but {name} is forward's argument {want}: return the gradients in the order of "
                "forward's arguments (None for a non-tensor one)", name=name, got=j + 1,
                want=i + 1))


def _close(got, ref):
    g = as_numpy(got) if got is not None else None
    return g is not None and np.shape(g) == np.shape(ref) and np.allclose(g, ref, atol=1e-9)


def _unstable():
    """The advice for a NaN/inf out of softmax (looked up when a check runs)."""
    return tr("unstable: subtract the max before exp — e^1000 overflows to inf, and "
              "softmax(x) = softmax(x − max x) is the same function without overflow; each "
              "row's own max (over the last dimension, keepdim=True): one max of the whole "
              "tensor leaves the rows far below it at e^−1000 = 0, and 0/0")


# --------------------------------------------------------------------------- 05.1 softmax
def _softmax_case(rng):
    shape = [(4, 5), (2, 3, 6), (3, 4)][int(rng.integers(0, 3))]
    x = rng.standard_normal(shape)
    if rng.random() < 0.5:
        x = x * 1e3            # logits of size 1e3: e^x overflows unless the max is subtracted
    return [x]


@task("05.1", title="softmax forward and backward",
      goal="Write a numerically stable softmax over the last dimension and its VJP",
      difficulty=1, minutes=10)
def _(Softmax):
    import torch

    # a case with logits of 1e3 first: an unstable forward is caught at once
    big = [np.array([[1000.0, 999.0, 0.0], [-3.0, 1.0, 2.0]])]
    check_function(Softmax, lambda x: torch.softmax(x, -1), lambda rng: big,
                   output="softmax(x)", names=["x"], formulas=["x̄ = S ⊙ (S̄ − Σₖ S̄ₖ Sₖ)"],
                   cases=1, hint=_unstable())
    check_function(Softmax, lambda x: torch.softmax(x, -1), _softmax_case,
                   output="softmax(x)", names=["x"], formulas=["x̄ = S ⊙ (S̄ − Σₖ S̄ₖ Sₖ)"],
                   cases=4, seed=1, hint=_unstable())


# --------------------------------------------------------------------------- 05.2 cross-entropy
def _ce_case(rng):
    n, c = int(rng.integers(2, 6)), int(rng.integers(3, 7))
    x = rng.standard_normal((n, c)) * (1e3 if rng.random() < 0.4 else 2.0)
    return [x, rng.integers(0, c, n)]


@task("05.2", title="fused cross-entropy",
      goal="Cross-entropy of logits (mean over the batch) with the fused gradient (S − y)/N",
      difficulty=2, minutes=15)
def _(CrossEntropy):
    import torch
    big = [np.array([[1000.0, 0.0, -1000.0], [2.0, 1.0, 0.5]]), np.array([2, 0])]
    kw = dict(output=tr("loss"), names=["logits", None],
              formulas=["x̄ = (softmax(x) − onehot(target)) · L̄ / N", None], hint=_unstable())
    check_function(CrossEntropy, torch.nn.functional.cross_entropy, lambda rng: big,
                   cases=1, batch=2, **kw)
    # the notes' example: p = [0.7, 0.2, 0.1] (logits log p), class 0 → x̄ = [−0.3, 0.2, 0.1]
    import minigrad as mg
    logits = mg.tensor(np.log([[0.7, 0.2, 0.1]]), dtype=mg.float64, requires_grad=True)
    CrossEntropy.apply(logits, mg.tensor(np.array([0]))).backward()
    assert_close_or_explain("logits", logits.grad, np.array([[-0.3, 0.2, 0.1]]), rtol=1e-12,
                            formula=tr("the notes' example: x̄ = p − y = [0.7 − 1, 0.2, 0.1]"))
    for seed in range(3):
        rng = seeded(10 + seed)
        case = _ce_case(rng)
        check_function(CrossEntropy, torch.nn.functional.cross_entropy, lambda rng, c=case: c,
                       cases=1, seed=seed, batch=len(case[1]), **kw)


# --------------------------------------------------------------------------- 05.3 embedding
def _embedding_case(rng):
    v, dim = int(rng.integers(4, 7)), int(rng.integers(2, 5))
    idx = rng.integers(0, v, (2, 5))
    idx[0, :2] = idx[1, 0] = 1           # row 1 is read three times
    return [idx, rng.standard_normal((v, dim))]


def _embedding_explain(i, got, case, ref, up):
    idx, w = case
    assigned = np.zeros_like(w)
    assigned[idx.reshape(-1)] = up.reshape(-1, w.shape[1])        # `=`: the last write wins
    if _close(got, assigned) and not _close(got, ref):
        raise Misconception(tr(
            "your gradient for weight keeps only one gradient per row: a row read twice must "
            "receive the SUM of the gradients of its reads (+=, not =) — use np.add.at, or "
            "onehot(idx)ᵀ · ȳ — {formula}", formula="weight̄[i] = Σ_{j: idx_j = i} ȳ_j"))


@task("05.3", title="embedding backward",
      goal="Scatter-add the gradient of a lookup back to the rows that were read",
      difficulty=2, minutes=15)
def _(Embedding):
    import torch
    check_function(Embedding, lambda i, w: torch.nn.functional.embedding(i, w), _embedding_case,
                   output=tr("the lookup"), names=[None, "weight"],
                   formulas=[None, "weight̄[i] = Σ_{j: idx_j = i} ȳ_j"], cases=3,
                   explain=_embedding_explain)


# --------------------------------------------------------------------------- 05.4 RMSNorm
def _norm_case(rng):
    shape = [(4, 6), (2, 3, 5), (3, 8)][int(rng.integers(0, 3))]
    return [rng.standard_normal(shape), rng.standard_normal(shape[-1])]


def _rms_explain(i, got, case, ref, up):
    if i != 0:
        return
    x, gamma, eps = case
    r = np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    notes = gamma / r * (up - x / (x.shape[-1] * r**2) * (x * up * gamma).sum(-1, keepdims=True))
    if _close(got, notes) and not _close(got, ref):
        raise Misconception(tr(
            "your gradient for x is the notes' formula, which is exact only for γ = 1: γ must "
            "multiply ȳ once, inside the sum — with ĝ = γ ⊙ ȳ, x̄ = (ĝ − x·⟨ĝ ⊙ x⟩/RMS²)/RMS"))


@task("05.4", title="RMSNorm backward",
      goal="The VJP of y = γ ⊙ x / RMS(x) for x and a per-feature γ",
      difficulty=2, minutes=15)
def _(RMSNorm):
    import torch
    check_function(RMSNorm, lambda x, g, eps: torch.nn.functional.rms_norm(x, (x.shape[-1],),
                                                                           g, eps),
                   lambda rng: _norm_case(rng) + [1e-6], output="RMSNorm(x)",
                   names=["x", "weight", None],
                   formulas=["x̄ = (ĝ − x ⊙ ⟨ĝ ⊙ x⟩ / RMS²) / RMS with ĝ = γ ⊙ ȳ",
                             "γ̄ = Σ_batch ȳ ⊙ x / RMS", None],
                   cases=4, explain=_rms_explain)


# --------------------------------------------------------------------------- 05.5 LayerNorm
def _ln_case(rng):
    x, gamma = _norm_case(rng)
    return [x, gamma, rng.standard_normal(gamma.shape), 1e-5]


def _ln_explain(i, got, case, ref, up):
    if i != 0:
        return
    x, gamma, _, eps = case
    mean = lambda t: t.mean(-1, keepdims=True)
    inv = 1 / np.sqrt(x.var(-1, keepdims=True) + eps)
    xhat = (x - mean(x)) * inv
    notes = gamma * inv * (up - mean(up) - xhat * mean(up * xhat))
    if _close(got, notes) and not _close(got, ref):
        raise Misconception(tr(
            "your gradient for x is the notes' formula, which holds only for a scalar γ: with "
            "one γ per feature, γ goes INSIDE the means — x̄ = (ĝ − ⟨ĝ⟩ − x̂ ⊙ ⟨ĝ ⊙ x̂⟩)/σ with "
            "ĝ = γ ⊙ ȳ"))


@task("05.5", title="LayerNorm backward",
      goal="The three gradients x̄, γ̄, β̄ of y = γ ⊙ x̂ + β",
      difficulty=3, minutes=20)
def _(LayerNorm):
    import torch
    check_function(LayerNorm, lambda x, g, b, eps: torch.nn.functional.layer_norm(
                       x, (x.shape[-1],), g, b, eps), _ln_case, output="LayerNorm(x)",
                   names=["x", "weight", "bias", None],
                   formulas=["x̄ = (ĝ − ⟨ĝ⟩ − x̂ ⊙ ⟨ĝ ⊙ x̂⟩) / √(σ² + ε) with ĝ = γ ⊙ ȳ",
                             "γ̄ = Σ_batch ȳ ⊙ x̂", "β̄ = Σ_batch ȳ", None],
                   cases=4, explain=_ln_explain)


# --------------------------------------------------------------------------- wrong answers
def _wrong():
    import minigrad as mg
    import minigrad.nn.functional as F
    Function = mg.autograd.Function

    class UnstableSoftmax(Function):
        @staticmethod
        def forward(ctx, x):
            e = x.exp()                                   # no max subtracted
            s = e / e.sum(dim=-1, keepdim=True)
            ctx.save_for_backward(s)
            return s

        @staticmethod
        def backward(ctx, grad):
            s, = ctx.saved_tensors
            return s * (grad - (grad * s).sum(dim=-1, keepdim=True))

    class SoftmaxDiagonalOnly(Function):
        @staticmethod
        def forward(ctx, x):
            e = (x - x.max(dim=-1, keepdim=True).values).exp()
            s = e / e.sum(dim=-1, keepdim=True)
            ctx.save_for_backward(s)
            return s

        @staticmethod
        def backward(ctx, grad):
            s, = ctx.saved_tensors
            return grad * s * (1 - s)                     # the Jacobian's diagonal only

    class SoftmaxGlobalMax(Function):
        @staticmethod
        def forward(ctx, x):
            e = (x - x.max()).exp()                      # one max for the whole tensor
            s = e / e.sum(dim=-1, keepdim=True)
            ctx.save_for_backward(s)
            return s

        @staticmethod
        def backward(ctx, grad):
            s, = ctx.saved_tensors
            return s * (grad - (grad * s).sum(dim=-1, keepdim=True))

    class SoftmaxForwardNoReturn(SoftmaxGlobalMax):
        @staticmethod
        def forward(ctx, x):
            e = (x - x.max(dim=-1, keepdim=True).values).exp()
            ctx.save_for_backward(e / e.sum(dim=-1, keepdim=True))

    class SoftmaxBackwardsTypo(Function):
        @staticmethod
        def forward(ctx, x):
            return SoftmaxGlobalMax.forward(ctx, x - x.max(dim=-1, keepdim=True).values)

        @staticmethod
        def backwards(ctx, grad):                        # the typo: backward is not defined
            s, = ctx.saved_tensors
            return s * (grad - (grad * s).sum(dim=-1, keepdim=True))

    class SoftmaxNoReturn(SoftmaxDiagonalOnly):
        @staticmethod
        def backward(ctx, grad):
            s, = ctx.saved_tensors
            s * (grad - (grad * s).sum(dim=-1, keepdim=True))

    def _ce_forward(ctx, logits, target, stable=True):
        shifted = logits - logits.max(dim=-1, keepdim=True).values if stable else logits
        log_p = shifted - shifted.exp().sum(dim=-1, keepdim=True).log()
        onehot = F.one_hot(target, logits.shape[-1]).to(logits.dtype)
        ctx.save_for_backward(log_p.exp(), onehot)
        return -(onehot * log_p).sum() / logits.shape[0]

    class CrossEntropyNoMean(Function):
        forward = staticmethod(_ce_forward)

        @staticmethod
        def backward(ctx, grad):
            p, onehot = ctx.saved_tensors
            return (p - onehot) * grad, None              # forgot the 1/N of the mean

    class CrossEntropyUnstable(Function):
        forward = staticmethod(lambda ctx, logits, target: _ce_forward(ctx, logits, target,
                                                                       stable=False))

        @staticmethod
        def backward(ctx, grad):
            p, onehot = ctx.saved_tensors
            return (p - onehot) * grad / p.shape[0], None

    class CrossEntropyOneGrad(CrossEntropyNoMean):
        @staticmethod
        def backward(ctx, grad):
            p, onehot = ctx.saved_tensors
            return (p - onehot) * grad / p.shape[0]       # no None for the target

    class CrossEntropyNoUpstream(CrossEntropyNoMean):
        @staticmethod
        def backward(ctx, grad):
            p, onehot = ctx.saved_tensors
            return (p - onehot) / p.shape[0], None         # as if L̄ were always 1

    class _EmbeddingBase(Function):
        @staticmethod
        def forward(ctx, idx, weight):
            ctx.save_for_backward(idx)
            ctx.num_embeddings = weight.shape[0]
            return weight[idx]

    class EmbeddingAssign(_EmbeddingBase):
        @staticmethod
        def backward(ctx, grad):
            idx, = ctx.saved_tensors
            gw = np.zeros((ctx.num_embeddings, grad.shape[-1]))
            gw[idx.numpy().reshape(-1)] = grad.numpy().reshape(-1, grad.shape[-1])   # = not +=
            return None, mg.tensor(gw)

    class EmbeddingSwapped(_EmbeddingBase):
        @staticmethod
        def backward(ctx, grad):
            idx, = ctx.saved_tensors
            gw = np.zeros((ctx.num_embeddings, grad.shape[-1]))
            np.add.at(gw, idx.numpy(), grad.numpy())
            return mg.tensor(gw), None                    # in idx's place

    class EmbeddingNotScattered(_EmbeddingBase):
        @staticmethod
        def backward(ctx, grad):
            return None, grad                             # the gradient of the lookup's output

    class _RMSBase(Function):
        @staticmethod
        def forward(ctx, x, weight, eps):
            rstd = ((x * x).mean(dim=-1, keepdim=True) + eps) ** -0.5
            ctx.save_for_backward(x, weight, rstd)
            return x * rstd * weight

    class RMSNormNotes(_RMSBase):
        @staticmethod
        def backward(ctx, grad):
            x, weight, rstd = ctx.saved_tensors
            n = x.shape[-1]
            gx = weight * rstd * (grad - x * rstd**2 / n * (x * grad * weight).sum(dim=-1,
                                                                                 keepdim=True))
            gw = (grad * x * rstd).reshape(-1, n).sum(dim=0)
            return gx, gw, None

    class RMSNormWeightNotSummed(_RMSBase):
        @staticmethod
        def backward(ctx, grad):
            x, weight, rstd = ctx.saved_tensors
            g = grad * weight
            gx = rstd * (g - x * rstd ** 2 * (g * x).mean(dim=-1, keepdim=True))
            return gx, grad * x * rstd, None              # γ̄ not summed over the batch

    class _LNBase(Function):
        @staticmethod
        def forward(ctx, x, weight, bias, eps):
            xc = x - x.mean(dim=-1, keepdim=True)
            rstd = ((xc * xc).mean(dim=-1, keepdim=True) + eps) ** -0.5
            xhat = xc * rstd
            ctx.save_for_backward(xhat, weight, rstd)
            return xhat * weight + bias

    class LayerNormNotes(_LNBase):
        @staticmethod
        def backward(ctx, grad):
            xhat, weight, rstd = ctx.saved_tensors
            m = lambda t: t.mean(dim=-1, keepdim=True)
            gx = weight * rstd * (grad - m(grad) - xhat * m(grad * xhat))
            n = xhat.shape[-1]
            return gx, (grad * xhat).reshape(-1, n).sum(dim=0), grad.reshape(-1, n).sum(dim=0), None

    class LayerNormBiasNotSummed(_LNBase):
        @staticmethod
        def backward(ctx, grad):
            xhat, weight, rstd = ctx.saved_tensors
            g = grad * weight
            m = lambda t: t.mean(dim=-1, keepdim=True)
            gx = rstd * (g - m(g) - xhat * m(g * xhat))
            n = xhat.shape[-1]
            return gx, (grad * xhat).reshape(-1, n).sum(dim=0), grad, None

    class LayerNormNoCentering(_LNBase):
        @staticmethod
        def backward(ctx, grad):
            xhat, weight, rstd = ctx.saved_tensors
            n = xhat.shape[-1]
            return (grad * weight * rstd, (grad * xhat).reshape(-1, n).sum(dim=0),
                    grad.reshape(-1, n).sum(dim=0), None)   # as if μ and σ were constants

    return {
        "05.1": [(UnstableSoftmax, "unstable: subtract the max"),
                 (SoftmaxDiagonalOnly, "your gradient for x is wrong"),
                 (SoftmaxNoReturn, "did you forget to return?"),
                 (SoftmaxGlobalMax, "each row's own max"),
                 (SoftmaxForwardNoReturn, "forward returned None — did you forget"),
                 (SoftmaxBackwardsTypo, "is it spelled `backward`")],
        "05.2": [(CrossEntropyNoMean, "is the batch size"),
                 (CrossEntropyUnstable, "unstable: subtract the max"),
                 (CrossEntropyOneGrad, "return one per forward argument"),
                 (CrossEntropyNoUpstream, "leaves out the upstream gradient")],
        "05.3": [(EmbeddingAssign, "+=, not ="),
                 (EmbeddingNotScattered, "your gradient for weight has shape"),
                 (EmbeddingSwapped, "in place 1 of its result, but weight is forward's "
                                    "argument 2")],
        "05.4": [(RMSNormNotes, "exact only for γ = 1"),
                 (RMSNormWeightNotSummed, "did you sum over the broadcast (batch) dimensions?")],
        "05.5": [(LayerNormNotes, "holds only for a scalar γ"),
                 (LayerNormBiasNotSummed, "did you sum over the broadcast (batch) dimensions?"),
                 (LayerNormNoCentering, "your gradient for x is wrong")],
    }


WRONG = _wrong()
