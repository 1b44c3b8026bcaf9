"""Tasks of chapter 09, training: one step of the loop (``zero_grad`` in the right place),
SGD with momentum and AdamW written out in numpy, and an AdamW optimizer of one's own.

The checkers train small MLPs twice, once with the learner's code and once with the
reference (``torch.optim`` on a torch twin with the same initial weights, or the loop of
``minigrad.course.training``), and tell the usual mistakes apart by also running them:
no ``zero_grad`` (gradients accumulate), ``zero_grad`` between ``backward`` and ``step``
(nothing moves), Adam's L2 decay instead of AdamW's decoupled one, a forgotten bias
correction, a parameter rebound instead of updated in place.
"""
import numpy as np

from ..lang import tr
from .core import Misconception, as_numpy, assert_close_or_explain, seeded, seeded_torch, task

__all__ = ["WRONG"]

_SIZES = (5, 4, 3)


# --------------------------------------------------------------------------- set-up
def _twins(seed):
    """A minigrad MLP and its torch twin with the same initial weights (float64)."""
    import minigrad as mg
    import torch

    from ..training import make_mlp
    seeded_torch(seed)
    ref = make_mlp(torch, _SIZES).double()
    mine = make_mlp(mg, _SIZES)
    mine.load_state_dict(ref.state_dict())
    for p in mine.parameters():
        p._data = p._data.astype(np.float64)
    return mine, ref


def _batches(seed, steps=3, size=4):
    rng = seeded(seed)
    return [(rng.standard_normal((size, _SIZES[0])), rng.integers(0, _SIZES[-1], size))
            for _ in range(steps)]


def _loss_fn(lib):
    def loss_fn(model, x, y):
        return lib.nn.functional.cross_entropy(model(x), y)
    return loss_fn


def _flat(model):
    return np.concatenate([as_numpy(p.detach()).ravel() for p in model.parameters()])


def _reference_run(order, seed, batches, lr=0.5):
    """Train a minigrad twin with plain SGD, the three calls in ``order`` ("zbs" = zero_grad,
    backward, step; "bs" = no zero_grad; "bzs" = zero_grad between backward and step).
    Returns (losses, flat parameters after every step)."""
    import minigrad as mg
    model, _ = _twins(seed)
    opt = mg.optim.SGD(model.parameters(), lr=lr)
    loss_fn = _loss_fn(mg)
    losses, params = [], []
    for x, y in batches:
        loss = loss_fn(model, mg.tensor(x), mg.tensor(y))
        for c in order:
            {"z": opt.zero_grad, "b": loss.backward, "s": opt.step}[c]()
        losses.append(loss.item())
        params.append(_flat(model))
    return losses, params


# --------------------------------------------------------------------------- 09.1
@task("09.1", title="One training step",
      goal="Write train_step(model, optimizer, loss_fn, x, y): forward, zero_grad, backward, "
           "step; return the loss as a number",
      difficulty=1, minutes=5)
def _train_step(train_step):
    import minigrad as mg
    import torch
    seed = 91
    batches = _batches(seed)
    good_losses, good = _reference_run("zbs", seed, batches)
    _, accumulated = _reference_run("bs", seed, batches)
    for lib in (mg, torch):
        model = _twins(seed)[0 if lib is mg else 1]
        opt = lib.optim.SGD(model.parameters(), lr=0.5)
        for k, (x, y) in enumerate(batches):
            before = _flat(model)
            loss = train_step(model, opt, _loss_fn(lib), lib.tensor(x), lib.tensor(y))
            if loss is None:
                raise Misconception(tr("train_step returned None — did you forget to return "
                                       "loss.item()?"))
            if hasattr(loss, "detach"):
                raise Misconception(tr("train_step returned a tensor: return loss.item(), a "
                                       "plain number (a tensor that stays in a list of losses "
                                       "keeps its whole graph alive)"))
            after = _flat(model)
            if np.array_equal(before, after):
                raise Misconception(tr(
                    "step {step} ({lib}): the parameters did not move — step() saw no "
                    "gradient. The order is optimizer.zero_grad(), loss.backward(), "
                    "optimizer.step(): a zero_grad() between backward() and step() erases the "
                    "gradients step() needs", step=k + 1, lib=lib.__name__))
            if k and np.allclose(after, accumulated[k], rtol=1e-10, atol=1e-12) and \
                    not np.allclose(after, good[k], rtol=1e-10, atol=1e-12):
                raise Misconception(tr(
                    "step {step} ({lib}): you never cleared .grad: gradients from earlier "
                    "steps accumulate (backward adds into .grad) — call optimizer.zero_grad() "
                    "once per step, before loss.backward()", step=k + 1, lib=lib.__name__))
            assert_close_or_explain(tr("loss of step {step} ({lib})", step=k + 1,
                                       lib=lib.__name__), float(loss),
                                    good_losses[k], kind=None,
                                    formula=tr("return loss_fn(model, x, y).item(), computed "
                                               "before the update"))
            assert_close_or_explain(tr("parameters after step {step} ({lib})", step=k + 1,
                                       lib=lib.__name__), after,
                                    good[k], kind=None, rtol=1e-9, atol=1e-12,
                                    formula=tr("one step of SGD: θ ← θ − lr·∂L/∂θ"))


