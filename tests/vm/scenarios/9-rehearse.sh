#!/bin/bash
# Scenario 9: `nfsmig rehearse` against knfsd, NFSv4.0 and NFSv4.1 at once
# (one boot: four rehearsals, each its own client).  Each holds OPEN and a
# read LOCK on three file systems of server-a (/d, /r and a third, /e)
# while the scenario adds refer= to /d and /r together (one re-export), as
# an administrator moving two file systems to server-b would.  knfsd
# carries no state to server-b, so for /d and /r each rehearsal must report
# MOVED, a migration (not a referral), the locations naming server-b, the
# state lost and recovered by re-open (locks unprotected for N ms), and the
# READ on server-b with the checksum it read on server-a; both file systems
# through ONE client of server-b ("clients": file_systems 2).  /e did not
# move: its state stays on the source.  Per minor version one rehearsal
# prints text and one -J, so both outputs are checked.  server-a's
# /proc/fs/nfsd/clients shows the state held before the move, and
# server-b's operation counters that the recovery and the READ reached it.
. ./lib.sh

# knfsd's exports as they come (secure: nfsmig binds a reserved port);
# /srv/e a third file system (lib.sh's srv_tree and exports_default).
export EXPORT_OPTS=
SRV_MORE=e
# A rehearsal waits until every file it holds moved or --wait ran out
# (counted from when it holds them all): /e never moves, so each waits
# WAIT_S in all.  The move comes 2-12 s after the first one holds (2-4
# with the VM's one CPU (-smp 1) to itself, 12 at a load of 10 on the
# host's 2 cores); the holds must take at most WAIT_S/2, and the NOTEs
# give the margin each run had.
WAIT_S=25

servers_up || finish
setup_done

# FILES: the three files, /d's the first (a file of many blocks).
FILES=(server-a:/d/numbers server-a:/r/file server-a:/e/file)
args=(--wait $WAIT_S --interval 500 --timeout 10 --file "${FILES[1]}" --file "${FILES[2]}")
# rehearse KEY ARGS...: a rehearsal in the background, its exit status in
# $RUN/KEY.rc when it ends (124: it outlived its deadline), its timeout's
# PID in $RUN/KEY.pid.
rehearse() {
	local k=$1
	shift
	(
		timeout -k 5 $((WAIT_S + 60)) "$NM" rehearse "$@" >"$RUN/$k" 2>"$RUN/$k.err" </dev/null &
		echo $! >"$RUN/$k.pid"
		wait $!
		echo $? >"$RUN/$k.rc"
	) &
}
# stop_rehearsals: on a path that gives up early, the rehearsals still
# running told to let go (SIGTERM through timeout) and awaited, so that
# none outlives the scenario.
stop_rehearsals() {
	local k
	for k in text.4.0 json.4.0 text.4.1 json.4.1; do
		[ -e "$RUN/$k.rc" ] || kill -TERM "$(cat "$RUN/$k.pid" 2>/dev/null)" 2>/dev/null
	done
	for k in text.4.0 json.4.0 text.4.1 json.4.1; do
		wait_for 15 test -e "$RUN/$k.rc" || note "$k did not end after SIGTERM"
	done
}
# any_ended: a rehearsal ended (no process: the polls are many).
any_ended() { compgen -G "$RUN/*.rc" >/dev/null; }
# text_has KEY PREFIX: a line of $RUN/KEY begins with PREFIX (no process).
text_has() {
	local line
	while IFS= read -r line; do
		[[ $line == "$2"* ]] && return 0
	done <"$RUN/$1"
	return 1
}
t_start=$SECONDS
for v in 4.0 4.1; do
	rehearse text.$v "${args[@]}" --vers $v "${FILES[0]}"
	rehearse json.$v "${args[@]}" --vers $v -J "${FILES[0]}"
done

