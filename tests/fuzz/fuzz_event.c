/* fuzz_event: the event log (lines from a file) through nm_event_read's
 * reader, nm_event_read_fd, with a filter; each line alone through
 * nm_event_parse_line; the input as a --since TIME (nm_event_parse_since).
 * Every event read writes (nm_event_line) as one line of valid UTF-8 with
 * nothing nm_esc escapes, which reads back; written again (a byte that was
 * not UTF-8 is now U+FFFD itself, no longer "\ufffd"), it reads back the
 * same and writes the same text from then on. */
#include <errno.h>
#include <fcntl.h>
#include <json.h>

#include "fuzz_check.h"
#include "nm_esc.h"
#include "nm_event.h"

static int check_event(struct json_object *ev, void *arg)
{
	struct json_object *back = NULL, *back2 = NULL;
	char *line, *again, *third;
	size_t len, len2, len3;
	int rc;

	(void)arg;
	FUZZ_ASSERT(json_object_is_type(ev, json_type_object));
	rc = nm_event_line(ev, &line, &len, NULL);
	/* Escapes can make a line of the log longer than the bound. */
	if (rc == -EMSGSIZE)
		return 0;
	FUZZ_ASSERT(rc == 0);
	FUZZ_ASSERT(len >= 3 && line[len - 1] == '\n' && !memchr(line, '\n', len - 1));
	line[len - 1] = '\0';
	FUZZ_ASSERT(!nm_esc_needed(line, 0));
	FUZZ_ASSERT(nm_event_parse_line(line, len - 1, &back) == 0);
	FUZZ_ASSERT(nm_event_line(back, &again, &len2, NULL) == 0);
	FUZZ_ASSERT(nm_event_parse_line(again, len2 - 1, &back2) == 0);
	FUZZ_ASSERT(json_object_equal(back, back2));
	FUZZ_ASSERT(nm_event_line(back2, &third, &len3, NULL) == 0);
	FUZZ_ASSERT(len3 == len2 && memcmp(third, again, len2) == 0);
	(void)nm_event_time_ms(ev);
	json_object_put(back);
	json_object_put(back2);
	free(again);
	free(third);
	free(line);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_event_filter f = { .since_ms = 1000, .mountpoint = "/mnt/a" };
	struct json_object *ev = NULL;
	unsigned skipped = 0;
	int64_t ms;
	char *s;
	int fd;

	fd = open(fuzz_file(data, size), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		abort();
	FUZZ_ASSERT(nm_event_read_fd(fd, NULL, check_event, NULL, &skipped, NULL) == 0);
	FUZZ_ASSERT(skipped <= size);
	(void)nm_event_read_fd(fd, &f, check_event, NULL, NULL, NULL);
	close(fd);
	if (nm_event_parse_line((const char *)data, size, &ev) == 0)
		check_event(ev, NULL);
	json_object_put(ev);
	s = fuzz_str(data, size);
	(void)nm_event_parse_since(s, 1795600800000, &ms);
	free(s);
	return 0;
}
