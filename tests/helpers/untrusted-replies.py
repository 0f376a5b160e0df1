#!/usr/bin/env python3
"""Write the NFSv4.0 replies that tests/bats/untrusted.bats replays with
fakesrv: a server whose fs_locations name a command substitution, backticks,
a space and an escape sequence, next to two good names.

Ganesha sends fs_locations only for an absent file system (a referral),
which `register` refuses; this is the root of a present one, as knfsd
answers with replicas=.  Run from the top of the tree:

    tests/helpers/untrusted-replies.py

It writes tests/fixtures/wire/v40-register-untrusted-{root,entry}.hex: the
answers to register's two COMPOUNDs (the root; an entry of the root)."""
import struct

OUT = "tests/fixtures/wire/v40-register-untrusted-%s.hex"


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def opaque(b):
    return u32(len(b)) + b + b"\0" * (-len(b) % 4)


def pathname(comps):
    return u32(len(comps)) + b"".join(opaque(c) for c in comps)


def fattr(attrs):
    """attrs: {bit: encoded value}; in bit order."""
    words = [0, 0]
    for bit in attrs:
        words[bit // 32] |= 1 << (bit % 32)
    vals = b"".join(attrs[b] for b in sorted(attrs))
    return u32(2) + u32(words[0]) + u32(words[1]) + opaque(vals)


def reply(results):
    body = u32(0) + u32(1)  # xid (fakesrv sets it), REPLY
    body += u32(0) + u32(0) + u32(0) + u32(0)  # MSG_ACCEPTED, AUTH_NONE, SUCCESS
    body += u32(0) + opaque(b"") + u32(len(results))  # NFS4_OK, tag, resarray
    for op, res in results:
        body += u32(op) + u32(0) + res
    return u32(0x80000000 | len(body)) + body


OP_GETATTR, OP_GETFH, OP_LOOKUP, OP_PUTROOTFH = 9, 10, 15, 24
FSID, FH_EXPIRE, RDATTR_ERROR, FILEID, FS_LOCATIONS = 8, 10, 11, 20, 24

SERVERS = [
    b"$(touch /tmp/nfsmig-ran-subst)",
    b"`touch /tmp/nfsmig-ran-backtick`",
    b"two words",
    b"\x1b[31mred\x1b[0m",
    b"srv5.nfsmig.test",
    b"2001:db8::15",
]
locations = u32(len(SERVERS))
for s in SERVERS:
    locations += u32(1) + opaque(s) + pathname([b"export", b"\x1b[32mgreen"])
fs_locations = pathname([b"export"]) + locations

fsid = u64(0x1234) + u64(0x5678)
root = reply([
    (OP_PUTROOTFH, b""),
    (OP_GETFH, opaque(bytes(range(1, 17)))),
    (OP_GETATTR, fattr({FSID: fsid, FH_EXPIRE: u32(0), RDATTR_ERROR: u32(0),
                        FILEID: u64(2), FS_LOCATIONS: fs_locations})),
])
entry = reply([
    (OP_PUTROOTFH, b""),
    (OP_GETATTR, fattr({FSID: fsid, RDATTR_ERROR: u32(0)})),
    (OP_LOOKUP, b""),
    (OP_GETFH, opaque(bytes(range(17, 33)))),
    (OP_GETATTR, fattr({FSID: fsid, FH_EXPIRE: u32(0), RDATTR_ERROR: u32(0),
                        FILEID: u64(3)})),
])
for name, rec in (("root", root), ("entry", entry)):
    h = rec.hex()
    with open(OUT % name, "w") as f:
        f.write("".join(h[i:i + 64] + "\n" for i in range(0, len(h), 64)))
