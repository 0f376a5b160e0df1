#!/usr/bin/env python3
"""Write the replies that tests/bats/lease.bats replays with fakesrv: a
server whose lease says NFS4ERR_LEASE_MOVED (no server in the lab sends it:
knfsd and Ganesha never do), then answers the probe of each file system
with its saved root handle.  Run from the top of the tree:

    tests/helpers/lease-replies.py

or, for what SETCLIENTID must send (its owner and callback netid and
address; the verifier any), printed:

    tests/helpers/lease-replies.py setclientid-call OWNER NETID ADDR

It writes tests/fixtures/wire/v40-lease-*.hex and v41-lease-*.hex:

  v40-lease-setclientid          SETCLIENTID: NFS4_OK, a client id
  v40-lease-setclientid-confirm  SETCLIENTID_CONFIRM: NFS4_OK
  v40-lease-setclientid-delay    SETCLIENTID: NFS4ERR_DELAY
  v40-lease-renew-moved          RENEW: NFS4ERR_LEASE_MOVED
  v40-lease-renew-ok             RENEW: NFS4_OK
  v40-lease-renew-expired        RENEW: NFS4ERR_EXPIRED (says nothing)
The probe asks PUTFH + GETFH + GETATTR(fsid) per record.  knfsd answers
GETFH of a migrated file system NFS4ERR_MOVED (nfsd4_proc_compound: GETFH
is not ALLOWED_ON_ABSENT_FS), and stops the COMPOUND there; it would have
answered GETATTR of fsid NFS4_OK with the referral fsid
0x8000000:0x8000000 (fattr_handle_absent_fs).  fs_locations are asked in
a second COMPOUND, PUTFH + GETATTR(fs_locations) per moved record,
which knfsd answers NFS4_OK on an absent file system.

  v40-lease-probe-moved          PUTFH OK, GETFH NFS4ERR_MOVED (the
                                 COMPOUND stops at the first record)
  v40-lease-probe-here           PUTFH OK, GETFH OK, GETATTR OK: fsid 1:1
  v40-lease-probe-here-moved     PUTFH, GETFH, GETATTR OK fsid 1:2 (the second
                                 record here), then PUTFH OK, GETFH
                                 NFS4ERR_MOVED (the third)
  v40-lease-probe-referral       PUTFH OK, GETFH OK, GETATTR OK with the
                                 referral fsid (a server that lets GETFH
                                 through: still not "here")
  v40-lease-locations-one        PUTFH OK, GETATTR OK fs_locations server-b:/d
  v40-lease-locations-two        the same for two records (server-b:/d, server-c:/d)
  v40-lease-probe-putfh-stale    PUTFH NFS4ERR_STALE
  v41-lease-sequence-moved       SEQUENCE: NFS4_OK, SEQ4_STATUS_LEASE_MOVED
  v41-lease-sequence-none        SEQUENCE: NFS4_OK, no flags
  v41-lease-probe-moved          SEQUENCE, then as v40-lease-probe-moved
  v41-lease-probe-here           SEQUENCE, then as v40-lease-probe-here
  v41-lease-locations-one        SEQUENCE, then as v40-lease-locations-one

The 4.1 ones follow tests/fixtures/wire/v41-exchange-id.hex and
v41-create-session.hex (the client does not compare session ids).

It also writes what the client must send, for fakesrv's expect mode
(tests/fixtures/wire/lease-call-*.call: a COMPOUND's arguments after the
RPC header, ".." any byte, a last "*" anything after):

  (SETCLIENTID's: printed by setclientid-call, its owner being the host's)
  lease-call-confirm             SETCLIENTID_CONFIRM of the client id and
                                 verifier v40-lease-setclientid gave
  lease-call-renew               RENEW of that client id
  lease-call-probe-a, -abc, -bc, -ab, -b, -c
                                 the probe of those records of lease.bats
                                 (handles 01000100aa, bb, cc): PUTFH, GETFH,
                                 GETATTR of fsid only
  lease-call-locations-a, -ac, -c
                                 PUTFH + GETATTR of fs_locations only
  lease-call-sequence            4.1: SEQUENCE alone (session and slot: any)
  lease-call-v41-probe-ab, -b    4.1: SEQUENCE, then the probe of a and b, b
  lease-call-v41-locations-a     4.1: SEQUENCE, then fs_locations of a"""
import struct
import sys

OUT = "tests/fixtures/wire/%s.hex"
CALL = "tests/fixtures/wire/%s.call"

OP_GETATTR, OP_GETFH, OP_PUTFH, OP_RENEW = 9, 10, 22, 30
OP_SETCLIENTID, OP_SETCLIENTID_CONFIRM, OP_SEQUENCE = 35, 36, 53
NFS4_OK, NFS4ERR_STALE, NFS4ERR_MOVED = 0, 70, 10019
NFS4ERR_EXPIRED, NFS4ERR_LEASE_MOVED, NFS4ERR_DELAY = 10011, 10031, 10008
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


def getfh_ok(fh):
    return (OP_GETFH, NFS4_OK, opaque(fh))


REFERRAL = 0x8000000
FH_A, FH_B, FH_C = (bytes.fromhex("01000100" + x) for x in ("aa", "bb", "cc"))
PUTFH_OK = (OP_PUTFH, NFS4_OK, b"")
MOVED = [PUTFH_OK, (OP_GETFH, NFS4ERR_MOVED, b"")]
HERE = [PUTFH_OK, getfh_ok(FH_B), getattr_ok({FSID: fsid(1, 1)})]


