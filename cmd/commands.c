#include "commands.h"

#include <stdio.h>
#include <string.h>

#include "output.h"

/* Help lines that several commands share. */
#define HELP_TABLE                                                                                 \
	"  -J, --json              JSON output\n"                                                  \
	"  -o, --output LIST       columns to show (+LIST adds to the default)\n"                  \
	"      --list-columns      list the columns and exit\n"                                    \
	"  -n, --noheadings        no header line\n"                                               \
	"  -r, --raw               raw output\n"
#define HELP_MOUNTINFO                                                                             \
	"      --mountinfo FILE    read this mount table instead of\n"                             \
	"                          /proc/self/mountinfo\n"
#define HELP_STATEDIR                                                                              \
	"      --state-dir DIR     where the records are (default: state_dir of\n"                 \
	"                          /etc/nfsmig.conf, /var/lib/nfsmig)\n"

const struct nm_command nm_commands[] = {
	{
		.name = "locations",
		.args = "[options] PATH | SERVER[:PORT]:/PATH",
		.summary = "ask the server for the fs_locations and fsid of a path",
		.operand = NM_ARG_TARGET,
		.help = "PATH is a file or directory on an NFSv4 mount: its server (addr=),\n"
			"port, version and security flavor come from the mount table.\n"
			"After a move the record's location on the mount's new server gives\n"
			"the path there.\n"
			"SERVER[:PORT]:/PATH asks SERVER directly ([ADDRESS] for IPv6), trying\n"
			"NFSv4.2, 4.1 then 4.0 unless --nfsvers says which.\n"
			"\n"
			"Shows fs_root and one row per location (server, rootpath), each server\n"
			"name resolved to all its addresses and checked for reach by a TCP\n"
			"connect to port 2049.\n"
			"\n"
			"Options:\n" HELP_TABLE HELP_MOUNTINFO
			"      --nfsvers 4.N       NFSv4 minor version to use (4.0, 4.1, 4.2)\n"
			"  -t, --timeout SECONDS   deadline for connecting and for each reply\n"
			"                          (default 10)\n"
			"      --reach-timeout SECONDS  deadline of the reach checks (default 2)\n"
			"      --no-reach          do not resolve or check the "
			"locations\n" HELP_STATEDIR
			"  -v, --verbose           say how many COMPOUNDs and RPCs it took\n",
		.run = nm_cmd_locations,
	},
	{
		.name = "register",
		.args = "[options] [MOUNT...]",
		.summary = "save each NFSv4 mount's root file handle and fsid while it is fresh",
		.help = "Asks the server of each MOUNT (all NFSv4 mounts without a record when\n"
			"none is named) for the root file handle, fsid, fileid, fh_expire_type\n"
			"and fs_locations of the mounted export, and saves them in a record: what\n"
			"verify compares the destination with after a move.\n"
			"\n"
			"Options:\n" HELP_MOUNTINFO HELP_STATEDIR
			"  -t, --timeout SECONDS   deadline for connecting and for each reply\n"
			"  -f, --force             register again a mount that has a record\n",
		.operand = NM_ARG_MOUNT,
		.run = nm_cmd_register,
	},
	{
		.name = "mounts",
		.args = "[options]",
		.summary = "list NFS mounts with the server now, at registration, and their state",
		.help = "STATE is registered, moved (served by another server than at\n"
			"registration), referral (an unregistered mount the kernel made on\n"
			"crossing a referral to another server), unregistered, corrupt (the\n"
			"record cannot be read) or not NFSv4.\n"
			"\n"
			"Options:\n" HELP_TABLE HELP_MOUNTINFO HELP_STATEDIR,
		.run = nm_cmd_mounts,
	},
	{
		.name = "show",
		.args = "[options] MOUNT",
		.summary = "everything known about one mount",
		.help = "Options:\n"
			"  -J, --json              JSON output\n" HELP_MOUNTINFO HELP_STATEDIR,
		.operand = NM_ARG_MOUNT,
		.run = nm_cmd_show,
	},
	{
		.name = "verify",
		.args = "[options] [MOUNT...]",
		.summary = "after a cutover: is each NFSv4 mount served as it should be?",
		.help = "Checks each MOUNT (every NFSv4 mount when none is named):\n"
			"  destination  the kernel's server (addr=) is --to, a recorded location,\n"
			"               or at least not the original server\n"
			"  nfs          the destination answers NFSv4 at the mount's version\n"
			"  same_fs      the root file handle saved at registration is valid "
			"there,\n"
			"               with the same fsid and fileid (volatile handles: WARN)\n"
			"  security     the destination offers the mount's security flavor\n"
			"  source       with --source, the source answers MOVED and lists the\n"
			"               destination\n"
			"  state        for a moved mount, three samples of mountstats and\n"
			"               /proc/net/rpc/nfs: FAIL when stateful operations (WRITE,\n"
			"               LOCK...) keep failing while the recovery (RENEW,\n"
			"               TEST_STATEID...) climbs with them: the client loops on\n"
			"               state the destination never had; failing with no\n"
			"               recovery call at all (a lock denied, ENOSPC): OK; with\n"
			"               some, not of that order: WARN, cannot tell\n"
			"  record       the record agrees with the kernel; a confirmed move is\n"
			"               recorded\n"
			"Mounts are grouped by server: one connection each, many mounts per\n"
			"COMPOUND, servers in parallel.  Exit 0 all OK, 1 any FAIL, 3 only WARN.\n"
			"\n"
			"Options:\n"
			"      --to SERVER         the destination the mounts must be on\n"
			"      --source SERVER[:PORT][:/PATH]  the source, asked for MOVED\n"
			"      --no-update         do not record a confirmed move\n"
			"      --state-interval SECONDS  time between the first and last\n"
			"                          state samples (default 1; 0 skips it)\n"
			"      --mountstats FILE   read the samples from FILE instead of\n"
			"                          /proc/self/mountstats (given twice: the\n"
			"                          first and the second sample)\n"
			"      --prometheus FILE   also write each mount's gauges to FILE in\n"
			"                          the Prometheus text format (atomically)\n"
			"  -J, --json              JSON output\n"
			"  -t, --timeout SECONDS   deadline for connecting and for each reply\n"
			"  -v, --verbose           say how many servers and RPCs it "
			"took\n" HELP_MOUNTINFO HELP_STATEDIR,
		.operand = NM_ARG_MOUNT,
		.run = nm_cmd_verify,
	},
	{
		.name = "migrate",
		.args = "[options] MOUNT --to ADDRESS",
		.summary = "move a mount's transport to another address of the same server",
		.help = "Checks first, each answered or the move is not made:\n"
			"  nfs          ADDRESS answers NFSv4 at the mount's version\n"
			"  same_server  ADDRESS is the same server as the mount's address now\n"
			"               (4.1+: EXCHANGE_ID's server_owner major ID, scope\n"
			"               and client ID; 4.0: one client ID on both, RFC 7931)\n"
			"  same_fs      the root file handle saved at registration is valid\n"
			"               there, with the same fsid and fileid\n"
			"  security     ADDRESS offers the mount's security flavor\n"
			"Another server is refused: that move is the server's to make\n"
			"(fs_locations); `nfsmig rehearse` shows whether the clients survive it.\n"
			"Then ADDRESS is written to each of the mount's transports\n"
			"(/sys/kernel/sunrpc/xprt-switches/*/xprt-*/dstaddr, every mount of the\n"
			"same address moves with it), the mount is asked to answer and its\n"
			"addr= to change; on failure the old address is written back.  The move\n"
			"is recorded and a transport-move event written.  Exit 0 moved (or the\n"
			"dry run passed), 1 refused, failed or moved back, 3 a check not "
			"answered.\n"
			"\n"
			"Options:\n"
			"      --to ADDRESS        the address to move to (numeric)\n"
			"      --dry-run           run the checks only\n"
			"      --mountinfo FILE    take MOUNT from this saved table (the\n"
			"                          checks only)\n"
			"  -J, --json              JSON output\n"
			"  -t, --timeout SECONDS   deadline for connecting, each reply and the\n"
			"                          mount's answer (default 10)\n" HELP_STATEDIR,
		.operand = NM_ARG_MOUNT,
		.run = nm_cmd_migrate,
	},
	{
		.name = "events",
		.args = "[options] [MOUNT]",
		.summary = "show what nfsmigd saw happen to the mounts, or follow it live",
		.help = "The event log of nfsmigd (STATE_DIR/events.log.1, then events.log):\n"
			"moves, mounts, failed migrations, oldest first; only MOUNT's when it\n"
			"is given.  One line per event: local time, event, mount point,\n"
			"FROM -> TO, trigger=, verify= (its verdict), fstab= (entries that\n"
			"still name the old server), message; every text escaped.  Lines of\n"
			"the log that are not events are skipped and counted on stderr.\n"
			"\n"
			"Options:\n"
			"  -f, --follow            then show each new event as it is written,\n"
			"                          until Ctrl-C\n"
			"  -J, --json              JSON lines: one object per line, as stored\n"
			"      --since TIME        only events at or after TIME: seconds since\n"
			"                          the epoch, a local date or time (2026-11-25,\n"
			"                          2026-11-25T10:00:00), a time ago (30s, 10m,\n"
			"                          2h, 1d, 1w) or now (-f: new events "
			"only)\n" HELP_STATEDIR,
		.operand = NM_ARG_MOUNT,
		.run = nm_cmd_events,
	},
	{
		.name = "fstab",
		.args = "[options] [MOUNT...]",
		.summary =
			"fstab and autofs map lines that still mount a moved file system from its "
			"old server",
		.help = "For each moved NFSv4 mount (MOUNT, or every one; its record says where "
			"it\n"
			"was, the kernel where it is), lists the lines of /etc/fstab and of the\n"
			"autofs file maps (those /etc/auto.master and /etc/auto.master.d/*.autofs\n"
			"name) that still name the old server (by a name or an address the\n"
			"record knows) for its export path or a path below it, each with the\n"
			"line that would replace it: the server of the recorded location the\n"
			"kernel uses now, and its path when the export moved to another one.\n"
			"Files are only rewritten with --apply: atomically, mode and owner kept,\n"
			"every other byte as it was, the original kept as FILE.nfsmig-TIME.\n"
			"A symbolic link is read through, never rewritten.\n"
			"Exit 0 nothing to change (or all rewritten), 3 lines to change (without\n"
			"--apply), 1 a line or a file that could not be rewritten or read, or a\n"
			"named mount with no record.\n"
			"\n"
			"Options:\n"
			"      --apply             rewrite the files\n"
			"      --root DIR          read and write the files under DIR (default /)\n"
			"  -J, --json              JSON output\n"
			"  -t, --timeout SECONDS   deadline for resolving a recorded location's\n"
			"                          name and the old names (one that resolves to\n"
			"                          the server now is left as it is; default "
			"2)\n" HELP_MOUNTINFO HELP_STATEDIR,
		.operand = NM_ARG_MOUNT,
		.run = nm_cmd_fstab,
	},
	{
		.name = "status",
		.args = "[options]",
		.summary = "is nfsmigd running, what it watches, its last event",
		.help = "Asks nfsmigd over its control socket (STATUS; only a daemon run by\n"
			"root or by you is believed): its pid and uptime, the sources its\n"
			"watcher has live (tracefs, uevent, kmsg, mountinfo, upcall, rescan),\n"
			"the names in its cache, the watcher's scans and jobs; and the last\n"
			"event of the event log.  Exit 0 when the daemon runs, 1 when not.\n"
			"\n"
			"Options:\n"
			"  -J, --json              JSON output\n"
			"      --socket FILE       the daemon's socket (default: socket of\n"
			"                          /etc/nfsmig.conf)\n" HELP_STATEDIR,
		.operand = NM_ARG_NONE,
		.run = nm_cmd_status,
	},
	{
		.name = "rehearse",
		.args = "[options] SERVER:/PATH/FILE | MOUNT/FILE",
		.summary = "hold a file open and locked through a move, as a client should",
		.help = "A client of its own (never the kernel's client ID) opens FILE for\n"
			"reading on its server (never creates, never writes), locks a read\n"
			"range, reads a block and keeps its checksum, keeps the lease alive and\n"
			"waits for the move (the administrator makes it on the server).  Then:\n"
			"NFS4ERR_MOVED or LEASE_MOVED, migration or referral, fs_locations,\n"
			"each location resolved and connected (one client per destination\n"
			"server), the flavor there, whether the state came along, else reclaim,\n"
			"else re-OPEN and re-LOCK (and for how long the lock was unprotected),\n"
			"the READ again; every step with its time and RPCs, then a verdict per\n"
			"file and what the Linux client will do in that case.\n"
			"MOUNT/FILE takes the mount's server (addr=), export, port and version.\n"
			"Exit 0 when every file's state moved transparently, was reclaimed or\n"
			"was kept; 1 when re-opened, taken in the gap, lost or read differently;\n"
			"2 usage; 3 when a step was not answered; 130 after Ctrl-C (CLOSE,\n"
			"LOCKU, DESTROY_SESSION/DESTROY_CLIENTID done).\n"
			"\n"
			"Options:\n"
			"      --file SPEC         one more file to hold (repeatable)\n"
			"      --now               the move has happened: do not wait\n"
			"      --vers 4.N          NFSv4 minor version (4.0, 4.1, 4.2; default:\n"
			"                          the highest the server speaks)\n"
			"      --sec FLAVOR        security flavor (sys)\n"
			"      --port N            NFS port of the source and every destination\n"
			"      --interval MS       how often to ask while waiting (default 1000)\n"
			"      --wait SECONDS      how long to wait for the move (default 3600)\n"
			"  -t, --timeout SECONDS   deadline of each call (default 10)\n"
			"  -J, --json              JSON output\n" HELP_MOUNTINFO,
		.operand = NM_ARG_TARGET,
		.run = nm_cmd_rehearse,
	},
	{
		.name = "help",
		.args = "[COMMAND]",
		.summary = "list the commands, or show one command's help",
		.help = "",
		.operand = NM_ARG_COMMAND,
		.run = nm_cmd_help,
	},
	{
		.name = "history",
		.args = "",
		.summary = "(shell) show the commands typed, oldest first",
		.help = "The shell keeps them in $XDG_STATE_HOME/nfsmig/history\n"
			"(~/.local/state/nfsmig/history when XDG_STATE_HOME is not set).\n",
		.shell_only = 1,
		.run = nm_cmd_builtin,
	},
	{
		.name = "quit",
		.args = "",
		.summary = "(shell) leave the shell, as Ctrl-D does",
		.help = "",
		.shell_only = 1,
		.run = nm_cmd_builtin,
	},
};

