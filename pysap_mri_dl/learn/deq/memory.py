"""Training memory that does not depend on the allocator: the bytes autograd keeps for the
backward pass (every tensor saved by the forward, each storage counted once). It is what
grows with the depth of an unrolled network and stays flat for a deep equilibrium model,
on any device; ``benchmarks/deq.py`` prints it beside the allocator's peak."""
from __future__ import annotations

from contextlib import contextmanager

import torch

__all__ = ["saved_for_backward"]


@contextmanager
def saved_for_backward():
    """Count, in the ``with`` block, the bytes of tensors saved for backward; yields a dict
    whose ``"bytes"`` is filled as the forward runs (and ``"megabytes"`` at exit)."""
    seen, count = set(), {"bytes": 0}

    def pack(tensor):
        storage = tensor.untyped_storage()
        key = (storage.data_ptr(), tensor.device)
        if key not in seen:
            seen.add(key)
            count["bytes"] += storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        yield count
    count["megabytes"] = count["bytes"] / 2 ** 20
