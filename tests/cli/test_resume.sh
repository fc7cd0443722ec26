#!/usr/bin/env bash
# bulkcall resume after stops that are not crashes (SIGINT, SIGTERM,
# --max-runtime, a fatal 401), and its refusals: a changed input, template
# or profile file, a finished job (exit 0), stdin, a folder that is not a
# run's, flags that would build requests differently. The job's recorded
# idempotency wins over an edited profile file. Every resumed folder is
# checked against its input and the mock's ledger: every row once, nothing
# called twice.
. "$(dirname "$0")/lib.sh"
: "${BULKCALL_MOCK:?BULKCALL_MOCK must point at bulkcall-mock}"
export IOVOX_USERNAME=demo IOVOX_SECURE_KEY=demo-key
export VOIPNOW_TOKEN=voipnow-token
P=iovox.initiateCall
GEN="$BC_SOURCE_DIR/scripts/gen-campaign"
run() { "$BULKCALL" run -q -p $P --base-url "$MOCK_URL" "$@"; }
# In the background, so a signal reaches bulkcall, not a subshell.
run_bg() {
	"$BULKCALL" run -q -p $P --base-url "$MOCK_URL" "$@" &
	pid=$!
}
resume() { "$BULKCALL" resume "$@"; }

# 1. SIGINT mid-run, then resume: every row ok, each call made once.
"$GEN" 5000 5 >"$T_TMP/c5k.csv"
mock_start --ledger "$T_TMP/l1.ndjson" --latency 100
run_bg --rate 0 --concurrency 50 "$T_TMP/c5k.csv" -o "$T_TMP/r1"
sleep 1
kill -INT $pid
wait $pid
t_eq "SIGINT exit" "$?" 130
t_invariants "$T_TMP/c5k.csv" "$T_TMP/r1" --rows 5000 --ledger "$T_TMP/l1.ndjson"
stopped=$(count_rows "$T_TMP/r1/results.csv" 'r["outcome"] == "retry"')
t_eq "the stop left rows to retry ($stopped)" "$([ "$stopped" -gt 0 ] && echo yes)" yes
resume -q "$T_TMP/r1" 2>"$T_TMP/e1"
t_eq "resume after SIGINT exit" "$?" 0
t_invariants "$T_TMP/c5k.csv" "$T_TMP/r1" --rows 5000 --expect ok=5000 --ledger "$T_TMP/l1.ndjson"
t_contains "summary counts every row" "$T_TMP/r1/summary.json" '"rows":	5000'
t_contains "summary says it was resumed" "$T_TMP/r1/summary.json" '"resumes":	1'

# 2. A finished job: resume says so and exits 0 (nothing to do).
resume "$T_TMP/r1" 2>"$T_TMP/e2"
t_eq "resume of a finished job exit" "$?" 0
t_contains "finished message" "$T_TMP/e2" "already finished"
t_invariants "$T_TMP/c5k.csv" "$T_TMP/r1" --rows 5000 --expect ok=5000 --ledger "$T_TMP/l1.ndjson"
mock_stop

# 3. --max-runtime, then resume with an override (--rate 0): the rest goes.
"$GEN" 300 3 >"$T_TMP/c300.csv"
mock_start --ledger "$T_TMP/l3.ndjson" --latency 50
run --rate 20 --max-runtime 1s "$T_TMP/c300.csv" -o "$T_TMP/r3"
t_eq "max-runtime exit" "$?" 1
t_invariants "$T_TMP/c300.csv" "$T_TMP/r3" --rows 300 --ledger "$T_TMP/l3.ndjson"
t_contains "max-runtime in summary" "$T_TMP/r3/summary.json" "max-runtime"
start=$(date +%s%N)
resume -q "$T_TMP/r3" --rate 0
t_eq "resume after max-runtime exit" "$?" 0
ms=$((($(date +%s%N) - start) / 1000000))
t_eq "--rate 0 overrode the job's --rate 20 (${ms} ms for ~280 rows)" "$([ "$ms" -lt 8000 ] && echo yes)" yes
t_invariants "$T_TMP/c300.csv" "$T_TMP/r3" --rows 300 --expect ok=300 --ledger "$T_TMP/l3.ndjson"
mock_stop

