#!/usr/bin/env bash
# Run THERE, on the lent GPU machine, after benchmarks/gpu/prepare.sh here: one call of the
# device tool with `carry: [".gpu_carry"]` and the command
#     bash benchmarks/gpu/run.sh [SECTION ...]
# Sections, in order (all by default; each under its own time limit, which together stay
# below the 600 s a call may run, and a failing section does not stop the next):
#   env       versions, nvidia-smi                                      (a few seconds)
#   gpu       the GPU tests: pytest -m gpu                              (limit 150 s)
#   backends  benchmarks/backends.py: FFT, SENSE, NUFFT, FISTA on NumPy, torch CPU/CUDA, CuPy
#                                                                       (limit 100 s)
#   steps     benchmarks/gpu/training_steps.py: every shipped network's training step and
#             inference on CUDA, and the seed-size PDNet / XPDNet / NC-PDNet (limit 100 s)
#   train     the seed-size XPDNet, trained on CUDA for TRAIN_MINUTES (default 2; limit
#             that + 60 s) by our own
#             command on Colin27 (needs .gpu_carry/data), weights and log sent back
#   suite     the rest of the test suite on 12 processes (pytest-xdist) (limit 240 s; not in
#             the default list: run it in a second call if time is left)
# Everything lands in $OUT (at most 8 files come back): env.txt, gpu_tests.log,
# backends.txt, training_steps.txt, train.log, xpdnet_seed.pt, xpdnet_seed_log.csv,
# suite.log.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
SECTIONS=("$@")
[ ${#SECTIONS[@]} -eq 0 ] && SECTIONS=(env gpu backends steps train)
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu PY=.venv/bin/python SKIP_WHEELS=1: a dry run here

# our dependencies the image lacks, from the carried wheels; the package from the tree
if [ -z "${SKIP_WHEELS:-}" ] && [ -d .gpu_carry/whl ] && [ ! -f /tmp/site/.done ]; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .gpu_carry/whl/*.whl && touch /tmp/site/.done
fi
export PYTHONPATH="/tmp/site:$PWD:$PWD/plugins/bart:$PWD/plugins/pysap_compat"
# the tests and the trainer read ../shared/data, which does not travel
if [ -d .gpu_carry/data ] && [ ! -e ../shared/data ]; then
    mkdir -p ../shared && ln -s "$PWD/.gpu_carry/data" ../shared/data
fi

section() { echo "== $1 ($(date +%T))"; }
for name in "${SECTIONS[@]}"; do
    case "$name" in
    env)
        section env
        { nvidia-smi; $PY -c "import sys, torch, numpy; print(sys.version); \
print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available()); \
print('numpy', numpy.__version__)"; $PY -c "import cupy; print('cupy', cupy.__version__)"; \
          $PY -c "import pysap_mri_dl, pywt, ducc0; print('pysap_mri_dl imports')"; } \
            > "$OUT/env.txt" 2>&1
        cat "$OUT/env.txt" ;;
    gpu)
        section gpu
        timeout 150 $PY -m pytest -q -m gpu -p no:cacheprovider -rs tests plugins \
            > "$OUT/gpu_tests.log" 2>&1
        echo "exit $?"; tail -25 "$OUT/gpu_tests.log" ;;
    backends)
        section backends
        timeout 100 $PY benchmarks/backends.py --repeats 3 > "$OUT/backends.txt" 2>&1
        echo "exit $?"; cat "$OUT/backends.txt" ;;
    steps)
        section steps
        timeout 100 $PY benchmarks/gpu/training_steps.py --device "$DEVICE" \
            > "$OUT/training_steps.txt" 2>&1
        echo "exit $?"; cat "$OUT/training_steps.txt" ;;
    train)
        section train
        minutes=${TRAIN_MINUTES:-2}
        rm -rf /tmp/xpdnet_seed
        timeout $(( minutes * 60 + 60 )) $PY -m pysap_mri_dl train \
            ../shared/data/images/mricron_colin27_ch2.nii.gz --model xpdnet \
            --model-config '{"start": "wavelet", "start_iterations": 100}' \
            --acceleration 4 --coils 1 12 --noise 0 0.005 --loss psnr --lr 1e-4 \
            --steps 100000 --minutes "$minutes" --validate-every 500 --device "$DEVICE" \
            --no-progress --out /tmp/xpdnet_seed > "$OUT/train.log" 2>&1
        echo "exit $?"; tail -15 "$OUT/train.log"
        cp /tmp/xpdnet_seed/model.pt "$OUT/xpdnet_seed.pt" 2>/dev/null
        cp /tmp/xpdnet_seed/log.csv "$OUT/xpdnet_seed_log.csv" 2>/dev/null ;;
    suite)
        section suite
        timeout 240 $PY -m pytest -q -m "not gpu" -n 12 -p no:cacheprovider tests plugins \
            > "$OUT/suite.log" 2>&1
        echo "exit $?"; tail -30 "$OUT/suite.log" ;;
    *)
        echo "unknown section $name (env gpu backends steps train suite)"; exit 2 ;;
    esac
done
