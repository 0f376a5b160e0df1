/* nm_esc_fprintf: printf whose %s and %c go out escaped (nm_esc). */
#include "nm_esc.h"

#include <stdlib.h>
#include <string.h>

struct spec {
	char flags[8];
	int width, prec; /* -1: none */
	char lenmod[3];
	char conv;
	size_t len; /* of the spec in the format */
};

/* Parse the conversion at fmt ('%' first).  Returns 0, or -1 for anything
 * this printf does not do (%1$s, %ls, %f, %m, %n, L, q, ...). */
static int parse(const char *fmt, va_list *ap, struct spec *sp)
{
	const char *p = fmt + 1;
	size_t nf = 0;

	memset(sp, 0, sizeof(*sp));
	sp->width = sp->prec = -1;
	while (*p && strchr("-+ #0", *p)) {
		if (nf + 1 < sizeof(sp->flags))
			sp->flags[nf++] = *p;
		p++;
	}
	if (*p == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {
			sp->width = -sp->width;
			if (nf + 1 < sizeof(sp->flags))
				sp->flags[nf++] = '-';
		}
		p++;
	} else {
		for (sp->width = *p >= '0' && *p <= '9' ? 0 : -1; *p >= '0' && *p <= '9'; p++)
			sp->width = sp->width * 10 + (*p - '0');
	}
	if (*p == '.') {
		p++;
		sp->prec = 0;
		if (*p == '*') {
			sp->prec = va_arg(*ap, int);
			p++;
		} else {
			for (; *p >= '0' && *p <= '9'; p++)
				sp->prec = sp->prec * 10 + (*p - '0');
		}
	}
	for (size_t n = 0; *p && strchr("hljzt", *p) && n < 2; p++)
		sp->lenmod[n++] = *p;
	sp->conv = *p;
	sp->len = (size_t)(p - fmt) + (*p ? 1 : 0);
	if (!*p || !strchr("sdiuxXocp", *p) || *(p - 1) == '$')
		return -1;
	/* %ls, %lc: wide characters; %hs and the like: nothing. */
	if ((*p == 's' || *p == 'c' || *p == 'p') && sp->lenmod[0])
		return -1;
	return 0;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* The spec again, without its precision when drop_prec, the conversion as
 * conv; width and precision written out (no '*'). */
static void rebuild(const struct spec *sp, char conv, int drop_prec, char *out, size_t cap)
{
	int o = snprintf(out, cap, "%%%s", sp->flags);

	if (sp->width >= 0)
		o += snprintf(out + o, cap - (size_t)o, "%d", sp->width);
	if (sp->prec >= 0 && !drop_prec)
		o += snprintf(out + o, cap - (size_t)o, ".%d", sp->prec);
	snprintf(out + o, cap - (size_t)o, "%s%c", sp->lenmod, conv);
}

static int print_conv(FILE *f, const struct spec *sp, va_list *ap)
{
	char fmt[64];
	const char *lm = sp->lenmod;
	int rc;

	rebuild(sp, sp->conv, 0, fmt, sizeof(fmt));
	switch (sp->conv) {
	case 's':
	case 'c': {
		char c[2] = { 0, 0 }, *e;
		const char *s;
		size_t len;

		if (sp->conv == 'c') {
			c[0] = (char)va_arg(*ap, int);
			s = c;
			len = 1;
		} else {
			s = va_arg(*ap, const char *);
			if (!s)
				s = "(null)";
			len = strlen(s);
		}
		/* The precision cuts the string, never its escapes, never
		 * inside a UTF-8 character. */
		if (sp->conv == 's' && sp->prec >= 0 && len > (size_t)sp->prec) {
			size_t keep = 0;

			while (keep < (size_t)sp->prec) {
				size_t n = nm_esc_utf8_len((const unsigned char *)s + keep,
							   len - keep);

				if (n == 0)
					n = 1;
				if (keep + n > (size_t)sp->prec)
					break;
				keep += n;
			}
			len = keep;
		}
		e = nm_esc(s, len, NM_ESC_BACKSLASH);
		rebuild(sp, 's', 1, fmt, sizeof(fmt));
		rc = fprintf(f, fmt, e ? e : "?");
		free(e);
		return rc;
	}
	case 'd':
	case 'i':
		if (strcmp(lm, "ll") == 0)
			return fprintf(f, fmt, va_arg(*ap, long long));
		if (lm[0] == 'l' || lm[0] == 'j' || lm[0] == 'z' || lm[0] == 't')
			return fprintf(f, fmt, va_arg(*ap, long));
		return fprintf(f, fmt, va_arg(*ap, int));
	case 'p': return fprintf(f, fmt, va_arg(*ap, void *));
	default: /* u x X o */
		if (strcmp(lm, "ll") == 0)
			return fprintf(f, fmt, va_arg(*ap, unsigned long long));
		if (lm[0] == 'l' || lm[0] == 'j' || lm[0] == 'z' || lm[0] == 't')
			return fprintf(f, fmt, va_arg(*ap, unsigned long));
		return fprintf(f, fmt, va_arg(*ap, unsigned));
	}
}
#pragma GCC diagnostic pop

int nm_esc_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	va_list aq;
	int total = 0, bad = 0;

	va_copy(aq, ap);
	while (*fmt) {
		size_t plain = strcspn(fmt, "%");
		struct spec sp;
		int rc;

		fwrite(fmt, 1, plain, f);
		total += (int)plain;
		fmt += plain;
		if (!*fmt)
			break;
		if (fmt[1] == '%') {
			fputc('%', f);
			total++;
			fmt += 2;
			continue;
		}
		if (parse(fmt, &aq, &sp) < 0) {
			/* Loud, and the rest of the line still goes out: the
			 * arguments after it cannot be found, so only its text. */
			rc = fprintf(f, "%%!%.*s(unsupported)", (int)(sp.len ? sp.len - 1 : 0),
				     fmt + 1);
			total += rc > 0 ? rc : 0;
			bad = 1;
			fmt += sp.len ? sp.len : 1;
			fputs(fmt, f); /* raw text of a literal format */
			break;
		}
		rc = print_conv(f, &sp, &aq);
		if (rc < 0) {
			bad = 1;
			break;
		}
		total += rc;
		fmt += sp.len;
	}
	va_end(aq);
	return bad ? -1 : total;
}

int nm_esc_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = nm_esc_vfprintf(f, fmt, ap);
	va_end(ap);
	return rc;
}
