#!/usr/bin/env bash
# The output folder's files (src/out/output.c): errors.* keep the original
# bytes (NDJSON: big numbers, junk after an object, CR; CSV: a fed-back
# bulkcall_error replaced, never piled up), feeding errors files back
# again and again is stable, and default folder names never clash.
. "$(dirname "$0")/lib.sh"
: "${BULKCALL_MOCK:?BULKCALL_MOCK must point at bulkcall-mock}"
export IOVOX_USERNAME=demo IOVOX_SECURE_KEY=demo-key
P=iovox.initiateCall
check() { "$BULKCALL" check -q -p $P "$@"; }

# 1. NDJSON errors from check: every line byte for byte (invariants), a
# line that is no object wrapped losslessly.
printf '%s\r\n' '{"link_id":"l1","call_destination":"44 71","acct":12345678901234567890,"x":1.50}' >"$T_TMP/n.ndjson"
printf '%s\n' '{"link_id":"l2","call_destination":"4472"} trailing junk' \
	'[1,2]' '{ }' 'not json' '{"link_id":"l3","deep":{"a":"}"}}' \
	'{"link_id":"l4","call_destination":"4474"}' >>"$T_TMP/n.ndjson"
printf '{"link_id":"l\xff5"}\n' >>"$T_TMP/n.ndjson"
code=$(t_code check "$T_TMP/n.ndjson" -o "$T_TMP/n1")
t_eq "ndjson check exit" "$code" 1
t_invariants "$T_TMP/n.ndjson" "$T_TMP/n1" --rows 8 --check --expect valid=1 --expect rejected=7
E="$T_TMP/n1/errors.ndjson"
t_contains "big number kept as written" "$E" '"acct":12345678901234567890,"x":1.50,"bulkcall_error":'
t_eq "CR kept" "$(head -1 "$E" | od -An -c | tr -s ' ' | grep -c '\\r \\n')" 1
t_contains "junk after the object: wrapped, not dropped" "$E" '{"bulkcall_raw":"{\"link_id\":\"l2\",\"call_destination\":\"4472\"} trailing junk","bulkcall_error":"line 2: invalid JSON'
t_contains "empty object" "$E" '{ "bulkcall_error":"line 4: column link_id: required value is missing"}'
t_contains "not UTF-8: base64" "$E" '{"bulkcall_raw_base64":"eyJsaW5rX2lkIjoibP81In0=","bulkcall_error":"line 8: invalid UTF-8'
t_eq "every errors line is JSON" "$(python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1],"rb")]; print("ok")' "$E")" ok

# 2. Fed back: the junk row stays rejected (it did not turn valid), and a
# second round writes the same bytes (bulkcall_error replaced in place).
code=$(t_code check "$E" -o "$T_TMP/n2")
t_eq "fed-back ndjson errors exit" "$code" 1
t_invariants "$E" "$T_TMP/n2" --rows 7 --check --expect rejected=7
code=$(t_code check "$T_TMP/n2/errors.ndjson" -o "$T_TMP/n3")
t_invariants "$T_TMP/n2/errors.ndjson" "$T_TMP/n3" --rows 7 --check --expect rejected=7
if cmp -s "$T_TMP/n2/errors.ndjson" "$T_TMP/n3/errors.ndjson"; then t_pass; else
	t_fail "ndjson errors fed back twice differ"
	diff "$T_TMP/n2/errors.ndjson" "$T_TMP/n3/errors.ndjson" | head >&2
fi
t_eq "one bulkcall_error per line" "$(grep -c 'bulkcall_error.*bulkcall_error' "$T_TMP/n3/errors.ndjson")" 0

