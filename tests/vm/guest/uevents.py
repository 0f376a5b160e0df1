#!/usr/bin/env python3
"""Print the kernel's uevents (NETLINK_KOBJECT_UEVENT, no udevd needed) of
one subsystem as they come, one line each: ACTION DEVPATH [KEY=VALUE...],
flushed at once.  Used inside nfsvm's VM by tests/vm/scenarios; the
fields are the kernel's own, printed with non-printable bytes escaped.

    uevents.py SUBSYSTEM"""
import socket
import sys

NETLINK_KOBJECT_UEVENT = 15
want = sys.argv[1].encode() if len(sys.argv) > 1 else None
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind((0, 1))  # the kernel's multicast group
print("listening", flush=True)
while True:
    msg = s.recv(65536)
    parts = msg.split(b"\0")
    env = {}
    for p in parts[1:]:
        k, sep, v = p.partition(b"=")
        if sep:
            env[k] = v
    if want is not None and env.get(b"SUBSYSTEM") != want:
        continue
    rest = [k + b"=" + v for k, v in env.items() if k not in (b"ACTION", b"DEVPATH")]
    line = b" ".join([env.get(b"ACTION", b"?"), env.get(b"DEVPATH", b"?")] + rest)
    print(line.decode("ascii", "backslashreplace"), flush=True)
