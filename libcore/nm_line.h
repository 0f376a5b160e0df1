/* nm_line - a command line of the shell or of a batch file, into words. */
#ifndef NM_LINE_H
#define NM_LINE_H

/* Split a line into words: blanks separate, '...' and "..." quote, a
 * backslash escapes the next character; '#' at a word's start begins a
 * comment.  Returns the count, -EINVAL for an unbalanced quote or -E2BIG
 * for more than max words.  The words point into line, which is rewritten in place. */
int nm_line_split(char *line, char **words, int max);

#endif
