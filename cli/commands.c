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
    {"hash", "compute sha256, autov1/2/3, crc32 and blake3 of model files in one read",
     "hash [--only LIST] [--jobs N] [--json] [--progress] FILE...\n"
     "\n"
     "Reads each FILE once and computes the hashes model sites and UIs identify files by:\n"
     "  sha256   SHA-256 of the whole file (64 hex)\n"
     "  autov1   A1111's legacy hash: SHA-256 of the 64 KiB at offset 1 MiB (8 hex)\n"
     "  autov2   the first 10 hex of sha256 (A1111's and Civitai's short hash)\n"
     "  autov3   SHA-256 of a safetensors file's bytes after its header (12 hex; '-' / null\n"
     "           for other formats)\n"
     "  crc32    zlib's CRC-32 of the whole file (8 hex)\n"
     "  blake3   BLAKE3 of the whole file (64 hex)\n"
     "The hashes run in parallel threads and several files are hashed at once.\n"
     "\n"
     "  --only LIST  comma-separated subset of the names above (default: all)\n"
     "  --jobs N     files hashed at once (default: automatic, by cores and memory)\n"
     "  --json       an array of {path, size, <each hash asked for>}; a file that failed is\n"
     "               {path, error}\n"
     "  --progress   progress bar on stderr (drawn anyway on a terminal for files > 256 MiB)\n"
     "\n"
     "With one hash, each line is 'HEX  PATH' as sha256sum and b3sum print; otherwise a table.\n"
     "Exit status: 0 when every file was hashed, 1 when any could not be (unreadable, a\n"
     "directory, or changed while being read: no hash is printed for it), 2 for usage errors.\n",
     cmd_hash},
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
    {"scan", "record every model file under folders in the catalog (incremental)",
     "scan [--no-hash] [--no-lineage] [--verify] [--jobs N] [--progress] [--json] PATH...\n"
     "\n"
     "Walks each PATH (folders recursively; symlinks followed once, loops detected) and records\n"
     "every model file, recognised by its content (safetensors, torch zip / legacy pickle, GGUF,\n"
     "diffusers folders as one model). New and changed files are read (header, metadata,\n"
     "sidecars such as .civitai.info, .cm-info.json, A1111 <name>.json, .yaml, .txt, previews)\n"
     "and hashed; unchanged files (same size, mtime, device, inode) are not opened; a moved or\n"
     "renamed file is matched by quick fingerprint and sha256 and keeps its record; records of\n"
     "files that are gone are kept and marked missing. Work is committed in small batches, so\n"
     "an interrupted scan keeps what it recorded and the next scan carries on.\n"
     "\n"
     "  --no-hash   skip hashing and lineage fingerprints (moved files are then matched by\n"
     "              fingerprint alone)\n"
     "  --no-lineage  hash without the lineage fingerprints of checkpoints (similar, lineage)\n"
     "  --verify    hash every new file in full, even one another machine already hashed\n"
     "  --jobs N    files hashed at once (default: automatic)\n"
     "  --progress  progress bar on stderr even when it is not a terminal\n"
     "  --json      the summary as one JSON object\n"
     "\n"
     "Prints: seen, new, changed, unchanged, moved, missing, failed, bytes hashed, time.\n"
     "Exit status: 0, or 1 when some file could not be read (recorded with its reason).\n",
     cmd_scan},
    {"list", "list catalog models, filtered and sorted",
     "list [--kind K] [--family F] [--ecosystem E] [--origin O] [--output O] [--realism R]\n"
     "     [--subject S] [--tag T] [--source S] [--safety V] [--min-rating N] [--present]\n"
     "     [--host H] [--sort [-]FIELD] [--limit N | --all] [--json | --csv]\n"
     "\n"
     "Filters combine (all must hold); values are those of TAXONOMY.md and a bad one is refused\n"
     "with the list of valid ones. --sort takes any model-object field (a leading '-' sorts\n"
     "descending; default name). --present leaves out models whose file is missing.\n"
     "--host H keeps models with a file recorded on machine H (a shared PostgreSQL catalog\n"
     "records each file under its machine's name: $CKPTDB_HOST, else the host name).\n"
     "The table marks a suggested value with '~' (not chosen: see 'ckptdb accept'), a missing\n"
     "file with M and an unreadable one with E. The table shows the first 50 and says how many\n"
     "match (--all: every one; --limit N: the first N); --json and --csv give every match\n"
     "unless --limit.\n",
     cmd_list},
    {"show", "everything known about one model, with the reasons for each suggestion",
     "show [--json] MODEL\n"
     "\n"
     "MODEL is a catalog id, a name, a path, or 6+ hex digits of the sha256 or autov2.\n"
     "A model whose file is recorded on several machines lists every location (host:path).\n",
     cmd_show},
    {"set", "set a model's chosen fields (validated against the taxonomy)",
     "set MODEL FIELD=VALUE...\n"
     "\n"
     "Fields: name, origin, output, realism (comma list), subjects (comma list), ecosystem,\n"
     "source, source_url, rating (1-5), note, trigger_words, settings.KEY (e.g. settings.cfg=7,\n"
     "settings.sampler=euler). An empty VALUE clears the field. All assignments are checked\n"
     "first; a bad value lists the valid ones and nothing is changed (exit 2).\n",
     cmd_set},
    {"tag", "add and remove a model's free-word tags", "tag MODEL [+]WORD... -WORD...\n", cmd_tag},
    {"accept", "turn a model's suggestions into chosen values",
     "accept MODEL [FIELD...]\n"
     "\n"
     "Without FIELD, every suggested field the user has not chosen yet takes its best\n"
     "suggestion; with FIELDs (origin, output, realism, subjects, ecosystem, source,\n"
     "source_url, trigger_words) those fields take it even over a chosen value.\n",
     cmd_accept},
    {"search", "full-text search over names, notes, tags, trigger words, metadata",
     "search [--json | --csv] [--limit N | --all] TEXT...\n"
     "\n"
     "Every word must match (as the start of a word) the model's name or path, note, tags,\n"
     "trigger words, sidecar description, site tags or file metadata. Names are also cut into\n"
     "their words: 'realism' and 'epicrealism' both find epiCRealism. Best matches first: models\n"
     "whose name or path holds every word, then the others, each in catalogue order. The table\n"
     "shows the best 50 (--all: every match; --limit N: the best N); --json and --csv give\n"
     "every match unless --limit.\n",
     cmd_search},
    {"choose", "rank models for a wish, saying why",
     "choose [--output O] [--realism R] [--family F] [--ecosystem E] [--subject S] [--kind K]\n"
     "       [--top N] [--json]\n"
     "\n"
     "family, ecosystem and kind are measured and filter. output, realism and subject score:\n"
     "a chosen value counts most (and a different chosen value counts against), a suggestion\n"
     "counts less, in proportion to its confidence; then the rating. Each result says why.\n",
     cmd_choose},
    {"dupes", "files with the same sha256 (or same fingerprint, not hashed yet)",
     "dupes [--json]\n", cmd_dupes},
    {"export", "write the catalog as JSON, CSV or a Markdown table",
     "export [--format json|csv|md]\n"
     "\n"
     "JSON is an array of model objects and is what 'ckptdb import' reads back.\n",
     cmd_export},
    {"import", "restore chosen fields from an export, matched by sha256",
     "import FILE\n"
     "\n"
     "Restores name, origin, output, realism, subjects, ecosystem, tags, source, source_url,\n"
     "rating, note, trigger_words and settings of every record whose sha256 is in the catalog.\n"
     "One transaction: a malformed file or value changes nothing.\n",
     cmd_import},
    {"forget", "drop a model's record (never the file)", "forget MODEL\n", cmd_forget},
    {"db", "copy a whole catalog between SQLite and PostgreSQL",
     "db copy --from CATALOG --to CATALOG [--json]\n"
     "\n"
     "CATALOG is an SQLite file path or a PostgreSQL URL (postgresql://user@host/dbname; a\n"
     "password in it is never printed; sslmode=require and the other libpq parameters work).\n"
     "Copies every record with its id and every field (files of every machine, chosen values,\n"
     "tags, suggestions, merge parents) and rebuilds the search index. The destination is\n"
     "created or migrated as needed and must hold no model yet; one transaction, so a failure\n"
     "leaves it as it was. The source is only read.\n",
     cmd_db},
    {"similar", "rank models by how alike their weights are, per block, with shared components",
     "similar [--json] [-v] [--top N] [--base FILE] MODEL --candidates FILE...\n"
     "\n"
     "Fingerprints MODEL and every candidate (one read of each: per-tensor identity digests and\n"
     "moments, per-block linear sketches) and ranks the candidates of the same family by the\n"
     "cosine of their departures from a base: --base FILE (the family's base), else the mean\n"
     "of all the files given. Components and blocks identical byte for byte are listed.\n"
     "\n"
     "  --top N     keep the N most similar (default 10)\n"
     "  --base FILE the base the departures are measured from\n"
     "  -v          also print the per-block similarity row\n"
     "  --json      an array of {model, similarity, blocks, shared_components}\n"
     "\n"
     "Exit status: 0 when every file was read, 1 when any could not be, 2 usage.\n",
     cmd_similar},
    {"lineage", "explain how a model was made: merge (parents, per-block weights), fine-tune, ...",
     "lineage [--json] [-v] MODEL --candidates FILE...\n"
     "\n"
     "Fingerprints MODEL and the candidates and fits MODEL's per-block sketches on the\n"
     "candidates' (weighted sum, add-difference with signed weights, block weights):\n"
     "  merge      parents and their weights per block; 'linear' when the fit's residual is at\n"
     "             the rounding floor of the stored precision, else a non-linear merge (TIES,\n"
     "             DARE, ...) whose parents still explain much of it\n"
     "  fine-tune  the base it departs from and how far, per block\n"
     "  duplicate  the same weights as a candidate, up to rounding\n"
     "  unknown    nothing among the candidates explains it\n"
     "\n"
     "  -v          also print the per-block weights\n"
     "  --json      {model, origin: {value, confidence, why}, parents: [{sha256, name, weight,\n"
     "              blocks}], base, residual, explained, linear, distance}\n"
     "\n"
     "Exit status: 0 when every file was read, 1 when any could not be, 2 usage.\n",
     cmd_lineage},
    {"serve", "the web page over the catalog: browse, filter, annotate, choose",
     "serve [--listen ADDR:PORT] [--web-root DIR] [--json]\n"
     "\n"
     "Starts a local web server with a page over the catalog (a grid of models with previews,\n"
     "filters for every taxonomy axis, details, editing, choose, an overview) and its JSON API\n"
     "under /api/, prints the URL and runs until Ctrl-C.\n"
     "\n"
     "  --listen ADDR:PORT  where to listen (default 127.0.0.1:7861; port 0 picks a free one).\n"
     "                      Anything but a loopback address is warned about.\n"
     "  --web-root DIR      serve the page's files from DIR (development) instead of the copy\n"
     "                      built into ckptdb\n"
     "  --json              print {\"url\", \"catalog\"} instead of the line of text\n"
     "\n"
     "Writes need the token the page receives and a same-origin request; the Host header must be\n"
     "this server's address. See docs/serve.md.\n",
     cmd_serve},
    {"merge", "merge two or three checkpoints into a new safetensors file, streaming",
     "merge A B [C] -o OUT [--method M] [--alpha X] [--beta Y] [--blocks V,V,..|PRESET]\n"
     "       [--components LIST] [--exclude REGEX] [--vae FILE] [--dtype fp16|bf16|fp32]\n"
     "       [--k F] [--p F] [--seed N] [--force] [--no-hash] [--no-catalog] [--json]\n"
     "\n"
     "Reads the models tensor by tensor (any format: safetensors, .ckpt, diffusers, ...),\n"
     "computes in float64 and rounds once to the output dtype; memory stays flat.\n"
     "  weighted-sum    (1-a)A + aB (A1111's multiplier; ComfyUI's ratio is 1-a) [default]\n"
     "  add-difference  A + a(B - C)\n"
     "  triple-sum      (1-a-b)A + aB + bC\n"
     "  ties            C + a * TIES(A-C, B-C): keep the top --k (0.2) of each delta by\n"
     "                  magnitude, elect the sign by mass, average the agreeing values\n"
     "  dare            C + a * (drop(A-C) + drop(B-C)): each delta element dropped with\n"
     "                  probability --p, survivors scaled by 1/(1-p); --seed makes it repeatable\n"
     "\n"
     "  --blocks        per-block alpha: 26 values for SD1/SD2 (BASE, IN00-IN11, M00,\n"
     "                  OUT00-OUT11), 20 for SDXL (BASE, IN00-IN08, M00, OUT00-OUT08), keys\n"
     "                  mapped as SuperMerger does, or a preset name: ALL_A, ALL_B, FLAT_25,\n"
     "                  FLAT_75, GRAD_V, GRAD_A, SMOOTHSTEP, COSINE, REVERSE_COSINE, IN_ONLY,\n"
     "                  OUT_ONLY, MID_ONLY\n"
     "  --components    which parts are merged: unet,text-encoder,text-encoder-2,vae\n"
     "                  (default all); other tensors are copied from A\n"
     "  --exclude RE    keys matching the regular expression are copied from A\n"
     "  --vae FILE      bake this VAE into the output\n"
     "  --dtype         output dtype of floating tensors (default: as in A)\n"
     "  --no-hash       do not hash the inputs for the recipe (nor the output)\n"
     "  --no-catalog    do not record the output in the catalog\n"
     "  --trust         accept inputs whose safety verdict (ckptdb check) is not safe\n"
     "Keys only in A are copied, keys only in B reported. position_ids are never merged and are\n"
     "written as exact int64. A 9/8-channel inpainting/pix2pix A with a 4-channel B merges the\n"
     "first 4 input channels (as A1111). Different families are refused before writing.\n"
     "The output is written atomically and never replaces an input; --force replaces an\n"
     "existing OUT. Its __metadata__ holds sd_merge_recipe, sd_merge_models, modelspec.* and\n"
     "ckptdb.recipe.\n"
     "With a catalog in use (--db or $CKPTDB_DB given, or the default catalog exists) the\n"
     "output is scanned in with origin merge (chosen) and its parents with their weights;\n"
     "convert, prune, extract and bake record theirs too (docs/merge.md).\n"
     "Exit status: 0 written, 1 an input could not be read or merged, 2 usage.\n",
     cmd_merge},
    {"convert", "rewrite any model file as safetensors (optionally changing the dtype)",
     "convert IN -o OUT [--dtype fp16|bf16|fp32] [--force] [--no-hash] [--json]\n"
     "\n"
     "Tensor values are copied bit for bit when the dtype is kept and rounded to nearest-even\n"
     "when it changes; strided torch tensors are written contiguous; metadata (pickle scalars\n"
     "such as global_step, safetensors __metadata__, GGUF keys) goes into __metadata__.\n"
     "GGUF block-quantized tensors are refused (no dequantization).\n",
     cmd_convert},
    {"prune", "drop EMA copies, junk and training state; repair position_ids",
     "prune IN -o OUT [--ema-only | --keep-ema] [--dtype fp16|bf16|fp32] [--force] [--json]\n"
     "\n"
     "Drops model_ema.* (or with --ema-only makes the EMA weights the model weights), keys no\n"
     "component explains (optimizer/training state, junk), and rewrites CLIP position_ids as\n"
     "int64 0..n-1. Every other tensor is copied byte for byte. Reports the bytes saved.\n",
     cmd_prune},
    {"extract", "save one component (unet, vae, text encoder) as a standalone file",
     "extract IN --component unet|vae|text-encoder|text-encoder-2 -o OUT [--dtype D] [--force]\n"
     "\n"
     "Names as standalone files carry them: bare LDM UNet keys (input_blocks.*), bare VAE\n"
     "keys (encoder.*, decoder.*), CLIP-L as text_model.*, OpenCLIP encoders as\n"
     "transformer.resblocks.*.\n",
     cmd_extract},
    {"bake", "bake LoRA/LoCon/LoHa/LoKr networks and a VAE into a checkpoint",
     "bake CKPT -o OUT [--lora FILE[:WEIGHT]]... [--vae FILE] [--dtype D] [--force] [--json]\n"
     "\n"
     "LoRA/LoCon by kohya's formula W += weight * up @ down * alpha/rank (linear, 1x1 and 3x3\n"
     "convolutions, Tucker mid tensors), LoHa and LoKr by LyCORIS's formulas, computed in\n"
     "float64 and rounded once. A network for another family is refused; modules without a\n"
     "target in the checkpoint are counted and reported. WEIGHT defaults to 1.\n",
     cmd_bake},
    {"sidecars",
     "write the catalog's facts into A1111 / Civitai Helper / Stability Matrix sidecars",
     "sidecars --write FORMAT[,FORMAT] [--dry-run] [-v] [--json] [MODEL...]\n"
     "\n"
     "Merges each model's catalog facts (trigger words, note, description, base model, type,\n"
     "Civitai ids from the source URL, hashes, user tags and title, settings.weight and\n"
     "settings.negative) into the sidecar files other tools read next to the model file:\n"
     "  a1111             <name>.json (A1111/Forge extra-networks user metadata)\n"
     "  civitai-helper    <name>.civitai.info (only for models from Civitai, or when it exists)\n"
     "  stability-matrix  <name>.cm-info.json\n"
     "Fields ckptdb does not know are kept; site facts already in a file are not replaced.\n"
     "Each file is written atomically, and only when something changes. Without MODEL, every\n"
     "catalogued model whose file is present. See docs/sidecars.md for every field.\n"
     "\n"
     "  --dry-run   show the per-field diff, write nothing\n"
     "  -v          also list files that are up to date or skipped (and why)\n"
     "  --json      an array of {model, name, format, path, action, reason, changes: [{field,\n"
     "              before, after}]}; action is create, update, unchanged, skip or error\n"
     "\n"
     "Exit status: 0, or 1 when a sidecar could not be read or written (it is left alone).\n",
     cmd_sidecars},
    {"views", "a folder tree of links laid out for A1111, Forge, ComfyUI or InvokeAI",
     "views --ui a1111|forge|comfyui|invokeai --root DIR [--group-by TEMPLATE] [--hardlink]\n"
     "      [--comfyui-yaml[=FILE]] [--dry-run] [-v] [--json]\n"
     "\n"
     "Fills DIR with links to the catalogued model files that are present, in the folders the\n"
     "UI reads each kind from (A1111/Forge models/Stable-diffusion, models/Lora, models/VAE,\n"
     "embeddings, ...; ComfyUI models/checkpoints, loras, vae, embeddings, diffusion_models,\n"
     "text_encoders, controlnet, ...; InvokeAI main, lora, vae, embedding, ...), each model's\n"
     "preview next to its link under the name the UI looks for, and for A1111/Forge the\n"
     "sidecars they read. Re-running updates the tree: new models are linked, moved ones\n"
     "repointed, forgotten or missing ones unlinked. Only links ckptdb made (listed in\n"
     "DIR/.ckptdb-view.json) are ever replaced or removed; real files and anything else in DIR\n"
     "are left alone. --dry-run counts (and with -v lists) what would change and touches\n"
     "nothing.\n"
     "\n"
     "  --group-by TEMPLATE  sub-folders by a layout template or preset, as organize's\n"
     "                       --layout (e.g. '{output|unsorted}/{realism}', by-output)\n"
     "  --hardlink           hardlinks instead of symlinks (same filesystem only; a diffusers\n"
     "                       folder is still symlinked)\n"
     "  --comfyui-yaml       print an extra_model_paths.yaml section pointing ComfyUI at DIR;\n"
     "                       =FILE writes it to FILE (a new file, or one it wrote before)\n"
     "  -v                   list every link created, repointed or removed\n"
     "  --dry-run            count (with -v list) what would change; touch nothing\n"
     "  --json               {root, ui, dry_run, models, created, updated, kept, removed, "
     "foreign,\n"
     "                       no_place, failed[, comfyui_yaml]}\n"
     "\n"
     "Exit status: 0; 1 when a link could not be made; 2 usage. See docs/views.md.\n",
     cmd_views},
    {"organize", "lay catalogued files out in folders by a template, sidecars included; undoable",
     "organize --into DIR --layout TEMPLATE [--mode move|hardlink|symlink|copy]\n"
     "         [--on-conflict suffix|skip] [--apply] [--json] [-v] [PATH...]\n"
     "       organize --resume | --undo\n"
     "\n"
     "Plans where every present catalogued file of this machine (or those under PATH...) goes:\n"
     "DIR/<TEMPLATE expanded>/<its file name>, its sidecars (.civitai.info, .cm-info.json,\n"
     ".json, .yaml, .txt, previews) going with it. Without --apply it prints the plan (from ->\n"
     "to, sidecars, conflicts) and changes nothing.\n"
     "\n"
     "TEMPLATE is a relative path with fields in braces: {kind} {family} {ecosystem} (measured),\n"
     "{origin} {output} {realism} {subject} {source} (chosen; suggestions never count), {name},\n"
     "and {a1111} (the folder A1111/Forge reads that kind from). {output|unsorted} gives\n"
     "'unsorted' when the field is empty; an empty folder level is dropped. Or a preset:\n"
     "  by-output          {output|unsorted}\n"
     "  by-output-realism  {output|unsorted}/{realism}\n"
     "  by-family-output   {family|unknown}/{output|unsorted}\n"
     "  a1111              {a1111}/{family|unknown}   (DIR = the webui folder)\n"
     "\n"
     "  --mode M         move (default; the catalog follows the files), hardlink, symlink or\n"
     "                   copy (originals and catalog stay)\n"
     "  --on-conflict    suffix (default): a taken name becomes NAME-2, NAME-3...; skip: leave\n"
     "                   the file where it is and say why\n"
     "  --apply          carry the plan out: journaled in the catalog first; same filesystem by\n"
     "                   rename, across filesystems by copy + fsync + SHA-256 check, then the\n"
     "                   source is removed; nothing is ever overwritten\n"
     "  --resume         finish the last run if it was interrupted\n"
     "  --undo           put the files of the last run back (again: the run before it)\n"
     "  --json           the plan as data (with --apply: {plan, run})\n"
     "  -v               list files already in place, and each step as it is done\n"
     "\n"
     "Exit status: 0 when every step was done (skips are decisions, not failures), 1 when any\n"
     "failed (the others were still done; the failed files stay where they were), 2 for usage\n"
     "errors or when an earlier run is unfinished.\n",
     cmd_organize},
    {0, 0, 0, 0},
};
