"""``minigrad.distributed``: importable, so training scripts that check for it run, but not
available — minigrad runs in one process. To train one model across several processes or
machines, use PyTorch itself (``torch.distributed``, ``DistributedDataParallel``): the code you
wrote for minigrad runs there with ``import torch``."""
__all__ = ["is_available", "is_initialized", "init_process_group", "destroy_process_group",
           "get_rank", "get_world_size", "barrier", "all_reduce", "broadcast", "ReduceOp"]

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group. (minigrad runs in one process and has no process "
                    "groups; for training across processes or machines use PyTorch itself.)")


def is_available():
    return False


def is_initialized():
    return False


def init_process_group(*args, **kwargs):
    raise RuntimeError("minigrad.distributed.init_process_group: minigrad runs in one process "
                       "and cannot join a process group. For training across processes or "
                       "machines use PyTorch itself (torch.distributed): the same script runs "
                       "there with `import torch`.")


def _not_initialized(*args, **kwargs):
    raise ValueError(_NOT_INITIALIZED)


destroy_process_group = get_rank = get_world_size = barrier = all_reduce = broadcast = \
    _not_initialized


class ReduceOp:
    SUM, AVG, PRODUCT, MIN, MAX = "sum", "avg", "product", "min", "max"
