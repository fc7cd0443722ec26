#!/usr/bin/env python3
"""h2_server.py PORT_FILE STATS_FILE CERT KEY: an HTTP/2-only responder
over TLS (ALPN "h2", python3-h2) for tests/cli/test_tls.sh. Answers every
request with 201, 20 ms late, and keeps STATS_FILE at "<connections> <streams>
<max streams open at once on one connection>"."""
import asyncio
import os
import ssl
import sys

import h2.config
import h2.connection
import h2.events

port_file, stats_file, cert, key = sys.argv[1:5]
stats = {"conns": 0, "streams": 0, "max_open": 0}


def save():
    with open(stats_file + ".tmp", "w") as f:
        f.write("%d %d %d\n" % (stats["conns"], stats["streams"], stats["max_open"]))
    os.rename(stats_file + ".tmp", stats_file)


async def serve(reader, writer):
    stats["conns"] += 1
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    writer.write(conn.data_to_send())
    open_streams = set()

    async def answer(stream_id):
        # answers 20 ms late, so that streams overlap on the connection
        await asyncio.sleep(0.02)
        conn.send_headers(stream_id, [(":status", "201"), ("content-length", "0")],
                          end_stream=True)
        open_streams.discard(stream_id)
        stats["streams"] += 1
        save()
        writer.write(conn.data_to_send())

    while True:
        data = await reader.read(65536)
        if not data:
            break
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.RequestReceived):
                open_streams.add(ev.stream_id)
                stats["max_open"] = max(stats["max_open"], len(open_streams))
            elif isinstance(ev, h2.events.DataReceived):
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            if isinstance(ev, h2.events.StreamEnded):
                asyncio.ensure_future(answer(ev.stream_id))
        writer.write(conn.data_to_send())
        await writer.drain()
    writer.close()


async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["h2"])
    srv = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=ctx)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.sockets[0].getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    await srv.serve_forever()

asyncio.run(main())
