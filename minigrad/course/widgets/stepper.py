"""The backward stepper: watch ``loss.backward()`` run, one vector-Jacobian product per step.

::

    from minigrad.course.widgets import BackwardStepper
    BackwardStepper(z, names={x: "x", y: "y"})

Step 0 is the moment before backward: the loss receives ∂L/∂L = 1 (or, for a non-scalar
output, the ``gradient`` given, as ``y.backward(gradient)`` takes it). Step k is the k-th VJP
the engine runs, in the engine's own order: the drawing (``minigrad.viz``) highlights the
node and the inputs it sends gradients to, and the text panel shows, rounded, the gradient
it receives, what it sends to each input, and what the leaves have received so far. At the
last step those sums are the ``.grad`` that ``loss.backward()`` leaves.

The gradients are the engine's own: the stepper runs the backward once, with
``autograd.grad(loss, leaves, gradient, retain_graph=True)`` inside ``minigrad.trace`` (for a torch
loss, with hooks on its nodes), so no leaf's ``.grad`` changes and the loss can still be
backpropagated afterwards. (With a torch loss, tensors that called ``retain_grad()`` do get
the gradient added to their ``.grad``, as ``torch.autograd.grad`` itself does.)
"""
import ipywidgets as widgets
import numpy as np

from ... import viz
from ...trace import _fmt, trace
from ..lang import ntr, tr
from ..training import leaf_nodes
from ._common import CourseWidget

__all__ = ["BackwardStepper", "Step"]

_DECIMALS = 4


class Step:
    """One VJP run: ``node`` (the graph node), ``received`` (one array per output of the op,
    None where nothing arrived) and ``sent``: ``(destination, array)`` pairs, the destination
    being the parent's node or, for a leaf, the leaf tensor."""
    __slots__ = ("node", "received", "sent")

    def __init__(self, node, received, sent):
        self.node, self.received, self.sent = node, received, sent


def _numpy(g):
    """A copy of a gradient's values (minigrad or torch) as a numpy array; None stays None."""
    if g is None:
        return None
    if hasattr(g, "detach"):
        return g.detach().cpu().numpy().copy()
    return g._data.copy()


def _is_torch(t):
    return type(t).__module__.startswith("torch")


def _freed_error(err):
    return RuntimeError(
        f"BackwardStepper: the graph of this loss can no longer be run backward ({err}). "
        f"Build the stepper before calling loss.backward(), or compute the loss again.")


def _retained(loss):
    """The minigrad tensors of the graph that called retain_grad(), with their ``.grad``."""
    out, seen, stack = [], set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        for ref in (node._retained or {}).values():
            t = ref()
            if t is not None:
                out.append((t, t.grad))
        stack.extend(e[0] for e in node._edges if e is not None)
    return out


def _record_minigrad(loss, leaves, gradient):
    """The VJPs of minigrad's backward of ``loss``, recorded by ``minigrad.trace``."""
    from ... import tensor
    from ...autograd import grad

    seed = None if gradient is None else tensor(gradient, dtype=loss.dtype)
    kept = _retained(loss)
    try:
        with trace(values=True) as t:
            grad(loss, leaves, seed, retain_graph=True, allow_unused=True)
    except RuntimeError as err:
        raise _freed_error(err) from None
    finally:
        for tensor, g in kept:             # autograd.grad fills retained grads: undo that
            tensor.grad = g
    return [Step(s.node, s.values_in,
                 [(s.leaf if s.leaf is not None else s.to, s.value) for s in s.sent])
            for s in t.steps]


def _op_nodes(loss):
    """The op nodes (not the leaves' accumulators) reachable from ``loss.grad_fn``."""
    out, seen, stack = [], set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen or hasattr(node, "variable"):
            continue
        seen.add(node)
        out.append(node)
        stack.extend(p for p, _ in node.next_functions)
    return out


def _record_torch(loss, leaves, gradient):
    """The VJPs of torch's backward of ``loss``, recorded by hooks on its nodes."""
    import torch

    seed = None if gradient is None else torch.as_tensor(gradient, dtype=loss.dtype)
    steps = []

    def hook(node, grads_sent, grads_received):
        sent = [(p.variable if hasattr(p, "variable") else p, _numpy(g))
                for (p, _), g in zip(node.next_functions, grads_sent)
                if p is not None and g is not None]
        steps.append(Step(node, [_numpy(g) for g in grads_received], sent))

    handles = [n.register_hook(lambda gi, go, n=n: hook(n, gi, go)) for n in _op_nodes(loss)]
    try:
        torch.autograd.grad(loss, leaves, seed, retain_graph=True, allow_unused=True)
    except RuntimeError as err:
        raise _freed_error(err) from None
    finally:
        for h in handles:
            h.remove()
    return steps


