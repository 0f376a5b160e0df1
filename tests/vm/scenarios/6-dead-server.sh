#!/bin/bash
# Scenario 6: a dead server, the normal state of a source during a cutover.
# server-a:/d is mounted hard and registered; then server-a stops answering,
# twice: its knfsd stopped (connections refused), then its link down (no
# answer at all).  Each time a plain `stat` below the mount hangs (the NOTE
# that the setup really is dead), while every nfsmig command that takes a
# path, given the mount point or a path below it, returns within its
# deadline: those that ask the server say "server not answering", those
# that only read the mount table and the records answer.  Completion of a
# path below the mount (nfsmig __complete and the bash completion) returns
# too.
. ./lib.sh

M=/mnt/m
T=3 # the --timeout given to the commands, in seconds
export EXPORT_OPTS=,insecure
servers_up || finish
mount_d 4.1 $M || finish
check "$M is a hard mount" bash -c "! findmnt -n -o OPTIONS --mountpoint $M | grep -qw soft"
check "$M/sub is there while server-a answers" test -d $M/sub
COMPLETION=/usr/share/bash-completion/completions/nfsmig
# The bash completion reads its candidates through /dev/fd.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
# A local symbolic link into the mount, followed as text once it is dead
# (on a tmpfs: the guest's root is an overlay, which is not looked in).
L=/root/links
mkdir -p $L && mount -t tmpfs tmpfs $L && ln -sfn $M/sub $L/link-to-sub
# A current directory on the mount: a process that sits in $M/sub from
# before the server died, and runs nfsmig with a relative path when told.
cwd_helper() {
	local name=$1
	rm -f /tmp/cwd-$name.*
	mkfifo /tmp/cwd-$name.go
	# Builtins and absolute names only: a PATH search would look in the
	# current directory.
	(
		cd $M/sub || exit 1
		read -r _ </tmp/cwd-$name.go
		t0=${EPOCHREALTIME/./}
		/usr/bin/timeout -s KILL 20 "$NM" locations --timeout $T ../sub >/tmp/cwd-$name.out 2>&1
		echo "$? $(((${EPOCHREALTIME/./} - t0) / 1000))" >/tmp/cwd-$name.rc
	) &
}
cwd_helper stopped
cwd_helper down
setup_done

