#!/usr/bin/env bash
# Command-line surface (src/cli, src/out/progress.c, summary.json): help
# for unknown commands, the request line of every profile, the rate a run
# used, a fatal answer's message said once, the final progress line.
. "$(dirname "$0")/lib.sh"
: "${BULKCALL_MOCK:?BULKCALL_MOCK must point at bulkcall-mock}"
export IOVOX_USERNAME=demo IOVOX_SECURE_KEY=demo-key
P=iovox.initiateCall
"$BC_SOURCE_DIR/scripts/gen-campaign" 20 >"$T_TMP/c20.csv"

# 1. help COMMAND: an unknown command is a usage error, not the overview.
"$BULKCALL" help nope >"$T_TMP/h.out" 2>"$T_TMP/h.err"
code=$?
t_eq "help nope exit" "$code" 2
t_contains "help nope says so" "$T_TMP/h.err" "bulkcall: unknown command 'nope'"
t_eq "help nope prints no help" "$(wc -c <"$T_TMP/h.out")" 0
"$BULKCALL" help run >"$T_TMP/h.out"
code=$?
t_eq "help run exit" "$code" 0
t_contains "help run" "$T_TMP/h.out" "usage: bulkcall run"
"$BULKCALL" help >"$T_TMP/h.out"
code=$?
t_eq "help exit" "$code" 0
t_contains "help overview" "$T_TMP/h.out" "commands:"

# 2. profiles NAME: the whole request line, path and query included.
req() { "$BULKCALL" profiles "$1" | grep '^request:' | tr -s ' '; }
t_eq "initiateCall request" "$(req iovox.initiateCall)" "request: POST https://api.iovox.com:444/Calling?v=3&method=initiateCall"
t_eq "updateCallFlow request" "$(req iovox.updateCallFlow)" "request: PUT https://api.iovox.com:444/CallFlow?v=3&method=updateCallFlow"
t_eq "smartflo request" "$(req smartflo.updateIVR)" "request: PUT https://api-smartflo.tatateleservices.com/v1/ivr/{id}"
t_contains "mor request" <(req mor.deviceCallflowUpdate) "/billing/api/device_callflow_update"

# 3. summary.json: the rate in effect, not -1 for "the profile's".
"$BULKCALL" check -q -p $P "$T_TMP/c20.csv" -o "$T_TMP/k1"
t_contains "check: profile default rate" "$T_TMP/k1/summary.json" '"rate":	10,'
mock_start
"$BULKCALL" run -q -p $P --base-url "$MOCK_URL" "$T_TMP/c20.csv" -o "$T_TMP/r1"
t_eq "default-rate run exit" "$?" 0
"$BULKCALL" run -q -p $P --base-url "$MOCK_URL" --rate 0 "$T_TMP/c20.csv" -o "$T_TMP/r2"
t_eq "--rate 0 run exit" "$?" 0
t_contains "run: profile default rate" "$T_TMP/r1/summary.json" '"rate":	10,'
t_contains "run: job.json too" "$T_TMP/r1/job.json" '"rate":	10,'
t_contains "run: --rate 0 kept" "$T_TMP/r2/summary.json" '"rate":	0,'

# 4. A fatal answer's status is said once.
IOVOX_SECURE_KEY=wrong "$BULKCALL" run -q -p $P --base-url "$MOCK_URL" "$T_TMP/c20.csv" -o "$T_TMP/r3"
t_eq "401 exit" "$?" 5
t_contains "401 reason" "$T_TMP/r3/summary.json" '"stopped_because":	"fatal API answer (HTTP 401): Unauthorized"'
t_lacks "status not repeated" "$T_TMP/r3" "(HTTP 401): HTTP 401"

# 5. --progress always on a file: the last line shows every row done, as
# done / total; the summary follows.
"$BULKCALL" run -p $P --base-url "$MOCK_URL" --rate 0 --progress always "$T_TMP/c20.csv" -o "$T_TMP/r4" 2>"$T_TMP/p.err"
t_eq "progress run exit" "$?" 0
mock_stop
last=$(grep '^bulkcall: [0-9]' "$T_TMP/p.err" | tail -1)
t_eq "final progress line" "${last%%,*}" "bulkcall: 20 / 20 rows (100%)"
t_contains "final line counts" "$T_TMP/p.err" "0 not ok"
# --progress auto on a file, short run: no line, only the summary.
"$BULKCALL" check -p $P "$T_TMP/c20.csv" -o "$T_TMP/k2" 2>"$T_TMP/p2.err"
t_eq "auto: no progress line on a file" "$(grep -c '^bulkcall: [0-9]' "$T_TMP/p2.err")" 0
"$BULKCALL" check -p $P --progress always "$T_TMP/c20.csv" -o "$T_TMP/k3" 2>"$T_TMP/p3.err"
t_eq "check --progress always: final line" "$(grep '^bulkcall: [0-9]' "$T_TMP/p3.err" | cut -d, -f1)" "bulkcall: 20 / 20 rows (100%)"

t_done
