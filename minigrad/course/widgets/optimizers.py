"""A playground for SGD, Adam and AdamW: train a tiny MLP live and compare the loss curves.

::

    from minigrad.course.widgets import OptimizerPlayground
    OptimizerPlayground()

The task is fixed and seeded: two interleaved half-moons of points in the plane, two classes,
and an MLP 2 → hidden → 2 (ReLU in between) trained full-batch with cross-entropy. Every run
starts from the same initial weights, so two curves differ only by the optimizer and its
settings. "train" runs the chosen optimizer for the chosen number of steps; the curve is
redrawn every few steps, a progress bar counts the steps, and the earlier curves stay, faint,
for comparison. Nothing is printed.

:func:`train_curve` is the training itself, written once for either library (``minigrad`` or
``torch``) with only what they share, so the test can check that minigrad's curve is torch's.
"""
import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

import minigrad as mg

from ..lang import ntr, tr
from ._common import CourseWidget

__all__ = ["OptimizerPlayground", "moons", "initial_weights", "train_curve", "OPTIMIZERS"]

OPTIMIZERS = ("SGD", "Adam", "AdamW")
_KEPT = 6                   # how many earlier curves stay on the plot


def moons(n=64, seed=0):
    """Two interleaved half circles with noise: X (n, 2) float64, y (n,) int64 labels 0/1."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) >= n // 2).astype(np.int64)
    angle = rng.uniform(0.0, np.pi, n)
    x = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x[y == 1] = np.stack([1.0 - np.cos(angle[y == 1]), 0.5 - np.sin(angle[y == 1])], axis=1)
    return x + 0.1 * rng.standard_normal((n, 2)), y


def initial_weights(hidden=16, seed=0):
    """The MLP's initial weights, seeded: {"W1": (2, hidden), "b1", "W2": (hidden, 2), "b2"}."""
    rng = np.random.default_rng(seed + 1)
    return {"W1": rng.standard_normal((2, hidden)) / np.sqrt(2),
            "b1": 0.1 * rng.standard_normal(hidden),
            "W2": rng.standard_normal((hidden, 2)) / np.sqrt(hidden),
            "b2": 0.1 * rng.standard_normal(2)}


def _check_settings(optimizer, lr, weight_decay, steps):
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"OptimizerPlayground: optimizer must be one of {OPTIMIZERS}, got "
                         f"{optimizer!r}.")
    if not (lr > 0 and np.isfinite(lr)):
        raise ValueError(f"OptimizerPlayground: the learning rate must be a positive number, "
                         f"got {lr!r}.")
    if not (weight_decay >= 0 and np.isfinite(weight_decay)):
        raise ValueError(f"OptimizerPlayground: the weight decay must be 0 or more, got "
                         f"{weight_decay!r}.")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"OptimizerPlayground: steps must be a positive whole number, got "
                         f"{steps!r}.")


