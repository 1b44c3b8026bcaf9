"""``BatchNorm1d``, as torch's: per-channel normalization over the batch, with running
statistics for evaluation (``F.batch_norm`` holds the arithmetic)."""
import numpy as np

from ...tensor import Tensor, _Defaults
from .. import functional as F
from .layers import _check_device
from .module import Module, Parameter

__all__ = ["BatchNorm1d"]


class BatchNorm1d(Module):
    """Input (N, C) or (N, C, L); ``weight`` (γ, ones) and ``bias`` (β, zeros) of size C;
    buffers ``running_mean``, ``running_var`` and ``num_batches_tracked``. In training the
    batch's statistics are used and the running ones updated (by ``momentum``, or as a
    cumulative average when ``momentum=None``); in eval mode the running ones are used."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        _check_device(device)
        dtype = _Defaults.dtype if dtype is None else np.dtype(dtype)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self._bias = bias
        self.register_parameter("weight", Parameter(np.ones(num_features, dtype)) if affine
                                else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features, dtype))
                                if affine and bias else None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def forward(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self._bias and self.affine}, "
                f"track_running_stats={self.track_running_stats}")
