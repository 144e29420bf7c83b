#!/usr/bin/env bash
# `ckptdb serve` end to end with curl: a server on a free loopback port over a temporary catalog
# of the catalog tests' library (tests/catalog/make-library.sh). The API gives what the CLI gives
# (list filters, show, set/tag/accept with the same validation, choose, dupes, stats, facets,
# previews by id, lineage + similar of a small family scanned with hashing), and the security
# layer refuses, changing nothing: a write without the token, with a foreign Origin, with a
# foreign Host, an over-long body and URL, path-like preview ids, and a slow client does not
# stall the others.
. "$(dirname "$0")/common.bash"
work=$(mktemp -d /tmp/ckpt-serve-api.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
lib=$work/lib
bash "$CKPT_SRC/tests/catalog/make-library.sh" "$CKPT_BUILD" "$lib" >/dev/null
export CKPTDB_DB=${CKPT_TEST_DB1:-$work/catalog.sqlite} CKPTDB_HOST=testhost
"$CKPT_BIN" scan --no-hash "$lib" >/dev/null 2>&1
# a small family tree (base, two fine-tunes, their weighted sum) scanned with hashing, so that
# its models have lineage fingerprints
/usr/bin/python3 "$CKPT_SRC/tests/lineage/make_family.py" "$CKPT_SHARED" "$work/family" --demo
"$CKPT_BIN" scan "$work/family" >/dev/null 2>&1

"$CKPT_BIN" serve --json --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 50); do grep -q url "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(jq -r .url "$work/out")
hostport=${url#http://}
hostport=${hostport%/}
[ -n "$url" ] && [ "$url" != null ] && ok started || { fail started "$(cat "$work/err")"; finish; exit; }

get() { curl -s --max-time 10 "$@"; }
code() { curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@"; }
token=$(get "$url" | sed -n 's/.*name="ckpt-token" content="\([0-9a-f]*\)".*/\1/p')
[ ${#token} -eq 64 ] && ok token || fail token "index.html has no token: '$token'"
expect() { # NAME EXPECTED ACTUAL
  [ "$2" = "$3" ] && ok "$1" || fail "$1" "expected '$2', got '$3'"
}
post() { # PATH JSON [extra curl args]: the page's own write
  local p=$1 d=$2
  shift 2
  curl -s --max-time 10 -H "X-Ckpt-Token: $token" -H "Origin: http://$hostport" \
    -H 'Content-Type: application/json' --data-binary "$d" "$@" "${url}api/$p"
}

# ---- reads: the same answers as the CLI ---------------------------------------------------------
expect "models total" "$("$CKPT_BIN" list --json | jq length)" "$(get "${url}api/models" | jq .total)"
expect "kind filter" "$("$CKPT_BIN" list --kind lora --json | jq -c 'map(.id)')" \
  "$(get "${url}api/models?kind=lora" | jq -c '.models | map(.id)')"
expect "sort" "$("$CKPT_BIN" list --sort -size --json | jq -c 'map(.id)')" \
  "$(get "${url}api/models?sort=-size" | jq -c '.models | map(.id)')"
expect "paging" "$("$CKPT_BIN" list --json | jq -c '.[2:4] | map(.id)')" \
  "$(get "${url}api/models?offset=2&limit=2" | jq -c '.models | map(.id)')"
expect "search" "$("$CKPT_BIN" search anime --json | jq -c 'map(.id) | sort')" \
  "$(get "${url}api/models?q=anime" | jq -c '.models | map(.id) | sort')"
id=$("$CKPT_BIN" list --json | jq '.[] | select(.name == "realisticVision_v51") | .id')
expect "show" "$("$CKPT_BIN" show "$id" --json | jq -cS 'del(.mtime)')" \
  "$(get "${url}api/models/$id" | jq -cS 'del(.mtime)')"
expect "bad filter value" 400 "$(code "${url}api/models?output=bogus")"
expect "bad filter message lists values" 1 "$(get "${url}api/models?output=bogus" | jq '.error.message | test("anime")' | grep -c true)"
expect "unknown model" 404 "$(code "${url}api/models/999999")"
expect "choose" "$("$CKPT_BIN" choose --output photorealistic --json | jq -c 'map(.model.id)')" \
  "$(get "${url}api/choose?output=photorealistic" | jq -c 'map(.model.id)')"
expect "facets kind counts" "$("$CKPT_BIN" list --json | jq -cS '[group_by(.kind)[] | {(.[0].kind // "none"): length}] | add')" \
  "$(get "${url}api/facets" | jq -cS '[.facets.kind[] | {(.value): .count}] | add')"
expect "facets keep alternatives of a chosen axis" 1 \
  "$(get "${url}api/facets?kind=lora" | jq '[.facets.kind[].value] | length > 1' | grep -c true)"
expect "stats models" "$("$CKPT_BIN" list --json | jq length)" "$(get "${url}api/stats" | jq .models)"
expect "dupes" "$("$CKPT_BIN" dupes --json | jq length)" "$(get "${url}api/dupes" | jq length)"
expect "taxonomy" 1 "$(get "${url}api/taxonomy" | jq '.output | index("anime") != null' | grep -c true)"
expect "scan status" "$("$CKPT_BIN" list --json | jq length)" "$(get "${url}api/scan" | jq .models)"
expect "static js" 200 "$(code "${url}app.js")"
expect "unknown file" 404 "$(code "${url}nothing.html")"

# ---- previews by id only ------------------------------------------------------------------------
pid_prev=$("$CKPT_BIN" list --json | jq '[.[] | select(.preview != null)][0].id')
expect "preview" 200 "$(code "${url}api/preview/$pid_prev")"
expect "preview bytes" "$(sha256sum < "$("$CKPT_BIN" show "$pid_prev" --json | jq -r .preview)")" \
  "$(get "${url}api/preview/$pid_prev" | sha256sum)"
for bad in '../../../../etc/passwd' '..%2F..%2Fetc%2Fpasswd' '%2Fetc%2Fpasswd' '1%2F..' '-1' '1.png' '0x1'; do
  c=$(code --path-as-is "${url}api/preview/$bad")
  case $c in 400 | 404) ok "preview $bad" ;; *) fail "preview $bad" "got $c" ;; esac
  get --path-as-is "${url}api/preview/$bad" | grep -q 'root:' && fail "preview $bad leaks" "passwd"
done
expect "static path traversal" 404 "$(code --path-as-is "${url}../../etc/passwd")"

# ---- writes and what the security layer refuses -------------------------------------------------
before=$("$CKPT_BIN" show "$id" --json | jq -cS 'del(.mtime)')
body='{"note":"hacked","output":"anime"}'
expect "write without token" 403 "$(code -H "Origin: http://$hostport" -H 'Content-Type: application/json' --data-binary "$body" "${url}api/models/$id/set")"
expect "write with a wrong token" 403 "$(code -H "X-Ckpt-Token: ${token//[0-9]/a}" -H "Origin: http://$hostport" -H 'Content-Type: application/json' --data-binary "$body" "${url}api/models/$id/set")"
expect "write from a foreign Origin" 403 "$(code -H "X-Ckpt-Token: $token" -H "Origin: http://evil.example" -H 'Content-Type: application/json' --data-binary "$body" "${url}api/models/$id/set")"
expect "write without Origin" 403 "$(code -H "X-Ckpt-Token: $token" -H 'Content-Type: application/json' --data-binary "$body" "${url}api/models/$id/set")"
expect "write with a foreign Host" 403 "$(code -H "Host: evil.example:${hostport##*:}" -H "X-Ckpt-Token: $token" -H "Origin: http://evil.example:${hostport##*:}" -H 'Content-Type: application/json' --data-binary "$body" "${url}api/models/$id/set")"
expect "read with a foreign Host" 403 "$(code -H "Host: evil.example" "${url}api/models")"
expect "page with a foreign Host" 403 "$(code -H "Host: evil.example:${hostport##*:}" "$url")"
big=$(head -c 200000 /dev/zero | tr '\0' 'a')
expect "over-long body" 413 "$(printf '{"note":"%s"}' "$big" | curl -s -o /dev/null -w '%{http_code}' -H "X-Ckpt-Token: $token" -H "Origin: http://$hostport" -H 'Content-Type: application/json' --data-binary @- "${url}api/models/$id/set")"
c=$(code "${url}api/models?q=${big:0:70000}")
case $c in 413 | 414 | 431) ok "over-long URL" ;; *) fail "over-long URL" "got $c" ;; esac
expect "not JSON" 400 "$(post "models/$id/set" 'not json' -o /dev/null -w '%{http_code}')"
expect "wrong content type" 415 "$(code -H "X-Ckpt-Token: $token" -H "Origin: http://$hostport" -H 'Content-Type: text/plain' --data-binary "$body" "${url}api/models/$id/set")"
expect "bad value refused" 400 "$(post "models/$id/set" '{"note":"x","output":"bogus"}' -o /dev/null -w '%{http_code}')"
expect "method" 405 "$(code -X DELETE "${url}api/models/$id")"
expect "nothing changed" "$before" "$("$CKPT_BIN" show "$id" --json | jq -cS 'del(.mtime)')"

expect "set" anime "$(post "models/$id/set" '{"output":"anime","realism":["2D","2.5D"],"rating":4}' | jq -r .output)"
expect "set persists" 'anime 2D,2.5D 4' "$("$CKPT_BIN" show "$id" --json | jq -r '[.output, (.realism | join(",")), .rating] | join(" ")')"
expect "tag" '["favourite"]' "$(post "models/$id/tag" '{"add":["favourite"]}' | jq -c .tags)"
expect "tag removed" '[]' "$(post "models/$id/tag" '{"remove":["favourite"]}' | jq -c .tags)"
sid=$("$CKPT_BIN" list --json | jq '[.[] | select(.suggested | length > 0)][0].id')
field=$("$CKPT_BIN" show "$sid" --json | jq -r '.suggested | keys[0]')
want=$("$CKPT_BIN" show "$sid" --json | jq -r ".suggested[\"$field\"].value")
got=$(post "models/$sid/accept" "{\"fields\":[\"$field\"]}" | jq -r ".$field | if type == \"array\" then join(\",\") else . end")
expect "accept" "$want" "$got"
expect "list sees the write" 1 "$(get "${url}api/models?output=anime" | jq "[.models[].id] | index($id) != null" | grep -c true)"

# ---- lineage: the CLI's lineage --json and similar --json --top 5, with model ids ---------------
lid=$("$CKPT_BIN" list --json | jq '.[] | select(.name == "lineageBlendMix_v10") | .id')
lin=$(get "${url}api/models/$lid/lineage")
expect "lineage" "$("$CKPT_BIN" --json lineage "$lid" | jq -cS .)" "$(jq -cS .lineage <<<"$lin")"
expect "lineage similar" "$("$CKPT_BIN" --json similar --top 5 "$lid" | jq -cS .)" "$(jq -cS .similar <<<"$lin")"
expect "lineage is a merge" merge "$(jq -r .lineage.origin.value <<<"$lin")"
expect "lineage parent ids" "$(jq -c '[.lineage.parents[].name]' <<<"$lin")" \
  "$(for i in $(jq '.parent_ids[]' <<<"$lin"); do "$CKPT_BIN" show "$i" --json | jq .name; done | jq -sc .)"
expect "lineage similar ids" "$(jq -c '[.similar[].model]' <<<"$lin")" \
  "$(for i in $(jq '.similar_ids[]' <<<"$lin"); do "$CKPT_BIN" show "$i" --json | jq .name; done | jq -sc .)"
expect "lineage without fingerprints" "404 no-fingerprints" \
  "$(code "${url}api/models/$id/lineage") $(get "${url}api/models/$id/lineage" | jq -r .error.code)"
expect "lineage of an unknown model" 404 "$(code "${url}api/models/999999/lineage")"
expect "lineage is read-only" 405 "$(post "models/$lid/lineage" '{}' -o /dev/null -w '%{http_code}')"

# ---- a slow client does not stall the others ---------------------------------------------------
/usr/bin/python3 - "$hostport" <<'PY' &
import socket, sys, time
h, p = sys.argv[1].rsplit(':', 1)
socks = []
for _ in range(20):
    s = socket.create_connection((h, int(p)))
    s.sendall(b'GET /api/models HTTP/1.1\r\nHost: ' + sys.argv[1].encode() + b'\r\nX-Slow: ')
    socks.append(s)
time.sleep(4)
PY
slow=$!
sleep 0.5
expect "served while slow clients wait" 200 "$(code --max-time 3 "${url}api/stats")"
wait "$slow" 2>/dev/null

kill "$pid"
wait "$pid" 2>/dev/null
pid=
grep -q 'stopped' "$work/err" && ok "stops on SIGTERM" || fail "stops on SIGTERM" "$(cat "$work/err")"
expect "refuses a bad --listen" 2 "$("$CKPT_BIN" serve --listen nowhere >/dev/null 2>&1; echo $?)"
"$CKPT_BIN" serve --listen 0.0.0.0:0 >"$work/out2" 2>"$work/err2" &
p2=$!
for _ in $(seq 50); do grep -q http "$work/out2" 2>/dev/null && break; sleep 0.1; done
kill "$p2"
wait "$p2" 2>/dev/null
grep -q 'not a loopback' "$work/err2" && ok "warns off loopback" || fail "warns off loopback" "$(cat "$work/err2")"
finish
