#!/usr/bin/python3
"""Synthetic model families with ground truth for the lineage evaluation.

For SD1 and SDXL: the real tensor names and shapes of ../shared/ref/keys (reduced in number:
per UNet block a few tensors of at most 200 Ki elements, a few text-encoder and VAE tensors;
every merge block is represented; the tensor `ckptdb identify` tells the family from is always
kept, so the files identify as sd1/sdxl checkpoints), random values of realistic scale, and from them a base,
fine-tunes (base + structured noise: a rank-4 part plus dense noise, ~5% of the weights' size),
weighted-sum, add-difference, block-weighted, TIES and DARE merges, a merge of merges, a baked
LoRA and a fine-tune of a fine-tune, every file saved in fp16 safetensors (merges are computed in
float32 from the fp16 parents, as the merge tools do). truth.json lists each model's recipe.

usage: make_family.py SHARED OUTDIR [--demo]
--demo: only the SD1 base, two fine-tunes and their weighted sum (0.3/0.7), under collector
names, straight into OUTDIR (the demo library's family tree).
"""
import json, os, re, struct, sys
import numpy as np

SHARED, OUT = sys.argv[1], sys.argv[2]
DEMO = {"base": "lineageBase_v10", "ft1": "lineagePortraitTune_v10",
        "ft2": "lineageAnimeTune_v10", "ws1": "lineageBlendMix_v10"} if "--demo" in sys.argv[3:] else None


def keys(name):
    rows = []
    for line in open(os.path.join(SHARED, "ref/keys", name + ".txt")):
        k, shape = line.split()
        dims = [int(x) for x in shape.strip("[]").split(",") if x]
        rows.append((k, dims))
    return rows


def block_of(key, xl):
    m = re.match(r"input_blocks\.(\d+)\.", key)
    if m:
        return "IN%02d" % int(m.group(1))
    if key.startswith("middle_block."):
        return "M00"
    m = re.match(r"output_blocks\.(\d+)\.", key)
    if m:
        return "OUT%02d" % int(m.group(1))
    if key.startswith(("time_embed.", "label_emb.")):
        return "IN00"
    if key.startswith("out."):
        return "OUT08" if xl else "OUT11"
    return None


# Tensors kept whatever their size: what `ckptdb identify` decides the family from (the first
# cross-attention's context width: 768 = CLIP ViT-L = SD1; SDXL is told by its bigG text encoder)
MUST = {"sd1": {"model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"},
        "sdxl": set()}


def select(arch):
    xl = arch == "sdxl"
    if xl:
        parts = [("model.diffusion_model.", "UNET-XL-SD", "unet"),
                 ("conditioner.embedders.0.transformer.text_model.", "CLIP-v1-SD", "TE"),
                 ("conditioner.embedders.1.model.", "CLIP-XL-SD", "TE2"),
                 ("first_stage_model.", "VAE-v1-SD", "VAE")]
    else:
        parts = [("model.diffusion_model.", "UNET-v1-SD", "unet"),
                 ("cond_stage_model.transformer.text_model.", "CLIP-v1-SD", "TE"),
                 ("first_stage_model.", "VAE-v1-SD", "VAE")]
    out = []
    for prefix, comp, blk in parts:
        per = {}
        for k, dims in keys(comp):
            n = int(np.prod(dims)) if dims else 1
            if "position_ids" in k or not dims:
                continue
            b = block_of(k, xl) if blk == "unet" else blk
            if b is None:
                continue
            lim = 200_000 if blk == "unet" else 120_000
            want = 4 if blk == "unet" else 6
            lst = per.setdefault(b, [])
            if prefix + k in MUST[arch]:
                lst.append((prefix + k, dims))
                continue
            if n > lim:
                continue
            # at least one matrix per block, then whatever comes
            if len(lst) < want and (len(dims) >= 2 or len(lst) < want - 1):
                lst.append((prefix + k, dims))
        for b, lst in per.items():
            out += [(n, d, b) for n, d in lst]
    return out


