/*
 * x12_parse.c - bytes to interchanges, groups, sets and segments, with the
 * envelope checks. One pass: each segment is scanned once, byte by byte,
 * through a class table built from its interchange's delimiters, and then
 * handed to a small state machine (outside a group / in a group / in a set)
 * that opens and closes envelopes and checks their counts and numbers.
 */
#include "x12.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X12_INPUT_LIMIT   ((size_t)1 << 30) /* bytes; offsets are 32-bit */
#define X12_DEFAULT_DIAGS 200
#define X12_MAX_ELEMENTS  999 /* more in one segment is ELEM_TOO_MANY */
#define X12_ISA_SCAN      512 /* an ISA, padded or not, ends well before this */
#define X12_MAX_ICS       65535
#define X12_BAD_PER_SEG   4 /* bad elements reported per segment */

/* ---- error table --------------------------------------------------------- */

#define X_NAME(NAME, level, code, since, text)  #NAME,
#define X_TEXT(NAME, level, code, since, text)  text,
#define X_LEVEL(NAME, level, code, since, text) X12_LEVEL_##level,
#define X_CODE(NAME, level, code, since, text)  code,
#define X_SINCE(NAME, level, code, since, text) since,
static const char *const err_names[] = {X12_ERROR_LIST(X_NAME)};
static const char *const err_texts[] = {X12_ERROR_LIST(X_TEXT)};
static const x12_level err_levels[] = {X12_ERROR_LIST(X_LEVEL)};
static const char *const err_codes[] = {X12_ERROR_LIST(X_CODE)};
static const unsigned err_since[] = {X12_ERROR_LIST(X_SINCE)};
#undef X_NAME
#undef X_TEXT
#undef X_LEVEL
#undef X_CODE
#undef X_SINCE

const char *x12_err_name(x12_err e)
{
	return (unsigned)e < X12_E_COUNT ? err_names[e] : "UNKNOWN";
}

const char *x12_strerror(x12_err e)
{
	return (unsigned)e < X12_E_COUNT ? err_texts[e] : "unknown error";
}

x12_level x12_err_level(x12_err e)
{
	return (unsigned)e < X12_E_COUNT ? err_levels[e] : X12_LEVEL_NONE;
}

const char *x12_err_ack_code(x12_err e, unsigned version)
{
	if ((unsigned)e >= X12_E_COUNT || version < err_since[e])
		return "";
	return err_codes[e];
}

/* ---- known transaction sets ---------------------------------------------- */

/* The segment each set must begin with after ST (its "beginning segment"). */
static const struct {
	char st01[4];
	char begin[4];
} begins[] = {
    {"180", "BGN"}, {"204", "B2"},  {"210", "B3"},  {"214", "B10"}, {"810", "BIG"}, {"820", "BPR"},
    {"832", "BCT"}, {"846", "BIA"}, {"850", "BEG"}, {"852", "XQ"},  {"855", "BAK"}, {"856", "BSN"},
    {"860", "BCH"}, {"864", "BMG"}, {"865", "BCA"}, {"870", "BSR"}, {"940", "W05"}, {"945", "W06"},
    {"990", "B1"},  {"997", "AK1"}, {"999", "AK1"},
};

const char *x12_begin_segment(const char *st01)
{
	for (size_t i = 0; i < sizeof begins / sizeof begins[0]; i++)
		if (strcmp(begins[i].st01, st01) == 0)
			return begins[i].begin;
	return NULL;
}

/* ---- small helpers ------------------------------------------------------- */

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alnum(int c)
{
	return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z');
}

static bool all_digits(x12_slice s, size_t min, size_t max)
{
	if (!s.p || s.n < min || s.n > max)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!is_digit((unsigned char)s.p[i]))
			return false;
	return true;
}

/* Value of 1 to 18 digits. */
static bool to_u64(x12_slice s, uint64_t *out)
{
	if (!all_digits(s, 1, 18))
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < s.n; i++)
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	*out = v;
	return true;
}

static unsigned two(const char *p)
{
	return (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
}

static bool valid_ymd(unsigned y, unsigned m, unsigned d)
{
	static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

/* YYMMDD or CCYYMMDD. */
static bool valid_date(x12_slice s)
{
	if (all_digits(s, 6, 6))
		return valid_ymd(2000 + two(s.p), two(s.p + 2), two(s.p + 4));
	if (all_digits(s, 8, 8))
		return valid_ymd(two(s.p) * 100 + two(s.p + 2), two(s.p + 4), two(s.p + 6));
	return false;
}

/* HHMM, HHMMSS, HHMMSSd or HHMMSSdd. */
static bool valid_time(x12_slice s, size_t max)
{
	if (!all_digits(s, 4, max) || s.n == 5)
		return false;
	if (two(s.p) > 23 || two(s.p + 2) > 59)
		return false;
	return s.n < 6 || two(s.p + 4) <= 59;
}

/* Trimmed of the blanks that pad fixed-width ISA fields. */
static bool blank(x12_slice s)
{
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] != ' ')
			return false;
	return true;
}