const size_t nm_ncommands = sizeof(nm_commands) / sizeof(nm_commands[0]);

const struct nm_command *nm_command_find(const char *name)
{
	for (size_t i = 0; i < nm_ncommands; i++)
		if (strcmp(nm_commands[i].name, name) == 0)
			return &nm_commands[i];
	return NULL;
}

const struct nm_command *nm_command_resolve(const char *name, int in_shell, int *ambiguous)
{
	const struct nm_command *found = NULL;
	size_t len = strlen(name);
	int n = 0;

	*ambiguous = 0;
	if (len == 0)
		return NULL;
	for (size_t i = 0; i < nm_ncommands; i++) {
		const struct nm_command *c = &nm_commands[i];

		if (c->shell_only && !in_shell)
			continue;
		if (strcmp(c->name, name) == 0)
			return c;
		if (strncmp(c->name, name, len) == 0)
			found = c, n++;
	}
	*ambiguous = n > 1;
	return n == 1 ? found : NULL;
}

static enum nm_arg_kind kind_of(const char *placeholder)
{
	static const struct {
		const char *word;
		enum nm_arg_kind kind;
	} kinds[] = {
		{ "FILE", NM_ARG_FILE },     { "DIR", NM_ARG_DIR },
		{ "SERVER", NM_ARG_SERVER }, { "LIST", NM_ARG_COLUMNS },
		{ "4.N", NM_ARG_VERS },	     { "COMMAND", NM_ARG_COMMAND },
		{ "MOUNT", NM_ARG_MOUNT },   { "ADDRESS", NM_ARG_SERVER },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(placeholder, kinds[i].word, strlen(kinds[i].word)) == 0)
			return kinds[i].kind;
	return NM_ARG_TEXT;
}