# 4. Bad credentials: exit 5; resume with the right key: every row ok once.
"$GEN" 2000 >"$T_TMP/c2k.csv"
mock_start --ledger "$T_TMP/l4.ndjson"
IOVOX_SECURE_KEY=wrong run --rate 0 "$T_TMP/c2k.csv" -o "$T_TMP/r4"
t_eq "401 exit" "$?" 5
t_invariants "$T_TMP/c2k.csv" "$T_TMP/r4" --rows 2000 --expect ok=0 --ledger "$T_TMP/l4.ndjson"
t_contains "the 401 row is retry with the reason" "$T_TMP/r4/results.csv" "fatal API answer (HTTP 401)"
IOVOX_SECURE_KEY=wrong resume -q "$T_TMP/r4"
t_eq "resume with the key still wrong exit" "$?" 5
resume -q "$T_TMP/r4"
t_eq "resume with the right key exit" "$?" 0
mock_stop
t_invariants "$T_TMP/c2k.csv" "$T_TMP/r4" --rows 2000 --expect ok=2000 --ledger "$T_TMP/l4.ndjson"
t_lacks "no 401 left in results" "$T_TMP/r4/results.csv" "HTTP 401"

# 5. Rejected rows are final: kept once, not redone twice. Rows 3 and 7
# are invalid; the stop lands after them.
{
	echo "link_id,call_destination"
	for i in $(seq 1 400); do
		case $i in
		3 | 7) echo "link$i,notanumber" ;;
		*) echo "link1,44700$i" ;;
		esac
	done
} >"$T_TMP/mixed.csv"
mock_start --ledger "$T_TMP/l5.ndjson" --latency 20
run --rate 50 --concurrency 5 --max-runtime 2s "$T_TMP/mixed.csv" -o "$T_TMP/r5"
t_eq "mixed run stopped by max-runtime" "$?" 1
resume -q "$T_TMP/r5" --rate 0 --max-runtime 1m # its own budget, not the 2 s
t_eq "mixed resume exit (2 rejected)" "$?" 1
mock_stop
t_invariants "$T_TMP/mixed.csv" "$T_TMP/r5" --rows 400 --expect ok=398 --expect rejected=2 --ledger "$T_TMP/l5.ndjson"
# Finished with rows not ok: still nothing to do, exit 0; the message says.
resume "$T_TMP/r5" 2>"$T_TMP/e5"
t_eq "resume of a finished job with rejected rows exit" "$?" 0
t_contains "finished message says some were not ok" "$T_TMP/e5" "already finished (400 rows, some not ok)"

# 6. The input changed: resume refuses (exit 2) and leaves the folder alone.
"$GEN" 3000 9 >"$T_TMP/c3k.csv"
mock_start --ledger "$T_TMP/l6.ndjson" --latency 100
run_bg --rate 0 --concurrency 20 "$T_TMP/c3k.csv" -o "$T_TMP/r6"
sleep 1
kill -INT $pid
wait $pid
t_eq "SIGINT exit (6)" "$?" 130
cp "$T_TMP/c3k.csv" "$T_TMP/c3k.orig"
cp -r "$T_TMP/r6" "$T_TMP/r6.before"
# Same size, one digit changed.
sed -i '2s/447/448/' "$T_TMP/c3k.csv"
resume -q "$T_TMP/r6" 2>"$T_TMP/e6"
t_eq "changed input (same size) exit" "$?" 2
t_contains "changed input message" "$T_TMP/e6" "changed since the job started"
echo "link1,4471" >>"$T_TMP/c3k.csv"
resume -q "$T_TMP/r6" 2>"$T_TMP/e6"
t_eq "grown input exit" "$?" 2
t_eq "the folder is untouched" "$(diff -r "$T_TMP/r6" "$T_TMP/r6.before" >/dev/null && echo same)" same
rm "$T_TMP/c3k.csv"
resume -q "$T_TMP/r6" 2>"$T_TMP/e6"
t_eq "missing input exit" "$?" 3
cp "$T_TMP/c3k.orig" "$T_TMP/c3k.csv"
touch "$T_TMP/c3k.csv" # a new mtime alone is not a change
resume -q "$T_TMP/r6"
t_eq "restored input resumes" "$?" 0
mock_stop
t_invariants "$T_TMP/c3k.csv" "$T_TMP/r6" --rows 3000 --expect ok=3000 --ledger "$T_TMP/l6.ndjson"

