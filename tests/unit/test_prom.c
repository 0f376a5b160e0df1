/* nm_prom: names, label escaping and the document, from tables; the file
 * replaced atomically, and kept whole when a write fails. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nm_conf.h"
#include "nm_prom.h"
#include "nm_store.h"
#include "nm_verify.h"
#include "unit.h"

static void names(struct unit *u)
{
	static const struct {
		const char *name;
		bool metric, label;
	} t[] = {
		{ "nfsmig_mount_moved", true, true },
		{ "a:b", true, false },
		{ "_x", true, true },
		{ "__name__", true, false },
		{ "9lives", false, false },
		{ "", false, false },
		{ "has-dash", false, false },
		{ "has space", false, false },
		{ "ümlaut", false, false },
		{ "state", true, true },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		UNIT_CHECK(u, nm_prom_metric_name_ok(t[i].name) == t[i].metric,
			   "metric name '%s': %s", t[i].name, t[i].metric ? "valid" : "refused");
		UNIT_CHECK(u, nm_prom_label_name_ok(t[i].name) == t[i].label, "label name '%s': %s",
			   t[i].name, t[i].label ? "valid" : "refused");
	}
	UNIT_CHECK(u, !nm_prom_metric_name_ok(NULL), "NULL is no name");
}

static void labels(struct unit *u)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "/mnt/a", "/mnt/a" },
		{ "", "" },
		{ "a\"b", "a\\\"b" },
		{ "a\\b", "a\\\\b" },
		{ "a\nb", "a\\nb" },
		{ "} x{y=\"1\"} 2\n# TYPE", "} x{y=\\\"1\\\"} 2\\n# TYPE" },
		{ "tab\there", "tab\\\\x09here" },
		{ "esc\x1b[31m", "esc\\\\x1b[31m" },
		{ "bad\xff", "bad\\\\xff" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "rlo\xe2\x80\xaeX", "rlo\\\\xe2\\\\x80\\\\xaeX" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *v = nm_prom_label_value(t[i].in);

		UNIT_CHECK(u, v && strcmp(v, t[i].out) == 0, "label value %zu -> %s", i,
			   v ? v : "(null)");
		free(v);
	}
	{
		char *v = nm_prom_label_value(NULL);

		UNIT_CHECK(u, v && !*v, "NULL label value is empty");
		free(v);
	}
}

static const char *const doc_mounts_text =
	"# HELP nfsmig_mount_moved Whether the server the kernel uses for the mount is not the one "
	"at registration (1) or is (0).\n"
	"# TYPE nfsmig_mount_moved gauge\n"
	"nfsmig_mount_moved{mountpoint=\"/mnt/a\",source=\"srv1:/e\",server=\"10.0.0.2\","
	"registered_server=\"10.0.0.1\"} 1\n"
	"nfsmig_mount_moved{mountpoint=\"/mnt/q\\\"\\n\",source=\"s:/\",server=\"s\","
	"registered_server=\"\"} 0\n"
	"# HELP nfsmig_mount_last_move_timestamp_seconds When the mount's last recorded move "
	"happened, seconds since the epoch.\n"
	"# TYPE nfsmig_mount_last_move_timestamp_seconds gauge\n"
	"nfsmig_mount_last_move_timestamp_seconds{mountpoint=\"/mnt/a\",source=\"srv1:/e\","
	"server=\"10.0.0.2\",registered_server=\"10.0.0.1\"} 1795490195\n"
	"# HELP nfsmig_mount_verify_state The mount's last verify verdict: 1 for the state it is "
	"in, 0 for the others.\n"
	"# TYPE nfsmig_mount_verify_state gauge\n"
	"nfsmig_mount_verify_state{mountpoint=\"/mnt/a\",source=\"srv1:/e\",server=\"10.0.0.2\","
	"registered_server=\"10.0.0.1\",state=\"OK\"} 0\n"
	"nfsmig_mount_verify_state{mountpoint=\"/mnt/a\",source=\"srv1:/e\",server=\"10.0.0.2\","
	"registered_server=\"10.0.0.1\",state=\"WARN\"} 0\n"
	"nfsmig_mount_verify_state{mountpoint=\"/mnt/a\",source=\"srv1:/e\",server=\"10.0.0.2\","
	"registered_server=\"10.0.0.1\",state=\"FAIL\"} 1\n"
	"nfsmig_mount_verify_state{mountpoint=\"/mnt/a\",source=\"srv1:/e\",server=\"10.0.0.2\","
	"registered_server=\"10.0.0.1\",state=\"SKIP\"} 0\n";

static const char *const doc_counters_text =
	"# HELP nfsmig_upcalls_total Upcalls nfsmigd answered, by result.\n"
	"# TYPE nfsmig_upcalls_total counter\n"
	"nfsmig_upcalls_total{result=\"ok\"} 7\n"
	"nfsmig_upcalls_total{result=\"negative\"} 0\n"
	"# HELP nfsmig_moves_total Moves nfsmigd reported, by kind.\n"
	"# TYPE nfsmig_moves_total counter\n"
	"nfsmig_moves_total{kind=\"migration\"} 2\n"
	"# HELP nfsmig_lease_moved_total LEASE_MOVED reports nfsmigd saw (the migrations they "
	"announce are counted in nfsmig_moves_total).\n"
	"# TYPE nfsmig_lease_moved_total counter\n"
	"nfsmig_lease_moved_total 4\n"
	"# HELP nfsmig_migrations_failed_total Mounts whose migration failed, as the kernel told "
	"nfsmigd.\n"
	"# TYPE nfsmig_migrations_failed_total counter\n"
	"nfsmig_migrations_failed_total 1\n"
	"# HELP nfsmig_hook_failures_total Hooks that failed, timed out or could not be run.\n"
	"# TYPE nfsmig_hook_failures_total counter\n"
	"nfsmig_hook_failures_total 3\n"
	"# HELP nfsmig_scans_total Looks nfsmigd took at the mount table.\n"
	"# TYPE nfsmig_scans_total counter\n"
	"nfsmig_scans_total 12345678901\n";

static void document(struct unit *u)
{
	const struct nm_prom_mount mounts[] = {
		{ "/mnt/a", "srv1:/e", "10.0.0.2", "10.0.0.1", true, 1795490195, NM_V_FAIL },
		{ "/mnt/q\"\n", "s:/", "s", NULL, false, 0, -1 },
	};
	const struct nm_prom_count up[] = { { "ok", 7 }, { "negative", 0 } };
	const struct nm_prom_count mv[] = { { "migration", 2 } };
	struct nm_prom_doc d = { .mounts = mounts, .nmounts = 2 };
	struct nm_err err = { 0 };
	char *text = NULL, *want = NULL;
	size_t len = 0;
	int rc;

	rc = nm_prom_format(&d, &text, &len, &err);
	UNIT_CHECK(u, rc == 0 && text && strcmp(text, doc_mounts_text) == 0 && len == strlen(text),
		   "mounts only (verify's file): no counters");
	if (text && strcmp(text, doc_mounts_text) != 0)
		printf("# got:\n%s", text);
	free(text);

	d.counters = true;
	d.upcalls = up;
	d.nupcalls = 2;
	d.moves = mv;
	d.nmoves = 1;
	d.migrations_failed = 1;
	d.lease_moved = 4;
	d.hook_failures = 3;
	d.scans = 12345678901ULL;
	rc = nm_prom_format(&d, &text, &len, &err);
	if (asprintf(&want, "%s%s", doc_mounts_text, doc_counters_text) < 0)
		want = NULL;
	UNIT_CHECK(u, rc == 0 && text && want && strcmp(text, want) == 0,
		   "mounts and the daemon's counters");
	if (text && want && strcmp(text, want) != 0)
		printf("# got:\n%s", text);
	free(text);
	free(want);

	/* No mount: the counters alone, no empty family. */
	d.nmounts = 0;
	rc = nm_prom_format(&d, &text, &len, &err);
	UNIT_CHECK(u, rc == 0 && text && strcmp(text, doc_counters_text) == 0,
		   "no mount: the counters only");
	free(text);

	/* A counter's label value is escaped as a mount's is. */
	{
		const struct nm_prom_count odd[] = { { "a\"b\n", 1 } };

		d.moves = odd;
		d.nmoves = 1;
		rc = nm_prom_format(&d, &text, &len, &err);
		UNIT_CHECK(u, rc == 0 && text && strstr(text, "{kind=\"a\\\"b\\n\"} 1\n"),
			   "a counter's label value escaped");
		free(text);
	}
	d = (struct nm_prom_doc){ 0 };
	rc = nm_prom_format(&d, &text, &len, &err);
	UNIT_CHECK(u, rc == 0 && text && len == 0, "an empty document is an empty file");
	free(text);
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void writing(struct unit *u)
{
	char dir[] = "/tmp/test_prom.XXXXXX", path[256], sub[256];
	struct nm_err err = { 0 };
	struct stat st;
	const char *s;
	int rc;

	if (!mkdtemp(dir)) {
		UNIT_CHECK(u, 0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/nfsmig.prom", dir);
	umask(077);
	rc = nm_prom_write(path, "a 1\n", 4, &err);
	s = slurp(path);
	UNIT_CHECK(u, rc == 0 && s && strcmp(s, "a 1\n") == 0, "written");
	UNIT_CHECK(u, stat(path, &st) == 0 && (st.st_mode & 0777) == 0644,
		   "mode 0644 whatever the umask (node_exporter reads it)");
	rc = nm_prom_write(path, "b 2\n", 4, &err);
	s = slurp(path);
	UNIT_CHECK(u, rc == 0 && s && strcmp(s, "b 2\n") == 0 && count_files(dir) == 1,
		   "replaced, no temporary left");

	/* A full disk (a file size limit: the write fails with EFBIG). */
	{
		struct rlimit old, lim = { 2, 2 };
		static char big[8192];

		memset(big, 'x', sizeof(big));
		signal(SIGXFSZ, SIG_IGN);
		getrlimit(RLIMIT_FSIZE, &old);
		lim.rlim_max = old.rlim_max;
		setrlimit(RLIMIT_FSIZE, &lim);
		rc = nm_prom_write(path, big, sizeof(big), &err);
		setrlimit(RLIMIT_FSIZE, &old);
		s = slurp(path);
		UNIT_CHECK(u, rc == -EFBIG && strstr(err.msg, "old file is kept"),
			   "a failed write is an error: %s", err.msg);
		UNIT_CHECK(u, s && strcmp(s, "b 2\n") == 0 && count_files(dir) == 1,
			   "a failed write keeps the old file, leaves no temporary");
	}

	/* A directory where the file should be: not replaced. */
	snprintf(sub, sizeof(sub), "%s/d.prom", dir);
	mkdir(sub, 0755);
	rc = nm_prom_write(sub, "c 3\n", 4, &err);
	UNIT_CHECK(u, rc < 0 && count_files(dir) == 2, "a directory is not replaced: %s", err.msg);
	rmdir(sub);

	/* A writer killed before its rename: its temporary, a minute old, is
	 * swept; a fresh one (a writer at work) and other names are kept. */
	{
		static const struct {
			const char *name;
			bool old, swept;
		} t[] = {
			{ ".nfsmig.prom.nfsmig-0123456789ab", true, true },
			{ ".nfsmig.prom.nfsmig-0123456789ac", false, false },
			{ ".nfsmig.prom.nfsmig-0123456789", true, false },
			{ ".other.prom.nfsmig-0123456789ab", true, false },
		};
		struct timespec ts[2] = { { .tv_sec = time(NULL) - 120 },
					  { .tv_sec = time(NULL) - 120 } };

		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			snprintf(sub, sizeof(sub), "%s/%s", dir, t[i].name);
			close(open(sub, O_WRONLY | O_CREAT, 0600));
			if (t[i].old)
				utimensat(AT_FDCWD, sub, ts, 0);
		}
		rc = nm_prom_write(path, "d 4\n", 4, &err);
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			snprintf(sub, sizeof(sub), "%s/%s", dir, t[i].name);
			UNIT_CHECK(u, rc == 0 && (access(sub, F_OK) != 0) == t[i].swept, "%s %s",
				   t[i].name, t[i].swept ? "swept" : "kept");
			unlink(sub);
		}
	}

	snprintf(sub, sizeof(sub), "%s/missing/nfsmig.prom", dir);
	rc = nm_prom_write(sub, "c 3\n", 4, &err);
	UNIT_CHECK(u, rc == -ENOENT, "a missing directory: -ENOENT (%s)", err.msg);

	/* A symbolic link at the file's name: replaced by a regular file,
	 * its target untouched. */
	{
		char target[200], link[200], real[200];

		snprintf(target, sizeof(target), "%s/target", dir);
		close(open(target, O_WRONLY | O_CREAT, 0600));
		unlink(path);
		rc = symlink(target, path);
		rc = rc == 0 ? nm_prom_write(path, "e 5\n", 4, &err) : -errno;
		s = slurp(target);
		UNIT_CHECK(u, rc == 0 && s && !*s, "a symbolic link's target untouched (%s)",
			   err.msg);
		UNIT_CHECK(u, lstat(path, &st) == 0 && S_ISREG(st.st_mode),
			   "the link replaced by a regular file");
		unlink(target);

		/* A symbolic link to a directory on the way: refused, nothing
		 * written through it (/var/lib/prometheus is prometheus'). */
		snprintf(real, sizeof(real), "%s/real", dir);
		snprintf(link, sizeof(link), "%s/link", dir);
		mkdir(real, 0755);
		rc = symlink(real, link);
		snprintf(sub, sizeof(sub), "%s/nfsmig.prom", link);
		rc = rc == 0 ? nm_prom_write(sub, "f 6\n", 4, &err) : 0;
		snprintf(sub, sizeof(sub), "%s/nfsmig.prom", real);
		UNIT_CHECK(u, rc == -ELOOP && access(sub, F_OK) != 0,
			   "a symlinked directory refused: %d %s", rc, err.msg);
		unlink(link);

		/* A directory others may write: refused. */
		chmod(real, 0777);
		rc = nm_prom_write(sub, "f 6\n", 4, &err);
		UNIT_CHECK(u, rc == -EPERM && access(sub, F_OK) != 0,
			   "a directory writable by others refused: %s", err.msg);
		/* One another user owns (as root only). */
		if (geteuid() == 0) {
			chmod(real, 0755);
			rc = chown(real, 65534, 65534);
			rc = rc == 0 ? nm_prom_write(sub, "f 6\n", 4, &err) : 0;
			UNIT_CHECK(u, rc == -EPERM && access(sub, F_OK) != 0,
				   "a directory another user owns refused: %s", err.msg);
		}
		rmdir(real);
	}

	unlink(path);
	rmdir(dir);
}

