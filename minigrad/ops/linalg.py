"""Matrix products: matmul (``@``), the linear layer ``F.linear`` and ``einsum``; vector
norms (``norm``, ``linalg.vector_norm``).

The dimension rule of the notes: a gradient has its variable's shape, so
X̄ = Ȳ·Wᵀ ((m,p)·(p,n) = (m,n)) and W̄ = Xᵀ·Ȳ ((n,m)·(m,p) = (n,p)).
"""
import math

import numpy as np

from ..autograd import Function
from .broadcast import unbroadcast, unbroadcast_array
from .shape import IndexAdd


def _matmul_error(a, b):
    sa, sb = tuple(a.shape), tuple(b.shape)
    if a.ndim == 0 or b.ndim == 0:
        return RuntimeError(f"matmul: both arguments need at least one dimension, got shapes "
                            f"{sa} and {sb}; use * to scale by a scalar.")
    ka = sa[-1]
    kb = sb[0] if b.ndim == 1 else sb[-2]
    if ka != kb:
        return RuntimeError(
            f"matmul: cannot multiply shapes {sa} and {sb}: the last dimension of the first "
            f"({ka}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} dimension of "
            f"the second ({kb}).")
    return RuntimeError(f"matmul: the batch dimensions of shapes {sa} and {sb} cannot be "
                        f"broadcast together.")


def mm_array(a, b):
    """``a @ b`` of numpy arrays, with torch's zeros: where ``b`` is a matrix (a matrix product,
    or a batch folded into one, as torch computes it), the inner dimension is 1 and the
    product has more than one row and more than one column (torch's gemm), each element is
    its one product, its sign of zero kept (0 · −1 = −0); BLAS adds the product to +0, which
    loses it, and so does torch's matrix-vector product (one row or one column: +0).
    Otherwise numpy's matmul."""
    if b.ndim == 2 and a.ndim >= 2 and b.shape[0] == 1 and a.shape[-1] == 1 and \
            b.shape[1] > 1 and a.size > 1:
        return a * b
    return np.matmul(a, b)


