#!/usr/bin/env python3
"""Checks an output folder against its input (SPEC §5 invariants).

usage: invariants.py INPUT OUTDIR --rows N [--check] [--ledger FILE]
                     [--ledger-key COLUMN] [--ledger-allow-repeats]
                     [--expect OUTCOME=COUNT ...]

- results holds exactly one record for each data row 1..N;
- the outcome counts add up to N and match summary.json;
- retry / unknown hold exactly the rows with that outcome, byte for byte,
  after the input's header (CSV), in results order;
- errors holds exactly the failed/rejected rows, byte for byte: the
  original record plus a bulkcall_error field equal to the result's error
  (CSV: a new last field, or the fed-back field replaced in place; NDJSON:
  inserted before the object's closing brace or replaced in place, and a
  line that is no JSON object wrapped as {"bulkcall_raw": ...} or
  {"bulkcall_raw_base64": ...}: docs/cli.md);
- with --ledger, the ok rows are exactly the mock's ledger entries and no
  operation appears twice (--ledger-allow-repeats: idempotent profiles, whose
  update may legitimately be applied again after a reset-after-send).
Prints one line per failed check and exits 1 if any failed.
"""
import base64
import csv
import gzip
import io
import json
import os
import sys

failures = []


def fail(msg):
    failures.append(msg)
    print("invariant failed: " + msg, file=sys.stderr)


def read_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def find(outdir, stem):
    for ext in (".csv", ".ndjson", ".csv.gz", ".ndjson.gz"):
        p = os.path.join(outdir, stem + ext)
        if os.path.exists(p):
            return p
    return None


def csv_quote(s):
    if any(c in s for c in ',"\r\n') or s[:1] == " " or s[-1:] == " ":
        return '"' + s.replace('"', '""') + '"'
    return s


def csv_field_span(rec, want):
    """Byte span (start, end) of field want (-1: the last) of a CSV record
    without its line terminator, and its field count; None when the record
    ends inside quotes. A quote opens a field only at its start."""
    field, start, i, quoted = 0, 0, 0, False
    span = (0, 0)
    while i < len(rec):
        c = rec[i:i + 1]
        if quoted:
            if c == b'"' and rec[i + 1:i + 2] == b'"':
                i += 1
            elif c == b'"':
                quoted = False
        elif c == b'"' and i == start:
            quoted = True
        elif c == b",":
            if field == want:
                span = (start, i)
            field += 1
            start = i + 1
        i += 1
    if quoted:
        return None
    if want < 0 or field == want:
        span = (start, len(rec))
    return span, field + 1


def is_row_error(b):
    """A reader's error field: 'line N: ...', maybe quoted."""
    if b[:1] == b'"':
        b = b[1:]
    if not b.startswith(b"line "):
        return False
    d = b[5:]
    n = len(d) - len(d.lstrip(b"0123456789"))
    return n > 0 and d[n:n + 1] == b":"


def csv_with_error(header, rec, err, eol):
    """The errors record for rec (raw bytes with its line terminator)."""
    body = rec.rstrip(b"\r\n")
    names = next(csv.reader([header.decode()]))
    q = csv_quote(err).encode()
    if "bulkcall_error" in names:
        col = names.index("bulkcall_error")
        got = csv_field_span(body, col)
        span = None
        if got is not None:
            if got[1] == len(names):
                span = got[0]
            elif col == len(names) - 1:
                last = csv_field_span(body, -1)
                if last is not None and is_row_error(body[last[0][0]:last[0][1]]):
                    span = last[0]
        if span is not None:
            return body[:span[0]] + q + body[span[1]:] + eol
    return body + b"," + q + eol


def json_ws(text, i):
    while i < len(text) and text[i] in " \t\n\r":
        i += 1
    return i


def no_constant(name):
    raise ValueError(name)


