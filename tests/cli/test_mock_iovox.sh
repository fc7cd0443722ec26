#!/usr/bin/env bash
# bulkcall-mock, IOVOX endpoints and the fault options: every documented
# answer compared byte for byte, the ledger line by line, throttling over
# time, injected 500s, resets before and after processing, latency.
# Needs curl. Env: BULKCALL_MOCK (the mock binary), BC_SOURCE_DIR.
set -u

. "$(dirname "$0")/lib_mock.sh"
command -v curl >/dev/null || { echo "test_mock_iovox: curl not found" >&2; exit 1; }
[ -x "$MOCK" ] || { echo "test_mock_iovox: no mock binary at '$MOCK'" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'mock_kill_all; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

AUTH=(-H 'username: demo' -H 'secureKey: demo-key')
CALL='/Calling?v=3&method=initiateCall'
FLOW='/CallFlow?v=3&method=updateCallFlow'

# req METHOD PATH BODY [CURL ARGS...]: sets STATUS, RBODY, CURL_RC, TIME
req() {
	local method=$1 path=$2 body=$3 out
	shift 3
	rm -f "$TMP/body"
	out=$(curl -sS --max-time 20 -o "$TMP/body" -w '%{http_code} %{time_total}' \
		-X "$method" -H 'Content-Type: application/xml' "$@" \
		--data-binary "$body" "$MOCK_BASE$path" 2>"$TMP/curl.err")
	CURL_RC=$?
	STATUS=${out%% *}
	TIME=${out##* }
	RBODY=$(cat "$TMP/body" 2>/dev/null)
}

err() { # STATUS MESSAGE: an IOVOX error body
	printf '<?xml version="1.0" encoding="utf-8"?>\n<errors><error status="%s">%s</error></errors>' "$1" "$2"
}

# expect NAME METHOD PATH BODY STATUS EXPECTED_BODY [CURL ARGS...]
expect() {
	local name=$1 method=$2 path=$3 body=$4 status=$5 want=$6
	shift 6
	req "$method" "$path" "$body" "$@"
	check "$name: status" "$status" "$STATUS"
	check "$name: body" "$want" "$RBODY"
}

GOOD='<?xml version="1.0" encoding="utf-8"?>
<request><link_id>link123</link_id><call_variables><call_destination>449789123123,,1</call_destination><delay>30</delay><my_var>Bob &amp; "Al"</my_var></call_variables></request>'
GOOD_LINE='{"provider":"iovox","op":"initiateCall","link_id":"link123","call_destination":"449789123123,,1","delay":30,"vars":{"my_var":"Bob & \"Al\""}}'
RULE='<call id="call_1" label="Call" destinationPhoneNumber="?" record="true" sendCallAlert="NONE"/>'
flow() { # NAME NEWNAME RULES
	printf '<?xml version="1.0" encoding="utf-8"?>\n<request><callFlow name="%s"%s notes="n">%s</callFlow></request>' \
		"$1" "${2:+ newName=\"$2\"}" "$3"
}

# ---- usage errors
"$MOCK" --fail-rate 2 >/dev/null 2>"$TMP/usage.err"
check "bad --fail-rate exits 2" 2 $?
check_true "bad --fail-rate names the option" grep -q -- "--fail-rate '2'" "$TMP/usage.err"
"$MOCK" --throttle 5 >/dev/null 2>&1
check "bad --throttle exits 2" 2 $?
"$MOCK" --help >"$TMP/help.out" 2>&1
check "--help exits 0" 0 $?
for opt in --listen --port-file --threads --connection-limit --latency --fail-rate \
	--reset-rate --reset-after-rate --throttle --throttle-key --block \
	--retry-after --seed --ledger --token-ttl; do
	check_true "--help documents $opt" grep -q -- "$opt" "$TMP/help.out"
done

# ---- the API, no faults
mock_start main
expect "initiateCall ok" POST "$CALL" "$GOOD" 201 "" "${AUTH[@]}"
expect "no auth headers" POST "$CALL" "$GOOD" 401 "$(err 401 'HTTP 401: Unauthorized')"
expect "wrong secureKey" POST "$CALL" "$GOOD" 401 "$(err 401 'HTTP 401: Unauthorized')" \
	-H 'username: demo' -H 'secureKey: nope'
expect "wrong username" POST "$CALL" "$GOOD" 401 "$(err 401 'HTTP 401: Unauthorized')" \
	-H 'username: eve' -H 'secureKey: demo-key'
expect "no v" POST '/Calling?method=initiateCall' "$GOOD" 400 "$(err 400 'API Version Empty')" "${AUTH[@]}"
expect "empty v" POST '/Calling?v=&method=initiateCall' "$GOOD" 400 "$(err 400 'API Version Empty')" "${AUTH[@]}"
expect "v=2" POST '/Calling?v=2&method=initiateCall' "$GOOD" 400 "$(err 400 'API Version Invalid')" "${AUTH[@]}"
expect "PUT initiateCall" PUT "$CALL" "$GOOD" 400 \
	"$(err 400 'Request Method must be POST. PUT attempted')" "${AUTH[@]}"
expect "POST updateCallFlow" POST "$FLOW" "$(flow F '' "$RULE")" 400 \
	"$(err 400 'Request Method must be PUT. POST attempted')" "${AUTH[@]}"
expect "XML Empty" POST "$CALL" "" 400 "$(err 400 'XML Empty')" "${AUTH[@]}"
expect "XML whitespace only" POST "$CALL" "  " 400 "$(err 400 'XML Empty')" "${AUTH[@]}"
req POST "$CALL" '<request><link_id>x</request>' "${AUTH[@]}"
check "XML parse error: status" 400 "$STATUS"
case $RBODY in
*'<error status="400">XML parse error. '*' at line 1, column '[0-9]*'</error></errors>') ok=1 ;;
*) ok=0 ;;
esac
check "XML parse error: message" "1 $RBODY" "$ok $RBODY"
expect "DOCTYPE refused" POST "$CALL" '<!DOCTYPE r [<!ENTITY e "x">]><request><link_id>&e;</link_id></request>' 400 \
	"$(err 400 'XML parse error. DOCTYPE is not allowed at line 1, column 1')" "${AUTH[@]}"
