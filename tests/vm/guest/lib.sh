# Sourced by tests/vm/scenarios/*.sh inside the VM (see tests/vm/nfsvm).
#
# The VM's network: the client is the VM's initial namespace; each knfsd runs
# in a network and mount namespace of its own, joined to the client by a veth
# pair on a subnet of its own, and known by name in the client's /etc/hosts:
#
#   server-a  192.0.2.2 (and 192.0.2.3)   client side 192.0.2.1/24
#   server-b  198.51.100.2                client side 198.51.100.1/24
#
# Both export the VM's tmpfs /srv (fsid=0), /srv/d (fsid=1) and /srv/r
# (fsid=2), and a scenario's SRV_MORE="e ..." more file systems like /srv/r
# (fsid 3, 4, ...; set before servers_up, no export needed): the same file
# systems under the same fsids, so a file has the same handle on both and
# server-b is a real migration target for server-a's /srv/d and /srv/r.
#
# A scenario prints "PASS - what" and "FAIL - what" lines, which the host
# counts, "NOTE - what" for what a reader should know, and exits non-zero if
# anything failed.  NFSVM_SETUP_ONLY=1 (nfsvm shell) stops at `setup_done`.

set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
NM=/usr/local/sbin/nfsmig
NMD=/usr/local/sbin/nfsmigd
RUN=/run/nfsvm
SAVE=/nfsvm/save
STATE=/var/lib/nfsmig
fails=0
mkdir -p "$RUN" "$SAVE"

pass() { echo "PASS - $*"; }
fail() {
	echo "FAIL - $*"
	fails=$((fails + 1))
}
note() { echo "NOTE - $*"; }
# Indented evidence under the line it explains.
show() { sed 's/^/    /'; }

# check WHAT CMD...: PASS if CMD succeeds, else FAIL with its output.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$what"
	else
		fail "$what"
		printf '%s\n' "$out" | show
		return 1
	fi
}