# 3. NDJSON rows the API refuses (failed): original bytes plus the error.
printf '%s\r\n' '{"link_id":"badlink","call_destination":"4471","acct":12345678901234567890}' >"$T_TMP/f.ndjson"
printf '%s\n' '{"link_id":"link1","call_destination":"4472"}' >>"$T_TMP/f.ndjson"
mock_start --ledger "$T_TMP/lf.ndjson"
code=$(t_code "$BULKCALL" run -q -p $P --base-url "$MOCK_URL" "$T_TMP/f.ndjson" -o "$T_TMP/f1")
mock_stop
t_eq "ndjson run exit (one failed)" "$code" 1
t_invariants "$T_TMP/f.ndjson" "$T_TMP/f1" --rows 2 --expect failed=1 --expect ok=1 --ledger "$T_TMP/lf.ndjson" --ledger-key link_id
t_contains "failed row keeps its bytes" "$T_TMP/f1/errors.ndjson" '{"link_id":"badlink","call_destination":"4471","acct":12345678901234567890,"bulkcall_error":'

# 4. CSV: a malformed row fed back from errors.csv gets its bulkcall_error
# replaced, not a second one; the count excludes bulkcall_error.
C2C="$SAMPLES/click-to-call.csv"
check "$C2C" -o "$T_TMP/c1"
check "$T_TMP/c1/errors.csv" -o "$T_TMP/c2"
check "$T_TMP/c2/errors.csv" -o "$T_TMP/c3"
t_invariants "$T_TMP/c1/errors.csv" "$T_TMP/c2" --rows 5 --check --expect rejected=5
t_invariants "$T_TMP/c2/errors.csv" "$T_TMP/c3" --rows 5 --check --expect rejected=5
t_contains "malformed row: error replaced" "$T_TMP/c2/errors.csv" 'link123,449789123124,,1,,Alice,Jones,A-1002,"line 2: expected 6 fields plus bulkcall_error, found 9 in all"'
t_lacks "no piled-up error" "$T_TMP/c2/errors.csv" 'expected 6 fields, found 8'
if cmp -s "$T_TMP/c2/errors.csv" "$T_TMP/c3/errors.csv"; then t_pass; else
	t_fail "csv errors fed back twice differ"
	diff "$T_TMP/c2/errors.csv" "$T_TMP/c3/errors.csv" | head >&2
fi
# The user's data is never overwritten: a short row whose last field is
# not an old error keeps it, and the error goes after it.
printf 'link_id,call_destination,bulkcall_error\nlink1,4471,\nlink2\n' >"$T_TMP/short.csv"
check "$T_TMP/short.csv" -o "$T_TMP/s1"
t_invariants "$T_TMP/short.csv" "$T_TMP/s1" --rows 2 --check --expect rejected=1 --expect valid=1
t_contains "short row kept" "$T_TMP/s1/errors.csv" 'link2,"line 3: expected 2 fields plus bulkcall_error, found 1 in all"'

# 5. Default folder names: runs started in the same second never clash.
mkdir -p "$T_TMP/cwd"
codes=
for i in 1 2 3 4 5; do
	codes="$codes$(cd "$T_TMP/cwd" && t_code "$BULKCALL" check -q -p $P "$C2C" 2>>"$T_TMP/def.err") "
done
t_eq "five default-folder runs" "$codes" "1 1 1 1 1 "
t_eq "five folders" "$(ls "$T_TMP/cwd/bulkcall-out" | wc -l)" 5
t_eq "named <stem>-<stamp>[-N]" "$(ls "$T_TMP/cwd/bulkcall-out" | grep -cE '^click-to-call-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$')" 5
# Started together: each claims its own folder.
pids=()
for i in 1 2 3 4; do
	(cd "$T_TMP/cwd" && "$BULKCALL" check -q -p $P "$C2C" 2>>"$T_TMP/def.err") &
	pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p"; [ $? = 1 ] || bad=$((bad + 1)); done
t_eq "concurrent default-folder runs" "$bad" 0
t_eq "nine folders" "$(ls "$T_TMP/cwd/bulkcall-out" | wc -l)" 9
t_eq "no clash reported" "$(wc -c <"$T_TMP/def.err")" 0

t_done
