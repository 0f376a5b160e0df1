/* nm_hook - the hooks of /etc/nfsmig/hooks.d, run for each event.
 *
 * Which files run follows run-parts(8): regular files whose names are made
 * of A-Z a-z 0-9 _ - only (so no dotfiles, editor backups "x~", "x.bak", or
 * dpkg leftovers "x.dpkg-old"), executable, in byte order of their names.
 * Run as root, a hook must also be owned by root and not writable by group
 * or others, and the directory likewise.  Each runs by fork+execve (never a
 * shell), in its own process group, with the event's JSON on stdin, a clean
 * environment (PATH=/usr/sbin:/usr/bin:/sbin:/bin and the NFSMIG_*
 * variables given), stdout and stderr captured (bounded) and each line
 * handed to the log callback escaped (nm_esc).  A hook that outlives its
 * time limit gets SIGTERM, then SIGKILL a second later.
 *
 * What is checked is what runs: each hook is opened O_PATH|O_NOFOLLOW
 * relative to the directory and checked through that fd; the child compares
 * the name with it (dev, ino) just before execveat(dir fd, NAME,
 * AT_SYMLINK_NOFOLLOW) (exit status 126 when it changed); a symbolic link
 * is not run; a relative hooks_dir works.  A script's interpreter gets the
 * directory on fd 3 (it reads the script as /dev/fd/3/NAME, its $0); no
 * other fd of the caller reaches a hook.
 *
 * When a hook ends, whatever is left of its process group (children in the
 * background) is killed: a hook that wants a process to last must start it
 * in a session of its own (setsid).
 *
 * The caller must not reap children it did not start: no SIGCHLD set to
 * SIG_IGN (or SA_NOCLDWAIT), no waitpid(-1, ...) in another thread.  If it
 * does anyway, a hook's end is still seen at once (a pidfd) but its status
 * is unknown (-1, logged).
 *
 * Hooks run one after the other and each call waits for them: up to
 * NM_HOOK_MAX x (timeout + 2 x NM_HOOK_KILL_WAIT_MS).  A daemon runs them
 * outside its event loop (a thread or a process of their own).  A hook
 * still alive a second after SIGKILL (stuck in the kernel, e.g. on a hung
 * NFS mount) is not waited for: it is logged and left behind, unreaped. */
#ifndef NM_HOOK_H
#define NM_HOOK_H

#include <stddef.h>

#include "nm_err.h"

#define NM_HOOK_DIR	     "/etc/nfsmig/hooks.d"
#define NM_HOOK_TIMEOUT_MS   10000
#define NM_HOOK_OUTPUT_MAX   65536 /* bytes of a hook's output logged */
#define NM_HOOK_MAX	     64	   /* hooks run for one event */
#define NM_HOOK_KILL_WAIT_MS 1000  /* SIGTERM to SIGKILL */

/* One hook's fate: status is its exit status (0..255), or 128+N when killed
 * by signal N; timed_out when we killed it for its time limit; -1 when it
 * could not be started, its status was taken by another (SIGCHLD ignored)
 * or it could not be killed (left behind). */
struct nm_hook_result {
	char name[256];
	int status;
	int timed_out;
};

/* Is name one run-parts would run (its default LSB-less rule)? */
int nm_hook_name_ok(const char *name);

/* Is env ("NAME=VALUE") fit to pass: NAME of [A-Z0-9_] starting NFSMIG_,
 * VALUE one line of printable text?  Pure. */
int nm_hook_env_ok(const char *env);

/* Run every hook of hooks_dir (NULL: NM_HOOK_DIR) for one event, one after
 * the other: json on stdin, env the NFSMIG_* variables (NULL-terminated;
 * a value that is not single-line printable is passed escaped, nm_esc),
 * each at most timeout_ms (<= 0: NM_HOOK_TIMEOUT_MS).  log gets every
 * line of their output as "HOOK: LINE" and a line for each failure, escaped.
 * Returns the number of hooks run (>= 0; a missing directory runs none),
 * or a negative errno when the directory cannot be read or is unsafe. */
int nm_hook_run_all(const char *hooks_dir, const char *json, const char *const *env, int timeout_ms,
		    void (*log)(const char *line, void *arg), void *arg, struct nm_err *err);

/* The same, and each hook's result into res[0..max) (as many as ran, the
 * return value, capped at max), and into *not_run (NULL: not counted) the
 * hooks that should have run and did not: refused (a symbolic link, not
 * root's, writable by others) or beyond NM_HOOK_MAX. */
int nm_hook_run_all_res(const char *hooks_dir, const char *json, const char *const *env,
			int timeout_ms, void (*log)(const char *line, void *arg), void *arg,
			struct nm_hook_result *res, size_t max, unsigned *not_run,
			struct nm_err *err);

struct json_object;

/* The hooks for one event (nm_event.h): its JSON (as nm_event_line writes
 * it) on stdin, and NFSMIG_EVENT, NFSMIG_TIME, NFSMIG_TRIGGER,
 * NFSMIG_MOUNTPOINT, NFSMIG_SOURCE, NFSMIG_FROM, NFSMIG_TO, NFSMIG_MESSAGE
 * (those of its keys it has) and NFSMIG_VERIFY (verify's verdict) in their
 * environment; then ev gets "hooks": [{"hook":NAME,"status":N}, ...]
 * ("timed_out":true for one killed at its limit; status -1: not started).
 * Returns as nm_hook_run_all. */
int nm_hook_run_event(const char *hooks_dir, struct json_object *ev, int timeout_ms,
		      void (*log)(const char *line, void *arg), void *arg, struct nm_err *err);

#endif
