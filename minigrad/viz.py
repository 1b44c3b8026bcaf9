"""Pictures of the backward graph: ``graph`` (the data), ``draw`` (matplotlib), ``to_dot``.

The graph behind a tensor is made of two kinds of objects:

- **op nodes** (``grad_fn``): one per operation that was recorded, named after it
  (``MatMulBackward``). Each one remembers, through ``next_functions``, the nodes of the
  tensors it was computed from.
- **tensors**: the leaves that require grad (parameters, inputs), reached through their
  ``AccumulateGrad`` node, and the output itself.

Everything here reads the graph only through ``grad_fn``, ``next_functions``, ``name()``
and ``AccumulateGrad.variable``, which minigrad and PyTorch both provide, so the same
functions draw a minigrad graph and a torch graph::

    import minigrad as mg
    from minigrad import viz

    W = mg.randn(4, 3, requires_grad=True)
    b = mg.zeros(3, requires_grad=True)
    x = mg.randn(5, 4)
    loss = (x @ W + b).relu().sum()
    g = viz.graph(loss, params={"W": W, "b": b})     # plain dicts and lists
    fig = viz.draw(loss, params={"W": W, "b": b})    # a matplotlib Figure
    print(viz.to_dot(loss))                          # Graphviz text, as torchviz draws it

Edges point in the **forward** direction (input -> op -> output), as in the course notes:
read the picture top to bottom for forward, bottom to top for backward.

The drawing uses matplotlib only (no Graphviz program): nodes are laid out in rows by
topological depth, inputs at the top and the output at the bottom, and each row is ordered
to reduce crossings (the *barycenter* heuristic: a node moves toward the mean position of
its neighbours). matplotlib is imported only when something is drawn.
"""
from collections import deque

import numpy as np

__all__ = ["graph", "draw", "draw_pair", "to_dot", "backward_path", "op_label"]

# colours (those of torchviz where it has one)
_COLORS = {"op": "#e6e6e6", "param": "#ffd591", "leaf": "#add8e6", "output": "#caff70",
           "tensor": "#f5f5f5"}
_HIGHLIGHT = "#d62728"
_HIGHLIGHT_FILL = {"op": "#ffb3b3", "param": "#ff9f80", "leaf": "#ff9f80", "output": "#ff9f80",
                   "tensor": "#ffd0d0"}
_MONO_W = 0.602      # advance of one DejaVu Sans Mono character, in em
_LINE_H = 1.25       # height of one text line, in em


# --------------------------------------------------------------------------- reading a graph
def _is_accumulator(fn):
    """AccumulateGrad, in both libraries, is the node that holds its leaf in ``.variable``."""
    return hasattr(fn, "variable")


def _fn_name(fn):
    name = fn.name()
    return name.rsplit("::", 1)[-1]          # torch's C++ nodes: "torch::autograd::CopySlices"


def op_label(name):
    """A short, readable label for a node name: ``MatMulBackward`` -> ``MatMul``,
    ``AddmmBackward0`` -> ``Addmm`` (torch numbers its node classes)."""
    name = name.rsplit("::", 1)[-1].rstrip("0123456789")
    if name.endswith("Backward") and len(name) > len("Backward"):
        name = name[:-len("Backward")]
    return name


def _out_shapes(fn):
    """The shapes of the tensors an op node produced, if the library records them."""
    meta = getattr(fn, "_output_meta", None)           # minigrad
    if meta is not None:
        return [tuple(m[0]) for m in meta]
    try:                                                 # torch (a private attribute)
        return [tuple(m.shape) for m in fn._input_metadata]
    except Exception:
        return None


def _shape(t):
    return tuple(int(s) for s in t.shape)


def _values(t):
    """The numbers of a minigrad or torch tensor as a numpy array."""
    if hasattr(t, "detach") and hasattr(t, "cpu"):      # torch
        return t.detach().cpu().numpy()
    return np.asarray(t._data)


