"""Write N small safetensors files for the catalog's reliability tests and benchmarks.

usage: many.py OUT N SIZE [--sparse] [--per-dir K]
Each file holds one F32 tensor of SIZE bytes (rounded to 4) and a metadata entry; with --sparse
the data is a hole (no disk blocks). Files go into OUT/dNNN/ folders of K files (default 500).
Content differs per file (the index is in the metadata), so no two files share a hash.
"""
import json
import os
import struct
import sys


def main():
    out, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) // 4 * 4
    sparse = "--sparse" in sys.argv
    per = int(sys.argv[sys.argv.index("--per-dir") + 1]) if "--per-dir" in sys.argv else 500
    for i in range(n):
        d = os.path.join(out, "d%03d" % (i // per))
        os.makedirs(d, exist_ok=True)
        hdr = {"__metadata__": {"index": str(i), "ss_output_name": "model%d" % i},
               "w": {"dtype": "F32", "shape": [size // 4], "data_offsets": [0, size]}}
        h = json.dumps(hdr, separators=(",", ":")).encode()
        h += b" " * (-len(h) % 8)
        with open(os.path.join(d, "model%05d.safetensors" % i), "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h)
            if sparse:
                f.truncate(8 + len(h) + size)
            else:
                f.write(os.urandom(size))


main()
