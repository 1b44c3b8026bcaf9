"""``compare``: the printed check that follows every claim in the book.

    compare("∂L/∂W", W.grad, W_torch.grad)      # prints  ∂L/∂W: max |Δ| = 2.2e-16 ≤ 1e-12 ✓

It accepts minigrad tensors, torch tensors, numpy arrays and nested lists alike, so a
chapter can set minigrad's answer beside torch's, or beside the numbers printed in the notes.
"""
import numpy as np

from .lang import labelled, tr


def to_numpy(x):
    """A float64 numpy array from a minigrad tensor, a torch tensor, an array or a list."""
    if isinstance(x, np.ndarray):
        return x.astype(np.float64)
    if hasattr(x, "detach") and hasattr(x, "numpy"):     # a torch or minigrad tensor
        return np.asarray(x.detach().numpy(), dtype=np.float64)
    return np.asarray(x, dtype=np.float64)


class CheckFailed(AssertionError):
    """Raised when a printed check fails, so that a notebook with a wrong claim stops."""


def verdict(diff, tol, differs=False):
    """``2.2e-16 ≤ 1e-12 ✓``: a measured difference, the bound it is held to, and the verdict.

    The one printed form of every numeric check in the course. The reader sees the measured
    figure, which depends on round-off (the BLAS kernel, the CPU's vector unit, the number of
    threads); the bound and the verdict do not. So ``tests/nbval_sanitize.cfg`` replaces the
    figure in front of ``≤ bound ✓`` before nbval compares a stored output with a new one, and
    a notebook's outputs hold on any machine. ``differs=True`` checks the opposite claim: that
    two things are *more* than ``tol`` apart (``2.0e+00 > 1e-01 ✓``)."""
    diff = float(diff)
    above = not diff <= tol                      # NaN counts as above every bound
    ok = above if differs else not above
    return f"{diff:.1e} {'>' if above else '≤'} {tol:.0e} {'✓' if ok else '✗'}"


def compare(label, ours, reference, tol=1e-12, differs=False):
    """Print ``label: max |Δ| = 2.2e-16 ≤ 1e-12 ✓`` (the largest absolute difference, the
    tolerance, the verdict: :func:`verdict`) and return the difference.

    Raises :class:`CheckFailed` after printing ``✗`` when the shapes differ or the difference
    exceeds ``tol`` (with ``differs=True``: when it does not): a chapter never prints a failing
    check and carries on."""
    a, b = to_numpy(ours), to_numpy(reference)
    if a.shape != b.shape:
        print(labelled(label, tr("shapes differ {a} vs {b}", a=a.shape, b=b.shape) + " ✗"))
        raise CheckFailed(f"{label}: shape {a.shape} is not the reference's {b.shape}")
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    line = verdict(diff, tol, differs)
    print(labelled(label, f"max |Δ| = {line}"))
    if line.endswith("✗"):
        rule = "is not above" if differs else "exceeds"
        raise CheckFailed(f"{label}: max |Δ| = {diff:.3e} {rule} the tolerance {tol:.0e}")
    return diff


def notes_check(what, ours, notes, lib="minigrad", show=False, tol=1e-12):
    """The check of ``lib``'s ``ours`` against the notes' ``notes`` (:func:`compare`, labelled
    ``lib: what vs the notes``); with ``show=True`` the two matrices are printed first, side by
    side under their titles, so the reader sees the notes' own numbers come out."""
    if show:
        from .graphs import side_by_side
        rows = lambda a: str(np.round(to_numpy(a), 6) + 0.0).splitlines()  # noqa: E731
        print(side_by_side(rows(ours), rows(notes),
                           titles=(labelled(lib, what), tr("{what} in the notes", what=what))))
    return compare(tr("{what} vs the notes", what=labelled(lib, what)), ours, notes, tol)