def ndjson_with_error(rec, err):
    """The errors line for one NDJSON line (raw bytes with its LF)."""
    body = rec[:-1] if rec.endswith(b"\n") else rec
    jerr = json.dumps(err, ensure_ascii=False)
    try:
        text = body.decode("utf-8")
        if "\x00" in text:
            raise ValueError
    except ValueError:
        b64 = base64.b64encode(body).decode()
        return ('{"bulkcall_raw_base64":"%s","bulkcall_error":%s}\n' % (b64, jerr)).encode()
    try:
        obj = json.loads(text, parse_constant=no_constant)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        return ('{"bulkcall_raw":%s,"bulkcall_error":%s}\n'
                % (json.dumps(text, ensure_ascii=False), jerr)).encode()
    # Replace an existing bulkcall_error value in place, else insert the
    # field before the closing brace: every other byte stays.
    dec = json.JSONDecoder()
    i = json_ws(text, 0) + 1
    while True:
        i = json_ws(text, i)
        if text[i] == "}":
            break
        key, i = json.decoder.scanstring(text, i + 1)
        i = json_ws(text, json_ws(text, i) + 1)
        _, end = dec.raw_decode(text, i)
        if key == "bulkcall_error":
            return (text[:i] + jerr + text[end:] + "\n").encode()
        i = json_ws(text, end)
        if text[i] == ",":
            i += 1
    close = text.rindex("}")
    sep = "," if obj else ""
    return (text[:close] + sep + '"bulkcall_error":' + jerr + text[close:] + "\n").encode()


