"""Softmax, log-softmax and the losses: cross_entropy, nll_loss, mse_loss,
binary_cross_entropy (and with logits).

All are computed stably: the row maximum is subtracted before exponentiating, so logits of
±1e4 give finite probabilities and finite gradients, as in torch.
"""
import numpy as np

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .broadcast import row_major, unbroadcast
from .elementwise import float_only, log1p, select, where


def _row_max(d, axis):
    """``d.max(axis=axis, keepdims=True)`` (d not empty), started from −∞: the same maxima,
    and numpy's quicker loop for it (twice as fast over short rows of floats)."""
    return np.maximum.reduce(d, axis=axis, keepdims=True, initial=-np.inf)


def _stable_log_softmax(d, axis):
    if d.size == 0:
        return d.copy()
    shifted = d - _row_max(d, axis)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Function):
    """Sᵢ = e^(xᵢ) / Σⱼ e^(xⱼ) along ``dim``.

    Jacobian ∂Sᵢ/∂xⱼ = Sᵢ(δᵢⱼ − Sⱼ); never built. VJP: x̄ = S ⊙ (S̄ − Σₖ S̄ₖ Sₖ).
    Saves S."""

    @staticmethod
    def forward(ctx, x, dim):
        y = Tensor._make(row_major(_softmax_array(x._data, dim)))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        s, = ctx.saved_tensors
        return s * (grad - (grad * s).sum(dim=ctx.dim, keepdim=True)), None

    @staticmethod
    def array_backward(ctx, grad):
        s = ctx.saved_tensors[0]._data
        return s * (grad - (grad * s).sum(axis=ctx.dim, keepdims=True)), None


def _softmax_array(d, dim):
    if d.size == 0:
        return d.copy()
    e = np.exp(d - _row_max(d, dim))
    return e / e.sum(axis=dim, keepdims=True)


class LogSoftmax(Function):
    """zᵢ = xᵢ − log Σⱼ e^(xⱼ) along ``dim`` (via the max shift: stable).
    VJP: x̄ = z̄ − e^z ⊙ Σₖ z̄ₖ  (e^z = softmax). Saves z."""

    @staticmethod
    def forward(ctx, x, dim):
        z = Tensor._make(row_major(_stable_log_softmax(x._data, dim)))
        ctx.save_for_backward(z)
        ctx.dim = dim
        return z

    @staticmethod
    def backward(ctx, grad):
        z, = ctx.saved_tensors
        return grad - z.exp() * grad.sum(dim=ctx.dim, keepdim=True), None

    @staticmethod
    def array_backward(ctx, grad):
        z = ctx.saved_tensors[0]._data
        return grad - np.exp(z) * grad.sum(axis=ctx.dim, keepdims=True), None


def _targets(logits, target, ignore_index, op):
    """Check class-index targets against logits of shape (N, C, …) or (C,)."""
    if logits.ndim == 0:
        raise RuntimeError(f"{op}: the input must have a class dimension, (C,) or (N, C, ...), "
                           f"but got a 0-d tensor.")
    cdim = 0 if logits.ndim == 1 else 1
    C = logits.shape[cdim]
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    expected = logits.shape[:cdim] + logits.shape[cdim + 1:]
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: class-index targets must be integers, got dtype {t.dtype}; "
                           f"for class probabilities pass a float target of the input's shape.")
    if t.ndim and logits.ndim > 1 and t.shape[0] != logits.shape[0]:
        raise ValueError(f"{op}: input of shape {tuple(logits.shape)} has a batch of "
                         f"{logits.shape[0]} but the target of shape {tuple(t.shape)} a batch of "
                         f"{t.shape[0]}; expected input batch_size to match target batch_size.")
    if tuple(t.shape) != tuple(expected):
        raise RuntimeError(f"{op}: input of shape {tuple(logits.shape)} needs a target of shape "
                           f"{tuple(expected)} (one class index per row), got {tuple(t.shape)}.")
    valid = t != ignore_index
    if t.size and (t.min() < 0 or t.max() >= C):
        bad = t[valid & ((t < 0) | (t >= C))]
        if bad.size:
            raise IndexError(f"{op}: target {bad[0]} is out of bounds for {C} classes "
                             f"(valid 0..{C - 1}).")
    onehot = np.zeros(logits.shape, dtype=logits._data.dtype)
    if logits.ndim == 2:                      # the common case: (N, C) logits, (N,) targets
        rows = np.flatnonzero(valid)
        onehot[rows, t[rows]] = 1.0
    else:
        safe = np.where(valid, t, 0)
        np.put_along_axis(onehot, np.expand_dims(safe, cdim), 1.0, axis=cdim)
        onehot *= np.expand_dims(valid, cdim)
    return cdim, onehot, valid


