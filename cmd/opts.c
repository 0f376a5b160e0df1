#include "opts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int nm_opt_seconds(const char *s, int min_ms, int max_ms)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v) || v * 1000.0 < min_ms || v * 1000.0 > max_ms)
		return -1;
	return (int)(v * 1000.0);
}

int nm_opt_nfsvers(const char *s)
{
	if (strcmp(s, "4") == 0)
		return -1;
	if (strcmp(s, "4.0") == 0)
		return 0;
	if (strcmp(s, "4.1") == 0)
		return 1;
	if (strcmp(s, "4.2") == 0)
		return 2;
	return -2;
}
