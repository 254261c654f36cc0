"""pysap-mri's bookkeeping during iterations: modopt-style metrics and the cost list with
its convergence test (``cost_op_kwargs``), driven by our algorithms' ``callback``."""
import time

import numpy as np

from ..errors import reject_unknown


MAPPED = ("x_new", "idx", "y_new")
"""The values a metric's ``mapping`` may ask for: the image, the iteration (from 0) and,
for Condat-Vu, the dual variable (modopt's names)."""


class Monitor:
    """``callback(iteration, state)`` for our algorithms: records ``metrics`` every
    ``metric_call_period`` iterations (and at the last one) on the image, the cost every
    ``cost_interval`` iterations, and stops when modopt's cost test (relative change of
    the means of the two halves of ``test_range`` costs below ``tolerance``) says so."""

    def __init__(self, *, metrics, metric_call_period, n_iter, to_image, cost_fn,
                 cost_op_kwargs, dual=False):
        options = dict(cost_op_kwargs or {})
        self.cost_interval = options.pop("cost_interval", None)
        self.tolerance = float(options.pop("tolerance", 1e-4))
        self.test_range = int(options.pop("test_range", 4))
        options.pop("verbose", None)  # printing only
        options.pop("initial_cost", None)  # modopt's placeholder before the first cost
        reject_unknown("cost_op_kwargs", options)
        self.metrics = {}
        for name, spec in (metrics or {}).items():
            spec = dict(spec)
            if spec.pop("early_stopping", False):
                from ..errors import UnsupportedOptionError
                raise UnsupportedOptionError("metrics", f"early_stopping=True for {name!r}")
            mapping = spec.pop("mapping", {"x_new": "test"})
            unknown = sorted(set(mapping) - set(MAPPED if dual else MAPPED[:2]))
            if unknown:
                from ..errors import UnsupportedOptionError
                raise UnsupportedOptionError(f"metrics[{name!r}]['mapping']",
                                             f"keys {unknown}",
                                             supported=list(MAPPED if dual else MAPPED[:2]),
                                             hint="y_new (the dual variable) with condatvu")
            self.metrics[name] = (spec.pop("metric"), mapping, spec.pop("cst_kwargs", {}))
            reject_unknown(f"metrics[{name!r}]", spec)
        self.period = metric_call_period
        self.n_iter, self.to_image, self.cost_fn = n_iter, to_image, cost_fn
        self.history = {name: {"time": [], "index": [], "values": []} for name in self.metrics}
        self.costs, self._tests = [], []

    def __call__(self, iteration, state):
        x = state["x"]
        if self.metrics and self.period is not None and (
                iteration % self.period == 0 or iteration == self.n_iter - 1):
            values = {"x_new": self.to_image(x), "idx": iteration, "y_new": state.get("u")}
            for name, (metric, mapping, constants) in self.metrics.items():
                kwargs = {v: values[k] for k, v in mapping.items() if v}
                record = self.history[name]
                record["time"].append(time.time())
                record["index"].append(iteration)
                record["values"].append(metric(**kwargs, **constants))
        # pysap-mri's cost counts iterations from 0: iterations 1, 1 + k, 1 + 2k, ...
        if self.cost_interval is not None and iteration % self.cost_interval == 0:
            self.costs.append(float(self.cost_fn(state)))
            self._tests.append(self.costs[-1])
            if len(self._tests) == self.test_range:
                newer = np.mean(self._tests[len(self._tests) // 2:])
                older = np.mean(self._tests[:len(self._tests) // 2])
                self._tests = []
                change = abs(newer - older) / abs(newer) if newer else 0.0
                return change < self.tolerance
        return False

    def results(self):
        for record in self.history.values():
            times = np.asarray(record["time"])
            record["time"] = times - times[0] if times.size else times
        return self.costs, self.history