def _every_row_has_its_class(logits, target, ignore_index):
    """(N, C) logits and (N,) integer targets, each a class in 0..C-1 and none ignored."""
    if not isinstance(target, Tensor) or logits.ndim != 2:
        return False
    t = target._data
    if t.ndim != 1 or t.dtype.kind not in "iu" or len(t) != logits.shape[0] or not len(t):
        return False
    C = logits.shape[1]
    lo, hi = t.min(), t.max()
    return lo >= 0 and hi < C and not (lo <= ignore_index <= hi and (t == ignore_index).any())


def _nll_zeros(per_item, counted):
    """Class-index losses with torch's signs of zero: −z is −0 where z = 0, an ignored item's
    loss +0, and one item without a batch dimension +0 too (torch sums it into a 0)."""
    per_item = np.where(counted, per_item, per_item.dtype.type(0))
    return per_item if per_item.ndim else per_item + 0.0


def _reduce(per_item, weight_sum, reduction, op):
    if reduction == "mean":                     # the mean of nothing (all ignored) is NaN
        return per_item.sum() / weight_sum if weight_sum else np.full((), np.nan, per_item.dtype)
    if reduction == "sum":
        return per_item.sum()
    if reduction == "none":
        return per_item
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', not {reduction!r}.")


def _grad_scale(grad, shape, count, reduction, cdim):
    """The upstream gradient of the reduced loss, spread over the per-item losses."""
    if reduction == "none":
        return grad.unsqueeze(cdim)
    if reduction == "mean":       # no item counted: the loss is NaN, its gradient 0 (as torch)
        grad = grad * (1.0 / count) if count else select(np.zeros(grad.shape, bool), grad)
    g = grad
    return g.reshape((1,) * len(shape))


def _grad_scale_array(grad, ndim, count, reduction, cdim):
    """:func:`_grad_scale` on numpy arrays."""
    if reduction == "none":
        return np.expand_dims(grad, cdim)
    if reduction == "mean":
        grad = grad * (1.0 / count) if count else np.zeros_like(grad)
    return grad.reshape((1,) * ndim)


