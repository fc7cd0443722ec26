#!/usr/bin/env python3
"""Checks an output folder against its input (SPEC §5 invariants).

usage: invariants.py INPUT OUTDIR --rows N [--check] [--ledger FILE]
                     [--ledger-key COLUMN] [--ledger-allow-repeats]
                     [--expect OUTCOME=COUNT ...]

- results holds exactly one record for each data row 1..N;
- the outcome counts add up to N and match summary.json;
- retry / unknown hold exactly the rows with that outcome, byte for byte,
  after the input's header (CSV), in results order;
- errors holds exactly the failed/rejected rows, each the original record
  plus a bulkcall_error field equal to the result's error;
- with --ledger, the ok rows are exactly the mock's ledger entries and no
  operation appears twice (--ledger-allow-repeats: idempotent profiles, whose
  update may legitimately be applied again after a reset-after-send).
Prints one line per failed check and exits 1 if any failed.
"""
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
            try:
                obj = json.loads(b)
                if not isinstance(obj, dict):
                    raise ValueError
            except ValueError:
                return None
            obj.pop("bulkcall_error", None)
            obj["bulkcall_error"] = r["error"]
            return (json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
        if b"bulkcall_error" in header.rstrip(b"\r\n").split(b","):
            # A fed-back errors file: the record is re-encoded with the
            # bulkcall_error field replaced.
            names = next(csv.reader([header.decode()]))
            vals = next(csv.reader([b.decode()]))
            vals[names.index("bulkcall_error")] = r["error"]
            return ",".join(csv_quote(v) for v in vals).encode() + eol
        return b.rstrip(b"\r\n") + b"," + csv_quote(r["error"]).encode() + eol

    if not check:
        expect_file("retry", {"retry"}, as_is)
        expect_file("unknown", {"unknown"}, as_is)
    if not ndjson:
        expect_file("errors", {"failed", "rejected"}, with_error)
    else:
        path = find(outdir, "errors")
        got = read_bytes(path).splitlines() if path else []
        want = [r for r in results if r["outcome"] in ("failed", "rejected")]
        if len(got) != len(want):
            fail("errors has %d records, want %d" % (len(got), len(want)))

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