# --------------------------------------------------------------------------- 09.2
@task("09.2", title="SGD with momentum, by hand",
      goal="Write one step of torch's SGD with momentum in numpy: buf ← μ·buf + g, "
           "θ ← θ − γ·buf",
      difficulty=1, minutes=10)
def _sgd_momentum(sgd_momentum_step):
    import torch
    rng = seeded(92)
    for lr, mu in ((0.1, 0.9), (0.05, 0.5)):
        theta0 = rng.standard_normal((3, 4))
        p = torch.nn.Parameter(torch.tensor(theta0))
        opt = torch.optim.SGD([p], lr=lr, momentum=mu)
        theta, buf = theta0.copy(), None
        damped_theta, damped_buf = theta0.copy(), np.zeros_like(theta0)
        for t in range(1, 6):
            g = rng.standard_normal(theta0.shape)
            p.grad = torch.tensor(g)
            opt.step()
            out = sgd_momentum_step(theta.copy(), g.copy(),
                                    None if buf is None else buf.copy(), lr, mu)
            if out is None:
                raise Misconception(tr("sgd_momentum_step returned None — did you forget to "
                                       "return (theta, buf)?"))
            if not isinstance(out, tuple) or len(out) != 2:
                raise Misconception(tr("sgd_momentum_step must return the pair (theta, buf)"))
            buf_in = buf
            theta, buf = out
            damped_buf = mu * damped_buf + (1 - mu) * g
            damped_theta = damped_theta - lr * damped_buf
            averaged = buf_in is not None and buf is not None and \
                np.shape(as_numpy(buf)) == g.shape and \
                np.allclose(as_numpy(buf), mu * as_numpy(buf_in) + (1 - mu) * g, atol=1e-12)
            if averaged or np.allclose(as_numpy(theta), damped_theta, atol=1e-12):
                raise Misconception(tr(
                    "torch's momentum adds the whole gradient, buf ← μ·buf + g; with "
                    "(1 − μ)·g the buffer is an average (that is dampening), and every step "
                    "is (1 − μ) times too small"))
            assert_close_or_explain(tr("{name} after step {step}", name="buf", step=t), buf,
                                    opt.state[p]["momentum_buffer"], kind=None,
                                    formula=tr("buf = g at the first step, then buf ← μ·buf "
                                               "+ g"))
            assert_close_or_explain(tr("{name} after step {step}", name="θ", step=t), theta, p,
                                    kind=None, formula="θ ← θ − γ·buf")
            theta, buf = as_numpy(theta), as_numpy(buf)


# --------------------------------------------------------------------------- 09.3
def _adamw_variant(theta, g, m, v, t, lr, betas, eps, wd, kind):
    b1, b2 = betas
    if kind == "l2":
        g = g + wd * theta
    elif kind == "no_lr":
        theta = theta * (1 - wd)
    else:
        theta = theta * (1 - lr * wd)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g ** 2
    if kind == "no_bias":
        m_hat, v_hat = m, v
    else:
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


_ADAMW_MISTAKES = ("no_bias", "l2", "no_lr")


def _adamw_mistake(kind):
    """What is wrong with the AdamW variant ``kind`` (looked up when a check runs)."""
    if kind == "no_bias":
        return tr("did you forget the bias correction? m and v start at 0, so they are divided "
                  "by 1 − β₁ᵗ and 1 − β₂ᵗ: m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)")
    if kind == "l2":
        return tr("you added λθ to the gradient: that is Adam's L2 penalty. AdamW decouples the "
                  "weight decay and applies it to θ itself, θ ← θ − γλθ, before the Adam "
                  "update")
    return tr("the weight decay is scaled by the learning rate too: θ ← θ − γλθ = θ·(1 − γλ), "
              "not θ·(1 − λ)")


@task("09.3", title="AdamW, one step by hand",
      goal="Write one AdamW update in numpy: decoupled weight decay, both moments, bias "
           "correction",
      difficulty=2, minutes=15)
