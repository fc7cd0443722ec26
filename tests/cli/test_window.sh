#!/usr/bin/env bash
# --window HH:MM-HH:MM and --tz ZONE: a window open now sends; a closed one
# waits (saying when it opens) unless it opens only after --max-runtime
# ends, which stops at once with every row to retry, resumable; 00:00-24:00
# is the whole day; an empty window and an unknown zone are usage errors.
# Windows are computed from the clock, in UTC (and in America/New_York
# when the machine has zoneinfo), so the test runs at any hour.
. "$(dirname "$0")/lib.sh"
: "${BULKCALL_MOCK:?BULKCALL_MOCK must point at bulkcall-mock}"
export IOVOX_USERNAME=demo IOVOX_SECURE_KEY=demo-key
P=iovox.initiateCall
GEN="$BC_SOURCE_DIR/scripts/gen-campaign"
run() { "$BULKCALL" run -p $P --base-url "$MOCK_URL" "$@"; }
# In the background, so a signal reaches bulkcall, not a subshell.
run_bg() {
	"$BULKCALL" run -p $P --base-url "$MOCK_URL" "$@" &
	pid=$!
}
# hm MINUTES [ZONE]: the local HH:MM that many minutes after $NOW (set
# before each run, so a minute ticking over mid-test changes nothing).
hm() { TZ=${2:-UTC} date -d "@$((NOW + $1 * 60))" +%H:%M; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
ZONEINFO=no
[ -f /usr/share/zoneinfo/America/New_York ] && ZONEINFO=yes

"$GEN" 200 4 >"$T_TMP/c200.csv"

# 1. A window open now: every row is sent.
NOW=$(date +%s)
mock_start --ledger "$T_TMP/l1.ndjson"
run -q --rate 0 --window "$(hm -10)-$(hm 10)" --tz UTC "$T_TMP/c200.csv" -o "$T_TMP/r1"
t_eq "open window exit" "$?" 0
t_invariants "$T_TMP/c200.csv" "$T_TMP/r1" --rows 200 --expect ok=200 --ledger "$T_TMP/l1.ndjson"
mock_stop

# 2. The whole day, 00:00-24:00: accepted, always open.
mock_start --ledger "$T_TMP/l2.ndjson"
run -q --rate 0 --window 00:00-24:00 --tz UTC "$T_TMP/c200.csv" -o "$T_TMP/r2"
t_eq "00:00-24:00 exit" "$?" 0
t_invariants "$T_TMP/c200.csv" "$T_TMP/r2" --rows 200 --expect ok=200 --ledger "$T_TMP/l2.ndjson"
t_contains "job.json keeps the window" "$T_TMP/r2/job.json" '"window":	"00:00-24:00"'
mock_stop

# 3. Closed now, opening 1-2 minutes from now, after --max-runtime 2s ends:
# stop at once, every row to retry, nothing sent; resume sends them.
NOW=$(date +%s)
mock_start --ledger "$T_TMP/l3.ndjson"
run -q --rate 0 --window "$(hm 2)-$(hm 3)" --tz UTC --max-runtime 2s "$T_TMP/c200.csv" -o "$T_TMP/r3"
t_eq "closed window with --max-runtime exit" "$?" 1
t_invariants "$T_TMP/c200.csv" "$T_TMP/r3" --rows 200 --expect retry=200 --ledger "$T_TMP/l3.ndjson"
t_contains "the stop says why" "$T_TMP/r3/summary.json" "after --max-runtime ends"
"$BULKCALL" resume -q "$T_TMP/r3" --window 00:00-24:00
t_eq "resume inside the window exit" "$?" 0
t_invariants "$T_TMP/c200.csv" "$T_TMP/r3" --rows 200 --expect ok=200 --ledger "$T_TMP/l3.ndjson"

# 4. The same with a --max-runtime that ends long before the opening: the
# stop comes at once, not at the deadline.
NOW=$(date +%s)
start=$(date +%s%N)
run -q --rate 0 --window "$(hm 2)-$(hm 3)" --tz UTC --max-runtime 40s "$T_TMP/c200.csv" -o "$T_TMP/r4"
t_eq "window opening after the deadline exit" "$?" 1
ms=$(ms_since "$start")
t_eq "stopped at once (${ms} ms), not at the deadline" "$([ "$ms" -lt 20000 ] && echo yes)" yes
t_invariants "$T_TMP/c200.csv" "$T_TMP/r4" --rows 200 --expect retry=200
mock_stop

# 5. Closed now, opening before --max-runtime ends: the run waits for the
# window and says when it opens, once (then every 10 minutes). SIGTERM
# ends the wait: exit 130, every row to retry, resumable.
NOW=$(date +%s)
W5="$(hm 2)-$(hm 3)"
mock_start --ledger "$T_TMP/l5.ndjson"
run_bg --progress never --rate 0 --window "$W5" --tz UTC --max-runtime 10m \
	"$T_TMP/c200.csv" -o "$T_TMP/r5" 2>"$T_TMP/e5"
sleep 2
t_eq "waits for the window (still running after 2 s)" "$(kill -0 $pid 2>/dev/null && echo yes)" yes
kill -TERM $pid
wait $pid
t_eq "SIGTERM while waiting exit" "$?" 130
t_contains "says when the window opens" "$T_TMP/e5" "outside --window $W5: waiting; it opens at "
t_contains "at its start, UTC" "$T_TMP/e5" "$(hm 2) UTC (in "
t_eq "said once" "$(grep -c 'outside --window' "$T_TMP/e5")" 1
t_invariants "$T_TMP/c200.csv" "$T_TMP/r5" --rows 200 --expect retry=200 --ledger "$T_TMP/l5.ndjson"
"$BULKCALL" resume -q "$T_TMP/r5" --window 00:00-24:00
t_eq "resume after the wait exit" "$?" 0
t_invariants "$T_TMP/c200.csv" "$T_TMP/r5" --rows 200 --expect ok=200 --ledger "$T_TMP/l5.ndjson"
# -q: no line.
run_bg -q --rate 0 --window "$W5" --tz UTC "$T_TMP/c200.csv" -o "$T_TMP/r5q" 2>"$T_TMP/e5q"
sleep 1
kill -TERM $pid
wait $pid
t_eq "-q wait exit" "$?" 130
t_lacks "-q: no window line" "$T_TMP/e5q" "outside --window"
mock_stop

# 6. A named zone: the window is in its local time.
if [ $ZONEINFO = yes ]; then
	NY=America/New_York
	NOW=$(date +%s)
	mock_start --ledger "$T_TMP/l6.ndjson"
	run -q --rate 0 --window "$(hm -10 $NY)-$(hm 10 $NY)" --tz $NY "$T_TMP/c200.csv" -o "$T_TMP/r6"
	t_eq "open window in $NY exit" "$?" 0
	t_invariants "$T_TMP/c200.csv" "$T_TMP/r6" --rows 200 --expect ok=200 --ledger "$T_TMP/l6.ndjson"
	NOW=$(date +%s)
	run -q --rate 0 --window "$(hm 2 $NY)-$(hm 3 $NY)" --tz $NY --max-runtime 2s "$T_TMP/c200.csv" -o "$T_TMP/r6b"
	t_eq "closed window in $NY exit" "$?" 1
	t_contains "the stop names the zone's local time" "$T_TMP/r6b/summary.json" \
		"opens at $(TZ=$NY date -d "@$((NOW + 120))" +%Y-%m-%d) $(hm 2 $NY) $NY"
	mock_stop
else
	echo "skip: no /usr/share/zoneinfo: named zones not tested"
fi

# 7. Usage errors (exit 2), before anything is written.
usage() { # usage WHAT WANT_MESSAGE ARGS...
	local what=$1 want=$2
	shift 2
	"$BULKCALL" run -q -p $P --base-url http://127.0.0.1:9 "$@" "$T_TMP/c200.csv" -o "$T_TMP/u" 2>"$T_TMP/u.err"
	t_eq "$what exit" "$?" 2
	t_contains "$what message" "$T_TMP/u.err" "$want"
	t_eq "$what: no folder" "$([ -e "$T_TMP/u" ] && echo exists || echo none)" none
}
usage "misspelled --tz" "unknown time zone 'America/New_Yrok'" --window 09:00-17:00 --tz America/New_Yrok
usage "bogus --tz" "unknown time zone 'bogus'" --window 09:00-17:00 --tz bogus
usage "--tz without --window" "unknown time zone 'Mars/Olympus'" --tz Mars/Olympus
usage "--tz with .." "unknown time zone" --window 09:00-17:00 --tz ../../../etc/passwd
usage "--tz as a path" "unknown time zone" --window 09:00-17:00 --tz /etc/localtime
usage "--tz a table, not a zone" "unknown time zone" --window 09:00-17:00 --tz zone.tab
usage "empty window" "is empty" --window 09:00-09:00
usage "24:30" "must be HH:MM-HH:MM" --window 10:00-24:30
usage "start 24:00" "must be HH:MM-HH:MM" --window 24:00-06:00
printf '{"profile": "%s", "window": "09:00-17:00", "tz": "Europe/Lodnon"}\n' $P >"$T_TMP/bad.json"
"$BULKCALL" check -q -c "$T_TMP/bad.json" "$T_TMP/c200.csv" -o "$T_TMP/u" 2>"$T_TMP/u.err"
t_eq "config --tz exit" "$?" 2
t_contains "config --tz message" "$T_TMP/u.err" "unknown time zone 'Europe/Lodnon'"
"$BULKCALL" resume -q "$T_TMP/r3" --tz America/New_Yrok 2>"$T_TMP/u.err"
t_eq "resume --tz exit" "$?" 2
t_contains "resume --tz message" "$T_TMP/u.err" "unknown time zone"

t_done
