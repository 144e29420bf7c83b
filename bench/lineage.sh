#!/usr/bin/env bash
# Lineage costs (issue 9), not part of the pass/fail suite. usage: bench/lineage.sh [BUILD]
# 1. Fingerprinting inside the hashing pass: `ckptdb scan` of one SD1-sized fp16 checkpoint
#    (mkfixture, random values) with fingerprints against `scan --no-lineage`, 3 runs each,
#    alternating, file in the page cache; the median wall times and their ratio.
# 2. `lineage MODEL` and `similar MODEL` over a 10,000-model catalog (tools/catalog_gen rows,
#    each given a copy of the real SD1 fingerprint, about 100 KB): median of 5 runs.
set -euo pipefail
b=${1:-build}
export CKPT_SHARED=${CKPT_SHARED:-../shared}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir "$t/m"
"$b/tools/mkfixture" -o "$t/m/sd1.safetensors" --force --dtype F16 --data random \
  --keys UNET-v1-SD:model.diffusion_model. --keys VAE-v1-SD:first_stage_model. \
  --keys CLIP-v1-SD:cond_stage_model.transformer.text_model. >/dev/null
cat "$t/m/sd1.safetensors" >/dev/null
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
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

# a 10,000-model catalog
"$b/tools/catalog_gen" "$t/big.db" 9999 >/dev/null
"$b/ckptdb" --db "$t/big.db" scan "$t/m" >/dev/null
sqlite3 "$t/big.db" "INSERT INTO lineage(file_id, family, fold)
  SELECT f.id, l.family, l.fold FROM files f, (SELECT * FROM lineage LIMIT 1) l
  WHERE f.id NOT IN (SELECT file_id FROM lineage);
  INSERT INTO lineage_fp(file_id, fp) SELECT f.id, l.fp FROM files f,
  (SELECT * FROM lineage_fp LIMIT 1) l WHERE f.id NOT IN (SELECT file_id FROM lineage_fp);"
n=$(sqlite3 "$t/big.db" "SELECT count(*) FROM lineage")
for cmd in lineage similar; do
  : >"$t/$cmd.times"
  for i in 1 2 3 4 5; do
    t0=$(now); "$b/ckptdb" --db "$t/big.db" $cmd sd1 >/dev/null; t1=$(now)
    echo "($t1 - $t0) * 1000" | bc >>"$t/$cmd.times"
  done
  echo "$cmd over $n fingerprinted models: $(median <"$t/$cmd.times") ms (median of 5)"
done
