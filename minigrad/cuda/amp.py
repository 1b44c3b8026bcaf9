"""``minigrad.cuda.amp``: torch's older names for ``minigrad.amp`` on device "cuda" (deprecated
in torch, with the same warning here). Without CUDA, both disable themselves with a warning."""
import warnings

from .. import amp as _amp

__all__ = ["GradScaler", "autocast"]


class GradScaler(_amp.GradScaler):
    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        warnings.warn("`minigrad.cuda.amp.GradScaler(args...)` is deprecated, as torch's. "
                      "Please use `minigrad.amp.GradScaler('cuda', args...)` instead.",
                      FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)


class autocast(_amp.autocast):
    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        warnings.warn("`minigrad.cuda.amp.autocast(args...)` is deprecated, as torch's. "
                      "Please use `minigrad.amp.autocast('cuda', args...)` instead.",
                      FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", dtype, enabled, cache_enabled)
