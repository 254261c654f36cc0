"""Sphinx configuration: API reference from docstrings, gallery from examples/."""
import os

project = "pysap_mri_dl"
author = "pysap_mri_dl developers"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False}
napoleon_numpy_docstring = True
napoleon_use_ivar = True  # "Attributes" of dataclasses as fields: no duplicate descriptions
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "remove_config_comments": True,
    "capture_repr": (),  # do not print what the last line of a cell returns (Text(...))
}
os.environ.setdefault("PYSAP_MRI_DL_EXAMPLE_ITERS", "100")
try:
    import pydata_sphinx_theme  # noqa: F401
    html_theme = "pydata_sphinx_theme"
except ImportError:  # pragma: no cover
    html_theme = "alabaster"
exclude_patterns = ["_build"]
