"""Checking gradients without an oracle: ``gradcheck`` and ``assert_close``.

A VJP written by hand can be wrong in ways no error message reveals: a missing
transpose, a forgotten ``unbroadcast``, a sign. ``gradcheck`` catches them by comparing
the gradient backward computes with one measured on the function itself, by central
finite differences::

    ∂f/∂xⱼ ≈ (f(x + ε·eⱼ) − f(x − ε·eⱼ)) / 2ε

The error of that estimate is O(ε²) (the ε·f'' terms cancel between the two sides) plus
rounding of order u·|f|/ε, u the machine epsilon. In float64 (u ≈ 1e-16) with ε = 1e-6
both are around 1e-10, far below the tolerances; in float32 (u ≈ 6e-8) the rounding term
alone is ~0.06, which is why gradcheck insists on float64 inputs.

What is compared is the vector-Jacobian product backward actually computes: with a random
upstream gradient u (one per output), ``backward`` returns uᵀJ for every input, and the
same number is measured as (L(x + ε·eⱼ) − L(x − ε·eⱼ)) / 2ε with L(x) = Σ u ⊙ f(x). A
random u makes a wrong VJP very unlikely to pass by accident (``.sum()``, i.e. u = 1,
would miss a VJP that mixes up two outputs of equal weight). For small functions the full
Jacobian J is also rebuilt, one backward per output element, and compared entry by entry,
so the message can say which output depends wrongly on which input.

    >>> import minigrad as mg, numpy as np
    >>> x = mg.tensor(np.random.randn(3, 4), requires_grad=True)
    >>> mg.testing.gradcheck(lambda x: (x * x).sum(-1), (x,))
    True
"""
import numpy as np

from . import autograd
from .tensor import Tensor

