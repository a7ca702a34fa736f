#!/usr/bin/env python3
"""Sends one packet per flow, from any source address, on a link: a UDP
datagram, a TCP SYN or an SCTP INIT (what makes IPVS schedule a new
connection of each protocol).

usage: flowgen.py IFACE DST_MAC VIP VPORT FLOWS_FILE [PROTO]
       flowgen.py --serve IFACE DST_MAC [BARRIER]
       flowgen.py --stream IFACE DST_MAC VIP VPORT FIRST_SRC COUNT LOG STOP [BARRIER]
FLOWS_FILE has one "ADDR PORT" per line; PROTO is udp (the default), tcp or
sctp. Frames are built by hand on an AF_PACKET socket, so a flow can come
from any address without configuring it; IPVS schedules each new flow (and
records it in its connection table) whether or not a real server ever
answers. Prints the number sent.

With --serve it stays up and reads "VIP VPORT FLOWS_FILE [PROTO]" requests
from stdin, answering each with the number sent: a test that sends many
batches starts Python (slow in the emulated guest) once. With BARRIER (the
director's IPv4 address) it answers only once the director has answered an
ICMP echo sent after the batch from the same CPU: the frames queue on that
CPU in order, so the director has processed those of the batch that reached
it, and its connection table can be read. (A flow still missing then is
sent again by the scenarios: mhlab.Lab.schedule counts them.)

With --stream it sends COUNT flows from the consecutive source addresses
FIRST_SRC, FIRST_SRC + 1, ... (port 40000), as fast as it can, until it
has sent them all or the file STOP exists, and writes to LOG a line
"INDEX MONOTONIC_TIME" before each batch of 64 and at the end: which flows
were sent when, in the guest's CLOCK_MONOTONIC (what time.monotonic()
reads in every process), to match flows with the configuration they met.
With BARRIER ("ADDR:PORT" of a UDP echo server on the director) the time
after a batch is taken once a datagram sent through the same queue came
back: the batch's flows have been scheduled by then.
"""
import ipaddress
import os
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


# CRC32c (Castagnoli), the SCTP checksum, reflected.
CRC32C = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    CRC32C.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def transport(proto, src, sport, dst, dport):
    """The transport header and payload of a flow's first packet, with its
    checksum (IPVS checks the TCP and SCTP ones when it rewrites them)."""
    if proto == "sctp":
        # INIT: initiate tag, a_rwnd, 1 stream each way, initial TSN.
        chunk = struct.pack("!BBHIIHHI", 1, 0, 20, 0x1234567, 65535, 1, 1, 1)
        hdr = struct.pack("!HHII", sport, dport, 0, 0) + chunk
        return 132, hdr[:8] + struct.pack("<I", crc32c(hdr)) + hdr[12:]
    if proto == "tcp":
        # SYN, no options.
        seg = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
        number = 6
    else:
        seg = struct.pack("!HHHH", sport, dport, 8 + 7, 0) + b"mh-flow"
        number = 17
    if dst.version == 4:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, number, len(seg))
    else:
        pseudo = src.packed + dst.packed + struct.pack("!I3xB", len(seg), number)
    csum = checksum(pseudo + seg)
    if proto == "udp" and csum == 0:
        # 0 means "no checksum" in UDP (and is not allowed over IPv6).
        csum = 0xFFFF
    at = 16 if proto == "tcp" else 6
    return number, seg[:at] + struct.pack("!H", csum) + seg[at + 2:]


def frame(src_mac, dst_mac, src, sport, dst, dport, proto="udp"):
    number, seg = transport(proto, src, sport, dst, dport)
    if dst.version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 0, 0x4000, 64, number, 0,
                         src.packed, dst.packed)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        return dst_mac + src_mac + b"\x08\x00" + ip + seg
    ip = struct.pack("!IHBB16s16s", 6 << 28, len(seg), number, 64, src.packed, dst.packed)
    return dst_mac + src_mac + b"\x86\xdd" + ip + seg


def send(s, src_mac, dst_mac, vip, vport, flows_file, proto="udp"):
    dst = ipaddress.ip_address(vip)
    sent = 0
    with open(flows_file) as f:
        for line in f:
            addr, port = line.split()
            s.send(frame(src_mac, dst_mac, ipaddress.ip_address(addr), int(port), dst, int(vport),
                         proto))
            sent += 1
            # Pace the burst so no queue on the way drops a flow.
            if sent % 32 == 0:
                time.sleep(0.01)
    return sent


def ping(sock, addr, seq):
    """Sends an ICMP echo to `addr` on the raw socket `sock` and waits for
    its answer (ValueError after 10 s without one)."""
    ident = os.getpid() & 0xFFFF
    request = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"barrier"
    request = request[:2] + struct.pack("!H", checksum(request)) + request[4:]
    sock.sendto(request, (addr, 0))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            packet = sock.recv(1500)
        except socket.timeout:
            break
        header = (packet[0] & 0x0F) * 4
        kind, _, _, got_ident, got_seq = struct.unpack("!BBHHH", packet[header:header + 8])
        if kind == 0 and (got_ident, got_seq) == (ident, seq):
            return
    raise ValueError(f"no answer from {addr} to the barrier's echo {seq}")


def stream(s, src_mac, dst_mac, vip, vport, first, count, log, stop, barrier=None):
    dst = ipaddress.ip_address(vip)
    first = ipaddress.ip_address(first)
    port = 40000
    echo = None
    if barrier:
        addr, bport = barrier.rsplit(":", 1)
        echo = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
        echo.settimeout(10)
        echo.connect((addr.strip("[]"), int(bport)))

    def mark(i):
        if echo is not None and i:
            # The echo goes through the same queue as the batch, after it.
            echo.send(b"barrier")
            echo.recv(64)
        out.write(f"{i} {time.monotonic():.6f}\n")

    with open(log, "w") as out:
        for i in range(int(count)):
            if i % 64 == 0:
                mark(i)
                if os.path.exists(stop):
                    break
                # A breath per batch, so the receiving CPU's backlog holds.
                time.sleep(0.002)
            s.send(frame(src_mac, dst_mac, first + i, port, dst, int(vport)))
        else:
            i = int(count)
        mark(i)


def main():
    serve = sys.argv[1:2] == ["--serve"]
    streaming = sys.argv[1:2] == ["--stream"]
    args = sys.argv[2:] if serve or streaming else sys.argv[1:]
    iface, dst_mac = args[0], bytes.fromhex(args[1].replace(":", ""))
    with open(f"/sys/class/net/{iface}/address") as f:
        src_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    if streaming:
        stream(s, src_mac, dst_mac, *args[2:10])
        return
    if not serve:
        print(send(s, src_mac, dst_mac, *args[2:5]))
        return
    barrier = args[2] if len(args) > 2 else None
    if barrier:
        # One CPU sends every frame and the echo, so they share a queue.
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    for seq, request in enumerate(sys.stdin):
        sent = send(s, src_mac, dst_mac, *request.split())
        if barrier:
            ping(icmp, barrier, seq & 0xFFFF)
        print(sent, flush=True)


main()
