#!/usr/bin/env bash
# Hash fixtures: files of awkward sizes (around 1 KiB BLAKE3 chunks, the AutoV1 window at
# 0x100000..0x110000), safetensors files for AutoV3 (and one that only looks like one), and one
# sparse file just over 4 GiB. expected.tsv holds the answers computed by other tools: Python's
# hashlib/zlib (/usr/bin/python3, Debian) and b3sum. Columns: name size sha256 autov1 autov2
# autov3 crc32 blake3 ("-" for no autov3).
set -euo pipefail
out=$2/hash
mkdir -p "$out"
/usr/bin/python3 - "$out" <<'PY'
import json, os, random, struct, sys
out = sys.argv[1]
rng = random.Random(4)
sizes = [0, 1, 1023, 1024, 1025, 2**20 - 1, 2**20, 2**20 + 1,
         0x110000 - 1, 0x110000, 0x110000 + 1, 3 * 2**20 + 17]
for n in sizes:
    with open(os.path.join(out, "rand-%d.bin" % n), "wb") as f:
        f.write(rng.randbytes(n))
def safetensors(name, tensors, meta, pad):
    hdr, off, data = {}, 0, b""
    if meta is not None:
        hdr["__metadata__"] = meta
    for tname, shape, nbytes in tensors:
        hdr[tname] = {"dtype": "U8", "shape": shape, "data_offsets": [off, off + nbytes]}
        data += rng.randbytes(nbytes)
        off += nbytes
    h = json.dumps(hdr, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    with open(os.path.join(out, name), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)
# a LoRA-sized file whose header sits inside the AutoV1 window, and a small one
safetensors("st-big.safetensors", [("a", [1200000], 1200000), ("b", [300, 7], 2100)],
            {"ss_network_module": "networks.lora", "note": "x" * 1000}, True)
safetensors("st-small.safetensors", [("w", [3], 3)], None, False)
safetensors("st-empty.safetensors", [], None, True)
# starts like safetensors but the data is one byte short: not a valid file, so no autov3
with open(os.path.join(out, "st-small.safetensors"), "rb") as f:
    b = f.read()
with open(os.path.join(out, "not-st.safetensors"), "wb") as f:
    f.write(b[:-1])
PY
# the sparse file: 4 GiB of holes and one byte
truncate -s 4G "$out/sparse-4g.bin"
printf 'z' >> "$out/sparse-4g.bin"

/usr/bin/python3 - "$out" > "$out/expected.tsv" <<'PY'
import hashlib, os, struct, subprocess, sys, zlib
out = sys.argv[1]
for name in sorted(os.listdir(out)):
    p = os.path.join(out, name)
    if name.endswith(".tsv"):
        continue
    sha, crc, win, size = hashlib.sha256(), 0, hashlib.sha256(), os.path.getsize(p)
    v3 = None
    with open(p, "rb") as f:
        first = f.read(9)
        f.seek(0)
        off = 0
        while True:
            b = f.read(16 << 20)
            if not b:
                break
            sha.update(b)
            crc = zlib.crc32(b, crc)
            off += len(b)
        # AutoV1 exactly as A1111's model_hash: seek 0x100000, read 0x10000 (whatever is there)
        f.seek(0x100000)
        win.update(f.read(0x10000))
        if name.endswith(".safetensors") and name != "not-st.safetensors":
            n = struct.unpack("<Q", first[:8])[0]
            f.seek(8 + n)
            v3 = hashlib.sha256(f.read()).hexdigest()[:12]
    b3 = subprocess.run(["b3sum", "--no-names", p], check=True, capture_output=True,
                        text=True).stdout.strip()
    s = sha.hexdigest()
    print("\t".join([name, str(size), s, win.hexdigest()[:8], s[:10], v3 or "-",
                     "%08x" % crc, b3]))
PY
