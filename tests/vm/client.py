#!/usr/bin/env python3
"""Test client: opens short TCP connections and reports which server answered.

usage: client.py VIP PORT COUNT [FIRST_SOURCE_PORT]
Prints "<source port> <server name>" per connection; "refused" when the
director refused it (reset: no destination), "lost" when the connection
opened but no name came back (IPVS drops the packets of a connection whose
real server was deleted), "-" for any other failure.
Source ports are fixed (FIRST_SOURCE_PORT + i) so runs can be compared.
"""
import socket
import struct
import sys

vip, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
first = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
family = socket.AF_INET6 if ":" in vip else socket.AF_INET
for i in range(count):
    sport = first + i
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Close with a reset: no TIME_WAIT, so the same source port can open a
    # new flow (and IPVS schedules it afresh) in the next phase of a test.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.settimeout(2)
    name = "-"
    try:
        s.bind(("", sport))
        s.connect((vip, port))
        # Connected: from here on, a failure means the answer was lost.
        name = "lost"
        name = s.makefile().readline().strip() or name
    except ConnectionRefusedError:
        name = "refused"
    except OSError:
        pass
    finally:
        s.close()
    print(sport, name, flush=True)