# timed MAX-SECONDS CMD...: run CMD (killed after 20 s: the old code hung
# for good); sets out, rc and ms; returns 0 if it ended within MAX-SECONDS.
timed() {
	local max=$1 t0
	shift
	t0=$(date +%s%N)
	out=$(timeout -s KILL 20 "$@" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" != 137 ] && [ "$ms" -le $((max * 1000)) ]
}

# not_answering WHAT CMD...: CMD returns within the deadline (connect and
# one call of --timeout each, and a second to spare), failing with
# "server not answering" naming server-a and the mount.
not_answering() {
	local what=$1
	shift
	if ! timed $((2 * T + 1)) "$@"; then
		fail "$what returns within $((2 * T + 1)) s (took $ms ms, exit $rc)"
		printf '%s\n' "$out" | show
	elif [ "$rc" = 0 ] || ! printf '%s\n' "$out" | grep -qE "server not answering: (server-a|192\.0\.2\.2).*$M"; then
		fail "$what says 'server not answering' (exit $rc, $ms ms)"
		printf '%s\n' "$out" | show
	else
		pass "$what: 'server not answering' in $ms ms"
		if [ "$NOTE_MESSAGES" = 1 ]; then note "$what said: $(printf "%s\n" "$out" | grep -m 1 "server not answering")"; fi
	fi
}

# answers MAX-SECONDS WHAT REGEX CMD...: CMD succeeds within MAX-SECONDS
# and its output matches REGEX.
answers() {
	local max=$1 what=$2 re=$3
	shift 3
	if ! timed "$max" "$@"; then
		fail "$what returns within $max s (took $ms ms, exit $rc)"
		printf '%s\n' "$out" | show
	elif [ "$rc" != 0 ] || ! printf '%s\n' "$out" | grep -qE -- "$re"; then
		fail "$what answers (exit $rc, $ms ms, wanted /$re/)"
		printf '%s\n' "$out" | show
	else
		pass "$what answers in $ms ms"
	fi
}

# bash's completion of the words given, the last one the word completed:
# bash -c "$BASH_COMPLETE" bash COMPLETION-SCRIPT WORD...
BASH_COMPLETE='. /usr/share/bash-completion/bash_completion; . "$1"; shift
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
	_nfsmig; printf "%s\n" "${COMPREPLY[@]}"'

# cwd_check HOW NAME: the helper NAME, whose current directory is on the
# dead mount, runs `locations ../sub`: not answering, within the deadline.
cwd_check() {
	local how=$1 name=$2 i res
	echo go >/tmp/cwd-$name.go &
	for ((i = 0; i < 25; i++)); do
		[ -s /tmp/cwd-$name.rc ] && break
		sleep 1
	done
	read -r rc ms <"/tmp/cwd-$name.rc" 2>/dev/null || { rc=none ms=none; }
	res=$(cat /tmp/cwd-$name.out 2>/dev/null)
	if [ "$rc" = none ] || [ "$rc" = 137 ] || [ "$ms" -gt $(((2 * T + 1) * 1000)) ]; then
		fail "$how: locations ../sub from a current directory on $M returns within $((2 * T + 1)) s (exit $rc, $ms ms)"
		printf '%s\n' "$res" | show
	elif [ "$rc" = 0 ] || ! printf '%s\n' "$res" | grep -qE "server not answering: (server-a|192\.0\.2\.2).*$M"; then
		fail "$how: locations ../sub from a current directory on $M says 'server not answering' (exit $rc)"
		printf '%s\n' "$res" | show
	else
		pass "$how: locations ../sub from a current directory on $M: 'server not answering' in $ms ms"
	fi
}

dead_checks() {
	local how=$1 name=$2 p t0
	# No sync: with anything dirty it would hang on the dead mount itself.
	echo 3 >/proc/sys/vm/drop_caches
	t0=$(date +%s%N)
	timeout -s KILL 5 stat $M/sub >/dev/null 2>&1
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$rc" != 124 ] && [ "$rc" != 137 ] || [ "$ms" -lt 5000 ]; then
		fail "$how: a plain stat $M/sub hangs (exit $rc after $ms ms: the server is not dead)"
	else
		note "$how: a plain 'timeout 5 stat $M/sub' was killed after $ms ms: the mount is dead"
		pass "$how: the setup is dead (stat $M/sub hangs)"
	fi
	NOTE_MESSAGES=1
	for p in $M $M/sub/../sub/; do
		not_answering "$how: locations $p" "$NM" locations --timeout $T "$p"
		not_answering "$how: register --force $p" "$NM" register --force --timeout $T "$p"
		not_answering "$how: verify $p" "$NM" verify --timeout $T --state-interval 0 "$p"
		answers 4 "$how: show $p" "^target: +$M\$" "$NM" show "$p"
		NOTE_MESSAGES=0
	done
	not_answering "$how: locations m/sub from /mnt" bash -c "cd /mnt && exec $NM locations --timeout $T m/sub"
	# A link is followed only where every mount on the way is known local;
	# the guest's root is an overlay, so there it is not: it must not hang.
	if [ "$(findmnt -n -o FSTYPE /)" = overlay ]; then
		if timed $((2 * T + 1)) "$NM" locations --timeout $T $L/link-to-sub; then
			pass "$how: locations $L/link-to-sub (a link below an overlay root, not followed) returns in $ms ms"
		else
			fail "$how: locations $L/link-to-sub returns within $((2 * T + 1)) s (took $ms ms, exit $rc)"
		fi
	else
		not_answering "$how: locations $L/link-to-sub (a local link into $M)" \
			"$NM" locations --timeout $T $L/link-to-sub
	fi
	cwd_check "$how" "$name"
	answers 4 "$how: mounts" "^$M +server-a:/d" "$NM" mounts
	# Completion of the mount point itself, of the directory that holds it
	# and of a path below it: the candidates, without a stat of any of them.
	# Below the dead mount nothing can be listed: nothing offered, in time.
	answers 4 "$how: nfsmig __complete locations $M/" "^\$" "$NM" __complete locations $M/
	answers 4 "$how: nfsmig __complete locations $M" "^$M/\$" "$NM" __complete locations $M
	answers 4 "$how: nfsmig __complete locations /mnt/" "^$M/\$" "$NM" __complete locations /mnt/
	answers 4 "$how: nfsmig __complete verify --state-dir /mnt/" "^$M/\$" \
		"$NM" __complete verify --state-dir /mnt/
	if [ -r "$COMPLETION" ]; then
		for p in $M/s $M /mnt/; do
			answers 4 "$how: bash completion of 'nfsmig locations $p'" \
				"$([ "$p" = $M/s ] && echo "^\$" || echo "^$M/\$")" \
				bash -c "$BASH_COMPLETE" bash "$COMPLETION" nfsmig locations $p
		done
	else
		fail "$how: the bash completion is installed at $COMPLETION"
	fi
}

# The knfsd stopped: connections are refused.
srv server-a rpc.nfsd 0
dead_checks "knfsd stopped" stopped

# No answer at all: the server's link is down.
ip -n server-a link set eth0 down
dead_checks "link down" down

# Let the hung client go, so that the VM powers off.
umount -f -l $M 2>/dev/null
umount $L 2>/dev/null
finish
