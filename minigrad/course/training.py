"""Training, end to end, on either library: the helpers of the chapters on how
``loss.backward()`` reaches the parameters and on training.

Every function that builds tensors or models takes the library as its first argument,
``lib`` (``minigrad`` or ``torch``), and uses only what the two share, so that one loop trains
a minigrad model and its torch twin side by side::

    import minigrad, torch
    from minigrad.course.training import digits_data, make_mlp, train

    X, y, X_test, y_test = digits_data()
    torch.manual_seed(0)
    ref = make_mlp(torch, (64, 32, 10))
    mine = make_mlp(minigrad, (64, 32, 10))
    mine.load_state_dict(ref.state_dict())            # the same initial weights
    for lib, model in ((minigrad, mine), (torch, ref)):
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        losses = train(lib, model, opt, X, y, steps=100, batch_size=64)

The loop is the one every PyTorch program writes: forward, loss, ``zero_grad()``,
``backward()``, ``step()``. The minibatches are drawn by numpy from a seed, not by the
library, so both libraries see the same examples in the same order, and in float64 their
loss curves agree to rounding.

Also here: the tasks (the digits images bundled with scikit-learn, a synthetic sequence task
for the GPT), ``accuracy``, ``compare_parameters`` (a per-parameter table of max |Δ| between
two models), ``leaf_nodes`` (the ``AccumulateGrad`` nodes a loss reaches) and ``adamw_step``
(one AdamW update written out in numpy).
"""
import numpy as np

from .compare import CheckFailed, to_numpy, verdict
from .lang import ntr, pad, tr, width

__all__ = ["digits_data", "shifted_copy_task", "make_mlp", "minibatches", "train", "accuracy",
           "flat_parameters", "compare_parameters", "leaf_nodes", "adamw_step"]


# ------------------------------------------------------------------ tasks
def digits_data(test_fraction=0.25, seed=0):
    """The 8×8 handwritten digits bundled with scikit-learn (1797 images, no download), as
    ``(X_train, y_train, X_test, y_test)`` numpy arrays: X float64 of shape (n, 64) with the
    pixels scaled from 0…16 to 0…1, y int64 labels 0…9. The split is a seeded shuffle."""
    from sklearn.datasets import load_digits

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"digits_data: test_fraction must be between 0 and 1, got "
                         f"{test_fraction}.")
    digits = load_digits()
    X = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(test_fraction * len(X)))
    test, train_ = order[:n_test], order[n_test:]
    return X[train_], y[train_], X[test], y[test]


def shifted_copy_task(n, length, vocab_size, shift=2, seed=0, ignore_index=-100):
    """A sequence task a small causal transformer can learn: repeat what you saw ``shift``
    tokens ago.

    Returns ``(idx, targets)``, int64 arrays of shape (n, length): ``idx`` holds random tokens
    1 … vocab_size − 1, and ``targets[:, t] = idx[:, t − shift]``. The first ``shift``
    positions have nothing to repeat; their target is ``ignore_index``, which
    ``cross_entropy`` (hence the GPT's loss) skips. The model must *attend* to the token
    ``shift`` positions back: the token at position t alone says nothing about the answer."""
    if not 0 < shift < length:
        raise ValueError(f"shifted_copy_task: shift must be between 1 and length − 1 = "
                         f"{length - 1}, got {shift}.")
    if vocab_size < 3:
        raise ValueError(f"shifted_copy_task: vocab_size must be at least 3, got {vocab_size}.")
    rng = np.random.default_rng(seed)
    idx = rng.integers(1, vocab_size, size=(n, length)).astype(np.int64)
    targets = np.full_like(idx, ignore_index)
    targets[:, shift:] = idx[:, :-shift]
    return idx, targets


# ------------------------------------------------------------------ models and loops
def make_mlp(lib, sizes):
    """``lib.nn.Sequential(Linear, ReLU, Linear, …)`` through the given layer sizes, e.g.
    ``(64, 32, 10)``: a ReLU between two Linear layers, none after the last (it gives the
    logits)."""
    if len(sizes) < 2:
        raise ValueError(f"make_mlp: sizes needs at least an input and an output size, got "
                         f"{tuple(sizes)}.")
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        if k:
            layers.append(lib.nn.ReLU())
        layers.append(lib.nn.Linear(n_in, n_out))
    return lib.nn.Sequential(*layers)


