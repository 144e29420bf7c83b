#!/usr/bin/env bash
# Lineage costs (issue 9), not part of the pass/fail suite. usage: bench/lineage.sh [BUILD]
# env N (models in the query catalog, default 10000; 100000 for issue 10's target), SCAN=0 skips
# part 1, SD1=FILE reuses an SD1 fp16 checkpoint made before. Run it under `nice -n -10` on a
# shared machine.
# 1. Fingerprinting inside the hashing pass: `ckptdb scan` of one SD1-sized fp16 checkpoint
#    (mkfixture, random values) with fingerprints against `scan --no-lineage`, 3 runs each,
#    alternating, file in the page cache; the median wall times and their ratio.
# 2. `lineage MODEL` and `similar MODEL` over an N-model catalog (tools/catalog_gen rows, each
#    given a copy of the real SD1 fingerprint with its sketches perturbed: 200 close relatives,
#    the rest far; bench/lineage_catalog.py): median of 5 runs, wall and CPU (user + sys).
set -euo pipefail
b=${1:-build}
export CKPT_SHARED=${CKPT_SHARED:-../shared}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir "$t/m"
if [ -n "${SD1:-}" ]; then # an SD1 fp16 file made before (making one takes a minute)
  ln "$SD1" "$t/m/sd1.safetensors" 2>/dev/null || cp "$SD1" "$t/m/sd1.safetensors"
else
  "$b/tools/mkfixture" -o "$t/m/sd1.safetensors" --force --dtype F16 --data random \
    --keys UNET-v1-SD:model.diffusion_model. --keys VAE-v1-SD:first_stage_model. \
    --keys CLIP-v1-SD:cond_stage_model.transformer.text_model. >/dev/null
fi
cat "$t/m/sd1.safetensors" >/dev/null
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
N=${N:-10000}
if [ "${SCAN:-1}" != 0 ]; then
  for i in 1 2 3; do
    for mode in plain lineage; do
      rm -f "$t/$mode.db"*
      flag=$([ $mode = plain ] && echo --no-lineage || true)
      t0=$(now); "$b/ckptdb" --db "$t/$mode.db" scan $flag "$t/m" >/dev/null; t1=$(now)
      echo "$t1 - $t0" | bc >>"$t/$mode.times"
    done
  done
  p=$(median <"$t/plain.times"); l=$(median <"$t/lineage.times")
  size=$(sqlite3 "$t/lineage.db" "SELECT length(fp) + length(fold) FROM lineage JOIN lineage_fp USING (file_id)")
  echo "scan, hashing only:        $p s"
  echo "scan, hashing + lineage:   $l s  (ratio $(echo "scale=3; $l / $p" | bc); fingerprint $size bytes)"
fi

# an N-model catalog
"$b/tools/catalog_gen" "$t/big.db" $((N - 1)) >/dev/null
"$b/ckptdb" --db "$t/big.db" scan "$t/m" >/dev/null
/usr/bin/python3 "$(dirname "$0")/lineage_catalog.py" "$t/big.db"
n=$(sqlite3 "$t/big.db" "SELECT count(*) FROM lineage")
for cmd in lineage similar; do
  : >"$t/$cmd.times"
  : >"$t/$cmd.cpu"
  for i in 1 2 3 4 5; do
    t0=$(now)
    /usr/bin/time -f "%U %S" -o "$t/tm" "$b/ckptdb" --db "$t/big.db" $cmd sd1 >/dev/null
    t1=$(now)
    echo "($t1 - $t0) * 1000" | bc >>"$t/$cmd.times"
    awk '{print ($1 + $2) * 1000}' "$t/tm" >>"$t/$cmd.cpu"
  done
  printf '%s over %s fingerprinted models: %.0f ms wall, %.0f ms CPU (median of 5)\n' "$cmd" "$n" \
    "$(median <"$t/$cmd.times")" "$(median <"$t/$cmd.cpu")"
done
