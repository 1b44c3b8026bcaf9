"""Small modules that tutorials put in ``nn.Sequential``: ``Flatten``, ``Unflatten``,
``Softmax``, ``LogSoftmax``, ``LeakyReLU``, ``ELU``, ``Softplus``, as torch's (arguments,
defaults, printed form). Each is one call of a function built from the course's operations,
so its gradient comes from their VJPs."""
import warnings

from .. import functional as F
from .module import Module

__all__ = ["Flatten", "Unflatten", "Softmax", "LogSoftmax", "LeakyReLU", "ELU", "Softplus"]


class Flatten(Module):
    """Dimensions ``start_dim`` … ``end_dim`` merged into one (by default all but the batch
    dimension)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Dimension ``dim`` split into ``unflattened_size`` (one entry may be -1)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(
                isinstance(s, int) for s in unflattened_size):
            raise TypeError("unflattened_size must be a tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        shape = tuple(input.shape)
        dim = self.dim % len(shape) if shape else self.dim
        return input.reshape(shape[:dim] + tuple(self.unflattened_size) + shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _softmax_dim(name, ndim):
    """torch's choice when no dim is given (deprecated): 0 for 0-, 1- and 3-D inputs, else 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  f"include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class _Softmax(Module):
    """softmax or log_softmax (``_name``) along ``dim``."""
    _name = None

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        dim = _softmax_dim(self._name, input.ndim) if self.dim is None else self.dim
        return getattr(F, self._name)(input, dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_Softmax):
    _name = "softmax"


class LogSoftmax(_Softmax):
    _name = "log_softmax"


class LeakyReLU(Module):
    """x for x ≥ 0, ``negative_slope``·x below."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x for x > 0, α·(eˣ − 1) below."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    """log(1 + e^(βx))/β, and x itself where βx > ``threshold``."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"
