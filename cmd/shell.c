#include "shell.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "complete.h"
#include "nm_esc.h"
#include "nm_line.h"
#include "output.h"

#define MAX_WORDS     64
#define HISTORY_LINES 1000

struct shell {
	const char *mountinfo; /* the table every command uses, or NULL */
	int force;	       /* batch: go on after a failure */
	char history[PATH_MAX];
	int quit;
};

/* One shell per process: readline's callbacks take no argument. */
static struct shell *the_shell;

static int builtin(struct shell *sh, const struct nm_command *c)
{
	if (strcmp(c->name, "quit") == 0) {
		sh->quit = 1;
		return NM_EXIT_OK;
	}
	/* history */
	HIST_ENTRY **h = history_list();

	for (int i = 0; h && h[i]; i++)
		nm_out_printf(stdout, "%5d  %s\n", i + history_base, h[i]->line);
	return NM_EXIT_OK;
}

static volatile sig_atomic_t got_interrupt;

static void on_interrupt(int sig)
{
	(void)sig;
	got_interrupt = 1;
}

/* Run one command line; returns its exit status. */
static int run_line(struct shell *sh, char *line)
{
	char *words[MAX_WORDS + 3];
	const struct nm_command *c;
	int n = nm_line_split(line, words, MAX_WORDS), amb, status;
	pid_t pid;

	if (n < 0) {
		fprintf(stderr, "nfsmig: unbalanced quote or more than %d words\n", MAX_WORDS);
		return NM_EXIT_USAGE;
	}
	if (n == 0)
		return NM_EXIT_OK;
	c = nm_command_resolve(words[0], 1, &amb);
	if (!c && amb) {
		nm_out_printf(stderr, "nfsmig: '%s' is ambiguous:", words[0]);
		for (size_t i = 0; i < nm_ncommands; i++)
			if (strncmp(nm_commands[i].name, words[0], strlen(words[0])) == 0)
				fprintf(stderr, " %s", nm_commands[i].name);
		fputc('\n', stderr);
		return NM_EXIT_USAGE;
	}
	if (!c) {
		nm_out_printf(stderr, "nfsmig: no command '%s' (try: help)\n", words[0]);
		return NM_EXIT_USAGE;
	}
	if (c->shell_only)
		return builtin(sh, c);
	words[0] = (char *)c->name;
	/* The shell's mount table is every command's. */
	if (sh->mountinfo && nm_command_takes(c, "--mountinfo") &&
	    !nm_words_option(n, words, "--mountinfo")) {
		words[n++] = "--mountinfo";
		words[n++] = (char *)sh->mountinfo;
	}
	words[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	/* A child runs it: Ctrl-C ends the command, not the shell, and each
	 * command starts from a clean slate (getopt, exit paths). */
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "nfsmig: cannot fork: %s\n", strerror(errno));
		return NM_EXIT_FAIL;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		optind = 1;
		int rc = c->run(n, words);

		fflush(stdout);
		fflush(stderr);
		_exit(rc);
	}
	/* Ctrl-C reaches the child from the terminal; but a command inside an
	 * RPC has every signal blocked (libtirpc does so around a call), so
	 * the shell ends it with SIGKILL when it has not gone within 200 ms. */
	struct sigaction note = { .sa_handler = on_interrupt }, old;
	int interrupted = 0;

	sigemptyset(&note.sa_mask);
	got_interrupt = 0;
	sigaction(SIGINT, &note, &old);
	for (;;) {
		if (waitpid(pid, &status, got_interrupt ? WNOHANG : 0) == pid)
			break;
		if (got_interrupt) {
			if (!interrupted) {
				interrupted = 1;
				kill(pid, SIGINT);
			}
			usleep(10000);
			/* rehearse lets go first (LOCKU, CLOSE, DESTROY_*):
			 * up to 15 s, each call within its deadline. */
			if (++interrupted > (c->run == nm_cmd_rehearse ? 1500 : 20))
				kill(pid, SIGKILL);
		}
	}
	sigaction(SIGINT, &old, NULL);
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGINT || (interrupted && WTERMSIG(status) == SIGKILL)) {
			fputs("^C\n", stderr);
			return 128 + SIGINT;
		}
		fprintf(stderr, "nfsmig: %s ended by signal %d\n", c->name, WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

/* --- the terminal ---------------------------------------------------------------- */

struct matches {
	char **v;
	size_t n;
};

static void collect(const char *cand, void *arg)
{
	struct matches *m = arg;
	char **g = realloc(m->v, (m->n + 2) * sizeof(*g));

	if (!g)
		return;
	m->v = g;
	if ((m->v[m->n] = strdup(cand)) != NULL)
		m->n++;
	m->v[m->n] = NULL;
}

/* The characters nm_line_split acts on: a candidate holding one is inserted
 * with a backslash before it, so the line reads back as the candidate. */
static const char special[] = " \t\n\r'\"\\#";

/* Is line[i] quoted by a backslash (and so not a word break)? */
static int quoted_at(char *line, int i)
{
	int n = 0;

	while (i - n > 0 && line[i - n - 1] == '\\')
		n++;
	return n % 2;
}

static char *quote_word(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (strchr(special, *s))
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

static char **complete(const char *text, int start, int end)
{
	struct matches m = { 0 };
	/* Inside an open quote readline hands the word without its quote:
	 * the words before it end before that quote. */
	int qc = rl_completion_quote_character;
	size_t before = qc && start > 0 ? (size_t)start - 1 : (size_t)start;
	char *copy = strndup(rl_line_buffer, before), *words[MAX_WORDS];
	char *cur = strdup(text), *cw[1] = { cur };
	int n = copy ? nm_line_split(copy, words, MAX_WORDS) : -1;
	enum nm_arg_kind k;

	(void)end;
	rl_attempted_completion_over = 1;
	/* The word being completed, as nm_line_split reads it: quoted with
	 * '...' it is as it is; with "..." or none, backslashes escape. */
	if (qc == '"' && cur) {
		char *w = cur;

		for (char *r = cur; *r; r++) {
			if (*r == '\\' && r[1])
				r++;
			*w++ = *r;
		}
		*w = '\0';
	}
	if (n < 0 || !cur || (!qc && nm_line_split(cur, cw, 1) < 0)) {
		free(copy);
		free(cur);
		return NULL;
	}
	k = nm_complete(n, words, cw[0] ? cw[0] : "", 1, the_shell->mountinfo, collect, &m);
	free(copy);
	free(cur);
	size_t kept = 0;

	for (size_t i = 0; i < m.n; i++) {
		/* In quotes readline closes the quote: the candidate as it is,
		 * unless it holds that quote (or, in "...", a backslash): then
		 * it cannot be written there, and is not offered. */
		bool unfit = qc && (strchr(m.v[i], qc) || (qc == '"' && strchr(m.v[i], '\\')));
		char *q = unfit ? NULL : qc ? strdup(m.v[i]) : quote_word(m.v[i]);

		free(m.v[i]);
		if (q) /* (out of memory: not offered either) */
			m.v[kept++] = q;
	}
	m.n = kept;
	if (m.v)
		m.v[kept] = NULL;
	if (k == NM_ARG_FILE || k == NM_ARG_DIR) {
		for (size_t i = 0; i < m.n; i++)
			free(m.v[i]);
		free(m.v);
		rl_attempted_completion_over = 0; /* readline's file names */
		return NULL;
	}
	if (m.n == 0) {
		free(m.v);
		return NULL;
	}
	/* readline wants the common prefix first, then the matches. */
	char **out = malloc((m.n + 2) * sizeof(*out));
	size_t lcp = strlen(m.v[0]);

	if (!out) {
		for (size_t i = 0; i < m.n; i++)
			free(m.v[i]);
		free(m.v);
		return NULL;
	}
	for (size_t i = 1; i < m.n; i++) {
		size_t j = 0;

		while (j < lcp && m.v[i][j] == m.v[0][j])
			j++;
		lcp = j;
	}
	out[0] = strndup(m.v[0], lcp);
	memcpy(out + 1, m.v, m.n * sizeof(*out));
	out[m.n + 1] = NULL;
	free(m.v);
	if (m.n == 1) { /* one match: it alone */
		/* A directory (listed on NFS by nm_complete): go on typing in it. */
		if (out[1][0] && out[1][strlen(out[1]) - 1] == '/')
			rl_completion_suppress_append = 1;
		free(out[0]);
		out[0] = out[1];
		out[1] = NULL;
	}
	return out;
}

/* Tab Tab: the matches listed escaped (readline's own list would write a
 * local file's name raw: ESC, a C1 control, a bidi override). */
static void show_matches(char **matches, int num, int max_length)
{
	(void)max_length;
	fputc('\n', rl_outstream);
	for (int i = 1; i <= num; i++) {
		const char *m = matches[i], *base = strrchr(m, '/');
		char *e;

		/* File names as readline shows them: the part after the last '/'. */
		if (rl_filename_completion_desired && base && base[1])
			m = base + 1;
		e = nm_esc(m, strlen(m), 0);
		fprintf(rl_outstream, "%s%s", e ? e : "?", i == num ? "\n" : "  ");
		free(e);
	}
	rl_forced_update_display();
}

static void on_sigint(int sig)
{
	(void)sig;
	/* Abandon the line being typed: a fresh prompt. */
	rl_crlf();
	rl_replace_line("", 0);
	rl_on_new_line();
	rl_redisplay();
}

static void history_path(struct shell *sh)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX - 16];

	sh->history[0] = '\0';
	if (x && x[0] == '/')
		snprintf(dir, sizeof(dir), "%s/nfsmig", x);
	else if (home && home[0] == '/')
		snprintf(dir, sizeof(dir), "%s/.local/state/nfsmig", home);
	else
		return;
	/* mkdir -p, owner only. */
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(dir, 0700);
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return;
	snprintf(sh->history, sizeof(sh->history), "%s/history", dir);
}

