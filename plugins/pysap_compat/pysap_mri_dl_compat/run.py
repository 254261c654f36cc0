"""Run a pysap-mri script on this layer without editing it: while it runs, the module
names ``mri`` and ``mri.*`` resolve to ``pysap_mri_dl_compat`` and its submodules, whatever
the import form (``from mri.operators import FFT``, ``import mri.operators``, ``import mri``).

From the command line: ``python -m pysap_mri_dl_compat script.py [args...]``.
"""
import contextlib
import importlib
import importlib.abc
import importlib.util
import os
import pathlib
import sys

__all__ = ["mri_aliased", "run_script", "main"]


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``mri[.sub]`` and loads it as ``<target>[.sub]`` (the same module object)."""

    def __init__(self, target):
        self.target = target

    def find_spec(self, name, path=None, target=None):
        if name == "mri" or name.startswith("mri."):
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        real = self.target + spec.name[len("mri"):]
        try:
            return importlib.import_module(real)
        except ModuleNotFoundError as error:
            raise ModuleNotFoundError(
                f"{spec.name} has no counterpart in {self.target} (looked for {real}); "
                "see docs/coming_from.rst for what the layer provides",
                name=spec.name) from error

    def exec_module(self, module):
        pass  # already executed under its own name


@contextlib.contextmanager
def mri_aliased(target="pysap_mri_dl_compat"):
    """Within the block, ``import mri...`` gives ``target``'s modules; modules named
    ``mri*`` imported before (pysap-mri itself) are set aside and restored after."""
    saved = {name: sys.modules.pop(name) for name in list(sys.modules)
             if name == "mri" or name.startswith("mri.")}
    finder = _AliasFinder(target)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n == "mri" or n.startswith("mri.")]:
            del sys.modules[name]
        sys.modules.update(saved)


def run_script(path, package="pysap_mri_dl_compat", env=None, argv=None):
    """Execute the script at ``path`` as ``__main__`` with ``mri`` resolving to ``package``
    (``package='mri'``: pysap-mri itself), ``env`` added to ``os.environ`` and the script's
    folder first on ``sys.path`` (as ``python script.py`` would); returns the script's
    global namespace."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"run_script: path must be an existing Python script, "
                                f"received {str(path)!r}")
    os.environ.update(env or {})
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(path)] + list(argv or [])
    sys.path.insert(0, str(path.resolve().parent))
    namespace = {"__name__": "__main__", "__file__": str(path)}
    aliasing = contextlib.nullcontext() if package == "mri" else mri_aliased(package)
    try:
        with aliasing:
            exec(compile(path.read_text(), str(path), "exec"), namespace)
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return namespace


def main(argv=None):
    """``python -m pysap_mri_dl_compat SCRIPT [ARGS...]``; exit status 2, with a one-line
    message, when SCRIPT is missing."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        stream = sys.stdout if argv else sys.stderr
        print("usage: python -m pysap_mri_dl_compat SCRIPT [ARGS...]\n"
              "Run a pysap-mri script with `mri` resolving to pysap_mri_dl_compat.",
              file=stream)
        return 0 if argv else 2
    if not pathlib.Path(argv[0]).is_file():
        print(f"error: SCRIPT must be an existing Python script, received {argv[0]!r}",
              file=sys.stderr)
        return 2
    run_script(argv[0], argv=argv[1:])
    return 0
