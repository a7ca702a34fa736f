#!/usr/bin/env python3
"""Failover test client: long-lived TCP connections across a director change.

usage: failover_client.py VIP PORT COUNT FIRST_SOURCE_PORT

Phase 1 opens COUNT connections to VIP:PORT, one after the other, from the
fixed source ports FIRST_SOURCE_PORT + i, reads each greeting (the real
server's name), then sends one message on every connection and checks the
echo. It prints one line per connection and a line the caller waits for:

    conn <source port> <server name or ->
    ready established=<n> failed=<n> echo_ok=<n> seconds=<phase 1 time>

Then it waits for the line "go" on stdin (the caller moves traffic to the
other director meanwhile), sends a second message on every connection that
is still open, and classifies each answer:

    result <source port> <server> <ok|reset|eof|timeout|wrong-server|not-open>
    summary ok=<n> reset=<n> eof=<n> timeout=<n> wrong=<n> not_open=<n> seconds=<t>

Then it keeps every connection open until the line "close" (or the end of
stdin), so the caller can still read the directors' connection tables.
"""
import selectors
import socket
import sys
import time

CONNECT_TIMEOUT = 3.0  # seconds per connection (TCG guests are slow)
SETUP_BUDGET = 120.0  # seconds for the whole of phase 1's connects
# Seconds for all the answers of one round: the path through the director
# that went away is down until the router withdraws it (2.3 to 3.9 s of BFD
# and route updates measured under emulation), and TCP retransmits after
# 1, 3, 7, 15 s: an answer may come after 15 s and is still not lost.
ANSWER_TIMEOUT = 30.0


def say(line):
    print(line, flush=True)


def open_connections(vip, port, count, first):
    """Returns {source port: (socket or None, greeting name or "-")}."""
    conns = {}
    deadline = time.monotonic() + SETUP_BUDGET
    for i in range(count):
        sport = first + i
        sock, name = None, "-"
        if time.monotonic() < deadline:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.settimeout(CONNECT_TIMEOUT)
            try:
                s.bind(("", sport))
                s.connect((vip, port))
                greeting = b""
                while not greeting.endswith(b"\n"):
                    chunk = s.recv(256)
                    if not chunk:
                        break
                    greeting += chunk
                if greeting.endswith(b"\n") and greeting.strip():
                    sock, name = s, greeting.decode().strip()
            except OSError:
                pass
            if sock is None:
                s.close()
        conns[sport] = (sock, name)
        say(f"conn {sport} {name}")
    return conns


def exchange(conns, tag):
    """Sends "<tag> <port>" on every open connection and waits for the echo.

    Returns {source port: outcome}. A real server answers
    "<its name> <message>"; anything else from it is wrong-server.
    """
    outcome, expected, buffers = {}, {}, {}
    sel = selectors.DefaultSelector()
    for sport, (sock, name) in conns.items():
        if sock is None:
            outcome[sport] = "not-open"
            continue
        message = f"{tag} {sport}\n"
        expected[sport] = f"{name} {message}".encode()
        buffers[sport] = b""
        try:
            sock.settimeout(CONNECT_TIMEOUT)
            sock.sendall(message.encode())
        except (ConnectionResetError, BrokenPipeError):
            outcome[sport] = "reset"
            continue
        except OSError:
            outcome[sport] = "timeout"
            continue
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ, sport)
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while sel.get_map():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(left):
            sport, sock = key.data, key.fileobj
            done = None
            try:
                chunk = sock.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except ConnectionResetError:
                done = "reset"
            except OSError:
                done = "reset"
            else:
                if not chunk:
                    done = "eof"
                else:
                    buffers[sport] += chunk
                    if b"\n" in buffers[sport]:
                        line = buffers[sport].split(b"\n", 1)[0] + b"\n"
                        done = "ok" if line == expected[sport] else "wrong-server"
            if done is not None:
                outcome[sport] = done
                sel.unregister(sock)
    for key in list(sel.get_map().values()):
        outcome[key.data] = "timeout"
        sel.unregister(key.fileobj)
    sel.close()
    for sock, _ in conns.values():
        if sock is not None:
            sock.setblocking(True)
    return outcome


def wait_for(word):
    """Waits for a line equal to word on stdin; False at the end of stdin."""
    for line in sys.stdin:
        if line.strip() == word:
            return True
    return False


def main():
    vip, port, count, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    start = time.monotonic()
    conns = open_connections(vip, port, count, first)
    established = sum(1 for sock, _ in conns.values() if sock is not None)
    before = exchange(conns, "before")
    echo_ok = sum(1 for o in before.values() if o == "ok")
    say(
        f"ready established={established} failed={count - established} "
        f"echo_ok={echo_ok} seconds={time.monotonic() - start:.1f}"
    )
    if wait_for("go"):
        start = time.monotonic()
        after = exchange(conns, "after")
        counts = {k: 0 for k in ("ok", "reset", "eof", "timeout", "wrong-server", "not-open")}
        for sport in sorted(after):
            counts[after[sport]] += 1
            say(f"result {sport} {conns[sport][1]} {after[sport]}")
        say(
            f"summary ok={counts['ok']} reset={counts['reset']} eof={counts['eof']} "
            f"timeout={counts['timeout']} wrong={counts['wrong-server']} "
            f"not_open={counts['not-open']} seconds={time.monotonic() - start:.1f}"
        )
        wait_for("close")
    for sock, _ in conns.values():
        if sock is not None:
            sock.close()


if __name__ == "__main__":
    main()
