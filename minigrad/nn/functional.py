"""The functional API, under torch.nn.functional's names (``import minigrad.nn.functional as F``)."""
from ..ops import (cross_entropy, dropout, embedding, gelu, layer_norm, leaky_relu, linear,
                   log_softmax, mse_loss, nll_loss, relu, rms_norm, scaled_dot_product_attention,
                   sigmoid, silu, softmax, tanh)

__all__ = ["cross_entropy", "dropout", "embedding", "gelu", "layer_norm", "leaky_relu", "linear",
           "log_softmax", "mse_loss", "nll_loss", "relu", "rms_norm",
           "scaled_dot_product_attention", "sigmoid", "silu", "softmax", "tanh", "one_hot"]


def one_hot(tensor, num_classes=-1):
    import numpy as np
    from ..tensor import Tensor
    d = tensor._data
    if d.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot: indices must be integers, got dtype {d.dtype}.")
    if d.size and d.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {d.min()}.")
    n = (int(d.max()) + 1 if d.size else 0) if num_classes == -1 else num_classes
    if d.size and d.max() >= n:
        raise RuntimeError(f"one_hot: class value {d.max()} is too large for num_classes={n}.")
    return Tensor._make((d[..., None] == np.arange(n)).astype(np.int64))
