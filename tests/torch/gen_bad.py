#!/usr/bin/python3
"""Writes one corrupt torch file per failure mode of ckptdb's zip, pickle and legacy readers
(security.md section 9: C05-C17, P10-P17, P23, P27, P28 and more) into OUT, plus OUT/expect.tsv:
file, expected status name, a substring the error message must contain. Also writes OUT/good/
files built the same way that must read. Standard library only (no torch), hand-made bytes,
deterministic. Not part of the product."""
import os
import struct
import sys
import zlib

out = sys.argv[1]
os.makedirs(os.path.join(out, "good"), exist_ok=True)
expect = []


def u(s):
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def J(i):
    return b"J" + struct.pack("<i", i)


def tensor_pkl(name, key, numel, offset, size, stride, stype="FloatStorage"):
    b = u(name) + b"ctorch._utils\n_rebuild_tensor_v2\n("
    b += b"(" + u("storage") + b"ctorch\n" + stype.encode() + b"\n" + u(key) + u("cpu") + J(numel)
    b += b"tQ" + J(offset)
    b += b"(" + b"".join(J(s) for s in size) + b"t"
    b += b"(" + b"".join(J(s) for s in stride) + b"t"
    b += b"\x89ccollections\nOrderedDict\n)Rt" + b"R"
    return b


def state_pkl(tensors):
    return b"\x80\x02}(" + b"".join(tensor_pkl(*t) for t in tensors) + b"u."


GOOD_PKL = state_pkl([("w", "0", 6, 0, (2, 3), (3, 1)), ("b", "1", 2, 0, (2,), (1,))])
GOOD_DATA = {"0": struct.pack("<6f", *range(6)), "1": struct.pack("<2f", 7, 8)}


def zipfile_bytes(members, prepend=b"", append=b"", cd_hook=None, lh_hook=None):
    """members: list of dicts name, data, [method, flags, zip64]. Writes stored/deflated
    records, central directory, EOCD; hooks may rewrite a member's local/central header."""
    body = bytearray(prepend)
    cd = bytearray()
    for m in members:
        data = m["data"]
        method = m.get("method", 0)
        comp = zlib.compress(data)[2:-4] if method == 8 else data
        comp = m.get("comp", comp)
        crc = m.get("crc", zlib.crc32(data))
        usize = m.get("usize", len(data))
        flags = m.get("flags", 0x0808)
        name = m["name"].encode() if isinstance(m["name"], str) else m["name"]
        off = m.get("offset", len(body))
        lname = m.get("lname", name)
        lh = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, m.get("lflags", flags), method, 0, 0,
                         m.get("lcrc", 0), m.get("lcsize", 0), m.get("lusize", 0), len(lname), 0)
        if lh_hook:
            lh = lh_hook(m, lh)
        if "offset" not in m:
            body += lh + lname + comp
        extra = b""
        lo = off
        if m.get("zip64"):
            extra = struct.pack("<HHQ", 1, 8, m["zip64"])
            lo = 0xFFFFFFFF
        ch = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0, 0, crc,
                         m.get("csize", len(comp)), m.get("usize", m.get("csize", usize)), len(name), len(extra), 0, 0, 0, 0, lo)
        cd += ch + name + extra
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(cd),
                       len(body), 0)
    return bytes(body + cd + eocd + append)


def torch_members(pkl=GOOD_PKL, data=GOOD_DATA, folder="archive", extra=()):
    ms = [{"name": folder + "/data.pkl", "data": pkl}]
    for k, v in data.items():
        ms.append({"name": folder + "/data/" + k, "data": v})
    ms.append({"name": folder + "/version", "data": b"3\n"})
    ms.extend(extra)
    return ms


def bad(name, blob, status, substring):
    with open(os.path.join(out, name), "wb") as f:
        f.write(blob)
    expect.append("%s\t%s\t%s" % (name, status, substring))


def good(name, blob):
    with open(os.path.join(out, "good", name), "wb") as f:
        f.write(blob)


good("handmade.ckpt", zipfile_bytes(torch_members()))
ms = torch_members()
ms[1]["method"] = 8
good("deflated.ckpt", zipfile_bytes(ms))

# ---- zip container ----
bad("c05_root_pkl.ckpt", zipfile_bytes([{"name": "data.pkl", "data": GOOD_PKL}]),
    "CKPT_E_FORMAT", "not inside a folder")
ms = torch_members()
ms[0]["lname"] = b"archive/data.pkX"
bad("c06_central_name.ckpt", zipfile_bytes(ms), "CKPT_E_FORMAT", "names a different member")
for flag, word in ((0x0809, "encrypted"), (0x0848, "encrypted"), (0x0828, "patched")):
    ms = torch_members()
    ms[0]["flags"] = flag
    bad("c07_flags_%04x.ckpt" % flag, zipfile_bytes(ms), "CKPT_E_UNSUPPORTED", word)
