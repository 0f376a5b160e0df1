#include "complete.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nm_conf.h"
#include "nm_esc.h"
#include "nm_fsloc.h"
#include "nm_mount.h"
#include "nm_mpath.h"
#include "nm_store.h"
#include "nm_target.h"
#include "opts.h"

struct filter {
	const char *cur;
	nm_complete_emit emit;
	void *arg;
	char **seen; /* servers already emitted */
	size_t nseen;
	bool numeric; /* addresses only (migrate --to: the kernel takes no name) */
};

static void offer(struct filter *f, const char *cand)
{
	/* A name the terminal would have to see escaped (a control, a C1 or a
	 * format character, a newline, bytes that are not UTF-8: a mount point
	 * the kernel named after a server's entry can hold any of them) is
	 * never a candidate: neither a shell nor a list of matches shows it raw. */
	if (cand && cand[0] && !nm_esc_needed(cand, 0) &&
	    strncmp(cand, f->cur, strlen(f->cur)) == 0)
		f->emit(cand, f->arg);
}

static void offer_server(struct filter *f, const char *s)
{
	char **g;

	/* Only host names and addresses: a name from a server or a record is
	 * never offered to a shell unless it is one. */
	unsigned char a[16];

	if (!s || !nm_target_host_name_ok(s))
		return;
	if (f->numeric && inet_pton(AF_INET, s, a) != 1 && inet_pton(AF_INET6, s, a) != 1)
		return;
	for (size_t i = 0; i < f->nseen; i++)
		if (strcmp(f->seen[i], s) == 0)
			return;
	g = realloc(f->seen, (f->nseen + 1) * sizeof(*g));
	if (!g)
		return;
	f->seen = g;
	if ((f->seen[f->nseen] = strdup(s)) == NULL)
		return;
	f->nseen++;
	offer(f, s);
}

/* Mount points, or servers: from the mount table and the records. */
static void offer_mounts(struct filter *f, int n, char **words, const char *mountinfo, int mounts,
			 int servers)
{
	struct nm_mount *all = NULL;
	struct nm_err err = { 0 };
	char state_dir[NM_CONF_PATH_MAX];
	const char *sd = nm_words_option(n, words, "--state-dir");
	const char *mi = nm_words_option(n, words, "--mountinfo");
	size_t nm = 0;

	if (!sd || !*sd) {
		nm_opt_default_state_dir(state_dir, sizeof(state_dir));
		sd = state_dir;
	}
	if (nm_mount_list(mi && *mi ? mi : mountinfo, &all, &nm, &err) < 0)
		return;
	for (size_t i = 0; i < nm; i++) {
		struct nm_record r;

		if (mounts && all[i].vers == 4)
			offer(f, all[i].target);
		if (!servers)
			continue;
		offer_server(f, all[i].source_host);
		offer_server(f, all[i].server);
		if (nm_store_load(sd, all[i].target, &r, &err) < 0)
			continue;
		offer_server(f, r.orig_server);
		offer_server(f, r.cur_server);
		/* The addresses it moved between (migrate's own moves too). */
		for (size_t k = 0; k < r.nmoves; k++) {
			offer_server(f, r.moves[k].from);
			offer_server(f, r.moves[k].to);
		}
		/* fs_locations seen: "server:/rootpath". */
		for (size_t k = 0; k < r.nlocations; k++) {
			char *host = nm_fsloc_location_host(r.locations[k]);

			offer_server(f, host);
			free(host);
		}
		nm_record_free(&r);
	}
	nm_mount_list_free(all, nm);
}