class MatMul(Function):
    """Y = A @ B (batched; batch dimensions broadcast; 1-D operands are a row / a column).

    VJP: Ā = Ȳ @ Bᵀ,  B̄ = Aᵀ @ Ȳ, each then ``unbroadcast`` over the batch dimensions that
    broadcasting added. Saves A and B."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return mm_array(a._data, b._data)
        except ValueError:
            raise _matmul_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a2 = a.unsqueeze(0) if a.ndim == 1 else a          # (k,) -> (1, k)
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b         # (k,) -> (k, 1)
        out_shape = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1])
        g = grad.reshape(out_shape)
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(g @ b2.mT, a2.shape).reshape(a.shape) if na else None
        gb = unbroadcast(a2.mT @ g, b2.shape).reshape(b.shape) if nb else None
        return ga, gb

    @staticmethod
    def array_backward(ctx, grad):
        a, b = (t._data for t in ctx.saved_tensors)
        a2 = a[None] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad.reshape(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) +
                         (a2.shape[-2], b2.shape[-1]))
        na, nb = ctx.needs_input_grad
        ga = unbroadcast_array(mm_array(g, np.swapaxes(b2, -1, -2)), a2.shape).reshape(
            a.shape) if na else None
        gb = unbroadcast_array(mm_array(np.swapaxes(a2, -1, -2), g), b2.shape).reshape(
            b.shape) if nb else None
        return ga, gb


class Linear(Function):
    """Y = X·Wᵀ + b with torch's (out_features, in_features) weight.

    VJP: X̄ = Ȳ·W,  W̄ = Ȳᵀ·X (summed over all batch dimensions),
         b̄ = Σ_batch Ȳ (the bias was broadcast over the batch, so its gradient is the sum).
    Saves X and W."""

    @staticmethod
    def forward(ctx, x, w, b):
        if x.shape[-1:] != w.shape[-1:] or w.ndim != 2:
            raise RuntimeError(
                f"linear: input of shape {tuple(x.shape)} and weight of shape {tuple(w.shape)} "
                f"do not fit: the weight is (out_features, in_features) and its last dimension "
                f"must equal the input's last dimension.")
        if b is not None and b.shape != w.shape[:1]:
            raise RuntimeError(f"linear: bias of shape {tuple(b.shape)} does not fit weight of "
                               f"shape {tuple(w.shape)}; it must be ({w.shape[0]},).")
        ctx.save_for_backward(x, w)
        d = x._data
        if b is not None and w.shape[1] == 0:       # no product at all: y is b, as torch
            return np.broadcast_to(b._data, d.shape[:-1] + (w.shape[0],)).copy()
        if d.ndim > 2:           # one matrix product over all the rows, not one per batch
            y = mm_array(d.reshape(math.prod(d.shape[:-1]), d.shape[-1]), w._data.T).reshape(
                d.shape[:-1] + (w.shape[0],))
        else:
            y = mm_array(d, w._data.T)
        if b is not None:
            y += b._data
        return y

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad
        rows = math.prod(grad.shape[:-1])      # not -1: that is ambiguous for 0 elements
        g2 = grad.reshape(rows, grad.shape[-1]) if grad.ndim != 2 else grad
        gx = (g2 @ w).reshape(x.shape) if nx else None      # one matrix product for all rows
        gw = g2.mT @ (x.reshape(rows, x.shape[-1]) if x.ndim != 2 else x) if nw else None
        gb = g2.sum(0) if nb else None
        return gx, gw, gb

    @staticmethod
    def array_backward(ctx, grad):
        x, w = (t._data for t in ctx.saved_tensors)
        nx, nw, nb = ctx.needs_input_grad
        g2 = grad.reshape(math.prod(grad.shape[:-1]), grad.shape[-1])
        return (mm_array(g2, w).reshape(x.shape) if nx else None,
                mm_array(g2.T, x.reshape(g2.shape[0], x.shape[-1])) if nw else None,
                g2.sum(0) if nb else None)


def _same_dtype(op, *xs):
    dtypes = [x._data.dtype for x in xs if x is not None]
    if any(dt != dtypes[0] for dt in dtypes):
        raise RuntimeError(f"{op}: expected both operands to have the same dtype, but got "
                           f"{' and '.join(str(dt) for dt in dtypes)} (shapes "
                           f"{' and '.join(str(tuple(x.shape)) for x in xs if x is not None)}); "
                           f"matrix products do not promote: cast one with .to(other.dtype).")


def matmul(a, b):
    if a._data.dtype != b._data.dtype:
        _same_dtype("matmul", a, b)
    return MatMul.apply(a, b)


def mm(a, b):
    """The product of two matrices (2-D only; ``matmul`` broadcasts batches)."""
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: both arguments must be matrices (2-D), got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}; use bmm or matmul for "
                           f"batches.")
    return matmul(a, b)


def bmm(a, b):
    """Batched matrix product of two 3-D tensors (b, n, m) @ (b, m, p), no broadcasting."""
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: both arguments must be 3-D batches of matrices, got shapes "
                           f"{tuple(a.shape)} and {tuple(b.shape)}; use mm for matrices.")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: the batch sizes of shapes {tuple(a.shape)} and "
                           f"{tuple(b.shape)} differ ({a.shape[0]} and {b.shape[0]}); bmm does "
                           f"not broadcast, use matmul.")
    return matmul(a, b)


def linear(input, weight, bias=None):
    if input._data.dtype != weight._data.dtype or (bias is not None and
                                                  bias._data.dtype != weight._data.dtype):
        _same_dtype("linear", input, weight, bias)
    return Linear.apply(input, weight, bias)


# ------------------------------------------------------------------ einsum
class Einsum(Function):
    """y = einsum(equation, x₁, …, xₙ): the product of the operands' elements, summed over
    every subscript the output does not keep (a subscript repeated in one operand reads its
    diagonal; a dimension of size 1 broadcasts).

    VJP: x̄ₖ = einsum of ȳ (with the output's subscripts) and the other operands, to xₖ's
    subscripts — the same contraction with ȳ in xₖ's place; then expanded along the
    subscripts only xₖ has (xₖ alone was summed over them), summed where xₖ had size 1 (it
    was broadcast), and put on the diagonal where xₖ repeats a subscript (0 off it). Each
    step is an op, so the VJP is again differentiable. Saves the operands."""

    @staticmethod
    def forward(ctx, spec, *xs):
        ctx.spec = spec
        ctx.save_for_backward(*xs)
        labels, out = spec
        number = {s: i for i, s in enumerate(dict.fromkeys(s for ls in labels for s in ls))}
        args, size = [], {}
        for x, ls in zip(xs, labels):
            d = x._data
            if 0 in d.strides and d.size > 1:
                # expanded: numpy would factor it out of the sum (x · Σy), where torch
                # multiplies element by element (-inf · y summed over signs of y is NaN)
                d = np.ascontiguousarray(d)
            args += [d, [number[s] for s in ls]]
            size.update((s, n) for s, n in zip(ls, d.shape) if n != 1)
        res = np.array(np.einsum(*args, [number[s] for s in out]))
        if len(xs) > 1 and res.dtype.kind == "f" and all(
                s in out or s not in size for s in number) and res.size and not res.all():
            # no sum of two terms or more: each element is one product, as torch's (its
            # sign of zero too), where numpy adds it to a +0
            signs = np.einsum(*[np.copysign(1.0, a) if i % 2 == 0 else a
                                for i, a in enumerate(args)], [number[s] for s in out])
            res = np.where(res == 0, np.copysign(res, signs), res)
        return res

    @staticmethod
    def backward(ctx, grad):
        labels, out = ctx.spec
        xs = ctx.saved_tensors
        grads = [None]
        for k, (x, ls) in enumerate(zip(xs, labels)):
            others = [(grad, out)] + [(y, m) for j, (y, m) in enumerate(zip(xs, labels)) if j != k]
            grads.append(_einsum_vjp(x, ls, others) if ctx.needs_input_grad[k + 1] else None)
        return tuple(grads)


def _einsum_vjp(x, ls, others):
    """x̄ for an operand x with subscripts ``ls``; ``others`` are (tensor, subscripts) of ȳ
    and of the other operands."""
    own = list(dict.fromkeys(ls))                   # x's subscripts, each once, in order
    size = dict(zip(ls, x.shape))
    for s in own:
        # x broadcast along a summed subscript that one other operand has in full: torch
        # sums that operand along it first, then multiplies (x̄ = ȳ · Σy, so an infinite ȳ
        # times a Σy of one sign stays infinite where Σ ȳ·y would be ∞ − ∞)
        having = [k for k, (t, m) in enumerate(others) if s in m and t.shape[m.index(s)] != 1]
        if size[s] == 1 and len(having) == 1 and having[0] != 0 and \
                others[having[0]][1].count(s) == 1:
            t, m = others[having[0]]
            others = list(others)
            others[having[0]] = (t.sum(dim=m.index(s), keepdim=True), m)
    seen = {s for _, m in others for s in m}
    kept = [s for s in own if s in seen]
    g = Einsum.apply(([m for _, m in others], kept), *(t for t, _ in others))
    ones = tuple(i for i, s in enumerate(kept) if size[s] == 1 and g.shape[i] != 1)
    if ones:                                        # x was broadcast along these
        g = g.sum(dim=ones, keepdim=True)
    alone = [s for s in own if s not in seen]       # x alone was summed along these
    if alone:
        g = g.reshape(tuple(g.shape) + (1,) * len(alone))
    order = kept + alone
    if order != own:
        g = g.permute(*[order.index(s) for s in own])
    target = tuple(size[s] for s in own)
    if tuple(g.shape) != target:
        g = g.expand(*target)
    if len(own) < len(ls):                          # a repeated subscript: its diagonal
        key = tuple(np.arange(size[s]).reshape([-1 if j == own.index(s) else 1
                                                for j in range(len(own))]) for s in ls)
        g = IndexAdd.apply(g, tuple(x.shape), key)
    return g


def _einsum_error(msg):
    return RuntimeError(f"einsum: {msg}")


def _subscripts(term, start, who):
    """The subscripts of one term: letters, and Ellipsis for '...' (spaces are skipped)."""
    out, i = [], 0
    while i < len(term):
        c = term[i]
        if c == ".":
            if term[i:i + 3] != "...":
                raise _einsum_error(f"found '.' for {who} that is not part of an ellipsis "
                                    f"('...'), at index {start + i} of the equation.")
            if Ellipsis in out:
                raise _einsum_error(f"found more than one ellipsis ('...') for {who}.")
            out.append(Ellipsis)
            i += 3
            continue
        if c.isascii() and c.isalpha():
            out.append(c)
        elif not c.isspace():
            raise _einsum_error(f"invalid subscript {c!r} given at index {start + i} in the "
                                f"equation string; subscripts must be in [a-zA-Z].")
        i += 1
    return out


def _einsum_spec(equation, xs):
    """(subscripts of each operand, subscripts of the output), checked as torch checks an
    equation. The dimensions an ellipsis covers are numbered 0, 1, … (right-aligned across
    the operands, as broadcasting aligns them); without '->', the output is those
    dimensions, then the letters that occur once, in alphabetical order."""
    lhs, arrow, rhs = equation.partition("->")
    terms, start = [], 0
    for k, term in enumerate(lhs.split(",")):
        terms.append(_subscripts(term, start, f"operand {k}"))
        start += len(term) + 1
    if len(terms) != len(xs):
        raise _einsum_error(f"the equation {equation!r} names {len(terms)} operand(s) but "
                            f"{len(xs)} were given.")
    covered = []
    for k, (t, x) in enumerate(zip(terms, xs)):
        letters = len(t) - (Ellipsis in t)
        if letters > x.ndim or (Ellipsis not in t and letters != x.ndim):
            raise _einsum_error(f"the number of subscripts in the equation ({letters}) does "
                                f"not match the number of dimensions ({x.ndim}) of operand {k} "
                                f"(shape {tuple(x.shape)})"
                                + ("" if Ellipsis in t else " and no ellipsis was given") + ".")
        covered.append(x.ndim - letters)
    n_ell = max(covered, default=0)
    labels = []
    for t, e in zip(terms, covered):
        ls = []
        for s in t:
            ls += list(range(n_ell - e, n_ell)) if s is Ellipsis else [s]
        labels.append(ls)
    if arrow:
        out = []
        for s in _subscripts(rhs, len(lhs) + 2, "the output"):
            if s is not Ellipsis and s in out:
                raise _einsum_error(f"output subscript {s} appears more than once in the "
                                    f"output.")
            if s is not Ellipsis and not any(s in t for t in terms):
                raise _einsum_error(f"output subscript {s} does not appear in the equation "
                                    f"for any input operand.")
            out += list(range(n_ell)) if s is Ellipsis else [s]
    else:
        letters = [s for ls in labels for s in ls if isinstance(s, str)]
        out = list(range(n_ell)) + sorted(s for s in set(letters) if letters.count(s) == 1)
    _einsum_sizes(labels, xs)
    return labels, out


def _einsum_sizes(labels, xs):
    """A subscript repeated in one operand needs equal sizes; across operands, sizes that
    broadcast (equal, or 1)."""
    seen = {}
    for k, (ls, x) in enumerate(zip(labels, xs)):
        mine = {}
        for s, n in zip(ls, x.shape):
            if s in mine and mine[s] != n:
                raise _einsum_error(f"subscript {s} is repeated for operand {k} (shape "
                                    f"{tuple(x.shape)}) but the sizes don't match, "
                                    f"{mine[s]} != {n}.")
            mine[s] = n
        for s, n in mine.items():
            prev = seen.get(s, 1)
            if n != 1 and prev != 1 and n != prev:
                what = (f"subscript {s}" if isinstance(s, str) else
                        f"the dimension {s} covered by the ellipsis")
                raise _einsum_error(f"{what} has size {n} for operand {k} (shape "
                                    f"{tuple(x.shape)}), which does not broadcast with the "
                                    f"size {prev} seen before.")
            seen[s] = n if prev == 1 else prev


def _sublist_equation(args):
    """torch's other form, einsum(x₁, [0, 1], x₂, [1, 2], [0, 2]): subscripts as numbers
    0…51 (A–Z, then a–z) and Ellipsis, turned into an equation."""
    letter = lambda n: "..." if n is Ellipsis else chr(ord("A") + n) if n < 26 else \
        chr(ord("a") + n - 26)
    n = len(args) // 2
    xs, subs = list(args[0:2 * n:2]), list(args[1:2 * n:2])
    eq = ",".join("".join(letter(n) for n in s) for s in subs)
    if len(args) % 2:
        eq += "->" + "".join(letter(n) for n in args[-1])
    return eq, xs


def einsum(equation, *operands):
    """Einstein summation, as torch: ``einsum("ij,jk->ik", a, b)``, the operands also as one
    list (``einsum(eq, [a, b])``) or in the sublist form ``einsum(a, [0, 1], b, [1, 2])``."""
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: give the equation and at least one operand.")
    dtypes = {x._data.dtype for x in operands}
    if len(dtypes) > 1:
        raise RuntimeError(f"einsum: the operands must have one dtype, got "
                           f"{', '.join(str(x._data.dtype) for x in operands)}; einsum does "
                           f"not promote: cast with .to(dtype).")
    if np.dtype(bool) in dtypes:
        raise NotImplementedError("einsum: bool operands are not supported (as in torch); "
                                  "convert them with .long() or .float().")
    return Einsum.apply(_einsum_spec(equation, operands), *operands)


# ---------------------------------------------------------------- vector norms
# (``minigrad.linalg`` is this module: vector_norm and norm are torch.linalg's; p_norm is
# ``minigrad.norm`` and ``Tensor.norm``)
from ..tensor import Tensor  # noqa: E402
from .elementwise import select, sign, where  # noqa: E402
from .reduction import _dims  # noqa: E402

class LinalgVectorNorm(Function):
    """y = ‖x‖_p over ``dims``: (Σ|x|ᵖ)^(1/p); p = inf: max |x|, −inf: min |x|, 0: the
    number of nonzeros; |x| itself where each norm has one element (as torch).

    VJP (as torch's): p = 2: x̄ = ȳ · x / y; p = 1: x̄ = ȳ · sign(x); p = ±inf: ȳ · sign(x)
    shared evenly among the elements with |x| = y (or NaN); p = 0: none (a count has no
    gradient; x.grad stays None, as torch's); other p: x̄ = ȳ ·
    sign(x)|x|^(p−1) / y^(p−1). Where y = 0 (the zero vector) x̄ = 0, as torch (not 0/0);
    for p < 1, where x = 0 too (and there x̄ = 0 · y^(1−p)). Saves x and y."""

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        ctx.p, ctx.dims = p, dims
        a = np.abs(x._data)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if p == math.inf:
                y = a.max(axis=dims, keepdims=keepdim)
            elif p == -math.inf:
                y = a.min(axis=dims, keepdims=keepdim)
            elif p == 0:
                y = (a != 0).sum(axis=dims, keepdims=keepdim).astype(a.dtype)
            elif math.prod(x.shape[d] for d in dims) == 1:
                # one element per norm: |x| itself, as torch (not (|x|^p)^(1/p), an ulp off)
                y = a if keepdim else a.reshape(tuple(n for i, n in enumerate(a.shape)
                                                      if i not in dims))
            elif p == 1:
                y = a.sum(axis=dims, keepdims=keepdim)
            elif p == 2:
                y = np.sqrt((a * a).sum(axis=dims, keepdims=keepdim))
            else:
                y = ((a ** p).sum(axis=dims, keepdims=keepdim)) ** (1.0 / p)
        y = Tensor._make(np.asarray(y, a.dtype))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        p = ctx.p
        kept = tuple(1 if i in ctx.dims else n for i, n in enumerate(x.shape))
        g, y = grad.reshape(kept), y.reshape(kept)
        if p == 0:                   # as torch: no gradient at all (not a tensor of zeros)
            return None, None, None, None
        if p == 1:
            return sign(x) * g, None, None, None
        if abs(p) == math.inf:
            a = np.abs(x._data)
            mask = (a == y._data) | np.isnan(a)
            count = mask.sum(axis=ctx.dims, keepdims=True).astype(a.dtype)
            return sign(x) * (g / Tensor._make(count) * Tensor._make(mask.astype(a.dtype))), \
                None, None, None
        # as torch: the scale is computed, then set to 0 where y = 0 (a masked_fill, so a
        # second derivative there is NaN as torch's, not 0); for p = 2 the scale is x / y and
        # ȳ multiplies it after the mask, so an infinite ȳ gives NaN there, as torch's
        zero = np.asarray(y._data == 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                return g * (x / y).masked_fill(zero, 0.0), None, None, None
            if p < 1:
                scaled = sign(x) * (x.abs() ** (p - 1)).masked_fill(np.asarray(x._data == 0), 0.0)
                return scaled * g * y ** (1 - p), None, None, None
            scale = (g / y ** (p - 1)).masked_fill(zero, 0.0)
            if p < 2:
                return sign(x) * x.abs() ** (p - 1) * scale, None, None, None
            return x * x.abs() ** (p - 2) * scale, None, None, None


def vector_norm(x, ord=2, dim=None, keepdim=False, dtype=None):
    """``torch.linalg.vector_norm``: the p-norm (p = ``ord``) of x flattened, or over ``dim``."""
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {x._data.dtype} (shape {tuple(x.shape)}); use .float() "
                           f"first.")
    dims = _dims(dim, x.ndim, "linalg.vector_norm")
    if abs(ord) == math.inf and any(x.shape[d] == 0 for d in dims):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm of a tensor of "
                           f"shape {tuple(x.shape)} over its empty dimension(s) {dims}: the "
                           f"operation does not have an identity.")
    return LinalgVectorNorm.apply(x, float(ord), dims, keepdim)


def p_norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """``minigrad.norm`` / ``Tensor.norm``, as ``torch.norm``: a number ``p`` is the vector p-norm over ``dim`` (all
    elements by default); ``"fro"`` is the 2-norm over ``dim`` (one or two dimensions)."""
    if out is not None:
        raise NotImplementedError("norm: out= is not supported by minigrad; use the result.")
    if isinstance(p, str):
        if p != "fro":
            raise NotImplementedError(f"norm: p={p!r} (a matrix norm) is not implemented in "
                                      f"minigrad; the vector norms (a number p) and 'fro' are.")
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"norm: the Frobenius norm takes one or two dimensions, got "
                               f"dim={dim!r}.")
        p = 2
    return vector_norm(input, 2 if p is None else p, dim, keepdim, dtype=dtype)


def norm(A, ord=None, dim=None, keepdim=False, out=None, dtype=None):
    """``minigrad.linalg.norm``, as ``torch.linalg.norm``, of a vector: ``ord`` None is the 2-norm of A flattened; a number
    with ``dim`` None or one ``dim``, the vector norm. Matrix norms are not implemented."""
    if out is not None:
        raise NotImplementedError("linalg.norm: out= is not supported by minigrad; use the "
                                  "result.")
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if (dim is None and A.ndim == 1) or isinstance(dim, int):
        return vector_norm(A, ord, dim, keepdim, dtype=dtype)
    raise NotImplementedError(f"linalg.norm: matrix norms (ord={ord!r} of a tensor of shape "
                              f"{tuple(A.shape)}) are not implemented in minigrad; use "
                              f"linalg.vector_norm.")
