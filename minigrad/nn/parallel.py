"""``minigrad.nn.parallel``: ``DataParallel`` runs the module it wraps in this process (as
torch's does without GPUs); ``DistributedDataParallel`` raises — minigrad runs in one process,
and training across processes or machines is PyTorch's work (the same model code runs there
with ``import torch``)."""
from .modules.module import Module

__all__ = ["DataParallel", "DistributedDataParallel"]


class DataParallel(Module):
    """``module`` itself, under the attribute ``module`` (state_dict keys ``module.…``, as in
    torch): with no GPUs, torch's DataParallel calls it directly, and so does minigrad's."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module, self.device_ids, self.dim = module, [], dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


class DistributedDataParallel(Module):
    def __init__(self, module, *args, **kwargs):
        raise RuntimeError("DistributedDataParallel: minigrad runs in one process, and has no "
                           "process group to share gradients with. Train the model without "
                           "the wrapper here, or use PyTorch itself (torch.nn.parallel."
                           "DistributedDataParallel) to train across processes or machines: "
                           "the same model code runs there with `import torch`.")