def _adamw_step(adamw_step):
    import torch
    rng = seeded(93)
    for lr, betas, eps, wd in ((0.1, (0.9, 0.999), 1e-8, 0.1), (0.01, (0.8, 0.99), 1e-6, 0.5)):
        theta0 = rng.standard_normal((2, 3))
        p = torch.nn.Parameter(torch.tensor(theta0))
        opt = torch.optim.AdamW([p], lr=lr, betas=betas, eps=eps, weight_decay=wd)
        theta, m, v = theta0.copy(), np.zeros_like(theta0), np.zeros_like(theta0)
        variants = {k: (theta0.copy(), np.zeros_like(theta0), np.zeros_like(theta0))
                    for k in _ADAMW_MISTAKES}
        for t in range(1, 6):
            g = rng.standard_normal(theta0.shape)
            p.grad = torch.tensor(g)
            opt.step()
            out = adamw_step(theta.copy(), g.copy(), m.copy(), v.copy(), t, lr=lr, betas=betas,
                             eps=eps, weight_decay=wd)
            if out is None:
                raise Misconception(tr("adamw_step returned None — did you forget to return "
                                       "(theta, m, v)?"))
            if not isinstance(out, tuple) or len(out) != 3:
                raise Misconception(tr("adamw_step must return the triple (theta, m, v)"))
            theta, m, v = out
            for kind, state in variants.items():
                variants[kind] = _adamw_variant(*state[:1], g, *state[1:], t, lr, betas, eps,
                                                wd, kind)
                if np.allclose(as_numpy(theta), variants[kind][0], rtol=1e-10, atol=1e-13):
                    raise Misconception(tr("step {step}: {mistake}", step=t,
                                           mistake=_adamw_mistake(kind)))
            st = opt.state[p]
            assert_close_or_explain(tr("{name} after step {step}", name="m", step=t), m,
                                    st["exp_avg"], kind=None, formula="m ← β₁·m + (1 − β₁)·g")
            assert_close_or_explain(tr("{name} after step {step}", name="v", step=t), v,
                                    st["exp_avg_sq"], kind=None,
                                    formula=tr("v ← β₂·v + (1 − β₂)·g² (elementwise)"))
            assert_close_or_explain(tr("{name} after step {step}", name="θ", step=t), theta, p,
                                    kind=None, formula="θ ← θ(1 − γλ) − γ·m̂/(√v̂ + ε)")
            theta, m, v = as_numpy(theta), as_numpy(m), as_numpy(v)


# --------------------------------------------------------------------------- 09.4
@task("09.4", title="An AdamW optimizer",
      goal="Write class AdamW with zero_grad() and step() that trains a minigrad model as "
           "torch.optim.AdamW does",
      difficulty=3, minutes=20)
def _adamw_class(AdamW):
    import minigrad as mg
    import torch
    seed = 94
    batches = _batches(seed, steps=4)
    mine, ref = _twins(seed)
    unused = mg.nn.Parameter(mg.tensor(np.ones(3)))          # never gets a gradient
    unused_t = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    # a parameter of the same shape as the first bias, with gradients of its own: state
    # kept per shape (or per anything but the parameter) mixes the two
    start = np.linspace(-1.0, 1.0, _SIZES[1])
    twin = mg.nn.Parameter(mg.tensor(start))
    twin_t = torch.nn.Parameter(torch.tensor(start))
    opt = AdamW(list(mine.parameters()) + [unused, twin], lr=0.05, weight_decay=0.1)
    opt_t = torch.optim.AdamW(list(ref.parameters()) + [unused_t, twin_t], lr=0.05,
                              weight_decay=0.1)
    for k, (x, y) in enumerate(batches):
        for lib, model, o, tw in ((mg, mine, opt, twin), (torch, ref, opt_t, twin_t)):
            loss = _loss_fn(lib)(model, lib.tensor(x), lib.tensor(y)) + (tw * tw * tw).sum()
            o.zero_grad()
            if lib is mg and any(p.grad is not None and np.any(as_numpy(p.grad))
                                 for p in mine.parameters()):
                raise Misconception(tr("zero_grad() left the gradients of the previous step "
                                       "in .grad: set every parameter's .grad to None "
                                       "(backward adds into .grad, it does not overwrite it)"))
            loss.backward()
            before = _flat(model)
            o.step()
        after = _flat(mine)
        if np.array_equal(before, after):
            raise Misconception(tr(
                "step {step}: step() did not change the parameters the model holds. "
                "`p = new_value` only rebinds a local name; write into the parameter itself, "
                "p.data[...] = new_value (the optimizer holds the model's own Parameter "
                "objects)", step=k + 1))
        for (name, p), pt in zip(mine.named_parameters(), ref.parameters()):
            assert_close_or_explain(tr("{name} after step {step}", name=name, step=k + 1), p,
                                    pt, kind=None, rtol=1e-9, atol=1e-12,
                                    formula=tr("every parameter gets its own m, v and step "
                                               "count t"))
        assert_close_or_explain(tr("second parameter of shape {shape} after step {step}",
                                   shape=tuple(twin.shape), step=k + 1), twin, twin_t,
                                kind=None, rtol=1e-9, atol=1e-12,
                                formula=tr("every parameter gets its own m, v and step count "
                                           "t — keep the state per parameter object, not per "
                                           "shape"))
        assert_close_or_explain(tr("unused parameter (its .grad stays None)"), unused, unused_t,
                                kind=None,
                                formula=tr("a parameter whose .grad is None is skipped: no "
                                           "gradient, no update (not even the weight decay)"))