ms = torch_members()
ms[0]["lflags"] = 0x0800
bad("c07_local_flags.ckpt", zipfile_bytes(ms), "CKPT_E_FORMAT", "local flags")
ms = torch_members()
ms[0]["crc"] = 0x12345678
bad("c08_crc.ckpt", zipfile_bytes(ms), "CKPT_E_FORMAT", "CRC-32")
ms = torch_members()
ms[0]["name"] = "archive/data.txt"
bad("c09_wrong_ext.ckpt", zipfile_bytes(ms), "CKPT_E_FORMAT", "unexpected member")
bad("c11_evil_member.ckpt",
    zipfile_bytes(torch_members(extra=[{"name": "archive/evil.py", "data": b"import os"}])),
    "CKPT_E_FORMAT", "unexpected member 'archive/evil.py'")
bad("c11_no_pkl.ckpt", zipfile_bytes(torch_members()[1:]), "CKPT_E_FORMAT", "no 'archive/data.pkl'")
ms = torch_members()
ms[0]["method"] = 8
ms[0]["usize"] = 300 << 20
bad("c12_bomb_size.ckpt", zipfile_bytes(ms), "CKPT_E_LIMIT", "allowed in memory")
ms = torch_members()
ms[0].update(method=8, comp=zlib.compress(bytes(20 << 20))[2:-4], usize=20 << 20)
bad("c12_bomb_ratio.ckpt", zipfile_bytes(ms), "CKPT_E_LIMIT", "zip bomb")
ms = torch_members()
ms[1]["csize"] = len(GOOD_DATA["0"]) + 40
bad("c13_overlap.ckpt", zipfile_bytes(ms), "CKPT_E_FORMAT", "overlap")
for nm, word, tag in (("archive/../x", "'..'", "dotdot"), ("/archive/x", "absolute", "abs"),
                      ("archive\\x", "backslash", "backslash"), ("archive/a\0b", "NUL", "nul")):
    bad("c14_name_%s.ckpt" % tag,
        zipfile_bytes(torch_members(extra=[{"name": nm.encode(), "data": b"x"}])),
        "CKPT_E_FORMAT", word)
bad("c14_duplicate.ckpt",
    zipfile_bytes(torch_members(extra=[{"name": "archive/version", "data": b"3\n"}])),
    "CKPT_E_FORMAT", "appears twice")
blob = zipfile_bytes(torch_members(), prepend=b"PK\x07\x08junkjunk")
bad("c15_prepended.ckpt", blob, "CKPT_E_FORMAT", "prepended")
ms = torch_members()
ms[1]["lcsize"] = 5
ms[1]["lusize"] = 5
bad("c16_local_sizes.ckpt", zipfile_bytes(ms), "CKPT_E_FORMAT", "local sizes")
ms = torch_members()
ms[1]["zip64"] = 1 << 40
bad("c17_zip64_offset.ckpt", zipfile_bytes(ms), "CKPT_E_FORMAT", "not before the central")
blob = zipfile_bytes(torch_members())
bad("zip_truncated.ckpt", blob[: len(blob) - 30], "CKPT_E_FORMAT", "end-of-central-directory")
bad("zip_appended.ckpt", blob + b"trailing", "CKPT_E_FORMAT", "end-of-central-directory")
bad("zip_big_endian.ckpt",
    zipfile_bytes(torch_members(extra=[{"name": "archive/byteorder", "data": b"big"}])),
    "CKPT_E_UNSUPPORTED", "big-endian")


# ---- pickles inside a valid archive ----
def pk(name, pkl, status, word, data=GOOD_DATA):
    bad(name, zipfile_bytes(torch_members(pkl=pkl, data=data)), status, word)


pk("p10_two_pickles.ckpt", GOOD_PKL + GOOD_PKL, "CKPT_E_FORMAT", "after the STOP")
pk("p12_memo_missing.ckpt", b"\x80\x02h\x07.", "CKPT_E_FORMAT", "never PUT")
pk("p15_truncated.ckpt", b"\x80\x02cbuiltins\nexec\nX\xff\x00\x00\x00abc", "CKPT_E_FORMAT",
   "ends inside BINUNICODE")
pk("p16_trailing_junk.ckpt", GOOD_PKL + b"\xde\xad", "CKPT_E_FORMAT", "after the STOP")
pk("p17_not_a_pickle.ckpt", b"cmod\n\xf8\n", "CKPT_E_FORMAT", "no STOP")
pk("p23_deep_stack.ckpt", b"\x80\x02" + b"K\x01" * 100001 + b".", "CKPT_E_LIMIT", "stack deeper")
pk("p23_deep_marks.ckpt", b"\x80\x02" + b"(" * 100001 + b")." , "CKPT_E_LIMIT", "MARKs nested")
pk("p27_persid_not_storage.ckpt",
   b"\x80\x02}(" + u("w") + b"ctorch._utils\n_rebuild_tensor_v2\n(" + u("evil") + b"Q" +
   J(0) + b"(J\x02\x00\x00\x00t(J\x01\x00\x00\x00t\x89)tRu.", "CKPT_E_FORMAT",
   "not a ('storage'")
