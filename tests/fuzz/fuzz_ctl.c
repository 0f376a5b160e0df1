/* fuzz_ctl: lines of the daemon's control socket, both ways: a request as
 * nfsmigd reads it, a reply as the upcall reads it, a STATUS reply as
 * nfsmig status reads it.  A reply that parses must format and parse again
 * to the same thing. */
#include "fuzz.h"
#include "nm_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_ctl_reply r, again;
	char buf[NM_CTL_LINE_MAX + 1];
	char *line, *desc, *callout;
	int n;

	if (size > NM_CTL_LINE_MAX) /* both readers stop there */
		size = NM_CTL_LINE_MAX;
	line = fuzz_str(data, size);
	(void)nm_ctl_parse_request(line, &desc, &callout);
	free(line);

	line = fuzz_str(data, size);
	memset(&r, 0, sizeof(r));
	if (nm_ctl_parse_reply(line, &r) == 0) {
		n = nm_ctl_format_reply(&r, buf, sizeof(buf));
		if (n > 0) {
			if (buf[n - 1] == '\n')
				buf[n - 1] = '\0';
			memset(&again, 0, sizeof(again));
			if (nm_ctl_parse_reply(buf, &again) != 0 || again.ok != r.ok ||
			    again.timeout != r.timeout || (!r.ok && again.error != r.error) ||
			    strcmp(again.payload, r.payload) != 0 ||
			    strcmp(again.text, r.text) != 0)
				abort();
		}
	}
	free(line);

	struct nm_ctl_status st, st2;

	line = fuzz_str(data, size);
	(void)nm_ctl_is_status(line);
	if (nm_ctl_parse_status(line, &st) == 0) {
		n = nm_ctl_format_status(&st, buf, sizeof(buf));
		if (n > 0) {
			if (buf[n - 1] == '\n')
				buf[n - 1] = '\0';
			if (nm_ctl_parse_status(buf, &st2) != 0 || st2.pid != st.pid ||
			    st2.started != st.started || st2.cache != st.cache ||
			    st2.lookups != st.lookups || st2.hits != st.hits ||
			    st2.scans != st.scans || st2.jobs != st.jobs || st2.fails != st.fails ||
			    strcmp(st2.sources, st.sources) != 0)
				abort();
		}
	}
	free(line);
	return 0;
}