def graph(tensor, params=None, intermediates=False):
    """The backward graph behind ``tensor`` (minigrad or torch) as plain dicts and lists.

    Returns ``{"nodes": [...], "edges": [...], "output": id, "objects": {...}}``:

    - every node is a dict ``{"id", "kind", "name", "label", "shape", "depth"}`` with
      ``kind`` one of ``"op"`` (a ``grad_fn`` node; ``name`` is its class name, ``label``
      the short form from :func:`op_label`, ``shape`` the shape of its output if known),
      ``"param"`` (a leaf named in ``params``; ``name`` is that name), ``"leaf"`` (another
      leaf that requires grad), ``"output"`` (``tensor`` itself) and, with
      ``intermediates=True``, ``"tensor"`` (the result of an op, drawn between it and its
      users as the course notes do);
    - ``edges`` are ``(source id, destination id)`` pairs in the forward direction
      (parent -> op -> child); an input used twice by one op gives two equal edges;
    - ``depth`` is the row of the drawing: the output is in the last row and every other node
      sits in the row just above its first user, so every edge goes down (a larger depth);
    - ``objects`` maps an id to the node or tensor it stands for (for highlighting, values).

    Ids are numbered breadth first from the output, so the same graph gives the same dicts.
    ``params`` is a dict name -> tensor (e.g. ``dict(model.named_parameters())``).
    """
    names = {id(t): n for n, t in (params or {}).items()}
    nodes, edges, objects = [], [], {}

    def add(kind, obj, name, label, shape):
        i = len(nodes)
        nodes.append({"id": i, "kind": kind, "name": name, "label": label, "shape": shape,
                      "depth": 0})
        objects[i] = obj
        return i

    out_id = add("output", tensor, names.get(id(tensor), "output"),
                 names.get(id(tensor), "output"), _shape(tensor))
    root = getattr(tensor, "grad_fn", None)
    if root is not None:
        op_ids, leaf_ids, inter_ids = {}, {}, {}
        op_ids[root] = add("op", root, _fn_name(root), op_label(_fn_name(root)), _shape(tensor))
        edges.append((op_ids[root], out_id))
        queue = deque([root])
        while queue:                      # breadth first, following next_functions
            fn = queue.popleft()
            for parent, nr in fn.next_functions:
                if parent is None:
                    continue
                if _is_accumulator(parent):
                    leaf = parent.variable
                    if id(leaf) not in leaf_ids:
                        kind = "param" if id(leaf) in names else "leaf"
                        name = names.get(id(leaf), "leaf")
                        leaf_ids[id(leaf)] = add(kind, leaf, name, name, _shape(leaf))
                    src = leaf_ids[id(leaf)]
                else:
                    if parent not in op_ids:
                        shapes = _out_shapes(parent)
                        op_ids[parent] = add("op", parent, _fn_name(parent),
                                             op_label(_fn_name(parent)),
                                             shapes[nr] if shapes and nr < len(shapes) else None)
                        queue.append(parent)
                    src = op_ids[parent]
                    if intermediates:
                        if (parent, nr) not in inter_ids:
                            shapes = _out_shapes(parent)
                            shape = shapes[nr] if shapes and nr < len(shapes) else None
                            inter_ids[(parent, nr)] = add("tensor", None, "", "", shape)
                            edges.append((src, inter_ids[(parent, nr)]))
                        src = inter_ids[(parent, nr)]
                edges.append((src, op_ids[fn]))
    _set_depths(nodes, edges)
    return {"nodes": nodes, "edges": edges, "output": out_id, "objects": objects}


def _set_depths(nodes, edges):
    """depth = (longest path from any node to the output) − (that path from this node).

    Placing each node as low as it can go keeps edges short: a parameter sits just above
    the first op that uses it, as in the notes' drawings."""
    children = {n["id"]: [] for n in nodes}
    indeg = {n["id"]: 0 for n in nodes}
    for s, d in edges:
        children[s].append(d)
        indeg[d] += 1
    order, ready = [], [i for i in indeg if indeg[i] == 0]
    while ready:                                        # Kahn's topological sort
        i = ready.pop()
        order.append(i)
        for c in children[i]:
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    height = {}
    for i in reversed(order):
        height[i] = 1 + max((height[c] for c in children[i]), default=-1)
    top = max(height.values())
    for n in nodes:
        n["depth"] = top - height[n["id"]]