class CrossEntropy(Function):
    """L = −Σᵢ yᵢ log Sᵢ with S = softmax(x) over the class dimension (y one-hot, or class
    probabilities; smoothed by ``label_smoothing``), reduced by ``reduction``.

    Fused VJP: x̄ = (S − y) · L̄ — with p = [0.7, 0.2, 0.1] and label 0 the gradient is
    [−0.3, 0.2, 0.1]. ('mean' divides by the number of non-ignored targets.)
    With class-index targets the terms where yᵢ = 0 are left out, not multiplied by 0, so a
    −∞ logit that is not the target gives a finite loss (as torch; with probability targets
    torch multiplies, 0 · (−∞) = NaN, and so does minigrad). The row of an ignored target
    gets S · 0 — 0, or NaN where its own logits make S NaN — never multiplied by L̄, so a
    NaN L̄ leaves it at 0 (as torch). Where L̄ is infinite or NaN, x̄ is computed in torch's
    order instead (:func:`_torch_order_array`), so its NaN and ±∞ are torch's.
    Saves x. With (N, C) logits and a valid class for every row (the training step) ``y`` is
    the (N,) class indices, not a one-hot: z[n, tₙ] is picked, and S, computed on the way,
    is kept for backward; otherwise S is recomputed there."""

    @staticmethod
    def forward(ctx, x, y, cdim, reduction, count, indices):
        ctx.save_for_backward(x)
        ctx.y, ctx.cdim, ctx.reduction, ctx.count = y, cdim, reduction, count
        ctx.indices, ctx.p = indices, None
        if indices == "rows":
            return CrossEntropy._rows_forward(ctx, x._data, y, reduction, count)
        z = _stable_log_softmax(x._data, cdim)
        if indices:                               # yᵢ = 0 left out: no 0 · (−∞)
            terms = np.multiply(y, z, out=np.zeros_like(z), where=y != 0)
        else:                                     # as torch: 0 · (−∞) = NaN
            terms = y * z
        per_item = -terms.sum(axis=cdim)
        if indices:
            per_item = _nll_zeros(per_item, y.any(axis=cdim))
        return _reduce(per_item, count, reduction, "cross_entropy")

    @staticmethod
    def _rows_forward(ctx, d, t, reduction, count):
        """The same numbers as the general forward, fewer passes: every row has its class."""
        shifted = d - _row_max(d, 1)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        ctx.p = e / s                                     # = softmax(x), as _softmax_array
        per_item = -(shifted[np.arange(len(t)), t] - np.log(s)[:, 0])
        return _reduce(per_item, count, reduction, "cross_entropy")

    @staticmethod
    def _onehot(ctx):
        if ctx.indices != "rows":
            return ctx.y
        y = np.zeros(ctx.p.shape, ctx.p.dtype)
        y[np.arange(len(ctx.y)), ctx.y] = 1.0
        return y

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        p = x.softmax(ctx.cdim)
        y = CrossEntropy._onehot(ctx)                       # one-hot rows, or probabilities
        rows = y.sum(axis=ctx.cdim, keepdims=True)          # Σᵢ yᵢ: 1, or 0 for ignored rows
        not_all_one = (rows != 1).any()              # the common case: every row counts once
        if not_all_one:
            p = p * Tensor._make(rows)
        g = _grad_scale(grad, x.shape, ctx.count, ctx.reduction, ctx.cdim)
        d = p - Tensor._make(y)                    # p·0 − 0 on an ignored row
        gx = d * g
        if ctx.indices and not_all_one and not rows.all():   # an ignored row: never times L̄
            gx = where(np.broadcast_to(rows == 0, gx.shape), d, gx)
        bad = ~np.isfinite(g._data)
        if bad.any():                              # an infinite or NaN L̄: torch's order
            z = log_softmax(x, ctx.cdim)
            zbar = -Tensor._make(y) * g
            if ctx.indices:                        # no term where yᵢ = 0
                zbar = select(np.broadcast_to(y != 0, zbar.shape), zbar)
            torch_gx = zbar - z.exp() * zbar.sum(dim=ctx.cdim, keepdim=True)
            gx = where(np.broadcast_to(bad, gx.shape), torch_gx, gx)
        return gx, None, None, None, None, None

    @staticmethod
    def array_backward(ctx, grad):
        x = ctx.saved_tensors[0]._data
        if ctx.indices == "rows":                # p − onehot: 1 taken at each row's class
            d = ctx.p.copy()
            d[np.arange(len(ctx.y)), ctx.y] -= 1.0
            g = _grad_scale_array(grad, x.ndim, ctx.count, ctx.reduction, ctx.cdim)
            gx = d * g
            if not np.isfinite(g).all():
                gx = _torch_order_array(gx, x, CrossEntropy._onehot(ctx), g, ctx.cdim, True)
            return gx, None, None, None, None, None
        p = _softmax_array(x, ctx.cdim)
        rows = ctx.y.sum(axis=ctx.cdim, keepdims=True)
        not_all_one = (rows != 1).any()
        if not_all_one:
            p = p * rows
        d = p - ctx.y
        g = _grad_scale_array(grad, x.ndim, ctx.count, ctx.reduction, ctx.cdim)
        gx = d * g
        if ctx.indices and not_all_one and not rows.all():
            gx = np.where(rows == 0, d, gx)
        if not np.isfinite(g).all():
            gx = _torch_order_array(gx, x, ctx.y, g, ctx.cdim, ctx.indices)
        return gx, None, None, None, None, None


def _torch_order_array(gx, x, y, g, cdim, indices):
    """cross_entropy's x̄ where L̄ is infinite or NaN, in torch's order: its composite's
    VJPs, z̄ = −y·L̄ (nll_loss's and the smoothing term's; with class indices none where
    yᵢ = 0), then log_softmax's x̄ = z̄ − e^z · Σ z̄ — so its NaN and ±∞ are torch's (the
    fused (S − y)·L̄ gives ±∞ where torch has ∞ − ∞ = NaN; neither is a limit). Elsewhere
    ``gx``, the fused VJP."""
    with np.errstate(invalid="ignore", over="ignore"):
        z = _stable_log_softmax(x, cdim)
        zbar = -y * g
        if indices:
            zbar = np.where(y != 0, zbar, 0)
        torch_gx = zbar - np.exp(z) * zbar.sum(axis=cdim, keepdims=True)
    return np.where(np.isfinite(g), gx, torch_gx)