static void save_history(struct shell *sh)
{
	if (!sh->history[0])
		return;
	int fd = open(sh->history, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return;
	close(fd);
	if (write_history(sh->history) == 0)
		history_truncate_file(sh->history, HISTORY_LINES);
}

static void prompt(const struct shell *sh, char *buf, size_t len)
{
	char host[64] = "";

	if (sh->mountinfo) {
		const char *b = strrchr(sh->mountinfo, '/');

		snprintf(buf, len, "nfsmig (%s)> ", b ? b + 1 : sh->mountinfo);
		return;
	}
	gethostname(host, sizeof(host) - 1);
	snprintf(buf, len, "nfsmig (%s)> ", host[0] ? host : "localhost");
}

static int interactive(struct shell *sh)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	char p[128];
	int last = NM_EXIT_OK;

	rl_readline_name = "nfsmig";
	rl_attempted_completion_function = complete;
	/* Words break at blanks only, as nm_line_split reads them; a blank
	 * after a backslash or inside quotes is part of the word. */
	rl_completer_word_break_characters = " \t\n";
	rl_completer_quote_characters = "'\"";
	rl_char_is_quoted_p = quoted_at;
	rl_completion_display_matches_hook = show_matches;
	rl_catch_signals = 0;
	history_path(sh);
	using_history();
	stifle_history(HISTORY_LINES);
	if (sh->history[0])
		read_history(sh->history);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	printf("nfsmig %s: help lists the commands, Tab completes, Ctrl-D leaves.\n",
	       PACKAGE_VERSION);
	while (!sh->quit) {
		char *line;

		prompt(sh, p, sizeof(p));
		line = readline(p);
		if (!line) { /* Ctrl-D */
			putchar('\n');
			break;
		}
		if (line[strspn(line, " \t")]) {
			add_history(line);
			save_history(sh);
			last = run_line(sh, line);
		}
		free(line);
	}
	save_history(sh);
	return last;
}