/* nfsmig.conf's [metrics] textfile: the default, a path, empty (none),
 * not a path. */
static void conf(struct unit *u)
{
	static const struct {
		const char *text;
		int rc;
		const char *path;
	} t[] = {
		{ "", 0, NM_PROM_DEFAULT_PATH },
		{ "[metrics]\ntextfile = /srv/m/n.prom\n", 0, "/srv/m/n.prom" },
		{ "[metrics]\ntextfile =\n", 0, "" },
		{ "[metrics]\ntextfile = rel.prom\n", -EINVAL, NULL },
		{ "[metrics]\nfile = /x\n", -EINVAL, NULL },
	};
	char dir[] = "/tmp/test_prom_conf.XXXXXX", path[256];

	if (!mkdtemp(dir)) {
		UNIT_CHECK(u, 0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/nfsmig.conf", dir);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nm_conf c;
		struct nm_err err = { 0 };
		FILE *f = fopen(path, "we");
		int rc;

		if (f) {
			fputs(t[i].text, f);
			fclose(f);
		}
		nm_conf_defaults(&c);
		rc = nm_conf_load(&c, path, false, &err);
		UNIT_CHECK(u,
			   rc == t[i].rc &&
				   (!t[i].path || strcmp(c.metrics_textfile, t[i].path) == 0),
			   "conf %zu: [metrics] textfile -> %d '%s' %s", i, rc, c.metrics_textfile,
			   err.msg);
	}
	unlink(path);
	rmdir(dir);
}

/* A record's last verdict (verify=TIME VERDICT): read, written back, a
 * verdict of a newer version skipped, a bad time refused. */
static void record_verdict(struct unit *u)
{
	static const char head[] = "nfsmig-state 1\nmountpoint=/mnt/m\nsource=s:/d\n";
	static const struct {
		const char *line;
		int rc;
		int64_t time;
		const char *verdict;
	} t[] = {
		{ "verify=1795490300 FAIL", 0, 1795490300, "FAIL" },
		{ "verify=1795490300 OK", 0, 1795490300, "OK" },
		{ "verify=1795490300 MAYBE", 0, 0, "" },
		{ "verify=soon OK", -EBADMSG, 0, "" },
		{ "verify=1795490300", -EBADMSG, 0, "" },
		{ "verify=0 OK", -EBADMSG, 0, "" },
	};
	char dir[] = "/tmp/test_prom_rec.XXXXXX";

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct nm_record r;
		struct nm_err err = { 0 };
		char text[256];
		int rc;

		snprintf(text, sizeof(text), "%s%s\nend\n", head, t[i].line);
		rc = nm_store_parse(text, strlen(text), &r, &err);
		UNIT_CHECK(u,
			   rc == t[i].rc && (rc || (r.verify_time == t[i].time &&
						    strcmp(r.verify_verdict, t[i].verdict) == 0)),
			   "record '%s' -> %d %s", t[i].line, rc, err.msg);
		if (rc == 0)
			nm_record_free(&r);
	}
	if (!mkdtemp(dir)) {
		UNIT_CHECK(u, 0, "mkdtemp");
		return;
	}
	{
		struct nm_record r = { 0 }, back;
		struct nm_err err = { 0 };
		char path[300];
		int rc;

		r.mountpoint = "/mnt/m";
		r.source = "s:/d";
		r.minor = 0;
		r.verify_time = 1795490300;
		snprintf(r.verify_verdict, sizeof(r.verify_verdict), "WARN");
		rc = nm_store_save(dir, &r, &err);
		rc = rc ? rc : nm_store_load(dir, "/mnt/m", &back, &err);
		UNIT_CHECK(u,
			   rc == 0 && back.verify_time == 1795490300 &&
				   strcmp(back.verify_verdict, "WARN") == 0,
			   "the verdict saved and read back (%s)", err.msg);
		if (rc == 0)
			nm_record_free(&back);
		snprintf(path, sizeof(path), "%s/-mnt-m.state", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/.-mnt-m.state.lock", dir);
		unlink(path);
		rmdir(dir);
	}
}

int main(void)
{
	struct unit u = { 0 };

	unit_start();
	names(&u);
	labels(&u);
	document(&u);
	writing(&u);
	conf(&u);
	record_verdict(&u);
	return unit_done(&u);
}