class NllLoss(Function):
    """L = −z[target] per row (z = log-probabilities), reduced by ``reduction``: picked, not
    multiplied by the one-hot, so a −∞ elsewhere in the row does not make it NaN.
    VJP: z̄ = −onehot(target) · L̄. Saves nothing but the one-hot."""

    @staticmethod
    def forward(ctx, z, onehot, cdim, reduction, count):
        ctx.onehot, ctx.cdim, ctx.reduction, ctx.count = onehot, cdim, reduction, count
        picked = onehot != 0
        per_item = _nll_zeros(-np.where(picked, z._data, 0).sum(axis=cdim),
                              picked.any(axis=cdim))
        return _reduce(per_item, count, reduction, "nll_loss")

    @staticmethod
    def backward(ctx, grad):
        g = _grad_scale(grad, ctx.onehot.shape, ctx.count, ctx.reduction, ctx.cdim)
        # scattered to the targets, not multiplied by the one-hot: 0 elsewhere even for ∞ L̄
        return select(np.asarray(ctx.onehot != 0), -Tensor._make(ctx.onehot) * g), None, None, \
            None, None


class MseLoss(Function):
    """L = (x − t)², reduced by ``reduction`` (mean over all n elements by default).
    VJP: x̄ = 2(x − t) · L̄ (/n for 'mean'),  t̄ = −x̄. Saves x and t."""

    @staticmethod
    def forward(ctx, x, t, reduction):
        ctx.save_for_backward(x, t)
        ctx.reduction = reduction
        try:
            diff = x._data - t._data
        except ValueError:
            raise RuntimeError(f"mse_loss: input {tuple(x.shape)} and target {tuple(t.shape)} "
                               f"cannot be broadcast together.") from None
        ctx.n = diff.size
        return _reduce(diff * diff, diff.size, reduction, "mse_loss")

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        g = grad * (1.0 / ctx.n if ctx.n else 0.0) if ctx.reduction == "mean" else grad
        d = (x - t) * g * 2.0
        nx, nt = ctx.needs_input_grad[:2]
        return (unbroadcast(d, x.shape) if nx else None,
                unbroadcast(-d, t.shape) if nt else None, None)


def _dim_of(x, dim, op):
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1    # torch's legacy implicit choice
    if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor of shape "
                         f"{tuple(x.shape)}.")
    return dim % max(x.ndim, 1)


def softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    float_only("softmax", input)
    return Softmax.apply(input, _dim_of(input, dim, "softmax"))


