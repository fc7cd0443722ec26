-- wrk script for bench/run: POST /Calling?v=3&method=initiateCall with the
-- IOVOX headers and one XML body of the kind bulkcall sends (read from the
-- file named by WRK_BODY_FILE, e.g. one row's body from `bulkcall render`;
-- a built-in row-1 body otherwise). The request is formatted once, so wrk
-- spends no Lua time per request: the strictest peer.
local body = nil
local path = os.getenv("WRK_BODY_FILE")
if path then
	local f = assert(io.open(path, "rb"))
	body = f:read("*a")
	f:close()
end
if not body or body == "" then
	body = '<?xml version="1.0" encoding="utf-8"?>\n' ..
		'<request><link_id>link101</link_id><call_variables>' ..
		'<call_destination>447000000001</call_destination>' ..
		'<first_name>Alice</first_name><last_name>Jones</last_name>' ..
		'<account_ref>ACC-0000001</account_ref></call_variables></request>\n'
end
wrk.method = "POST"
wrk.path = "/Calling?v=3&method=initiateCall"
wrk.body = body
wrk.headers["username"] = os.getenv("IOVOX_USERNAME") or "demo"
wrk.headers["secureKey"] = os.getenv("IOVOX_SECURE_KEY") or "demo-key"
wrk.headers["Content-Type"] = "application/xml"

function done(summary, latency, requests)
	-- machine-readable line for bench/run (wrk's own report is on stdout too)
	io.stderr:write(string.format("wrk-result requests=%d duration_us=%d errors=%d non2xx=%d\n",
		summary.requests, summary.duration,
		summary.errors.connect + summary.errors.read + summary.errors.write +
		summary.errors.timeout, summary.errors.status))
end
