/* fuzz_line: a line of the shell or of a batch file, split into words. */
#include "fuzz.h"
#include "nm_line.h"

#define MAX_WORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *words[MAX_WORDS];
	char *line = fuzz_str(data, size);
	int n = nm_line_split(line, words, MAX_WORDS);

	for (int i = 0; i < n; i++) /* each word a string within the line */
		if (words[i] < line || words[i] + strlen(words[i]) > line + size)
			abort();
	free(line);
	return 0;
}
