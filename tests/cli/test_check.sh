#!/usr/bin/env bash
# bulkcall check / render / profiles end to end on the samples: exit codes,
# exact per-row results, the errors file byte for byte, feeding a fixed
# errors file back, secrets never printed.
. "$(dirname "$0")/lib.sh"
export IOVOX_USERNAME=s3cret-user IOVOX_SECURE_KEY=s3cret-key-123
P=iovox.initiateCall
C2C="$SAMPLES/click-to-call.csv"

# 1. The sample campaign: 5 valid rows, 5 rejected, each error naming the line.
code=$(t_code "$BULKCALL" check -q -p $P "$C2C" -o "$T_TMP/c1")
t_eq "check exit with rejected rows" "$code" 1
t_invariants "$C2C" "$T_TMP/c1" --rows 10 --check --expect valid=5 --expect rejected=5
E="$T_TMP/c1/errors.csv"
t_contains "field count error" "$E" "line 3: "
t_contains "space in destination" "$E" "line 7: column call_destination: character ' ' at position 6"
t_contains "delay not a number" "$E" "line 9: column delay: 'soon' is not a whole number"
t_contains "empty link_id" "$E" "line 10: column link_id: required value is missing"
t_contains "line break in a value" "$E" "line 11: column last_name: line feed (LF) not allowed"
t_eq "errors header" "$(head -1 "$E")" "link_id,call_destination,delay,first_name,last_name,account_ref,bulkcall_error"
t_lacks "no secret in the output folder" "$T_TMP/c1" "s3cret"

# 2. Fix the errors file and feed it back: bulkcall_error is ignored on input.
sed -e 's/07700 900125/07700900125/' -e 's/,soon,/,5,/' -e 's/^,447700900128/support,447700900128/' \
	-e 's/^link123,449789123124,,1,,Alice/link123,449789123124,,Alice/' "$E" >"$T_TMP/fixed.csv"
python3 - "$T_TMP/fixed.csv" <<'PY'
import sys
p = sys.argv[1]
s = open(p, newline="").read().replace('"Line\nBreak"', '"Line Break"')
open(p, "w", newline="").write(s)
PY
code=$(t_code "$BULKCALL" check -q -p $P "$T_TMP/fixed.csv" -o "$T_TMP/c2")
t_eq "fixed errors file checks clean" "$code" 0
t_invariants "$T_TMP/fixed.csv" "$T_TMP/c2" --rows 5 --check --expect valid=5

# 3. Output folder rules.
code=$(t_code "$BULKCALL" check -q -p $P "$C2C" -o "$T_TMP/c1" 2>"$T_TMP/err")
t_eq "non-empty output folder refused" "$code" 2
t_contains "says --force" "$T_TMP/err" "--force"
code=$(t_code "$BULKCALL" check -q --force -p $P "$C2C" -o "$T_TMP/c1")
t_eq "--force writes into it" "$code" 1

# 4. Exit codes for bad invocations and inputs.
code=$(t_code "$BULKCALL" check -q -p no.such "$C2C" -o "$T_TMP/x1" 2>/dev/null)
t_eq "unknown profile" "$code" 2
code=$(t_code "$BULKCALL" check -q -p $P "$T_TMP/missing.csv" -o "$T_TMP/x2" 2>"$T_TMP/err")
t_eq "missing input" "$code" 3
t_contains "names the file" "$T_TMP/err" "missing.csv"
printf '\x1f\x8b\x08\x00garbage-not-deflate' >"$T_TMP/bad.csv.gz"
code=$(t_code "$BULKCALL" check -q -p $P "$T_TMP/bad.csv.gz" -o "$T_TMP/x3" 2>/dev/null)
t_eq "corrupt gzip" "$code" 3
printf 'link_id,link_id\nx,y\n' >"$T_TMP/dup.csv"
code=$(t_code "$BULKCALL" check -q -p $P "$T_TMP/dup.csv" -o "$T_TMP/x4" 2>"$T_TMP/err")
t_eq "duplicate header column" "$code" 2
printf 'call_destination\n123\n' >"$T_TMP/nolink.csv"
code=$(t_code "$BULKCALL" check -q -p $P "$T_TMP/nolink.csv" -o "$T_TMP/x5" 2>"$T_TMP/err")
t_eq "missing required column" "$code" 2
t_contains "names the column" "$T_TMP/err" "link_id"
code=$(t_code "$BULKCALL" check -q -p $P "$C2C" --rate abc 2>/dev/null)
t_eq "bad option value" "$code" 2
code=$(t_code "$BULKCALL" check -q -p $P "$C2C" --secure-key x 2>/dev/null)
t_eq "credentials are not options" "$code" 2

