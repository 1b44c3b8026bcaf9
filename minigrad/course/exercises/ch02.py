"""Chapter 02 — tensor shapes and their gradients: permute, unbroadcast, a broadcasting
division, and splitting attention heads, each checked against torch.autograd."""
import numpy as np

from ..lang import tr
from .core import (Misconception, assert_close_or_explain, check_function_vjp, reveal, seeded,
                   task)


def _mg():
    import minigrad as mg
    return mg


# --------------------------------------------------------------------------- 02.1
# 3-cycles (where π∘π = π⁻¹), a 4-cycle and a transposition with a fixed point, on shapes
# whose sizes all differ, so every wrong permutation of ȳ has a wrong shape
_PERMS = [((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (1, 2, 0)), ((2, 3, 4, 5), (0, 3, 1, 2)),
          ((2, 3, 4, 5), (1, 2, 3, 0)), ((2, 3, 4, 5), (3, 1, 2, 0))]


def _permute_diagnose(args, up, grads, perm):
    """Name the permutation the learner applied when the gradient's shape is not x's."""
    g = grads[0]
    shape = args[0].shape
    if g is None or not hasattr(g, "shape") or tuple(g.shape) == shape:
        return
    got = tuple(g.shape)
    if got == up.transpose(perm).shape:
        raise Misconception(tr("for π = {perm} your gradient has shape {shape} but x is "
                               "{expected} — did you apply π instead of its inverse π⁻¹ = "
                               "argsort(π)?", perm=perm, shape=got, expected=shape))
    if got == up.transpose(perm).transpose(perm).shape:
        raise Misconception(tr("for π = {perm} your gradient has shape {shape} but x is "
                               "{expected} — π∘π undoes a 3-cycle, but not this permutation: "
                               "the inverse sends each axis back where it came from, "
                               "π⁻¹[π[i]] = i", perm=perm, shape=got, expected=shape))
    raise Misconception(tr("for π = {perm} your gradient has shape {shape} but x is "
                           "{expected} — x̄ is ȳ with its axes put back in x's order",
                           perm=perm, shape=got, expected=shape))


@task("02.1", title="The VJP of permute",
      goal="Write Permute.backward: x̄ = permute(ȳ, π⁻¹) with π⁻¹ = argsort(π)",
      difficulty=1, minutes=5)
def _(Permute):
    for shape, perm in _PERMS:
        check_function_vjp(Permute, lambda x, p: x.permute(*p),
                           lambda rng, s=shape, p=perm: [rng.standard_normal(s), p],
                           names=["x", None], cases=1,
                           diagnose=lambda a, u, g, p=perm: _permute_diagnose(a, u, g, p),
                           formulas=["x̄ = permute(ȳ, π⁻¹), π⁻¹ = argsort(π)", None])


# --------------------------------------------------------------------------- 02.2
_UNBROADCAST = [((5, 4), (4,)), ((3, 2, 5, 4), (2, 1, 4)), ((2, 3), (2, 1)), ((2, 3), (1, 3)),
                ((4, 3), ()), ((2, 3), (2, 3)), ((6, 1, 3), (1, 1, 3)), ((2, 3, 4), (3, 1))]


def _unbroadcast_ref(g, shape):
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead)))
    dims = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=dims, keepdims=True) if dims else g


@task("02.2", title="unbroadcast",
      goal="Sum a broadcast gradient back to its variable's shape",
      difficulty=2, minutes=10)
def _(unbroadcast):
    mg = _mg()
    rng = seeded(22)
    for big, shape in _UNBROADCAST:
        g = rng.standard_normal(big)
        got = unbroadcast(mg.tensor(g), shape)
        assert_close_or_explain(
            "x", got, _unbroadcast_ref(g, shape), batch=int(np.prod(big)) // max(1, int(np.prod(shape))),
            formula=tr("x.shape = {shape}, the gradient {big}: sum over the dimensions "
                       "broadcasting prepended, then (keepdim) over those where x has size 1",
                       shape=shape, big=big))


# --------------------------------------------------------------------------- 02.3
_DIV_SHAPES = [((4, 3), (3,)), ((2, 1, 3), (4, 1)), ((3, 2), (3, 2))]


@task("02.3", title="The VJP of a broadcasting division",
      goal="Write Div.backward for y = a / b with broadcasting: ā = ȳ/b, b̄ = −ȳ·a/b², unbroadcast",
      difficulty=2, minutes=15)
def _(Div):
    import torch

    def inputs(rng, k=[0]):
        sa, sb = _DIV_SHAPES[k[0] % len(_DIV_SHAPES)]
        k[0] += 1
        b = rng.uniform(0.5, 2.0, size=sb) * rng.choice([-1.0, 1.0], size=sb)
        return [rng.standard_normal(sa), b]
    check_function_vjp(Div, torch.div, inputs, names=["a", "b"], cases=4,
                       formulas=["ā = unbroadcast(ȳ / b, a.shape)",
                                 "b̄ = unbroadcast(−ȳ · a / b², b.shape)"])


