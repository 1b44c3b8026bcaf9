"""Watch backward run, one vector-Jacobian product at a time.

``loss.backward()`` visits the graph from the output back to the leaves, running each op
node's VJP once all the gradients it waits for have arrived. ``trace`` records every one of
those runs, in the order the engine executes them::

    import minigrad as mg
    import minigrad.nn.functional as F

    with mg.trace.trace(params={"W1": W1, "b1": b1, ...}, values=True) as t:
        loss.backward()
    print(t)

prints the step-by-step table of the course notes: for each step the node that ran
(``LinearBackward``), the gradient that arrived at it (∂L/∂output of that op) and the
gradients it sent to each of its inputs (∂L/∂input), with where each one went: the node that
runs later (and at which step), or the leaf (a parameter) whose ``.grad`` receives it::

    step  node            grad in        grad out → to
       0  MseLossBackward (1,)           (1,) → LinearBackward [1]
       1  LinearBackward  (1,)           (2,) → LinearBackward [2]
                                         (1, 2) → W3
                                         (1,) → b3
       ...

The engine calls every function in ``minigrad.autograd._Mode.observers`` as
``obs(node, grads_in, grads_out)`` after each VJP; ``trace`` adds one there for the duration
of the ``with`` block (and removes it even if backward raises). It works around
``autograd.grad`` too; there the gradients that reach the leaves are returned rather than
accumulated into ``.grad``, but they are recorded all the same.
"""
import numpy as np

from .autograd import AccumulateGrad, _Mode

__all__ = ["trace", "Step", "Sent"]


def _shape(g):
    return None if g is None else tuple(g._data.shape)


def _copy(g):
    return None if g is None else np.array(g._data, copy=True)


class Sent:
    """One gradient a step sent to one input of its op.

    ``arg``: the forward argument it is the gradient of; ``shape``, ``value`` (with
    ``values=True``); ``to``: the node that receives it; ``leaf``: the leaf tensor when ``to``
    is that leaf's AccumulateGrad, else None."""
    __slots__ = ("arg", "shape", "value", "to", "leaf")

    def __init__(self, arg, shape, value, to, leaf):
        self.arg, self.shape, self.value, self.to, self.leaf = arg, shape, value, to, leaf

    def __repr__(self):
        dest = "leaf" if self.leaf is not None else self.to.name()
        return f"Sent(arg={self.arg}, shape={self.shape}, to={dest})"


class Step:
    """One VJP run: ``index`` (execution order, from 0), ``name`` and ``node``; the gradients
    that arrived, one per output of the op (``grads_in``: shapes, ``values_in``: arrays or
    None); what it sent (``sent``: a list of :class:`Sent`, inputs needing no gradient left
    out)."""
    __slots__ = ("index", "name", "node", "grads_in", "values_in", "sent")

    def __init__(self, index, name, node, grads_in, values_in, sent):
        self.index, self.name, self.node = index, name, node
        self.grads_in, self.values_in, self.sent = grads_in, values_in, sent

    @property
    def grads_out(self):
        """The shapes of the gradients sent, in argument order."""
        return [s.shape for s in self.sent]

    def __repr__(self):
        return f"Step({self.index}, {self.name}, in={self.grads_in}, out={self.grads_out})"


