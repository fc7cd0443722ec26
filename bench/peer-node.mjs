// peer-node.mjs CSV BASE_URL OUT_CSV [WORKERS]: the script a user would
// write instead of bulkcall, used as the P6 peer by bench/run. Node 20, no
// npm packages: reads the initiateCall campaign CSV (small quote-aware
// splitter), builds the same XML body bulkcall sends, POSTs it with the
// built-in fetch from WORKERS (default 256) concurrent async workers, and
// writes one results line per row (row, link_id, outcome, http_status,
// latency_ms, finished_at). Credentials: IOVOX_USERNAME, IOVOX_SECURE_KEY.
import { readFileSync, writeFileSync } from 'node:fs';

const [csvPath, base, outPath, workersArg] = process.argv.slice(2);
if (!csvPath || !base || !outPath) {
	console.error('usage: node peer-node.mjs CSV BASE_URL OUT_CSV [WORKERS]');
	process.exit(2);
}
const workers = Number(workersArg || 256);
const url = base.replace(/\/$/, '') + '/Calling?v=3&method=initiateCall';
const headers = {
	username: process.env.IOVOX_USERNAME || '',
	secureKey: process.env.IOVOX_SECURE_KEY || '',
	'Content-Type': 'application/xml',
};

// One CSV record per line (the generated campaigns have no embedded line
// breaks); quotes may hold commas and doubled quotes.
function splitCsv(line) {
	const out = [];
	let cur = '', inq = false;
	for (let i = 0; i < line.length; i++) {
		const c = line[i];
		if (inq) {
			if (c === '"') {
				if (line[i + 1] === '"') { cur += '"'; i++; } else inq = false;
			} else cur += c;
		} else if (c === '"') inq = true;
		else if (c === ',') { out.push(cur); cur = ''; }
		else cur += c;
	}
	out.push(cur);
	return out;
}
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
const el = (name, v) => `<${name}>${esc(v)}</${name}>`;
const csvCell = (s) => /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;

const lines = readFileSync(csvPath, 'utf8').split(/\r?\n/);
const header = splitCsv(lines[0].replace(/^\uFEFF/, ''));
const rows = [];
for (let i = 1; i < lines.length; i++) if (lines[i] !== '') rows.push(lines[i]);

function body(fields) {
	const rec = {};
	header.forEach((h, j) => { rec[h] = fields[j] ?? ''; });
	let vars = '';
	if (rec.call_destination) vars += el('call_destination', rec.call_destination);
	if (rec.delay) vars += el('delay', rec.delay);
	for (const h of header)
		if (h !== 'link_id' && h !== 'call_destination' && h !== 'delay' && rec[h] !== '')
			vars += el(h, rec[h]);
	return {
		link: rec.link_id,
		xml: '<?xml version="1.0" encoding="utf-8"?>\n<request>' + el('link_id', rec.link_id) +
			(vars ? '<call_variables>' + vars + '</call_variables>' : '') + '</request>\n',
	};
}

const results = new Array(rows.length);
let next = 0, ok = 0;
const t0 = performance.now();
async function worker() {
	while (next < rows.length) {
		const i = next++;
		const { link, xml } = body(splitCsv(rows[i]));
		const start = performance.now();
		let status = 0, outcome, error = '';
		try {
			const res = await fetch(url, { method: 'POST', headers, body: xml });
			status = res.status;
			await res.arrayBuffer();
			outcome = status === 201 ? 'ok' : 'failed';
		} catch (e) {
			outcome = 'unknown';
			error = String(e.cause?.code || e.message);
		}
		if (outcome === 'ok') ok++;
		results[i] = [i + 1, i + 2, csvCell(link), outcome, status, csvCell(error),
			Math.round(performance.now() - start), new Date().toISOString()].join(',');
	}
}
await Promise.all(Array.from({ length: workers }, worker));
writeFileSync(outPath, 'row,line,link_id,outcome,http_status,error,latency_ms,finished_at\n' +
	results.join('\n') + '\n');
const secs = (performance.now() - t0) / 1000;
console.error(`peer-node rows=${rows.length} ok=${ok} seconds=${secs.toFixed(3)} rows_per_s=${(rows.length / secs).toFixed(0)}`);
process.exit(ok === rows.length ? 0 : 1);
