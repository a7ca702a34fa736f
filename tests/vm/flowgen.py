#!/usr/bin/env python3
"""Sends one UDP datagram per flow, from any source address, on a link.

usage: flowgen.py IFACE DST_MAC VIP VPORT FLOWS_FILE
       flowgen.py --serve IFACE DST_MAC
       flowgen.py --stream IFACE DST_MAC VIP VPORT FIRST_SRC COUNT LOG STOP
FLOWS_FILE has one "ADDR PORT" per line. Frames are built by hand on an
AF_PACKET socket, so a flow can come from any address without configuring
it; IPVS schedules each new flow (and records it in its connection table)
whether or not a real server ever answers. Prints the number sent.

With --serve it stays up and reads "VIP VPORT FLOWS_FILE" requests from
stdin, answering each with the number sent: a test that sends many batches
starts Python (slow in the emulated guest) once.

With --stream it sends COUNT flows from the consecutive source addresses
FIRST_SRC, FIRST_SRC + 1, ... (port 40000), as fast as it can, until it
has sent them all or the file STOP exists, and writes to LOG a line
"INDEX MONOTONIC_TIME" before each batch of 64 and at the end: which flows
were sent when, in the guest's CLOCK_MONOTONIC (what time.monotonic()
reads in every process), to match flows with the configuration they met.
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


def frame(src_mac, dst_mac, src, sport, dst, dport):
    payload = b"mh-flow"
    udp_len = 8 + len(payload)
    if dst.version == 4:
        udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0x4000, 64, 17, 0,
                         src.packed, dst.packed)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        return dst_mac + src_mac + b"\x08\x00" + ip + udp
    pseudo = src.packed + dst.packed + struct.pack("!I3xB", udp_len, 17)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    ip = struct.pack("!IHBB16s16s", 6 << 28, udp_len, 17, 64, src.packed, dst.packed)
    return dst_mac + src_mac + b"\x86\xdd" + ip + udp


def send(s, src_mac, dst_mac, vip, vport, flows_file):
    dst = ipaddress.ip_address(vip)
    sent = 0
    with open(flows_file) as f:
        for line in f:
            addr, port = line.split()
            s.send(frame(src_mac, dst_mac, ipaddress.ip_address(addr), int(port), dst, int(vport)))
            sent += 1
            # Pace the burst so no queue on the way drops a flow.
            if sent % 32 == 0:
                time.sleep(0.01)
    return sent


def stream(s, src_mac, dst_mac, vip, vport, first, count, log, stop):
    dst = ipaddress.ip_address(vip)
    first = ipaddress.ip_address(first)
    port = 40000
    with open(log, "w") as out:
        for i in range(int(count)):
            if i % 64 == 0:
                out.write(f"{i} {time.monotonic():.6f}\n")
                if os.path.exists(stop):
                    break
                # A breath per batch, so the receiving CPU's backlog holds.
                time.sleep(0.002)
            s.send(frame(src_mac, dst_mac, first + i, port, dst, int(vport)))
        else:
            i = int(count)
        out.write(f"{i} {time.monotonic():.6f}\n")


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
        stream(s, src_mac, dst_mac, *args[2:9])
        return
    if not serve:
        print(send(s, src_mac, dst_mac, *args[2:5]))
        return
    for request in sys.stdin:
        print(send(s, src_mac, dst_mac, *request.split()), flush=True)


main()