# 7. Refusals: not a run folder, another profile, --out, stdin input.
mkdir -p "$T_TMP/empty"
resume "$T_TMP/empty" 2>"$T_TMP/e7"
t_eq "not a run folder exit" "$?" 2
t_contains "not a run folder message" "$T_TMP/e7" "no job.json"
resume "$T_TMP/r3" -p iovox.updateCallFlow 2>"$T_TMP/e7"
t_eq "finished job wins over a changed profile" "$?" 0
mock_start --latency 100
run_bg --rate 0 --concurrency 10 "$T_TMP/c2k.csv" -o "$T_TMP/r7"
sleep 0.5
kill -INT $pid
wait $pid
resume "$T_TMP/r7" -p iovox.updateCallFlow 2>"$T_TMP/e7"
t_eq "another profile exit" "$?" 2
t_contains "profile message" "$T_TMP/e7" "cannot change on resume"
resume "$T_TMP/r7" -o "$T_TMP/elsewhere" 2>"$T_TMP/e7"
t_eq "--out exit" "$?" 2
resume "$T_TMP/r7" --gzip 2>"$T_TMP/e7"
t_eq "--gzip change exit" "$?" 2
"$BULKCALL" run -q -p $P --base-url "$MOCK_URL" --rate 0 --concurrency 10 - -o "$T_TMP/r8" <"$T_TMP/c2k.csv" &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
t_eq "stdin run interrupted" "$?" 130
t_contains "job.json says stdin is not resumable" "$T_TMP/r8/job.json" '"resumable":	false'
resume "$T_TMP/r8" 2>"$T_TMP/e8"
t_eq "stdin job exit" "$?" 2
t_contains "stdin message" "$T_TMP/e8" "stdin"
mock_stop

# 8. One bulkcall per folder: a second resume while one runs is refused
# before it touches anything.
mock_start --ledger "$T_TMP/l9.ndjson" --latency 200
run_bg --rate 0 --concurrency 10 "$T_TMP/c300.csv" -o "$T_TMP/r9"
sleep 0.5
kill -9 $pid
wait $pid 2>/dev/null
"$BULKCALL" resume -q "$T_TMP/r9" &
pid=$!
sleep 0.5
resume -q "$T_TMP/r9" 2>"$T_TMP/e9"
t_eq "second resume at once exit" "$?" 2
t_contains "second resume message" "$T_TMP/e9" "another bulkcall is working"
wait $pid
t_eq "the first resume finishes (unknown rows from the kill)" "$?" 1
mock_stop
t_invariants "$T_TMP/c300.csv" "$T_TMP/r9" --rows 300 --ledger "$T_TMP/l9.ndjson" --expect retry=0

# 9. job.json: input identity and options, no secrets.
t_contains "job.json input path" "$T_TMP/r1/job.json" "\"path\":	\"$T_TMP/c5k.csv\""
t_contains "job.json checksum" "$T_TMP/r1/job.json" '"crc32":'
t_contains "job.json options" "$T_TMP/r1/job.json" '"concurrency":	50'
t_lacks "no secret in job.json" "$T_TMP/r1/job.json" "demo-key"
t_lacks "no secret in the journal" "$T_TMP/r1/journal" "demo-key"

