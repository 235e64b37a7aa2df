"""The arithmetic of a training step (`setup.precision`): `fp32` throughout; `tf32`, CUDA matmuls and
convolutions on TF32 tensor cores (10-bit mantissa inputs, fp32 accumulation); `bf16`, the forward and
backward passes autocast to bfloat16 (weights, gradients and optimiser state stay fp32). On a CPU `tf32`
is `fp32`. fp32 also turns off the TF32 convolutions that cuDNN would otherwise use by default.
"""

from __future__ import annotations

from contextlib import contextmanager

PRECISIONS = ("fp32", "tf32", "bf16")


@contextmanager
def matmul_precision(precision: str, device_type: str):
    """Run the block at `precision`; PyTorch's process-wide TF32 switches are put back afterwards."""
    import torch  # here: the config is checked against PRECISIONS without torch
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; known: {list(PRECISIONS)}")
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = precision == "tf32"
    try:
        # no weight cache: a CUDA graph captures the casts themselves
        with torch.autocast(device_type, torch.bfloat16, enabled=precision == "bf16", cache_enabled=False):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before
