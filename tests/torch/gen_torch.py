#!/usr/bin/python3
"""Writes torch checkpoints with the REAL torch.save (python3-torch) into OUT, plus
OUT/manifest.tsv: file, tensor name, dtype, shape, stride, storage offset and the SHA-256 of the
tensor's contiguous bytes, as torch reports them. The C tests compare ckptdb's reading with it.
Deterministic (fixed seed); tiny tensors. Not part of the product."""
import hashlib
import io
import os
import sys
from collections import OrderedDict

import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(1234)
rows = []

DT = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
      torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
      torch.uint8: "U8", torch.bool: "BOOL"}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def record(fname, sd, prefix=""):
    for k, v in sd.items():
        if isinstance(v, torch.Tensor):
            rows.append("\t".join([
                fname, prefix + k, DT[v.dtype],
                ",".join(str(d) for d in v.shape),
                ",".join(str(s) for s in v.stride()),
                str(v.storage_offset()),
                hashlib.sha256(tensor_bytes(v)).hexdigest()]))


def sd_basic(dtype):
    return OrderedDict([
        ("model.diffusion_model.input_blocks.0.0.weight", torch.randn(8, 4, 3, 3).to(dtype)),
        ("model.diffusion_model.input_blocks.0.0.bias", torch.randn(8).to(dtype)),
        ("cond_stage_model.transformer.text_model.embeddings.position_ids",
         torch.arange(77, dtype=torch.int64).unsqueeze(0)),
        ("first_stage_model.encoder.conv_in.weight", torch.randn(4, 3, 3, 3).to(dtype)),
        ("scalar", torch.tensor(3.5).to(dtype)),
        ("empty", torch.zeros(0, 4).to(dtype)),
    ])


def save(name, obj, sd, **kw):
    path = os.path.join(out, name)
    torch.save(obj, path, **kw)
    record(name, sd)


# protocols 2-5, fp32
for proto in (2, 3, 4, 5):
    sd = sd_basic(torch.float32)
    save("basic_p%d.ckpt" % proto, sd, sd, pickle_protocol=proto)
# dtypes
for dt, nm in ((torch.float16, "fp16"), (torch.bfloat16, "bf16"), (torch.float64, "fp64")):
    sd = sd_basic(dt)
    save("basic_%s.ckpt" % nm, sd, sd)
misc = OrderedDict([("i32", torch.arange(10, dtype=torch.int32)),
                    ("i16", torch.arange(6, dtype=torch.int16).reshape(2, 3)),
                    ("i8", torch.arange(-4, 4, dtype=torch.int8)),
                    ("u8", torch.arange(8, dtype=torch.uint8)),
                    ("b", torch.tensor([True, False, True]))])
save("ints.pt", misc, misc)
# Lightning-style wrapper, saved through a file object (archive/ folder)
sd = sd_basic(torch.float16)
wrapper = {"epoch": 6, "global_step": 470000, "pytorch-lightning_version": "1.4.2",
           "state_dict": sd, "lr": 0.0001, "ema": True}
buf = io.BytesIO()
torch.save(wrapper, buf)
with open(os.path.join(out, "lightning.ckpt"), "wb") as f:
    f.write(buf.getvalue())
record("lightning.ckpt", sd)
# shared storage: two tensors viewing one storage, and a transposed (non-contiguous) tensor
base = torch.randn(6, 4)
shared = OrderedDict([("whole", base), ("rows", base[2:5]), ("col", base[:, 1]),
                      ("t", base.t()), ("tied", base)])
save("shared.pt", shared, shared)
# nested dicts (textual-inversion style)
emb = torch.randn(2, 768)
ti = {"string_to_token": {"*": 265}, "string_to_param": {"*": emb}, "name": "myemb", "step": 3000}
save("embedding.pt", ti, {})
rows.append("\t".join(["embedding.pt", "string_to_param.*", "F32", "2,768", "768,1", "0",
                       hashlib.sha256(tensor_bytes(emb)).hexdigest()]))
# legacy (pre-1.6) format, to a path and with shared storages
sd = sd_basic(torch.float32)
save("legacy.pt", sd, sd, _use_new_zipfile_serialization=False)
save("legacy_shared.pt", shared, shared, _use_new_zipfile_serialization=False)
buf = io.BytesIO()
torch.save(wrapper, buf, _use_new_zipfile_serialization=False)
with open(os.path.join(out, "legacy_lightning.ckpt"), "wb") as f:
    f.write(buf.getvalue())
record("legacy_lightning.ckpt", wrapper["state_dict"])

# a larger file (4 MiB of data) to show that opening reads only the directory and data.pkl
big = OrderedDict([("big", torch.zeros(1024, 1024)), ("small", torch.ones(3))])
save("big.ckpt", big, big)

with open(os.path.join(out, "manifest.tsv"), "w") as f:
    f.write("\n".join(rows) + "\n")