expect "Request Empty" POST "$CALL" '<request/>' 400 "$(err 400 'Request Empty')" "${AUTH[@]}"
expect "Request Empty (other root)" POST "$CALL" '<req><link_id>a</link_id></req>' 400 \
	"$(err 400 'Request Empty')" "${AUTH[@]}"
expect "Link ID Empty (absent)" POST "$CALL" '<request><call_variables/></request>' 400 \
	"$(err 400 'Link ID Empty')" "${AUTH[@]}"
expect "Link ID Empty (blank)" POST "$CALL" '<request><link_id> </link_id></request>' 400 \
	"$(err 400 'Link ID Empty')" "${AUTH[@]}"
expect "Link ID does not exist (bad)" POST "$CALL" '<request><link_id>bad1</link_id></request>' 400 \
	"$(err 400 'Link ID does not exist')" "${AUTH[@]}"
expect "Link ID does not exist (missing)" POST "$CALL" '<request><link_id>missing-7</link_id></request>' 400 \
	"$(err 400 'Link ID does not exist')" "${AUTH[@]}"
expect "Link ID has no Calling Rules" POST "$CALL" '<request><link_id>norules9</link_id></request>' 400 \
	"$(err 400 'Link ID has no Calling Rules')" "${AUTH[@]}"
expect "call_destination empty" POST "$CALL" \
	'<request><link_id>l1</link_id><call_variables><call_destination></call_destination></call_variables></request>' 400 \
	"$(err 400 'Call Variable call_destination Empty')" "${AUTH[@]}"
