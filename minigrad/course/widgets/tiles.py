"""The tiled matrix product, one tile product at a time.

::

    from minigrad.course.widgets import TiledMatmulExplorer
    TiledMatmulExplorer(m=4, k=4, n=4, tile=2)

C = A·B with A (m×k) and B (k×n) cut into tile×tile blocks, computed as
``minigrad.course.tiling.tiled_matmul`` does: for every block (i, j) of C, for t = 0, 1, …,
load A[i,t] and B[t,j] and add their product to the block of C, which is stored once complete.
Sizes that the tile does not divide give smaller blocks at the bottom and right edges, as in
``tiling.py``. The matrices are the notes' example, extended to any size: A holds 1, 2, 3, …
row by row and row r of B holds r + 1 (for m = k = n = 4 these are the chapter's A and B).

Step 0 is before anything is loaded; step s is the s-th tile product, in ``tiled_matmul``'s
loop order. The drawing highlights A[i,t], B[t,j] and the block of C they add to, shows the
part of C computed so far, and counts the numbers loaded, the multiply-adds and the numbers
stored; at the last step they equal the counters of ``tiled_matmul(…, traffic=Traffic())``.
"""
import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..lang import ntr, tr
from ..tiling import block, tiled_matmul
from ._common import CourseWidget

__all__ = ["TiledMatmulExplorer", "notes_matrices"]

MAX_SIZE = 8           # the largest m, k, n and tile the explorer draws
_LIT_A, _LIT_B, _LIT_C = "#ffd591", "#add8e6", "#caff70"