def minibatches(n, batch_size, steps, seed=0):
    """``steps`` arrays of example indices: each epoch is a fresh seeded shuffle of
    ``range(n)`` cut into batches of ``batch_size`` (the last, shorter one is dropped).
    ``batch_size=None`` means the full batch, in order, at every step."""
    if batch_size is None:
        return [np.arange(n)] * steps
    if not 0 < batch_size <= n:
        raise ValueError(f"minibatches: batch_size must be between 1 and the {n} examples, "
                         f"got {batch_size}.")
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < steps:
        order = rng.permutation(n)
        out += [order[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]
    return out[:steps]


def _classifier_loss(lib):
    def loss_fn(model, x, y):
        return lib.nn.functional.cross_entropy(model(x), y)
    return loss_fn


def train(lib, model, optimizer, X, y, steps, batch_size=None, seed=0, loss_fn=None):
    """Train ``model`` for ``steps`` optimizer steps; return the loss of every step (numpy).

    Each step: a minibatch from :func:`minibatches` → ``loss_fn(model, x, y)`` (default:
    ``cross_entropy(model(x), y)``) → ``optimizer.zero_grad()`` → ``loss.backward()`` (fills
    every parameter's ``.grad``) → ``optimizer.step()`` (updates the parameters in place; the
    optimizer holds the model's own Parameter objects). ``X`` and ``y`` are numpy arrays;
    each batch becomes a ``lib.tensor``. The recorded loss is the one computed *before* the
    step's update."""
    loss_fn = loss_fn or _classifier_loss(lib)
    losses = []
    for idx in minibatches(len(X), batch_size, steps, seed):
        loss = loss_fn(model, lib.tensor(X[idx]), lib.tensor(y[idx]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses)


def accuracy(lib, model, X, y, ignore_index=-100):
    """The fraction of predictions ``argmax(model(X), -1)`` equal to ``y`` (positions whose
    target is ``ignore_index`` are not counted). Runs under ``no_grad``: no graph is kept."""
    with lib.no_grad():
        pred = to_numpy(model(lib.tensor(X)).argmax(-1))
    keep = y != ignore_index
    return float((pred[keep] == y[keep]).mean())


# ------------------------------------------------------------------ comparing two models
def flat_parameters(model, grad=False):
    """Every parameter (or its ``.grad``) of a minigrad or torch model, flattened and
    concatenated in ``named_parameters()`` order, as one float64 numpy array."""
    parts = []
    for name, p in model.named_parameters():
        t = p.grad if grad else p
        if t is None:
            raise ValueError(f"flat_parameters: {name} has no .grad (run backward first).")
        parts.append(to_numpy(t).ravel())
    return np.concatenate(parts)


def compare_parameters(model_a, model_b, grad=False, tol=1e-12):
    """Print one line per parameter — name, shape, max |Δ| between the two models'
    values (or ``.grad`` with ``grad=True``) — and return the largest difference.

    The models must have the same parameter names in the same order (a minigrad model and
    its torch twin do). Like :func:`minigrad.course.compare`, raises ``CheckFailed`` after
    printing when a difference exceeds ``tol`` or the names or shapes differ."""
    pa, pb = list(model_a.named_parameters()), list(model_b.named_parameters())
    if [n for n, _ in pa] != [n for n, _ in pb]:
        raise CheckFailed(f"compare_parameters: the parameter names differ: "
                          f"{[n for n, _ in pa]} vs {[n for n, _ in pb]}")
    what = ".grad" if grad else tr("value")
    rows = []
    for (name, a), (_, b) in zip(pa, pb):
        if grad and (a.grad is None or b.grad is None):
            raise CheckFailed(f"compare_parameters: {name} has no .grad in one of the models")
        x, y = to_numpy(a.grad if grad else a), to_numpy(b.grad if grad else b)
        if x.shape != y.shape:
            raise CheckFailed(f"compare_parameters: {name} has shape {x.shape} vs {y.shape}")
        rows.append((name, str(x.shape), float(np.max(np.abs(x - y))) if x.size else 0.0))
    head_name, head_shape = tr("parameter"), tr("shape")
    wn = max(width(head_name), *(width(r[0]) for r in rows))
    ws = max(width(head_shape), *(width(r[1]) for r in rows))
    print(f"{pad(head_name, wn)}  {pad(head_shape, ws)}  " + tr("max |Δ| of {what}", what=what))
    for name, shape, diff in rows:
        print(f"{pad(name, wn)}  {pad(shape, ws)}  {verdict(diff, tol)}")
    worst = max(r[2] for r in rows)
    print(ntr("{n} parameter, largest max |Δ| = {worst}", "{n} parameters, largest max |Δ| = "
              "{worst}", n=len(rows), worst=verdict(worst, tol)))
    if worst > tol:
        raise CheckFailed(f"compare_parameters: max |Δ| = {worst:.3e} exceeds {tol:.0e}")
    return worst


# ------------------------------------------------------------------ the graph's leaves
def leaf_nodes(tensor):
    """The ``AccumulateGrad`` nodes reached from ``tensor.grad_fn`` by following
    ``next_functions`` (minigrad or torch), in the order first met, breadth first.

    Each one holds its leaf in ``.variable``: the very Parameter object whose ``.grad`` it
    fills. This is how a scalar loss "knows" the parameters it depends on."""
    root = getattr(tensor, "grad_fn", None)
    if root is None:
        return []
    seen, queue, leaves = {root}, [root], []
    for fn in queue:                     # the queue grows while we walk it: breadth first
        for parent, _ in fn.next_functions:
            if parent is None or parent in seen:
                continue
            seen.add(parent)
            (leaves if hasattr(parent, "variable") else queue).append(parent)
    return leaves


# ------------------------------------------------------------------ AdamW by hand
def adamw_step(theta, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
               weight_decay=1e-2):
    r"""One AdamW update of the numpy array ``theta`` at step ``t`` (1, 2, …); returns the
    new ``(theta, m, v)`` and leaves the arguments unchanged. ``m`` and ``v`` start at zero.

        θ ← θ − γλθ                          decoupled weight decay (on θ, not on g)
        m ← β₁m + (1 − β₁)g                  running mean of the gradient
        v ← β₂v + (1 − β₂)g²                 running mean of its square
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ) bias correction (m, v started at 0)
        θ ← θ − γ m̂ / (√v̂ + ε)

    (γ = ``lr``, λ = ``weight_decay``), which is ``torch.optim.AdamW``'s algorithm."""
    if t < 1:
        raise ValueError(f"adamw_step: the step count t starts at 1, got {t}.")
    beta1, beta2 = betas
    theta = theta * (1 - lr * weight_decay)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, m, v
