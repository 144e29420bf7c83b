#!/usr/bin/env bash
# ckptdb views end to end on the demo library (scripts/make-demo-library.sh, sparse files):
# the tree of every UI compared with tests/golden/views/ (links shown as "-> LIB/..."), re-runs
# that change nothing, a foreign file left alone, forgetting a model removes only its links,
# a moved model is repointed, a regrouped one relinked, hand-changed links and a hardlink that is
# the last name of its file are never removed, the library untouched (content hashes of the small
# files, size/mtime/inode of all), the extra_model_paths.yaml section, usage errors.
# Regenerate goldens with CKPT_UPDATE_GOLDEN=1 and review the diff.
# Also runs against PostgreSQL (tests/cli/catalog_pg.sh): CKPT_TEST_DB1 names an empty database.
. "$(dirname "$0")/common.bash"
g=$CKPT_SRC/tests/golden/views
work=$(mktemp -d /tmp/ckpt-views-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
lib=$work/lib
bash "$CKPT_SRC/scripts/make-demo-library.sh" "$CKPT_BUILD" "$lib" 2>/dev/null
# a second LoRA with the same file name as another (the view must keep both)
mkdir -p "$lib/extra"
"$CKPT_BUILD/tools/mkfixture" -o "$lib/extra/detailTweaker_sd15.safetensors" --data random \
  --seed 77 --rank 4 --keys LoRA-v1A-UNET --meta ss_network_module=networks.lora >/dev/null
png() { echo 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==' | base64 -d > "$1"; }
png "$lib/Lora/detailTweaker_sd15.preview.png"
echo '{"activation text": "detailed"}' > "$lib/Lora/detailTweaker_sd15.json"
export CKPTDB_DB=${CKPT_TEST_DB1:-$work/catalog.sqlite} CKPTDB_HOST=testhost
"$CKPT_BIN" scan -q --no-hash "$lib" 2>/dev/null
"$CKPT_BIN" set realisticVision_v51 output=photorealistic realism=realistic >/dev/null 2>&1
"$CKPT_BIN" set revAnimated_v122 output=anime realism=2.5D >/dev/null 2>&1
"$CKPT_BIN" set counterfeitV30 output=anime realism=2D >/dev/null 2>&1
V=$work/views
ck() { "$CKPT_BIN" "$@" 2>&1; echo "[exit $?]"; }
norm() { sed -e "s#$lib#LIB#g" -e "s#$V#VIEWS#g"; }
tree() { # the view as lines: dirs end in /, symlinks show their target
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r f; do
    if [ -L "$f" ]; then echo "${f#./} -> $(readlink "$f")"
    elif [ -d "$f" ]; then echo "${f#./}/"
    else echo "${f#./} [file, $(stat -c %h "$f") names]"; fi
  done) | norm
}
libstate() { # the library: stat of every file, content hash of the small ones
  (cd "$lib" && find . -type f -printf '%p %s %T@ %i\n' | LC_ALL=C sort
   find . -type f -size -64M -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
before=$(libstate)

# --dry-run: the counts of a real run, and nothing on disk (the root is not even made)
dry=$("$CKPT_BIN" --json views --ui a1111 --root "$V/a1111" --dry-run | jq -r '"\(.dry_run) \(.created) \(.models)"')
[ ! -e "$V/a1111" ] && ok dry-run-nothing || fail dry-run-nothing "--dry-run made $V/a1111"
for ui in a1111 forge invokeai; do
  golden "$g/$ui.txt" "$(ck views --ui $ui --root "$V/$ui" | norm)"
  golden "$g/$ui-tree.txt" "$(tree "$V/$ui")"
done
golden "$g/comfyui.txt" "$(ck views --ui comfyui --root "$V/comfyui" --group-by '{output|unsorted}/{realism}' -v | norm)"
golden "$g/comfyui-tree.txt" "$(tree "$V/comfyui")"
real=$("$CKPT_BIN" --json views --ui a1111 --root "$V/a1111" --dry-run | jq -r '"\(.created) \(.kept)"')
n_links=$(find "$V/a1111" -type l | wc -l)
[ "$dry" = "true $n_links $(echo "$dry" | cut -d' ' -f3)" ] && [ "$real" = "0 $n_links" ] && ok dry-run-counts ||
  fail dry-run-counts "dry run before: '$dry', after the real run: '$real', $n_links links"
# re-runs change nothing (not even the manifest)
m1=$(stat -c %Y.%i "$V/comfyui/.ckptdb-view.json")
golden "$g/comfyui-rerun.txt" "$(ck views --ui comfyui --root "$V/comfyui" --group-by '{output|unsorted}/{realism}' | norm)"
[ "$(tree "$V/comfyui")" = "$(cat "$g/comfyui-tree.txt")" ] && ok rerun-tree || fail rerun-tree "tree changed"
[ "$(stat -c %Y.%i "$V/comfyui/.ckptdb-view.json")" = "$m1" ] && ok rerun-manifest || fail rerun-manifest "manifest rewritten"
# the other UI's root is refused
golden "$g/wrong-ui.txt" "$(ck views --ui a1111 --root "$V/comfyui" | norm)"

# a foreign file where a link should be, and one elsewhere, are left alone
C=$V/comfyui/models
rm "$C/loras/unsorted/filmGrainPhoto.safetensors"
echo "my own file" > "$C/loras/unsorted/filmGrainPhoto.safetensors"
echo "notes" > "$C/checkpoints/my-notes.txt"
golden "$g/foreign.txt" "$(ck views --ui comfyui --root "$V/comfyui" --group-by '{output|unsorted}/{realism}' | norm)"
[ "$(cat "$C/loras/unsorted/filmGrainPhoto.safetensors")" = "my own file" ] && [ -f "$C/checkpoints/my-notes.txt" ] &&
  ok foreign-kept || fail foreign-kept "a foreign file was changed"

# forgetting a model removes its link and preview only; its emptied group folder goes too
"$CKPT_BIN" forget counterfeitV30 2>/dev/null
golden "$g/forget.txt" "$(ck views --ui comfyui --root "$V/comfyui" --group-by '{output|unsorted}/{realism}' -v | norm)"
golden "$g/forget-tree.txt" "$(tree "$V/comfyui")"
[ "$(libstate)" = "$before" ] && ok library-untouched || fail library-untouched "the library changed"

# a link changed by hand is not removed when its model goes
ln -sfn /etc/hostname "$C/checkpoints/anime/2.5D/revAnimated_v122.safetensors"
"$CKPT_BIN" forget revAnimated_v122 2>/dev/null
golden "$g/hand-changed.txt" "$(ck views --ui comfyui --root "$V/comfyui" --group-by '{output|unsorted}/{realism}' | norm)"
[ "$(readlink "$C/checkpoints/anime/2.5D/revAnimated_v122.safetensors")" = /etc/hostname ] &&
  ok hand-changed-kept || fail hand-changed-kept "a hand-made link was changed"

# a regrouped model is relinked; a moved one repointed
"$CKPT_BIN" set realisticVision_v51 output=digital-painting >/dev/null 2>&1
mkdir -p "$lib/moved" && mv "$lib/VAE/vae-ft-mse-840000-ema-pruned.safetensors" "$lib/moved/"
"$CKPT_BIN" scan -q --no-hash "$lib" 2>/dev/null
golden "$g/moved.txt" "$(ck views --ui comfyui --root "$V/comfyui" --group-by '{output|unsorted}/{realism}' -v | norm)"
[ "$(readlink "$C/vae/unsorted/vae-ft-mse-840000-ema-pruned.safetensors")" = "$lib/moved/vae-ft-mse-840000-ema-pruned.safetensors" ] &&
  ok moved-repointed || fail moved-repointed "the moved VAE's link was not repointed"
[ -L "$C/checkpoints/digital-painting/realistic/realisticVision_v51.safetensors" ] && [ ! -e "$C/checkpoints/photorealistic" ] &&
  ok regrouped || fail regrouped "realisticVision_v51 was not moved to its new group"

# hardlinks: same inode as the real file; the last name of a file is never removed
H=$V/hard
golden "$g/hardlink.txt" "$(ck views --ui a1111 --root "$H" --hardlink | norm)"
real="$lib/Lora/filmGrainPhoto.safetensors"
[ "$(stat -c %i "$real")" = "$(stat -c %i "$H/models/Lora/filmGrainPhoto.safetensors")" ] &&
  ok hardlink-inode || fail hardlink-inode "not a hardlink of the real file"
rm "$real"
"$CKPT_BIN" scan -q --no-hash "$lib" 2>/dev/null
golden "$g/hardlink-last-name.txt" "$(ck views --ui a1111 --root "$H" --hardlink | norm)"
[ -f "$H/models/Lora/filmGrainPhoto.safetensors" ] && ok hardlink-last-kept ||
  fail hardlink-last-kept "the last name of a file was removed"

# ComfyUI's extra_model_paths.yaml section: printed, written, never over a user's file
golden "$g/yaml.txt" "$(ck views --ui comfyui --root "$V/comfyui" --group-by '{output|unsorted}/{realism}' -q --comfyui-yaml | norm)"
ck views --ui comfyui --root "$V/comfyui" -q --comfyui-yaml="$work/extra.yaml" >/dev/null
grep -q "base_path: \"$V/comfyui\"" "$work/extra.yaml" && ok yaml-written || fail yaml-written "no base_path"
echo "a1111: {base_path: /x}" > "$work/user.yaml"
golden "$g/yaml-refused.txt" "$(ck views --ui comfyui --root "$V/comfyui" -q --comfyui-yaml="$work/user.yaml" | sed "s#$work#W#g" | norm)"
golden "$g/usage.txt" "$(ck views --ui comfyui; ck views --ui paint --root "$V/x"; ck views --ui a1111 --root "$V/x" --comfyui-yaml; ck views --ui a1111 --root "$V/x" --group-by '{colour}')"
# a folder of the view replaced by a symlink to elsewhere: nothing is linked through it
rm -rf "$C/embeddings/unsorted"
mkdir "$work/elsewhere" && ln -s "$work/elsewhere" "$C/embeddings/unsorted"
golden "$g/symlinked-folder.txt" "$(ck views --ui comfyui --root "$V/comfyui" --group-by '{output|unsorted}/{realism}' | norm)"
[ -z "$(ls -A "$work/elsewhere")" ] && ok nothing-outside || fail nothing-outside "a link was made outside the view"
finish
