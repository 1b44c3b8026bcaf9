"""How a tensor prints: torch's rules (``torch/_tensor_str.py``), character for character.

One width for every element; floats with ``precision`` digits after the point, or in
scientific notation when the nonzero finite magnitudes span more than 1000× or go above 1e8
(or below 1e-4); a float tensor whose values are all integers prints
them as ``1.``; rows wrap at ``linewidth``; above ``threshold`` elements only the first and last
``edgeitems`` of each dimension are shown, with ``...`` between. ``set_printoptions`` changes
these as torch's does. Then the suffixes: ``dtype=`` unless the dtype is the default float one,
int64 or bool; ``grad_fn=<...>`` or ``requires_grad=True``.
"""
import math

import numpy as np

from . import dtypes

_DEFAULT = dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}
OPTS = dict(_DEFAULT)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set how tensors print, as ``torch.set_printoptions``: ``precision`` (digits after the
    point, 4), ``threshold`` (elements above which a tensor is summarized, 1000),
    ``edgeitems`` (shown at each end of a summarized dimension, 3), ``linewidth`` (80),
    ``profile`` ("default", "short" or "full") and ``sci_mode`` (True or False to force
    scientific notation on or off, None to let the values decide; always set, as torch)."""
    if profile is not None:
        OPTS.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            OPTS[name] = value
    OPTS["sci_mode"] = sci_mode


def get_printoptions():
    """The current print options, as a dict (``torch.get_printoptions``)."""
    return dict(OPTS)


class _Formatter:
    """One format for every element of a tensor, chosen from its values as torch chooses."""

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        p = OPTS["precision"]
        flat = values.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
            return
        finite = flat[np.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return
        mags = np.abs(finite.astype(np.float64))
        lo, hi = mags.min(), mags.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        vals = finite.tolist()
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
                         if OPTS["sci_mode"] is None else OPTS["sci_mode"])
        if self.sci_mode:
            strs = [f"{v:.{p}e}" for v in vals]
        elif self.int_mode:
            strs = [f"{v:.0f}." for v in vals]
        else:
            strs = [f"{v:.{p}f}" for v in vals]
        self.max_width = max(self.max_width, *map(len, strs))

    def format(self, v):
        p = OPTS["precision"]
        if not self.floating:
            s = f"{v}"
        elif self.sci_mode:
            s = f"{v:{self.max_width}.{p}e}"
        elif self.int_mode:
            s = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        else:
            s = f"{v:.{p}f}"
        return " " * (self.max_width - len(s)) + s


def _summarized(a):
    """The elements a summarized print shows (the formatter's width comes from them only)."""
    e = OPTS["edgeitems"]
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    if not e:
        return np.empty((0,) * a.ndim, a.dtype)
    rows = list(range(e)) + list(range(len(a) - e, len(a))) if a.shape[0] > 2 * e else \
        range(a.shape[0])
    return np.stack([_summarized(a[i]) for i in rows])


def _vector(a, indent, summarize, fmt):
    e = OPTS["edgeitems"]
    per_line = max(1, int(math.floor((OPTS["linewidth"] - indent) / (fmt.max_width + 2))))
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([fmt.format(v) for v in a[:e].tolist()] + [" ..."] +
                [fmt.format(v) for v in a[-e:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _body(a, indent, summarize, fmt):
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    e = OPTS["edgeitems"]
    if summarize and a.shape[0] > 2 * e:
        rows = ([_body(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."] +
                [_body(a[i], indent + 1, summarize, fmt) for i in range(len(a) - e, len(a))])
    else:
        rows = [_body(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _numbers(a, indent):
    if a.size == 0:
        return "[]"
    summarize = a.size > OPTS["threshold"]
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    return _body(a, indent, summarize, _Formatter(_summarized(a) if summarize else a))


def tensor_repr(t, prefix="tensor("):
    """``repr(t)`` as torch prints it (the grad_fn's name is minigrad's own)."""
    from .tensor import _Defaults
    a, indent, suffixes = t._data, len(prefix), []
    default = a.dtype in (_Defaults.dtype, np.int64, np.bool_)
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype != _Defaults.dtype:
            suffixes.append(f"dtype={dtypes.of_numpy(a.dtype)}")
    else:
        if not OPTS["edgeitems"]:
            suffixes.append(f"size={tuple(a.shape)}")
        if not default:
            suffixes.append(f"dtype={dtypes.of_numpy(a.dtype)}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    out = prefix + _numbers(a, indent)
    parts, last = [out], len(out) - out.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > OPTS["linewidth"]:
            parts.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            parts.append(", " + s)
            last += len(s) + 2
    return "".join(parts) + ")"
