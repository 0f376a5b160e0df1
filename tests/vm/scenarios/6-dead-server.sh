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

dead_checks() {
	local how=$1 p
	sync
	echo 3 >/proc/sys/vm/drop_caches
	if timeout -s KILL 5 stat $M/sub >/dev/null 2>&1; then
		fail "$how: a plain stat $M/sub hangs (it answered: the server is not dead)"
	else
		note "$how: a plain 'timeout 5 stat $M/sub' was killed: the mount is dead"
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
	answers 4 "$how: mounts" "^$M +server-a:/d" "$NM" mounts
	answers 4 "$how: nfsmig __complete locations $M/" '' "$NM" __complete locations $M/
	answers 4 "$how: nfsmig __complete show $M/s" '' "$NM" __complete show $M/s
	if [ -r "$COMPLETION" ]; then
		answers 4 "$how: bash completion of 'nfsmig locations $M/s'" '' \
			bash -c "$BASH_COMPLETE" bash "$COMPLETION" nfsmig locations $M/s
	else
		fail "$how: the bash completion is installed at $COMPLETION"
	fi
}

# The knfsd stopped: connections are refused.
srv server-a rpc.nfsd 0
dead_checks "knfsd stopped"

# No answer at all: the server's link is down.
ip -n server-a link set eth0 down
dead_checks "link down"

# Let the hung client go, so that the VM powers off.
umount -f -l $M 2>/dev/null
finish
