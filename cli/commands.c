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
    {0, 0, 0, 0},
};
