from pathlib import Path

import numpy as np
import pytest
import tempfile

from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

# nothing in the checkout: no example database (every run draws afresh from its seeds), and
# hypothesis' other caches go to the temporary folder instead of ./.hypothesis
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "pysap-mri-dl-hypothesis"))
settings.register_profile("project", database=None)
settings.load_profile("project")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """Path to ../shared/data (real MRI data beside the checkout); skips when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present (only in the developers' checkout and CI)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_volume(tmp_path_factory):
    """A small NIfTI volume made of the bundled real brain slice, shifted (so that the
    training tests run without ../shared)."""
    import nibabel as nib
    from skimage.transform import resize

    from pysap_mri_dl.data import load_sample
    image = resize(load_sample("brain_slice_2d").reference, (48, 48), anti_aliasing=True)
    volume = np.stack([np.roll(image, shift, axis=0) for shift in range(0, 40, 4)], -1)
    path = tmp_path_factory.mktemp("volume") / "slices.nii.gz"
    nib.save(nib.Nifti1Image(volume.astype(np.float32), np.eye(4)), str(path))
    return path


@pytest.fixture(scope="session")
def small_acquisition():
    """``make(sample, n_coils, noise)``: a 64^2 acquisition simulated from a bundled real
    image (resized), 4x random columns with a 16% centre: ``(kspace, mask, reference)``."""
    from skimage.transform import resize

    from pysap_mri_dl.data import load_sample
    from pysap_mri_dl.data.simulation import simulate_acquisition
    from pysap_mri_dl.sampling import random_column_mask

    def make(sample="brain_slice_2d", n_coils=3, noise=0.002):
        image = resize(load_sample(sample).reference, (64, 64), anti_aliasing=True)
        acq = simulate_acquisition(image, n_coils=n_coils, noise=noise, seed=0)
        mask = random_column_mask((64, 64), acceleration=4, center_fraction=0.16, seed=0)
        return (acq.kspace * mask).astype(np.complex64), mask, acq.reference
    return make


@pytest.fixture(scope="session")
def brain():
    from pysap_mri_dl.data import load_sample
    return load_sample("brain_4coil")


@pytest.fixture(scope="session")
def brain_mask(brain):
    from pysap_mri_dl.sampling import random_column_mask
    return random_column_mask(brain.kspace.shape[1:], acceleration=4, center_fraction=0.08, seed=0)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def brain_slice_256():
    """The bundled real brain slice (512^2 magnitude) resampled to 256^2, maximum 1."""
    from skimage.transform import resize

    from pysap_mri_dl.data import load_sample
    image = resize(load_sample("brain_slice_2d").reference, (256, 256), anti_aliasing=True)
    return (image / image.max()).astype(np.float32)


@pytest.fixture
def gpu_like():
    """``gpu_like('cupy' | 'torch-cuda')``: a one-element array of that kind on the GPU, or a
    clean skip when CuPy / CUDA torch / a CUDA device is missing."""
    def make(kind):
        if kind == "cupy":
            cupy = pytest.importorskip("cupy")
            try:
                count = cupy.cuda.runtime.getDeviceCount()
            except Exception:  # no driver
                count = 0
            if count < 1:
                pytest.skip("no CUDA device for CuPy")
            return cupy.zeros(1, dtype=cupy.complex64)
        torch = pytest.importorskip("torch")
        if not torch.cuda.is_available():
            pytest.skip("no CUDA device for torch")
        return torch.zeros(1, dtype=torch.complex64, device="cuda")
    return make


def pytest_collection_modifyitems(items):
    """Tests that need a GPU carry the ``gpu`` marker (``-m "not gpu"`` deselects them)."""
    for item in items:
        if "gpu_like" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gpu)