def log_softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    float_only("log_softmax", input)
    return LogSoftmax.apply(input, _dim_of(input, dim, "log_softmax"))


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                           f"{label_smoothing}.")
    if weight is not None:
        raise NotImplementedError("cross_entropy: per-class weight is not supported by minigrad.")
    float_only("cross_entropy", input)
    if isinstance(target, Tensor) and target._data.dtype.kind == "f":   # class probabilities
        if target.shape != input.shape:
            raise RuntimeError(f"cross_entropy: probability targets must have the input's shape "
                               f"{tuple(input.shape)}, got {tuple(target.shape)}.")
        cdim = 0 if input.ndim == 1 else 1
        if target.requires_grad and is_grad_enabled():
            # the target needs a gradient too: compose from log_softmax, which gives both
            t = target
            if label_smoothing:
                t = t * (1 - label_smoothing) + label_smoothing / input.shape[cdim]
            per_item = -(t * log_softmax(input, cdim)).sum(cdim)
            if reduction == "mean":
                return per_item.mean()
            return _reduce(per_item, per_item._data.size, reduction, "cross_entropy")
        y = target._data.astype(input._data.dtype)
        count = int(np.prod(input.shape) // input.shape[cdim])
        rows, indices = 1.0, False
    elif not label_smoothing and _every_row_has_its_class(input, target, ignore_index):
        return CrossEntropy.apply(input, target._data, 1, reduction, len(target._data), "rows")
    else:
        cdim, y, valid = _targets(input, target, ignore_index, "cross_entropy")
        count = int(valid.sum())
        rows = y.sum(axis=cdim, keepdims=True)          # 0 for an ignored row: stays 0
        indices = True
    if label_smoothing:
        y = y * (1 - label_smoothing) + rows * (label_smoothing / input.shape[cdim])
    return CrossEntropy.apply(input, y, cdim, reduction, count, indices)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    if weight is not None:
        raise NotImplementedError("nll_loss: per-class weight is not supported by minigrad.")
    float_only("nll_loss", input)
    cdim, onehot, valid = _targets(input, target, ignore_index, "nll_loss")
    return NllLoss.apply(input, onehot, cdim, reduction, int(valid.sum()))


def mse_loss(input, target, reduction="mean"):
    if not isinstance(target, Tensor):
        target = Tensor(target)
    float_only("mse_loss", input)
    return MseLoss.apply(input, target, reduction)


# ---------------------------------------------------------------- binary cross-entropy
def _legacy_reduction(size_average, reduce, reduction):
    """torch's deprecated size_average= and reduce= arguments, turned into ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _binary_targets(op, input, target, weight, message):
    """Check target and weight against input, as torch: the same shape (and dtype for
    binary_cross_entropy); weight
    broadcast to the input's shape, with no gradient. Returns weight as an array (or None)."""
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(message.format(t=list(target.shape), i=list(input.shape)))
    if target._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: the target must be floating point (probabilities in [0, 1]), "
                           f"got dtype {target._data.dtype} (shape {tuple(target.shape)}); "
                           f"convert it with .to(input.dtype).")
    if target._data.dtype != input._data.dtype and op == "binary_cross_entropy":
        raise RuntimeError(f"{op}: found dtype {target._data.dtype} for the target but expected "
                           f"{input._data.dtype}, the input's (shape {tuple(input.shape)}); "
                           f"convert it with .to(input.dtype).")
    float_only(op, input)
    arrays = []
    for name, w in weight:
        if w is None:
            arrays.append(None)
            continue
        if w.requires_grad and is_grad_enabled():
            raise RuntimeError(f"The function '{op}' is not differentiable with respect to "
                               f"argument '{name}'. This input cannot have requires_grad True.")
        try:
            arrays.append(np.broadcast_to(w._data, input.shape).astype(input._data.dtype))
        except ValueError:
            raise RuntimeError(f"{op}: {name} of shape {tuple(w.shape)} cannot be broadcast to "
                               f"the input's shape {tuple(input.shape)}.") from None
    return arrays


def _bce_reduce(loss, reduction, op):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction ({op}: 'mean', 'sum' "
                         f"or 'none').")
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def _bce_loss(ctx, loss, op):
    """The per-element loss (an array) weighted and reduced."""
    if ctx.w is not None:
        loss = loss * ctx.w
    return _bce_reduce(Tensor._make(np.asarray(loss)), ctx.reduction, op)._data


def _bce_upstream(ctx, grad):
    """L̄ brought to the input's shape: expanded (divided by n for the mean), weighted."""
    g = grad
    if ctx.reduction != "none":
        g = grad.expand(ctx.shape)
        g = g / ctx.n if ctx.reduction == "mean" else g
    return g if ctx.w is None else g * Tensor._make(ctx.w)