def backward_path(tensor, target):
    """The objects on every path of the graph from ``tensor`` back to ``target`` (a leaf
    tensor, a node, or a non-leaf tensor, which stands for the node that made it): the route
    its gradient takes. Give it to ``draw(..., highlight=...)``."""
    root = getattr(tensor, "grad_fn", None)
    if target is tensor:
        return [tensor]
    if getattr(target, "grad_fn", None) is not None:
        target = target.grad_fn
    reaches = {}

    def hits(fn):
        if _is_accumulator(fn):
            return fn.variable is target
        return fn is target

    # iterative post-order: does fn lead to target?
    stack = [(root, False)] if root is not None else []
    while stack:
        fn, done = stack.pop()
        if fn in reaches:
            continue
        parents = [p for p, _ in fn.next_functions if p is not None]
        if done or _is_accumulator(fn):
            reaches[fn] = hits(fn) or any(reaches.get(p, False) for p in parents)
            continue
        stack.append((fn, True))
        stack.extend((p, False) for p in parents if p not in reaches)
    if root is None or not reaches.get(root):
        return []
    # reaches was filled parents first: reversed, the path runs from the output to the target
    path = [tensor] + [fn for fn, ok in reversed(reaches.items())
                       if ok and not _is_accumulator(fn)]
    if not hasattr(target, "next_functions"):          # a leaf tensor, not a node
        path.append(target)
    return path


# --------------------------------------------------------------------------- DOT text
def _dot_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape_str(shape):
    return str(tuple(shape))


def to_dot(tensor, params=None):
    """Graphviz DOT text of the graph, in the style of torchviz's ``make_dot``: op nodes in
    grey with their full class name, leaves in light blue (named when ``params`` names them)
    with their shape, the output in green; edges forward. Paste it into any Graphviz viewer,
    or ``graphviz.Source(text)`` if that package is installed."""
    g = graph(tensor, params)
    fill = {"op": "lightgrey", "param": "orange", "leaf": "lightblue",
            "output": "darkolivegreen1"}
    lines = ["digraph {",
             '\tgraph [size="12,12"]',
             "\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 "
             "shape=box style=filled]"]
    for n in g["nodes"]:
        if n["kind"] == "op":
            label = n["name"]
        elif n["kind"] == "leaf":
            label = " " + _shape_str(n["shape"])
        else:
            label = n["name"] + "\n " + _shape_str(n["shape"])
        lines.append(f"\tn{n['id']} [label={_dot_quote(label)} fillcolor={fill[n['kind']]}]")
    for s, d in g["edges"]:
        lines.append(f"\tn{s} -> n{d}")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- layout
def _fmt_values(a):
    a = np.asarray(a, dtype=float).ravel()
    if a.size <= 4:
        return "[" + " ".join(f"{v + 0.0:.3g}" for v in a) + "]"
    return f"[{a[0] + 0.0:.3g} {a[1] + 0.0:.3g} … {a[-1] + 0.0:.3g}] n={a.size}"


def _keeps_grad(t):
    """Only leaves (and tensors that called retain_grad) get a ``.grad``."""
    return getattr(t, "grad_fn", None) is None or bool(getattr(t, "retains_grad", False))


def _text(n, obj, show_data, show_grad):
    """The lines written in a node."""
    if n["kind"] == "op":
        return [n["label"]]
    lines = [] if n["kind"] == "tensor" else [n["name"]]
    lines.append(_shape_str(n["shape"]) if n["shape"] is not None else "?")
    if n["kind"] != "tensor":
        if show_data:
            lines.append("data " + _fmt_values(_values(obj)))
        if show_grad and _keeps_grad(obj):
            gr = obj.grad
            lines.append("grad " + ("None" if gr is None else _fmt_values(_values(gr))))
    return lines


