#!/usr/bin/env bash
# Issue 13's GPU figures in one call of a lent GPU machine (15 minutes of device time in all; about 5 minutes
# on an H200): calibration rows for `energygan plan` (paper, default and toy nets at K = 1, 8, 32, 128; the
# paper grid's largest and a middle architecture; 4-run batches 1 and 8 side by side, as the EBGAN grid
# trains), the fused against the elementwise Adam, tf32 / bf16 / reuse_fake rates, the engine against the
# one-run-at-a-time loop, and the CUDA-only tests. Run from the repository root; the package runs from src/ with $PYTHON's
# torch, pandas and pytest (the GPU machine's image has them); everything goes to $OUT (8 files at most).
# The plan's figures come first, each stage has its own time limit, and a failed stage does not stop the
# next: a short lease still brings back what finished.
#   bash benchmarks/gpu_session.sh                                  # on the GPU machine
#   OUT=/tmp/gpu PYTHON=.venv/bin/python DEVICE=cpu RUNS="1 2" ROUNDS=1 STEPS=20 bash benchmarks/gpu_session.sh
#                                                                   # a rehearsal on a CPU (4 min)
# Then, here: energygan plan --configfile config/paper.yaml --calibration $OUT/calibration.csv
set -uo pipefail
OUT=${OUT:?set OUT to the folder for the figures (the device machine sets it)}
DEVICE=${DEVICE:-cuda}
RUNS=${RUNS:-1 8 32 128}
ROUNDS=${ROUNDS:-20}           # timed steps per point: a GPU step takes milliseconds
STEPS=${STEPS:-300}
STAGE_S=${STAGE_S:-150}        # the most one stage may take
PYTHON=${PYTHON:-python3}
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$OUT"
cp benchmarks/calibration.csv "$OUT/calibration.csv"
{ "$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv || true; } > "$OUT/device.txt" 2>&1

stage() {  # stage FILE COMMAND...: its output to $OUT/FILE (appended), with its wall time and exit status
  local file=$1 t0=$SECONDS; shift
  echo "== $*" | tee -a "$OUT/$file"
  timeout "$STAGE_S" "$@" 2>&1 | tee -a "$OUT/$file"
  echo "== exit ${PIPESTATUS[0]} after $((SECONDS - t0)) s" | tee -a "$OUT/$file"
}
# First, where a study was planned here (WINDOW=window.json: benchmarks/study_window.py plan ...; carry
# data/mnist and results/evaluator), the study itself, each stage within its limit, kept in $OUT/window/study
if [ -n "${WINDOW:-}" ]; then
  # shellcheck disable=SC2086
  "$PYTHON" benchmarks/study_window.py run "$WINDOW" --out "$OUT/window" --python "$PYTHON" \
    --limits ${WINDOW_LIMITS:-train=420 probe=60 verdicts=60} 2>&1 | tee "$OUT/window.txt"
fi
bench=("$PYTHON" benchmarks/bench_engine.py --device "$DEVICE" --rounds "$ROUNDS")
# shellcheck disable=SC2086
stage engine.txt "${bench[@]}" --arch paper --runs $RUNS --adam engine elementwise --calibrate "$OUT/calibration.csv"
stage engine.txt "${bench[@]}" --arch grid_large --runs 8 24 --adam engine elementwise --calibrate "$OUT/calibration.csv"
stage engine.txt "${bench[@]}" --arch grid_mid --runs 24 --adam engine elementwise --calibrate "$OUT/calibration.csv"
stage side_by_side.txt "${bench[@]}" --arch paper --runs 4 --concurrent 1 8 --calibrate "$OUT/calibration.csv"
for setting in "--precision tf32" "--precision bf16" "--reuse-fake"; do
  # shellcheck disable=SC2086
  stage speed_settings.txt "${bench[@]}" --arch paper --runs 32 $setting
done
stage speed_settings.txt "${bench[@]}" --arch grid_large --runs 24 --precision tf32
# the loop as a user runs it: one process per run, against one engine process for all
stage processes.txt "$PYTHON" benchmarks/bench_engine.py --device "$DEVICE" --processes "$STEPS" --runs 1 8
for arch in default toy; do
  # shellcheck disable=SC2086
  stage engine.txt "${bench[@]}" --arch "$arch" --runs $RUNS --calibrate "$OUT/calibration.csv"
done
stage cuda_tests.txt "$PYTHON" -m pytest -q -p no:cacheprovider tests/engine/test_training.py tests/study/test_training_job.py -k "cuda or fused"
