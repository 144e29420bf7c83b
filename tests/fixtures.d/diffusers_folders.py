"""Writes diffusers folders (OUT/diffusers/): an SD 1.5-shaped pipeline with the diffusers key
names and shapes (unet, vae, text_encoder weights; tokenizer, scheduler, feature_extractor
configs), one with fp16 variant files only, one with sharded unet and text_encoder, and the
broken ones of the manifest bad/EXPECT.tsv (folder, expected status, message substring).
Tensor data is sparse (holes), written by mkfixture. Usage: diffusers_folders.py BUILD OUT SHARED"""
import json
import os
import shutil
import subprocess
import sys

build, out, shared = sys.argv[1:4]
mk = os.path.join(build, "tools", "mkfixture")
root = os.path.join(out, "diffusers")
os.makedirs(root, exist_ok=True)
env = dict(os.environ, CKPT_SHARED=shared)


def unet_keys():
    k = []

    def t(n, s):
        k.append((n, s))

    def resnet(p, cin, cout):
        t(p + "norm1.weight", [cin]); t(p + "norm1.bias", [cin])
        t(p + "conv1.weight", [cout, cin, 3, 3]); t(p + "conv1.bias", [cout])
        t(p + "time_emb_proj.weight", [cout, 1280]); t(p + "time_emb_proj.bias", [cout])
        t(p + "norm2.weight", [cout]); t(p + "norm2.bias", [cout])
        t(p + "conv2.weight", [cout, cout, 3, 3]); t(p + "conv2.bias", [cout])
        if cin != cout:
            t(p + "conv_shortcut.weight", [cout, cin, 1, 1]); t(p + "conv_shortcut.bias", [cout])

    def attn(p, c):
        t(p + "norm.weight", [c]); t(p + "norm.bias", [c])
        t(p + "proj_in.weight", [c, c, 1, 1]); t(p + "proj_in.bias", [c])
        b = p + "transformer_blocks.0."
        for a, kv in (("attn1", c), ("attn2", 768)):
            t(b + a + ".to_q.weight", [c, c]); t(b + a + ".to_k.weight", [c, kv])
            t(b + a + ".to_v.weight", [c, kv])
            t(b + a + ".to_out.0.weight", [c, c]); t(b + a + ".to_out.0.bias", [c])
        for n in ("norm1", "norm2", "norm3"):
            t(b + n + ".weight", [c]); t(b + n + ".bias", [c])
        t(b + "ff.net.0.proj.weight", [8 * c, c]); t(b + "ff.net.0.proj.bias", [8 * c])
        t(b + "ff.net.2.weight", [c, 4 * c]); t(b + "ff.net.2.bias", [c])
        t(p + "proj_out.weight", [c, c, 1, 1]); t(p + "proj_out.bias", [c])

    ch = [320, 640, 1280, 1280]
    t("conv_in.weight", [320, 4, 3, 3]); t("conv_in.bias", [320])
    t("time_embedding.linear_1.weight", [1280, 320]); t("time_embedding.linear_1.bias", [1280])
    t("time_embedding.linear_2.weight", [1280, 1280]); t("time_embedding.linear_2.bias", [1280])
    prev = 320
    for i, c in enumerate(ch):
        for r in range(2):
            resnet(f"down_blocks.{i}.resnets.{r}.", prev if r == 0 else c, c)
            if i < 3:
                attn(f"down_blocks.{i}.attentions.{r}.", c)
        if i < 3:
            t(f"down_blocks.{i}.downsamplers.0.conv.weight", [c, c, 3, 3])
            t(f"down_blocks.{i}.downsamplers.0.conv.bias", [c])
        prev = c
    resnet("mid_block.resnets.0.", 1280, 1280); attn("mid_block.attentions.0.", 1280)
    resnet("mid_block.resnets.1.", 1280, 1280)
    rch = list(reversed(ch))
    skips = [[1280, 1280, 1280], [1280, 1280, 640], [640, 640, 320], [320, 320, 320]]
    prev = 1280
    for i, c in enumerate(rch):
        for r in range(3):
            resnet(f"up_blocks.{i}.resnets.{r}.", prev + skips[i][r], c)
            if i > 0:
                attn(f"up_blocks.{i}.attentions.{r}.", c)
            prev = c
        if i < 3:
            t(f"up_blocks.{i}.upsamplers.0.conv.weight", [c, c, 3, 3])
            t(f"up_blocks.{i}.upsamplers.0.conv.bias", [c])
    t("conv_norm_out.weight", [320]); t("conv_norm_out.bias", [320])
    t("conv_out.weight", [4, 320, 3, 3]); t("conv_out.bias", [4])
    return k