# 10. SIGTERM mid-run: like SIGINT, exit 130, the folder complete; resume.
mock_start --ledger "$T_TMP/l10.ndjson" --latency 100
run_bg --rate 0 --concurrency 50 "$T_TMP/c5k.csv" -o "$T_TMP/r10"
sleep 1
kill -TERM $pid
wait $pid
t_eq "SIGTERM exit" "$?" 130
t_invariants "$T_TMP/c5k.csv" "$T_TMP/r10" --rows 5000 --ledger "$T_TMP/l10.ndjson"
stopped=$(count_rows "$T_TMP/r10/results.csv" 'r["outcome"] == "retry"')
t_eq "SIGTERM left rows to retry ($stopped)" "$([ "$stopped" -gt 0 ] && echo yes)" yes
t_contains "SIGTERM in summary" "$T_TMP/r10/summary.json" "interrupted"
resume -q "$T_TMP/r10"
t_eq "resume after SIGTERM exit" "$?" 0
mock_stop
t_invariants "$T_TMP/c5k.csv" "$T_TMP/r10" --rows 5000 --expect ok=5000 --ledger "$T_TMP/l10.ndjson"

# The http profile against the mock's VoipNow API: pf FILE IDEMPOTENT
# writes a profile file, hx N an input whose event_id is unique per row.
pf() {
	cat >"$1" <<EOF
{
  "method": "PUT",
  "url": "https://uapi.voipnow.com/uapi/extensions/{{user_id}}/{{extension}}/phoneCallEvents/{{event_type}}/{{event_id}}",
  "headers": {"Authorization": "Bearer {{env:VOIPNOW_TOKEN}}"},
  "body": {"kind": "json", "template": {"note": "{{note}}", "status": "{{status}}"}},
  "idempotent": $2,
  "required": ["extension", "event_type", "event_id"],
  "key_columns": ["event_id"]
}
EOF
}
hx() {
	echo "user_id,extension,event_type,event_id,note,status"
	for i in $(seq 1 "$1"); do echo "@me,0003*210,$((i % 3)),hx$i,note $i,$((i % 2))"; done
}
hx 1000 >"$T_TMP/hx1k.csv"
hx 300 >"$T_TMP/hx300.csv"
HTTP_LEDGER=(--ledger-key event_id)

# 11. A crash, then the profile file's "idempotent" edited from false to
# true: the job was started not idempotent (job.json), so the rows in
# flight at the crash are unknown, never sent again. job.json is made to
# look like one an older bulkcall wrote (no profile file contents), so
# the contents check (12) does not refuse first.
pf "$T_TMP/pf11.json" false
mock_start --ledger "$T_TMP/l11.ndjson" --latency 300
"$BULKCALL" run -q -p http --profile-file "$T_TMP/pf11.json" --base-url "$MOCK_URL" \
	--rate 0 --concurrency 50 "$T_TMP/hx1k.csv" -o "$T_TMP/r11" &
pid=$!
sleep 1
kill -9 $pid
wait $pid 2>/dev/null
t_contains "job.json: started not idempotent" "$T_TMP/r11/job.json" '"idempotent":	false'
pf "$T_TMP/pf11.json" true
python3 - "$T_TMP/r11/job.json" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))
del job["profile_file"]
json.dump(job, open(sys.argv[1], "w"), indent="\t")
PY
resume "$T_TMP/r11" 2>"$T_TMP/e11"
t_eq "resume with the profile now idempotent exit (unknown rows)" "$?" 1
mock_stop
t_contains "older job.json: contents not checked" "$T_TMP/e11" "not checked"
t_contains "the job's idempotency is kept" "$T_TMP/e11" "handled as not idempotent"
unknown=$(count_rows "$T_TMP/r11/results.csv" 'r["outcome"] == "unknown"')
t_eq "rows in flight at the crash are unknown ($unknown)" "$([ "$unknown" -gt 0 ] && echo yes)" yes
t_invariants "$T_TMP/hx1k.csv" "$T_TMP/r11" --rows 1000 --expect retry=0 \
	--ledger "$T_TMP/l11.ndjson" "${HTTP_LEDGER[@]}"

# 12. The profile file's and the template's contents are part of the job:
# resume refuses (exit 2) when either changed, and takes no --template,
# --profile-file or --profile other than the job's.
pf "$T_TMP/pf12.json" true
mock_start --ledger "$T_TMP/l12.ndjson"
"$BULKCALL" run -q -p http --profile-file "$T_TMP/pf12.json" --base-url "$MOCK_URL" \
	--rate 20 --max-runtime 1s "$T_TMP/hx300.csv" -o "$T_TMP/r12"
