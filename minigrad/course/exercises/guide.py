"""What a learner reads before and while solving a task: its aim (what to compute and why,
without the formula), the hints ``hint("04.1")`` reveals one at a time (first a direction,
then the rule to follow; the last hint is always the task's registered goal, which states the
formula), the tasks it builds on and how central it is to the course.

Every text is a ``tr("…")`` literal, looked up when it is asked for (in ``lang``, or the
current language), so the tables of every language hold it.
"""
from dataclasses import dataclass

from ..lang import tr

__all__ = ["Guide", "guide", "IMPORTANCE", "REQUIRES"]


@dataclass(frozen=True)
class Guide:
    aim: str
    hints: tuple


IMPORTANCE = {
    "01.1": 3, "01.2": 2, "01.3": 3, "01.4": 2, "01.5": 3,
    "02.1": 2, "02.2": 3, "02.3": 2, "02.4": 2,
    "03.1": 2, "03.2": 1, "03.3": 2, "03.4": 3,
    "04.1": 2, "04.2": 3, "04.3": 3, "04.4": 2,
    "05.1": 3, "05.2": 3, "05.3": 2, "05.4": 1, "05.5": 2,
    "06.1": 1, "06.2": 2, "06.3": 3, "06.4": 2, "06.5": 3,
    "07.1": 3, "07.2": 1, "07.3": 3, "07.4": 2,
    "08.1": 1, "08.2": 2, "08.3": 2, "08.4": 2,
    "09.1": 3, "09.2": 2, "09.3": 2, "09.4": 2,
    "10.1": 2, "10.2": 2, "10.3": 2, "10.4": 2,
}
"""How central a task is to the course's one idea, 1 to 3 (● shown per point)."""

REQUIRES = {
    "01.3": ("01.2",), "01.4": ("01.1",), "01.5": ("01.4",),
    "02.3": ("02.2",), "02.4": ("02.1",),
    "03.4": ("02.2",),
    "04.3": ("04.2",), "04.4": ("04.3",),
    "05.2": ("05.1",), "05.5": ("05.4",),
    "06.3": ("06.2",), "06.4": ("02.4",), "06.5": ("05.2", "05.3", "06.3"),
    "07.3": ("05.1",), "07.4": ("07.1", "07.3", "06.4"),
    "08.2": ("08.1",), "08.3": ("08.2",), "08.4": ("08.3",),
    "09.4": ("09.3",),
    "10.2": ("01.5",), "10.3": ("10.2",), "10.4": ("10.3",),
}
"""The tasks whose answer a task uses or builds on."""


def guide(task_id, lang=None):
    """The :class:`Guide` of ``task_id`` in ``lang`` (default: the current language)."""
    return Guide(*_texts(task_id, lang))


