#!/usr/bin/env python3
"""Captures sock_diag replies from the running kernel, for wire's round-trip tests.

Run as root; it makes its own network namespace (unshare), builds sockets there and writes
each family's dump replies, the datagrams end to end as the kernel sent them, to
`<family>.bin` in the directory given (default: this script's).

    sudo python3 tests/data/captures/capture.py
"""
import ctypes
import os
import socket
import struct
import sys

CLONE_NEWNET = 0x40000000
NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_DONE, NLMSG_ERROR = 3, 2
IPPROTO_MPTCP = 262


def unshare_net():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        sys.exit(f"unshare: {os.strerror(ctypes.get_errno())}")
    os.system("ip link set lo up")


def dump(payload, attrs=b""):
    body = payload + attrs
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    nl.send(struct.pack("=IHHII", 16 + len(body), SOCK_DIAG_BY_FAMILY,
                        NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + body)
    out = b""
    for _ in range(10000):
        data = nl.recv(1 << 20)
        out += data
        offset, done = 0, False
        while offset < len(data):
            length, kind = struct.unpack_from("=IH", data, offset)
            if kind in (NLMSG_DONE, NLMSG_ERROR):
                done = True
            offset += (length + 3) & ~3
        if done:
            return out
    sys.exit("no end to the dump")


def inet_req(family, protocol, ext=0xff, states=0xffffffff):
    return struct.pack("=BBBBI", family, protocol, ext, 0, states) + bytes(48)


def other_req(family, protocol, show, states=0xffffffff):
    if family == socket.AF_UNIX:
        return struct.pack("=BBHIIIII", family, protocol, 0, states, 0, show, 0xffffffff, 0xffffffff)
    return struct.pack("=BBHIIII", family, protocol, 0, 0, show, 0xffffffff, 0xffffffff)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    unshare_net()
    keep = []
    # TCP: a listener, a connection with data both ways (tcp_info), one end with bbr, a mark,
    # a TOS, one direction shut down; IPv6 with a traffic class.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 47100))
    listener.listen(8)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 0x2a)
    client.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0x10)
    try:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"bbr")
    except OSError:
        pass
    client.connect(("127.0.0.1", 47100))
    server, _ = listener.accept()
    client.sendall(b"x" * 5000)
    server.recv(100)
    server.sendall(b"y" * 3000)
    server.shutdown(socket.SHUT_WR)
    six = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    six.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    six.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, 0x20)
    six.bind(("::1", 47101))
    six.listen(1)
    keep += [listener, client, server, six]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 47102))
    keep.append(udp)
    # Unix: a named listener with a connection waiting (icons), an abstract pair, shut down.
    path = os.path.join("/tmp", f"sockscope-capture-{os.getpid()}.sock")
    ul = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ul.bind(path)
    ul.listen(4)
    waiting = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    waiting.connect(path)
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    a.shutdown(socket.SHUT_RD)
    ab = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ab.bind(b"\0sockscope-capture")
    keep += [ul, waiting, a, b, ab]
    # Packet: a raw socket with a fanout group and a BPF filter.
    pk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    pk.bind(("lo", 0))
    prog = [(0x28, 0, 0, 12), (0x06, 0, 0, 0xffff)]
    insns = b"".join(struct.pack("=HBBI", *i) for i in prog)
    buf = ctypes.create_string_buffer(insns)
    fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
    pk.setsockopt(socket.SOL_SOCKET, 26, fprog)  # SO_ATTACH_FILTER
    PACKET_FANOUT = 18
    pk.setsockopt(263, PACKET_FANOUT, 7 | (2 << 16))  # SOL_PACKET, id 7, PACKET_FANOUT_CPU
    pd = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    keep += [pk, pd, buf]
    # Netlink: a route socket in groups 1 and 3.
    rt = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    rt.bind((0, 0b101))
    keep.append(rt)
    # MPTCP, if this kernel has it.
    mptcp = []
    try:
        ml = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        ml.bind(("127.0.0.1", 47103))
        ml.listen(2)
        mc = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        mc.connect(("127.0.0.1", 47103))
        ms, _ = ml.accept()
        mc.sendall(b"z" * 1000)
        ms.recv(1000)
        mptcp = [ml, mc, ms]
    except OSError as e:
        print(f"no MPTCP here ({e}); mptcp.bin not written", file=sys.stderr)
    keep += mptcp

    captures = {
        "inet_tcp": dump(inet_req(socket.AF_INET, socket.IPPROTO_TCP)),
        "inet6_tcp": dump(inet_req(socket.AF_INET6, socket.IPPROTO_TCP)),
        "inet_udp": dump(inet_req(socket.AF_INET, socket.IPPROTO_UDP)),
        "unix": dump(other_req(socket.AF_UNIX, 0, 0xff)),
        "packet": dump(other_req(socket.AF_PACKET, 0, 0x3f)),
        "netlink": dump(other_req(socket.AF_NETLINK, 255, 0x0f)),
    }
    if mptcp:
        # The protocol does not fit the header's byte: INET_DIAG_REQ_PROTOCOL carries it.
        attr = struct.pack("=HHI", 8, 3, IPPROTO_MPTCP)
        captures["mptcp"] = dump(inet_req(socket.AF_INET, 0), attr)
    for name, data in captures.items():
        with open(os.path.join(out_dir, f"{name}.bin"), "wb") as f:
            f.write(data)
        print(f"{name}.bin: {len(data)} bytes")
    os.unlink(path)


main()
