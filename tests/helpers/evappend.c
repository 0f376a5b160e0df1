/* evappend STATE_DIR [MAX_BYTES] - append each JSON object read from stdin
 * (one a line) to STATE_DIR's event log with nm_event_append, as nfsmigd
 * does: for tests of `nfsmig events`.  Exit 1 at the first one refused. */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_event.h"

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	size_t max = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "Usage: evappend STATE_DIR [MAX_BYTES] <JSON-LINES\n");
		return 2;
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		struct json_object *ev = json_tokener_parse(line);
		struct nm_err err = { 0 };
		int rc;

		if (!ev) {
			fprintf(stderr, "evappend: not JSON: %s", line);
			free(line);
			return 1;
		}
		rc = nm_event_append(argv[1], ev, max, &err);
		json_object_put(ev);
		if (rc < 0) {
			fprintf(stderr, "evappend: %s\n", err.msg);
			free(line);
			return 1;
		}
	}
	free(line);
	return 0;
}
