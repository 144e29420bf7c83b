#!/usr/bin/python3
"""ckptdb's merge/convert/prune/bake outputs checked with the real torch (Debian python3-torch).

usage: torch_check.py FIXTURES_OPS OUTDIR
OUTDIR holds what tests/cli/ops.sh wrote. Checks, each printing one line and failing loudly:
- weighted-sum and add-difference vs torch: (a) computed in float64 then .half() (must agree
  exactly: both are correctly rounded), (b) A1111's way, fp16 tensor arithmetic (report the max
  ulp difference; must be <= 1... A1111 rounds after every op, so it may be 1 ulp off)
- torch reads every output (a tiny safetensors reader into torch tensors: torch 1.13 has no
  safetensors module); the converted .ckpt equals torch.load of the .ckpt tensor for tensor
- prune leaves every non-EMA tensor byte-identical
- a LoRA bake equals kohya's formula computed by torch
"""
import json
import struct
import sys

import numpy
import torch

DT = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64,
      "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "I8": torch.int8,
      "BOOL": torch.bool}


DIFFUSERS_TO_LDM = {
    "lora_unet_down_blocks_0_attentions_0_proj_in": "model.diffusion_model.input_blocks.1.1.proj_in.weight",
    "lora_unet_down_blocks_0_resnets_0_conv1": "model.diffusion_model.input_blocks.1.0.in_layers.2.weight",
}


def load_st(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n))
        data = f.read()
    meta = hdr.pop("__metadata__", {})
    out = {}
    for k, v in hdr.items():
        a, b = v["data_offsets"]
        raw = bytearray(data[a:b])
        t = torch.frombuffer(raw, dtype=DT[v["dtype"]]) if b > a else torch.empty(0, dtype=DT[v["dtype"]])
        out[k] = t.reshape(v["shape"])
    return out, meta, hdr


def ulps16(x, y):
    """max distance in f16 ulps between two fp16 tensors (same sign region: ordered ints)"""
    xi = x.view(torch.int16).to(torch.int32)
    yi = y.view(torch.int16).to(torch.int32)
    xi = torch.where(xi < 0, -32768 - xi, xi)
    yi = torch.where(yi < 0, -32768 - yi, yi)
    return int((xi - yi).abs().max()) if xi.numel() else 0


def main():
    fx, od = sys.argv[1], sys.argv[2]
    a, _, _ = load_st(f"{fx}/m1.safetensors")
    b, _, _ = load_st(f"{fx}/m2.safetensors")
    c, _, _ = load_st(f"{fx}/m3.safetensors")
    alpha = 0.3
    for name, path in (("weighted-sum", "ws.safetensors"), ("add-difference", "ad.safetensors")):
        out, meta, _ = load_st(f"{od}/{path}")
        assert "sd_merge_recipe" in meta and "ckptdb.recipe" in meta, meta.keys()
        worst_exact = worst_a1111 = worst_torch64 = 0
        for k, ta in a.items():
            if "position_ids" in k:
                assert out[k].dtype == torch.int64 and torch.equal(out[k], ta), k
                continue
            A, B, C = ta.double(), b[k].double(), c[k].double()
            if name == "weighted-sum":
                exact = (1 - alpha) * A + alpha * B
                a1111 = (1 - alpha) * ta + alpha * b[k]           # fp16 arithmetic, as A1111
            else:
                exact = A + alpha * (B - C)
                a1111 = ta + (b[k] - c[k]) * alpha                # A1111: diff first, in fp16
            # numpy rounds float64 -> float16 once (correctly); torch goes through float32
            ref = torch.from_numpy(exact.numpy().astype(numpy.float16))
            worst_torch64 = max(worst_torch64, ulps16(out[k], exact.half()))
            worst_exact = max(worst_exact, ulps16(out[k], ref))
            worst_a1111 = max(worst_a1111, ulps16(out[k], a1111))
        print(f"{name}: max difference vs float64 rounded once (numpy) {worst_exact} ulp, "
              f"vs torch float64 .half() {worst_torch64} ulp, "
              f"vs torch fp16 arithmetic (A1111) {worst_a1111} ulp")
        assert worst_torch64 <= 1, name
        assert worst_exact == 0, name
        # fp16 arithmetic rounds after every op: near cancellation it is many ulps off (reported)

    # convert: the .ckpt's tensors, read by torch, equal the safetensors output bit for bit
    ck = torch.load(f"{fx}/m1.ckpt", map_location="cpu")
    sd = ck.get("state_dict", ck)
    for path in ("conv.safetensors", "conv-deflate.safetensors"):
        out, meta, _ = load_st(f"{od}/{path}")
        assert set(out) == set(sd), path
        for k, t in sd.items():
            assert out[k].dtype == t.dtype and torch.equal(out[k], t.contiguous()), (path, k)
    out, meta, _ = load_st(f"{od}/conv.safetensors")
    assert meta.get("global_step") == "1234", meta.get("global_step")
    print(f"convert: {len(sd)} tensors identical to torch.load's, global_step in __metadata__")

    # prune: non-EMA tensors byte-identical, EMA/junk gone, position_ids int64 0..76
    src, _, _ = load_st(f"{fx}/ema.safetensors")
    out, _, _ = load_st(f"{od}/pruned.safetensors")
    for k, t in out.items():
        assert not k.startswith("model_ema") and not k.startswith("optimizer"), k
        if "position_ids" in k:
            assert torch.equal(t, torch.arange(77).reshape(1, 77)), k
        else:
            assert torch.equal(t.view(torch.uint8), src[k].view(torch.uint8)), k
    print(f"prune: {len(out)} tensors byte-identical, {len(src) - len(out)} dropped")

    # bake: kohya's formula in torch (float64), rounded once to fp16
    base, _, _ = load_st(f"{fx}/m1.safetensors")
    lora, _, _ = load_st(f"{od}/lora.safetensors")
    baked, _, _ = load_st(f"{od}/baked.safetensors")
    w = 0.8
    done = 0
    for k in lora:
        if not k.endswith(".lora_down.weight"):
            continue
        mod = k[: -len(".lora_down.weight")]
        down, up = lora[k].double(), lora[mod + ".lora_up.weight"].double()
        alpha = float(lora[mod + ".alpha"])
        target = DIFFUSERS_TO_LDM[mod]
        W = base[target].double()
        rank = down.shape[0]
        if W.dim() == 4 and down.shape[2:] != (1, 1):
            delta = torch.nn.functional.conv2d(down.permute(1, 0, 2, 3), up).permute(1, 0, 2, 3)
        else:
            delta = (up.flatten(1) @ down.flatten(1)).reshape(W.shape)
        ref = torch.from_numpy((W + w * delta * (alpha / rank)).numpy().astype(numpy.float16))
        d = ulps16(baked[target], ref)
        assert d == 0, (target, d)
        done += 1
    print(f"bake: {done} LoRA modules equal kohya's formula (torch, float64) rounded to fp16")


if __name__ == "__main__":
    main()
