#!/usr/bin/env bash
# bulkcall-mock, Smartflo, VoipNow and MOR endpoints: auth, each documented
# validation answer byte for byte, OAuth token expiry, the MOR hash, the
# vendors' throttle answers, and the ledger line by line.
# Needs curl and sha1sum. Env: BULKCALL_MOCK (the mock binary), BC_SOURCE_DIR.
set -u

. "$(dirname "$0")/lib_mock.sh"
for tool in curl sha1sum; do
	command -v $tool >/dev/null || { echo "test_mock_providers: $tool not found" >&2; exit 1; }
done
[ -x "$MOCK" ] || { echo "test_mock_providers: no mock binary at '$MOCK'" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'mock_kill_all; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# start NAME [OPTIONS...] and stop: the mock, its URLs, its exit status
start() {
	mock_start "$@"
	BASE=$MOCK_BASE
	MOR="$BASE/billing/api/device_callflow_update"
}
stop() {
	mock_stop
	check "mock '$MOCK_NAME' exits 0 on SIGTERM" 0 "$MOCK_RC"
}

# expect NAME STATUS BODY CURL_ARGS...: one request, exact status and body
expect() {
	local name=$1 status=$2 want=$3 out
	shift 3
	rm -f "$TMP/body"
	out=$(curl -sS --max-time 20 -o "$TMP/body" -w '%{http_code}' "$@" 2>&1)
	check "$name: status" "$status" "$out"
	# VoipNow's "modified" is the time of the answer.
	check "$name: body" "$want" \
		"$(sed -E 's/"modified":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"/"modified":"X"/' "$TMP/body" 2>/dev/null)"
}

start main --token-ttl 1

# ---- Smartflo: PUT /v1/ivr/{id}
SF=(-X PUT -H 'Authorization: Bearer smartflo-token' -H 'Content-Type: application/json')
ivr() { # the Update IVR body with one field replaced: ivr KEY JSONVALUE
	local k v body
	body='{"name":"Support IVR","description":"IVR for support","recording":"recording|0231","timeout":20,"incorrect_count":5,"invalid_recording":"recording|349","invalid_destination":"extension|05047530002","timeout_retry_recording":"recording|52156","timeout_recording":"recording|123","timeout_destination":"extension|05047530002","timeout_tries":3,"recording_invalid":"recording|58999","option":["1","2"],"destination":["extension|0504","extension|845"]}'
	k=${1:-}
	v=${2:-}
	[ -n "$k" ] && body=$(printf '%s' "$body" | sed -E "s/\"$k\":(\[[^]]*\]|\"[^\"]*\"|[0-9]+)/\"$k\":$(printf '%s' "$v" | sed 's/[|&]/\\&/g')/")
	printf '%s' "$body"
}
sferr() { printf '{"success":false,"message":"%s"}' "$1"; }
expect "smartflo ok" 200 '{"success":true,"message":"IVR updated successfully."}' \
	"${SF[@]}" --data-binary "$(ivr)" "$BASE/v1/ivr/349"
expect "smartflo no token" 401 "$(sferr Unauthenticated.)" \
	-X PUT --data-binary "$(ivr)" "$BASE/v1/ivr/349"
expect "smartflo wrong token" 401 "$(sferr Unauthenticated.)" \
	-X PUT -H 'Authorization: Bearer nope' --data-binary "$(ivr)" "$BASE/v1/ivr/349"
expect "smartflo required" 400 "$(sferr 'The description field is required.')" \
	"${SF[@]}" --data-binary "$(ivr description '""')" "$BASE/v1/ivr/349"
expect "smartflo integer" 400 "$(sferr 'The timeout must be an integer.')" \
	"${SF[@]}" --data-binary "$(ivr timeout 2.5)" "$BASE/v1/ivr/349"
expect "smartflo integer as string ok" 200 '{"success":true,"message":"IVR updated successfully."}' \
	"${SF[@]}" --data-binary "$(ivr timeout_tries '"4"')" "$BASE/v1/ivr/350"
expect "smartflo arrays of unequal length" 400 \
	"$(sferr 'The option and destination must have the same number of items.')" \
	"${SF[@]}" --data-binary "$(ivr option '["1"]')" "$BASE/v1/ivr/349"
expect "smartflo option not an array" 400 "$(sferr 'The option must be an array.')" \
	"${SF[@]}" --data-binary "$(ivr option '"1"')" "$BASE/v1/ivr/349"
expect "smartflo bad JSON" 400 "$(sferr 'Invalid JSON body.')" \
	"${SF[@]}" --data-binary '{"name":' "$BASE/v1/ivr/349"
expect "smartflo IVR not found" 404 "$(sferr 'IVR not found.')" \
	"${SF[@]}" --data-binary "$(ivr)" "$BASE/v1/ivr/999"
expect "smartflo method" 405 "$(sferr 'Method not allowed.')" \
	-X POST -H 'Authorization: Bearer smartflo-token' --data-binary "$(ivr)" "$BASE/v1/ivr/349"

# ---- VoipNow: OAuth and PUT phoneCallEvents
token() { curl -s --data-binary "$1" "$BASE/oauth/token.php"; }
CREDS='client_id=voipnow-client&client_secret=voipnow-secret&grant_type=client_credentials'
tok_json=$(token "$CREDS")
TOK=$(printf '%s' "$tok_json" | sed -nE 's/^\{"access_token":"([0-9a-f]{40})","expires_in":1,"token_type":"Bearer"\}$/\1/p')
check "voipnow token minted ($tok_json)" 40 "${#TOK}"
expect "voipnow bad secret" 401 '{"error":"invalid_client","error_description":"Client authentication failed."}' \
	--data-binary 'client_id=voipnow-client&client_secret=x&grant_type=client_credentials' "$BASE/oauth/token.php"
expect "voipnow bad grant" 400 '{"error":"unsupported_grant_type","error_description":"Only client_credentials is supported."}' \
	--data-binary 'client_id=voipnow-client&client_secret=voipnow-secret&grant_type=password' "$BASE/oauth/token.php"
EV="$BASE/uapi/extensions/@me/0003%2A210/phoneCallEvents/0/MyEvent"
VN=(-X PUT -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json')
expect "voipnow update with minted token" 200 '{"method":"1","note":"use POST","type":"0","id":"MyEvent","modified":"X"}' \
	"${VN[@]}" --data-binary '{"method":"1","note":"use POST"}' "$EV"
vnerr() { printf '{"error":{"code":"%s","message":"%s"}}' "$1" "$2"; }
expect "voipnow pce_method_invalid" 400 \
	"$(vnerr pce_method_invalid 'Value supplied in method parameter is missing or invalid.')" \
	"${VN[@]}" --data-binary '{"method":"7"}' "$EV"
expect "voipnow pce_status_invalid" 400 \
	"$(vnerr pce_status_invalid 'Value supplied in status parameter is missing or invalid.')" \
	"${VN[@]}" --data-binary '{"status":"x"}' "$EV"
expect "voipnow pce_url_invalid" 400 \
	"$(vnerr pce_url_invalid 'Value supplied in request URL parameter is missing or invalid.')" \
	"${VN[@]}" --data-binary '{"url":"ftp://x"}' "$EV"
note=$(printf 'x%.0s' $(seq 1 1025))
expect "voipnow pce_note_invalid" 400 \
	"$(vnerr pce_note_invalid 'Value supplied in note parameter is missing or invalid.')" \
	"${VN[@]}" --data-binary "{\"note\":\"$note\"}" "$EV"
expect "voipnow pce_type_invalid" 400 \
	"$(vnerr pce_type_invalid 'Value supplied in type parameter is missing or invalid.')" \
	"${VN[@]}" --data-binary '{}' "$BASE/uapi/extensions/@me/210/phoneCallEvents/7/MyEvent"
expect "voipnow pce_id_invalid" 400 \
	"$(vnerr pce_id_invalid 'Value supplied in id parameter is invalid.')" \
	"${VN[@]}" --data-binary '{}' "$BASE/uapi/extensions/@me/210/phoneCallEvents/1/bad-id"
expect "voipnow extension_invalid" 400 \
	"$(vnerr extension_invalid 'Value supplied in the URI-Fragment as extension is invalid.')" \
	"${VN[@]}" --data-binary '{}' "$BASE/uapi/extensions/@me/@self/phoneCallEvents/1/Ev"
expect "voipnow static token, query form" 200 '{"type":"2","id":"Ev2","modified":"X"}' \
	-X PUT --data-binary '{}' "$BASE/uapi/extensions/@me/210/phoneCallEvents/2/Ev2?accessRequestToken=Bearer%20voipnow-token"
UNAUTH=$(vnerr unauthorized 'The access token is missing, invalid or expired.')
expect "voipnow unknown token" 401 "$UNAUTH" \
	-X PUT -H 'Authorization: Bearer 0000000000000000000000000000000000000000' --data-binary '{}' "$EV"
sleep 1.2 # --token-ttl 1
expect "voipnow expired token" 401 "$UNAUTH" "${VN[@]}" --data-binary '{}' "$EV"

# ---- MOR: POST /billing/api/device_callflow_update
# mor PARAMS: PARAMS (a=b&…) plus u=admin and the right hash
mor() {
	local hs="" k v
	for k in device_id callflow_action state forward_to_device external_number did_id src_callerid custom fax_device; do
		v=$(printf '%s' "&$1&" | sed -nE "s/.*&$k=([^&]*)&.*/\1/p")
		hs="$hs$v"
	done
	printf 'u=admin&%s&hash=%s' "$1" "$(printf '%s' "${hs}mor-secret" | sha1sum | cut -d' ' -f1)"
}
voicemail_page() { # DEVICE: the success page of state=busy&callflow_action=voicemail
	printf '<?xml version="1.0" encoding="UTF-8"?>\n<page>\n  <status>Callflow was successfully updated</status>\n  <user>System Admin</user>\n  <device>SIP/%s</device>\n  <callflow>\n    <state>Busy</state>\n    <priority>1</priority>\n    <action>Voicemail</action>\n    <callerid_type>Unchanged</callerid_type>\n  </callflow>\n</page>' "$1"
}
page_err() { printf '<?xml version="1.0" encoding="UTF-8"?>\n<page><error>%s</error></page>' "$1"; }
status_err() { printf '<?xml version="1.0" encoding="UTF-8"?>\n<status><error>%s</error></status>' "$1"; }
expect "mor ok" 200 '<?xml version="1.0" encoding="UTF-8"?>
<page>
  <status>Callflow was successfully updated</status>
  <user>System Admin</user>
  <device>SIP/4</device>
  <callflow>
    <state>Before call</state>
    <priority>1</priority>
    <action>Forward</action>
    <data>37062699289</data>
    <callerid_type>Custom</callerid_type>
    <callerid_data>caller</callerid_data>
  </callflow>
</page>' --data-binary "$(mor 'device_id=4&state=before_call&callflow_action=forward&external_number=37062699289&custom=caller')" "$MOR"
expect "mor device_callerid is not hashed" 200 '<?xml version="1.0" encoding="UTF-8"?>
<page>
  <status>Callflow was successfully updated</status>
  <user>System Admin</user>
  <device>SIP/5</device>
  <callflow>
    <state>Busy</state>
    <priority>1</priority>
    <action>Voicemail</action>
    <callerid_type>From Device</callerid_type>
  </callflow>
</page>' --data-binary "$(mor 'device_id=5&state=busy&callflow_action=voicemail')&device_callerid=true" "$MOR"
expect "mor incorrect hash" 200 "$(status_err 'Incorrect hash')" \
	--data-binary "$(mor 'device_id=4&state=busy&callflow_action=voicemail')&did_id=3" "$MOR"
expect "mor no hash" 200 "$(status_err 'Incorrect hash')" \
	--data-binary 'u=admin&device_id=4&state=busy&callflow_action=voicemail' "$MOR"
expect "mor bad login" 200 "$(status_err 'Bad login')" \
	--data-binary "$(mor 'device_id=4&state=busy&callflow_action=voicemail' | sed 's/^u=admin/u=root/')" "$MOR"
expect "mor GET disabled" 200 "$(status_err 'GET Requests are disabled')" \
	"$MOR?$(mor 'device_id=4&state=busy&callflow_action=voicemail')"
expect "mor params in the query string" 200 "$(page_err 'Device was not found')" \
	-X POST "$MOR?$(mor 'device_id=94&state=busy&callflow_action=voicemail')"
for c in 'device_id=9&state=busy&callflow_action=voicemail|Device was not found' \
	'device_id=4&state=ringing&callflow_action=voicemail|Callflow state was not found' \
	'device_id=4&state=busy&callflow_action=dance|Callflow action was not found' \
	'device_id=4&state=busy&callflow_action=fax_detect&fax_device=2|Callflow action was not found' \
	'device_id=4&state=busy&callflow_action=forward|Missing forward parameters' \
	'device_id=4&state=busy&callflow_action=forward&forward_to_device=99|Local device was not found' \
	'device_id=4&state=busy&callflow_action=forward&external_number=12ab|External number must be numeric' \
	'device_id=4&state=before_call&callflow_action=fax_detect|FAX device was not found' \
	'device_id=4&state=busy&callflow_action=voicemail&did_id=9|DID was not found'; do
	expect "mor ${c#*|}: ${c%|*}" 200 "$(page_err "${c#*|}")" --data-binary "$(mor "${c%|*}")" "$MOR"
done
stop
check "ledger" '{"provider":"smartflo","op":"updateIVR","id":"349","body":'"$(ivr)"'}
{"provider":"smartflo","op":"updateIVR","id":"350","body":'"$(ivr timeout_tries '"4"')"'}
{"provider":"voipnow","op":"updatePhoneCallEvent","user_id":"@me","extension":"0003*210","event_type":"0","event_id":"MyEvent","body":{"method":"1","note":"use POST"}}
{"provider":"voipnow","op":"updatePhoneCallEvent","user_id":"@me","extension":"210","event_type":"2","event_id":"Ev2","body":{}}
{"provider":"mor","op":"deviceCallflowUpdate","device_id":"4","state":"before_call","callflow_action":"forward","external_number":"37062699289","custom":"caller"}
{"provider":"mor","op":"deviceCallflowUpdate","device_id":"5","state":"busy","callflow_action":"voicemail","device_callerid":"true"}' \
	"$(mock_ledger main)"

# ---- throttles: each vendor's answer; one provider's limit leaves the others alone
start throttle --throttle smartflo:2/1 --throttle voipnow:1/60 --throttle mor:1/60 --throttle-key mor:device_id
SF_OK='{"success":true,"message":"IVR updated successfully."}'
expect "smartflo throttle 1" 200 "$SF_OK" "${SF[@]}" --data-binary "$(ivr)" "$BASE/v1/ivr/1"
expect "smartflo throttle 2" 200 "$SF_OK" "${SF[@]}" --data-binary "$(ivr)" "$BASE/v1/ivr/2"
expect "smartflo throttle 3: 429" 429 '{"success":"false","message":"Too many requests."}' \
	"${SF[@]}" --data-binary "$(ivr)" "$BASE/v1/ivr/3"
expect "iovox not throttled by smartflo's limit" 201 "" -H 'username: demo' -H 'secureKey: demo-key' \
	--data-binary '<request><link_id>l</link_id></request>' "$BASE/Calling?v=3&method=initiateCall"
sleep 1.1
expect "smartflo after 1 s" 200 "$SF_OK" "${SF[@]}" --data-binary "$(ivr)" "$BASE/v1/ivr/4"
VS=(-X PUT -H 'Authorization: Bearer voipnow-token' --data-binary '{}')
expect "voipnow throttle 1" 200 '{"type":"0","id":"A","modified":"X"}' "${VS[@]}" "$BASE/uapi/extensions/@me/210/phoneCallEvents/0/A"
expect "voipnow throttle 2: 429" 429 '{"error":{"code":"too_many_requests","message":"Too many requests."}}' \
	"${VS[@]}" "$BASE/uapi/extensions/@me/210/phoneCallEvents/0/B"
expect "mor throttle per device 1" 200 "$(page_err 'Missing forward parameters')" \
	--data-binary "$(mor 'device_id=4&state=busy&callflow_action=forward')" "$MOR"
expect "mor throttle per device 2" 200 "$(voicemail_page 4)" \
	--data-binary "$(mor 'device_id=4&state=busy&callflow_action=voicemail')" "$MOR"
expect "mor throttle per device 3: 429" 429 '<?xml version="1.0" encoding="UTF-8"?>
<page><error>Too many requests</error></page>' \
	--data-binary "$(mor 'device_id=4&state=busy&callflow_action=voicemail')" "$MOR"
expect "mor other device" 200 "$(voicemail_page 6)" \
	--data-binary "$(mor 'device_id=6&state=busy&callflow_action=voicemail')" "$MOR"
stop
check "throttle: accepted operations only" 7 "$(wc -l <"$TMP/throttle.ndjson")"

# ---- injected 500s in each vendor's format
start fail --fail-rate 1
expect "smartflo 500" 500 '{"success":false,"message":"Internal Server Error"}' \
	"${SF[@]}" --data-binary "$(ivr)" "$BASE/v1/ivr/349"
expect "voipnow 500" 500 '{"error":{"code":"internal_error","message":"Internal Server Error"}}' \
	"${VS[@]}" "$BASE/uapi/extensions/@me/210/phoneCallEvents/0/A"
expect "mor 500" 500 "<html><body><h1>We're sorry, but something went wrong.</h1></body></html>" \
	--data-binary "$(mor 'device_id=4&state=busy&callflow_action=voicemail')" "$MOR"
stop
check "fail: nothing in the ledger" 0 "$(wc -l <"$TMP/fail.ndjson")"

finish
