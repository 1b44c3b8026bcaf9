"""``minigrad.backends``: torch's backend flags (``backends.cuda.matmul.allow_tf32``,
``backends.cudnn.benchmark``, ...), which scripts set before training. They can be set and
read, with torch's defaults; on the CPU they change nothing, in minigrad as in torch."""
__all__ = ["cuda", "cudnn", "mps", "mkldnn", "opt_einsum", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]


class _Flags:
    """A namespace of settable flags (and a few functions), printed with its values."""

    def __init__(self, name, **flags):
        self.__dict__["_name"] = name
        self.__dict__.update(flags)

    def __repr__(self):
        flags = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items()
                          if not k.startswith("_") and not callable(v))
        return f"<minigrad.backends.{self._name}: {flags}>"


def _false(*args, **kwargs):
    return False


def _none(*args, **kwargs):
    return None


cuda = _Flags("cuda", matmul=_Flags("cuda.matmul", allow_tf32=False,
                                    allow_fp16_reduced_precision_reduction=True,
                                    allow_bf16_reduced_precision_reduction=True),
              is_built=_false, flash_sdp_enabled=_false, mem_efficient_sdp_enabled=_false,
              math_sdp_enabled=lambda: True, enable_flash_sdp=_none,
              enable_mem_efficient_sdp=_none, enable_math_sdp=_none)
cudnn = _Flags("cudnn", enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
               is_available=_false, version=_none)
mps = _Flags("mps", is_available=_false, is_built=_false)
mkldnn = _Flags("mkldnn", enabled=True, is_available=_false)
opt_einsum = _Flags("opt_einsum", enabled=False, strategy=None, is_available=_false)


_MATMUL_PRECISION = ["highest"]


def set_float32_matmul_precision(precision):
    """``torch.set_float32_matmul_precision``: "highest", "high" or "medium" (what GPUs may
    trade for speed: TF32 or bfloat16 products). Recorded and read back; minigrad's float32
    products are always numpy's full float32 ones, which is "highest"."""
    if precision not in ("highest", "high", "medium"):
        import warnings
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"set_float32_matmul_precision call has no effect.", stacklevel=2)
        return
    _MATMUL_PRECISION[0] = precision


def get_float32_matmul_precision():
    return _MATMUL_PRECISION[0]
