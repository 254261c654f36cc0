"""Plugin discovery through entry points (group ``pysap_mri_dl.plugins``).

A plugin is a separately installed distribution (see ``plugins/`` in the repository) whose
entry point names a callable ``register()``; calling it registers solvers, priors or readers
with the core (for example through :func:`pysap_mri_dl.recon.register_solver`). The core
never imports a plugin by name.
"""
from __future__ import annotations

from importlib.metadata import entry_points

__all__ = ["GROUP", "available_plugins", "load_plugins"]

GROUP = "pysap_mri_dl.plugins"
_loaded: dict = {}


def available_plugins() -> list[str]:
    """Names of installed plugins."""
    return sorted(ep.name for ep in entry_points(group=GROUP))


def load_plugins(names=None) -> dict:
    """Load (once) and register the installed plugins, or only ``names``.

    Returns a mapping from plugin name to the value its ``register()`` returned. A plugin
    that fails to load raises a RuntimeError naming it.
    """
    for ep in entry_points(group=GROUP):
        if (names is not None and ep.name not in names) or ep.name in _loaded:
            continue
        try:
            register = ep.load()
            _loaded[ep.name] = register()
        except Exception as exc:
            raise RuntimeError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
    if names is not None:
        missing = set(names) - set(_loaded)
        if missing:
            raise ValueError(f"plugins not installed: {sorted(missing)}; "
                             f"available: {available_plugins()}")
    return dict(_loaded)
