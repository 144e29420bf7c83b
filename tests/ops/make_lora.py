#!/usr/bin/python3
"""A small kohya SD1 LoRA (diffusers-style module names, as kohya writes for SD1) for
the fixtures in tests/fixtures.d/50-ops.sh: a linear proj_in and a 3x3 conv (LoCon), seeded."""
import json
import struct
import sys

import torch

g = torch.Generator().manual_seed(11)
mods = {"lora_unet_down_blocks_0_attentions_0_proj_in": ((4, 320, 1, 1), (320, 4, 1, 1)),
        "lora_unet_down_blocks_0_resnets_0_conv1": ((4, 320, 3, 3), (320, 4, 1, 1))}
tensors = {}
for m, (ds, us) in mods.items():
    tensors[m + ".lora_down.weight"] = (torch.rand(ds, generator=g) - 0.5).float()
    tensors[m + ".lora_up.weight"] = (torch.rand(us, generator=g) - 0.5).float()
    tensors[m + ".alpha"] = torch.tensor(2.0)
hdr, off, blobs = {"__metadata__": {"ss_network_module": "networks.lora", "ss_base_model_version": "sd_v1"}}, 0, []
for k, t in tensors.items():
    b = t.contiguous().numpy().tobytes()
    hdr[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
    off += len(b)
    blobs.append(b)
h = json.dumps(hdr).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
