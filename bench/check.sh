#!/usr/bin/env bash
# bench/check: `ckptdb check` on a 4 GB torch zip checkpoint against a 4 MB one with the same
# data.pkl shape (1,000 tensors named like an SD UNet's; 4 MB vs 4 KB of zeros each; the big
# file is sparse), both written here with a stored-member zip writer around a hand-assembled
# data.pkl. check reads only the directory and pickles, so the two should cost the same
# (target: ratio under 2x). Also the bytes each run reads (strace, when available).
# Figures, not a pass/fail test. usage: bench/check.sh [BUILD] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-20}
src=$(cd "$(dirname "$0")/.." && pwd)
ck=$src/$build/ckptdb
dir=${BENCH_DIR:-/tmp/ckptdb-bench-check}
mkdir -p "$dir"
if [ ! -f "$dir/big.ckpt" ] || [ ! -f "$dir/small.ckpt" ]; then
  echo "writing $dir/small.ckpt (4 MB) and $dir/big.ckpt (4 GB, sparse) ..." >&2
  /usr/bin/python3 - "$dir" <<'PY'
import os, struct, sys, zlib
out = sys.argv[1]
N = 1000

def su(s):
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b if len(b) < 256 else b"X" + struct.pack("<I", len(b)) + b

def J(i):
    return b"J" + struct.pack("<i", i)

def pkl(numel):
    b = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01("
    for i in range(N):
        b += su("model.diffusion_model.blocks.%d.weight" % i)
        b += b"ctorch._utils\n_rebuild_tensor_v2\nq\x02((" + su("storage")
        b += b"ctorch\nFloatStorage\nq\x03" + su(str(i)) + su("cpu") + J(numel) + b"tQ" + J(0)
        b += J(numel) + b"\x85" + J(1) + b"\x85\x89ccollections\nOrderedDict\n)RtR"
    return b + b"u."

def write(path, numel):
    nbytes = numel * 4
    zcrc = zlib.crc32(bytes(nbytes))
    members = [("archive/data.pkl", pkl(numel), None)]
    members += [("archive/data/%d" % i, None, nbytes) for i in range(N)]
    members.append(("archive/version", b"3\n", None))
    cd = bytearray()
    with open(path, "wb") as f:
        f.truncate(0)
        for name, data, size in members:
            off = f.tell()
            n = name.encode()
            ln = len(data) if data is not None else size
            crc = zlib.crc32(data) if data is not None else zcrc
            f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x0808, 0, 0, 0, 0, 0, 0, len(n), 0) + n)
            if data is not None:
                f.write(data)
            else:
                f.seek(size, 1)  # a hole: zeros that take no disk space
            cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x0808, 0, 0, 0, crc, ln,
                              ln, len(n), 0, 0, 0, 0, 0, off) + n
        cdo = f.tell()
        f.write(cd)
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(cd), cdo, 0))

write(os.path.join(out, "small.ckpt"), 1000)       # 4 KB per tensor: 4 MB
write(os.path.join(out, "big.ckpt"), 1000000)      # 4 MB per tensor: 4 GB
PY
fi
for f in small big; do
  "$ck" check "$dir/$f.ckpt" >/dev/null || { echo "check failed on $f.ckpt" >&2; exit 1; }
done
time_runs() {
  /usr/bin/python3 - "$ck" "$1" "$runs" <<'PY'
import subprocess, sys, time
ck, f, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ts = []
for _ in range(n):
    t = time.perf_counter()
    subprocess.run([ck, "check", f], stdout=subprocess.DEVNULL, check=False)
    ts.append(time.perf_counter() - t)
ts.sort()
print("%.2f" % (ts[len(ts) // 2] * 1000))
PY
}
small_ms=$(time_runs "$dir/small.ckpt")
big_ms=$(time_runs "$dir/big.ckpt")
printf 'file         size           median of %s runs\n' "$runs"
printf 'small.ckpt   %-14s %s ms\n' "$(stat -c %s "$dir/small.ckpt")" "$small_ms"
printf 'big.ckpt     %-14s %s ms\n' "$(stat -c %s "$dir/big.ckpt")" "$big_ms"
/usr/bin/python3 -c "print('ratio big/small: %.2f (target < 2)' % ($big_ms / $small_ms))"
if command -v strace >/dev/null; then
  for f in small big; do
    bytes=$(strace -f -e trace=pread64,read -o /dev/stdout "$ck" check "$dir/$f.ckpt" 2>/dev/null |
      awk -F'= ' '/^[0-9]* *(pread64|read)\(/ && $NF ~ /^[0-9]+$/ {s += $NF} END {print s + 0}')
    echo "$f.ckpt: $bytes bytes read by check"
  done
fi