def locations(server):
    return {FS_LOCATIONS: pathname([b"d"]) + u32(1) + u32(1) + opaque(server) +
            pathname([b"d"])}


replies = {
    "v40-lease-setclientid": [(OP_SETCLIENTID, NFS4_OK, u64(0x5eed0000c11e0001) + b"confirm!")],
    "v40-lease-setclientid-confirm": [(OP_SETCLIENTID_CONFIRM, NFS4_OK, b"")],
    "v40-lease-setclientid-delay": [(OP_SETCLIENTID, NFS4ERR_DELAY, b"")],
    "v40-lease-renew-moved": [(OP_RENEW, NFS4ERR_LEASE_MOVED, b"")],
    "v40-lease-renew-ok": [(OP_RENEW, NFS4_OK, b"")],
    "v40-lease-renew-expired": [(OP_RENEW, NFS4ERR_EXPIRED, b"")],
    "v40-lease-probe-moved": MOVED,
    "v40-lease-probe-here": HERE,
    "v40-lease-probe-here-moved": [PUTFH_OK, getfh_ok(FH_B),
                                   getattr_ok({FSID: fsid(1, 2)})] + MOVED,
    "v40-lease-probe-referral": [PUTFH_OK, getfh_ok(FH_C),
                                 getattr_ok({FSID: fsid(REFERRAL, REFERRAL)})],
    "v40-lease-locations-one": [PUTFH_OK, getattr_ok(locations(b"server-b"))],
    "v40-lease-locations-two": [PUTFH_OK, getattr_ok(locations(b"server-b")),
                                PUTFH_OK, getattr_ok(locations(b"server-c"))],
    "v40-lease-probe-putfh-stale": [(OP_PUTFH, NFS4ERR_STALE, b"")],
    "v41-lease-sequence-moved": [sequence(SEQ4_STATUS_LEASE_MOVED)],
    "v41-lease-sequence-none": [sequence(0)],
    "v41-lease-probe-moved": [sequence(SEQ4_STATUS_LEASE_MOVED)] + MOVED,
    "v41-lease-probe-here": [sequence(SEQ4_STATUS_LEASE_MOVED)] + HERE,
    "v41-lease-locations-one": [sequence(0), PUTFH_OK, getattr_ok(locations(b"server-b"))],
}



def write(name, h, out=OUT):
    with open(out % name, "w") as f:
        f.write("".join(h[i:i + 64] + "\n" for i in range(0, len(h), 64)))


if len(sys.argv) == 5 and sys.argv[1] == "setclientid-call":
    owner, netid, addr = (a.encode() for a in sys.argv[2:])
    print(opaque(b"").hex() + u32(0).hex() + u32(1).hex() + u32(OP_SETCLIENTID).hex() +
          ".." * 8 + (opaque(owner) + u32(0x40000000) + opaque(netid) + opaque(addr) +
                      u32(1)).hex())
    sys.exit(0)

for name, results in replies.items():
    write(name, reply(results).hex())

# What the client sends: COMPOUND4args (tag, minor version, operations).
ANY = object()


def call(minor, ops):
    """ops: [bytes or ANY (n bytes of anything, as (ANY, n))]"""
    out = opaque(b"").hex() + u32(minor).hex() + u32(len(ops)).hex()
    for op in ops:
        for part in op:
            out += ".." * part[1] if isinstance(part, tuple) else part.hex()
    return out


def bitmap(*bits):
    words = [0, 0]
    for bit in bits:
        words[bit // 32] |= 1 << (bit % 32)
    while words and words[-1] == 0:
        words.pop()
    return u32(len(words)) + b"".join(u32(w) for w in words)


def probe_ops(fh):
    return [[u32(OP_PUTFH), opaque(fh)], [u32(OP_GETFH)], [u32(OP_GETATTR), bitmap(FSID)]]


def locations_ops(fh):
    return [[u32(OP_PUTFH), opaque(fh)], [u32(OP_GETATTR), bitmap(FS_LOCATIONS)]]


CLIENTID = u64(0x5eed0000c11e0001)
FHS = {"a": FH_A, "b": FH_B, "c": FH_C}
SEQUENCE = [u32(OP_SEQUENCE), (ANY, 16 + 4 * 4)]
calls = {
    "lease-call-confirm": call(0, [[u32(OP_SETCLIENTID_CONFIRM), CLIENTID, b"confirm!"]]),
    "lease-call-renew": call(0, [[u32(OP_RENEW), CLIENTID]]),
    "lease-call-sequence": call(1, [SEQUENCE]),
    "lease-call-v41-probe-ab": call(1, [SEQUENCE] + probe_ops(FH_A) + probe_ops(FH_B)),
    "lease-call-v41-probe-b": call(1, [SEQUENCE] + probe_ops(FH_B)),
    "lease-call-v41-locations-a": call(1, [SEQUENCE] + locations_ops(FH_A)),
}
for names in ("a", "abc", "bc", "ab", "b", "c"):
    calls["lease-call-probe-" + names] = call(0, sum((probe_ops(FHS[x]) for x in names), []))
for names in ("a", "ac", "c"):
    calls["lease-call-locations-" + names] = call(
        0, sum((locations_ops(FHS[x]) for x in names), []))
for name, h in calls.items():
    write(name, h, CALL)
