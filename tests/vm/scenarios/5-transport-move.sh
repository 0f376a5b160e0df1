#!/bin/bash
# Scenario 5: a transport move.  When the kernel has the sunrpc sysfs
# (xprt-switches/*/xprt-*/dstaddr writable), a mount can be moved between
# two addresses of the same server by writing the new address there: the
# mechanism the later `nfsmig migrate` command builds on.
. ./lib.sh

M=/mnt/m
servers_up || finish
mkdir -p $M
check "mount server-a:/d (vers=4.1) at 192.0.2.2" \
	mount -t nfs4 -o vers=4.1,timeo=50,retrans=3 192.0.2.2:/d $M || finish
setup_done

x=$(grep -l '^192\.0\.2\.2$' /sys/kernel/sunrpc/xprt-switches/*/xprt-*/dstaddr 2>/dev/null |
	head -n 1)
if [ -z "$x" ]; then
	note "this kernel ($(uname -r)) has no writable sunrpc sysfs dstaddr"
	ls -R /sys/kernel/sunrpc 2>&1 | head -n 20 | show
	fail "the mount's transport is in /sys/kernel/sunrpc/xprt-switches"
	finish
fi
pass "the mount's transport is $x"
check "writing 192.0.2.3 to dstaddr" bash -c "echo 192.0.2.3 >$x"
check_out "dstaddr now says 192.0.2.3" '^192\.0\.2\.3$' cat "$x"
sync
echo 3 >/proc/sys/vm/drop_caches
check_out "the mount still reads" '^hello from /srv/d$' timeout 60 cat $M/file
check_out "server-a sees the client on its second address" '192\.0\.2\.3:2049' \
	srv server-a ss -tn state established
check "a write through the moved transport reaches the server" \
	bash -c "echo moved >$M/after && sync && grep -q moved /srv/d/after"
note "/proc/mounts says addr=$(mount_opt $M addr) after the move"
finish
