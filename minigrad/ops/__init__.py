"""minigrad's operations, one file per family; each VJP sits under its forward.

- ``broadcast``: expand and ``unbroadcast``, the gradient of broadcasting
- ``elementwise``: + - * / ** neg exp log sqrt abs sin cos erf clamp where log10 log2
  log1p expm1 remainder fmod (and floor_divide, isclose, equal: no gradient)
- ``activation``: relu leaky_relu sigmoid tanh gelu silu (and swiglu, composed)
- ``linalg``: matmul, linear, einsum, norm, vector_norm
- ``shape``: reshape/view transpose permute unsqueeze squeeze indexing cat stack split chunk
  tril triu repeat repeat_interleave
- ``reduction``: sum mean var max amax prod cumsum cumprod (and all any)
- ``normalization``: layer_norm rms_norm
- ``loss``: softmax log_softmax cross_entropy nll_loss mse_loss binary_cross_entropy
  binary_cross_entropy_with_logits
- ``attention``: scaled_dot_product_attention
- ``indexing``: gather scatter scatter_add index_select take_along_dim sort topk kthvalue
  median
  (and argsort unique unique_consecutive, which have no gradient)
- ``sparse``: embedding dropout

``registry`` lists them all once, for the tests and the book's reference table.
"""
from .activation import gelu, leaky_relu, relu, sigmoid, silu, swiglu, tanh
from .attention import scaled_dot_product_attention
from .broadcast import broadcast_to, expand, expand_as, unbroadcast
from .elementwise import (abs, add, allclose, clamp, clip, clone, cos, div, eq, erf, exp, ge, gt,
                          isfinite, isnan, le, log, logical_and, logical_not, logical_or, lt,
                          masked_fill, maximum, minimum, mul, ne, neg, pow, rdiv, result_type,
                          rpow, rsqrt, rsub, sign, sin, sqrt, square, sub, to_dtype, where)
from .elementwise import (expm1, floor_divide, fmod, log1p, log2, log10, remainder,
                          rfloordiv, rremainder)
from .indexing import (argsort, gather, index_select, kthvalue, median, scatter, scatter_add,
                       sort, take_along_dim, topk, unique, unique_consecutive)
from .linalg import bmm, einsum, linear, matmul, mm
from .loss import cross_entropy, log_softmax, mse_loss, nll_loss, softmax
from .normalization import layer_norm, rms_norm
from .reduction import (amax, amin, argmax, argmin, logsumexp, max, mean, min, std, sum, var)
from .reduction import _all as all, _any as any, cumprod, cumsum, prod
from .elementwise import equal, isclose
from .linalg import p_norm as norm, vector_norm
from .loss import binary_cross_entropy, binary_cross_entropy_with_logits
from .shape import repeat, repeat_interleave, tril, triu
from .shape import (cat, chunk, concat, flatten, getitem, permute, reshape, split, squeeze,
                    stack, t, transpose, unbind, unsqueeze, view)
from .sparse import dropout, embedding

# Tensor methods that are these functions with the tensor as first argument
TENSOR_METHODS = [
    "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "rsqrt", "abs", "sin", "cos",
    "erf", "square", "clamp", "clip", "sign", "masked_fill", "relu", "sigmoid", "tanh",
    "softmax", "log_softmax", "matmul", "reshape", "view", "flatten", "permute", "transpose",
    "t", "unsqueeze", "squeeze", "expand", "expand_as", "split", "chunk", "unbind", "sum",
    "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp",
    "eq", "ne", "lt", "le", "gt", "ge", "isnan", "isfinite", "maximum", "minimum",
    "gather", "scatter", "scatter_add", "index_select", "take_along_dim", "sort",
    "argsort", "topk", "kthvalue", "median", "unique", "unique_consecutive",
    "log10", "log2", "log1p", "expm1", "remainder", "fmod", "floor_divide",
    "all", "any", "prod", "cumsum", "cumprod", "norm", "isclose", "allclose", "equal",
    "tril", "triu", "repeat", "repeat_interleave",
]
