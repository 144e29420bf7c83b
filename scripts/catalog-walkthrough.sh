#!/usr/bin/env bash
# Regenerates docs/catalog-walkthrough.md from real runs over the demo library (run `make demo`
# first). usage: scripts/catalog-walkthrough.sh [BUILD]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
L=demo/models
[ -d "$L" ] || { echo "run 'make demo' first" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CKPTDB_DB=$tmp/catalog.sqlite CKPTDB_HOST=demo
run() {
  echo '```'
  printf '$ ckptdb'
  for a in "$@"; do case $a in *' '*) printf " '%s'" "$a" ;; *) printf ' %s' "$a" ;; esac; done
  echo
  "$build/ckptdb" "$@" 2>"$tmp/err" | sed "s#$PWD/##g" || true
  sed "s#$PWD/##g" "$tmp/err"
  echo '```'
  echo
}
{
cat <<'H'
# The catalog in five minutes: scan -> list -> set -> choose -> export

This walk-through runs on the demo library (`make demo` generates it under `demo/models`: 24
models with the real tensor names and shapes of each family, sparse data, and the sidecars and
metadata that Civitai Helper, Stability Matrix, A1111 and kohya leave behind). Every output
below is real (regenerate with `scripts/catalog-walkthrough.sh`). The catalog lives at
`--db PATH`, else `$CKPTDB_DB`, else `~/.local/share/ckptdb/catalog.sqlite`.

## 1. Scan

`scan` finds model files by content, reads each header (never the weights), identifies it,
hashes it (here skipped with `--no-hash`: the sparse demo files add up to tens of GB), and reads
its sidecars. A second scan opens nothing that has not changed.

H
run scan --no-hash $L
run scan --no-hash $L
cat <<'H'
## 2. List

Measured columns (kind, family) come from the file. `~anime` is a *suggestion*: ckptdb's guess
from names, metadata and sidecars, never shown as if you had chosen it.

H
run list
run list --family sdxl --kind checkpoint
cat <<'H'
`show` says why each suggestion was made:

H
run show revAnimated_v122
cat <<'H'
## 3. Set, tag, accept

Values are checked against the taxonomy; a wrong one lists the valid ones and changes nothing.

H
run set revAnimated_v122 realism=2.5d
run set revAnimated_v122 output=anime realism=2.5D,2D rating=5 "note=best hands of my SD 1.5 set" settings.cfg=7
run tag revAnimated_v122 +fantasy +favourite
run accept juggernautXL_v9
run list --output anime --min-rating 4
cat <<'H'
## 4. Choose

`choose` ranks models for a wish: chosen values count most, suggestions less (by confidence),
then the rating; each result says why.

H
run choose --output anime --realism 2.5D --top 3
run choose --output photorealistic --family sdxl
run search fantasy
cat <<'H'
## 5. Export (and import)

`export --format md` writes the table collectors publish; `--format json` writes every model
object, which `ckptdb import` restores onto another catalog of the same files (matched by
sha256 once the files are hashed).

H
echo '```'
echo '$ ckptdb export --format md | head -8'
"$build/ckptdb" export --format md | head -8
echo '```'
} > docs/catalog-walkthrough.md
