"""Writes small hand-made GGUF files, one per failure mode (security.md section 9, G01-G09, and
a few more), plus edge cases the reader must accept, into OUT/gguf/cases/, and a manifest
EXPECT.tsv: file, expected status (OK or a CKPT_E_* name), a substring of the error message.
Only the struct module: no gguf-py, nothing downloaded. Run by 30-gguf.sh."""
import os
import struct
import sys

out = os.path.join(sys.argv[1], "gguf", "cases")
os.makedirs(out, exist_ok=True)

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
GF32, GF16, GQ4_0, GQ8_0, GF64 = 0, 1, 2, 8, 28


def s(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, typ, payload):
    return s(key) + struct.pack("<I", typ) + payload


def kv_u32(key, v):
    return kv(key, U32, struct.pack("<I", v))


def kv_str(key, v):
    return kv(key, STR, s(v))


def arr(et, items):
    return struct.pack("<IQ", et, len(items)) + b"".join(items)


def ti(name, ne, typ=GF32, off=0):
    return s(name) + struct.pack("<I", len(ne)) + b"".join(
        struct.pack("<Q", d & 0xFFFFFFFFFFFFFFFF) for d in ne) + struct.pack("<IQ", typ, off)


def gguf(kvs=(), tensors=(), data=b"", version=3, n_kv=None, n_t=None, align=32, pad=True):
    h = b"GGUF" + struct.pack("<I", version)
    h += struct.pack("<QQ", len(tensors) if n_t is None else n_t,
                     len(kvs) if n_kv is None else n_kv)
    h += b"".join(kvs) + b"".join(tensors)
    if pad:
        h += b"\0" * ((-len(h)) % align)
    return h + data


W = [ti("w", [8, 4])]  # PyTorch shape [4, 8], F32, 128 bytes
WD = bytes(range(128))
cases = []


def case(name, expect, msg, blob):
    with open(os.path.join(out, name + ".gguf"), "wb") as f:
        f.write(blob)
    cases.append((name + ".gguf", expect, msg))


# ---- accepted -----------------------------------------------------------------------------
case("ok-basic", "OK", "", gguf([kv_str("general.architecture", "flux")], W, WD))
case("ok-v2", "OK", "", gguf([], W, WD, version=2))
case("ok-no-kv-no-tensors", "OK", "", gguf(pad=False))
case("ok-long-name", "OK", "", gguf([], [ti("model.diffusion_model." + "x" * 100, [8, 4])], WD))
case("ok-zero-dim", "OK", "", gguf([], [ti("empty", [0, 4])]))
case("ok-gap", "OK", "", gguf([], [ti("a", [8]), ti("b", [8], off=64)], bytes(96)))
case("ok-nested-array", "OK", "",
     gguf([kv("nested", ARR, arr(ARR, [arr(I32, [struct.pack("<i", 1), struct.pack("<i", -2)]),
                                       arr(STR, [s("x\"y")])]))], W, WD))
case("ok-all-scalars", "OK", "",
     gguf([kv("u8", U8, b"\xff"), kv("i8", I8, b"\xff"), kv("u16", U16, b"\xff\xff"),
           kv("i16", I16, b"\x00\x80"), kv("u32", U32, struct.pack("<I", 4000000000)),
           kv("i32", I32, struct.pack("<i", -5)), kv("f32", F32, struct.pack("<f", 0.1)),
           kv("bool", BOOL, b"\x01"), kv("u64", U64, struct.pack("<Q", 2**64 - 1)),
           kv("i64", I64, struct.pack("<q", -2**63)), kv("f64", F64, struct.pack("<d", 1e300)),
           kv("long", ARR, arr(U8, [b"\x01"] * 65))], W, WD))
case("ok-alignment-64", "OK", "",
     gguf([kv_u32("general.alignment", 64)], [ti("a", [8]), ti("b", [8], off=64)], bytes(96),
          align=64))
case("ok-q8", "OK", "", gguf([], [ti("q", [64, 2], GQ8_0)], bytes(136)))

# ---- G01 counts ----------------------------------------------------------------------------
case("g01-nkv-huge", "CKPT_E_LIMIT", "key/values", gguf([], W, WD, n_kv=2**63))
case("g01-ntensors-huge", "CKPT_E_LIMIT", "tensors", gguf([], W, WD, n_t=2**63 - 1))
case("g01-nkv-past-file", "CKPT_E_FORMAT", "can hold", gguf([], W, WD, n_kv=100000))
# ---- G02 sizes -----------------------------------------------------------------------------
case("g02-ne-overflow", "CKPT_E_FORMAT", "overflows",
     gguf([], [ti("w", [2**63 - 1, 2, 1, 1])], WD))
case("g02-bytes-overflow", "CKPT_E_FORMAT", "overflows", gguf([], [ti("w", [2**62], GF64)], WD))
case("g02-past-end", "CKPT_E_FORMAT", "past the end", gguf([], [ti("w", [1024, 1024])], WD))
# ---- G03 strings and arrays ----------------------------------------------------------------
case("g03-string-huge", "CKPT_E_LIMIT", "limit",
     gguf([kv("k", STR, struct.pack("<Q", 2**40))], W, WD))
case("g03-string-past-end", "CKPT_E_FORMAT", "truncated",
     gguf([kv("k", STR, struct.pack("<Q", 5000) + b"abc")], pad=False))
case("g03-array-huge", "CKPT_E_LIMIT", "limit",
     gguf([kv("k", ARR, struct.pack("<IQ", U8, 2**31))], W, WD))
