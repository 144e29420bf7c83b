#!/usr/bin/env python3
"""Writes one malformed safetensors file per failure mode of the reader (and a few odd but
valid ones) into OUT/safetensors/. Cases follow ../shared/research/security.md section 9
(S01-S17) and the reference implementation's tests. Plain bytes: no torch, no safetensors lib.

The expected outcome of each file is in tests/safetensors/cases.txt (name, exit, substring)."""
import json, os, struct, sys

out = os.path.join(sys.argv[1], "safetensors")
os.makedirs(out, exist_ok=True)


def raw(name, data):
    with open(os.path.join(out, name + ".safetensors"), "wb") as f:
        f.write(data)


def st(name, header, data=b"", text=None, n=None):
    h = text.encode() if text is not None else json.dumps(header, separators=(",", ":")).encode()
    raw(name, struct.pack("<Q", len(h) if n is None else n) + h + data)


T = lambda dt, shape, a, b: {"dtype": dt, "shape": shape, "data_offsets": [a, b]}

# accepted
st("ok_s01", {"test": T("I32", [2, 2], 0, 16)}, bytes(16))
st("ok_empty", {}, b"", text="{}      ")
st("ok_zero_sized", {"a": T("F32", [2, 0], 0, 0), "s": T("F16", [], 0, 2)}, bytes(2))
st("ok_leading_ws", None, bytes(8), text='  \n{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  ')
st("ok_unknown_field", None, bytes(4), text='{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":[1,{"y":null}]}}')
st("ok_metadata_null", None, bytes(4), text='{"__metadata__":null,"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}')
st("ok_all_dtypes", {k: T(k, [8], 8 * i, 8 * i + 8 * b // 8) for i, (k, b) in enumerate([("U8", 8), ("I8", 8), ("BOOL", 8), ("F8_E4M3", 8), ("F8_E5M2", 8)])}, bytes(40))

# refused
raw("s02_empty", b"")
raw("s02_short", b"\x01\x00\x00")
raw("s03_header_too_large", struct.pack("<Q", 0xFFFFFFFFFF) + b"{}")
raw("s04_length_past_end", struct.pack("<Q", 60))
st("s05_not_utf8", None, text=None, header=None) if False else raw("s05_not_utf8", struct.pack("<Q", 4) + b'{"\xff"')
st("s06_not_json", None, text="{")
st("s07_json_attack", {f"w{i}": T("F32", [2, 2], 0, 16) for i in range(10)}, bytes(16))
st("s08_trailing_bytes", {"a": T("F32", [1], 0, 4)}, bytes(4) + b"polyglot")
st("s08_truncated", {"a": T("F32", [2], 0, 8)}, bytes(6))
raw("s09_header_length_1000", struct.pack("<Q", 1000) + b'{"a":1}' + bytes(100))
st("s10_many_on_one_region", {f"t{i}": T("F32", [4], 0, 16) for i in range(10000)}, bytes(16))
st("s11_duplicate_key", None, bytes(8), text='{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}')
st("s12_metadata_not_string", None, bytes(4), text='{"__metadata__":{"unquoted_int":0},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}')
st("s12_tensor_named_metadata", None, bytes(4), text='{"__metadata__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}')
st("s13_shape_overflow", {"a": T("F32", [2**62, 4, 4], 0, 0)})
st("s14_f4_odd", {"a": T("F4", [3], 0, 1)}, bytes(1))
st("bad_negative", None, bytes(4), text='{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}')
st("bad_fraction", None, bytes(4), text='{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}')
st("bad_dtype", {"a": T("F33", [1], 0, 4)}, bytes(4))
st("bad_missing_offsets", None, bytes(4), text='{"a":{"dtype":"F32","shape":[1]}}')
st("bad_end_before_begin", {"a": T("F32", [0], 4, 0)}, bytes(4))
st("bad_gap", {"a": T("F32", [1], 0, 4), "b": T("F32", [1], 8, 12)}, bytes(12))
st("bad_size_mismatch", {"a": T("F16", [2, 2], 0, 6)}, bytes(6))
st("bad_not_object", None, text="[1,2]")
st("bad_garbage_after", None, text='{} x')
st("bad_deep_nesting", None, text='{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":' + "[" * 200 + "]" * 200 + "}}")
st("bad_unterminated_string", None, text='{"abc')
st("bad_lone_surrogate", None, text='{"\\ud800":1}')
st("bad_offsets_three", None, bytes(4), text='{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}')
st("bad_metadata_twice", None, bytes(4), text='{"__metadata__":{},"__metadata__":{},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}')
st("bad_metadata_dup_key", None, bytes(4), text='{"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}')
st("bad_too_many_dims", {"a": T("U8", [1] * 9, 0, 1)}, bytes(1))
st("bad_number_overflow", None, bytes(4), text='{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}')
st("bad_past_data", {"a": T("F32", [4], 0, 16)}, bytes(8))