def vae_keys():
    k = []

    def t(n, s):
        k.append((n, s))

    def resnet(p, cin, cout):
        t(p + "norm1.weight", [cin]); t(p + "norm1.bias", [cin])
        t(p + "conv1.weight", [cout, cin, 3, 3]); t(p + "conv1.bias", [cout])
        t(p + "norm2.weight", [cout]); t(p + "norm2.bias", [cout])
        t(p + "conv2.weight", [cout, cout, 3, 3]); t(p + "conv2.bias", [cout])
        if cin != cout:
            t(p + "conv_shortcut.weight", [cout, cin, 1, 1]); t(p + "conv_shortcut.bias", [cout])

    def mid(p):
        resnet(p + "resnets.0.", 512, 512)
        a = p + "attentions.0."
        t(a + "group_norm.weight", [512]); t(a + "group_norm.bias", [512])
        for n in ("to_q", "to_k", "to_v", "to_out.0"):
            t(a + n + ".weight", [512, 512]); t(a + n + ".bias", [512])
        resnet(p + "resnets.1.", 512, 512)

    ch = [128, 256, 512, 512]
    t("encoder.conv_in.weight", [128, 3, 3, 3]); t("encoder.conv_in.bias", [128])
    prev = 128
    for i, c in enumerate(ch):
        for r in range(2):
            resnet(f"encoder.down_blocks.{i}.resnets.{r}.", prev if r == 0 else c, c)
        if i < 3:
            t(f"encoder.down_blocks.{i}.downsamplers.0.conv.weight", [c, c, 3, 3])
            t(f"encoder.down_blocks.{i}.downsamplers.0.conv.bias", [c])
        prev = c
    mid("encoder.mid_block.")
    t("encoder.conv_norm_out.weight", [512]); t("encoder.conv_norm_out.bias", [512])
    t("encoder.conv_out.weight", [8, 512, 3, 3]); t("encoder.conv_out.bias", [8])
    t("quant_conv.weight", [8, 8, 1, 1]); t("quant_conv.bias", [8])
    t("post_quant_conv.weight", [4, 4, 1, 1]); t("post_quant_conv.bias", [4])
    t("decoder.conv_in.weight", [512, 4, 3, 3]); t("decoder.conv_in.bias", [512])
    mid("decoder.mid_block.")
    prev = 512
    for i, c in enumerate(reversed(ch)):
        for r in range(3):
            resnet(f"decoder.up_blocks.{i}.resnets.{r}.", prev if r == 0 else c, c)
        if i < 3:
            t(f"decoder.up_blocks.{i}.upsamplers.0.conv.weight", [c, c, 3, 3])
            t(f"decoder.up_blocks.{i}.upsamplers.0.conv.bias", [c])
        prev = c
    t("decoder.conv_norm_out.weight", [128]); t("decoder.conv_norm_out.bias", [128])
    t("decoder.conv_out.weight", [3, 128, 3, 3]); t("decoder.conv_out.bias", [3])
    return k


def clip_keys():
    k = []
    with open(os.path.join(shared, "ref", "keys", "CLIP-v1-SD.txt")) as f:
        for line in f:
            n, s = line.split(" ", 1)
            k.append(("text_model." + n, json.loads(s)))
    return k