class trace:
    """Context manager recording every VJP run by backward inside it (see the module doc).

    ``params``: a dict name -> tensor (``dict(model.named_parameters())``) so the table names
    the leaves; ``values=True`` also keeps a copy of every gradient (costs memory).

    After the block: ``t.steps`` (a list of :class:`Step`), ``len(t)``, ``t[i]``,
    ``t.table()`` / ``print(t)``, ``t.leaf_grads()``."""

    def __init__(self, params=None, values=False):
        self.params = dict(params or {})
        self.values = values
        self.steps = []
        self._observer = None

    # ---------------------------------------------------------------- recording
    def __enter__(self):
        self.steps = []
        self._observer = self._observe
        _Mode.observers.append(self._observer)
        return self

    def __exit__(self, *exc):
        obs = _Mode.observers
        for k in range(len(obs) - 1, -1, -1):      # remove ours (by identity), nothing else
            if obs[k] is self._observer:
                del obs[k]
                break
        self._observer = None
        return False

    def _observe(self, node, grads_in, grads_out):
        keep = self.values
        sent = []
        for arg, (edge, g) in enumerate(zip(node._edges, grads_out)):
            if edge is None or g is None:
                continue
            to = edge[0]
            leaf = to.variable if type(to) is AccumulateGrad else None
            sent.append(Sent(arg, _shape(g), _copy(g) if keep else None, to, leaf))
        self.steps.append(Step(len(self.steps), node.name(), node,
                               [_shape(g) for g in grads_in],
                               [_copy(g) for g in grads_in] if keep else None, sent))

    # ---------------------------------------------------------------- reading
    def __len__(self):
        return len(self.steps)

    def __getitem__(self, i):
        return self.steps[i]

    def __iter__(self):
        return iter(self.steps)

    def _leaf_names(self, params):
        """A name per leaf that received a gradient: its parameter name, else leaf0, leaf1...
        in the order the leaves were reached."""
        by_id = {id(t): n for n, t in params.items()}
        names, k = {}, 0
        for step in self.steps:
            for s in step.sent:
                if s.leaf is not None and id(s.leaf) not in names:
                    if id(s.leaf) in by_id:
                        names[id(s.leaf)] = by_id[id(s.leaf)]
                    else:
                        names[id(s.leaf)] = f"leaf{k}"
                        k += 1
        return names

    def leaf_grads(self, params=None):
        """``[(name, leaf, shape, steps, value)]``, one per leaf reached, in the order reached:
        the steps that sent it a gradient and (with ``values=True``) their sum — what this
        backward added to ``leaf.grad``."""
        names = self._leaf_names(params if params is not None else self.params)
        out = {}
        for step in self.steps:
            for s in step.sent:
                if s.leaf is None:
                    continue
                if id(s.leaf) not in out:
                    out[id(s.leaf)] = [names[id(s.leaf)], s.leaf, s.shape, [], None]
                entry = out[id(s.leaf)]
                entry[3].append(step.index)
                if s.value is not None:
                    entry[4] = s.value.copy() if entry[4] is None else entry[4] + s.value
        return [tuple(e) for e in out.values()]

    def table(self, params=None, values=None, decimals=4):
        """The step-by-step table as a string (deterministic: no addresses, values rounded
        to ``decimals``). ``values`` defaults to whether they were recorded. Its words are in
        the course's language (:func:`minigrad.course.lang.tr`)."""
        from .course.lang import pad, tr, width
        params = params if params is not None else self.params
        show = self.values if values is None else values
        if show and not self.values:
            raise ValueError("trace.table: values were not recorded; use "
                             "trace(values=True) to see them.")
        names = self._leaf_names(params)
        step_of = {}
        for step in self.steps:
            step_of.setdefault(id(step.node), step.index)

        def grad_text(shape, value):
            if shape is None:
                return "None"
            text = str(shape)
            return text + " " + _fmt(value, decimals) if show else text

        rows = []                       # (step, node, grad in, grad out -> to)
        for step in self.steps:
            gin = ", ".join(grad_text(sh, None if step.values_in is None else v)
                            for sh, v in zip(step.grads_in,
                                             step.values_in or [None] * len(step.grads_in)))
            outs = []
            for s in step.sent:
                if s.leaf is not None:
                    dest = names[id(s.leaf)]
                else:
                    k = step_of.get(id(s.to))
                    dest = f"{s.to.name()} [{'-' if k is None else k}]"
                outs.append(f"{grad_text(s.shape, s.value)} → {dest}")
            outs = outs or [tr("(nothing sent)")]
            rows.append((str(step.index), step.name, gin, outs[0]))
            rows.extend(("", "", "", o) for o in outs[1:])
        head = (tr("step"), tr("node"), tr("grad in"), tr("grad out → to"))
        w = [max(width(r[c]) for r in rows + [head]) for c in range(3)]
        lines = [f"{pad(r[0], w[0], '>')}  {pad(r[1], w[1])}  {pad(r[2], w[2])}  {r[3]}".rstrip()
                 for r in [head] + rows]
        leaves = self.leaf_grads(params)
        if leaves:
            lines.append("")
            lines.append(tr("gradients that reached the leaves (summed over the steps that "
                            "sent them):"))
            wn = max(width(e[0]) for e in leaves)
            ws = max(width(str(e[2])) for e in leaves)
            for name, _, shape, steps, value in leaves:
                which = ", ".join(map(str, steps))
                text = f"  {pad(name, wn)}  {pad(shape, ws)}  " + (
                    tr("from steps {steps}", steps=which) if len(steps) > 1
                    else tr("from step {steps}", steps=which))
                if show:
                    text += "  = " + _fmt(value, decimals)
                lines.append(text)
        return "\n".join(lines)

    def __str__(self):
        return self.table()

    def __repr__(self):
        return f"<minigrad.trace.trace: {len(self.steps)} steps>"


def _fmt(value, decimals):
    """Rounded values on one line (−0 printed as 0, so the output is stable)."""
    if value is None:
        return "?"
    a = np.round(np.asarray(value, dtype=np.float64), decimals) + 0.0
    fmt = lambda v: np.format_float_positional(v, precision=decimals, trim="-")  # noqa: E731
    text = np.array2string(a, separator=", ", threshold=24, edgeitems=2,
                           max_line_width=10 ** 6, formatter={"float_kind": fmt})
    return " ".join(text.split())