# server-a's view of its clients' state: "open N lock M" over all clients.
held_on_a() {
	srv server-a sh -c 'cat /proc/fs/nfsd/clients/*/states 2>/dev/null' |
		awk '/type: open/ {o++} /type: lock/ {l++} END {printf "open %d lock %d\n", o, l}'
}
texts_waiting() {
	text_has text.4.0 'waiting for the move:' && text_has text.4.1 'waiting for the move:'
}
all_held() {
	local o l
	read -r _ o _ l < <(held_on_a) && [ "$o" -ge 12 ] && [ "$l" -ge 12 ]
}
all_waiting() { texts_waiting && all_held; }
# The holds within WAIT_S/2 of the start: first the text rehearsals'
# line (polled without a process), then server-a's state once a second
# (the -J rehearsals print nothing until they end), or one ended early.
ready_or_ended() {
	local end=$((t_start + WAIT_S / 2))
	until texts_waiting || any_ended; do
		((SECONDS < end)) || return 1
		sleep 0.2
	done
	until all_held || any_ended; do
		((SECONDS < end)) || return 1
		sleep 1
	done
}
ready_or_ended
t_ready=$((SECONDS - t_start))
if ! check "four rehearsals wait for the move, each holding OPEN and LOCK on /d, /r and /e of server-a" \
	all_waiting; then
	((t_ready >= WAIT_S / 2)) && fail "the holds took longer than half of --wait $WAIT_S (${t_ready} s)"
	note "server-a holds: $(held_on_a)"
	stop_rehearsals
	for f in "$RUN"/text.4.? "$RUN"/json.4.?; do
		echo "$f (exit $(cat "$f.rc" 2>/dev/null || echo "none yet")):"
		cat "$f" "$f.err"
	done | show
	finish
fi
srv server-a sh -c 'for c in /proc/fs/nfsd/clients/*; do grep -h "^name:" $c/info; done' | show
grep -h '^+' "$RUN/text.4.0" | show
note "the four held all ${t_ready} s after they started (at most $((WAIT_S / 2)) s of --wait $WAIT_S)"

# nfsd's operation counters of server-b (its network namespace's own):
# OPEN (18), LOCK (12), READ (25).
b_ops() {
	srv server-b cat /proc/net/rpc/nfsd | awk '/^proc4ops / {print "OPEN " $21 " LOCK " $15 " READ " $28}'
}
b_before=$(b_ops)
check_out "server-b served no OPEN, LOCK or READ before the move" '^OPEN 0 LOCK 0 READ 0$' echo "$b_before"

# The move: /d and /r at once.
t_move=$(date +%s)
exports_edit server-a "
	s|^/srv/d .*|/srv/d *(rw,no_root_squash,no_subtree_check,fsid=1$EXPORT_OPTS,refer=/d@server-b)|
	s|^/srv/r .*|/srv/r *(rw,no_root_squash,no_subtree_check,fsid=2$EXPORT_OPTS,refer=/r@server-b)|"

# Once the text rehearsals saw both moves (they wait on for /e), server-a
# still holds the four rehearsals' OPEN and LOCK on /e: its superblock
# (major:minor in hex) in /proc/fs/nfsd/clients/*/states.
both_moved() {
	[ "$(grep -c '^+[0-9.]* moved: ' "$RUN/text.4.0")" = 2 ] &&
		[ "$(grep -c '^+[0-9.]* moved: ' "$RUN/text.4.1")" = 2 ]
}
e_dev=$(mountpoint -d /srv/e)
e_sb=$(printf '%02x:%02x' "${e_dev%:*}" "${e_dev#*:}")
held_e() {
	srv server-a sh -c 'cat /proc/fs/nfsd/clients/*/states 2>/dev/null' | grep -F "superblock: \"$e_sb:" |
		awk '/type: open/ {o++} /type: lock/ {l++} END {printf "open %d lock %d\n", o, l}'
}
kept_seen() {
	grep -qE '^\+[0-9.]+ kept: ' "$RUN/text.4.0" "$RUN/text.4.1"
}
if wait_for 20 both_moved && ! any_ended; then
	check_out "after the move server-a still holds the OPEN and LOCK of the four on /e" \
		'^open 4 lock 4$' held_e
	# The check above only counts if the wait was still on when it ran.
	if any_ended || kept_seen; then
		fail "the wait ended before the check (margin)"
		grep -hE '^\+[0-9.]+ (kept|wait): ' "$RUN/text.4.0" "$RUN/text.4.1" | show
	fi
else
	fail "the text rehearsals saw /d and /r move, still holding /e (did the move come after --wait $WAIT_S ran out?)"
	grep -h '^+' "$RUN/text.4.0" "$RUN/text.4.1" | show
fi

declare -A rc
for k in text.4.0 json.4.0 text.4.1 json.4.1; do
	wait_for $((WAIT_S + 70)) test -s "$RUN/$k.rc"
	rc[$k]=$(cat "$RUN/$k.rc" 2>/dev/null || echo none)
done
note "the rehearsals ended $(($(date +%s) - t_move)) s after the move (--wait $WAIT_S)"
b_after=$(b_ops)
note "server-b after the move: $b_after"
# b_delta: server-b's counters after the move less those before.  Each of
# the four rehearsals, for /d and /r: a reclaim tried (OPEN CLAIM_PREVIOUS,
# which knfsd refuses) and the re-open (OPEN), a LOCK and a READ.
b_delta() {
	local -a a b
	read -ra a <<<"$b_after"
	read -ra b <<<"$b_before"
	[ "${#a[@]}" = 6 ] && [ "${#b[@]}" = 6 ] || return 1
	echo "OPEN $((a[1] - b[1])) LOCK $((a[3] - b[3])) READ $((a[5] - b[5]))"
}
b_enough() {
	local o l r
	read -r _ o _ l _ r < <(b_delta) && ((o >= 16 && l >= 8 && r >= 8))
}
if b_enough; then
	pass "server-b served the recoveries: $(b_delta) (at least OPEN 16 LOCK 8 READ 8)"
