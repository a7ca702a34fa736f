#!/usr/bin/env python3
"""A real server for the tests: answers every TCP connection with its name."""
import socket
import sys
import threading

name, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if len(sys.argv) > 3 and sys.argv[3] == "6" else socket.AF_INET
srv = socket.socket(family, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
srv.listen(512)


def serve(conn):
    with conn:
        try:
            conn.sendall(name.encode() + b"\n")
            # Long-lived connections echo until the client closes.
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                conn.sendall(name.encode() + b" " + data)
        except OSError:
            pass


while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