class _Layout:
    """Where every node goes, in text units: x in character widths, y in line heights
    (rows go downward, so y < 0).

    The classic layered ("Sugiyama") recipe, kept small:

    1. rows: a node's row is its ``depth``;
    2. an edge that skips rows is cut into a chain through small invisible *dummy* nodes, one
       per skipped row, so that it gets its own lane instead of crossing boxes;
    3. ordering: sweeping down then up, each node wants the mean x of its neighbours in the
       previous row (the *barycenter*); a row is sorted by that wish (parameters last, so they
       end up beside the op that uses them) and packed as close to the wishes as the gaps
       between boxes allow.
    """

    def __init__(self, g, show_data, show_grad, rounds=8, gap_y=1.5):
        nodes = g["nodes"]
        self.text = {n["id"]: _text(n, g["objects"][n["id"]], show_data, show_grad)
                     for n in nodes}
        self.kind = {n["id"]: n["kind"] for n in nodes}
        self.size = {}
        from .course.lang import width as columns    # a Chinese character is two columns wide
        for n in nodes:
            lines = self.text[n["id"]]
            width = max(columns(s) for s in lines)
            if n["kind"] == "op":             # an ellipse around one line of text
                self.size[n["id"]] = (1.3 * width + 2.0, 1.8)
            else:
                self.size[n["id"]] = (width + 1.6, len(lines) + 0.5)
        depth = {n["id"]: n["depth"] for n in nodes}
        rows = [[] for _ in range(max(depth.values()) + 1)]
        for n in nodes:                       # breadth-first ids: a good first order
            rows[n["depth"]].append(n["id"])
        up = {n["id"]: [] for n in nodes}
        down = {n["id"]: [] for n in nodes}
        self.chains = []                      # per edge: [source, dummies..., destination]
        next_id = len(nodes)
        for s, d in g["edges"]:
            chain = [s]
            for r in range(depth[s] + 1, depth[d]):
                self.kind[next_id], self.size[next_id] = "dummy", (1.0, 0.0)
                up[next_id], down[next_id] = [], []
                rows[r].append(next_id)
                chain.append(next_id)
                next_id += 1
            chain.append(d)
            for a, b in zip(chain, chain[1:]):
                down[a].append(b)
                up[b].append(a)
            self.chains.append(chain)
        self.x = {}
        for row in rows:
            self._place(row, {i: 0.0 for i in row})
        for _ in range(rounds):               # barycenter sweeps, down then up
            for row in rows[1:]:
                self._sweep(row, up, side=False)
            for row in reversed(rows[:-1]):
                self._sweep(row, down, side=True)
        self.y, y, prev_h = {}, 0.0, None
        for row in rows:                      # rows stacked downward, gap_y lines apart
            h = max(self.size[i][1] for i in row)
            if prev_h is not None:
                y -= prev_h / 2 + gap_y + h / 2
            for i in row:
                self.y[i] = y
            prev_h = h
        xs = [self.x[i] + s * self.size[i][0] / 2 for i in self.x for s in (-1, 1)]
        ys = [self.y[i] + s * self.size[i][1] / 2 for i in self.y for s in (-1, 1)]
        self.xlim = (min(xs) - 1.0, max(xs) + 1.0)
        self.ylim = (min(ys) - 0.8, max(ys) + 0.8)

    def _sweep(self, row, nbrs, side):
        want = {}
        for i in row:
            # going down, the main stream follows the main stream, not the parameters set
            # beside it (or every op would drift toward its parameters)
            main = [j for j in nbrs[i] if self.kind[j] != "param"]
            xs = [self.x[j] for j in (nbrs[i] if side or not main else main)]
            want[i] = sum(xs) / len(xs) if xs else self.x[i]
            if side and self.kind[i] == "param" and xs:   # parameters sit up and to the right
                w = max(self.size[j][0] for j in nbrs[i])
                want[i] += (w + self.size[i][0]) / 2 + 1.0
        row.sort(key=lambda i: (self.kind[i] == "param", want[i]))
        self._place(row, want)

    def _gap(self, a, b):
        return (self.size[a][0] + self.size[b][0]) / 2 + \
            (0.8 if "dummy" in (self.kind[a], self.kind[b]) else 2.0)

    def _place(self, row, want):
        """Put the row's nodes, in order, as near their wanted x as the minimum gaps allow.

        The main nodes take the mean of a left-to-right and a right-to-left packing (both keep
        the gaps). The parameters at the end of the row are then only pushed to the right, so
        a crowd of them never shoves the op they feed to the left."""
        main = [i for i in row if self.kind[i] != "param"]
        if not main:
            return self._pack(row, want)
        self._pack(main, want)
        last = main[-1]
        for i in (i for i in row if self.kind[i] == "param"):
            self.x[i] = max(want[i], self.x[last] + self._gap(last, i))
            last = i

    def _pack(self, row, want):
        sep = [0.0] + [self._gap(a, b) for a, b in zip(row, row[1:])]
        left = []
        for k, i in enumerate(row):
            left.append(want[i] if k == 0 else max(want[i], left[-1] + sep[k]))
        right = [0.0] * len(row)
        for k in range(len(row) - 1, -1, -1):
            i = row[k]
            right[k] = want[i] if k == len(row) - 1 else min(want[i], right[k + 1] - sep[k + 1])
        for k, i in enumerate(row):
            self.x[i] = (left[k] + right[k]) / 2

    def edge_path(self, chain):
        """The points an edge passes: out of the bottom of its source, through its dummies,
        into the top of its destination."""
        s, d = chain[0], chain[-1]
        pts = [(self.x[s], self.y[s] - self.size[s][1] / 2)]
        pts += [(self.x[i], self.y[i]) for i in chain[1:-1]]
        pts.append((self.x[d], self.y[d] + self.size[d][1] / 2))
        return pts

    @property
    def extent(self):
        return self.xlim[1] - self.xlim[0], self.ylim[1] - self.ylim[0]


