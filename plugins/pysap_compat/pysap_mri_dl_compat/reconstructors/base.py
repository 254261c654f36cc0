"""pysap-mri's ``ReconstructorBase`` on pysap_mri_dl: the model, the data term and the
algorithm come from the engine; this class keeps pysap-mri's arguments, defaults and
``(x_final, costs, metrics)`` return value."""
import warnings

import numpy as np

from pysap_mri_dl.optim import LeastSquares, pogm, primal_dual

from ..errors import UnsupportedOptionError, reject_unknown
from ._modopt_fista import modopt_fista
from ._model import fourier_model, sparsifying, weighted
from ._monitor import Monitor
from ._regularizer import is_identity, to_prox

__all__ = ["ReconstructorBase", "OPTIMIZERS", "LIPSCHITZ_SAFETY"]

OPTIMIZERS = ("fista", "pogm", "condatvu")

LIPSCHITZ_SAFETY = 1.1
"""pysap-mri steps by ``1 / (1.1 L)`` (its power method's ``extra_factor``); we do the same
with our ``L`` (``lips_calc_max_iter`` power iterations, as pysap-mri) unless ``lipschitz_cst``
is given, which is then used as is (as pysap-mri does)."""



class ReconstructorBase:
    """Solve ``1/2 ||F x - y||^2 + H(W x)`` (analysis) or ``1/2 ||F W^H a - y||^2 + H(a)``
    (synthesis) with pysap-mri's algorithms and defaults.

    As in pysap-mri, with ``fista``/``pogm`` the regulariser is applied to the optimised
    variable: the wavelet coefficients in the synthesis formulation, the image itself in the
    analysis one (then use ``condatvu`` for a wavelet-analysis prior).
    """

    n_image_coils = 1  # coils in the optimised image (calibrationless: all of them)

    def __init__(self, fourier_op, linear_op, regularizer_op=None,
                 gradient_formulation="synthesis", verbose=0, **extra_grad_args):
        if gradient_formulation not in ("analysis", "synthesis"):
            raise ValueError("gradient_formulation must be 'analysis' or 'synthesis', "
                             f"received {gradient_formulation!r}")
        self.lipschitz_cst = extra_grad_args.pop("lipschitz_cst", None)
        self.lips_calc_max_iter = int(extra_grad_args.pop("lips_calc_max_iter", 10))
        # pysap-mri's random check of the constant and the dtype of its test vectors: our
        # constant is a closed-form bound or a power iteration, nothing to check
        extra_grad_args.pop("num_check_lips", None)
        extra_grad_args.pop("dtype", None)
        reject_unknown(type(self).__name__, extra_grad_args)
        if regularizer_op is None:
            warnings.warn("The prox_op is not set. Setting to identity. Note that "
                          "optimization is just a gradient descent.")
        self.fourier_op, self.linear_op = fourier_op, linear_op
        self.prox_op = regularizer_op
        self.gradient_method = gradient_formulation
        self.verbose = verbose

    # hooks -------------------------------------------------------------------------
    def _smaps(self, kspace_data):
        return None

    # the run --------------------------------------------------------------------------
    def reconstruct(self, kspace_data, optimization_alg="pogm", x_init=None,
                    num_iterations=100, cost_op_kwargs=None, **kwargs):
        """Run ``optimization_alg`` ('fista', 'pogm' or 'condatvu') for ``num_iterations``
        from ``x_init`` (default zeros) on ``kspace_data`` (NumPy array or torch tensor);
        return ``(x_final, costs, metrics)``."""
        if optimization_alg not in OPTIMIZERS:
            raise ValueError(f"optimization_alg must be one of {list(OPTIMIZERS)}, "
                             f"received {optimization_alg!r}")
        if isinstance(num_iterations, bool) or int(num_iterations) != num_iterations \
                or num_iterations < 1:
            raise ValueError(f"num_iterations must be an integer >= 1, received "
                             f"{num_iterations!r}")
        if not (isinstance(kspace_data, np.ndarray) or hasattr(kspace_data, "detach")):
            raise UnsupportedOptionError("reconstruct", f"kspace_data of type "
                                         f"{type(kspace_data).__name__}",
                                         supported="NumPy arrays and torch tensors")
        shape = tuple(self.fourier_op.shape)
        coils = self.n_image_coils
        operator, density = fourier_model(self.fourier_op, self._smaps(kspace_data))
        operator, kspace = weighted(operator, kspace_data, density)
        transform = sparsifying(self.linear_op, shape, coils)
        synthesis = self.gradient_method == "synthesis"
        if synthesis and optimization_alg == "condatvu":
            raise UnsupportedOptionError("reconstruct", "optimization_alg='condatvu' with "
                                         "gradient_formulation='synthesis'",
                                         supported="condatvu with 'analysis'")
        if not synthesis and optimization_alg != "condatvu" and not is_identity(
                self.linear_op):
            raise UnsupportedOptionError(
                "reconstruct", f"optimization_alg={optimization_alg!r} with "
                f"gradient_formulation='analysis' and linear_op="
                f"{type(self.linear_op).__name__}", supported="linear_op=Identity() (the "
                "regulariser then acts on the image itself)", hint="an analysis prior "
                "needs optimization_alg='condatvu' (pysap-mri stops with an AttributeError "
                "here)")
        model = operator @ transform.H if synthesis else operator
        data = LeastSquares(model, kspace)
        lipschitz = (float(self.lipschitz_cst) if self.lipschitz_cst is not None
                     else LIPSCHITZ_SAFETY * self._lipschitz(model, kspace))
        prox = to_prox(self.prox_op)
        zeros = 0 * operator._adj_op(kspace)
        if x_init is not None and tuple(x_init.shape) != tuple(zeros.shape):
            raise ValueError(f"x_init must have the image's shape {tuple(zeros.shape)}, "
                             f"received {tuple(x_init.shape)}")
        x0 = zeros if x_init is None else x_init
        start = transform._op(x0) if synthesis else x0
        to_image = transform._adj_op if synthesis else (lambda v: v)
        monitor = Monitor(metrics=kwargs.pop("metrics", None),
                          dual=optimization_alg == "condatvu",
                          metric_call_period=kwargs.pop("metric_call_period", 5),
                          n_iter=num_iterations, to_image=to_image,
                          # pysap-mri's costs: the regulariser's at the optimised
                          # variable, for Condat-Vu at the dual variable (its GenericCost)
                          cost_fn=lambda state: data.cost(state["x"]) + prox.cost(
                              state["u"] if optimization_alg == "condatvu" else state["x"]),
                          cost_op_kwargs=cost_op_kwargs)
        run = dict(x0=start, n_iter=int(num_iterations), callback=monitor)
        if optimization_alg == "fista":
            result = self._fista(data, prox, 1.0 / lipschitz, run, kwargs)
        elif optimization_alg == "pogm":
            sigma_bar = kwargs.pop("sigma_bar", 0.96)
            reject_unknown("reconstruct(optimization_alg='pogm')", kwargs)
            result = pogm(data, prox, step=1.0 / lipschitz, sigma_bar=sigma_bar, **run)
        else:
            result = self._condatvu(data, prox, transform, lipschitz, run, kwargs)
            self.y_final = result.extra["u"]
        self.x_final = to_image(result.x)
        self.costs, self.metrics = monitor.results()
        self.optim_result = result
        return self.x_final, self.costs, self.metrics

    def _lipschitz(self, model, kspace):
        """``||A||^2`` estimated as pysap-mri does (modopt's power method): from a vector
        of uniform [0, 1) entries (seeded here), at most ``lips_calc_max_iter`` (default
        10) iterations, stopping when the norm changes by less than 1e-6 (our closed-form
        bounds, e.g. 1 for SENSE, would change the step)."""
        from pysap_mri_dl._backend import norm, same_kind
        x = np.random.default_rng(0).random(model.shape_in).astype(np.complex64)
        if not isinstance(kspace, np.ndarray):
            x = same_kind(x, kspace)
        normal, x_norm = model.normal(), norm(x)
        x = x / x_norm
        for _ in range(self.lips_calc_max_iter):
            y = normal.op(x)
            y_norm = norm(y)
            x = y / y_norm
            if abs(y_norm - x_norm) < 1e-6:
                break
            x_norm = y_norm
        return y_norm

    @staticmethod
    def _fista(data, prox, step, run, kwargs):
        lambda_init = kwargs.pop("lambda_init", 1.0)
        restart = kwargs.pop("restart_strategy", None)
        if lambda_init != 1.0:
            raise UnsupportedOptionError("reconstruct(optimization_alg='fista')",
                                         f"lambda_init={lambda_init!r}", supported="1.0")
        if restart is not None:
            raise UnsupportedOptionError("reconstruct(optimization_alg='fista')",
                                         f"restart_strategy={restart!r}", supported="None",
                                         hint="pysap_mri_dl.optim.fista(restart='adaptive') "
                                         "is the engine's restart")
        reject_unknown("reconstruct(optimization_alg='fista')", kwargs)
        return modopt_fista(data, prox, step=step, **run)

    def _condatvu(self, data, prox, transform, lipschitz, run, kwargs):
        where = "reconstruct(optimization_alg='condatvu')"
        sigma = kwargs.pop("sigma", None)
        sigma = 0.5 if sigma is None else float(sigma)
        tau = kwargs.pop("tau", None)
        relaxation = kwargs.pop("relaxation_factor", 1.0)
        method = kwargs.pop("std_est_method", None)
        if method is not None:
            raise UnsupportedOptionError(where, f"std_est_method={method!r} (reweighting)",
                                         supported="None")
        for unused in ("std_est", "std_thr", "nb_of_reweights"):  # only with std_est_method
            kwargs.pop(unused, None)
        reject_unknown(where, kwargs)
        if tau is None:
            # pysap-mri's ||W||^2: the norm of a Dirac's coefficients (WaveletN's adjoint
            # being PyWavelets' inverse, a power iteration would measure W^-1 W, not W)
            tau = 1.0 / (lipschitz / 2 + sigma * self._dirac_norm2(run["x0"]) + 1e-8)
        # as pysap-mri, the dual variable starts at W x_init
        return primal_dual(data, prox, transform, tau=float(tau), sigma=sigma,
                           relaxation=relaxation, u0=transform._op(run["x0"]), **run)

    def _dirac_norm2(self, image):
        """pysap-mri's ``linear_op.l2norm`` of the image's shape (coils included)."""
        if hasattr(self.linear_op, "l2norm"):
            return self.linear_op.l2norm(tuple(image.shape)) ** 2
        return 1.0
