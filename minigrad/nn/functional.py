"""The functional API, under torch.nn.functional's names (``import minigrad.nn.functional as F``)."""
from ..ops import (cross_entropy, dropout, embedding, gelu, layer_norm, leaky_relu, linear,
                   log_softmax, mse_loss, nll_loss, relu, rms_norm, scaled_dot_product_attention,
                   sigmoid, silu, softmax, tanh)

__all__ = ["cross_entropy", "dropout", "embedding", "gelu", "layer_norm", "leaky_relu", "linear",
           "log_softmax", "mse_loss", "nll_loss", "relu", "rms_norm",
           "scaled_dot_product_attention", "sigmoid", "silu", "softmax", "tanh", "one_hot",
           "elu", "softplus", "batch_norm"]


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


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, α·(eˣ − 1) below: built from where, expm1 and clamp (the clamp keeps the
    unused branch finite, so its zero gradient stays zero for large x)."""
    from .. import ops
    return ops.where(input > 0, input, alpha * ops.expm1(ops.clamp(input, max=0)))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(βx))/β, and x itself where βx > threshold (as torch): built from where,
    log1p, exp and clamp."""
    from .. import ops
    z = input * beta
    return ops.where(z > threshold, input, ops.log1p(ops.exp(ops.clamp(z, max=threshold))) / beta)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel (dimension 1) over the batch and any length dimension:
    (x − μ)/√(σ² + ε)·w + b, built from mean, var, rsqrt and broadcasting. In training μ and
    σ² (biased) are the batch's, and the running statistics, if given, move towards them by
    ``momentum`` (the variance unbiased, as torch); otherwise the running ones are used."""
    import numpy as np
    from .. import ops
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, -1) + (1,) * (input.ndim - 2)
    if training:
        n = input.numel() // input.shape[1]
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {tuple(input.shape)}")
        mean = input.mean(dims, keepdim=True)
        var = input.var(dims, correction=0, keepdim=True)
        if running_mean is not None:
            m = np.asarray(momentum, dtype=running_mean._data.dtype)
            running_mean._data[...] = m * mean._data.reshape(-1) + (1 - m) * running_mean._data
            running_mean._vc[0] += 1
        if running_var is not None:
            m = np.asarray(momentum, dtype=running_var._data.dtype)
            unbiased = var._data.reshape(-1) * (n / (n - 1))
            running_var._data[...] = m * unbiased + (1 - m) * running_var._data
            running_var._vc[0] += 1
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    out = (input - mean) * ops.rsqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


from ..ops import binary_cross_entropy, binary_cross_entropy_with_logits  # noqa: E402
from ..ops.loss import _legacy_reduction  # noqa: E402,F401

__all__ += ["binary_cross_entropy", "binary_cross_entropy_with_logits"]
