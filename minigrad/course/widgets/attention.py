"""Attention maps, the causal mask, and where one output position's gradient goes.

::

    from minigrad.course.widgets import AttentionExplorer
    AttentionExplorer()                                  # chapter 6's X and weights
    AttentionExplorer(X_np, W_np["W_Q"], W_np["W_K"], W_np["W_V"], num_heads=2)

With Q = X·W_Q, K = X·W_K, V = X·W_V split into heads, every head's attention map is
A = softmax(Q·Kᵀ/√d), one row per query position; with the causal mask, position i only
sees positions 0 … i, so the upper triangle of every map is 0. The output is
O = concat(A·V of every head), of the shape of Q.

For a chosen output position p, only row p of O receives a gradient (a seeded random row
Ō[p]; every other row of Ō is 0). minigrad's backward, through
``F.scaled_dot_product_attention``, gives dQ, dK and dV; the explorer shows their sizes and
which of their rows are not zero: dQ only row p (a query only affects its own output), dK and
dV the rows of the keys and values that position p attends to (all of them, or 0 … p with
the causal mask). One case shows how the softmax works: with the mask, position 0 attends
only to itself, with a weight that is 1 whatever the scores, so dQ and dK are all zero and
only row 0 of dV is not.
"""
import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import minigrad as mg
import minigrad.nn.functional as F

from ..attention import merge_heads, softmax, split_heads
from ..lang import ntr, tr
from ._common import CourseWidget

__all__ = ["AttentionExplorer", "chapter_example", "attention_maps", "attention_grads"]


def chapter_example():
    """Chapter 6's example: X (n = 3, d_model = 8) and W_Q, W_K, W_V, from the seed 6."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 8))
    w = {k: rng.standard_normal((8, 8)) / np.sqrt(8) for k in ("W_Q", "W_K", "W_V", "W_O")}
    return x, w["W_Q"], w["W_K"], w["W_V"]


def attention_maps(q, k, num_heads, causal):
    """The attention weights (h, n, n) of numpy Q and K (n, d_model), by the formula."""
    qh = q.reshape(q.shape[0], num_heads, -1).transpose(1, 0, 2)
    kh = k.reshape(k.shape[0], num_heads, -1).transpose(1, 0, 2)
    scores = qh @ kh.transpose(0, 2, 1) / np.sqrt(qh.shape[-1])
    if causal:
        n = q.shape[0]
        scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    return softmax(scores)


def attention_grads(q, k, v, num_heads, causal, o_bar):
    """(dQ, dK, dV) for the upstream gradient ``o_bar`` (n, d_model) at the attention output
    O = merge_heads(sdpa(Q, K, V)), by minigrad's backward (numpy arrays, float64)."""
    leaves = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in (q, k, v)]
    heads = [split_heads(t, num_heads) for t in leaves]
    out = merge_heads(F.scaled_dot_product_attention(*heads, is_causal=causal))
    out.backward(mg.tensor(o_bar, dtype=mg.float64))
    return tuple(t.grad.numpy() for t in leaves)


def nonzero_rows(g):
    """The indices of the rows of ``g`` that hold a number other than 0."""
    return [int(r) for r in np.flatnonzero(np.any(g != 0, axis=1))]


def _matrix(name, value, n, d_model):
    a = np.asarray(value, dtype=np.float64)
    if a.shape != (n, d_model) if name == "X" else a.shape != (d_model, d_model):
        want = (n, d_model) if name == "X" else (d_model, d_model)
        raise ValueError(f"AttentionExplorer: {name} must have shape {want}, got {a.shape}.")
    return a


def _check(x, num_heads):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"AttentionExplorer: X must be a matrix (n tokens × d_model), got "
                         f"shape {x.shape}.")
    if isinstance(num_heads, bool) or not isinstance(num_heads, (int, np.integer)) \
            or num_heads < 1 or x.shape[1] % num_heads:
        raise ValueError(f"AttentionExplorer: num_heads must be a positive whole number that "
                         f"divides d_model = {x.shape[1]} (each head gets d_model / h "
                         f"columns), got {num_heads!r}.")
    return x


