#!/bin/bash
# Scenario 3: a referral.  server-a exports /srv/r with refer=/r@server-b;
# a client of server-a's root that steps into r gets a new submount of
# server-b:/r.  nfsmig must show it as a referral, not a migration.
. ./lib.sh

M=/mnt/a
servers_up || finish
daemon_up
exports_edit server-a \
	's|^/srv/r .*|/srv/r *(rw,no_root_squash,no_subtree_check,fsid=2,refer=/r@server-b)|'
mkdir -p $M
check "mount server-a:/ (vers=4.1)" mount -t nfs4 -o vers=4.1,timeo=50,retrans=3 server-a:/ $M ||
	finish
register_it $M
setup_done

check_out "stepping into the referral reads server-b's file" '^inside the referral$' \
	timeout 60 cat $M/r/file
check_out "the kernel made a submount of server-b:/r" '^server-b:/r$' mount_source $M/r
check_out "the submount talks to server-b (addr=)" '^198\.51\.100\.2$' mount_opt $M/r addr
check_out "the parent mount still talks to server-a" '^192\.0\.2\.2$' mount_opt $M addr
check_out "nfsmigd answered the dns_resolver upcall for server-b" \
	'"name":"server-b".*198\.51\.100\.2' upcalls_log
check_out "nfsmig locations server-a:/r names server-b:/r" '^ *server-b +/r' \
	"$NM" locations server-a:/r
check_out "nfsmig mounts: the submount is a referral" "^$M/r +server-b:/r .*referral *\$" \
	"$NM" mounts
check_out "nfsmig mounts: the parent is registered, not moved" "^$M +server-a:/ .*registered *\$" \
	"$NM" mounts
save mountinfo.referral /proc/self/mountinfo
"$NM" locations server-a:/r 2>&1 | show
"$NM" mounts 2>&1 | show
finish