static int batch(struct shell *sh, FILE *in, const char *name)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int worst = NM_EXIT_OK;

	while (!sh->quit && getline(&line, &cap, in) >= 0) {
		int rc;

		lineno++;
		rc = run_line(sh, line);
		if (rc != NM_EXIT_OK) {
			nm_out_printf(stderr, "nfsmig: %s line %u failed (exit status %d)%s\n",
				      name, lineno, rc,
				      sh->force ? "" : ": stopping (-force goes on)");
			if (!sh->force) {
				free(line);
				return rc;
			}
			worst = NM_EXIT_FAIL;
		}
	}
	free(line);
	return worst;
}

int nm_shell_main(int argc, char **argv)
{
	struct shell sh = { 0 };
	const char *file = NULL;
	FILE *in = stdin;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-force") == 0 || strcmp(argv[i], "--force") == 0) {
			sh.force = 1;
		} else if ((strcmp(argv[i], "-batch") == 0 || strcmp(argv[i], "--batch") == 0 ||
			    strcmp(argv[i], "-b") == 0) &&
			   i + 1 < argc) {
			file = argv[++i];
		} else if (strcmp(argv[i], "--mountinfo") == 0 && i + 1 < argc) {
			sh.mountinfo = argv[++i];
		} else {
			nm_out_printf(stderr, "nfsmig: unknown option '%s' (try: nfsmig help)\n",
				      argv[i]);
			return NM_EXIT_USAGE;
		}
	}
	the_shell = &sh;
	if (file && strcmp(file, "-") != 0) {
		in = fopen(file, "re");
		if (!in) {
			fprintf(stderr, "nfsmig: cannot open %s: %s\n", file, strerror(errno));
			return NM_EXIT_FAIL;
		}
	}
	if (!file && isatty(STDIN_FILENO))
		rc = interactive(&sh);
	else
		rc = batch(&sh, in, file && strcmp(file, "-") ? file : "stdin");
	if (in != stdin)
		fclose(in);
	return rc;
}

int nm_cmd_builtin(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "nfsmig: %s works in the shell (nfsmig with no command)\n", argv[0]);
	return NM_EXIT_USAGE;
}