def train_curve(lib, optimizer, lr, weight_decay, steps, hidden=16, seed=0, on_step=None):
    """Train the MLP with ``lib`` (minigrad or torch) in float64; return the loss of every
    step (computed before that step's update) as a numpy array. ``on_step(k, losses)`` is
    called after step k (1 … steps)."""
    _check_settings(optimizer, lr, weight_decay, steps)
    x_np, y_np = moons(seed=seed)
    params = {k: lib.nn.Parameter(lib.tensor(v, dtype=lib.float64))
              for k, v in initial_weights(hidden, seed).items()}
    opt = getattr(lib.optim, optimizer)(list(params.values()), lr=lr,
                                        weight_decay=weight_decay)
    x, y = lib.tensor(x_np, dtype=lib.float64), lib.tensor(y_np)
    losses = []
    for k in range(1, steps + 1):
        hidden_layer = (x @ params["W1"] + params["b1"]).relu()
        loss = lib.nn.functional.cross_entropy(hidden_layer @ params["W2"] + params["b2"], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(k, losses)
    return np.array(losses)


def _run_label(optimizer, lr, weight_decay):
    """The legend of a run, in the optimizers' own argument names (code, not words)."""
    return f"{optimizer}, lr={lr:.3g}, weight_decay={weight_decay:.3g}"


class OptimizerPlayground(CourseWidget):
    """Pick SGD, Adam or AdamW, a learning rate (log scale) and a weight decay, press "train".

    Controls: ``self.optimizer``, ``self.lr``, ``self.weight_decay``, ``self.steps``,
    ``self.button`` (``self.button.click()`` trains from Python too) and ``self.progress``.
    ``self.runs`` is the list of (label, losses) trained so far. With ``pretrain`` the
    default settings are trained once at creation, so the first picture has a curve."""

    def __init__(self, optimizer="Adam", lr=0.01, weight_decay=0.0, steps=100, hidden=16,
                 seed=0, pretrain=True, redraw_every=10):
        _check_settings(optimizer, lr, weight_decay, steps)
        self.hidden, self.seed, self.redraw_every = hidden, seed, max(int(redraw_every), 1)
        self.runs = []
        self.optimizer = widgets.Dropdown(options=list(OPTIMIZERS), value=optimizer,
                                          description=tr("optimizer"))
        self.lr = widgets.FloatLogSlider(value=lr, base=10, min=-4, max=0, step=0.25,
                                         description=tr("learning rate"), readout_format=".2g")
        self.weight_decay = widgets.FloatSlider(value=weight_decay, min=0.0, max=0.5,
                                                step=0.01, description=tr("weight decay"))
        self.steps = widgets.IntSlider(value=steps, min=10, max=max(500, steps), step=10,
                                       description=tr("steps"))
        self.button = widgets.Button(description=tr("train"), button_style="primary")
        self.progress = widgets.IntProgress(value=0, min=0, max=steps,
                                            description=tr("training"))
        self.button.on_click(lambda _: self.train())
        if pretrain:
            self._train_quietly()
        self._finish([widgets.HBox([self.optimizer, self.lr]),
                      widgets.HBox([self.weight_decay, self.steps]),
                      widgets.HBox([self.button, self.progress])])

    def _settings(self):
        return self.optimizer.value, self.lr.value, self.weight_decay.value, self.steps.value

    def _state(self):
        return {"runs": tuple((label, tuple(losses)) for label, losses in self.runs)}

    # ------------------------------------------------------------------ training
    def _train_quietly(self):
        optimizer, lr, wd, steps = self._settings()
        losses = train_curve(mg, optimizer, lr, wd, steps, self.hidden, self.seed)
        self.runs.append((_run_label(optimizer, lr, wd), losses))
        self.progress.max, self.progress.value = steps, steps

    def train(self):
        """Train with the current settings, showing the curve as it grows; return the losses."""
        optimizer, lr, wd, steps = self._settings()
        self.progress.max, self.progress.value = steps, 0
        self.runs.append((_run_label(optimizer, lr, wd), np.array([])))

        def on_step(k, losses):
            self.progress.value = k
            if k % self.redraw_every == 0 or k == steps:
                self.runs[-1] = (self.runs[-1][0], np.array(losses))
                self._refresh()

        losses = train_curve(mg, optimizer, lr, wd, steps, self.hidden, self.seed, on_step)
        self.runs = self.runs[-(_KEPT + 1):]
        self._refresh()
        return losses

    # ------------------------------------------------------------------ drawing
    def _figure(self, state):
        fig = Figure(figsize=(7.0, 3.6))
        ax = fig.add_subplot(1, 1, 1)
        runs = state["runs"]
        for k, (label, losses) in enumerate(runs):
            last = k == len(runs) - 1
            ax.plot(np.arange(1, len(losses) + 1), losses, lw=2.2 if last else 1.0,
                    alpha=1.0 if last else 0.35, label=label)
        ax.set_yscale("log")
        plain = FormatStrFormatter("%.2g")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.tick_params(axis="y", which="both", labelsize=7)
        ax.set_xlabel(tr("training step"))
        ax.set_ylabel(tr("cross-entropy loss"))
        ax.set_title(tr("Two moons, MLP 2 → {hidden} → 2, full batch", hidden=self.hidden),
                     fontsize=10)
        if runs:
            ax.legend(fontsize=7, loc="upper right")
        else:
            ax.text(0.5, 0.5, tr("press train"), ha="center", va="center",
                    transform=ax.transAxes)
        fig.subplots_adjust(left=0.12, right=0.97, bottom=0.14, top=0.9)
        return fig

    def _panel(self, state):
        lines = []
        for label, losses in state["runs"]:
            if losses:
                lines.append(ntr("{run}: loss {first:.4f} → {last:.4f} after {n} step",
                                 "{run}: loss {first:.4f} → {last:.4f} after {n} steps",
                                 n=len(losses), run=label, first=losses[0], last=losses[-1]))
        return lines or [tr("no run yet: press train")]

    def _summary(self):
        return tr("Optimizer playground: SGD, Adam and AdamW on a tiny MLP (run the notebook "
                  "to train)")