/* A printable copy of s for a sentence: at most 24 bytes, controls as '?'. */
static const char *show(char *buf, size_t cap, x12_slice s)
{
	size_t n = 0;
	for (size_t i = 0; s.p && i < s.n && n + 4 < cap && n < 24; i++) {
		unsigned char c = (unsigned char)s.p[i];
		buf[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (s.p && s.n > 24 && n + 4 < cap) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = 0;
	return buf;
}

/* Checked growth of an array of size-byte items to hold n + 1. */
static bool grow(void *arrp, uint32_t *cap, uint32_t n, size_t size)
{
	void **arr = arrp;
	if (n < *cap)
		return true;
	uint64_t want = *cap ? (uint64_t)*cap * 2 : 16;
	if (want > UINT32_MAX - 1)
		want = UINT32_MAX - 1;
	if (want <= n || want > SIZE_MAX / size)
		return false;
	void *p = realloc(*arr, (size_t)want * size);
	if (!p)
		return false;
	*arr = p;
	*cap = (uint32_t)want;
	return true;
}

/* ---- control numbers seen (duplicates) ----------------------------------- */

/* An open-addressing set of up to 9-byte keys, emptied by bumping gen. */
typedef struct ctl_entry {
	uint32_t gen;
	char key[12];
} ctl_entry;

typedef struct ctl_set {
	ctl_entry *e;
	uint32_t cap, n, gen;
} ctl_set;

static void ctl_reset(ctl_set *s)
{
	s->n = 0;
	if (++s->gen == 0) {
		if (s->e)
			memset(s->e, 0, (size_t)s->cap * sizeof *s->e);
		s->gen = 1;
	}
}

static uint32_t ctl_hash(const char *k)
{
	uint32_t h = 2166136261u;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	return h;
}

static void ctl_put(ctl_entry *e, uint32_t cap, uint32_t gen, const char *key)
{
	uint32_t h = ctl_hash(key) & (cap - 1);
	while (e[h].gen == gen)
		h = (h + 1) & (cap - 1);
	e[h].gen = gen;
	memcpy(e[h].key, key, sizeof e[h].key);
}

/* 1 if key was there already, 0 if added, -1 out of memory. */
static int ctl_add(ctl_set *s, const char *key)
{
	char k[12] = {0};
	strncpy(k, key, sizeof k - 1);
	if (s->cap) {
		uint32_t h = ctl_hash(k) & (s->cap - 1);
		while (s->e[h].gen == s->gen) {
			if (strcmp(s->e[h].key, k) == 0)
				return 1;
			h = (h + 1) & (s->cap - 1);
		}
	}
	if ((uint64_t)(s->n + 1) * 2 > s->cap) {
		uint64_t cap = s->cap ? (uint64_t)s->cap * 2 : 64;
		if (cap > (1u << 30))
			return -1;
		ctl_entry *e = calloc((size_t)cap, sizeof *e);
		if (!e)
			return -1;
		for (uint32_t i = 0; i < s->cap; i++)
			if (s->e[i].gen == s->gen)
				ctl_put(e, (uint32_t)cap, 1, s->e[i].key);
		free(s->e);
		s->e = e;
		s->cap = (uint32_t)cap;
		s->gen = 1;
	}
	ctl_put(s->e, s->cap, s->gen, k);
	s->n++;
	return 0;
}

/* ---- the parser ---------------------------------------------------------- */

enum { CLS_DATA, CLS_ELEM, CLS_TERM, CLS_CTRL };

/* A data element with a control character in it, found while scanning. */
typedef struct bad_elem {
	uint16_t elem;  /* element position */
	bool mixed;     /* a line break that starts another segment */
	uint8_t before; /* the byte before the line break */
	char next[4];   /* the ID of the segment it starts, if mixed */
	size_t at;      /* offset of the control character */
} bad_elem;

typedef struct parser {
	x12_doc *doc;
	const uint8_t *d;
	size_t len;
	uint32_t max_diags;
	bool stop; /* nothing more can be read */
	/* where we are */
	uint32_t ic, group, set;
	uint32_t pos;       /* segments of the open set so far (ST = 1) */
	const char *begin;  /* the open set's beginning segment, until seen */
	bool outside_noted; /* CONTENT reported for the current stray run */
	size_t at;          /* offset of the current segment */
	x12_delims dl;
	uint8_t cls[256];
	/* line numbers for sentences, counted incrementally */
	size_t line_off;
	uint32_t line_no;
	ctl_set set_ctl, group_ctl;
} parser;

static uint32_t line_of(parser *p, size_t off)
{
	if (off > p->len)
		off = p->len;
	uint32_t n = p->line_no;
	if (off < p->line_off) {
		/* step back: count the line breaks between off and the cache */
		const uint8_t *b = p->d + off, *e = p->d + p->line_off;
		while (b < e && (b = memchr(b, '\n', (size_t)(e - b))) != NULL) {
			n--;
			b++;
		}
		p->line_off = off;
		p->line_no = n;
		return n;
	}
	const uint8_t *q = p->d + p->line_off, *end = p->d + off;
	while (q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		n++;
		q++;
	}
	p->line_off = off;
	p->line_no = n;
	return n;
}

static void add_err(x12_err *errs, uint8_t *n, x12_err e)
{
	for (unsigned i = 0; i < *n; i++)
		if (errs[i] == e)
			return;
	if (*n < 5)
		errs[(*n)++] = e;
}

static void set_nomem(parser *p)
{
	p->stop = true;
	p->doc->err = X12_E_NOMEM;
}

/*
 * diag records error code found at segment seg (X12_NONE: at p->at), which
 * is the pos-th segment of the open set (0: not in it), element elem (0: not
 * about one), and marks what it rejects. fmt, if not NULL, adds the values.
 */
static void vdiag(parser *p, x12_err code, uint32_t seg, uint32_t pos, unsigned elem,
                  x12_slice value, const char *fmt, va_list ap)
{
	x12_doc *doc = p->doc;
	switch (x12_err_level(code)) {
	case X12_LEVEL_INTERCHANGE:
		if (p->ic != X12_NONE) {
			x12_interchange *ic = &doc->ics[p->ic];
			ic->nerrs++;
			if (ic->err == X12_E_OK)
				ic->err = code;
		}
		break;
	case X12_LEVEL_GROUP:
		if (p->group != X12_NONE)
			add_err(doc->groups[p->group].errs, &doc->groups[p->group].nerrs, code);
		break;
	case X12_LEVEL_SET:
		if (p->set != X12_NONE)
			add_err(doc->sets[p->set].errs, &doc->sets[p->set].nerrs, code);
		break;
	case X12_LEVEL_SEGMENT:
	case X12_LEVEL_ELEMENT:
		if (p->set != X12_NONE) {
			x12_set *s = &doc->sets[p->set];
			s->nseg_errs++;
			add_err(s->errs, &s->nerrs, X12_E_SET_SEGMENTS);
		}
		break;
	case X12_LEVEL_NONE: break;
	}
	if (doc->err == X12_E_OK)
		doc->err = code;
	if (doc->ndiags >= p->max_diags) {
		doc->ndiags_lost++;
		return;
	}
	if (!grow(&doc->diags, &doc->cap_diags, doc->ndiags, sizeof *doc->diags)) {
		set_nomem(p);
		return;
	}
	x12_diag *g = &doc->diags[doc->ndiags++];
	memset(g, 0, sizeof *g);
	g->code = code;
	g->ic = p->ic;
	g->group = p->group;
	x12_level lv = x12_err_level(code);
	g->set = lv == X12_LEVEL_SET || lv == X12_LEVEL_SEGMENT || lv == X12_LEVEL_ELEMENT
	             ? p->set
	             : X12_NONE;
	g->seg = seg;
	g->pos = pos;
	g->elem = (uint16_t)(elem > 65535 ? 65535 : elem);
	g->offset = seg != X12_NONE ? doc->segs[seg].off : p->at;
	g->line = line_of(p, g->offset);
	g->value = value;

	char *t = g->text;
	size_t cap = sizeof g->text, n = 0;
	n += (size_t)snprintf(t + n, cap - n, "line %u", g->line);
	if (seg != X12_NONE && n < cap) {
		char idb[8], ctl[32];
		const char *id =
		    doc->segs[seg].id[0]
		        ? show(idb, sizeof idb,
		               (x12_slice){doc->segs[seg].id, strlen(doc->segs[seg].id)})
		        : "?";
		n += (size_t)snprintf(t + n, cap - n, ", %s", id);
		if (pos && p->set != X12_NONE && n < cap) {
			const char *c = doc->sets[p->set].control;
			n +=
			    (size_t)snprintf(t + n, cap - n, ", segment %u of transaction set %s",
			                     pos, show(ctl, sizeof ctl, (x12_slice){c, strlen(c)}));
		}
		if (elem && n < cap)
			n += (size_t)snprintf(t + n, cap - n, ", element %s%02u", id, elem);
	}
	if (n < cap)
		n += (size_t)snprintf(t + n, cap - n, ": %s", x12_strerror(code));
	if (fmt && n + 2 < cap) {
		t[n++] = ':';
		t[n++] = ' ';
		vsnprintf(t + n, cap - n, fmt, ap);
	}
}

__attribute__((format(printf, 7, 8))) static void diag(parser *p, x12_err code, uint32_t seg,
                                                       uint32_t pos, unsigned elem, x12_slice value,
                                                       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag(p, code, seg, pos, elem, value, fmt, ap);
	va_end(ap);
}

static const x12_slice no_value = {NULL, 0};

static x12_slice elem_of(parser *p, uint32_t seg, unsigned k)
{
	return x12_elem(p->doc, seg, k);
}

/* ---- envelopes ----------------------------------------------------------- */

/* Reports a segment where no envelope may hold it, once per stray run. */
static void stray(parser *p, uint32_t seg)
{
	if (p->outside_noted)
		return;
	p->outside_noted = true;
	diag(p, X12_E_CONTENT, seg, 0, 0, no_value, "%s",
	     p->group == X12_NONE ? "it is not inside a GS..GE functional group"
	                          : "it is inside a functional group but not inside ST..SE");
}

/* Reports a segment's control characters where they stand. */
static void report_bad(parser *p, uint32_t seg, const bad_elem *bad, unsigned nbad, bool in_set)
{
	char term[8];
	for (unsigned i = 0; i < nbad; i++) {
		x12_slice v = elem_of(p, seg, bad[i].elem);
		uint32_t line = line_of(p, bad[i].at);
		if (bad[i].before >= 0x21 && bad[i].before < 0x7f)
			snprintf(term, sizeof term, "'%c'", bad[i].before);
		else
			snprintf(term, sizeof term, "0x%02X", bad[i].before);
		if (in_set && bad[i].mixed)
			diag(p, X12_E_MIXED_TERMINATORS, seg, p->pos, bad[i].elem, v,
			     "%s and a line break at line %u end a segment before %s, but the ISA "
			     "declares '%c' as the segment terminator",
			     term, line, bad[i].next, p->dl.seg);
		else if (in_set)
			diag(p, X12_E_ELEM_CHAR, seg, p->pos, bad[i].elem, v,
			     "byte 0x%02X at line %u", p->d[bad[i].at], line);
		else if (bad[i].mixed)
			diag(p, X12_E_ENVELOPE_TERMINATORS, seg, 0, bad[i].elem, v,
			     "%s and a line break at line %u end a segment before %s, but the ISA "
			     "declares '%c' as the segment terminator",
			     term, line, bad[i].next, p->dl.seg);
		else
			diag(p, X12_E_ENVELOPE_CHAR, seg, 0, bad[i].elem, v,
			     "byte 0x%02X at line %u", p->d[bad[i].at], line);
	}
}

static void close_set(parser *p, uint32_t seg, bool missing)
{
	if (p->set == X12_NONE)
		return;
	if (missing) {
		char a[32];
		const char *c = p->doc->sets[p->set].control;
		diag(p, X12_E_SE_MISSING, seg, 0, 0, no_value,
		     "transaction set %s ends at this %s without SE",
		     show(a, sizeof a, (x12_slice){c, strlen(c)}),
		     seg != X12_NONE ? p->doc->segs[seg].id : "end of input");
	}
	p->set = X12_NONE;
	p->begin = NULL;
	p->outside_noted = false;
}

static void close_group(parser *p, uint32_t seg, bool missing)
{
	close_set(p, seg, missing);
	if (p->group == X12_NONE)
		return;
	if (missing)
		diag(p, X12_E_GE_MISSING, seg, 0, 0, no_value,
		     "functional group %s ends at this %s without GE",
		     p->doc->groups[p->group].control,
		     seg != X12_NONE ? p->doc->segs[seg].id : "end of input");
	p->group = X12_NONE;
	p->outside_noted = false;
}

static void on_gs(parser *p, uint32_t seg, const bad_elem *bad, unsigned nbad)
{
	x12_doc *doc = p->doc;
	close_group(p, seg, true);
	if (!grow(&doc->groups, &doc->cap_groups, doc->ngroups, sizeof *doc->groups)) {
		set_nomem(p);
		return;
	}
	p->group = doc->ngroups++;
	x12_group *g = &doc->groups[p->group];
	memset(g, 0, sizeof *g);
	g->gs = seg;
	g->ge = X12_NONE;
	g->ic = p->ic;
	g->set_first = doc->nsets;
	doc->ics[p->ic].ngroups++;
	p->outside_noted = false;
	ctl_reset(&p->set_ctl);
	report_bad(p, seg, bad, nbad, false);

	x12_slice f[10];
	unsigned n = x12_split(doc, seg, f, 10);
	for (unsigned k = n; k < 10; k++)
		f[k] = no_value;
	char a[32], b[32];
	if (f[1].n == 2 && is_alnum((unsigned char)f[1].p[0]) && is_alnum((unsigned char)f[1].p[1]))
		x12_slice_copy(g->func, sizeof g->func, f[1]);
	else
		diag(p, X12_E_GS_FUNC_ID, seg, 0, 1, f[1], "GS01 is '%s'", show(a, sizeof a, f[1]));
	if (!f[2].p || f[2].n < 1 || f[2].n > 15 || !f[3].p || f[3].n < 1 || f[3].n > 15)
		diag(p, X12_E_GS_INVALID, seg, 0, f[2].n ? 3 : 2, no_value,
		     "GS02 and GS03 must hold 1 to 15 characters");
	else if (!valid_date(f[4]))
		diag(p, X12_E_GS_INVALID, seg, 0, 4, f[4], "GS04 is '%s', not a date",
		     show(a, sizeof a, f[4]));
	else if (!valid_time(f[5], 8))
		diag(p, X12_E_GS_INVALID, seg, 0, 5, f[5], "GS05 is '%s', not a time",
		     show(a, sizeof a, f[5]));
	else if (!f[7].p || f[7].n < 1 || f[7].n > 2)
		diag(p, X12_E_GS_INVALID, seg, 0, 7, f[7], "GS07 is '%s'", show(a, sizeof a, f[7]));
	uint64_t ctl;
	if (all_digits(f[6], 1, 9) && to_u64(f[6], &ctl)) {
		x12_slice_copy(g->control, sizeof g->control, f[6]);
		snprintf(b, sizeof b, "%llu", (unsigned long long)ctl);
		int r = ctl_add(&p->group_ctl, b);
		if (r < 0)
			set_nomem(p);
		else if (r > 0)
			diag(p, X12_E_GS_DUPLICATE, seg, 0, 6, f[6], "GS06 is %s", g->control);
	} else {
		diag(p, X12_E_GS_CONTROL, seg, 0, 6, f[6], "GS06 is '%s'", show(a, sizeof a, f[6]));
	}
	if (f[8].p && f[8].n >= 6 && f[8].n <= 12 && all_digits((x12_slice){f[8].p, 6}, 6, 6))
		x12_slice_copy(g->version, sizeof g->version, f[8]);
	else
		diag(p, X12_E_GS_VERSION, seg, 0, 8, f[8], "GS08 is '%s'", show(a, sizeof a, f[8]));
}

static void on_ge(parser *p, uint32_t seg, const bad_elem *bad, unsigned nbad)
{
	x12_doc *doc = p->doc;
	close_set(p, seg, true);
	if (p->group == X12_NONE) {
		stray(p, seg);
		report_bad(p, seg, bad, nbad, false);
		return;
	}
	x12_group *g = &doc->groups[p->group];
	g->ge = seg;
	report_bad(p, seg, bad, nbad, false);
	char a[32], b[32];
	x12_slice n1 = elem_of(p, seg, 1), n2 = elem_of(p, seg, 2), c = elem_of(p, g->gs, 6);
	uint64_t v, w;
	if (!to_u64(n1, &v) || v != g->nsets)
		diag(p, X12_E_GE_COUNT, seg, 0, 1, n1, "GE01 is '%s', the group has %u",
		     show(a, sizeof a, n1), g->nsets);
	bool same = to_u64(n2, &v) && to_u64(c, &w)
	                ? v == w
	                : n2.p && c.p && n2.n == c.n && memcmp(n2.p, c.p, c.n) == 0;
	if (!same)
		diag(p, X12_E_GE_CONTROL, seg, 0, 2, n2, "GE02 is '%s', GS06 is '%s'",
		     show(a, sizeof a, n2), show(b, sizeof b, c));
	p->group = X12_NONE;
	p->outside_noted = false;
}

static void on_st(parser *p, uint32_t seg, const bad_elem *bad, unsigned nbad)
{
	x12_doc *doc = p->doc;
	close_set(p, seg, true);
	if (p->group == X12_NONE) {
		stray(p, seg);
		report_bad(p, seg, bad, nbad, false);
		return;
	}
	if (!grow(&doc->sets, &doc->cap_sets, doc->nsets, sizeof *doc->sets)) {
		set_nomem(p);
		return;
	}
	p->set = doc->nsets++;
	x12_set *s = &doc->sets[p->set];
	memset(s, 0, sizeof *s);
	s->st = seg;
	s->se = X12_NONE;
	s->group = p->group;
	s->nseg = 1;
	doc->groups[p->group].nsets++;
	p->pos = 1;
	p->outside_noted = false;

	char a[32];
	x12_slice id = elem_of(p, seg, 1), ctl = elem_of(p, seg, 2);
	bool ctl_ok = ctl.p && ctl.n >= 4 && ctl.n <= 9 && !blank(ctl);
	if (ctl_ok)
		x12_slice_copy(s->control, sizeof s->control, ctl);
	if (all_digits(id, 3, 3)) {
		x12_slice_copy(s->id, sizeof s->id, id);
		p->begin = x12_begin_segment(s->id);
	} else {
		diag(p, X12_E_ST_ID, seg, 1, 1, id, "ST01 is '%s'", show(a, sizeof a, id));
	}
	if (!ctl_ok) {
		diag(p, X12_E_ST_CONTROL, seg, 1, 2, ctl, "ST02 is '%s'", show(a, sizeof a, ctl));
	} else {
		int r = ctl_add(&p->set_ctl, s->control);
		if (r < 0)
			set_nomem(p);
		else if (r > 0)
			diag(p, X12_E_ST_DUPLICATE, seg, 1, 2, ctl, "ST02 is '%s'",
			     show(a, sizeof a, ctl));
	}
	report_bad(p, seg, bad, nbad, true);
}

/* The set's second segment must be its beginning segment, if it has one. */
static void check_begin(parser *p, uint32_t seg)
{
	if (!p->begin)
		return;
	const char *want = p->begin;
	p->begin = NULL;
	if (strcmp(p->doc->segs[seg].id, want) != 0)
		diag(p, X12_E_SEG_BEGIN, seg, p->pos, 0, no_value,
		     "transaction set %s must begin with %s, found %s", p->doc->sets[p->set].id,
		     want, p->doc->segs[seg].id);
}

static void on_se(parser *p, uint32_t seg, const bad_elem *bad, unsigned nbad)
{
	x12_doc *doc = p->doc;
	if (p->set == X12_NONE) {
		stray(p, seg);
		report_bad(p, seg, bad, nbad, false);
		return;
	}
	x12_set *s = &doc->sets[p->set];
	s->nseg = ++p->pos;
	s->se = seg;
	if (p->pos == 2)
		check_begin(p, seg);
	report_bad(p, seg, bad, nbad, true);
	char a[32], b[32];
	x12_slice n1 = elem_of(p, seg, 1), n2 = elem_of(p, seg, 2);
	uint64_t v;
	if (!to_u64(n1, &v) || v != s->nseg)
		diag(p, X12_E_SE_COUNT, seg, p->pos, 1, n1, "SE01 is '%s', counted %u",
		     show(a, sizeof a, n1), s->nseg);
	x12_slice c = elem_of(p, s->st, 2);
	if (!(n2.p && c.p && n2.n == c.n && memcmp(n2.p, c.p, c.n) == 0))
		diag(p, X12_E_SE_CONTROL, seg, p->pos, 2, n2, "SE02 is '%s', ST02 is '%s'",
		     show(a, sizeof a, n2), show(b, sizeof b, c));
	close_set(p, seg, false);
}

static void on_iea(parser *p, uint32_t seg, const bad_elem *bad, unsigned nbad)
{
	x12_doc *doc = p->doc;
	close_group(p, seg, true);
	x12_interchange *ic = &doc->ics[p->ic];
	ic->iea = seg;
	report_bad(p, seg, bad, nbad, false);
	char a[32], b[32];
	x12_slice n1 = elem_of(p, seg, 1), n2 = elem_of(p, seg, 2);
	x12_slice c = elem_of(p, ic->isa, 13);
	uint64_t v;
	if (!to_u64(n1, &v) || v != ic->ngroups)
		diag(p, X12_E_IEA_COUNT, seg, 0, 1, n1, "IEA01 is '%s', the interchange has %u",
		     show(a, sizeof a, n1), ic->ngroups);
	if (!(n2.p && c.p && n2.n == c.n && memcmp(n2.p, c.p, c.n) == 0))
		diag(p, X12_E_IEA_CONTROL, seg, 0, 2, n2, "IEA02 is '%s', ISA13 is '%s'",
		     show(a, sizeof a, n2), show(b, sizeof b, c));
}

static void on_other(parser *p, uint32_t seg, size_t idlen, uint32_t seps, const bad_elem *bad,
                     unsigned nbad)
{
	x12_doc *doc = p->doc;
	const x12_seg *s = &doc->segs[seg];
	if (p->set == X12_NONE) {
		if (!(p->group == X12_NONE && strcmp(s->id, "TA1") == 0))
			stray(p, seg);
		report_bad(p, seg, bad, nbad, false);
		return;
	}
	doc->sets[p->set].nseg = ++p->pos;
	const char *id = doc->data + s->off;
	bool id_ok = idlen >= 2 && idlen <= 3 && is_upper((unsigned char)id[0]);
	for (size_t i = 1; id_ok && i < idlen; i++)
		id_ok = is_upper((unsigned char)id[i]) || is_digit((unsigned char)id[i]);
	if (!id_ok) {
		char a[32];
		diag(p, X12_E_SEG_ID, seg, p->pos, 0, (x12_slice){id, idlen}, "the ID is '%s'",
		     show(a, sizeof a, (x12_slice){id, idlen}));
	}
	if (p->pos == 2)
		check_begin(p, seg);
	if (seps > X12_MAX_ELEMENTS)
		diag(p, X12_E_ELEM_TOO_MANY, seg, p->pos, X12_MAX_ELEMENTS + 1, no_value,
		     "it has %u", seps);
	report_bad(p, seg, bad, nbad, true);
}

/* ---- the ISA ------------------------------------------------------------- */

static bool bad_delim(int c)
{
	return is_alnum(c) || c == ' ' || c == '\r' || c == '\n';
}

/*
 * Reads the ISA at start: its delimiters come from fixed places (the byte
 * after "ISA", the byte after the 16th separator, the one after that),
 * which holds for the padded 106-byte form and for unpadded ones alike.
 * Returns the offset after its terminator, or 0 if nothing more can be read.
 */
static size_t read_isa(parser *p, size_t start)
{
	x12_doc *doc = p->doc;
	const uint8_t *d = p->d + start;
	size_t avail = p->len - start;
	p->at = start;
	if (avail < 4 || bad_delim(d[3])) {
		diag(p, X12_E_ISA_MALFORMED, X12_NONE, 0, 0, no_value, "%s",
		     avail < 4 ? "the input ends inside it" : "byte 4 is not a separator");
		return 0;
	}
	uint8_t es = d[3];
	size_t f[17] = {0}, lim = avail < X12_ISA_SCAN ? avail : X12_ISA_SCAN;
	unsigned n = 0;
	for (size_t i = 3; i < lim && n < 16; i++) {
		if (d[i] == es)
			f[++n] = i + 1;
		else if (d[i] == '\r' || d[i] == '\n')
			break;
	}
	if (n < 16 || f[16] + 1 >= avail) {
		diag(p, X12_E_ISA_MALFORMED, X12_NONE, 0, 0, no_value,
		     "found %u of its 16 elements%s", n,
		     n == 16 ? " but no segment terminator after ISA16" : "");
		return 0;
	}
	if (doc->nics >= X12_MAX_ICS) {
		diag(p, X12_E_TOO_LARGE, X12_NONE, 0, 0, no_value, "more than %u interchanges",
		     X12_MAX_ICS);
		return 0;
	}
	if (!grow(&doc->ics, &doc->cap_ics, doc->nics, sizeof *doc->ics) ||
	    !grow(&doc->segs, &doc->cap_segs, doc->nsegs, sizeof *doc->segs)) {
		set_nomem(p);
		return 0;
	}
	p->ic = doc->nics++;
	p->group = p->set = X12_NONE;
	p->outside_noted = false;
	ctl_reset(&p->group_ctl);
	x12_interchange *ic = &doc->ics[p->ic];
	memset(ic, 0, sizeof *ic);
	ic->isa = doc->nsegs;
	ic->iea = X12_NONE;
	ic->group_first = doc->ngroups;
	ic->padded = f[16] == 104;
	x12_seg *s = &doc->segs[doc->nsegs++];
	s->off = (uint32_t)start;
	s->len = (uint32_t)(f[16] + 1);
	s->nelem = 16;
	s->ic = (uint16_t)p->ic;
	memcpy(s->id, "ISA", 4);

	x12_slice e[17];
	for (unsigned k = 1; k <= 16; k++)
		e[k] = (x12_slice){(const char *)d + f[k], k < 16 ? f[k + 1] - 1 - f[k] : 1};
	uint8_t comp = d[f[16]], term = d[f[16] + 1];
	x12_delims dl = {(char)es, (char)comp, 0, (char)term};
	uint32_t isa = ic->isa;
	char a[32];

	/* the delimiters first: without a good terminator nothing else can be read */
	if (bad_delim(comp) || comp == es)
		diag(p, X12_E_ISA_COMP_SEP, isa, 0, 16, e[16], "ISA16 is '%s'",
		     show(a, sizeof a, e[16]));
	if ((is_alnum(term) || term == ' ' || term == es || term == comp)) {
		ic->d = dl;
		diag(p, X12_E_ISA_TERMINATOR, isa, 0, 0, no_value, "it is '%c'", term);
		return 0;
	}
	uint64_t ver;
	if (all_digits(e[12], 5, 5) && to_u64(e[12], &ver)) {
		ic->version = (unsigned)ver;
	} else {
		diag(p, X12_E_ISA_VERSION, isa, 0, 12, e[12], "ISA12 is '%s'",
		     show(a, sizeof a, e[12]));
	}
	if (e[11].n != 1) {
		diag(p, ic->version >= 402 ? X12_E_ISA_REP_SEP : X12_E_ISA_STANDARD, isa, 0, 11,
		     e[11], "ISA11 is '%s'", show(a, sizeof a, e[11]));
	} else if (ic->version >= 402) {
		uint8_t r = (uint8_t)e[11].p[0];
		if (bad_delim(r) || r == es || r == comp || r == term)
			diag(p, X12_E_ISA_REP_SEP, isa, 0, 11, e[11], "ISA11 is '%c'", r);
		else
			dl.rep = (char)r;
	}
	ic->d = dl;
	p->dl = dl;

	if (e[1].n != 2)
		diag(p, X12_E_ISA_AUTH_QUAL, isa, 0, 1, e[1], "ISA01 is '%s'",
		     show(a, sizeof a, e[1]));
	if (e[3].n != 2)
		diag(p, X12_E_ISA_SEC_QUAL, isa, 0, 3, e[3], "ISA03 is '%s'",
		     show(a, sizeof a, e[3]));
	if (e[5].n != 2)
		diag(p, X12_E_ISA_SENDER_QUAL, isa, 0, 5, e[5], "ISA05 is '%s'",
		     show(a, sizeof a, e[5]));
	if (blank(e[6]))
		diag(p, X12_E_ISA_SENDER, isa, 0, 6, e[6], "%s", "it holds only blanks");
	if (e[7].n != 2)
		diag(p, X12_E_ISA_RECEIVER_QUAL, isa, 0, 7, e[7], "ISA07 is '%s'",
		     show(a, sizeof a, e[7]));
	if (blank(e[8]))
		diag(p, X12_E_ISA_RECEIVER, isa, 0, 8, e[8], "%s", "it holds only blanks");
	if (e[9].n != 6 || !valid_date(e[9]))
		diag(p, X12_E_ISA_DATE, isa, 0, 9, e[9], "ISA09 is '%s'", show(a, sizeof a, e[9]));
	if (!valid_time(e[10], 4))
		diag(p, X12_E_ISA_TIME, isa, 0, 10, e[10], "ISA10 is '%s'",
		     show(a, sizeof a, e[10]));
	if (all_digits(e[13], 9, 9))
		x12_slice_copy(ic->control, sizeof ic->control, e[13]);
	else
		diag(p, X12_E_ISA_CONTROL, isa, 0, 13, e[13], "ISA13 is '%s'",
		     show(a, sizeof a, e[13]));
	if (e[14].n == 1 && (e[14].p[0] == '0' || e[14].p[0] == '1'))
		ic->ack_requested = e[14].p[0] == '1';
	else
		diag(p, X12_E_ISA_ACK_REQUESTED, isa, 0, 14, e[14], "ISA14 is '%s'",
		     show(a, sizeof a, e[14]));
	if (e[15].n == 1 && strchr("PTI", e[15].p[0]))
		ic->usage = e[15].p[0];
	else
		diag(p, X12_E_ISA_USAGE, isa, 0, 15, e[15], "ISA15 is '%s'",
		     show(a, sizeof a, e[15]));

	memset(p->cls, CLS_DATA, sizeof p->cls);
	for (unsigned c = 0; c < 0x20; c++)
		p->cls[c] = CLS_CTRL;
	p->cls[0x7f] = CLS_CTRL;
	p->cls[comp] = CLS_DATA; /* control characters may serve as delimiters */
	if (dl.rep)
		p->cls[(uint8_t)dl.rep] = CLS_DATA;
	p->cls[es] = CLS_ELEM;
	p->cls[term] = CLS_TERM;
	return start + f[16] + 2;
}

/* ---- segments ------------------------------------------------------------ */

/* Does a segment ID and its separator start at q (before end)? */
static bool segment_start(const parser *p, const uint8_t *q, const uint8_t *end)
{
	if (end - q < 3 || !is_upper(q[0]) || !(is_upper(q[1]) || is_digit(q[1])))
		return false;
	if (q[2] == (uint8_t)p->dl.elem)
		return true;
	return end - q >= 4 && (is_upper(q[2]) || is_digit(q[2])) && q[3] == (uint8_t)p->dl.elem;
}

static size_t skip_breaks(const parser *p, size_t pos)
{
	while (pos < p->len && (p->d[pos] == '\r' || p->d[pos] == '\n'))
		pos++;
	return pos;
}

/* Closes whatever is open when the interchange ends without its IEA. */
static void end_without_iea(parser *p, uint32_t seg, const char *why)
{
	close_group(p, seg, true);
	diag(p, X12_E_IEA_MISSING, seg, 0, 0, no_value, "%s", why);
}

/*
 * Reads the segments of the interchange whose ISA ends at pos, up to and
 * including its IEA. Returns where the next interchange may begin.
 */
static size_t read_segments(parser *p, size_t pos)
{
	x12_doc *doc = p->doc;
	const uint8_t *d = p->d;
	const size_t len = p->len;
	const uint8_t *cls = p->cls;
	for (;;) {
		pos = skip_breaks(p, pos);
		if (pos >= len) {
			p->at = len;
			end_without_iea(p, X12_NONE, "the input ends before IEA");
			return len;
		}
		size_t s = pos, i = pos, idend = 0;
		uint32_t seps = 0;
		bad_elem bad[X12_BAD_PER_SEG];
		unsigned nbad = 0;
		for (;;) {
			while (i < len && cls[d[i]] == CLS_DATA)
				i++;
			if (i >= len)
				break;
			uint8_t c = cls[d[i]];
			if (c == CLS_TERM)
				break;
			if (c == CLS_ELEM) {
				if (seps++ == 0)
					idend = i;
				i++;
				continue;
			}
			/* a control character: one report per element */
			if (nbad == 0 || bad[nbad - 1].elem != seps) {
				if (nbad < X12_BAD_PER_SEG) {
					bad_elem *b = &bad[nbad++];
					b->elem = (uint16_t)(seps > 65535 ? 65535 : seps);
					b->at = i;
					b->before = i > s ? d[i - 1] : 0;
					b->mixed = false;
					if (d[i] == '\r' || d[i] == '\n') {
						size_t j = i;
						while (j < len && (d[j] == '\r' || d[j] == '\n'))
							j++;
						b->mixed = segment_start(p, d + j, d + len);
						memset(b->next, 0, sizeof b->next);
						for (unsigned k = 0;
						     b->mixed && k < 3 &&
						     d[j + k] != (uint8_t)p->dl.elem;
						     k++)
							b->next[k] = (char)d[j + k];
					}
				}
			}
			i++;
		}
		p->at = s;
		if (i >= len) {
			end_without_iea(p, X12_NONE,
			                "the input ends inside a segment that has no terminator");
			return len;
		}
		size_t idlen = (seps ? idend : i) - s;
		if (!grow(&doc->segs, &doc->cap_segs, doc->nsegs, sizeof *doc->segs)) {
			set_nomem(p);
			return len;
		}
		uint32_t seg = doc->nsegs++;
		x12_seg *sg = &doc->segs[seg];
		sg->off = (uint32_t)s;
		sg->len = (uint32_t)(i - s);
		sg->nelem = (uint16_t)(seps > 65535 ? 65535 : seps);
		sg->ic = (uint16_t)p->ic;
		memset(sg->id, 0, sizeof sg->id);
		if (idlen >= 1 && idlen <= 3)
			memcpy(sg->id, d + s, idlen);
		pos = i + 1;

		const char *id = sg->id;
		if (idlen == 2 && id[0] == 'S' && id[1] == 'T')
			on_st(p, seg, bad, nbad);
		else if (idlen == 2 && id[0] == 'S' && id[1] == 'E')
			on_se(p, seg, bad, nbad);
		else if (idlen == 2 && id[0] == 'G' && id[1] == 'S')
			on_gs(p, seg, bad, nbad);
		else if (idlen == 2 && id[0] == 'G' && id[1] == 'E')
			on_ge(p, seg, bad, nbad);
		else if (idlen == 3 && memcmp(id, "IEA", 3) == 0) {
			on_iea(p, seg, bad, nbad);
			return pos;
		} else if (idlen == 3 && memcmp(id, "ISA", 3) == 0) {
			/* another interchange begins: this one lost its IEA */
			doc->nsegs--;
			end_without_iea(p, X12_NONE, "another ISA begins before IEA");
			return s;
		} else
			on_other(p, seg, idlen, seps, bad, nbad);
		if (p->stop)
			return len;
	}
}

static size_t skip_space(const parser *p, size_t pos)
{
	while (pos < p->len &&
	       (p->d[pos] == '\r' || p->d[pos] == '\n' || p->d[pos] == ' ' || p->d[pos] == '\t'))
		pos++;
	return pos;
}

static bool at_isa(const parser *p, size_t pos)
{
	return p->len - pos >= 3 && memcmp(p->d + pos, "ISA", 3) == 0;
}

x12_err x12_parse(x12_doc *doc, const void *data, size_t len, const x12_opts *opts)
{
	memset(doc, 0, sizeof *doc);
	doc->data = data;
	doc->len = len;
	size_t max = opts && opts->max_input ? opts->max_input : X12_INPUT_LIMIT;
	if (max > X12_INPUT_LIMIT)
		max = X12_INPUT_LIMIT;
	parser p = {
	    .doc = doc,
	    .d = data,
	    .len = data ? len : 0,
	    .max_diags = opts && opts->max_diags ? opts->max_diags : X12_DEFAULT_DIAGS,
	    .ic = X12_NONE,
	    .group = X12_NONE,
	    .set = X12_NONE,
	    .line_no = 1,
	};
	if (len > max) {
		diag(&p, X12_E_TOO_LARGE, X12_NONE, 0, 0, no_value, "%zu bytes, at most %zu", len,
		     max);
		return doc->err;
	}
	/* a first guess at the segment count saves most regrowing */
	uint32_t guess = (uint32_t)(p.len / 40 + 16);
	doc->segs = malloc((size_t)guess * sizeof *doc->segs);
	if (!doc->segs) {
		doc->err = X12_E_NOMEM;
		return doc->err;
	}
	doc->cap_segs = guess;

	size_t pos = 0;
	if (p.len >= 3 && memcmp(p.d, "\xEF\xBB\xBF", 3) == 0) {
		doc->bom = true;
		pos = 3;
	}
	pos = skip_space(&p, pos);
	p.at = pos;
	if (!at_isa(&p, pos))
		diag(&p, X12_E_NOT_X12, X12_NONE, 0, 0, no_value, "%s",
		     pos >= p.len ? "it is empty" : "it begins otherwise");
	while (!p.stop && pos < p.len && at_isa(&p, pos)) {
		size_t next = read_isa(&p, pos);
		if (next == 0)
			break;
		pos = read_segments(&p, next);
		p.ic = X12_NONE;
		pos = skip_space(&p, pos);
		if (!p.stop && pos < p.len && !at_isa(&p, pos)) {
			p.at = pos;
			diag(&p, X12_E_TRAILING_DATA, X12_NONE, 0, 0, no_value,
			     "%zu bytes follow the IEA", p.len - pos);
		}
	}
	free(p.set_ctl.e);
	free(p.group_ctl.e);
	return doc->err;
}

void x12_doc_fini(x12_doc *doc)
{
	if (!doc)
		return;
	free(doc->segs);
	free(doc->ics);
	free(doc->groups);
	free(doc->sets);
	free(doc->diags);
	memset(doc, 0, sizeof *doc);
}

bool x12_group_accepted(const x12_doc *doc, uint32_t i)
{
	if (i >= doc->ngroups)
		return false;
	const x12_group *g = &doc->groups[i];
	return g->nerrs == 0 && doc->ics[g->ic].err == X12_E_OK;
}

bool x12_set_accepted(const x12_doc *doc, uint32_t i)
{
	if (i >= doc->nsets)
		return false;
	const x12_set *s = &doc->sets[i];
	return s->nerrs == 0 && s->nseg_errs == 0 && x12_group_accepted(doc, s->group);
}

/* ---- reading segments ---------------------------------------------------- */

x12_slice x12_seg_raw(const x12_doc *doc, uint32_t i)
{
	if (i >= doc->nsegs)
		return no_value;
	return (x12_slice){doc->data + doc->segs[i].off, doc->segs[i].len};
}

x12_slice x12_part(x12_slice s, char sep, unsigned k)
{
	if (!s.p || k == 0)
		return no_value;
	const char *q = s.p, *end = s.p + s.n;
	for (unsigned i = 1;; i++) {
		const char *x = memchr(q, sep, (size_t)(end - q));
		if (i == k)
			return (x12_slice){q, (size_t)((x ? x : end) - q)};
		if (!x)
			return no_value;
		q = x + 1;
	}
}

x12_slice x12_elem(const x12_doc *doc, uint32_t i, unsigned pos)
{
	if (i >= doc->nsegs)
		return no_value;
	const x12_seg *s = &doc->segs[i];
	return x12_part((x12_slice){doc->data + s->off, s->len}, doc->ics[s->ic].d.elem, pos + 1);
}

x12_slice x12_elem_part(const x12_doc *doc, uint32_t i, unsigned pos, unsigned rep, unsigned comp)
{
	x12_slice e = x12_elem(doc, i, pos);
	if (!e.p)
		return e;
	const x12_delims *d = &doc->ics[doc->segs[i].ic].d;
	if (rep) {
		if (d->rep)
			e = x12_part(e, d->rep, rep);
		else if (rep > 1)
			return no_value;
	}
	if (comp)
		e = x12_part(e, d->comp, comp);
	return e;
}

unsigned x12_split(const x12_doc *doc, uint32_t i, x12_slice *out, unsigned max)
{
	if (i >= doc->nsegs)
		return 0;
	const x12_seg *s = &doc->segs[i];
	char sep = doc->ics[s->ic].d.elem;
	const char *q = doc->data + s->off, *end = q + s->len;
	unsigned n = 0;
	for (;;) {
		const char *x = memchr(q, sep, (size_t)(end - q));
		if (n < max)
			out[n] = (x12_slice){q, (size_t)((x ? x : end) - q)};
		n++;
		if (!x)
			return n;
		q = x + 1;
	}
}

bool x12_slice_eq(x12_slice s, const char *z)
{
	size_t n = strlen(z);
	return s.p && s.n == n && memcmp(s.p, z, n) == 0;
}

char *x12_slice_copy(char *dst, size_t cap, x12_slice s)
{
	size_t n = s.p ? (s.n < cap - 1 ? s.n : cap - 1) : 0;
	if (n)
		memcpy(dst, s.p, n);
	dst[n] = 0;
	return dst;
}

/* ---- findings of the caller ----------------------------------------------- */

bool x12_report(x12_doc *doc, uint32_t set, uint32_t seg, unsigned elem, x12_err code,
                const char *fmt, ...)
{
	x12_level lv = x12_err_level(code);
	uint32_t ic = X12_NONE, group = X12_NONE, pos = 0;
	if (seg == X12_NONE && set < doc->nsets)
		seg = doc->sets[set].st;
	if (set < doc->nsets) {
		group = doc->sets[set].group;
		ic = doc->groups[group].ic;
		if (seg != X12_NONE && seg >= doc->sets[set].st && seg < doc->nsegs)
			pos = seg - doc->sets[set].st + 1;
	} else if (seg < doc->nsegs) {
		ic = doc->segs[seg].ic;
	}
	/* a finding must belong to what its level rejects */
	if (lv == X12_LEVEL_NONE || lv == X12_LEVEL_GROUP || ic == X12_NONE ||
	    (lv != X12_LEVEL_INTERCHANGE && set >= doc->nsets) || seg >= doc->nsegs)
		return false;
	parser p = {
	    .doc = doc,
	    .d = (const uint8_t *)doc->data,
	    .len = doc->len,
	    .max_diags = X12_DEFAULT_DIAGS,
	    .ic = ic,
	    .group = lv == X12_LEVEL_INTERCHANGE ? X12_NONE : group,
	    .set = lv == X12_LEVEL_INTERCHANGE ? X12_NONE : set,
	    .line_no = 1,
	};
	uint32_t before = doc->ndiags;
	va_list ap;
	va_start(ap, fmt);
	vdiag(&p, code, seg, lv == X12_LEVEL_INTERCHANGE ? 0 : pos, elem,
	      elem ? x12_elem(doc, seg, elem) : no_value, fmt, ap);
	va_end(ap);
	return doc->err != X12_E_NOMEM || doc->ndiags > before;
}
