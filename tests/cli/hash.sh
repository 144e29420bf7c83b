#!/usr/bin/env bash
# `ckptdb hash` against sha256sum, b3sum and Python (hashlib/zlib, A1111's AutoV1 read) on the
# hash fixtures (not the 4 GiB sparse one: test_hash covers it), its JSON shape, --only, and the
# exit codes: 1 for a directory / missing file / bad file with the others still hashed, 2 usage.
set -euo pipefail
bin=$CKPT_BIN
dir=$CKPT_FIXTURES/hash
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mapfile -t files < <(find "$dir" -type f ! -name '*.tsv' ! -name 'sparse-*' ! -name 'mutating-*' ! -name 'fp-*' | sort)
[ ${#files[@]} -ge 16 ] || fail "fixtures missing (${#files[@]} files)"

# sha256sum-style lines, byte for byte
"$bin" hash --only sha256 "${files[@]}" > "$tmp/ours"
sha256sum "${files[@]}" > "$tmp/theirs"
diff "$tmp/ours" "$tmp/theirs" || fail "--only sha256 differs from sha256sum"
"$bin" hash --only blake3 "${files[@]}" > "$tmp/ours"
b3sum "${files[@]}" > "$tmp/theirs"
diff "$tmp/ours" "$tmp/theirs" || fail "--only blake3 differs from b3sum"

# every field of --json against Python
"$bin" --json hash "${files[@]}" > "$tmp/all.json"
/usr/bin/python3 - "$tmp/all.json" "${files[@]}" <<'PY'
import hashlib, json, struct, sys, zlib
out = json.load(open(sys.argv[1]))
files = sys.argv[2:]
assert isinstance(out, list) and len(out) == len(files), "one object per file"
for o, p in zip(out, files):
    d = open(p, "rb").read()
    s = hashlib.sha256(d).hexdigest()
    assert set(o) == {"path", "size", "sha256", "autov1", "autov2", "autov3", "crc32", "blake3"}, o
    assert o["path"] == p and o["size"] == len(d), o
    assert o["sha256"] == s and o["autov2"] == s[:10], p
    with open(p, "rb") as f:   # A1111 modules/sd_models.py model_hash
        f.seek(0x100000)
        assert o["autov1"] == hashlib.sha256(f.read(0x10000)).hexdigest()[:8], p
    assert o["crc32"] == "%08x" % zlib.crc32(d), p
    if p.endswith(".safetensors") and not p.endswith("not-st.safetensors"):
        n = struct.unpack("<Q", d[:8])[0]
        assert o["autov3"] == hashlib.sha256(d[8 + n:]).hexdigest()[:12], p
    else:
        assert o["autov3"] is None, p
    assert len(o["blake3"]) == 64, p
PY

# --only omits what was not asked for; autov3 stays null when not applicable
"$bin" hash --json --only autov3,crc32 "$dir/st-small.safetensors" "$dir/rand-1.bin" > "$tmp/sub.json"
/usr/bin/python3 -c '
import json,sys
a=json.load(open(sys.argv[1]))
assert set(a[0])=={"path","size","autov3","crc32"} and a[0]["autov3"] and a[1]["autov3"] is None, a
' "$tmp/sub.json"

# the table has a header and one row per file
"$bin" hash "$dir/rand-1.bin" "$dir/rand-1024.bin" > "$tmp/table"
[ "$(wc -l < "$tmp/table")" = 3 ] || fail "table rows"
head -1 "$tmp/table" | grep -q '^SHA256 .*AUTOV1 .*BLAKE3 .*PATH$' || fail "table header"

# errors: named on stderr, exit 1, the good file still printed
set +e
"$bin" hash --only sha256 "$dir" "$dir/nope" "$dir/rand-1.bin" > "$tmp/out" 2> "$tmp/err"
rc=$?
set -e
[ $rc = 1 ] || fail "exit $rc for a directory and a missing file, want 1"
grep -q "^ckptdb: $dir: is a directory$" "$tmp/err" || fail "directory message: $(cat "$tmp/err")"
grep -q "^ckptdb: $dir/nope: cannot open" "$tmp/err" || fail "missing-file message"
[ "$(cat "$tmp/out")" = "$(sha256sum "$dir/rand-1.bin")" ] || fail "good file not hashed"
set +e
"$bin" --json hash "$dir" > "$tmp/err.json" 2>/dev/null
rc=$?
set -e
[ $rc = 1 ] || fail "json exit $rc"
/usr/bin/python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert "error" in a[0], a' "$tmp/err.json"

# usage errors exit 2
for args in "" "--only md5 $dir/rand-1.bin" "--only" "--bogus $dir/rand-1.bin" "--jobs 0 x"; do
  set +e
  # shellcheck disable=SC2086
  "$bin" hash $args > /dev/null 2>&1
  rc=$?
  set -e
  [ $rc = 2 ] || fail "'hash $args' exit $rc, want 2"
done

# --progress draws on stderr only for files over 256 MiB: none here, so stderr stays empty
"$bin" --progress hash "$dir/rand-1.bin" > /dev/null 2> "$tmp/err"
[ ! -s "$tmp/err" ] || fail "progress drawn for a small file"
echo "hash CLI: ok (${#files[@]} files)"