expect "delay not an integer" POST "$CALL" \
	'<request><link_id>l1</link_id><call_variables><delay>1.5</delay></call_variables></request>' 400 \
	"$(err 400 'Delay not an integer')" "${AUTH[@]}"
expect "unknown path" POST '/Nope?v=3' "$GOOD" 404 "not found" "${AUTH[@]}"

expect "updateCallFlow ok" PUT "$FLOW" "$(flow 'Call Agent' 'Call Agent 2' "$RULE")" 204 "" "${AUTH[@]}"
expect "updateCallFlow no callFlow" PUT "$FLOW" '<request><x/></request>' 400 \
	"$(err 400 'Request Empty')" "${AUTH[@]}"
expect "There are no Rules" PUT "$FLOW" "$(flow 'Call Agent' '' '')" 400 \
	"$(err 400 'There are no Rules in this Template')" "${AUTH[@]}"
expect "CallFlow Name does not exist" PUT "$FLOW" "$(flow 'missing flow' '' "$RULE")" 400 \
	"$(err 400 'CallFlow Name does not exist')" "${AUTH[@]}"
expect "New CallFlow Name already exists" PUT "$FLOW" "$(flow 'Call Agent' 'taken name' "$RULE")" 400 \
	"$(err 400 'New CallFlow Name already exists')" "${AUTH[@]}"
long=$(printf 'n%.0s' $(seq 1 101))
expect "New CallFlow Name too long" PUT "$FLOW" "$(flow 'Call Agent' "$long" "$RULE")" 400 \
	"$(err 400 'New CallFlow Name too long')" "${AUTH[@]}"