def main(argv):
    args = argv[1:]
    inp, outdir = args[0], args[1]
    n = None
    check = "--check" in args
    allow_repeats = "--ledger-allow-repeats" in args
    ledger = None
    ledger_key = "call_destination"
    expects = {}
    i = 2
    while i < len(args):
        if args[i] == "--rows":
            n = int(args[i + 1]); i += 2
        elif args[i] == "--ledger":
            ledger = args[i + 1]; i += 2
        elif args[i] == "--ledger-key":
            ledger_key = args[i + 1]; i += 2
        elif args[i] == "--expect":
            k, v = args[i + 1].split("="); expects[k] = int(v); i += 2
        else:
            i += 1
    data = read_bytes(inp)
    ndjson = ".ndjson" in inp or ".jsonl" in inp
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.splitlines(keepends=True)
    header = b"" if ndjson else lines[0]

    res_path = find(outdir, "results")
    if not res_path:
        fail("no results file")
        return
    res_bytes = read_bytes(res_path).decode("utf-8")
    if res_path.endswith((".ndjson", ".ndjson.gz")):
        results = [json.loads(l) for l in res_bytes.splitlines() if l]
        for r in results:
            for k in list(r):
                r[k] = "" if r[k] is None else str(r[k])
    else:
        results = list(csv.DictReader(io.StringIO(res_bytes, newline="")))
    rows = [int(r["row"]) for r in results]
    if n is not None and sorted(rows) != list(range(1, n + 1)):
        missing = set(range(1, n + 1)) - set(rows)
        dup = len(rows) - len(set(rows))
        fail("results rows are not exactly 1..%d: %d records, %d missing, %d duplicated"
             % (n, len(rows), len(missing), dup))

    # Original bytes of each row: from its first line to the next row's.
    starts = sorted(set(int(r["line"]) for r in results))
    raw = {}
    for idx, start in enumerate(starts):
        end = starts[idx + 1] if idx + 1 < len(starts) else len(lines) + 1
        chunk = b"".join(lines[start - 1:end - 1])
        # Blank lines between records are not part of a record.
        while chunk.endswith((b"\n\n", b"\r\n\r\n")):
            chunk = chunk[:-2] if chunk.endswith(b"\r\n\r\n") else chunk[:-1]
        if not chunk.endswith(b"\n"):
            chunk += b"\n"
        raw[start] = chunk

    counts = {}
    for r in results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    for k, v in expects.items():
        if counts.get(k, 0) != v:
            fail("expected %d %s rows, found %d" % (v, k, counts.get(k, 0)))

    summary_path = os.path.join(outdir, "summary.json")
    if os.path.exists(summary_path):
        summary = json.load(open(summary_path))
        if summary["rows"] != len(results):
            fail("summary rows %d != results %d" % (summary["rows"], len(results)))
        for k, v in summary["outcomes"].items():
            if counts.get(k, 0) != v:
                fail("summary says %d %s, results have %d" % (v, k, counts.get(k, 0)))
        if sum(summary["outcomes"].values()) != summary["rows"]:
            fail("summary outcomes do not add up to rows")
    else:
        fail("no summary.json")

    eol = b"\r\n" if header.endswith(b"\r\n") else b"\n"

    def expect_file(stem, outcomes, transform):
        path = find(outdir, stem)
        want_rows = [r for r in results if r["outcome"] in outcomes]
        if not path:
            if want_rows:
                fail("no %s file but %d rows belong there" % (stem, len(want_rows)))
            return
        got = read_bytes(path)
        want = b""
        if not ndjson:
            want = header
            if stem == "errors" and b"bulkcall_error" not in header.rstrip(b"\r\n").split(b","):
                want = header.rstrip(b"\r\n") + b",bulkcall_error" + eol
        for r in want_rows:
            want += transform(r, raw[int(r["line"])])
        if got != want:
            g, w = got.splitlines(True), want.splitlines(True)
            first = next((i for i in range(min(len(g), len(w))) if g[i] != w[i]), min(len(g), len(w)))
            fail("%s differs from the %d expected rows at line %d:\n  got:  %r\n  want: %r"
                 % (stem, len(want_rows), first + 1,
                    g[first] if first < len(g) else None,
                    w[first] if first < len(w) else None))

    def as_is(r, b):
        return b

    def with_error(r, b):
        if ndjson:
            return ndjson_with_error(b, r["error"])
        return csv_with_error(header, b, r["error"], eol)

    if not check:
        expect_file("retry", {"retry"}, as_is)
        expect_file("unknown", {"unknown"}, as_is)
    expect_file("errors", {"failed", "rejected"}, with_error)

    if ledger is not None:
        # Exactly once: every ok row is in the ledger once; the ledger holds
        # nothing but ok rows and unknown ones (an unknown row may or may
        # not have been acted on). Rows are matched on --ledger-key, a
        # results column that is unique per row and recorded by the mock.
        entries = [json.loads(l) for l in open(ledger, encoding="utf-8") if l.strip()]
        vals = []
        for e in entries:
            v = e.get(ledger_key)
            if v is None and isinstance(e.get("vars"), dict):
                v = e["vars"].get(ledger_key)
            vals.append(str(v))
        seen = {}
        for v in vals:
            seen[v] = seen.get(v, 0) + 1
        dups = [v for v, c in seen.items() if c > 1]
        if dups and not allow_repeats:
            fail("ledger holds %d operations more than once, e.g. %s" % (len(dups), dups[:3]))
        ok_keys = set(r[ledger_key] for r in results if r["outcome"] == "ok")
        unknown_keys = set(r[ledger_key] for r in results if r["outcome"] == "unknown")
        missing = ok_keys - set(seen)
        if missing:
            fail("%d ok rows are not in the ledger, e.g. %s" % (len(missing), sorted(missing)[:3]))
        extra = set(seen) - ok_keys - unknown_keys
        if extra:
            fail("%d ledger operations belong to rows that are neither ok nor unknown, e.g. %s"
                 % (len(extra), sorted(extra)[:3]))

    print("invariants: %d rows, %s, %d failed checks"
          % (len(results), ", ".join("%s=%d" % kv for kv in sorted(counts.items())), len(failures)))


main(sys.argv)
sys.exit(1 if failures else 0)