def base_values(rng, name, dims):
    n = int(np.prod(dims))
    if len(dims) >= 2:
        fan_in = n // dims[0]
        return rng.normal(0, 1 / np.sqrt(fan_in), dims).astype(np.float32)
    if "norm" in name and name.endswith("weight"):
        return (1 + rng.normal(0, 0.05, dims)).astype(np.float32)
    return rng.normal(0, 0.02, dims).astype(np.float32)


def delta(rng, w, scale=0.05, only=None):
    """Structured noise: a rank-4 part plus dense noise, about `scale` of the weights' std."""
    s = float(w.std()) * scale + 1e-6
    if w.ndim >= 2:
        m = w.reshape(w.shape[0], -1)
        lr = rng.normal(0, 1, (m.shape[0], 4)) @ rng.normal(0, 1, (4, m.shape[1])) / 2
        d = (lr + rng.normal(0, 1, m.shape)).reshape(w.shape) * s / np.sqrt(2)
    else:
        d = rng.normal(0, s, w.shape)
    return d.astype(np.float32)


def f16(state):
    return {k: v.astype(np.float16) for k, v in state.items()}


def f32(state):
    return {k: v.astype(np.float32) for k, v in state.items()}


def save(path, state, meta=None):
    hdr, off, blobs = {}, 0, []
    if meta:
        hdr["__metadata__"] = meta
    for k, v in state.items():
        b = v.astype(np.float16).tobytes()
        hdr[k] = {"dtype": "F16", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def family(arch, seed):
    rng = np.random.default_rng(seed)
    # the always-kept tensors draw from a stream of their own, so the others' values do not
    # depend on them (the evaluation data of the rest stays what it was before they were kept)
    side = np.random.default_rng(seed + 1000)
    must = MUST[arch]
    gen = lambda n: side if n in must else rng
    sel = select(arch)
    blocks = {n: b for n, _, b in sel}
    allblocks = sorted(set(blocks.values()))
    d = os.path.join(OUT, arch)
    os.makedirs(OUT if DEMO else d, exist_ok=True)
    models, truth = {}, {}

    def put(name, state, recipe):
        models[name] = f16(state)
        truth[name] = recipe

    base = {n: base_values(gen(n), n, dims) for n, dims, _ in sel}
    put("base", base, {"origin": "base"})
    unet = lambda n: blocks[n] not in ("TE", "TE2", "VAE")
    for i in range(1, 6):
        # F4 also trains the text encoder; the others keep the base's TE and VAE byte for byte
        st = {n: (v + delta(gen(n), v)) if (unet(n) or (i == 4 and blocks[n] != "VAE")) else v
              for n, v in f32(models["base"]).items()}
        put("ft%d" % i, st, {"origin": "fine-tune", "base": "base"})
    st = {n: v + delta(gen(n), v, 0.03) if unet(n) else v for n, v in f32(models["ft1"]).items()}
    put("ft1b", st, {"origin": "fine-tune", "base": "ft1"})
    P = lambda name: f32(models[name])

    def wsum(parts):
        out = {}
        for n in base:
            out[n] = sum(w * P(p)[n] for p, w in parts)
        return out

    def linear(name, parts):
        put(name, wsum(parts), {"origin": "merge", "linear": True,
                                "parents": {p: {b: w for b in allblocks} for p, w in parts}})

    linear("ws1", [("ft1", 0.3), ("ft2", 0.7)])
    if DEMO:  # the rest is not in the demo (computing it would only slow `make demo` down)
        for name, demo_name in DEMO.items():
            save(os.path.join(OUT, demo_name + ".safetensors"), models[name])
        return
    linear("ws2", [("ft3", 0.5), ("ft4", 0.25), ("ft1", 0.25)])
    linear("ad1", [("ft1", 1.0), ("ft3", 0.5), ("base", -0.5)])
    linear("ad2", [("ft2", 1.0), ("ft4", 0.8), ("base", -0.8)])
    # block-weighted: a GRAD_V-like preset and random per-block weights; TE/VAE take BASE's
    for name, (a, b), fn in [("bw1", ("ft1", "ft2"), lambda k, i: abs(1 - 2 * i / max(1, len(allblocks) - 1))),
                             ("bw2", ("ft3", "ft5"), lambda k, i: float(rng.uniform(0.1, 0.9)))]:
        alpha = {blk: round(fn(blk, i), 4) for i, blk in enumerate(allblocks)}
        st = {n: (1 - alpha[blocks[n]]) * P(a)[n] + alpha[blocks[n]] * P(b)[n] for n in base}
        put(name, st, {"origin": "merge", "linear": True,
                       "parents": {a: {k: 1 - v for k, v in alpha.items()}, b: alpha}})
    # merge of merges
    st = {n: 0.5 * P("ws1")[n] + 0.5 * P("ft3")[n] for n in base}
    put("mm1", st, {"origin": "merge", "linear": True,
                    "parents": {"ws1": {b: 0.5 for b in allblocks}, "ft3": {b: 0.5 for b in allblocks}}})
    # TIES (top-20% trim, elected sign, disjoint mean) and DARE (p = 0.9, rescale)
    R = P("base")
    def ties(parents, density=0.2):
        out = {}
        for n in base:
            taus = []
            for p in parents:
                t = P(p)[n] - R[n]
                k = max(1, int(t.size * density))
                thr = np.partition(np.abs(t).ravel(), -k)[-k]
                taus.append(np.where(np.abs(t) >= thr, t, 0))
            T = np.stack(taus)
            sign = np.sign(T.sum(0))
            agree = (np.sign(T) == sign) & (T != 0)
            cnt = np.maximum(agree.sum(0), 1)
            out[n] = R[n] + (T * agree).sum(0) / cnt
        return out
    def dare(parents, p=0.9):
        out = {}
        for n in base:
            acc = R[n].copy()
            for q, w in parents:
                t = P(q)[n] - R[n]
                mask = gen(n).random(t.shape) >= p
                acc += w * t * mask / (1 - p)
            out[n] = acc
        return out
    put("ties1", ties(["ft1", "ft2", "ft3"]), {"origin": "merge", "linear": False,
                                                "parents_any": ["ft1", "ft2", "ft3"]})
    put("dare1", dare([("ft2", 0.5), ("ft4", 0.5)]), {"origin": "merge", "linear": False,
                                                      "parents_any": ["ft2", "ft4"]})
    # a LoRA (rank 8) baked into the base: only some attention matrices change
    st = P("base")
    with_mat = [b for b in allblocks if any(st[n].ndim >= 2 and blocks[n] == b for n in base)]
    lora_blocks = [b for b in ("IN01", "IN04", "M00", "OUT05") if b in with_mat]
    lora_blocks += [b for b in with_mat if b not in lora_blocks and b not in ("TE", "TE2", "VAE")
                    ][:max(0, 4 - len(lora_blocks))]
    for n in base:
        if st[n].ndim >= 2 and blocks[n] in lora_blocks:
            o, i = st[n].shape[0], st[n].size // st[n].shape[0]
            lr = gen(n).normal(0, 1, (o, 8)) @ gen(n).normal(0, 1, (8, i)) / np.sqrt(8)
            st[n] = st[n] + lr.reshape(st[n].shape).astype(np.float32) * float(st[n].std()) * 0.05
    put("lora1", st, {"origin": "fine-tune", "base": "base"})
    for name, st in models.items():
        save(os.path.join(d, name + ".safetensors"), st)
    with open(os.path.join(d, "truth.json"), "w") as f:
        json.dump({"blocks": allblocks, "models": truth}, f, indent=1)


family("sd1", 11)
if not DEMO:
    family("sdxl", 12)
