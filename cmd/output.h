/* Table and JSON output through libsmartcols, as findmnt and lsblk do. */
#ifndef NFSMIG_OUTPUT_H
#define NFSMIG_OUTPUT_H

#include <libsmartcols.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "nm_esc.h"

enum nm_col_kind {
	NM_COL_STRING,
	NM_COL_NUMBER,
	NM_COL_BOOLEAN,
	NM_COL_ARRAY, /* newline-separated in the cell; a JSON array */
};

struct nm_col {
	const char *name;
	double width; /* smartcols width hint */
	enum nm_col_kind kind;
	const char *help;
	bool stored; /* text escaped at ingest (wire-decoded names and paths):
			shown as it is, its backslashes start escapes */
};

#define NM_OUT_MAX_COLS 32

struct nm_out {
	const struct nm_col *cols;
	size_t ncols;
	int sel[NM_OUT_MAX_COLS]; /* indexes into cols, in output order */
	size_t nsel;
	bool json, raw, noheadings;
	struct libscols_table *tb;
};

/* Choose columns: list is NULL (defaults), "A,B" or "+A,B" (added to the
 * defaults).  Returns 0, or -1 after printing which name is unknown. */
int nm_out_select(struct nm_out *o, const struct nm_col *cols, size_t ncols, const int *defaults,
		  size_t ndefaults, const char *list);

/* --list-columns: the columns with their types and descriptions. */
void nm_out_list_columns(const struct nm_col *cols, size_t ncols, bool json);

int nm_out_start(struct nm_out *o, const char *name);
struct libscols_line *nm_out_line(struct nm_out *o);
/* Set the cell of column id (an index into cols) if it is shown. */
void nm_out_set(struct nm_out *o, struct libscols_line *ln, int id, const char *data);
int nm_out_print(struct nm_out *o);
/* tb to stdout; JSON through nm_json_text (one rule for both JSON paths). */
int nm_out_print_table(struct libscols_table *tb, bool json);
void nm_out_free(struct nm_out *o);

/* Text escaped at ingest (a location, a server name or path from the wire:
 * NM_ESC_SHELL or NM_ESC_BACKSLASH form) to f as it is, anything else in it
 * escaped (a record is a file). */
void nm_out_stored(FILE *f, const char *s);

/*
 * The one way text that came from outside (a server, a record, the mount
 * table, a directory) reaches the terminal: every string argument (%s) is
 * escaped with nm_esc (control characters, ESC, DEL, C1 and invalid UTF-8
 * as \xNN); the format, nfsmig's own, is printed as it is.  Conversions:
 * flags, width and precision (also *), the lengths hh h l ll z j t, and
 * d i u x X o c s p % (no floating point).
 * That is nm_esc_fprintf, under the name the commands print with.
 */
#define nm_out_printf nm_esc_fprintf

/* Set a table cell from outside data: escaped for a terminal (nm_esc,
 * newlines kept when multiline), or valid UTF-8 for JSON (nm_json_utf8;
 * libsmartcols escapes the control characters). */
void nm_out_cell(struct libscols_line *ln, size_t col, const char *data, bool json, bool multiline);
/* The same for text escaped at ingest when stored (see nm_col.stored). */
void nm_out_cell_as(struct libscols_line *ln, size_t col, const char *data, bool json,
		    bool multiline, bool stored);

#endif