__all__ = ["gradcheck", "assert_close", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` when backward disagrees with finite differences."""


# --------------------------------------------------------------------------- helpers
def _as_numpy(x):
    """A numpy array from a minigrad tensor, a torch tensor, an array or a number."""
    if isinstance(x, Tensor):
        return np.asarray(x._data)
    if hasattr(x, "detach") and hasattr(x, "numpy"):        # a torch tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _outputs(out, where):
    """The function's result as a tuple of tensors (a single tensor, or a tuple/list)."""
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: {where} returned {type(o).__name__} as output {k}; "
                            f"the function must return a Tensor or a tuple of Tensors.")
    return outs


def _index(flat, shape):
    """A flat (C-order) position as a readable multi-index: ``(2, 1)``, or ``()`` for 0-d."""
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def _worst(actual, expected, atol, rtol):
    """Where ``actual`` differs most from ``expected`` relative to the allowed tolerance.

    Returns (flat index of the worst element, number of failing elements)."""
    actual, expected = np.asarray(actual, float).ravel(), np.asarray(expected, float).ravel()
    allowed = atol + rtol * np.abs(expected)
    diff = np.abs(actual - expected)
    bad = ~(diff <= allowed)                    # NaN in either counts as a failure
    excess = np.where(bad, np.where(np.isnan(diff), np.inf, diff - allowed), -np.inf)
    return int(np.argmax(excess)), int(bad.sum())


# --------------------------------------------------------------------------- gradcheck
def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, *,
              seed=0, full_jacobian_max=64):
    """Check the gradients of ``fn`` at ``inputs`` against central finite differences.

    Args:
        fn: a function of the tensors in ``inputs``, returning a Tensor or a tuple of them.
            It must be deterministic (seed any randomness, e.g. dropout, inside ``fn``).
        inputs: a tuple of arguments for ``fn`` (a single Tensor is accepted too). Every
            Tensor with ``requires_grad=True`` is checked, and must be float64; other
            arguments (integer indices, masks, numbers) are passed through unchanged.
        eps: the finite-difference step ε.
        atol, rtol: an element passes when |analytic − numerical| ≤ atol + rtol·|numerical|.
        raise_exception: raise :class:`GradcheckError` on a mismatch (the default), or
            return False.
        seed: seeds the random upstream gradients, so a failure can be reproduced.
        full_jacobian_max: also compare the full Jacobian, entry by entry, when the outputs
            and the checked input each have at most this many elements.

    Returns:
        True when every checked input's gradient agrees.

    The procedure:

    1. run ``fn`` once (recording the graph) and draw a random upstream gradient uₖ for each
       float output; ``autograd.grad`` gives the analytic VJP x̄ = uᵀJ for every input;
    2. for every element xⱼ of every checked input, evaluate ``fn`` at x ± ε·eⱼ and take
       (L₊ − L₋)/2ε with L = Σₖ Σ uₖ ⊙ outₖ: the numerical VJP, element j;
    3. compare the two and report the worst element: which input, where, both values.
    """
    try:
        _gradcheck(fn, inputs, eps, atol, rtol, seed, full_jacobian_max)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _gradcheck(fn, inputs, eps, atol, rtol, seed, full_jacobian_max):
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a Tensor with requires_grad=True, so there is "
                         "no gradient to check.")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} has dtype {inputs[i].dtype}; finite differences need "
                f"float64 (in float32 the rounding error of a difference quotient with "
                f"eps={eps} is larger than the tolerance). Build it from a float64 array.")

    with autograd.enable_grad():
        outs = _outputs(fn(*inputs), "fn")
    floats = [k for k, o in enumerate(outs) if o._data.dtype.kind == "f"]
    if not floats:
        raise ValueError("gradcheck: fn returned no floating-point output to differentiate.")

    def evaluate(i, arr):
        """The float outputs of fn with input i replaced by the array ``arr``."""
        args = list(inputs)
        if i is not None:
            args[i] = Tensor(arr, requires_grad=True)
        with autograd.enable_grad():
            got = _outputs(fn(*args), "fn")
        return [got[k]._data for k in floats]

    # a random function (dropout without a fixed seed) has no derivative to measure
    first = [outs[k]._data for k in floats]
    for k, (a, b) in enumerate(zip(first, evaluate(None, None))):
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
            raise GradcheckError(
                f"gradcheck: fn is not deterministic: output {floats[k]} changed between two "
                f"calls on the same inputs, so finite differences mean nothing. Seed any "
                f"randomness inside fn (e.g. call minigrad.manual_seed(0) before dropout).")

    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(outs[k].shape) for k in floats]

    # 1. the analytic VJP, as backward computes it
    analytic = _analytic_vjp(outs, floats, upstream, inputs, checked)

    # 2. the numerical VJP, one element at a time (the Jacobian's columns come for free)
    out_sizes = [u.size for u in upstream]
    n_out = sum(out_sizes)
    for i in checked:
        base = np.array(inputs[i]._data, dtype=np.float64)
        numeric = np.zeros(base.shape)
        full = n_out <= full_jacobian_max and base.size <= full_jacobian_max
        columns = np.zeros((n_out, base.size)) if full else None
        for j in range(base.size):
            plus, minus = base.copy(), base.copy()
            plus.flat[j] += eps
            minus.flat[j] -= eps
            d = [(p - m) / (2 * eps) for p, m in zip(evaluate(i, plus), evaluate(i, minus))]
            numeric.flat[j] = sum(float((dk * uk).sum()) for dk, uk in zip(d, upstream))
            if full:
                columns[:, j] = np.concatenate([dk.ravel() for dk in d])

        # 3. compare the VJP, then (small cases) every Jacobian entry
        j, n_bad = _worst(analytic[i], numeric, atol, rtol)
        if n_bad:
            a, n = analytic[i].flat[j], numeric.flat[j]
            raise GradcheckError(
                f"gradcheck: the gradient of input {i} (shape {tuple(base.shape)}) disagrees "
                f"with finite differences at element {_index(j, base.shape)}: analytic "
                f"{a:.10g}, numerical {n:.10g} (|difference| {abs(a - n):.3g} > atol + "
                f"rtol*|numerical| = {atol + rtol * abs(n):.3g}); {n_bad} of {base.size} "
                f"element(s) fail. The VJP was taken with a random upstream gradient "
                f"(seed={seed}).")
        if full:
            _check_jacobian(outs, floats, out_sizes, inputs, i, columns, atol, rtol)
    return True


def _analytic_vjp(outs, floats, upstream, inputs, checked):
    """uᵀJ for every checked input, through the engine's ``autograd.grad``."""
    pairs = [(outs[k], u) for k, u in zip(floats, upstream) if outs[k].requires_grad]
    result = {i: np.zeros(inputs[i].shape) for i in checked}
    if not pairs:
        return result
    grads = autograd.grad([o for o, _ in pairs], [inputs[i] for i in checked],
                          grad_outputs=[Tensor(u) for _, u in pairs],
                          retain_graph=True, allow_unused=True)
    for i, g in zip(checked, grads):
        if g is not None:
            if tuple(g.shape) != tuple(inputs[i].shape):
                raise GradcheckError(f"gradcheck: the gradient of input {i} has shape "
                                     f"{tuple(g.shape)}, but the input has shape "
                                     f"{tuple(inputs[i].shape)}.")
            result[i] = np.asarray(g._data, dtype=np.float64)
    return result


def _check_jacobian(outs, floats, out_sizes, inputs, i, columns, atol, rtol):
    """Rebuild J for input i row by row (one backward per output element) and compare."""
    x = inputs[i]
    row = 0
    for k, size in zip(floats, out_sizes):
        o = outs[k]
        for r in range(size):
            if o.requires_grad:
                onehot = np.zeros(o.shape)
                onehot.flat[r] = 1.0
                g, = autograd.grad(o, x, grad_outputs=Tensor(onehot), retain_graph=True,
                                   allow_unused=True)
                analytic = np.zeros(x.shape) if g is None else np.asarray(g._data, np.float64)
            else:
                analytic = np.zeros(x.shape)
            numeric = columns[row]
            j, n_bad = _worst(analytic, numeric, atol, rtol)
            if n_bad:
                a, n = analytic.flat[j], numeric[j]
                raise GradcheckError(
                    f"gradcheck: Jacobian mismatch: d(output {k}{list(_index(r, o.shape))}) / "
                    f"d(input {i}{list(_index(j, x.shape))}) is {a:.10g} by backward but "
                    f"{n:.10g} by finite differences (|difference| {abs(a - n):.3g} > "
                    f"atol + rtol*|numerical| = {atol + rtol * abs(n):.3g}).")
            row += 1


# --------------------------------------------------------------------------- assert_close
def assert_close(actual, expected, rtol=1e-7, atol=1e-7, name="value"):
    """Assert ``|actual − expected| ≤ atol + rtol·|expected|`` element-wise, readably.

    Accepts minigrad tensors, torch tensors, numpy arrays and numbers. Shapes must be equal
    (no broadcasting: a (3,) result compared with a (3, 1) one is a bug, not a match), and a
    NaN or inf must sit at the same place in both. The defaults are torch's for float64.

    On failure the AssertionError names how many elements differ and shows the worst one::

        gradient of input 0: 3 of 12 elements differ (rtol=1e-07, atol=1e-07); worst at
        index (2, 1): actual 0.51, expected 0.5 (|difference| 0.01, allowed 1.5e-07)
    """
    a, e = _as_numpy(actual), _as_numpy(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{name}: shapes differ: actual {a.shape}, expected {e.shape}.")
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    same_special = (np.isnan(a64) & np.isnan(e64)) | (np.isinf(a64) & (a64 == e64))
    allowed = atol + rtol * np.abs(e64)
    finite = np.isfinite(a64) & np.isfinite(e64)
    with np.errstate(invalid="ignore"):
        ok = same_special | (finite & (np.abs(a64 - e64) <= allowed))
    if ok.all():
        return
    with np.errstate(invalid="ignore"):
        excess = np.where(ok, -np.inf, np.nan_to_num(np.abs(a64 - e64) - allowed, nan=np.inf))
    j = int(np.argmax(excess))
    where = _index(j, a.shape)
    av, ev = float(a64.flat[j]), float(e64.flat[j])
    raise AssertionError(
        f"{name}: {int((~ok).sum())} of {a.size} element(s) differ (rtol={rtol}, atol={atol}); "
        f"worst at index {where}: actual {av!r}, expected {ev!r} (|difference| "
        f"{abs(av - ev):.3g}, allowed {allowed.flat[j]:.3g}).")
