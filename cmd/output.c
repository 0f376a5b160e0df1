#include "output.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nm_esc.h"
#include "nm_json.h"

static int find_col(const struct nm_col *cols, size_t ncols, const char *name, size_t len)
{
	for (size_t i = 0; i < ncols; i++)
		if (strlen(cols[i].name) == len && strncasecmp(cols[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

int nm_out_select(struct nm_out *o, const struct nm_col *cols, size_t ncols, const int *defaults,
		  size_t ndefaults, const char *list)
{
	const char *p;

	memset(o, 0, sizeof(*o));
	o->cols = cols;
	o->ncols = ncols;
	if (!list || list[0] == '+') {
		for (size_t i = 0; i < ndefaults; i++)
			o->sel[o->nsel++] = defaults[i];
		if (list)
			list++;
	}
	for (p = list; p && *p;) {
		size_t len = strcspn(p, ",");
		int id = find_col(cols, ncols, p, len);

		if (id < 0) {
			char *name = strndup(p, len);

			nm_out_printf(stderr, "nfsmig: unknown column '%s' (see --list-columns)\n",
				      name ? name : "?");
			free(name);
			return -1;
		}
		if (o->nsel == NM_OUT_MAX_COLS) {
			fprintf(stderr, "nfsmig: too many columns\n");
			return -1;
		}
		o->sel[o->nsel++] = id;
		p += len;
		if (*p == ',')
			p++;
	}
	if (o->nsel == 0) {
		fprintf(stderr, "nfsmig: no columns chosen\n");
		return -1;
	}
	return 0;
}

static const char *kind_name(enum nm_col_kind k)
{
	switch (k) {
	case NM_COL_NUMBER: return "<integer>";
	case NM_COL_BOOLEAN: return "<boolean>";
	case NM_COL_ARRAY: return "<string array>";
	default: return "<string>";
	}
}

void nm_out_list_columns(const struct nm_col *cols, size_t ncols, bool json)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb)
		return;
	scols_table_enable_json(tb, json);
	scols_table_set_name(tb, "columns");
	scols_table_new_column(tb, "NAME", 0, SCOLS_FL_NOEXTREMES);
	scols_table_new_column(tb, "TYPE", 0, 0);
	scols_table_new_column(tb, "DESCRIPTION", 0, SCOLS_FL_TRUNC);
	for (size_t i = 0; i < ncols; i++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		if (!ln)
			break;
		scols_line_set_data(ln, 0, cols[i].name);
		scols_line_set_data(ln, 1, kind_name(cols[i].kind));
		scols_line_set_data(ln, 2, cols[i].help);
	}
	scols_print_table(tb);
	scols_unref_table(tb);
}

int nm_out_start(struct nm_out *o, const char *name)
{
	o->tb = scols_new_table();
	if (!o->tb)
		return -1;
	scols_table_set_name(o->tb, name);
	scols_table_enable_json(o->tb, o->json);
	scols_table_enable_raw(o->tb, o->raw);
	scols_table_enable_noheadings(o->tb, o->noheadings);
	/* Cells come escaped (nm_out_cell); libsmartcols would escape the
	 * backslashes of those escapes again. */
	scols_table_enable_noencoding(o->tb, 1);
	for (size_t i = 0; i < o->nsel; i++) {
		const struct nm_col *c = &o->cols[o->sel[i]];
		int flags = c->kind == NM_COL_ARRAY ? SCOLS_FL_WRAP : 0;
		struct libscols_column *cl =
			scols_table_new_column(o->tb, c->name, c->width, flags);

		if (!cl)
			return -1;
		switch (c->kind) {
		case NM_COL_NUMBER: scols_column_set_json_type(cl, SCOLS_JSON_NUMBER); break;
		case NM_COL_BOOLEAN: scols_column_set_json_type(cl, SCOLS_JSON_BOOLEAN); break;
		case NM_COL_ARRAY:
			scols_column_set_json_type(cl, SCOLS_JSON_ARRAY_STRING);
			scols_column_set_wrapfunc(cl, scols_wrapnl_chunksize,
						  scols_wrapnl_nextchunk, NULL);
			scols_column_set_safechars(cl, "\n");
			break;
		default: break;
		}
	}
	return 0;
}

struct libscols_line *nm_out_line(struct nm_out *o)
{
	return scols_table_new_line(o->tb, NULL);
}

void nm_out_cell(struct libscols_line *ln, size_t col, const char *data, bool json, bool multiline)
{
	nm_out_cell_as(ln, col, data, json, multiline, false);
}

void nm_out_cell_as(struct libscols_line *ln, size_t col, const char *data, bool json,
		    bool multiline, bool stored)
{
	/* A raw string's backslash is shown as \x5c: in what nfsmig shows, a
	 * backslash always starts an escape. */
	unsigned flags = (multiline ? NM_ESC_NEWLINE : 0) | (stored ? 0 : NM_ESC_BACKSLASH);
	char *s = json ? nm_json_utf8(data) : nm_esc(data, data ? strlen(data) : 0, flags);

	/* Out of memory: an empty cell, never the raw data. */
	if (!s || scols_line_refer_data(ln, col, s) < 0) {
		free(s);
		scols_line_set_data(ln, col, "");
	}
}

void nm_out_set(struct nm_out *o, struct libscols_line *ln, int id, const char *data)
{
	for (size_t i = 0; i < o->nsel; i++)
		if (o->sel[i] == id)
			nm_out_cell_as(ln, i, data, o->json, o->cols[id].kind == NM_COL_ARRAY,
				       o->cols[id].stored);
}

void nm_out_stored(FILE *f, const char *s)
{
	char *e = nm_esc(s, s ? strlen(s) : 0, 0);

	fputs(e ? e : "?", f);
	free(e);
}

int nm_out_print(struct nm_out *o)
{
	return nm_out_print_table(o->tb, o->json);
}

int nm_out_print_table(struct libscols_table *tb, bool json)
{
	char *text = NULL;

	if (!json)
		return scols_print_table(tb);
	/* libsmartcols escapes only U+0000..U+001F: the C1 controls and the
	 * format characters are made \uXXXX here, as nm_json_str writes them. */
	if (scols_print_table_to_string(tb, &text) < 0)
		return -1;
	nm_json_text(stdout, text);
	free(text);
	return 0;
}

void nm_out_free(struct nm_out *o)
{
	scols_unref_table(o->tb);
	o->tb = NULL;
}