KEYS = {"unet": unet_keys(), "vae": vae_keys(), "text_encoder": clip_keys()}


def write_st(path, keys, dtype="F32"):
    args = [mk, "-o", path, "--force", "--dtype", dtype, "--data", "sparse"]
    for n, s in keys:
        dt = "I64" if "position_ids" in n else dtype
        args += ["--tensor", f"{n}:{dt}:{','.join(map(str, s))}"]
    subprocess.run(args, check=True, env=env)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)


MODEL_INDEX = {
    "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.27.2",
    "feature_extractor": ["transformers", "CLIPImageProcessor"],
    "requires_safety_checker": False, "safety_checker": [None, None],
    "scheduler": ["diffusers", "PNDMScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
}
CONFIGS = {
    "unet/config.json": {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.27.2",
                         "in_channels": 4, "out_channels": 4, "sample_size": 64,
                         "cross_attention_dim": 768, "attention_head_dim": 8,
                         "block_out_channels": [320, 640, 1280, 1280], "layers_per_block": 2},
    "vae/config.json": {"_class_name": "AutoencoderKL", "_diffusers_version": "0.27.2",
                        "in_channels": 3, "latent_channels": 4, "sample_size": 512,
                        "scaling_factor": 0.18215},
    "text_encoder/config.json": {"architectures": ["CLIPTextModel"], "hidden_size": 768,
                                 "num_hidden_layers": 12, "projection_dim": 768,
                                 "model_type": "clip_text_model", "torch_dtype": "float32"},
    "scheduler/scheduler_config.json": {"_class_name": "PNDMScheduler",
                                        "_diffusers_version": "0.27.2", "beta_end": 0.012,
                                        "beta_schedule": "scaled_linear",
                                        "num_train_timesteps": 1000,
                                        "prediction_type": "epsilon", "skip_prk_steps": True},
    "tokenizer/tokenizer_config.json": {"model_max_length": 77, "do_lower_case": True},
    "feature_extractor/preprocessor_config.json": {"crop_size": 224, "do_resize": True},
}
WEIGHT = {"unet": "diffusion_pytorch_model", "vae": "diffusion_pytorch_model",
          "text_encoder": "model"}


def pipeline(name, variant=None, shard=(), dtype="F32"):
    d = os.path.join(root, name)
    write_json(os.path.join(d, "model_index.json"), MODEL_INDEX)
    for rel, cfg in CONFIGS.items():
        write_json(os.path.join(d, rel), cfg)
    with open(os.path.join(d, "tokenizer", "vocab.json"), "w") as f:
        f.write('{"a</w>": 0}')
    for comp, keys in KEYS.items():
        stem = WEIGHT[comp]
        v = "." + variant if variant else ""
        if comp in shard:
            half = len(keys) // 2
            wm = {}
            for i, part in enumerate((keys[:half], keys[half:])):
                fn = f"{stem}{'.' + variant if variant else ''}-0000{i + 1}-of-00002.safetensors"
                write_st(os.path.join(d, comp, fn), part, dtype)
                wm.update({n: fn for n, _ in part})
            idx = f"{stem}.safetensors.index{v}.json"
            write_json(os.path.join(d, comp, idx), {"metadata": {"total_size": 0},
                                                    "weight_map": wm})
        else:
            write_st(os.path.join(d, comp, f"{stem}{v}.safetensors"), keys, dtype)
    return d


sd15 = pipeline("sd15")
pipeline("sd15-fp16", variant="fp16", dtype="F16")
pipeline("sd15-sharded", shard=("unet", "text_encoder"))

# ---- broken folders ------------------------------------------------------------------------
bad = os.path.join(root, "bad")
os.makedirs(bad, exist_ok=True)
cases = []


def small(name, index=None, index_text=None):
    """A pipeline with only a tiny vae (fast to copy around)."""
    d = os.path.join(bad, name)
    os.makedirs(os.path.join(d, "vae"), exist_ok=True)
    write_json(os.path.join(d, "vae", "config.json"), CONFIGS["vae/config.json"])
    write_st(os.path.join(d, "vae", "diffusion_pytorch_model.safetensors"),
             [("quant_conv.weight", [8, 8, 1, 1])])
    if index_text is not None:
        with open(os.path.join(d, "model_index.json"), "w") as f:
            f.write(index_text)
    elif index is not None:
        write_json(os.path.join(d, "model_index.json"), index)
    return d


def case(name, code, msg):
    cases.append((name, code, msg))


VAE_ONLY = {"_class_name": "StableDiffusionPipeline", "vae": ["diffusers", "AutoencoderKL"]}
small("ok-small", VAE_ONLY); case("ok-small", "OK", "")
small("missing-component", dict(VAE_ONLY, unet=["diffusers", "UNet2DConditionModel"]))
case("missing-component", "CKPT_E_FORMAT", "no unet/")
small("malformed-json", index_text='{"_class_name": "X", "vae": ["diffusers", ')
case("malformed-json", "CKPT_E_FORMAT", "malformed JSON")
small("duplicate-key", index_text='{"vae": ["diffusers", "A"], "vae": ["diffusers", "B"]}')
case("duplicate-key", "CKPT_E_FORMAT", "malformed JSON")
small("not-object", index_text='["vae"]')
case("not-object", "CKPT_E_FORMAT", "not an object")
small("escape-dotdot", dict(VAE_ONLY, **{"..": ["diffusers", "UNet2DConditionModel"]}))
case("escape-dotdot", "CKPT_E_FORMAT", "would leave the folder")
small("escape-slash", dict(VAE_ONLY, **{"../../etc": ["diffusers", "UNet2DConditionModel"]}))
case("escape-slash", "CKPT_E_FORMAT", "would leave the folder")
small("bad-entry", dict(VAE_ONLY, unet=["diffusers", 5]))
case("bad-entry", "CKPT_E_FORMAT", "not [library, class]")
small("no-components", {"_class_name": "X"})
case("no-components", "CKPT_E_FORMAT", "names no components")
d = small("not-diffusers")
shutil.rmtree(os.path.join(d, "vae"))
with open(os.path.join(d, "README.md"), "w") as f:
    f.write("hello\n")
case("not-diffusers", "CKPT_E_FORMAT", "not a diffusers folder")
d = small("corrupt-weights", VAE_ONLY)
with open(os.path.join(d, "vae", "diffusion_pytorch_model.safetensors"), "r+b") as f:
    f.truncate(40)
case("corrupt-weights", "CKPT_E_FORMAT", "vae/diffusion_pytorch_model.safetensors: ")
d = small("huge-index", VAE_ONLY)
with open(os.path.join(d, "model_index.json"), "w") as f:
    f.write('{"vae": ["diffusers", "AutoencoderKL"], "pad": "' + "x" * (1 << 20) + '"}')
case("huge-index", "CKPT_E_LIMIT", "limit")
for name, wm, msg in (
        ("shard-escape", {"quant_conv.weight": "../x.safetensors"}, "does not name a shard"),
        ("shard-unlisted", {}, "does not list"),
        ("shard-missing-tensor", {"quant_conv.weight": "s1.safetensors",
                                  "other.weight": "s1.safetensors"}, "lists 2 tensors")):
    d = small(name, VAE_ONLY)
    os.rename(os.path.join(d, "vae", "diffusion_pytorch_model.safetensors"),
              os.path.join(d, "vae", "s1.safetensors"))
    if name == "shard-unlisted":
        wm = {"x": "s1.safetensors"}
    write_json(os.path.join(d, "vae", "diffusion_pytorch_model.safetensors.index.json"),
               {"weight_map": wm})
    case(name, "CKPT_E_FORMAT", msg)

with open(os.path.join(bad, "EXPECT.tsv"), "w") as f:
    for c in cases:
        f.write("\t".join(c) + "\n")
