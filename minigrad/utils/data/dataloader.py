"""``minigrad.utils.data.dataloader``, for ``from torch.utils.data.dataloader import ...``."""
from . import DataLoader, default_collate, default_convert, get_worker_info  # noqa: F401
