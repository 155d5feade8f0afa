#!/usr/bin/env bash
# Reproduce the shipped weights from the shared recordings:
#   weights/blcu         4 classes (tones 1-4), speaker context, 8 voices   [4tone]
#   weights/blcu-5tone   5 classes (with the neutral tone)                   [5tone]
#   weights/blcu-words   5 classes, syllables alone and inside words         [words]
#
# Each step first runs leave-one-speaker-out for the model card's table (the
# human voices are held out one at a time; the synthetic voice is trained on,
# never reported with them), then trains the shipped model on every voice.
# Decoded audio is cached in $XDG_CACHE_HOME/keras_tone (or ~/.cache/keras_tone).
# Usage: scripts/train_blcu.sh [4tone|5tone|words|all]
#   (DATA=... WORDS=... PYTHON=... RUNS=... to override; SEEDS="..." sets the
#   cross-validation seeds of every step: default 0 1 2 for blcu, 0 for the others)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
DATA=${DATA:-../shared/data}
WORDS=${WORDS:-../shared/words}
RUNS=${RUNS:-runs}
WHAT=${1:-4tone}
HUMANS=(pffy_F1 losttheory_M1 audiocmn_YueTan audiocmn_ChenWang yali_F2 hantts_M2 hotoo_F3)
MANIFESTS=()
for folder in pffy_f1 losttheory_m1 audiocmn_yuetan audiocmn_chenwang yali_f2 hantts_m2 hotoo_f3 cedicttts_msyn; do
  MANIFESTS+=("$DATA/$folder/manifest.csv")
done
WORD_MANIFESTS=("$WORDS/audiocmn_hsk/manifest.csv" "$WORDS/cedicttts_msyn/manifest.csv")
LICENCES=(--licences scripts/blcu_data_licences.json)

step() {  # step NAME SEEDS LOSO_SPEAKERS... -- TRAIN_ARGS...
  local name=$1 seeds=${SEEDS:-$2}; shift 2
  local speakers=()
  while [[ $1 != -- ]]; do speakers+=("$1"); shift; done
  shift
  # shellcheck disable=SC2086
  "$PYTHON" -m keras_tone train "$@" --loso --speakers "${speakers[@]}" --seed $seeds \
    --output "$RUNS/$name-loso"
  "$PYTHON" -m keras_tone train "$@" --output "weights/$name" --name "$name" "${LICENCES[@]}" \
    --card-notes "scripts/${name//-/_}_card_notes.md" --loso-report "$RUNS/$name-loso/report.json"
}

if [[ $WHAT == 4tone || $WHAT == all ]]; then
  step blcu "0 1 2" "${HUMANS[@]}" -- "${MANIFESTS[@]}" --classes 4
fi
if [[ $WHAT == 5tone || $WHAT == all ]]; then
  # Neutral-tone clips from yali_F2 and hantts_M2 only (the voices with a
  # full set); balanced class weights (the default for 5 classes).
  step blcu-5tone 0 yali_F2 hantts_M2 -- "${MANIFESTS[@]}" --classes 5 --neutral-from yali_F2 hantts_M2
fi
if [[ $WHAT == words || $WHAT == all ]]; then
  # Syllable manifests and word manifests together; the one human word voice
  # (also in audiocmn_yuetan) and the synthetic one are the held-out folds.
  step blcu-words 0 audiocmn_YueTan cedicttts_Msyn -- "${MANIFESTS[@]}" "${WORD_MANIFESTS[@]}" --classes 5
fi