def _check_size(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not 1 <= value <= MAX_SIZE:
        raise ValueError(f"TiledMatmulExplorer: {name} must be a whole number from 1 to "
                         f"{MAX_SIZE} (larger matrices do not fit in the drawing), got {value!r}.")


def notes_matrices(m, k, n):
    """The notes' A (m×k, entries 1, 2, 3, … row by row) and B (k×n, row r filled with
    r + 1), as integer numpy arrays."""
    a = np.arange(1, m * k + 1).reshape(m, k)
    b = np.repeat(np.arange(1, k + 1)[:, None], n, axis=1)
    return a, b


def _blocks(size, tile):
    return -(-size // tile)


def tile_steps(m, k, n, tile):
    """What happens at each step: a list of dicts, one per tile product in ``tiled_matmul``'s
    loop order, with ``ijt`` = (i, j, t), ``product`` = A[i,t]·B[t,j], the numbers loaded,
    the multiply-adds done and the numbers stored (C[i,j], once its last term is added)."""
    a, b = notes_matrices(m, k, n)
    trace = []
    tiled_matmul(a, b, tile, trace=trace)
    last_t = _blocks(k, tile) - 1
    steps = []
    for (i, j, t), product in trace:
        a_it, b_tj = block(a, i, t, tile), block(b, t, j, tile)
        steps.append({"ijt": (i, j, t), "product": product,
                      "loads": a_it.size + b_tj.size,
                      "madds": a_it.shape[0] * a_it.shape[1] * b_tj.shape[1],
                      "stores": product.size if t == last_t else 0})
    return steps


def partial_c(m, k, n, tile, step):
    """C after ``step`` tile products: a float array with NaN where nothing was computed yet."""
    c = np.full((m, n), np.nan)
    for s in tile_steps(m, k, n, tile)[:step]:
        i, j, _ = s["ijt"]
        blk = block(c, i, j, tile)
        blk[...] = np.where(np.isnan(blk), 0.0, blk) + s["product"]
    return c


def counts(m, k, n, tile, step):
    """(loads, multiply-adds, stores) after ``step`` tile products."""
    done = tile_steps(m, k, n, tile)[:step]
    return tuple(sum(s[key] for s in done) for key in ("loads", "madds", "stores"))


def _fmt(v):
    return f"{v:g}"


def _draw_matrix(ax, values, tile, title, lit=None, color=None):
    """A matrix as a grid of numbers (NaN: an empty cell), with thick lines between tiles and
    the block ``lit`` = (row block, column block) filled with ``color``."""
    rows, cols = values.shape
    ax.set_xlim(-0.05, cols + 0.05)
    ax.set_ylim(rows + 0.05, -0.05)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    if lit is not None:
        r, c = lit
        r1, c1 = min((r + 1) * tile, rows), min((c + 1) * tile, cols)
        ax.add_patch(Rectangle((c * tile, r * tile), c1 - c * tile, r1 - r * tile,
                               fc=color, ec="#d62728", lw=2, zorder=1))
    size = 8 if max(abs(np.nan_to_num(values)).max(), 1) < 1000 else 6.5
    for (r, c), v in np.ndenumerate(values):
        if not np.isnan(v):
            ax.text(c + 0.5, r + 0.5, _fmt(v), ha="center", va="center", fontsize=size,
                    zorder=3)
    for x in range(cols + 1):
        thick = x % tile == 0 or x == cols
        ax.plot([x, x], [0, rows], color="#333333" if thick else "#bbbbbb",
                lw=1.4 if thick else 0.5, zorder=2)
    for y in range(rows + 1):
        thick = y % tile == 0 or y == rows
        ax.plot([0, cols], [y, y], color="#333333" if thick else "#bbbbbb",
                lw=1.4 if thick else 0.5, zorder=2)


class TiledMatmulExplorer(CourseWidget):
    """Step through C = A·B computed in tile×tile blocks (sizes 1 … 8).

    Controls: ``self.m``, ``self.k``, ``self.n``, ``self.tile`` (sizes) and ``self.step``
    (0 … number of tile products); changing a size starts again at step 0."""

    def __init__(self, m=4, k=4, n=4, tile=2):
        for name, value in (("m", m), ("k", k), ("n", n), ("tile", tile)):
            _check_size(name, value)
        opts = dict(min=1, max=MAX_SIZE, continuous_update=False)
        self.m = widgets.IntSlider(value=m, description="m", **opts)
        self.k = widgets.IntSlider(value=k, description="k", **opts)
        self.n = widgets.IntSlider(value=n, description="n", **opts)
        self.tile = widgets.IntSlider(value=tile, description=tr("tile"), **opts)
        self.step = widgets.IntSlider(value=0, min=0, max=self._n_steps(),
                                      description=tr("step"))
        self.play = widgets.Play(value=0, min=0, max=self._n_steps(), interval=1200)
        widgets.link((self.play, "value"), (self.step, "value"))
        widgets.link((self.play, "max"), (self.step, "max"))
        for control in (self.m, self.k, self.n, self.tile):
            control.observe(self._on_size, names="value")
        self.step.observe(self._refresh, names="value")
        self._finish([widgets.HBox([self.m, self.k, self.n, self.tile]),
                      widgets.HBox([self.play, self.step])])

    def _n_steps(self):
        v = self.m.value, self.k.value, self.n.value, self.tile.value
        return _blocks(v[0], v[3]) * _blocks(v[1], v[3]) * _blocks(v[2], v[3])

    def _on_size(self, change):
        """New sizes: the step slider starts again at 0, over the new number of steps."""
        self.step.unobserve(self._refresh, names="value")
        self.step.value = 0
        self.step.max = self._n_steps()
        self.step.observe(self._refresh, names="value")
        self._refresh()

    def _state(self):
        return {"m": self.m.value, "k": self.k.value, "n": self.n.value,
                "tile": self.tile.value, "step": self.step.value}

    def current(self, state=None):
        """(i, j, t) of the tile product at this step, or None at step 0."""
        state = state or self._state()
        if state["step"] == 0:
            return None
        sizes = (state["m"], state["k"], state["n"], state["tile"])
        return tile_steps(*sizes)[state["step"] - 1]["ijt"]

    def _title(self, state):
        total = _blocks(state["m"], state["tile"]) * _blocks(state["k"], state["tile"]) \
            * _blocks(state["n"], state["tile"])
        ijt = self.current(state)
        if ijt is None:
            return tr("Step 0 of {n}: nothing loaded yet", n=total)
        i, j, t = ijt
        return tr("Step {s} of {n}: C[{i},{j}] += A[{i},{t}]·B[{t},{j}]",
                  s=state["step"], n=total, i=i, j=j, t=t)

    def _count_lines(self, state):
        loads, madds, stores = counts(state["m"], state["k"], state["n"], state["tile"],
                                      state["step"])
        return [tr("numbers loaded: {loads}", loads=loads),
                tr("multiply-adds: {madds}", madds=madds),
                tr("numbers stored: {stores}", stores=stores)]

    def _figure(self, state):
        m, k, n, tile, step = (state[key] for key in ("m", "k", "n", "tile", "step"))
        a, b = notes_matrices(m, k, n)
        ijt = self.current(state)
        i, j, t = ijt if ijt is not None else (None, None, None)
        cell = 0.42
        fig = Figure(figsize=(cell * (k + n) + 0.8, cell * (k + m) + 1.6))
        grid = fig.add_gridspec(2, 2, width_ratios=[k, n], height_ratios=[k, m],
                                left=0.04, right=0.96, bottom=0.02, top=0.86,
                                wspace=0.08, hspace=0.12)
        corner = fig.add_subplot(grid[0, 0])
        corner.set_axis_off()
        corner.text(0.5, 0.5, "\n".join(self._count_lines(state)), ha="center", va="center",
                    fontsize=8.5, transform=corner.transAxes)
        _draw_matrix(fig.add_subplot(grid[0, 1]), b.astype(float), tile, "B",
                     None if ijt is None else (t, j), _LIT_B)
        _draw_matrix(fig.add_subplot(grid[1, 0]), a.astype(float), tile, "A",
                     None if ijt is None else (i, t), _LIT_A)
        _draw_matrix(fig.add_subplot(grid[1, 1]), partial_c(m, k, n, tile, step), tile,
                     tr("C so far"), None if ijt is None else (i, j), _LIT_C)
        fig.suptitle(self._title(state), fontsize=10.5)
        return fig

    def _panel(self, state):
        lines = [self._title(state)]
        ijt = self.current(state)
        if ijt is not None:
            s = tile_steps(state["m"], state["k"], state["n"], state["tile"])[state["step"] - 1]
            lines.append(tr("this step loads {loads} and does {madds}",
                            loads=ntr("{n} number", "{n} numbers", n=s["loads"]),
                            madds=ntr("{n} multiply-add", "{n} multiply-adds", n=s["madds"])))
            if s["stores"]:
                lines.append(ntr("C[{i},{j}] is complete and is stored ({n} number)",
                                 "C[{i},{j}] is complete and is stored ({n} numbers)",
                                 n=s["stores"], i=ijt[0], j=ijt[1]))
        return lines + self._count_lines(state)

    def _summary(self):
        s = self._initial
        return tr("Tiled matmul explorer: {m}×{k} times {k}×{n} in {tile}×{tile} tiles "
                  "(run the notebook to step through it)",
                  m=s["m"], k=s["k"], n=s["n"], tile=s["tile"])
