/* The command table: every command ckptdb offers, in the order `ckptdb help` lists them. */
#include "cli.h"

const struct cli_command cli_commands[] = {
    {"inspect", "show a model file's format, tensors and metadata (reads headers only)",
     "inspect [--json] [--summary] FILE...\n"
     "\n"
     "Reads the header of each FILE (safetensors, .ckpt/.pt/.pth/.bin torch zip or legacy\n"
     "pickle, GGUF, or a diffusers folder) without loading weights or executing anything, and\n"
     "prints its format, size, tensor count, parameter count, dtypes, metadata and the table of\n"
     "tensors (name, dtype, shape, offset, bytes).\n"
     "\n"
     "  --summary   omit the tensor table (human output only)\n"
     "  --json      one JSON object (an array of objects for several files)\n"
     "\n"
     "Exit status: 0 when every file was read, 1 when any could not be.\n",
     cmd_inspect},
    {"identify", "tell what each model file is: kind, family, variant, problems, with evidence",
     "identify [--json] [-v] [--no-sidecar] FILE...\n"
     "\n"
     "Reads only the header of each FILE (and the 77-entry CLIP position_ids tensor) and\n"
     "reports its kind (checkpoint, lora, vae, embedding, controlnet, ...), LoRA network type,\n"
     "family (sd1, sdxl, flux-dev, ...), ecosystem (pony, illustrious, noobai), variant\n"
     "(inpaint, pix2pix, depth, ...), prediction (eps, v, edm), precision, components and\n"
     "problems (ema-present, junk-keys, missing-component, precision-waste,\n"
     "clip-mislabelled, broken-clip-position-ids, unexpected-shape).\n"
     "A Civitai Helper (.civitai.info) or Stability Matrix (.cm-info.json) sidecar next to\n"
     "the file is read for the ecosystem unless --no-sidecar is given.\n"
     "\n"
     "  -v          also print the evidence: which keys, shapes or metadata decided each field\n"
     "  --json      an array with one object per file\n"
     "\n"
     "Exit status: 0 when every file was read, 1 when any could not be (the others are still\n"
     "reported).\n",
     cmd_identify},
    {0, 0, 0, 0},
};
