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
    {"check", "safety verdicts: safe, suspicious, dangerous or invalid (never executes anything)",
     "check [--json] [-v] [-q] FILE...\n"
     "\n"
     "Judges each FILE without executing or importing anything: every pickle in it (a torch\n"
     "zip's data.pkl and any other member that is a pickle, the five pickles of a legacy torch\n"
     "file, a raw pickle file) against an allow-list of what real checkpoints use, and the zip\n"
     "container for tricks that hide a pickle. safetensors and GGUF files are safe when they\n"
     "read. Only directories and pickles are read, never tensor data.\n"
     "\n"
     "  safe        well-formed, and only allow-listed imports and calls\n"
     "  suspicious  something that cannot be proved safe (an import not on the allow-list,\n"
     "              trailing data, a numpy object array, ...)\n"
     "  dangerous   a call of anything not allow-listed, a known-dangerous import, an import\n"
     "              that cannot be resolved statically, a container trick\n"
     "  invalid     the file cannot be parsed (the reason is given)\n"
     "\n"
     "  -v          list every finding (default: the worst one)\n"
     "  -q          print only files that are not safe\n"
     "  --json      an array of {path, verdict, format, findings: [{severity, what, where,\n"
     "              count}]}\n"
     "\n"
     "Exit status: 3 when any file is dangerous or suspicious, else 1 when any is invalid,\n"
     "else 0. See docs/check.md for what a verdict guarantees and what it does not.\n",
     cmd_check},
    {0, 0, 0, 0},
};