size_t nm_command_options(const struct nm_command *c, struct nm_option *out, size_t max)
{
	const char *p = c->help;
	size_t n = 0;

	/* Lines "  -J, --json  ..." or "      --mountinfo FILE  ...". */
	while (p && *p && n < max) {
		const char *eol = strchr(p, '\n'), *q = p;
		struct nm_option o = { .arg = NM_ARG_NONE };
		size_t len;

		if (!eol)
			eol = p + strlen(p);
		while (q < eol && *q == ' ')
			q++;
		if (q - p >= 2 && q + 1 < eol && q[0] == '-' && q[1] != '-' && q + 3 < eol &&
		    q[2] == ',' && q[3] == ' ') {
			memcpy(o.alias, q, 2);
			q += 4;
		}
		if (q - p >= 2 && q + 2 < eol && q[0] == '-' && q[1] == '-') {
			for (len = 0; q + len < eol && q[len] != ' '; len++)
				;
			if (len < sizeof(o.name)) {
				memcpy(o.name, q, len);
				q += len;
				if (q + 1 < eol && q[0] == ' ' && q[1] != ' ')
					o.arg = kind_of(q + 1);
				out[n++] = o;
			}
		}
		p = *eol ? eol + 1 : eol;
	}
	return n;
}

int nm_command_takes(const struct nm_command *c, const char *name)
{
	struct nm_option opts[NM_MAX_OPTIONS];
	size_t n = nm_command_options(c, opts, sizeof(opts) / sizeof(opts[0]));

	for (size_t i = 0; i < n; i++)
		if (strcmp(opts[i].name, name) == 0)
			return 1;
	return 0;
}