def record_backward(loss, gradient=None):
    """The steps of the backward of ``loss`` (minigrad or torch) from ``gradient`` (None: 1,
    for a scalar), in the order the engine runs them, without touching any leaf's ``.grad``."""
    leaves = [n.variable for n in leaf_nodes(loss)]
    if _is_torch(loss):
        return _record_torch(loss, leaves, gradient)
    return _record_minigrad(loss, leaves, gradient)


def _values(t):
    """The numbers of a minigrad or torch tensor, or of an array-like, as a numpy array."""
    if hasattr(t, "detach"):
        return t.detach().cpu().numpy()
    return np.asarray(getattr(t, "data", t), dtype=float)


def _check_loss(loss, gradient):
    if not hasattr(loss, "grad_fn") or not hasattr(loss, "shape"):
        raise TypeError(f"BackwardStepper: loss must be a minigrad or torch tensor, got "
                        f"{type(loss).__name__}.")
    if loss.grad_fn is None:
        raise ValueError("BackwardStepper: the loss has no grad_fn, so there is no backward to "
                         "step through: it is a leaf, or it was computed from tensors that do "
                         "not require grad (or under no_grad()).")
    shape = tuple(int(s) for s in loss.shape)
    if gradient is None and int(np.prod(shape)) != 1:
        raise ValueError(f"BackwardStepper: the loss must be a scalar (one number, where "
                         f"backward starts from 1), got shape {shape}; reduce it first, e.g. "
                         f".sum(), or pass gradient= an array of shape {shape}.")
    if gradient is not None and _values(gradient).shape != shape:
        raise ValueError(f"BackwardStepper: gradient has shape {_values(gradient).shape} but "
                         f"the output has shape {shape}; the gradient that starts backward "
                         f"has the output's shape.")


def _names(names):
    """``names`` as {id(tensor): name}; it maps tensors to names ({x: "x"}), or names to
    tensors ({"x": x}, as ``viz`` and ``trace`` take them)."""
    out = {}
    for k, v in (names or {}).items():
        tensor, name = (v, k) if isinstance(k, str) else (k, v)
        if not isinstance(name, str) or not hasattr(tensor, "grad_fn"):
            raise TypeError(f"BackwardStepper: names must map tensors to their names "
                            f"({{x: \"x\"}}), got the pair {k!r}: {v!r}.")
        out[id(tensor)] = name
    return out


def _add_title(fig, title, fontsize=11.0):
    """Put ``title`` above the graph ``viz.draw`` drew, widening the figure if the title is
    wider than the graph; the graph keeps its size in inches (so its text keeps its size)."""
    w, h = fig.get_size_inches()
    top = 2.2 * fontsize / 72                       # inches for one line of title
    new_w = max(w, 0.62 * fontsize / 72 * len(title) + 0.3)
    new_h = h + top
    for ax in fig.axes:
        x0, y0, aw, ah = ax.get_position().bounds
        ax.set_position([(x0 * w + (new_w - w) / 2) / new_w, y0 * h / new_h,
                         aw * w / new_w, ah * h / new_h])
    fig.set_size_inches(new_w, new_h)
    fig.text(0.5, 1 - 0.5 * top / new_h, title, ha="center", va="center", fontsize=fontsize)