pk("p27_missing_record.ckpt", state_pkl([("w", "9", 6, 0, (2, 3), (3, 1))]), "CKPT_E_FORMAT",
   "no record 'archive/data/9'")
pk("p28_past_storage.ckpt", state_pkl([("w", "0", 6, 2, (2, 3), (3, 1))]), "CKPT_E_FORMAT",
   "past the end of its data")
pk("p28_numel_mismatch.ckpt", state_pkl([("w", "0", 7, 0, (2, 3), (3, 1))]), "CKPT_E_FORMAT",
   "declares 7 elements")
pk("pk_frame_straddle.ckpt", b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00\x8c\x05ab" +
   b"cde.", "CKPT_E_FORMAT", "straddles the end of a frame")
pk("pk_unknown_opcode.ckpt", b"\x80\x02\xff.", "CKPT_E_FORMAT", "unknown opcode 0xff")
pk("pk_protocol6.ckpt", b"\x80\x06N.", "CKPT_E_UNSUPPORTED", "protocol 6")
pk("pk_underflow.ckpt", b"\x80\x02R.", "CKPT_E_FORMAT", "stack underflow")
pk("pk_no_mark.ckpt", b"\x80\x02Nt.", "CKPT_E_FORMAT", "no MARK")
pk("pk_duplicate_name.ckpt",
   state_pkl([("w", "0", 6, 0, (2, 3), (3, 1)), ("w", "1", 2, 0, (2,), (1,))]),
   "CKPT_E_FORMAT", "duplicate tensor name 'w'")
pk("pk_dtype_conflict.ckpt",
   state_pkl([("w", "0", 6, 0, (2, 3), (3, 1)), ("v", "0", 12, 0, (2,), (1,), "HalfStorage")]),
   "CKPT_E_FORMAT", "used as both")

# ---- legacy ----
MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."
PROTO = b"\x80\x02M\xe9\x03."


def sysinfo(little=True):
    return (b"\x80\x02}(" + u("protocol_version") + b"M\xe9\x03" + u("little_endian") +
            (b"\x88" if little else b"\x89") + u("type_sizes") + b"}u.")


def legacy_pk(tensors):
    return b"\x80\x02}(" + b"".join(
        tensor_pkl(*t).replace(J(t[2]) + b"tQ", J(t[2]) + b"NtQ") for t in tensors) + b"u."


LEG_OBJ = legacy_pk([("w", "0", 6, 0, (2, 3), (3, 1)), ("b", "1", 2, 0, (2,), (1,))])
LEG_KEYS = b"\x80\x02](" + u("0") + u("1") + b"e."
LEG_DATA = (struct.pack("<q", 6) + GOOD_DATA["0"] + struct.pack("<q", 2) + GOOD_DATA["1"])
good("legacy_handmade.pt", MAGIC + PROTO + sysinfo() + LEG_OBJ + LEG_KEYS + LEG_DATA)
bad("legacy_plain_pickle.pt", b"\x80\x02}(" + u("a") + b"K\x01u.", "CKPT_E_UNSUPPORTED",
    "plain pickle with no tensor storage")
bad("legacy_truncated.pt", MAGIC + PROTO + sysinfo() + LEG_OBJ + LEG_KEYS + LEG_DATA[:-3],
    "CKPT_E_FORMAT", "runs past the end")
bad("legacy_trailing.pt", MAGIC + PROTO + sysinfo() + LEG_OBJ + LEG_KEYS + LEG_DATA + b"xx",
    "CKPT_E_FORMAT", "after the last storage")
bad("legacy_count.pt", MAGIC + PROTO + sysinfo() + LEG_OBJ + LEG_KEYS +
    struct.pack("<q", 5) + LEG_DATA[8:], "CKPT_E_FORMAT", "holds 5 elements")
bad("legacy_big_endian.pt", MAGIC + PROTO + sysinfo(False) + LEG_OBJ + LEG_KEYS + LEG_DATA,
    "CKPT_E_UNSUPPORTED", "big-endian")
bad("legacy_bad_protocol.pt", MAGIC + b"\x80\x02M\xe8\x03." + sysinfo() + LEG_OBJ + LEG_KEYS +
    LEG_DATA, "CKPT_E_FORMAT", "not 1001")
bad("legacy_magic_eval.pt", b"\x80\x02cbuiltins\neval\n" + u("0x1950a86a20f9469cfc6c") +
    b"\x85R." + PROTO, "CKPT_E_UNSUPPORTED", "plain pickle")

with open(os.path.join(out, "expect.tsv"), "w") as f:
    f.write("\n".join(expect) + "\n")