const char *nm_words_option(int n, char **words, const char *name)
{
	size_t len = strlen(name);

	for (int i = 1; i < n; i++) {
		if (strcmp(words[i], name) == 0)
			return i + 1 < n ? words[i + 1] : "";
		if (strncmp(words[i], name, len) == 0 && words[i][len] == '=')
			return words[i] + len + 1;
	}
	return NULL;
}

void nm_command_usage(const struct nm_command *c, int to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;

	fprintf(f, "Usage: nfsmig %s %s\n\n%s.\n", c->name, c->args, c->summary);
	if (c->help[0])
		fprintf(f, "\n%s", c->help);
}

int nm_cmd_help(int argc, char **argv)
{
	if (argc > 2) {
		fprintf(stderr, "Usage: nfsmig help [COMMAND]\n");
		return NM_EXIT_USAGE;
	}
	if (argc == 2) {
		const struct nm_command *c = nm_command_find(argv[1]);

		if (!c) {
			nm_out_printf(stderr, "nfsmig: no command '%s' (try: nfsmig help)\n",
				      argv[1]);
			return NM_EXIT_USAGE;
		}
		nm_command_usage(c, 0);
		return NM_EXIT_OK;
	}
	printf("Usage: nfsmig COMMAND [ARGS]\n\nCommands:\n");
	for (size_t i = 0; i < nm_ncommands; i++)
		printf("  %-12s %s\n", nm_commands[i].name, nm_commands[i].summary);
	printf("\nnfsmig help COMMAND shows a command's options.\n");
	return NM_EXIT_OK;
}
