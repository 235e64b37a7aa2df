#!/usr/bin/env bash
# Issue 13's GPU figures in one call of a lent GPU machine (15 minutes of device time in all): calibration
# rows for `energygan plan` (paper, default and toy nets at K = 1, 8, 32, 128; 4-run batches 1 and 8 side by
# side, as the EBGAN grid trains), the engine against the one-run-at-a-time loop, tf32 / bf16 / reuse_fake
# rates, and the CUDA-only test. Run from the repository root; the package runs from src/ with $PYTHON's
# torch, pandas and pytest (the GPU machine's image has them); everything goes to $OUT.
#   bash benchmarks/gpu_session.sh                                  # on the GPU machine
#   OUT=/tmp/gpu PYTHON=.venv/bin/python DEVICE=cpu RUNS="1 2" ROUNDS=1 STEPS=20 bash benchmarks/gpu_session.sh
#                                                                   # a rehearsal on a CPU (4 min)
# Then, here: energygan plan --configfile config/paper.yaml --calibration $OUT/calibration.csv
set -euo pipefail
OUT=${OUT:?set OUT to the folder for the figures (the device machine sets it)}
DEVICE=${DEVICE:-cuda}
RUNS=${RUNS:-1 8 32 128}
ROUNDS=${ROUNDS:-5}
STEPS=${STEPS:-300}
mkdir -p "$OUT"
cp benchmarks/calibration.csv "$OUT/calibration.csv"
PYTHON=${PYTHON:-python3}
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" > "$OUT/python.txt"
{ nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv || true; } > "$OUT/device.txt" 2>&1
bench() { echo "== bench_engine $*"; "$PYTHON" benchmarks/bench_engine.py --device "$DEVICE" --rounds "$ROUNDS" "$@"; }
for arch in paper default toy; do
  # shellcheck disable=SC2086
  bench --arch "$arch" --runs $RUNS --calibrate "$OUT/calibration.csv"
done 2>&1 | tee "$OUT/engine.txt"
bench --arch paper --runs 4 --concurrent 1 8 --calibrate "$OUT/calibration.csv" 2>&1 | tee "$OUT/side_by_side.txt"
for setting in "--precision tf32" "--precision bf16" "--reuse-fake"; do
  # shellcheck disable=SC2086
  bench --arch paper --runs 32 $setting
done 2>&1 | tee "$OUT/speed_settings.txt"
# the loop as a user runs it: one process per run, against one engine process for all
"$PYTHON" benchmarks/bench_engine.py --device "$DEVICE" --processes "$STEPS" --runs 1 8 2>&1 | tee "$OUT/processes.txt"
"$PYTHON" -m pytest -q tests/test_jobs.py -k cuda 2>&1 | tee "$OUT/cuda_tests.txt"