# --------------------------------------------------------------------------- wrong answers
def _step_no_zero_grad(model, optimizer, loss_fn, x, y):
    loss = loss_fn(model, x, y)
    loss.backward()
    optimizer.step()
    return loss.item()


def _step_zero_between(model, optimizer, loss_fn, x, y):
    loss = loss_fn(model, x, y)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def _step_returns_tensor(model, optimizer, loss_fn, x, y):
    loss = loss_fn(model, x, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def _momentum_dampened(theta, grad, buf, lr, momentum):
    buf = np.zeros_like(grad) if buf is None else buf
    buf = momentum * buf + (1 - momentum) * grad
    return theta - lr * buf, buf


def _momentum_dampened_after_first(theta, grad, buf, lr, momentum):
    buf = grad.copy() if buf is None else momentum * buf + (1 - momentum) * grad
    return theta - lr * buf, buf


def _momentum_no_return(theta, grad, buf, lr, momentum):
    buf = grad if buf is None else momentum * buf + grad
    theta = theta - lr * buf


def _adamw_wrong(kind):
    def adamw_step(theta, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=1e-2):
        return _adamw_variant(theta, grad, m, v, t, lr, betas, eps, weight_decay, kind)
    return adamw_step


def _adamw_eps_inside(theta, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                      weight_decay=1e-2):
    b1, b2 = betas
    theta = theta * (1 - lr * weight_decay)
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad ** 2
    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return theta - lr * m_hat / np.sqrt(v_hat + eps), m, v


class _AdamWBase:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        self.params = list(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.state = {}

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def _new_values(self):
        for p in self.params:
            if p.grad is None:
                continue
            m, v, t = self.state.get(p, (np.zeros_like(p._data), np.zeros_like(p._data), 0))
            theta, m, v = _adamw_variant(p._data, p.grad._data, m, v, t + 1, self.lr,
                                         self.betas, self.eps, self.weight_decay, "right")
            self.state[p] = (m, v, t + 1)
            yield p, theta


class _AdamWRebinds(_AdamWBase):
    def step(self):
        for p, theta in self._new_values():
            p = theta                                          # noqa: F841  (the mistake)


class _AdamWNoZeroGrad(_AdamWBase):
    def zero_grad(self):
        pass

    def step(self):
        for p, theta in self._new_values():
            p._data[...] = theta


class _AdamWStatePerShape(_AdamWBase):
    def step(self):
        for p in self.params:
            if p.grad is None:
                continue
            key = tuple(p.shape)
            m, v, t = self.state.get(key, (np.zeros_like(p._data), np.zeros_like(p._data), 0))
            theta, m, v = _adamw_variant(p._data, p.grad._data, m, v, t + 1, self.lr,
                                         self.betas, self.eps, self.weight_decay, "right")
            self.state[key] = (m, v, t + 1)
            p._data[...] = theta


class _AdamWDecaysAll(_AdamWBase):
    def step(self):
        for p, theta in self._new_values():
            p._data[...] = theta
        for p in self.params:
            if p.grad is None:                                 # decayed although unused
                p._data[...] = p._data * (1 - self.lr * self.weight_decay)


WRONG = {
    "09.1": [(_step_no_zero_grad, "you never cleared .grad: gradients from earlier steps "
                                  "accumulate"),
             (_step_zero_between, "the parameters did not move"),
             (_step_returns_tensor, "return loss.item()")],
    "09.2": [(_momentum_dampened, "that is dampening"),
             (_momentum_dampened_after_first, "that is dampening"),
             (_momentum_no_return, "did you forget to return")],
    "09.3": [(_adamw_wrong("no_bias"), "bias correction"),
             (_adamw_wrong("l2"), "Adam's L2 penalty"),
             (_adamw_wrong("no_lr"), "scaled by the learning rate"),
             (_adamw_eps_inside, "inside or outside a square root")],
    "09.4": [(_AdamWRebinds, "only rebinds a local name"),
             (_AdamWNoZeroGrad, "zero_grad() left the gradients"),
             (_AdamWDecaysAll, "a parameter whose .grad is None is skipped"),
             (_AdamWStatePerShape, "not per shape")],
}
