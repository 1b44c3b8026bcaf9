"""``compare``: the printed check that follows every claim in the book.

    compare("∂L/∂W", W.grad, W_torch.grad)      # prints  ∂L/∂W: max |Δ| = 2.2e-16 ✓

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


def compare(label, ours, reference, tol=1e-12):
    """Print ``label: max |Δ| = … ✓`` (the largest absolute difference) and return it.

    Raises :class:`CheckFailed` after printing ``✗`` when the shapes differ or the difference
    exceeds ``tol``: a chapter never prints a failing check and carries on."""
    a, b = to_numpy(ours), to_numpy(reference)
    if a.shape != b.shape:
        print(labelled(label, tr("shapes differ {a} vs {b}", a=a.shape, b=b.shape) + " ✗"))
        raise CheckFailed(f"{label}: shape {a.shape} is not the reference's {b.shape}")
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    ok = diff <= tol
    print(labelled(label, f"max |Δ| = {diff:.1e} {'✓' if ok else '✗'}"))
    if not ok:
        raise CheckFailed(f"{label}: max |Δ| = {diff:.3e} exceeds the tolerance {tol:.0e}")
    return diff


def notes_check(what, ours, notes, lib="minigrad", show=False, tol=1e-12):
    """The check of ``lib``'s ``ours`` against the notes' ``notes`` (:func:`compare`, labelled
    ``lib: what vs the notes``); with ``show=True`` the two matrices are printed first, side by
    side under their titles, so the reader sees the notes' own numbers come out."""
    if show:
        from .graphs import side_by_side
        rows = lambda a: str(np.round(to_numpy(a), 6) + 0.0).splitlines()  # noqa: E731
        print(side_by_side(rows(ours), rows(notes),
                           titles=(labelled(lib, what), labelled(tr("the notes"), what))))
    return compare(tr("{what} vs the notes", what=labelled(lib, what)), ours, notes, tol)
