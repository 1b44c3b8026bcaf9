"""Multi-head attention, step by step: the helpers of the chapters on the transformer layer
and on attention's backward.

Two kinds of helpers live here.

* Library-agnostic ones (``split_heads``, ``merge_heads``, ``multi_head_attention``) use only
  methods that minigrad and PyTorch share, so the same call runs on either library's tensors::

      out = multi_head_attention(x, w_q, w_k, w_v, w_o, 2, minigrad.nn.functional)
      out = multi_head_attention(xt, wt_q, wt_k, wt_v, wt_o, 2, torch.nn.functional)

* numpy ones (``softmax``, ``softmax_backward``, ``sdpa_forward``, ``sdpa_backward``) are the
  formulas of the notes written out by hand, with no autograd at all, so that a chapter can
  set them beside minigrad's backward and torch's. With A = softmax(Q·Kᵀ/√d_k) and O = A·V:

      V̄ = Aᵀ·Ō,   Ā = Ō·Vᵀ,   S̄ = A ⊙ (Ā − rowsum(Ā ⊙ A)) / √d_k,   Q̄ = S̄·K,   K̄ = S̄ᵀ·Q.

``grad_fn_tree`` prints the backward graph of a tensor (node names only), for either library.
"""
import math

import numpy as np

from .lang import tr

__all__ = ["split_heads", "merge_heads", "multi_head_attention", "softmax", "softmax_backward",
           "sdpa_forward", "sdpa_backward", "grad_fn_tree"]


# ------------------------------------------------------------------ either library
def split_heads(t, num_heads):
    """(…, n, d_model) → (…, h, n, d) with d = d_model / h: head i gets columns i·d … (i+1)·d − 1.

    A reshape (n, d_model) → (n, h, d) cuts every row into h consecutive pieces; swapping the
    two middle dimensions then gathers, for each head, its piece of every row. For the notes'
    3×8 matrix Q and h = 2 this gives Q⁽¹⁾ = Q[:, 0:4] and Q⁽²⁾ = Q[:, 4:8]."""
    d_model = t.shape[-1]
    if d_model % num_heads != 0:
        raise ValueError(f"split_heads: d_model = {d_model} (last dimension of shape "
                         f"{tuple(t.shape)}) is not divisible by num_heads = {num_heads}; every "
                         f"head must get d_model / h columns.")
    d = d_model // num_heads
    return t.reshape(*t.shape[:-1], num_heads, d).transpose(-3, -2)


def merge_heads(t):
    """(…, h, n, d) → (…, n, h·d): the inverse of ``split_heads`` ("concat(head₁, …, head_h)").

    Swapping the middle dimensions back puts row r of every head side by side, and the
    reshape glues them into one row of h·d numbers."""
    if t.ndim < 3:
        raise ValueError(f"merge_heads: expected a tensor (…, h, n, d) with at least 3 "
                         f"dimensions, got shape {tuple(t.shape)}.")
    h, n, d = t.shape[-3:]
    return t.transpose(-3, -2).reshape(*t.shape[:-3], n, h * d)


def multi_head_attention(x, w_q, w_k, w_v, w_o, num_heads, functional,
                         b_q=None, b_k=None, b_v=None, b_o=None):
    """MHA(X) = concat(head₁, …, head_h)·W_O (+ b_O), headᵢ = softmax(Qᵢ·Kᵢᵀ/√d)·Vᵢ,
    with Q = X·W_Q (+ b_Q), K = X·W_K (+ b_K), V = X·W_V (+ b_V) split into h heads.

    The weights are (d_model, d_model) matrices used as ``x @ W`` (the notes' convention;
    torch's ``nn.Linear`` stores the transpose). ``functional`` is ``minigrad.nn.functional``
    or ``torch.nn.functional``: it provides ``scaled_dot_product_attention``. X is
    (…, n, d_model); the result has the same shape."""
    def project(w, b):
        y = x @ w
        return y if b is None else y + b

    q = split_heads(project(w_q, b_q), num_heads)
    k = split_heads(project(w_k, b_k), num_heads)
    v = split_heads(project(w_v, b_v), num_heads)
    heads = functional.scaled_dot_product_attention(q, k, v)
    out = merge_heads(heads) @ w_o
    return out if b_o is None else out + b_o


# ------------------------------------------------------------------ numpy, by hand
def softmax(s):
    """Row-wise softmax of a numpy array (last axis), shifted by the row maximum for stability."""
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(a, a_bar):
    """The softmax VJP of the notes: x̄ = A ⊙ (Ā − Σₖ Āₖ Aₖ), row by row (last axis).

    A is the softmax output, Ā the gradient arriving at it; the n×n Jacobian
    diag(A) − A·Aᵀ of each row is never built."""
    return a * (a_bar - (a_bar * a).sum(axis=-1, keepdims=True))


def sdpa_forward(q, k, v):
    """O = softmax(Q·Kᵀ/√d_k)·V on numpy arrays (…, n, d). Returns (O, A)."""
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"sdpa_forward: query {q.shape}, key {k.shape} and value {v.shape} do "
                         f"not fit: query and key need the same last dimension, key and value "
                         f"the same sequence length.")
    a = softmax(q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1]))
    return a @ v, a


def sdpa_backward(q, k, v, a, o_bar):
    """The backward of scaled dot-product attention, the notes' formulas one line each.

    Given the forward's Q, K, V and attention weights A, and the upstream gradient Ō:
        V̄ = Aᵀ·Ō,  Ā = Ō·Vᵀ,  S̄ = softmax_backward(A, Ā)/√d_k,  Q̄ = S̄·K,  K̄ = S̄ᵀ·Q.
    Returns (Q̄, K̄, V̄), each of its input's shape."""
    v_bar = np.swapaxes(a, -1, -2) @ o_bar
    a_bar = o_bar @ np.swapaxes(v, -1, -2)
    s_bar = softmax_backward(a, a_bar) / math.sqrt(q.shape[-1])
    q_bar = s_bar @ k
    k_bar = np.swapaxes(s_bar, -1, -2) @ q
    return q_bar, k_bar, v_bar


# ------------------------------------------------------------------ the graph
def _node_name(node):
    return node.name().replace("torch::autograd::", "")


def grad_fn_tree(t, names=None):
    """The backward graph behind tensor ``t`` as indented lines of node names (either library).

    Each node is followed, one level deeper, by the nodes of its inputs (``next_functions``),
    in argument order. A leaf's ``AccumulateGrad`` shows the leaf's name when ``names`` maps
    the leaf tensor to one (``{x: "x"}``). A node reached a second time is printed once more
    with ``(↑ seen)`` and not expanded again: those are the places where one tensor fed
    several operations and where backward adds the gradients up."""
    labels = {id(k): v for k, v in (names or {}).items()}
    lines, seen = [], set()

    def visit(node, depth):
        label = _node_name(node)
        var = getattr(node, "variable", None)
        if var is not None and id(var) in labels:
            label += f" ({labels[id(var)]})"
        if id(node) in seen:
            lines.append("  " * depth + label + " " + tr("(↑ seen)"))
            return
        seen.add(id(node))
        lines.append("  " * depth + label)
        for child, _ in node.next_functions:
            if child is not None:
                visit(child, depth + 1)

    if t.grad_fn is None:
        raise ValueError(f"grad_fn_tree: the tensor of shape {tuple(t.shape)} has no grad_fn "
                         f"(it is a leaf, or was computed without recording a graph).")
    visit(t.grad_fn, 0)
    return lines
