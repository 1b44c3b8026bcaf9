"""``minigrad.amp``: ``autocast`` and ``GradScaler``, as ``torch.amp``, on the CPU.

``autocast`` is a pass-through: under torch's CPU autocast, matrix products run in bfloat16
(or float16); minigrad's operations always run in their tensors' own dtype (numpy has no
bfloat16), so the block computes exactly what it would without the context manager.

``GradScaler`` follows torch's: for ``device="cuda"`` (the default) it warns that CUDA is not
available and disables itself, and then ``scale`` returns the loss unchanged, ``step`` calls
``optimizer.step()`` and ``update``/``unscale_`` do nothing; ``GradScaler("cpu")`` scales the
loss, unscales the gradients, skips a step whose gradients are not finite and adjusts the
scale (halved after such a step, doubled after ``growth_interval`` good ones), as torch does.
"""
import functools
import warnings

import numpy as np

from ._device import device as _device

__all__ = ["autocast", "GradScaler", "is_autocast_available", "is_autocast_enabled"]

_ENABLED = {}                       # device type -> autocast on, for is_autocast_enabled


def is_autocast_available(device_type):
    return _device(device_type).type == "cpu"


class autocast:
    """``with minigrad.autocast(device_type="cpu", dtype=minigrad.bfloat16):`` — runs the
    block unchanged (see the module's docstring); also a decorator. Arguments are checked as
    torch checks them; for a device other than the CPU it warns and disables itself, as torch
    does where that device is not available."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = _device(device_type).type
        self.fast_dtype, self._enabled = dtype, bool(enabled)
        if self._enabled and self.device != "cpu":
            warnings.warn(f"{self.device} is not available to minigrad (it runs on the CPU "
                          f"only). Disabling autocast.", stacklevel=2)
            self._enabled = False
        name = getattr(dtype, "name", str(dtype))
        if self._enabled and dtype is not None and name not in ("bfloat16", "float16"):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of minigrad.bfloat16, "
                          "minigrad.float16 currently.", stacklevel=2)
            self._enabled = False

    def __enter__(self):
        self._prev = _ENABLED.get(self.device, False)
        _ENABLED[self.device] = self._enabled
        return self

    def __exit__(self, *exc):
        _ENABLED[self.device] = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)
        return wrapped


def is_autocast_enabled(device_type=None):
    """Whether an autocast block for ``device_type`` is open and enabled (no argument: CUDA's,
    as torch's, which is never)."""
    return device_type is not None and _ENABLED.get(device_type, False)


class GradScaler:
    """Loss scaling for mixed precision, as ``torch.amp.GradScaler`` (see the module's
    docstring for what it does on the CPU)."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = _device(device).type
        if enabled and self._device != "cpu":
            warnings.warn(f"minigrad.{self._device}.amp.GradScaler is enabled, but "
                          f"{self._device.upper()} is not available (minigrad runs on the CPU "
                          f"only).  Disabling.", stacklevel=2)
            enabled = False
        self._enabled = enabled
        if enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._scale, self._growth_factor = float(init_scale), growth_factor
        self._backoff_factor, self._growth_interval = backoff_factor, growth_interval
        self._growth_tracker, self._found_inf = 0, {}

    def is_enabled(self):
        return self._enabled

    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        """``outputs`` (a tensor, or lists/tuples of them) times the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * self._scale

    def unscale_(self, optimizer):
        """Divide the gradients of ``optimizer``'s parameters by the scale (in place), once
        per step, and remember whether any is infinite or NaN."""
        if not self._enabled:
            return
        if id(optimizer) in self._found_inf:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    g = p.grad._data
                    g *= 1.0 / self._scale
                    found = found or not np.isfinite(g).all()
        self._found_inf[id(optimizer)] = found

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()``, unless the unscaled gradients are not finite."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if id(optimizer) not in self._found_inf:
            self.unscale_(optimizer)
        if not self._found_inf[id(optimizer)]:
            return optimizer.step(*args, **kwargs)
        return None

    def update(self, new_scale=None):
        """Adjust the scale after the step(s): halve it if a step was skipped, double it after
        ``growth_interval`` steps in a row without one."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale)
        elif any(self._found_inf.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale *= self._growth_factor
                self._growth_tracker = 0
        self._found_inf = {}

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._growth_tracker = state_dict["_growth_tracker"]
