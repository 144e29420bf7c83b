#!/usr/bin/python3
"""Run `ckptdb lineage` on every synthetic model (the rest of its family as candidates) and check
the issue's targets against truth.json; print one line per model and a summary.

- linear merges: the parent set is exactly the recipe's (top-1), and every per-block weight the
  fit determines is within 0.01 of the recipe's;
- TIES/DARE: origin merge, linear false, and the recipe's parents among the reported ones;
- fine-tunes (and the baked LoRA): origin fine-tune with the right base, never merge;
- parents right top-1 in at least 95% of the merge cases;
- identical components exactly: `similar ft1` names vae and the text encoder(s) as shared with
  base and ft2, only vae with ft4 (which trained its text encoder), nothing else.
usage: evaluate.py CKPTDB DIR
"""
import json, math, os, subprocess, sys

BIN, DIR = sys.argv[1], sys.argv[2]
fails, merges, merges_right = [], 0, 0


def direct(t):
    return set(t.get("parents", {})) | set(t.get("parents_any", [])) | (
        {t["base"]} if "base" in t else set())


def ancestors(truth, n):
    out, todo = set(), list(direct(truth[n]))
    while todo:
        a = todo.pop()
        if a not in out:
            out.add(a)
            todo += list(direct(truth[a]))
    return out

for arch in ("sd1", "sdxl"):
    d = os.path.join(DIR, arch)
    truth = json.load(open(os.path.join(d, "truth.json")))["models"]
    names = sorted(truth)
    path = lambda n: os.path.join(d, n + ".safetensors")
    for q in names:
        t = truth[q]
        if t["origin"] == "base":
            continue
        # candidates: everything but the model and what was made from it (a catalog knows the
        # order files appeared in; a parent is never explained by its own children)
        cands = [path(n) for n in names if n != q and q not in ancestors(truth, n)]
        out = subprocess.run([BIN, "--json", "lineage", path(q), "--candidates"] + cands,
                             capture_output=True, text=True)
        if out.returncode != 0:
            fails.append("%s/%s: exit %d: %s" % (arch, q, out.returncode, out.stderr.strip()))
            continue
        r = json.loads(out.stdout)
        got = {os.path.basename(p["name"])[:-12]: p for p in r["parents"]}
        origin = r["origin"]["value"]
        bad = []
        if t["origin"] == "fine-tune":
            if origin != "fine-tune":
                bad.append("origin %s, want fine-tune" % origin)
            elif not r["base"] or os.path.basename(r["base"])[:-12] != t["base"]:
                bad.append("base %s, want %s" % (r["base"], t["base"]))
        elif t["linear"]:
            merges += 1
            if origin != "merge" or not r["linear"]:
                bad.append("origin %s linear %s, want a linear merge" % (origin, r["linear"]))
            if set(got) != set(t["parents"]):
                bad.append("parents %s, want %s" % (sorted(got), sorted(t["parents"])))
            else:
                merges_right += 1
                worst = 0
                for p, blocks in t["parents"].items():
                    for b, w in blocks.items():
                        if any(got[o]["blocks"].get(b) is None for o in got):
                            continue  # parents identical in this block: the split is not defined
                        v = got[p]["blocks"][b]
                        worst = max(worst, abs(v - w))
                if worst > 0.01:
                    bad.append("per-block weight off by %.4f" % worst)
        else:
            merges += 1
            if origin != "merge" or r["linear"]:
                bad.append("origin %s linear %s, want a non-linear merge" % (origin, r["linear"]))
            # every reported parent must be a recipe parent, the base, or made only from them
            allowed = set(t["parents_any"]) | {"base"}
            stray = [p for p in got if p not in allowed and not ancestors(truth, p) <= allowed]
            if stray or len(set(got) & set(t["parents_any"])) < 1:
                bad.append("parents %s, want %s among them" % (sorted(got), t["parents_any"]))
            else:
                merges_right += 1
        line = "%-5s %-6s %-9s res %8.2f expl %.3f parents %s" % (
            arch, q, origin, r["residual"], r["explained"],
            " ".join("%s:%+.3f" % (k, v["weight"]) for k, v in got.items()))
        print(("FAIL " if bad else "ok   ") + line + ("  <- " + "; ".join(bad) if bad else ""))
        fails += ["%s/%s: %s" % (arch, q, b) for b in bad]
    # identical components, exactly
    tes = ["text-encoder"] + (["text-encoder-2"] if arch == "sdxl" else [])
    want = {"base": ["vae"] + tes, "ft2": ["vae"] + tes, "ft4": ["vae"]}
    out = subprocess.run([BIN, "--json", "similar", path("ft1"), "--candidates"] +
                         [path(n) for n in want], capture_output=True, text=True)
    got = {os.path.basename(m["model"])[:-12]: sorted(m["shared_components"])
           for m in json.loads(out.stdout or "[]")}
    if got != {k: sorted(v) for k, v in want.items()}:
        fails.append("%s: shared components %s, want %s" % (arch, got, want))
    else:
        print("ok   %-5s shared components of ft1: %s" % (arch, got))
rate = merges_right / merges if merges else 0
print("parents right top-1: %d of %d merges (%.0f%%)" % (merges_right, merges, 100 * rate))
if rate < 0.95:
    fails.append("parents right in %.0f%% of merges (< 95%%)" % (100 * rate))
for f in fails:
    print("FAIL:", f, file=sys.stderr)
sys.exit(1 if fails else 0)
