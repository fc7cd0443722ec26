#!/usr/bin/env python3
"""tls_server.py MODE PORT_FILE COUNT_FILE [CERT KEY]: a loopback responder
for tests/cli/test_tls.sh.

  https  answers POST /Calling with 201 over TLS (CERT, KEY)
  proxy  a plain-HTTP forward proxy stand-in: answers 201 to requests whose
         target is an absolute http:// URL (what a client sends to a proxy)
         and 400 to anything else

It listens on 127.0.0.1:0, writes its port to PORT_FILE, and after every
answered request rewrites COUNT_FILE with the number of 201s and the last
request target."""
import http.server
import socketserver
import ssl
import sys
import threading

mode, port_file, count_file = sys.argv[1:4]
lock = threading.Lock()
state = {"n": 0, "last": ""}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        ok = self.path.startswith("http://") if mode == "proxy" \
            else self.path.startswith("/Calling")
        self.send_response(201 if ok else 400)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if ok:
            with lock:
                state["n"] += 1
                state["last"] = self.path
                with open(count_file, "w") as f:
                    f.write("%d %s\n" % (state["n"], state["last"]))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
if mode == "https":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
