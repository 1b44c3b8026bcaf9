"""Devices: ``minigrad.device`` as ``torch.device``, and the names that place work on one.

minigrad runs on the CPU: its numbers are numpy arrays in main memory. ``device("cuda")``
can still be built (as in torch, where naming a device does not touch it), so scripts that
write ``device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`` run; asking
for a tensor or a model on any device but the CPU raises, saying so.
"""
import functools

__all__ = ["device", "set_default_device", "get_default_device", "compile"]

_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
          "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:
    """A device: ``device("cpu")``, ``device("cpu:0")``, ``device("cuda", 1)``,
    ``device(type="cpu", index=None)``; ``.type`` and ``.index`` as torch's. Two devices are
    equal when type and index are; as in torch, a device is not equal to a string (compare
    ``str(d) == "cpu"`` or ``d.type == "cpu"``)."""
    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif not isinstance(type, str):
            raise RuntimeError(f"device: expected a device string such as 'cpu', got "
                               f"{type!r}; minigrad has no accelerator to number.")
        elif ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            kind, _, num = type.partition(":")
            if not num.isdigit() or kind not in _TYPES:
                raise RuntimeError(f"Invalid device string: '{type}'")
            type, index = kind, int(num)
        if type not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of "
                               f"device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        object.__setattr__(self, "_type", type)
        object.__setattr__(self, "_index", index)

    def __setattr__(self, name, value):
        raise AttributeError(f"device: attribute '{name}' is read-only")

    type = property(lambda self: self._type)
    index = property(lambda self: self._index)

    def __repr__(self):
        index = "" if self._index is None else f", index={self._index}"
        return f"device(type='{self._type}'{index})"

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self):
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))


CPU = device("cpu")


def check_device(where, dev):
    """Raise, saying minigrad runs on the CPU, unless ``dev`` is None or a CPU device
    (``where``, if given, names the call in the message)."""
    if dev is not None and device(dev).type != "cpu":
        raise RuntimeError(f"{where + ': ' if where else ''}minigrad runs on the CPU only; it "
                           f"cannot use device {str(device(dev))!r}. Use 'cpu' "
                           f"(minigrad.cuda.is_available() is False, so scripts that test it "
                           f"pick the CPU).")


def on_cpu(fn):
    """Decorator of the functions that make tensors: their ``device=`` must name the CPU (or
    be left out), as in torch built without GPUs, so ``zeros(3, device="cuda")`` raises
    instead of quietly giving a CPU tensor."""
    @functools.wraps(fn)
    def make(*args, **kwargs):
        if kwargs.get("device") is not None:
            check_device(fn.__name__, kwargs["device"])
        return fn(*args, **kwargs)
    return make


def set_default_device(dev):
    """Where new tensors are made: only the CPU (None or "cpu") is accepted."""
    check_device("set_default_device", dev)


def get_default_device():
    return CPU


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """``torch.compile``: returns ``model`` itself. torch compiles a model's graph to fused
    kernels, which changes speed, not results; minigrad's point is to run each operation where
    you can read it, so there is nothing to compile and the model runs as written. Works as
    a decorator too (``@minigrad.compile`` or ``@minigrad.compile(mode=...)``)."""
    if model is None:
        return lambda fn: fn
    return model