case("g03-array-past-end", "CKPT_E_FORMAT", "cannot fit",
     gguf([kv("k", ARR, struct.pack("<IQ", U32, 1000000))], W, WD))
case("g03-key-past-end", "CKPT_E_FORMAT", "truncated",
     b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1000) + b"gen" + bytes(20))
# ---- G04 keys and names --------------------------------------------------------------------
case("g04-empty-key", "CKPT_E_FORMAT", "empty", gguf([kv_u32("", 1)], W, WD))
case("g04-duplicate-key", "CKPT_E_FORMAT", "duplicate metadata key",
     gguf([kv_u32("a.b", 1), kv_u32("c", 1), kv_u32("a.b", 2)], W, WD))
case("g04-duplicate-tensor", "CKPT_E_FORMAT", "duplicate tensor name",
     gguf([], [ti("w", [8]), ti("w", [8], off=32)], WD))
case("g04-name-too-long", "CKPT_E_LIMIT", "limit", gguf([], [ti("n" * 70000, [8])], WD))
case("g04-nul-in-key", "CKPT_E_FORMAT", "NUL", gguf([kv_u32("a\0b", 1)], W, WD))
# ---- G05 dims and types --------------------------------------------------------------------
case("g05-five-dims", "CKPT_E_FORMAT", "dimensions", gguf([], [ti("w", [1, 1, 1, 1, 8])], WD))
case("g05-negative-dim", "CKPT_E_FORMAT", "negative", gguf([], [ti("w", [8, -1])], WD))
case("g05-removed-type", "CKPT_E_FORMAT", "unknown ggml type", gguf([], [ti("w", [32], 4)], WD))
case("g05-unknown-type", "CKPT_E_FORMAT", "unknown ggml type", gguf([], [ti("w", [32], 99)], WD))
case("g05-row-not-blocks", "CKPT_E_FORMAT", "block size",
     gguf([], [ti("w", [33, 32], GQ4_0)], WD))
# ---- G06 alignment -------------------------------------------------------------------------
case("g06-alignment-u64", "CKPT_E_FORMAT", "general.alignment",
     gguf([kv("general.alignment", U64, struct.pack("<Q", 32))], W, WD))
case("g06-alignment-zero", "CKPT_E_FORMAT", "power of two",
     gguf([kv_u32("general.alignment", 0)], W, WD))
case("g06-alignment-48", "CKPT_E_FORMAT", "power of two",
     gguf([kv_u32("general.alignment", 48)], W, WD, align=48))
case("g06-alignment-huge", "CKPT_E_LIMIT", "limit",
     gguf([kv_u32("general.alignment", 2**30)], W, WD))
# ---- G07 layout ----------------------------------------------------------------------------
case("g07-unaligned-offset", "CKPT_E_FORMAT", "multiple of the alignment",
     gguf([], [ti("w", [8], off=4)], WD))
case("g07-overlap", "CKPT_E_FORMAT", "overlaps",
     gguf([], [ti("a", [16]), ti("b", [8], off=32)], WD))
case("g07-truncated-data", "CKPT_E_FORMAT", "past the end", gguf([], W, WD[:100]))
case("g07-data-start-past-end", "CKPT_E_FORMAT", "past the end",
     gguf([], [ti("w", [0])], pad=False))
# ---- G08 known keys ------------------------------------------------------------------------
case("g08-scores-int8", "CKPT_E_FORMAT", "tokenizer.ggml.scores",
     gguf([kv("tokenizer.ggml.scores", ARR, arr(I8, [b"\x01"] * 4))], W, WD))
case("g08-arch-not-string", "CKPT_E_FORMAT", "general.architecture",
     gguf([kv_u32("general.architecture", 1)], W, WD))
case("g08-orig-shape-float", "CKPT_E_FORMAT", "integers",
     gguf([kv("comfy.gguf.orig_shape.w", ARR, arr(F32, [struct.pack("<f", 1)]))], W, WD))
case("g08-bool-two", "CKPT_E_FORMAT", "bool", gguf([kv("b", BOOL, b"\x02")], W, WD))
case("g08-unknown-value-type", "CKPT_E_FORMAT", "unknown value type",
     gguf([kv("k", 13, b"\0" * 8)], W, WD))
case("g08-nested-too-deep", "CKPT_E_LIMIT", "nested",
     gguf([kv("k", ARR, struct.pack("<IQ", ARR, 1) * 9 + struct.pack("<IQ", U8, 0))], W, WD))
case("g08-nul-in-string", "CKPT_E_FORMAT", "NUL", gguf([kv_str("k", "a\0b")], W, WD))
# ---- G09 versions --------------------------------------------------------------------------
case("g09-big-endian", "CKPT_E_UNSUPPORTED", "big-endian",
     b"GGUF" + struct.pack(">IQQ", 3, 1, 0) + W[0] + b"\0" * 20 + WD)
case("g09-version-1", "CKPT_E_UNSUPPORTED", "version 1", gguf([], W, WD, version=1))
case("g09-version-4", "CKPT_E_UNSUPPORTED", "version 4", gguf([], W, WD, version=4))
case("g09-version-0", "CKPT_E_UNSUPPORTED", "version 0", gguf([], W, WD, version=0))
case("g09-header-truncated", "CKPT_E_FORMAT", "truncated", b"GGUF\x03\x00\x00\x00\x01")

with open(os.path.join(out, "EXPECT.tsv"), "w") as f:
    for c in cases:
        f.write("\t".join(c) + "\n")