# --------------------------------------------------------------------------- 02.4
@task("02.4", title="The backward of split_heads",
      goal="Undo (B, T, d) → (B, h, T, d/h) on the gradient: transpose back, then reshape",
      difficulty=3, minutes=15)
def _(SplitHeads):
    import torch

    def split(x, h):
        B, T, d = x.shape
        return x.reshape(B, T, h, d // h).transpose(1, 2)

    for B, T, d, h in [(1, 3, 8, 2), (2, 4, 6, 3), (2, 5, 8, 4)]:
        def diagnose(args, up, grads):
            g = grads[0]
            if g is not None and hasattr(g, "shape") and tuple(g.shape) == args[0].shape:
                got = np.asarray(g.detach().numpy() if hasattr(g, "detach") else g)
                if np.allclose(got, up.reshape(args[0].shape)):
                    how = reveal(tr("transpose(1, 2) first (undo the split's transpose), "
                                    "then reshape"))
                    raise Misconception(tr(
                        "you reshaped ȳ straight back to (B, T, d): every shape fits but the "
                        "values land in the wrong places — missing transpose?") +
                        (f" {how}" if how else ""))
        check_function_vjp(SplitHeads, split,
                           lambda rng, s=(B, T, d), h=h: [rng.standard_normal(s), h],
                           names=["x", None], cases=1, diagnose=diagnose,
                           formulas=["x̄ = merge_heads(ȳ) = ȳ.transpose(1, 2).reshape(B, T, d)",
                                     None])


# --------------------------------------------------------------------------- wrong answers
def _fn(name, forward, backward):
    mg = _mg()
    return type(name, (mg.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def _permute_forward(ctx, x, perm):
    ctx.perm = perm
    return x._data.transpose(perm)


def _permute_same_perm(ctx, grad):
    return grad.permute(*ctx.perm), None


def _permute_squared(ctx, grad):
    return grad.permute(*[ctx.perm[i] for i in ctx.perm]), None


def _permute_one_grad(ctx, grad):
    return grad.permute(*[int(i) for i in np.argsort(ctx.perm)])


def _ub_leading_only(grad, shape):
    lead = grad.ndim - len(shape)
    return grad.sum(dim=tuple(range(lead))) if lead else grad


def _ub_no_keepdim(grad, shape):
    lead = grad.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(dim=dims) if dims else grad


def _ub_mean(grad, shape):
    lead = grad.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and grad.shape[lead + i] != 1)
    g = grad.mean(dim=dims, keepdim=True) if dims else grad
    return g.reshape(shape)


def _ub_no_return(grad, shape):
    grad.sum()


def _div_forward(ctx, a, b):
    ctx.save_for_backward(a, b)
    return a._data / b._data


def _div_no_unbroadcast(ctx, grad):
    a, b = ctx.saved_tensors
    return grad / b, -grad * a / (b * b)


def _div_sign(ctx, grad):
    mg = _mg()
    a, b = ctx.saved_tensors
    return mg.unbroadcast(grad / b, a.shape), mg.unbroadcast(grad * a / (b * b), b.shape)


def _div_forgot_a(ctx, grad):
    mg = _mg()
    a, b = ctx.saved_tensors
    return mg.unbroadcast(grad / b, a.shape), mg.unbroadcast(-grad / (b * b), b.shape)


def _split_forward(ctx, x, h):
    B, T, d = x.shape
    ctx.shape = x.shape
    return x._data.reshape(B, T, h, d // h).transpose(0, 2, 1, 3)


def _split_no_transpose(ctx, grad):
    return grad.reshape(ctx.shape), None


def _split_transpose_wrong_dims(ctx, grad):
    B, T, d = ctx.shape
    return grad.transpose(2, 3).reshape(B, T, d), None


WRONG = {
    "02.1": [(_fn("Permute", _permute_forward, _permute_same_perm), "inverse π⁻¹ = argsort(π)"),
             (_fn("Permute", _permute_forward, _permute_squared), "π∘π undoes a 3-cycle"),
             (_fn("Permute", _permute_forward, _permute_one_grad),
              "return one per forward argument")],
    "02.2": [(_ub_leading_only, "did you sum over the broadcast (batch) dimensions?"),
             (_ub_no_keepdim, "keepdim=True"),
             (_ub_mean, "right value"),
             (_ub_no_return, "forget to return")],
    "02.3": [(_fn("Div", _div_forward, _div_no_unbroadcast),
              "did you sum over the broadcast (batch) dimensions?"),
             (_fn("Div", _div_forward, _div_sign), "wrong sign"),
             (_fn("Div", _div_forward, _div_forgot_a), "your gradient for b is wrong")],
    "02.4": [(_fn("SplitHeads", _split_forward, _split_no_transpose), "missing transpose?"),
             (_fn("SplitHeads", _split_forward, _split_transpose_wrong_dims),
              "your gradient for x is wrong")],
}