expect "New CallFlow Name of 100 chars" PUT "$FLOW" "$(flow 'Call Agent' "${long:1}" "$RULE")" 204 "" "${AUTH[@]}"
mock_stop
check "SIGTERM exits 0" 0 "$MOCK_RC"
check_true "stats line at exit" grep -q 'requests: ok=3 rejected=2[0-9] unauthorized=3' "$TMP/main.err"
check "ledger" "$GOOD_LINE
{\"provider\":\"iovox\",\"op\":\"updateCallFlow\",\"name\":\"Call Agent\",\"new_name\":\"Call Agent 2\",\"notes\":\"n\",\"rules\":1}
{\"provider\":\"iovox\",\"op\":\"updateCallFlow\",\"name\":\"Call Agent\",\"new_name\":\"${long:1}\",\"notes\":\"n\",\"rules\":1}" \
	"$(mock_ledger main)"

# ---- throttle: 3 per 1 s window, blocked for 3 s once exceeded
THROTTLED=$(err 400 'The number of calls allowed has been exceeded')
mock_start throttle --throttle 3/1 --block 3 --retry-after 7
for i in 1 2 3; do expect "throttle: call $i" POST "$CALL" "$GOOD" 201 "" "${AUTH[@]}"; done
expect "throttle: call 4 refused" POST "$CALL" "$GOOD" 400 "$THROTTLED" "${AUTH[@]}" -D "$TMP/headers"
t0=$(date +%s.%N) # the block began before this
check_true "throttle: Retry-After: 7" grep -qi '^Retry-After: 7' "$TMP/headers"
sleep 1.3 # the window is over, the block is not
expect "throttle: still blocked after the window" POST "$CALL" "$GOOD" 400 "$THROTTLED" "${AUTH[@]}"
expect "throttle: updateCallFlow shares the account scope" PUT "$FLOW" "$(flow F '' "$RULE")" 400 "$THROTTLED" "${AUTH[@]}"
while [ "$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { print (a - b < 3.2) }')" = 1 ]; do sleep 0.1; done
expect "throttle: accepted after the block" POST "$CALL" "$GOOD" 201 "" "${AUTH[@]}"
mock_stop
check "throttle: only accepted calls in the ledger" 4 "$(wc -l <"$TMP/throttle.ndjson")"

# ---- throttle per key
mock_start perkey --throttle 2/60 --throttle-key link_id --retry-after auto
one() { printf '<request><link_id>%s</link_id></request>' "$1"; }
expect "per key: a 1" POST "$CALL" "$(one a)" 201 "" "${AUTH[@]}"
expect "per key: a 2" POST "$CALL" "$(one a)" 201 "" "${AUTH[@]}"
expect "per key: a 3 refused" POST "$CALL" "$(one a)" 400 "$THROTTLED" "${AUTH[@]}" -D "$TMP/headers"
check_true "per key: Retry-After auto = block left" grep -qiE '^Retry-After: (59|60)' "$TMP/headers"
expect "per key: b unaffected" POST "$CALL" "$(one b)" 201 "" "${AUTH[@]}"
mock_stop

# ---- --fail-rate 1: vendor 500, not processed
mock_start fail --fail-rate 1
expect "fail-rate 1" POST "$CALL" "$GOOD" 500 "$(err 500 'Internal Server Error')" "${AUTH[@]}"
mock_stop
check "fail-rate: nothing in the ledger" 0 "$(wc -l <"$TMP/fail.ndjson")"

# ---- --reset-rate 1: no answer, not processed
mock_start reset --reset-rate 1
req POST "$CALL" "$GOOD" "${AUTH[@]}"
check "reset-rate 1: curl sees a reset or empty reply" 1 "$([ "$CURL_RC" = 52 ] || [ "$CURL_RC" = 56 ] && echo 1 || echo "rc $CURL_RC")"
check "reset-rate 1: no status" 000 "$STATUS"
mock_stop
check "reset-rate: nothing in the ledger" 0 "$(wc -l <"$TMP/reset.ndjson")"

# ---- --reset-after-rate 1: processed, then no answer
mock_start after --reset-after-rate 1
req POST "$CALL" "$GOOD" "${AUTH[@]}"
check "reset-after-rate 1: curl sees a reset or empty reply" 1 "$([ "$CURL_RC" = 52 ] || [ "$CURL_RC" = 56 ] && echo 1 || echo "rc $CURL_RC")"
mock_stop
check "reset-after-rate: the operation is in the ledger" "$GOOD_LINE" "$(mock_ledger after)"

# ---- --seed: the same draws twice
draws() {
	local s=""
	mock_start "seed$1" --fail-rate 0.5 --seed 42 --threads 1
	for _ in $(seq 1 24); do
		req POST "$CALL" "$GOOD" "${AUTH[@]}"
		s="$s$STATUS "
	done
	mock_stop
	echo "$s"
}
d1=$(draws 1)
d2=$(draws 2)
check "seed: same sequence" "$d1" "$d2"
check_true "seed: both outcomes drawn ($d1)" bash -c '[[ "$0" == *201* && "$0" == *500* ]]' "$d1"

# ---- --latency: late answers, without a thread per request
mock_start latency --latency 800 --threads 1
expect "latency: answer" POST "$CALL" "$GOOD" 201 "" "${AUTH[@]}"
check "latency: at least 0.8 s ($TIME s)" 1 "$(awk -v t="$TIME" 'BEGIN { print (t >= 0.8) }')"
urls=()
for _ in $(seq 1 100); do urls+=("$MOCK_BASE$CALL"); done
start=$(date +%s.%N)
codes=$(curl -s -Z --parallel-max 100 --parallel-immediate "${AUTH[@]}" --data-binary "$GOOD" \
	-o /dev/null -w '%{http_code}\n' "${urls[@]}" 2>/dev/null | sort | uniq -c | tr -s ' ')
elapsed=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.2f", a - b }')
check "latency: 100 concurrent answered" " 100 201" "$codes"
check "latency: 100 concurrent in < 3 s on one thread ($elapsed s)" 1 "$(awk -v e="$elapsed" 'BEGIN { print (e < 3) }')"
mock_stop
check "latency: 101 ledger lines" 101 "$(wc -l <"$TMP/latency.ndjson")"

finish