def _highlighted(g, highlight):
    """Ids of the nodes named or given in ``highlight``."""
    if highlight is None:
        return set()
    if not isinstance(highlight, (list, tuple, set)):
        highlight = [highlight]
    strings = {h for h in highlight if isinstance(h, str)}
    objs = {id(h) for h in highlight if not isinstance(h, str)}
    out = set()
    for n in g["nodes"]:
        obj = g["objects"][n["id"]]
        if n["name"] in strings or (n["kind"] == "op" and n["label"] in strings):
            out.add(n["id"])
        elif obj is not None and id(obj) in objs:
            out.add(n["id"])
    lit_in, lit_out = set(), set()            # an intermediate box between two lit nodes
    for s, d in g["edges"]:
        if s in out:
            lit_in.add(d)
        if d in out:
            lit_out.add(s)
    out |= {n["id"] for n in g["nodes"]
            if n["kind"] == "tensor" and n["id"] in lit_in and n["id"] in lit_out}
    return out


def _fontsize_for(layout, width_in, height_in):
    """The largest font (points) at which the layout's text fits in the given inches."""
    w, h = layout.extent
    return 72 * min(width_in / (w * _MONO_W), height_in / (h * _LINE_H))


def _smooth(pts):
    """A smooth path through the points: between two of them a cubic Bézier curve that
    leaves and arrives vertically (the look of Graphviz's splines)."""
    from matplotlib.path import Path

    verts, codes = [pts[0]], [Path.MOVETO]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        dy = (y1 - y0) / 2
        verts += [(x0, y0 + dy), (x1, y1 - dy), (x1, y1)]
        codes += [Path.CURVE4] * 3
    return Path(verts, codes)


def _render(ax, g, layout, fontsize, lit, title):
    from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch

    ax.set_xlim(*layout.xlim)
    ax.set_ylim(*layout.ylim)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=fontsize * 1.4)
    for chain in layout.chains:
        s, d = chain[0], chain[-1]
        on = s in lit and d in lit
        arrow = FancyArrowPatch(path=_smooth(layout.edge_path(chain)),
                                arrowstyle="-|>", mutation_scale=fontsize * 1.1,
                                shrinkA=0, shrinkB=0, color=_HIGHLIGHT if on else "#555555",
                                lw=1.6 if on else 0.6, zorder=3 if on else 1)
        arrow.set_gid(f"edge:{s}-{d}")
        ax.add_artist(arrow)           # add_artist: no costly autoscaling, limits are set
    for n in g["nodes"]:
        i, kind = n["id"], n["kind"]
        x, y = layout.x[i], layout.y[i]
        w, h = layout.size[i]
        fill = _HIGHLIGHT_FILL[kind] if i in lit else _COLORS[kind]
        edge = _HIGHLIGHT if i in lit else "#333333"
        if kind == "op":
            patch = Ellipse((x, y), w, h, fc=fill, ec=edge, lw=0.8, zorder=4)
        else:
            patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                   boxstyle="round,pad=0,rounding_size=0.6",
                                   mutation_aspect=0.6, fc=fill, ec=edge,
                                   lw=1.0 if kind != "tensor" else 0.5, zorder=4)
        patch.set_gid(f"{'op' if kind == 'op' else 'tensor'}:{i}")
        ax.add_artist(patch)
        ax.text(x, y, "\n".join(layout.text[i]), ha="center", va="center",
                family="monospace", fontsize=fontsize, zorder=5, linespacing=1.1)


