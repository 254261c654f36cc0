"""Torch autograd for operators computed by an external kernel (PyWavelets, NUFFT libraries).

The operator exposes ``_external(method, tensor)``: it runs ``method`` (a NumPy/CuPy
implementation) on the tensor's data and returns a tensor on the same device. The single
``torch.autograd.Function`` below calls it in ``forward`` and calls the transposed method
(the adjoint: PyTorch's complex gradients are ``A^H g`` for a linear ``A``) in ``backward``.
"""
from __future__ import annotations

__all__ = ["apply_external", "numpy_external"]

_FUNCTION = []


def _function():
    if not _FUNCTION:
        import torch

        class ExternalLinear(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, operator, method, transpose):
                ctx.operator, ctx.method, ctx.transpose = operator, method, transpose
                ctx.dtype = x.dtype
                return operator._external(method, x.detach().resolve_conj().contiguous())

            @staticmethod
            def backward(ctx, grad):
                # the transpose through this same Function, so that the gradient is itself
                # differentiable (create_graph=True, double backward)
                out = apply_external(ctx.operator, ctx.transpose, ctx.method,
                                     grad.resolve_conj().contiguous())
                if not ctx.dtype.is_complex and out.is_complex():  # real input: real gradient
                    out = out.real
                return out.to(ctx.dtype), None, None, None

        _FUNCTION.append(ExternalLinear)
    return _FUNCTION[0]


def apply_external(operator, method, transpose, x):
    """``operator._external(method, x)`` with ``transpose`` as its backward."""
    return _function().apply(x, operator, method, transpose)


def numpy_external(operator, method, tensor):
    """The default ``_external``: run ``method`` on the tensor's NumPy view (CPU tensors share
    memory; others are copied to the host and back)."""
    import torch
    out = getattr(operator, method)(tensor.cpu().numpy())
    return torch.as_tensor(out, device=tensor.device)
