#!/usr/bin/python3
"""Proves tools/st2torch's output with the real torch (python3-torch): for every row of
DIR/pairs.tsv marked "torch" (output, safetensors input, torch):
  - torch.load reads it and every tensor equals the input's bytes (the safetensors header is
    parsed here with json + struct), with the input's names, dtypes and shapes, nothing more;
  - torch's weights_only=True loader accepts it (only allow-listed globals), unless this torch's
    weights_only loader also refuses torch's own save of the same object at that protocol (torch
    1.13's cannot read the FRAME opcode of protocols 4 and 5);
  - re-saving the loaded object with torch.save gives the same pickle: data.pkl byte for byte for
    the zip layout; for the legacy layout the same opcodes and arguments, except the storage keys
    (torch uses memory addresses) and FRAME lengths;
  - zip layout: the records in torch's order (plus byteorder), every record's data 64-byte
    aligned, local headers flagged 0x0808 with torch's FB padding; without a byteorder record and
    with the default protocol the whole file equals torch's byte for byte.
Prints one line per failure and exits 1 on any. Usage: check_st2torch.py DIR"""
import io
import json
import os
import pickletools
import struct
import sys
import tempfile
import zipfile

import torch

DT = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
      "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
      "U8": torch.uint8, "BOOL": torch.bool}
failures = []


def fail(name, why):
    failures.append("%s: %s" % (name, why))


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for k, v in hdr.items():
            if k == "__metadata__":
                continue
            a, b = v["data_offsets"]
            f.seek(base + a)
            out[k] = (v["dtype"], tuple(v["shape"]), f.read(b - a))
    return out


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def is_zip(path):
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def pickle_protocol(path):
    if is_zip(path):
        z = zipfile.ZipFile(path)
        return z.read(data_pkl(z))[1]
    with open(path, "rb") as f:
        return f.read(2)[1]


def data_pkl(z):
    return [n for n in z.namelist() if n.endswith("/data.pkl")][0]


def legacy_ops(blob):
    """Opcodes and args of the five legacy pickles: storage keys numbered in order of first use
    in the object (the key list, sorted as strings, only has to be sorted), FRAME lengths
    dropped."""
    f = io.BytesIO(blob)
    keys, ops, listed = {}, [], []
    for i in range(5):
        for op, arg, _pos in pickletools.genops(f):
            if op.name == "FRAME":
                continue
            if i >= 3 and isinstance(arg, str) and arg.isdigit():
                if i == 4:
                    listed.append(arg)
                    arg = "key"
                else:
                    arg = "key%d" % keys.setdefault(arg, len(keys))
            ops.append((op.name, arg))
    ops.append(("keys listed sorted", listed == sorted(keys)))
    return ops


def check_zip_layout(name, path, ref_path):
    mine, ref = zipfile.ZipFile(path), zipfile.ZipFile(ref_path)
    mnames = [n.split("/", 1)[1] for n in mine.namelist()]
    rnames = [n.split("/", 1)[1] for n in ref.namelist()]
    if [n for n in mnames if n != "byteorder"] != [n for n in rnames if n != "byteorder"]:
        fail(name, "records %s differ from torch's %s" % (mnames[:6], rnames[:6]))
    with open(path, "rb") as f:
        for info in mine.infolist():
            f.seek(info.header_offset)
            h = f.read(30)
            flags, method = struct.unpack("<HH", h[6:10])
            nlen, xlen = struct.unpack("<HH", h[26:30])
            extra = f.read(nlen + xlen)[nlen:]
            fb = extra.find(b"FB")
            if flags != 0x0808:
                fail(name, "%s: local flags 0x%04x, torch writes 0x0808" % (info.filename, flags))
            if fb < 0 or extra[fb + 4:] != b"Z" * (xlen - fb - 4):
                fail(name, "%s: no FB padding extra field" % info.filename)
            data_start = info.header_offset + 30 + nlen + xlen
            if method == 0 and data_start % 64:
                fail(name, "%s: data at byte %d is not 64-byte aligned" % (info.filename,
                                                                           data_start))
    if "byteorder" not in mnames and "byteorder" not in rnames and \
            pickle_protocol(path) == 2 and mine.infolist()[2].compress_type == 0:
        with open(path, "rb") as a, open(ref_path, "rb") as b:
            if a.read() != b.read():
                fail(name, "file differs from torch.save's byte for byte")


def weights_only_ok(name, path, obj, proto):
    try:
        torch.load(path, weights_only=True)
        return
    except Exception as e:  # noqa: BLE001 - any refusal is the finding
        mine_err = str(e).splitlines()[-1][:200]
    buf = io.BytesIO()
    torch.save(obj, buf, pickle_protocol=proto)
    buf.seek(0)
    try:
        torch.load(buf, weights_only=True)
    except Exception:  # noqa: BLE001 - torch cannot read its own file either: not ours to prove
        return
    fail(name, "weights_only=True refuses it (%s) but accepts torch's own save" % mine_err)


def check(dirpath, out, inp):
    name = out
    path, src = os.path.join(dirpath, out), os.path.join(dirpath, inp)
    want = read_safetensors(src)
    obj = torch.load(path, weights_only=False)
    sd = obj["state_dict"] if isinstance(obj, dict) and "state_dict" in obj else obj
    if list(sd.keys()) != list(want.keys()):
        fail(name, "tensor names differ from the input's")
    for k, (dt, shape, data) in want.items():
        t = sd.get(k)
        if not isinstance(t, torch.Tensor):
            fail(name, "%s: missing" % k)
            continue
        if t.dtype != DT[dt] or tuple(t.shape) != shape:
            fail(name, "%s: %s %s, input has %s %s" % (k, t.dtype, tuple(t.shape), dt, shape))
        elif tensor_bytes(t) != data:
            fail(name, "%s: bytes differ from the input's" % k)
    proto = pickle_protocol(path)
    weights_only_ok(name, path, obj, proto)
    with tempfile.TemporaryDirectory() as tmp:
        if is_zip(path):
            folder = zipfile.ZipFile(path).namelist()[0].split("/", 1)[0]
            ref_path = os.path.join(tmp, folder + os.path.splitext(out)[1])
            torch.save(obj, ref_path, pickle_protocol=proto)
            z, r = zipfile.ZipFile(path), zipfile.ZipFile(ref_path)
            if z.read(data_pkl(z)) != r.read(data_pkl(r)):
                fail(name, "data.pkl differs from torch.save's")
            check_zip_layout(name, path, ref_path)
        else:
            buf = io.BytesIO()
            torch.save(obj, buf, pickle_protocol=proto, _use_new_zipfile_serialization=False)
            with open(path, "rb") as f:
                mine = f.read()
            if legacy_ops(mine) != legacy_ops(buf.getvalue()):
                fail(name, "legacy pickles differ from torch.save's")


def main():
    d = sys.argv[1]
    n = 0
    with open(os.path.join(d, "pairs.tsv")) as f:
        for line in f:
            out, inp, mode = line.rstrip("\n").split("\t")
            if mode != "torch":
                continue
            n += 1
            try:
                check(d, out, inp)
            except Exception as e:  # noqa: BLE001 - report and go on
                fail(out, "%s: %s" % (type(e).__name__, e))
    for line in failures:
        print("FAIL " + line)
    print("check_st2torch: %d files, %d failures" % (n, len(failures)))
    if n < 10:
        print("FAIL: only %d files to check" % n)
        return 1
    return 1 if failures else 0


sys.exit(main())