class BackwardStepper(CourseWidget):
    """Step through the backward of a scalar ``loss`` (minigrad or torch), node by node.

    ``names``: ``{tensor: name}`` for the leaves (and the loss) to name in the drawing and the
    text; unnamed leaves are numbered. ``gradient``: for a non-scalar output, the gradient
    backward starts from (as in ``y.backward(gradient)``). ``show_data``: write the leaves'
    values in the drawing. Controls: ``self.slider`` (the step, 0 … n) and ``self.play``
    (linked to it). ``self.steps`` holds the recorded :class:`Step` list."""

    def __init__(self, loss, names=None, gradient=None, show_data=False):
        _check_loss(loss, gradient)
        self.loss = loss
        self.show_data = show_data
        self.seed = np.ones(tuple(loss.shape)) if gradient is None else _values(gradient)
        self.steps = record_backward(loss, gradient)
        self._name = _names(names)
        self._name.setdefault(id(loss), tr("loss"))
        self._leaves = [n.variable for n in leaf_nodes(loss)]
        for k, leaf in enumerate(l for l in self._leaves if id(l) not in self._name):
            self._name[id(leaf)] = tr("leaf {k}", k=k)
        self._step_of = {}
        for k, s in enumerate(self.steps, start=1):
            self._step_of.setdefault(id(s.node), k)
        n = len(self.steps)
        self.slider = widgets.IntSlider(value=0, min=0, max=n, description=tr("step"))
        self.play = widgets.Play(value=0, min=0, max=n, interval=1500)
        widgets.link((self.play, "value"), (self.slider, "value"))
        self.slider.observe(self._refresh, names="value")
        self._finish([widgets.HBox([self.play, self.slider])])

    # ------------------------------------------------------------------ reading the steps
    def _state(self):
        return {"step": self.slider.value}

    def label(self, obj):
        """How the text names a node or tensor: a leaf or the loss by its name, an op node
        by its short name and the step at which it runs."""
        if id(obj) in self._name:
            return self._name[id(obj)]
        if hasattr(obj, "next_functions"):                    # an op node
            name = viz.op_label(obj.name())
            k = self._step_of.get(id(obj))
            return name if k is None else tr("{node} (step {k})", node=name, k=k)
        return tr("tensor")

    def highlighted(self, k):
        """The objects lit at step ``k``: the loss at step 0, else the node that runs and the
        inputs it sends gradients to."""
        if k == 0:
            return [self.loss]
        step = self.steps[k - 1]
        return [step.node] + [dest for dest, _ in step.sent]

    def leaf_grads(self, k):
        """{leaf name: sum of the gradients it received in steps 1 … k} (numpy arrays); at
        the last step, the ``.grad`` that ``loss.backward()`` gives each leaf."""
        out = {}
        for step in self.steps[:k]:
            for dest, value in step.sent:
                if any(dest is leaf for leaf in self._leaves):
                    name = self._name[id(dest)]
                    out[name] = value.copy() if name not in out else np.add(out[name], value)
        return out

    def _check_step(self, k):
        if not 0 <= k <= len(self.steps):
            raise ValueError(f"BackwardStepper: step {k} does not exist; the steps are 0 "
                             f"(before backward) to {len(self.steps)}.")

    # ------------------------------------------------------------------ drawing
    def _title(self, k):
        n = len(self.steps)
        if k == 0:
            loss = self._name[id(self.loss)]
            if self.seed.size == 1:
                return tr("Step 0 of {n}: before backward, {loss} receives {seed}", n=n,
                          loss=loss, seed=_fmt(self.seed, _DECIMALS))
            return tr("Step 0 of {n}: before backward, {loss} receives the given gradient",
                      n=n, loss=loss)
        return tr("Step {k} of {n}: {node} runs its VJP", k=k, n=n,
                  node=viz.op_label(self.steps[k - 1].node.name()))

    def _figure(self, state):
        k = state["step"]
        self._check_step(k)
        params = {self._name[id(obj)]: obj for obj in self._leaves + [self.loss]}
        fig = viz.draw(self.loss, params=params, show_data=self.show_data,
                       highlight=self.highlighted(k))
        _add_title(fig, self._title(k))
        return fig

    def _panel(self, state):
        k = state["step"]
        self._check_step(k)
        lines = [self._title(k)]
        if k == 0:
            lines.append(tr("the seed of backward, the gradient at {loss}: {seed}",
                            loss=self._name[id(self.loss)], seed=_fmt(self.seed, _DECIMALS)))
        else:
            step = self.steps[k - 1]
            received = ", ".join(_fmt(v, _DECIMALS) for v in step.received)
            lines.append(tr("receives: {values}", values=received))
            lines.append(tr("sends:"))
            for dest, value in step.sent:
                lines.append(f"  → {self.label(dest)}: {_fmt(value, _DECIMALS)}")
        grads = self.leaf_grads(k)
        if grads:
            lines.append(tr("received by the leaves so far:"))
            lines += [f"  {name}: {_fmt(v, _DECIMALS)}" for name, v in grads.items()]
        return lines

    def _static_state(self):
        """The book shows the last step: every VJP has run, the leaves hold their gradients."""
        return {**self._initial, "step": len(self.steps)}

    def _summary(self):
        return ntr("Backward stepper: {n} step (run the notebook to step through it)",
                   "Backward stepper: {n} steps (run the notebook to step through them)",
                   n=len(self.steps))
