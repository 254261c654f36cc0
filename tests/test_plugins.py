"""Plugin discovery through entry points."""
from importlib.metadata import EntryPoint

import pytest

from pysap_mri_dl import plugins
from pysap_mri_dl.recon import SOLVERS


def _fake_entry_points(value):
    def fake(group):
        assert group == plugins.GROUP
        return [EntryPoint(name="fake", value=value, group=group)]
    return fake


def register_fake():
    SOLVERS["fake-solver"] = lambda data, prior, **options: None
    return {"solvers": ["fake-solver"]}


def test_plugin_is_discovered_and_registers(monkeypatch):
    monkeypatch.setattr(plugins, "entry_points", _fake_entry_points(f"{__name__}:register_fake"))
    monkeypatch.setattr(plugins, "_loaded", {})
    try:
        assert plugins.available_plugins() == ["fake"]
        loaded = plugins.load_plugins()
        assert loaded == {"fake": {"solvers": ["fake-solver"]}} and "fake-solver" in SOLVERS
    finally:
        SOLVERS.pop("fake-solver", None)


def test_broken_or_missing_plugin_named(monkeypatch):
    monkeypatch.setattr(plugins, "entry_points", _fake_entry_points("no_such_module:register"))
    monkeypatch.setattr(plugins, "_loaded", {})
    with pytest.raises(RuntimeError, match="plugin 'fake'"):
        plugins.load_plugins()
    monkeypatch.setattr(plugins, "entry_points", lambda group: [])
    with pytest.raises(ValueError, match="plugins not installed"):
        plugins.load_plugins(["bart"])
