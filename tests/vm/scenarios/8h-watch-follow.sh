#!/bin/bash
# Scenario 8h: a new mount is registered by nfsmigd before anyone runs
# register, and `nfsmig events -f`, started before, shows its event live:
# in tmux when the VM can run it (a devpts is mounted for it), else on the
# console with its output to a file (a NOTE says which).
. ./lib.sh

export EXPORT_OPTS=${EXPORT_OPTS-,insecure}
M=/mnt/m
servers_up || finish
watch_setup ""
daemon_up
setup_done

mountpoint -q /dev/pts || { mkdir -p /dev/pts && mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts; }
[ -e /dev/ptmx ] || ln -sf pts/ptmx /dev/ptmx
live=
if command -v tmux >/dev/null && TERM=xterm tmux new-session -d -s ev -x 200 -y 20 "$NM events -f" 2>"$RUN/tmux.err"; then
	live=tmux
	note "nfsmig events -f runs in tmux"
else
	note "tmux cannot run here ($(head -c 200 "$RUN/tmux.err" 2>/dev/null)): nfsmig events -f on the console, to a file"
	"$NM" events -f >"$RUN/follow.out" 2>&1 &
	follower=$!
	live=file
fi
sleep 1
mkdir -p $M
check "mount server-a:/d (vers=4.1)" mount -t nfs4 -o vers=4.1,timeo=50,retrans=3 server-a:/d $M || finish
t0=$(date +%s%N)
check "nfsmigd registered it within 1 s of the mount" wait_for 1 test -e "$STATE/-mnt-m.state"
note "registered $((($(date +%s%N) - t0) / 1000000)) ms after mount(8) returned (or before: 0-200)"
check_out "no one ran register: the record is the daemon's (its mount event)" '"event":"mount"' events_of $M
check_out "the record has the root's handle" '^root file handle: +[0-9a-f]+$' "$NM" show $M
shown() {
	if [ "$live" = tmux ]; then
		tmux capture-pane -p -t ev
	else
		cat "$RUN/follow.out"
	fi
}
shown_mount() { shown | grep -q ' mount /mnt/m '; }
check "nfsmig events -f shows the mount event live" wait_for 5 shown_mount
shown | show
[ "$live" = tmux ] && tmux kill-session -t ev
[ "$live" = file ] && kill "$follower"
finish
