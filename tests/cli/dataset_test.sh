#!/usr/bin/env bash
# `lpsim run` on the user's own IDX data (dataset.name: idx): a synthetic 3-channel 20x24
# dataset with 4 learnable classes (make_idx_dataset), MLP and LeNet-5 trained one epoch
# well above chance, the training set's statistics as default preprocessing, NHWC files
# giving the same result as NCHW, the model cache following the data's content, and the
# dataset errors (exit 2, the file or key named).
set -euo pipefail
LPSIM=$1
MAKE_IDX=$2
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$MAKE_IDX" "$d/nchw" --channels 3 --height 20 --width 24 --classes 4 --train 600 --test 200 --seed 7
"$MAKE_IDX" "$d/nhwc" --channels 3 --height 20 --width 24 --classes 4 --train 600 --test 200 --seed 7 --layout nhwc
scenario() {  # dir arch layout out
  cat <<YAML
seed: 2
dataset: {name: idx, path: $1, layout: $3}
model: {arch: $2, cache: $d/models, train: {epochs: 1, batch_size: 16, lr: 0.02}}
hardware: {energy_model: none}
quantization:
  calibration_images: 64
  configs:
    - name: fp32
    - {name: int8, weights: int8, activations: int8}
outputs: {dir: $4, plot: false}
YAML
}
accuracy() { awk -F, -v c="$2" '$1 == c { print $2 }' "$1/summary.csv"; }
above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

for arch in mlp lenet5; do
  scenario "$d/nchw" $arch nchw "$d/out-$arch" > "$d/$arch.yaml"
  "$LPSIM" run -q "$d/$arch.yaml" > /dev/null || fail "$arch run"
  for c in fp32 int8; do
    a=$(accuracy "$d/out-$arch" $c)
    above "$a" 0.7 || fail "$arch $c accuracy $a (chance 0.25)"
  done
  echo "$arch: fp32 $(accuracy "$d/out-$arch" fp32), int8 $(accuracy "$d/out-$arch" int8)"
done
r="$d/out-lenet5/report.json"
grep -q '"source": "training-set statistics"' "$r" || fail "default preprocessing not recorded"
grep -q '"classes": 4' "$r" || fail "classes not recorded"
grep -q '"name": "idx"' "$r" || fail "dataset name not recorded"
grep -q 'int8,conv1,int8,int8,int32,480,75,6' "$d/out-lenet5/layers.csv" || fail "lenet5 conv1 not 3 -> 6 channels on 20x24"
grep -q 'int8,fc1,int8,int8,int32,1,192,120' "$d/out-lenet5/layers.csv" || fail "lenet5 fc1 not 192 inputs"
grep -q 'fp32,fc1,fp32,fp32,fp32,1,1440,256' "$d/out-mlp/layers.csv" || fail "mlp fc1 not 1440 inputs"
# The same images stored N×H×W×C: the same tensors, hence the same model and accuracy.
scenario "$d/nhwc" mlp nhwc "$d/out-nhwc" > "$d/nhwc.yaml"
"$LPSIM" run -q "$d/nhwc.yaml" > /dev/null || fail "nhwc run"
[ "$(accuracy "$d/out-nhwc" int8)" = "$(accuracy "$d/out-mlp" int8)" ] || fail "nhwc differs from nchw"
# The model cache follows the content: one changed training label trains a new model.
before=$(ls "$d/models" | wc -l)
"$LPSIM" run -q "$d/mlp.yaml" > /dev/null
[ "$(ls "$d/models" | wc -l)" -eq "$before" ] || fail "unchanged data retrained"
old=$(od -An -tu1 -j8 -N1 "$d/nchw/train-labels-idx1-ubyte" | tr -d ' ')
printf "\\$(printf '%03o' $(( (old + 1) % 4 )))" | dd of="$d/nchw/train-labels-idx1-ubyte" bs=1 seek=8 conv=notrunc 2>/dev/null
"$LPSIM" run -q "$d/mlp.yaml" > /dev/null
[ "$(ls "$d/models" | wc -l)" -eq $((before + 1)) ] || fail "changed data reused the cached model"
# Errors: exit 2 with the file or key named.
expect_error() {  # yaml, expected substring
  printf '%s\n' "$1" > "$d/bad.yaml"
  set +e
  out=$("$LPSIM" run -q "$d/bad.yaml" 2>&1)
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "exit $rc for: $1 ($out)"
  echo "$out" | grep -qF "$2" || fail "message '$out' lacks '$2'"
}
"$MAKE_IDX" "$d/small" --channels 1 --height 8 --width 8 --classes 3 --train 20 --test 10
expect_error "dataset: {name: idx, path: $d/small}
model: {arch: lenet5, cache: $d/models}" "images of 1x8x8 do not fit lenet5: layer conv2"
cp "$d/small/t10k-images-idx3-ubyte" "$d/nhwc/t10k-images-idx3-ubyte"
expect_error "dataset: {name: idx, path: $d/nhwc, layout: nhwc}
model: {arch: mlp, cache: $d/models}" "$d/nhwc/t10k-images-idx3-ubyte: test images are 1x8x8 but training images"
expect_error "dataset: {name: idx, path: $d/small}
model: {torchscript: $d/x.pt}" "bad.yaml:1:10: dataset.normalize: required with model.torchscript"
expect_error "dataset: {name: idx, path: $d/nchw, normalize: {mean: [0.5, 0.5], std: [1]}}
model: {arch: mlp, cache: $d/models}" "dataset.normalize.mean: 2 entries for images of 3 channels"
expect_error "dataset: {name: idx, path: $d/nchw, test_labels: nope}" "$d/nchw/nope: file not found"
echo "dataset_test: all checks passed"