def _texts(task_id, lang):          # noqa: C901 (one entry per task, on purpose)
    t = task_id
    if t == "01.1":
        return (tr("Make + and · send their output's gradient to both inputs, so that a "
                   "Value used several times collects every contribution", lang),
                (tr("Each operation only needs its local derivative: how much the output "
                    "moves when one input moves, the other held fixed.", lang),))
    if t == "01.2":
        return (tr("Put a graph's nodes in an order where every node comes after its inputs "
                   "— the order backward walks in reverse — and let it work on graphs "
                   "thousands of nodes deep", lang),
                (tr("A node may be written down only once all of its inputs are; remember "
                    "the nodes already visited so a shared node appears once.", lang),))
    if t == "01.3":
        return (tr("Run the whole backward pass of a scalar graph: where it starts, and why "
                   "the order of the walk matters", lang),
                (tr("A node may pass its gradient on only when every node that uses it has "
                    "added its contribution — think about which end of the order that is.",
                    lang),))
    if t == "01.4":
        return (tr("Give Value a tanh whose backward uses what the forward pass already "
                   "computed", lang),
                (tr("Differentiate tanh and write the result in terms of tanh itself: the "
                    "output is already known when backward runs.", lang),))
    if t == "01.5":
        return (tr("Write the same rule for whole tensors, as an mg.autograd.Function that "
                   "saves just what its backward reads", lang),
                (tr("Elementwise functions have elementwise VJPs: the gradient has x's shape "
                    "and each entry only depends on its own position.", lang),))
    if t == "02.1":
        return (tr("Send the gradient of a permuted tensor back to the original layout of "
                   "its axes", lang),
                (tr("Axis k of the output is axis π[k] of the input: the gradient must be "
                    "moved back by the permutation that undoes π.", lang),))
    if t == "02.2":
        return (tr("Return a broadcast variable the sum of the gradients of all the places "
                   "its values were copied to", lang),
                (tr("Broadcasting copies a value along new leading dimensions and along "
                    "dimensions of size 1; each copy sends back a gradient.", lang),
                 tr("First sum over the dimensions broadcasting prepended, then over those "
                    "where the variable has size 1, keeping them.", lang)))
    if t == "02.3":
        return (tr("Write the backward of a division whose operands may have different "
                   "shapes", lang),
                (tr("Differentiate a/b by a and by b as for numbers, then give each gradient "
                    "its variable's shape.", lang),))
    if t == "02.4":
        return (tr("Send the heads' gradient back to the (B, T, d) layout the split started "
                   "from", lang),
                (tr("The backward of a chain of reshapes and transposes runs the inverse "
                    "steps in the reverse order.", lang),))
    if t == "03.1":
        return (tr("Let the gradient through ReLU where the input was positive", lang),
                (tr("The derivative of max(x, 0) is 1 on one side of 0 and 0 on the other.",
                    lang),))
    if t == "03.2":
        return (tr("Write the backward of the natural logarithm", lang),
                (tr("d/dx log x is a function of the saved input alone.", lang),))
    if t == "03.3":
        return (tr("Write sigmoid's backward from its saved output, without recomputing an "
                   "exponential", lang),
                (tr("Write σ'(x) as a function of σ(x): the output is saved, the input need "
                    "not be.", lang),))
    if t == "03.4":
        return (tr("Give a linear layer with a batch its three gradients, each with its "
                   "variable's shape", lang),
                (tr("Let the shapes lead: X̄ has X's shape, W̄ has W's, and the bias was "
                    "broadcast over the batch.", lang),))
    if t == "04.1":
        return (tr("Find, from a loss alone, every tensor an optimizer would update — the "
                   "graph itself says which ones", lang),
                (tr("Start at loss.grad_fn and follow next_functions; the leaves are where "
                    "the walk stops.", lang),
                 tr("Use a stack and a set of visited nodes, and return each leaf's "
                    ".variable, the very object.", lang)))
    if t == "04.2":
        return (tr("Update the model's own parameters, the objects it holds, by one step "
                   "down the gradient", lang),
                (tr("An update must change the tensor the model holds, not make a new one "
                    "the model never sees.", lang),))
    if t == "04.3":
        return (tr("Train a model for a few steps, on minigrad and on torch, with the "
                   "gradients of each step its own", lang),
                (tr("backward() adds into .grad: decide where in the loop the old gradients "
                    "must be cleared.", lang),))
    if t == "04.4":
        return (tr("Take one optimizer step from several micro-batches that equals a step on "
                   "the whole batch", lang),
                (tr("Gradients add up across backward() calls; the loss of the whole batch "
                    "is a mean, not a sum.", lang),))
    if t == "05.1":
        return (tr("Write softmax so that large logits do not overflow, and its VJP", lang),
                (tr("softmax does not change when the same number is subtracted from every "
                    "logit of a row.", lang),
                 tr("Every output of a row depends on every input of the row: the VJP is a "
                    "Jacobian-vector product, not an elementwise one.", lang)))
    if t == "05.2":
        return (tr("Compute cross-entropy from logits stably, with a backward that never "
                   "builds the softmax Jacobian", lang),
                (tr("Write the loss with log-softmax, and differentiate the whole "
                    "composition at once.", lang),))
    if t == "05.3":
        return (tr("Send an embedding lookup's gradient back to the rows it read, a row "
                   "read twice getting both", lang),
                (tr("Indexing reads rows; its backward writes into a zero table at those "
                    "rows — adding, for repeated indices.", lang),))
    if t == "05.4":
        return (tr("Write RMSNorm's backward for the input and for the per-feature gain", lang),
                (tr("The RMS depends on every feature of the row, so x̄ gets a term through "
                    "it; γ is shared by the rows.", lang),))
    if t == "05.5":
        return (tr("Write LayerNorm's backward for its input and its two parameters", lang),
                (tr("x̂ depends on x through the row's mean and variance too: the VJP has "
                    "three terms, not one.", lang),))
    if t == "06.1":
        return (tr("Compute what LayerNorm normalises with, for every token", lang),
                (tr("The statistics are per row, over the features; the variance is the one "
                    "without Bessel's correction.", lang),))
    if t == "06.2":
        return (tr("Reproduce the notes' FFN gradients by hand, as numbers", lang),
                (tr("Start at the loss and go back one box at a time; each gradient has its "
                    "variable's shape.", lang),))
    if t == "06.3":
        return (tr("Write the FFN's whole backward by hand for any input — no autograd", lang),
                (tr("Go back through the output layer, then through ReLU, then through the "
                    "first layer, reusing what the forward pass computed.", lang),))
    if t == "06.4":
        return (tr("Write the backward of splitting a sequence into heads", lang),
                (tr("Undo the split's steps on the gradient, in the reverse order.", lang),))
    if t == "06.5":
        return (tr("Run a whole training step of a character-level MLP backward by hand, one "
                   "tensor at a time, each gradient compared with torch's", lang),
                (tr("Go from the loss back, one line of the forward pass at a time: each "
                    "line's gradient is the upstream gradient times that line's local "
                    "derivative.", lang),
                 tr("Two rules do the rest: a tensor broadcast in the forward pass gets the "
                    "sum over the broadcast dimensions, and a tensor used twice gets the sum "
                    "of both contributions.", lang)))
    if t == "07.1":
        return (tr("Collect the gradient of an input that feeds three projections", lang),
                (tr("A tensor used three times receives three contributions.", lang),))
    if t == "07.2":
        return (tr("Compute FlashAttention's per-row term from the output, without the "
                   "attention matrix", lang),
                (tr("Write rowsum(Ā ⊙ A) with Ā = Ō·Vᵀ and A·V = O.", lang),))
    if t == "07.3":
        return (tr("Write attention's backward for Q, K and V as one Function", lang),
                (tr("Go back through the product with V, the softmax, the scale and the "
                    "product Q·Kᵀ, in that order.", lang),))
    if t == "07.4":
        return (tr("Write multi-head attention's whole backward by hand — no autograd", lang),
                (tr("Split and merge are each other's backward; x receives three "
                    "contributions.", lang),))
    if t == "08.1":
        return (tr("Cut out one tile of a matrix, including the smaller tiles at its edges",
                   lang),
                (tr("i and j count tiles, not rows: tile (i, j) starts at row i·T.", lang),))
    if t == "08.2":
        return (tr("Multiply two matrices one tile of the result at a time, for any sizes",
                   lang),
                (tr("Each tile of C is a sum over the tiles of A's block-row and B's "
                    "block-column.", lang),
                 tr("The number of tiles along a size m is ⌈m/T⌉, not m // T.", lang)))
    if t == "08.3":
        return (tr("Compute a matmul's two gradients with your tiled matmul", lang),
                (tr("The gradients of a product are products themselves: let the shapes "
                    "say which.", lang),))
    if t == "08.4":
        return (tr("Make the tiled matmul an autograd Function whose backward is tiled and "
                   "can be differentiated again", lang),
                (tr("A backward written with the Function itself records a graph of its "
                    "own.", lang),))
    if t == "09.1":
        return (tr("Write one training step in the order that makes each step use only its "
                   "own gradients", lang),
                (tr("Gradients accumulate in .grad until cleared, and step() reads them.",
                    lang),))
    if t == "09.2":
        return (tr("Write one step of SGD with momentum exactly as torch does", lang),
                (tr("torch's buffer starts as the first gradient and has no (1 − μ) "
                    "factor.", lang),))
    if t == "09.3":
        return (tr("Write one AdamW update by hand, matching torch to the last digit", lang),
                (tr("The weight decay is applied to θ itself, apart from the gradient; m and "
                    "v start at 0.", lang),))
    if t == "09.4":
        return (tr("Write an AdamW optimizer that trains a minigrad model as torch's does",
                   lang),
                (tr("Keep a state per parameter object and update the data the model holds, "
                    "in place.", lang),))
    if t == "10.1":
        return (tr("Predict how many bytes of activations an MLP's graph keeps for backward",
                   lang),
                (tr("Count the distinct arrays the nodes save, not the nodes: one buffer "
                    "saved by two nodes counts once.", lang),))
    if t == "10.2":
        return (tr("Write a fused Linear + tanh that keeps only what its backward reads", lang),
                (tr("tanh's derivative can be written from its output.", lang),))
    if t == "10.3":
        return (tr("Trade compute for memory: keep a segment's inputs only, and recompute "
                   "the rest in backward", lang),
                (tr("The forward pass runs without a graph; backward runs the segment again "
                    "with the graph on, then backpropagates through it.", lang),))
    if t == "10.4":
        return (tr("Write dropout so that its expected output is its input, its backward "
                   "uses the forward's mask, and a checkpoint's recomputation draws that mask "
                   "again", lang),
                (tr("Each value is kept with probability 1 − p; a kept value must be scaled "
                    "so that the mean over the draws is x.", lang),
                 tr("A checkpoint replays minigrad's generator, not one of your own.", lang)))
    raise KeyError(f"guide: no aim or hints for task {task_id!r}")
