#!/usr/bin/env bash
# Run HERE (the development machine, which reaches PyPI) before a session's GPU run: fills
# .gpu_carry/ (git-ignored) with what the GPU machine lacks and cannot download, so that
# benchmarks/gpu/run.sh needs nothing from the network there:
#   .gpu_carry/whl/     Python 3.12 manylinux wheels of our dependencies its image lacks
#                       (PyWavelets, nibabel, ducc0, modopt, Dask's distributed and theirs)
#   .gpu_carry/data/    a copy of ../shared/data (the real cases; ../shared does not travel)
# The GPU image already holds torch, CuPy, SciPy, scikit-image, h5py, tqdm, matplotlib,
# hypothesis and pytest (/work/.library/device/KINDS.md). cuFINUFFT's wheel (53-115 MB)
# does not fit the 64 MiB a call may carry: the cuFINUFFT tests skip there.
set -euo pipefail
cd "$(dirname "$0")/../.."
CARRY=.gpu_carry
PYTHON=${PYTHON:-python3}
rm -rf "$CARRY"
mkdir -p "$CARRY/whl"
WHEELS=(pywavelets==1.9.0 nibabel==5.4.2 ducc0==0.42.0 modopt==1.7.2 importlib-metadata
        distributed dask partd locket tblib zict tornado)
for spec in "${WHEELS[@]}"; do
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform manylinux1_x86_64 --platform any -d "$CARRY/whl" "$spec" 2>&1 \
        | grep -v "^WARNING: Location" || true
done
if [ -d ../shared/data ]; then
    cp -r ../shared/data "$CARRY/data"
else
    echo "note: ../shared/data is absent; the tests that read it will skip on the GPU machine"
fi
echo "== $CARRY: $(du -sh "$CARRY" | cut -f1) (the tracked tree adds $(git ls-files -z | du -ch --files0-from=- | tail -1 | cut -f1); a call carries 64 MiB at most)"
ls "$CARRY/whl"
