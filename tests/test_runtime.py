"""Process settings (pysap_mri_dl.runtime): glibc's allocator asked to keep freed memory."""
import platform

import pytest

from pysap_mri_dl.runtime import retain_freed_memory


def test_retain_freed_memory_applies_on_glibc():
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("glibc only")
    assert retain_freed_memory() is True


def test_retain_freed_memory_leaves_the_users_settings(monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    assert retain_freed_memory() is False


@pytest.mark.parametrize("options, message", [
    (dict(mmap_threshold=0), "mmap_threshold must be a positive number of bytes"),
    (dict(trim_threshold=1.5), "trim_threshold must be a positive number of bytes"),
    (dict(mmap_threshold=2 ** 30), "mmap_threshold must be at most"),
    (dict(trim_threshold=2 ** 31), "trim_threshold must be at most 2147483647 bytes"),
])
def test_retain_freed_memory_names_a_bad_argument(options, message):
    with pytest.raises(ValueError, match=message):
        retain_freed_memory(**options)