/* The columns of a table command: its own --list-columns, in a child. */
static void offer_columns(struct filter *f, const struct nm_command *c)
{
	char line[256], *argv[] = { (char *)c->name, "--list-columns", NULL };
	int fds[2], status;
	pid_t pid;
	FILE *in;

	if (!c || pipe(fds) < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(1);
		optind = 1;
		int rc = c->run(2, argv);

		fflush(stdout);
		_exit(rc);
	}
	close(fds[1]);
	in = fdopen(fds[0], "r");
	if (!in) {
		close(fds[0]);
	} else {
		/* "NAME TYPE DESCRIPTION", then one column per line. */
		for (int n = 0; fgets(line, sizeof(line), in); n++) {
			line[strcspn(line, " \t\n")] = '\0';
			if (n > 0)
				offer(f, line);
		}
		fclose(in);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* How long completion waits for a directory on NFS. */
#define NM_COMPLETE_LIST_MS  2000
#define NM_COMPLETE_LIST_MAX 10000

/*
 * File names for cur when its directory is on NFS or holds an NFS mount
 * point (nm_mount_place): listed here, by a child
 * with a deadline, because the caller's own file completion (readline's,
 * bash's compgen -f) would readdir and stat it with none, and hang on a
 * server that does not answer.  Directories get a trailing '/'.  Returns
 * kind when the directory is not on NFS (the caller completes it), else
 * NM_ARG_NONE.
 */
static enum nm_arg_kind offer_files(struct filter *f, enum nm_arg_kind kind)
{
	const char *slash = strrchr(f->cur, '/'), *base = slash ? slash + 1 : f->cur;
	size_t dlen = slash ? (size_t)(slash - f->cur) + 1 : 0, baselen = strlen(base);
	struct nm_mpath_entry *e = NULL;
	struct nm_err err = { 0 };
	char *dir = strndup(f->cur, dlen), *abs = NULL;
	size_t n = 0;
	bool nfs = false;

	/* The live table: a --mountinfo names a saved one, not this system. */
	if (!dir || nm_mount_place(NULL, dlen ? dir : ".", &abs, &nfs, &err) < 0 || !nfs) {
		free(dir);
		free(abs);
		return kind;
	}
	if (nm_mpath_list(abs, NM_COMPLETE_LIST_MS, NM_COMPLETE_LIST_MAX, &e, &n, &err) == 0)
		for (size_t i = 0; i < n; i++) {
			char *cand = NULL;

			if (strncmp(e[i].name, base, baselen) != 0 ||
			    (e[i].name[0] == '.' && base[0] != '.') ||
			    (kind == NM_ARG_DIR && !e[i].dir && !e[i].unknown))
				continue;
			if (asprintf(&cand, "%s%s%s", dir, e[i].name, e[i].dir ? "/" : "") >= 0)
				offer(f, cand);
			free(cand);
		}
	nm_mpath_entries_free(e, n);
	free(dir);
	free(abs);
	return NM_ARG_NONE;
}

static enum nm_arg_kind offer_kind(struct filter *f, enum nm_arg_kind kind, int n, char **words,
				   int in_shell, const char *mountinfo)
{
	int amb;

	switch (kind) {
	case NM_ARG_FILE:
	case NM_ARG_DIR: return offer_files(f, kind);
	case NM_ARG_MOUNT: offer_mounts(f, n, words, mountinfo, 1, 0); break;
	case NM_ARG_SERVER: offer_mounts(f, n, words, mountinfo, 0, 1); break;
	case NM_ARG_TARGET:
		offer_mounts(f, n, words, mountinfo, 1, 0);
		/* A path below a mount point is a file name too. */
		if (f->cur[0] == '/' || f->cur[0] == '.')
			return offer_files(f, NM_ARG_FILE);
		break;
	case NM_ARG_COMMAND:
		for (size_t i = 0; i < nm_ncommands; i++)
			if (in_shell || !nm_commands[i].shell_only)
				offer(f, nm_commands[i].name);
		break;
	case NM_ARG_COLUMNS:
		if (n > 0)
			offer_columns(f, nm_command_resolve(words[0], in_shell, &amb));
		break;
	case NM_ARG_VERS:
		offer(f, "4.0");
		offer(f, "4.1");
		offer(f, "4.2");
		break;
	default: break;
	}
	return NM_ARG_NONE;
}

enum nm_arg_kind nm_complete(int n, char **words, const char *cur, int in_shell,
			     const char *mountinfo, nm_complete_emit emit, void *arg)
{
	struct filter f = { .cur = cur ? cur : "", .emit = emit, .arg = arg };
	struct nm_option opts[NM_MAX_OPTIONS];
	const struct nm_command *c;
	enum nm_arg_kind ret = NM_ARG_NONE;
	size_t no;
	int amb;

	if (n <= 0)
		return offer_kind(&f, NM_ARG_COMMAND, 0, words, in_shell, mountinfo);
	c = nm_command_resolve(words[0], in_shell, &amb);
	if (!c)
		return NM_ARG_NONE;
	no = nm_command_options(c, opts, NM_MAX_OPTIONS);
	/* The value of an option? */
	enum nm_arg_kind value = NM_ARG_NONE;

	if (n >= 2 && words[n - 1][0] == '-')
		for (size_t i = 0; i < no; i++)
			if (strcmp(words[n - 1], opts[i].name) == 0 ||
			    (opts[i].alias[0] && strcmp(words[n - 1], opts[i].alias) == 0))
				value = opts[i].arg;
	if (value != NM_ARG_NONE) {
		f.numeric = strcmp(c->name, "migrate") == 0 && strcmp(words[n - 1], "--to") == 0;
		ret = offer_kind(&f, value, n, words, in_shell, mountinfo);
	} else if (f.cur[0] == '-') {
		for (size_t i = 0; i < no; i++) {
			offer(&f, opts[i].name);
			offer(&f, opts[i].alias);
		}
		offer(&f, "--help");
	} else {
		ret = offer_kind(&f, c->operand, n, words, in_shell, mountinfo);
	}
	for (size_t i = 0; i < f.nseen; i++)
		free(f.seen[i]);
	free(f.seen);
	return ret;
}

static void print_line(const char *cand, void *arg)
{
	(void)arg;
	puts(cand);
}

int nm_complete_main(int argc, char **argv)
{
	enum nm_arg_kind k;

	/* argv[0] is "__complete"; the last word is the one being completed. */
	if (argc < 2)
		k = nm_complete(0, NULL, "", 0, NULL, print_line, NULL);
	else
		k = nm_complete(argc - 2, argv + 1, argv[argc - 1], 0, NULL, print_line, NULL);
	if (k == NM_ARG_FILE)
		puts(":files");
	else if (k == NM_ARG_DIR)
		puts(":dirs");
	return NM_EXIT_OK;
}