class BinaryCrossEntropy(Function):
    """L = −w (t log x + (1 − t) log(1 − x)) per element, each log clamped at −100 as torch
    (so x = 0 or 1 gives a finite loss), then reduced (mean over all elements, sum or none).

    VJP (as torch): x̄ = L̄ · w (x − t) / max(x(1 − x), 10⁻¹²);  t̄ = L̄ · w (log(1 − x) −
    log x), the logs not clamped (±inf at x = 0 or 1, as torch's). Saves x and t."""

    @staticmethod
    def forward(ctx, x, t, w, reduction):
        ctx.save_for_backward(x, t)
        ctx.w, ctx.reduction, ctx.shape, ctx.n = w, reduction, x.shape, x._data.size
        d, y = x._data, t._data
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = (y - 1) * np.maximum(np.log1p(-d), -100) - y * np.maximum(np.log(d), -100)
        return _bce_loss(ctx, loss, "binary_cross_entropy")

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        g = _bce_upstream(ctx, grad)
        nx, nt = ctx.needs_input_grad[:2]
        gx = g * (x - t) / ((1 - x) * x).clamp(min=1e-12) if nx else None
        gt = None
        if nt:
            with np.errstate(divide="ignore"):
                gt = g * (log1p(-x) - x.log())
        return gx, gt, None, None


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """−w (t log x + (1 − t) log(1 − x)): x probabilities in [0, 1] (after a sigmoid), t the
    targets (of x's shape and dtype), w an optional weight broadcast to x's shape."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    w, = _binary_targets("binary_cross_entropy", input, target, [("weight", weight)],
                         "Using a target size ({t}) that is different to the input size ({i}) "
                         "is deprecated. Please ensure they have the same size.")
    d = input._data
    if not ((d >= 0) & (d <= 1)).all():
        raise RuntimeError(f"binary_cross_entropy: all elements of input should be between 0 "
                           f"and 1 (input of shape {tuple(input.shape)}); apply a sigmoid first, "
                           f"or use binary_cross_entropy_with_logits on the logits.")
    y = target._data
    if not ((y >= 0) & (y <= 1)).all():
        raise RuntimeError(f"binary_cross_entropy: all elements of target should be between 0 "
                           f"and 1 (target of shape {tuple(target.shape)}).")
    if reduction not in ("mean", "sum", "none"):
        _bce_reduce(None, reduction, "binary_cross_entropy")
    return BinaryCrossEntropy.apply(input, target, w, reduction)


def _log_sigmoid(d):
    """log σ(x) = min(x, 0) − log(1 + e^(−|x|)): never exp of a large number."""
    return np.minimum(d, 0) - np.log1p(np.exp(-np.abs(d)))


class BinaryCrossEntropyWithLogits(Function):
    """L = w ((1 − t) x − (1 + (p − 1) t) log σ(x)) per element (p = pos_weight, 1 without),
    which is −w (p t log σ(x) + (1 − t) log(1 − σ(x))) computed stably: log σ(x) = min(x, 0) −
    log(1 + e^(−|x|)), finite for any logit; then reduced.

    VJP (as torch): x̄ = L̄ · w ((1 + (p − 1) t) σ(x) − p t);  t̄ = L̄ · w (log σ(−x) −
    p log σ(x)). Saves x and t."""

    @staticmethod
    def forward(ctx, x, t, w, pw, reduction):
        ctx.save_for_backward(x, t)
        ctx.w, ctx.pw, ctx.reduction, ctx.shape, ctx.n = w, pw, reduction, x.shape, x._data.size
        d, y = x._data, t._data
        log_weight = 1 if pw is None else (pw - 1) * y + 1
        with np.errstate(invalid="ignore", over="ignore"):     # ±inf logits: NaN as torch
            loss = (1 - y) * d - log_weight * _log_sigmoid(d)
        return _bce_loss(ctx, loss, "binary_cross_entropy_with_logits")

    @staticmethod
    def backward(ctx, grad):
        from .activation import sigmoid
        x, t = ctx.saved_tensors
        g = _bce_upstream(ctx, grad)
        nx, nt = ctx.needs_input_grad[:2]
        pw = None if ctx.pw is None else Tensor._make(ctx.pw)
        gx = gt = None
        if nx:
            gx = g * (sigmoid(x) - t if pw is None else (pw * t + 1 - t) * sigmoid(x) - pw * t)
        if nt:
            if pw is None:
                gt = g * -x
            else:
                log_sig = Tensor._make(_log_sigmoid(x._data))
                gt = g * (Tensor._make(_log_sigmoid(-x._data)) - pw * log_sig)
        return gx, gt, None, None, None


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """The binary cross-entropy of σ(input), computed from the logits (stable for any |x|);
    ``pos_weight`` weighs the positive term (one per class, broadcast along the last dim)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target._data.dtype != input._data.dtype and target._data.dtype.kind == "f":
        input = input.to(target._data.dtype)     # as torch: the loss has the target's dtype
    w, pw = _binary_targets("binary_cross_entropy_with_logits", input, target,
                            [("weight", weight), ("pos_weight", pos_weight)],
                            "Target size ({t}) must be the same as input size ({i})")
    if reduction not in ("mean", "sum", "none"):
        _bce_reduce(None, reduction, "binary_cross_entropy_with_logits")
    return BinaryCrossEntropyWithLogits.apply(input, target, w, pw, reduction)