# check_out WHAT REGEX CMD...: PASS if CMD succeeds and its output matches
# REGEX (grep -E).
check_out() {
	local what=$1 re=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -qE -- "$re"; then
		pass "$what"
	else
		fail "$what (wanted /$re/ and exit 0; it exited $rc)"
		printf '%s\n' "$out" | show
	fi
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# setup_wait SECONDS CMD...: wait_for for the set-up (servers, daemon), by
# the clock: CMD every 0.1 s until it succeeds or SECONDS have passed.  The
# pause is a read with a timeout on a pipe no one writes, not a sleep
# process: under TCG starting one costs the VM's one CPU about as much as
# the pause, taken from the servers being waited for.
setup_wait() {
	local end=$((SECONDS + $1 + 1)) fd rc=1
	shift
	exec {fd}<> <(:)
	while :; do
		if "$@" >/dev/null 2>&1 {fd}<&-; then
			rc=0
			break
		fi
		((SECONDS < end)) || break
		read -r -t 0.1 -u "$fd" _
	done
	exec {fd}<&-
	return "$rc"
}

finish() {
	[ "$fails" = 0 ]
	exit $?
}

# save NAME FILE: keep FILE as NAME for the host (nfsvm NFSVM_SAVE=DIR).
save() { cp "$2" "$SAVE/$1"; }

# The shared tree both servers export: /srv, and /srv/d and /srv/r as file
# systems of their own (a subdirectory of /srv would stay in /srv's export,
# and a refer= on /srv/d would never be seen by a client of /srv/d).
# SRV_MORE="e ...": more file systems like /srv/r, exported after it (fsid
# 3, 4, ...), each with a "file" naming it.
srv_tree() {
	local f
	mkdir -p /srv
	mountpoint -q /srv || mount -t tmpfs -o size=8m,mode=0755 srv /srv
	for f in d r ${SRV_MORE:-}; do
		mkdir -p /srv/$f
		mountpoint -q /srv/$f || mount -t tmpfs -o size=32m,mode=0755 "srv-$f" /srv/$f
	done
	mkdir -p /srv/d/sub
	echo "hello from /srv/d" >/srv/d/file
	seq 1 20000 >/srv/d/numbers
	echo "inside the referral" >/srv/r/file
	for f in ${SRV_MORE:-}; do echo "inside /srv/$f" >/srv/$f/file; done
}

# server_up NAME CLIENT-CIDR ADDR...: knfsd NAME in namespaces of its own
# (server_start, then server_ready: servers_up starts both, then waits).
server_up() {
	server_start "$@" && server_ready "$1"
}

# server_start NAME CLIENT-CIDR ADDR...: the namespaces and the link of
# server NAME, its knfsd starting in the background.
server_start() {
	local name=$1 ccidr=$2 d=$RUN/$1 a
	shift 2
	mkdir -p "$d/pipefs"
	ip netns add "$name"
	ip link add "v-$name" type veth peer name eth0 netns "$name"
	ip addr add "$ccidr" dev "v-$name"
	ip link set "v-$name" up
	ip -n "$name" link set lo up
	for a in "$@"; do ip -n "$name" addr add "$a/24" dev eth0; done
	ip -n "$name" link set eth0 up
	[ -e "$d/exports" ] || exports_default >"$d/exports"
	ip netns exec "$name" unshare -m -u --propagation private bash -c '
		set -e
		d=$1
		hostname "$2"
		mount -t tmpfs tmpfs /var/lib/nfs
		mkdir -p /var/lib/nfs/nfsdcld /var/lib/nfs/v4recovery
		touch /var/lib/nfs/etab /var/lib/nfs/rmtab
		mount --bind "$d/exports" /etc/exports
		mount -t nfsd nfsd /proc/fs/nfsd
		# Short leases and grace: recovery in seconds, not minutes.
		echo 10 >/proc/fs/nfsd/nfsv4leasetime
		echo 10 >/proc/fs/nfsd/nfsv4gracetime
		mount -t rpc_pipefs rpc_pipefs "$d/pipefs"
		nfsdcld -F -p "$d/pipefs" >"$d/nfsdcld.log" 2>&1 &
		cld=$!
		# knfsd asks nfsdcld whether to keep a grace period: nfsdcld must
		# be watching pipefs for the pipe knfsd makes at its start (its
		# inotify descriptor), or knfsd waits out the grace.
		end=$((SECONDS + 6))
		until ls -l /proc/$cld/fd 2>/dev/null | grep -qE "anon_inode:inotify|nfsd/cld\$"; do
			if ((SECONDS >= end)); then
				echo "nfsdcld not ready"
				exit 1
			fi
			sleep 0.1
		done
		exportfs -ra
		rpc.mountd -N 3 -F >"$d/mountd.log" 2>&1 &
		knfsd_start "$d"
		echo $$ >"$d/pid"
		exec sleep infinity
	' nfsvm-server "$d" "$name" >"$d/setup.log" 2>&1 &
	echo $! >"$d/setup.pid"
}

# knfsd_start DIR: rpc.nfsd in the calling server's namespaces, its log in
# DIR.  Every knfsd start must use it: knfsd stamps its client ids and
# stateids with the second it starts, and a server started in the same
# second as another takes the stateids of the other for its own (NFSv4.0
# gets EXPIRED and recovers, not STALE_STATEID), so no two start in one
# second: under a lock, after the second the last one started in.
knfsd_start() {
	local d=$1 last
	(
		flock -w 30 9 || { echo "knfsd_start: no lock in 30 s"; exit 1; }
		last=$(cat "$d/../knfsd.started" 2>/dev/null || echo 0)
		while [ "$(date +%s)" -le "$last" ]; do sleep 0.1; done
		rpc.nfsd -N 3 4 >"$d/nfsd.log" 2>&1
		date +%s >"$d/../knfsd.started"
	) 9>"$d/../knfsd.lock"
}
export -f knfsd_start

# server_ready NAME: wait until server NAME's knfsd runs.
server_ready() {
	local d=$RUN/$1
	if ! setup_wait 60 server_settled "$d" || ! test -s "$d/pid"; then
		fail "server $1 did not start"
		show <"$d/setup.log"
		return 1
	fi
	# knfsd waits about a second for nfsdcld at its start; without it no
	# client tracking, and a grace period: the reclaims the scenarios
	# count on would not be there.  With nfsdcld and no client to reclaim,
	# knfsd ends its grace as it starts (v4_end_grace reads Y at once; it
	# would only after the 10 s grace without nfsdcld), so no wait here.
	check_out "server $1 skipped its grace period (nfsdcld tracking)" '^Y$' \
		srv "$1" cat /proc/fs/nfsd/v4_end_grace
}

# server_settled DIR: the server's set-up finished: its knfsd runs, or its
# set-up gave up.
server_settled() {
	test -s "$1/pid" || ! kill -0 "$(cat "$1/setup.pid")"
}

# srv NAME CMD...: run CMD in server NAME's namespaces.
srv() {
	local name=$1
	shift
	nsenter -t "$(cat "$RUN/$name/pid")" -m -n -u "$@"
}

exports_default() {
	echo "/srv *(rw,no_root_squash,no_subtree_check,fsid=0,crossmnt${EXPORT_OPTS:-})"
	echo "/srv/d *(rw,no_root_squash,no_subtree_check,fsid=1${EXPORT_OPTS:-})"
	echo "/srv/r *(rw,no_root_squash,no_subtree_check,fsid=2${EXPORT_OPTS:-})"
	local f id=3
	for f in ${SRV_MORE:-}; do
		echo "/srv/$f *(rw,no_root_squash,no_subtree_check,fsid=$id${EXPORT_OPTS:-})"
		id=$((id + 1))
	done
}

# exports_edit NAME SED-SCRIPT: change NAME's exports in place (the file is
# bind-mounted on the server's /etc/exports: a new inode would not be seen)
# and apply it.
exports_edit() {
	local f=$RUN/$1/exports new
	new=$(sed -e "$2" "$f")
	printf '%s\n' "$new" >"$f"
	reexport "$1"
}

# refer_d: server-a's /srv/d now refers to server-b:/d, so that knfsd answers
# NFS4ERR_MOVED to its clients: the migration trigger.
refer_d() {
	exports_edit server-a \
		"s|^/srv/d .*|/srv/d *(rw,no_root_squash,no_subtree_check,fsid=1${EXPORT_OPTS:-},refer=/d@server-b)|"
}

# reexport NAME: NAME's exports file was changed; apply it and flush the
# kernel's export caches so that the next access sees it.
reexport() {
	srv "$1" exportfs -r
	srv "$1" exportfs -f
}

hosts_add() { echo "$1 $2" >>/etc/hosts; }

# The standard pair of servers.
servers_up() {
	srv_tree
	server_start server-a 192.0.2.1/24 192.0.2.2 192.0.2.3 || return 1
	server_start server-b 198.51.100.1/24 198.51.100.2 || return 1
	server_ready server-a || return 1
	server_ready server-b || return 1
	hosts_add 192.0.2.2 server-a
	hosts_add 198.51.100.2 server-b
}

# mount_opt MOUNTPOINT OPTION: the value of OPTION of the mount at MOUNTPOINT.
mount_opt() {
	findmnt -n -o OPTIONS --mountpoint "$1" | tr ',' '\n' | sed -n "s/^$2=//p"
}

mount_source() { findmnt -n -o SOURCE --mountpoint "$1"; }

# mount_d VERS MOUNTPOINT: mount server-a:/d (-o migration in NFSv4.0: 4.1
# and later always allow it) and register it; returns non-zero on failure.
mount_d() {
	local opts=vers=$1
	[ "$1" = 4.0 ] && opts=$opts,migration
	mkdir -p "$2"
	check "mount server-a:/d ($opts)" mount -t nfs4 -o "$opts,timeo=50,retrans=3" server-a:/d "$2" &&
		register_it "$2"
}

# register_it MOUNTPOINT: nfsmig register; a mount nfsmigd's watcher
# registered first (it does within a second of the mount) passes too.
register_it() {
	local out
	if out=$("$NM" register "$1" 2>&1); then
		pass "nfsmig register $1"
	elif grep -q 'is registered already' <<<"$out"; then
		pass "nfsmig register $1 (nfsmigd had registered it)"
	else
		fail "nfsmig register $1"
		printf '%s\n' "$out" | show
		return 1
	fi
}

# nfsmigd as the long-running service, its state in $STATE.
daemon_up() {
	mkdir -p "$STATE"
	"$NMD" -F ${NMD_OPTS:-} >"$RUN/nfsmigd.log" 2>&1 &
	echo $! >"$RUN/nfsmigd.pid"
	if ! setup_wait 30 test -S /run/nfsmig/nfsmigd.sock; then
		fail "nfsmigd did not open its socket in 30 s"
		show <"$RUN/nfsmigd.log"
		return 1
	fi
}

# watch_setup LINES: /etc/nfsmig.conf with LINES in its [watch] section (one
# "key = value" a line), and a hook that keeps the last event it got in
# $RUN/hook.json and its NFSMIG_* variables in $RUN/hook.env.
watch_setup() {
	mkdir -p /etc/nfsmig/hooks.d
	printf '[watch]\n%s\n' "$1" >/etc/nfsmig.conf
	cat >/etc/nfsmig/hooks.d/10-record <<-EOF
		#!/bin/sh
		cat >$RUN/hook.json
		env | grep '^NFSMIG_' | sort >$RUN/hook.env
	EOF
	chmod 0755 /etc/nfsmig/hooks.d/10-record /etc/nfsmig/hooks.d /etc/nfsmig
}

# events_of MOUNTPOINT: its events, one JSON object a line.
events_of() { grep -F "\"mountpoint\":\"$1\"" "$STATE/events.log" 2>/dev/null; }

# The upcalls answered, from the event log (one JSON object per line).
upcalls_log() { cat "$STATE/upcalls.log" 2>/dev/null; }

setup_done() {
	if [ "${NFSVM_SETUP_ONLY:-0}" = 1 ]; then
		echo "NOTE - setup done; the scenario stops here for the shell"
		exit 0
	fi
}

# lease_probe MOUNTPOINT SERVER MINOR: nm_lease's probe of SERVER (the
# build tree's tests/helpers/leaseprobe, built by nfsvm) with the root
# handle and fsid nfsmig's record of MOUNTPOINT saved; prints its lines.
lease_probe() {
	local build rec fh fsid
	build=$(sed -n "s/^NFSMIG_BUILD='\(.*\)'\$/\1/p" /nfsvm/job)
	rec=$(grep -lx "mountpoint=$1" "$STATE"/* 2>/dev/null | head -n 1)
	[ -x "$build/tests/helpers/leaseprobe" ] || { echo "no $build/tests/helpers/leaseprobe"; return 1; }
	[ -n "$rec" ] || { echo "no record of $1 in $STATE"; return 1; }
	fh=$(sed -n 's/^root_fh=//p' "$rec")
	fsid=$(sed -n 's/^fsid=//p' "$rec")
	"$build/tests/helpers/leaseprobe" probe "$2" 2049 "$3" 5000 "$1=$fh@$fsid"
}
