#!/usr/bin/env bash
# Golden test for `ckptdb identify --json`: every fixture of tests/fixtures.d/10-identify.sh must
# identify exactly as tests/identify/golden/NAME.json says (pretty-printed, path = base name).
# CKPT_UPDATE_GOLDEN=1 rewrites the goldens instead; review the diff before committing.
set -euo pipefail
dir=$(cd "$CKPT_FIXTURES/identify" && pwd)
golden=$CKPT_SRC/tests/identify/golden
py=/usr/bin/python3
cd "$dir"
files=()
for f in *; do
  case $f in *.civitai.info|*.cm-info.json) ;; *) files+=("$f") ;; esac
done
# one run over every fixture (the CLI's multi-file path), split and compared in one Python run
"$CKPT_BIN" identify --json "${files[@]}" >"$CKPT_BUILD/identify-all.json"
"$py" - "$CKPT_BUILD/identify-all.json" "$golden" "$dir" "${CKPT_UPDATE_GOLDEN:-0}" <<'PY'
import difflib, json, os, sys
out, golden, fixtures, update = sys.argv[1:5]
fail = 0
seen = set()
for obj in json.load(open(out)):
    name = obj["path"]
    seen.add(name)
    text = json.dumps(obj, indent=1, ensure_ascii=False) + "\n"
    g = os.path.join(golden, name + ".json")
    if update == "1":
        open(g, "w").write(text)
    elif not os.path.exists(g):
        print(f"identify: no golden file for {name}", file=sys.stderr); fail = 1
    elif open(g).read() != text:
        sys.stderr.writelines(difflib.unified_diff(open(g).read().splitlines(True),
                                                   text.splitlines(True), g, "actual"))
        print(f"identify: {name} differs from its golden file", file=sys.stderr); fail = 1
for g in os.listdir(golden):
    if g[:-5] not in seen:
        print(f"identify: golden {g} has no fixture (or the fixture was not reported)",
              file=sys.stderr); fail = 1
if not fail:
    print(f"identify: {len(seen)} fixtures match their golden files")
sys.exit(fail)
PY
# exit status: a file that cannot be read gives 1, the others are still reported
printf 'not a model' >"$CKPT_BUILD/identify-bad.bin"
set +e
out=$("$CKPT_BIN" identify --json "$CKPT_BUILD/identify-bad.bin" sd15.safetensors 2>/dev/null)
rc=$?
set -e
[ $rc -eq 1 ] || { echo "identify: exit $rc for an unreadable file, want 1" >&2; exit 1; }
printf '%s' "$out" | "$py" -c 'import json,sys; a=json.load(sys.stdin); assert len(a)==1 and a[0]["family"]=="sd1", a'