# 5. NDJSON and gzip inputs, stdin.
cat >"$T_TMP/calls.ndjson" <<'J'
{"link_id":"link123","call_destination":"449789123123,,1","delay":5,"vip":true}
{"link_id":"link124","call_destination":"4497 bad"}

{"link_id":"link125","nested":{"a":1}}
not json
{"link_id":7,"call_destination":"+15550100"}
J
code=$(t_code "$BULKCALL" check -q -p $P "$T_TMP/calls.ndjson" -o "$T_TMP/n1")
t_eq "ndjson check exit" "$code" 1
t_invariants "$T_TMP/calls.ndjson" "$T_TMP/n1" --rows 5 --check --expect valid=2 --expect rejected=3
gzip -c "$C2C" >"$T_TMP/c2c.csv.gz"
code=$(t_code "$BULKCALL" check -q -p $P "$T_TMP/c2c.csv.gz" -o "$T_TMP/g1")
t_eq "gzip check exit" "$code" 1
t_eq "gzip results like plain" "$(cut -d, -f1-6 "$T_TMP/g1/results.csv")" "$(cut -d, -f1-6 "$T_TMP/c1/results.csv")"
code=$(t_code "$BULKCALL" check -q -p $P - -o "$T_TMP/s1" --format csv <"$C2C")
t_eq "stdin check exit" "$code" 1
t_eq "stdin results rows" "$(($(wc -l <"$T_TMP/s1/results.csv") - 1))" 10

# 6. summary.json: counts and options, no secrets.
t_contains "summary counts" "$T_TMP/c1/summary.json" '"rejected":	5'
t_contains "summary options" "$T_TMP/c1/summary.json" '"profile":	"iovox.initiateCall"'

# 7. render: golden output, secrets masked.
"$BULKCALL" render -p $P "$C2C" --rows 1-5 >"$T_TMP/render.out" 2>&1
t_eq "render exit (row 2 rejected)" "$?" 1
if diff -u "$BC_SOURCE_DIR/tests/data/render_initiate.golden" "$T_TMP/render.out" >"$T_TMP/diff"; then t_pass; else
	t_fail "render differs from tests/data/render_initiate.golden"
	head -40 "$T_TMP/diff" >&2
fi
t_lacks "render masks secrets" "$T_TMP/render.out" "s3cret"
"$BULKCALL" render -p $P "$C2C" --rows 50-60 >/dev/null 2>&1
t_eq "render past the end" "$?" 2

# 8. profiles, help, version.
"$BULKCALL" profiles >"$T_TMP/p.out"
t_contains "profiles lists initiateCall" "$T_TMP/p.out" "iovox.initiateCall"
"$BULKCALL" profiles $P >"$T_TMP/p1.out"
t_contains "profile columns" "$T_TMP/p1.out" "call_destination"
t_contains "profile idempotency" "$T_TMP/p1.out" "idempotent:  no"
"$BULKCALL" --help >"$T_TMP/h.out"; t_eq "--help exit" "$?" 0
t_contains "help lists exit codes" "$T_TMP/h.out" "130 interrupted"
"$BULKCALL" --version >"$T_TMP/v.out"; t_eq "--version exit" "$?" 0
t_contains "version" "$T_TMP/v.out" "bulkcall 0."
code=$(t_code "$BULKCALL" bogus 2>/dev/null)
t_eq "unknown command" "$code" 2

# 9. A -c config file: values used, flags win, credentials file loaded.
cat >"$T_TMP/cfg.json" <<J
{"profile": "$P", "rows": "3-3", "credentials_file": "$T_TMP/creds"}
J
printf 'IOVOX_USERNAME=fromfile\n' >"$T_TMP/creds"
(unset IOVOX_USERNAME; "$BULKCALL" render -c "$T_TMP/cfg.json" "$C2C" >"$T_TMP/r3.out" 2>&1)
t_contains "config --rows" "$T_TMP/r3.out" "# row 3 (line 4)"
t_lacks "credentials file value masked" "$T_TMP/r3.out" "fromfile"
"$BULKCALL" render -c "$T_TMP/cfg.json" --rows 4-4 "$C2C" >"$T_TMP/r4.out" 2>&1
t_contains "flag wins over config" "$T_TMP/r4.out" "# row 4 (line 5)"

t_done