else
	fail "server-b served the recoveries (wanted at least OPEN 16 LOCK 8 READ 8 more than before)"
	printf '%s\n' "before: $b_before" "after: $b_after" | show
fi

# is WHAT ERE VALUE: PASS if VALUE matches ERE (whole), else FAIL showing
# it; no process of its own (the checks are many, TCG's forks slow).
is() {
	if [[ $3 =~ ^($2)$ ]]; then
		pass "$1"
	else
		fail "$1 (wanted /$2/)"
		printf '%s\n' "$3" | show
	fi
}
# has WHAT ERE FILE: PASS if a line of FILE matches ERE.
has() {
	if grep -qE -- "$2" "$3"; then pass "$1"; else fail "$1 (no line /$2/)"; fi
}

# lost_re MINOR: the state step of a file system whose state did not
# come along, as the engine words it (4.0: RENEW of the source's client
# ID on the destination; 4.1: TEST_STATEID of its stateids there).
lost_re() {
	if [ "$1" = 4.0 ]; then
		echo "RENEW of the source's client ID [0-9a-f]+ answered NFS4ERR_STALE_CLIENTID: the state did not come along"
	else
		echo 'TEST_STATEID .*NFS4ERR_[A-Z_]+: the state did not come along'
	fi
}

# text_checks MINOR: the text output of the rehearsal of MINOR.
text_checks() {
	local v=$1 t=$RUN/text.$1 i
	show <"$t"
	show <"$t.err"
	is "$v: rehearse exits 1 (state re-opened)" 1 "${rc[text.$v]}"
	if grep -vE '^(\+[0-9]+\.[0-9]{3} [a-z_-]+: |waiting for the move: |verdict |kernel: |read )' "$t" >"$t.odd"; then
		fail "$v: every line a step with its time, the wait's line, a verdict, kernel or read line"
		show <"$t.odd"
	else
		pass "$v: every line a step with its time, the wait's line, a verdict, kernel or read line"
	fi
	is "$v: /d and /r answered MOVED: a migration, not a referral" 2 \
		"$(grep -cE '^\+[0-9.]+ moved: .*NFS4ERR_MOVED.*a migration \(not a referral\)' "$t")"
	has "$v: the locations name server-b:/d" '^\+[0-9.]+ fs_locations: .*server-b:/d\b' "$t"
	has "$v: the locations name server-b:/r" '^\+[0-9.]+ fs_locations: .*server-b:/r\b' "$t"
	is "$v: /d and /r: the state did not come along" 2 \
		"$(grep -cE "^\\+[0-9.]+ state: .*$(lost_re $v)" "$t")"
	has "$v: /d recovered by re-open" \
		"^verdict ${FILES[0]}: state recovered by re-open: locks were unprotected for [0-9]+ ms\$" "$t"
	has "$v: /r recovered by re-open" \
		"^verdict ${FILES[1]}: state recovered by re-open: locks were unprotected for [0-9]+ ms\$" "$t"
	has "$v: /e not moved" "^verdict ${FILES[2]}: not moved: state kept on the source\$" "$t"
	is "$v: what the kernel will do, for each file" 3 "$(grep -c '^kernel: .' "$t")"
	has "$v: /d's READ on server-b: same checksum" "^read ${FILES[0]}: same checksum\$" "$t"
	has "$v: /r's READ on server-b: same checksum" "^read ${FILES[1]}: same checksum\$" "$t"
	for i in 0 1; do
		has "$v: ${FILES[i]}'s READ again went to server-b" \
			"^\\+[0-9.]+ read: ${FILES[i]}: [0-9]+ bytes on (server-b|198\\.51\\.100\\.2), checksum [0-9a-f]+: the same( \\[|\$)" "$t"
	done
}