t_eq "http max-runtime exit" "$?" 1
t_contains "job.json records the profile file" "$T_TMP/r12/job.json" "\"path\":	\"$T_TMP/pf12.json\""
cp -r "$T_TMP/r12" "$T_TMP/r12.before"
pf "$T_TMP/pf12.json" false
resume -q "$T_TMP/r12" 2>"$T_TMP/e12"
t_eq "changed profile file exit" "$?" 2
t_contains "changed profile file message" "$T_TMP/e12" \
	"the --profile-file '$T_TMP/pf12.json' changed since the job started"
t_eq "the folder is untouched (12)" "$(diff -r "$T_TMP/r12" "$T_TMP/r12.before" >/dev/null && echo same)" same
pf "$T_TMP/pf12.json" true
pf "$T_TMP/other.json" true
resume -q "$T_TMP/r12" --profile-file "$T_TMP/other.json" 2>"$T_TMP/e12"
t_eq "--profile-file override exit" "$?" 2
t_contains "--profile-file override message" "$T_TMP/e12" "--profile-file cannot change on resume"
resume -q "$T_TMP/r12" --template "$SAMPLES/iovox-callflow-template.xml" 2>"$T_TMP/e12"
t_eq "--template added exit" "$?" 2
t_contains "--template added message" "$T_TMP/e12" "--template cannot be added on resume"
resume -q "$T_TMP/r12" -p iovox.updateCallFlow 2>"$T_TMP/e12"
t_eq "-p override exit" "$?" 2
t_eq "the folder is untouched (12b)" "$(diff -r "$T_TMP/r12" "$T_TMP/r12.before" >/dev/null && echo same)" same
# Naming the job's own file again is no change.
(cd "$T_TMP" && "$BULKCALL" resume -q r12 --rate 0 --profile-file pf12.json)
t_eq "restored profile file resumes" "$?" 0
mock_stop
t_invariants "$T_TMP/hx300.csv" "$T_TMP/r12" --rows 300 --expect ok=300 \
	--ledger "$T_TMP/l12.ndjson" "${HTTP_LEDGER[@]}"

cp "$SAMPLES/iovox-callflow-template.xml" "$T_TMP/tpl.xml"
cp "$T_TMP/tpl.xml" "$T_TMP/tpl.orig"
mock_start --ledger "$T_TMP/l13.ndjson"
"$BULKCALL" run -q -p iovox.updateCallFlow --template "$T_TMP/tpl.xml" --base-url "$MOCK_URL" \
	--rate 1 --max-runtime 1s "$SAMPLES/iovox-callflows.csv" -o "$T_TMP/r13"
t_eq "template max-runtime exit" "$?" 1
t_contains "job.json records the template" "$T_TMP/r13/job.json" "\"path\":	\"$T_TMP/tpl.xml\""
echo "<!-- edited -->" >>"$T_TMP/tpl.xml"
resume -q "$T_TMP/r13" 2>"$T_TMP/e13"
t_eq "changed template exit" "$?" 2
t_contains "changed template message" "$T_TMP/e13" \
	"the --template '$T_TMP/tpl.xml' changed since the job started (its size differs)"
rm "$T_TMP/tpl.xml"
resume -q "$T_TMP/r13" 2>"$T_TMP/e13"
t_eq "missing template exit" "$?" 2
t_contains "missing template message" "$T_TMP/e13" "the job's --template is unreadable"
cp "$T_TMP/tpl.orig" "$T_TMP/tpl.xml"
resume -q "$T_TMP/r13" --template "$T_TMP/tpl.orig" 2>"$T_TMP/e13"
t_eq "--template override exit" "$?" 2
t_contains "--template override message" "$T_TMP/e13" "--template cannot change on resume"
resume -q "$T_TMP/r13" --rate 0
t_eq "restored template resumes (2 failed, 1 rejected)" "$?" 1
mock_stop
t_invariants "$SAMPLES/iovox-callflows.csv" "$T_TMP/r13" --rows 6 --expect ok=3 \
	--expect failed=2 --expect rejected=1

t_done
