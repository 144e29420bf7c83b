#!/usr/bin/env bash
# ckptdb lineage / similar on the synthetic SD1 family: an add-difference merge is found linear
# with its three parents and per-block weights within 0.01, a fine-tune's base is found, the
# similar JSON has the contract's fields and reports the shared VAE and text encoder, usage
# errors exit 2 and an unreadable candidate exits 1; over a catalog (fingerprints from scan),
# a weighted sum is explained by name with sha256s, a file outside it is compared with it, an
# unknown model exits 1, the scan records an origin suggestion (also on a rescan), and a
# catalog scanned --no-lineage says why it cannot answer; the synthetic files identify as
# sd1/sdxl checkpoints.
# The catalog part also runs against PostgreSQL (tests/cli/catalog_pg.sh, CKPT_TEST_DB1/2).
set -uo pipefail
. "$(dirname "$0")/common.bash"
bin=$CKPT_BIN
d=$CKPT_FIXTURES/lineage/sd1
all() { for n in "$@"; do printf '%s\n' "$d/$n.safetensors"; done; }
mapfile -t cands < <(all base ft1 ft2 ft3 ft4 ft5 ws1)
out=$("$bin" --json lineage "$d/ad1.safetensors" --candidates "${cands[@]}")
if /usr/bin/python3 - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["origin"]["value"] == "merge" and r["linear"] is True, r["origin"]
w = {p["name"].rsplit("/", 1)[1]: p for p in r["parents"]}
assert set(w) == {"ft1.safetensors", "ft3.safetensors", "base.safetensors"}, list(w)
for name, want in (("ft1", 1.0), ("ft3", 0.5), ("base", -0.5)):
    for b, v in w[name + ".safetensors"]["blocks"].items():
        if b not in ("TE", "VAE"):
            assert abs(v - want) < 0.01, (name, b, v)
assert r["base"].endswith("base.safetensors"), r["base"]
PY
then ok add-difference; else fail add-difference "$out"; fi

mapfile -t cands < <(all base ft1 ft3 ft4 ft5)
out=$("$bin" --json lineage "$d/ft2.safetensors" --candidates "${cands[@]}")
if /usr/bin/python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["origin"]["value"]=="fine-tune" and r["base"].endswith("/base.safetensors"), r' "$out"
then ok fine-tune; else fail fine-tune "$out"; fi

out=$("$bin" --json similar --top 3 "$d/ws1.safetensors" --candidates "${cands[@]}" "$d/ft2.safetensors")
if /usr/bin/python3 - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert len(r) == 3 and all(set(m) == {"model", "similarity", "blocks", "shared_components"} for m in r)
assert {r[0]["model"].rsplit("/", 1)[1], r[1]["model"].rsplit("/", 1)[1]} == {"ft1.safetensors", "ft2.safetensors"}, r
assert "vae" in r[0]["shared_components"] and "text-encoder" in r[0]["shared_components"], r[0]
assert r[0]["similarity"] >= r[1]["similarity"] >= r[2]["similarity"]
PY
then ok similar; else fail similar "$out"; fi

"$bin" lineage >/dev/null 2>&1; [ $? -eq 2 ] && ok usage || fail usage "no MODEL: want exit 2"
"$bin" lineage "$d/ad1.safetensors" --candidates "$d/base.safetensors" /nonexistent >/dev/null 2>&1
[ $? -eq 1 ] && ok missing || fail missing "missing candidate: want exit 1"
# over the catalog: scan computes the fingerprints in its hashing pass
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
mkdir "$t/m"; cp "$d"/{base,ft1,ft2,ft3,ws1}.safetensors "$t/m/"
# on PostgreSQL (tests/cli/catalog_pg.sh) CKPT_TEST_DB1/2 name two empty databases
c=${CKPT_TEST_DB1:-$t/c.db} n=${CKPT_TEST_DB2:-$t/n.db}
msg=$("$bin" --db "$c" scan "$t/m" 2>&1) && ok scan || fail scan "scan failed: $msg"
# the scan explains ws1 from its neighbours: an origin suggestion naming both parents; a rescan
# of the changed file explains it again into the same suggestion (the upsert), not a second one
sugg() { "$bin" --db "$c" show ws1 --json | jq -c '[.suggested.origin.value, (.suggested.origin.why | test("ft2.*ft1"))]'; }
[ "$(sugg)" = '["merge",true]' ] && ok scan-suggests || fail scan-suggests "$(sugg)"
touch -d '2001-01-01' "$t/m/ws1.safetensors"
msg=$("$bin" --db "$c" scan "$t/m" 2>&1) && [ "$(sugg)" = '["merge",true]' ] && ok rescan-suggests ||
  fail rescan-suggests "$msg; $(sugg)"
out=$("$bin" --db "$c" --json lineage ws1)
if /usr/bin/python3 - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["model"] == "ws1" and r["origin"]["value"] == "merge" and r["linear"] is True, r
w = {p["name"]: p["weight"] for p in r["parents"]}
assert set(w) == {"ft1", "ft2"} and abs(w["ft1"] - 0.3) < 0.01 and abs(w["ft2"] - 0.7) < 0.01, w
assert all(len(p["sha256"]) == 64 for p in r["parents"]), r["parents"]
PY
then ok catalog-lineage; else fail catalog-lineage "$out"; fi
out=$("$bin" --db "$c" --json similar --top 2 "$d/ad1.safetensors")
if /usr/bin/python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert len(r)==2 and r[0]["model"] in ("ft1","ft3","ws1"), r' "$out"
then ok catalog-similar-file; else fail catalog-similar-file "$out"; fi
"$bin" --db "$c" lineage no-such-model >/dev/null 2>&1; [ $? -eq 1 ] && ok catalog-missing || fail catalog-missing "want exit 1"
"$bin" --db "$n" scan --no-lineage "$t/m" >/dev/null 2>&1
msg=$("$bin" --db "$n" lineage ws1 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && [[ $msg == *"no lineage fingerprint"* ]] && ok no-lineage || fail no-lineage "rc $rc: $msg"

# the reduced synthetic files still identify as their family (the demo's family tree is sd1)
for arch in sd1 sdxl; do
  got=$("$bin" --json identify "$CKPT_FIXTURES/lineage/$arch/base.safetensors" |
    /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["kind"], r["family"], ",".join(r["problems"]))')
  [ "$got" = "checkpoint $arch " ] && ok "identify-$arch" || fail "identify-$arch" "got '$got'"
done
finish