class AttentionExplorer(CourseWidget):
    """Attention maps per head, a causal-mask toggle, and the rows of dQ, dK, dV that one
    output position's gradient reaches.

    ``X`` (n × d_model) and ``W_Q``, ``W_K``, ``W_V`` (d_model × d_model, used as X·W) default
    to chapter 6's example. Controls: ``self.causal`` (checkbox), ``self.head`` (-1 for all
    heads side by side, else the head's index) and ``self.position`` (the output position
    that receives a gradient). ``seed`` draws the upstream gradient."""

    def __init__(self, X=None, W_Q=None, W_K=None, W_V=None, num_heads=2, causal=False, seed=0):
        if X is None and W_Q is None and W_K is None and W_V is None:
            X, W_Q, W_K, W_V = chapter_example()
        if any(w is None for w in (X, W_Q, W_K, W_V)):
            raise ValueError("AttentionExplorer: give X, W_Q, W_K and W_V together, or none "
                             "of them (for chapter 6's example).")
        x = _check(X, num_heads)
        n, d_model = x.shape
        self.num_heads = int(num_heads)
        self.q, self.k, self.v = (x @ _matrix(name, w, n, d_model)
                                  for name, w in (("W_Q", W_Q), ("W_K", W_K), ("W_V", W_V)))
        self.upstream = np.random.default_rng(seed).standard_normal((n, d_model))
        self.causal = widgets.Checkbox(value=bool(causal), description=tr("causal mask"))
        options = [(tr("all heads"), -1)] + [(tr("head {i}", i=i + 1), i)
                                             for i in range(self.num_heads)]
        self.head = widgets.Dropdown(options=options, value=-1, description=tr("show"))
        self.position = widgets.IntSlider(value=n - 1, min=0, max=n - 1,
                                          description=tr("position"))
        for control in (self.causal, self.head, self.position):
            control.observe(self._refresh, names="value")
        self._finish([widgets.HBox([self.causal, self.head, self.position])])

    def _state(self):
        return {"causal": self.causal.value, "head": self.head.value,
                "position": self.position.value}

    # ------------------------------------------------------------------ the numbers
    def maps(self, state=None):
        """The attention maps (h, n, n) of the state's mask setting."""
        state = state or self._state()
        return attention_maps(self.q, self.k, self.num_heads, state["causal"])

    def o_bar(self, position):
        """The upstream gradient: the seeded random row at ``position``, 0 elsewhere."""
        g = np.zeros_like(self.upstream)
        g[position] = self.upstream[position]
        return g

    def grads(self, state=None):
        """{"dQ": …, "dK": …, "dV": …} when only the state's position gets a gradient."""
        state = state or self._state()
        found = attention_grads(self.q, self.k, self.v, self.num_heads, state["causal"],
                                self.o_bar(state["position"]))
        return dict(zip(("dQ", "dK", "dV"), found))

    # ------------------------------------------------------------------ drawing
    def _shown_heads(self, state):
        return list(range(self.num_heads)) if state["head"] == -1 else [state["head"]]

    def _figure(self, state):
        heads, maps, grads = self._shown_heads(state), self.maps(state), self.grads(state)
        n, d_model = self.q.shape
        fig = Figure(figsize=(max(2.4 * len(heads), 7.0), 2.4 + 0.3 * n + 0.2 * n + 1.2))
        grid = fig.add_gridspec(2, 1, height_ratios=[1.4, 1], hspace=0.45,
                                left=0.06, right=0.98, top=0.88, bottom=0.05)
        p = state["position"]
        top = grid[0].subgridspec(1, len(heads), wspace=0.4)
        for slot, h in enumerate(heads):
            self._draw_map(fig.add_subplot(top[0, slot]), maps[h], h, p)
        bottom = grid[1].subgridspec(1, 3, wspace=0.25)
        for slot, (name, g) in enumerate(grads.items()):
            _draw_grad(fig.add_subplot(bottom[0, slot]), name, g)
        mask = tr("causal mask") if state["causal"] else tr("no mask")
        fig.suptitle(tr("Attention maps ({mask}); only output position {p} gets a gradient",
                        mask=mask, p=p), fontsize=10)
        return fig

    def _draw_map(self, ax, a, h, p):
        n = a.shape[0]
        ax.imshow(a, cmap="Blues", vmin=0, vmax=1)
        for (r, c), w in np.ndenumerate(a):
            ax.text(c, r, f"{w:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if w > 0.6 else "black")
        ax.add_patch(Rectangle((-0.5, p - 0.5), n, 1, fill=False, ec="#d62728", lw=2))
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.tick_params(labelsize=7)
        ax.set_xlabel(tr("key position"), fontsize=8)
        ax.set_ylabel(tr("query position"), fontsize=8)
        ax.set_title(tr("head {i}", i=h + 1), fontsize=9)

    def _panel(self, state):
        p, maps = state["position"], self.maps(state)
        lines = [tr("causal mask: on") if state["causal"] else tr("causal mask: off"),
                 tr("only row {p} of the output's gradient Ō is not zero (random)", p=p)]
        for h in self._shown_heads(state):
            weights = ", ".join(f"{w:.4f}" for w in maps[h][p])
            lines.append(tr("head {i}, weights of position {p}: {weights}",
                            i=h + 1, p=p, weights=weights))
        for name, g in self.grads(state).items():
            lines.append(tr("{name}: shape {shape}, nonzero rows {rows}",
                            name=name, shape=g.shape, rows=nonzero_rows(g)))
        if state["causal"] and p == 0:
            lines.append(tr("position 0 sees only itself: its weight is 1 whatever the "
                            "scores, so no gradient reaches Q or K"))
        return lines

    def _summary(self):
        n, d_model = self.q.shape
        return tr("Attention explorer: {tokens}, d_model = {d_model}, {heads} (run the notebook "
                  "to explore it)", tokens=ntr("{n} token", "{n} tokens", n=n), d_model=d_model,
                  heads=ntr("{n} head", "{n} heads", n=self.num_heads))


def _draw_grad(ax, name, g):
    """A gradient (n × d_model) as a heat map, its zero rows greyed out."""
    lim = max(np.abs(g).max(), 1e-12)
    ax.imshow(g, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    rows = nonzero_rows(g)
    for r in range(g.shape[0]):
        if r not in rows:
            ax.add_patch(Rectangle((-0.5, r - 0.5), g.shape[1], 1, fc="#dddddd", ec="none"))
    ax.set_yticks(range(g.shape[0]))
    ax.set_xticks([])
    ax.tick_params(labelsize=7)
    ax.set_title(tr("{name} {shape}: rows {rows} not zero", name=name,
                    shape="×".join(map(str, g.shape)), rows=rows), fontsize=8)
