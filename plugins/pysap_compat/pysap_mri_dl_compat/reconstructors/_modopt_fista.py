"""modopt's FISTA, the variant pysap-mri runs, on the engine's proximal-gradient step.

modopt's ``ForwardBackward`` (``lambda_update='fista'``, ``p=q=1, r=4``) updates
``t <- 1 + sqrt(4 t^2 + 1) / 2`` (not Beck & Teboulle's ``(1 + sqrt(4 t^2 + 1)) / 2``) and
applies each momentum one iteration after computing it; its result (``x_final``) is the
last extrapolated point ``z``, not the last proximal-gradient iterate. :func:`pysap_mri_dl.optim.fista`
has no option for that sequence, so this loop reproduces it around
:func:`pysap_mri_dl.optim.forward_backward_step` (the engine's single step).
"""
import math
import time

from pysap_mri_dl.optim import OptimResult, forward_backward_step


def modopt_fista(data, prox, *, x0, step, n_iter, callback):
    """``n_iter`` iterations from ``x0``; ``callback(iteration, {'x': x})`` (the iterate)
    may stop them; returns the extrapolated point as modopt does."""
    start = time.perf_counter()
    x_old = z = x0
    relaxation, t_now = 1.0, 1.0
    iterations, reason = 0, "n_iter"
    for iterations in range(1, n_iter + 1):
        x_new = forward_backward_step(z, data=data, prox=prox, step=step)
        z = x_old + relaxation * (x_new - x_old)
        x_old = x_new
        t_prev, t_now = t_now, 1.0 + math.sqrt(4.0 * t_now ** 2 + 1.0) / 2.0
        relaxation = 1.0 + (t_prev - 1.0) / t_now
        if callback(iterations - 1, {"x": x_new}):
            reason = "callback"
            break
    return OptimResult(x=z, n_iter=iterations, stop_reason=reason,
                       seconds=time.perf_counter() - start)