# json_checks MINOR: the -J output of the rehearsal of MINOR, read by one
# jq into J[KEY] (KEY: "nfiles", "clients", FILE-INDEX.FIELD).
json_checks() {
	local v=$1 j=$RUN/json.$1 minor=${1#4.} i fs k val deadline relock
	local -A J=()
	jq -c '(.files[] | {file, kind, locations, destination, state, lock_gap_ms, read_same, verdict}), .clients' \
		"$j" 2>&1 | show
	show <"$j.err"
	is "$v -J: rehearse exits 1 (state re-opened)" 1 "${rc[json.$v]}"
	while IFS='=' read -r k val; do
		J[$k]=$val
	done < <(jq -r --arg lost "$(lost_re $v)" '
		"nfiles=\(.files | length)",
		"clients=\([.clients[] | select(.server == "server-b" or .server == "198.51.100.2")] |
			"\(length) \(.[0].minor) \(.[0].file_systems)")",
		(.files | to_entries[] | .key as $i | .value |
			(.path | sub("/[^/]*$"; "")) as $fs |
			"\($i).fs=\($fs)",
			"\($i).kind=\(.kind)",
			"\($i).loc=\(.locations | any(.server == "server-b" and .path == $fs))",
			"\($i).dest=\(.destination)",
			"\($i).moved=\([.steps[] | select(.step == "moved") | .message] | any(test("NFS4ERR_MOVED")))",
			"\($i).lost=\([.steps[] | select(.step == "state") | .message] | any(test($lost)))",
			"\($i).statemsg=\([.steps[] | select(.step == "state") | .message] | join("; "))",
			"\($i).state=\(.state)",
			"\($i).gap=\(.lock_gap_ms)",
			"\($i).relock_ms=\([.steps[] | select(.step == "relock") | .time_ms][0])",
			"\($i).read_ms=\([.steps[] | select(.step == "read") | .time_ms][0])",
			"\($i).verdict=\(.verdict)",
			"\($i).same=\(.read_same)",
			"\($i).times=\(([.steps[] | select(.step == "moved")][0].time_ms) as $m |
				([.steps[] | select(.step == "relock")][0].time_ms) as $l |
				"MOVED at \($m) ms, the lock again at \($l) ms (\(if $m and $l then $l - $m else null end) ms later), gap \(.lock_gap_ms) ms")")
		' "$j" 2>&1)
	is "$v -J: three files" 3 "${J[nfiles]-}"
	is "$v -J: the files in the order given: /d /r /e" '/d /r /e' "${J[0.fs]-} ${J[1.fs]-} ${J[2.fs]-}"
	# The wait ends WAIT_S after the last hold: /e's READ on the source.
	deadline=x
	[[ ${J[2.read_ms]-} =~ ^[0-9]+$ ]] && deadline=$((J[2.read_ms] + 1000 * WAIT_S))
	for i in 0 1; do
		fs=${J[$i.fs]-?}
		is "$v -J $fs: a migration" migration "${J[$i.kind]-}"
		is "$v -J $fs: the locations: server-b:$fs" true "${J[$i.loc]-}"
		is "$v -J $fs: the destination is server-b" 'server-b|198\.51\.100\.2' "${J[$i.dest]-}"
		is "$v -J $fs: MOVED in its steps" true "${J[$i.moved]-}"
		is "$v -J $fs: the state did not come along" true "${J[$i.lost]-}"
		is "$v -J $fs: state re-opened" reopen "${J[$i.state]-}"
		is "$v -J $fs: the lock's gap in ms" '[0-9]+' "${J[$i.gap]-}"
		is "$v -J $fs: the verdict" 'state recovered by re-open: locks were unprotected for [0-9]+ ms' \
			"${J[$i.verdict]-}"
		is "$v -J $fs: same checksum on server-b" true "${J[$i.same]-}"
		note "$v $fs: ${J[$i.statemsg]-}"
		note "$v $fs: ${J[$i.times]-}"
		# Followed as soon as it moved: the lock taken again on server-b
		# before the wait for /e ran out, not after it.
		relock=${J[$i.relock_ms]-x}
		if [[ $relock =~ ^[0-9]+$ && $deadline =~ ^[0-9]+$ ]] && ((relock < deadline)); then
			pass "$v -J $fs: the lock taken again before the wait's end"
			note "$v $fs: the lock again $((deadline - relock)) ms before the wait's end; the gap ${J[$i.gap]-} ms"
		else
			fail "$v -J $fs: the lock taken again before the wait's end (relock at $relock ms, the wait's end at $deadline ms)"
		fi
	done
	is "$v -J /e: not moved" 'none kept not moved: state kept on the source' \
		"${J[2.kind]-} ${J[2.state]-} ${J[2.verdict]-}"
	is "$v -J: one client of server-b, NFSv4.$minor, for both file systems" "1 $minor 2" "${J[clients]-}"
}

t_checks=$SECONDS
for v in 4.0 4.1; do
	text_checks $v
	json_checks $v
done
note "the scenario took $SECONDS s, its checks $((SECONDS - t_checks)) s"
finish