_MAX_W_IN, _MAX_H_IN = 30.0, 60.0    # a figure bigger than this gets a smaller font...
_MIN_FONT = 5.0                       # ...but not below this: a huge graph makes a tall figure


def _new_figure(layouts, fontsize, title):
    from matplotlib.figure import Figure

    widths = [lay.extent[0] * _MONO_W * fontsize / 72 for lay in layouts]
    heights = [lay.extent[1] * _LINE_H * fontsize / 72 for lay in layouts]
    shrink = min(1.0, _MAX_W_IN / sum(widths), _MAX_H_IN / max(heights))
    shrink = max(shrink, min(1.0, _MIN_FONT / fontsize))
    fontsize *= shrink
    widths = [w * shrink for w in widths]
    heights = [h * shrink for h in heights]
    top = 0.5 if title else 0.0        # inches kept for the titles
    fig = Figure(figsize=(max(sum(widths), 1.5), max(max(heights) + top, 1.0)))
    axes, left = [], 0.0
    W, H = fig.get_size_inches()
    for w, h in zip(widths, heights):  # top-aligned, each as tall as its own graph
        ax = fig.add_axes([left / W, (H - top - h) / H, w / W, h / H])
        axes.append(ax)
        left += w
    return fig, axes, fontsize


def draw(tensor, params=None, show_data=False, show_grad=False, highlight=None, ax=None,
         title=None, intermediates=False, fontsize=9.0):
    """Draw the graph behind ``tensor`` (minigrad or torch) with matplotlib; return the Figure.

    Tensors are rounded boxes with their shape (and, with ``show_data`` / ``show_grad``, a few
    of their values and of their ``.grad``): parameters in orange, set to the right of the op
    that uses them; other leaves in blue; the output in green. Op nodes are grey ellipses
    labelled with their short name (``MatMul`` for ``MatMulBackward``). Arrows point forward,
    from the inputs at the top to the output at the bottom; backward runs them upward.

    ``highlight``: node names (``"MatMulBackward"`` or ``"MatMul"``, parameter names) or the
    nodes / tensors themselves, e.g. ``backward_path(loss, W)``; they and the arrows between
    them are drawn in red. ``intermediates=True`` also draws each op's result as a small box.

    Without ``ax`` a new Figure is made, sized to the graph (a big graph gets a tall figure and
    a smaller font). It is not registered with pyplot: in a notebook it shows as the cell's
    value; in a script, ``fig.savefig("graph.png")``. With ``ax`` the graph is drawn there, the
    font shrunk to fit.
    """
    g = graph(tensor, params, intermediates=intermediates)
    layout = _Layout(g, show_data, show_grad)
    lit = _highlighted(g, highlight)
    if ax is None:
        fig, (ax,), fontsize = _new_figure([layout], fontsize, title)
    else:
        fig = ax.figure
        bbox = ax.get_window_extent().transformed(fig.dpi_scale_trans.inverted())
        fontsize = min(fontsize, _fontsize_for(layout, bbox.width, bbox.height))
    _render(ax, g, layout, fontsize, lit, title)
    return fig


def draw_pair(a, b, params_a=None, params_b=None, titles=("minigrad", "torch"),
              show_data=False, show_grad=False, highlight_a=None, highlight_b=None,
              intermediates=False, fontsize=9.0):
    """Two graphs side by side in one Figure (two axes), e.g. the same loss built with
    minigrad and with torch: ``draw_pair(mg_loss, torch_loss, mg_params, torch_params)``.
    Both are drawn at the same font size so their sizes can be compared."""
    ga = graph(a, params_a, intermediates=intermediates)
    gb = graph(b, params_b, intermediates=intermediates)
    la, lb = _Layout(ga, show_data, show_grad), _Layout(gb, show_data, show_grad)
    fig, (ax_a, ax_b), fontsize = _new_figure([la, lb], fontsize, titles)
    _render(ax_a, ga, la, fontsize, _highlighted(ga, highlight_a), titles and titles[0])
    _render(ax_b, gb, lb, fontsize, _highlighted(gb, highlight_b), titles and titles[1])
    return fig
