#!/usr/bin/env python3
"""Write the replies that tests/bats/lease.bats replays with fakesrv: a
server whose lease says NFS4ERR_LEASE_MOVED (no server in the lab sends it:
knfsd and Ganesha never do), then answers the probe of each file system
with its saved root handle.  Run from the top of the tree:

    tests/helpers/lease-replies.py

It writes tests/fixtures/wire/v40-lease-*.hex and v41-lease-*.hex:

  v40-lease-setclientid          SETCLIENTID: NFS4_OK, a client id
  v40-lease-setclientid-confirm  SETCLIENTID_CONFIRM: NFS4_OK
  v40-lease-renew-moved          RENEW: NFS4ERR_LEASE_MOVED
  v40-lease-renew-ok             RENEW: NFS4_OK
  v40-lease-renew-expired        RENEW: NFS4ERR_EXPIRED (says nothing)
  v40-lease-probe-moved          PUTFH OK, GETATTR NFS4ERR_MOVED (the
                                 COMPOUND stops at the first record)
  v40-lease-probe-here           PUTFH OK, GETATTR OK: fsid 1:1, rdattr_error OK
  v40-lease-probe-here-moved     PUTFH OK, GETATTR OK fsid 1:2 (the second record
                                 here), then PUTFH OK, GETATTR NFS4ERR_MOVED (the third)
  v40-lease-probe-absent         PUTFH OK, GETATTR OK with rdattr_error
                                 NFS4ERR_MOVED and fs_locations server-b:/d
  v40-lease-probe-putfh-stale    PUTFH NFS4ERR_STALE
  v41-lease-sequence-moved       SEQUENCE: NFS4_OK, SEQ4_STATUS_LEASE_MOVED
  v41-lease-sequence-none        SEQUENCE: NFS4_OK, no flags
  v41-lease-probe-moved          SEQUENCE, then as v40-lease-probe-moved
  v41-lease-probe-here           SEQUENCE, then as v40-lease-probe-here

The 4.1 ones follow tests/fixtures/wire/v41-exchange-id.hex and
v41-create-session.hex (the client does not compare session ids)."""
import struct

OUT = "tests/fixtures/wire/%s.hex"

OP_GETATTR, OP_PUTFH, OP_RENEW = 9, 22, 30
OP_SETCLIENTID, OP_SETCLIENTID_CONFIRM, OP_SEQUENCE = 35, 36, 53
NFS4_OK, NFS4ERR_STALE, NFS4ERR_MOVED = 0, 70, 10019
NFS4ERR_EXPIRED, NFS4ERR_LEASE_MOVED = 10011, 10031
FSID, RDATTR_ERROR, FS_LOCATIONS = 8, 11, 24
SEQ4_STATUS_LEASE_MOVED = 0x80


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
    """results: [(op, status, body)]; the COMPOUND's status is the last's."""
    status = results[-1][1] if results else NFS4_OK
    body = u32(0) + u32(1)  # xid (fakesrv sets it), REPLY
    body += u32(0) + u32(0) + u32(0) + u32(0)  # MSG_ACCEPTED, AUTH_NONE, SUCCESS
    body += u32(status) + opaque(b"") + u32(len(results))
    for op, st, res in results:
        body += u32(op) + u32(st) + res
    return u32(0x80000000 | len(body)) + body


def sequence(flags):
    return (OP_SEQUENCE, NFS4_OK, b"\x11" * 16 + u32(1) + u32(0) + u32(0) + u32(0) + u32(flags))


def getattr_ok(attrs):
    return (OP_GETATTR, NFS4_OK, fattr(attrs))


def fsid(major, minor):
    return u64(major) + u64(minor)


PUTFH_OK = (OP_PUTFH, NFS4_OK, b"")
MOVED = [PUTFH_OK, (OP_GETATTR, NFS4ERR_MOVED, b"")]
HERE = [PUTFH_OK, getattr_ok({FSID: fsid(1, 1), RDATTR_ERROR: u32(0)})]
locations = u32(1) + u32(1) + opaque(b"server-b") + pathname([b"d"])

replies = {
    "v40-lease-setclientid": [(OP_SETCLIENTID, NFS4_OK, u64(0x5eed0000c11e0001) + b"confirm!")],
    "v40-lease-setclientid-confirm": [(OP_SETCLIENTID_CONFIRM, NFS4_OK, b"")],
    "v40-lease-renew-moved": [(OP_RENEW, NFS4ERR_LEASE_MOVED, b"")],
    "v40-lease-renew-ok": [(OP_RENEW, NFS4_OK, b"")],
    "v40-lease-renew-expired": [(OP_RENEW, NFS4ERR_EXPIRED, b"")],
    "v40-lease-probe-moved": MOVED,
    "v40-lease-probe-here": HERE,
    "v40-lease-probe-here-moved": [PUTFH_OK, getattr_ok({FSID: fsid(1, 2)})] + MOVED,
    "v40-lease-probe-absent": [PUTFH_OK, getattr_ok({
        FSID: fsid(1, 3), RDATTR_ERROR: u32(NFS4ERR_MOVED),
        FS_LOCATIONS: pathname([b"d"]) + locations})],
    "v40-lease-probe-putfh-stale": [(OP_PUTFH, NFS4ERR_STALE, b"")],
    "v41-lease-sequence-moved": [sequence(SEQ4_STATUS_LEASE_MOVED)],
    "v41-lease-sequence-none": [sequence(0)],
    "v41-lease-probe-moved": [sequence(SEQ4_STATUS_LEASE_MOVED)] + MOVED,
    "v41-lease-probe-here": [sequence(SEQ4_STATUS_LEASE_MOVED)] + HERE,
}

for name, results in replies.items():
    h = reply(results).hex()
    with open(OUT % name, "w") as f:
        f.write("".join(h[i:i + 64] + "\n" for i in range(0, len(h), 64)))
