/*
 * x12_write.c - the interchange writer: envelopes, counts, delimiters.
 */
#include "x12_write.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { W_INTERCHANGE, W_GROUP, W_SET, W_DONE };

void x12_buf_fini(x12_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static void fail(x12_writer *w, x12_err e)
{
	if (w->err == X12_E_OK)
		w->err = e;
}

static void put(x12_writer *w, const char *p, size_t n)
{
	if (w->err != X12_E_OK || n == 0)
		return;
	x12_buf *b = w->out;
	if (n > X12_MAX_OUTPUT - b->len) {
		fail(w, X12_E_TOO_LARGE);
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n)
			cap = cap > X12_MAX_OUTPUT / 2 ? X12_MAX_OUTPUT : cap * 2;
		char *d = realloc(b->data, cap);
		if (!d) {
			fail(w, X12_E_NOMEM);
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void putc1(x12_writer *w, char c)
{
	put(w, &c, 1);
}

/* A value may hold neither a delimiter nor a control character. */
static bool clean(const x12_writer *w, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f || c == (unsigned char)w->d.elem ||
		    c == (unsigned char)w->d.comp || c == (unsigned char)w->d.seg ||
		    (w->d.rep && c == (unsigned char)w->d.rep))
			return false;
	}
	return true;
}

static bool bad_delim(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       c == ' ' || c == '\r' || c == '\n' || c == 0;
}

void x12_utc_parts(int64_t us, int *year, int *month, int *day, int *hour, int *minute)
{
	int64_t s = us / 1000000 - (us % 1000000 < 0);
	int64_t days = s / 86400 - (s % 86400 < 0);
	int64_t sod = s - days * 86400;
	/* days since 1970-01-01 to a civil date (proleptic Gregorian) */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	*year = (int)(yoe + era * 400 + (m <= 2));
	*month = (int)m;
	*day = (int)d;
	*hour = (int)(sod / 3600);
	*minute = (int)(sod % 3600 / 60);
}

static void seg_start(x12_writer *w, const char *id)
{
	if (w->err != X12_E_OK)
		return;
	if (w->in_seg || w->state == W_DONE) {
		fail(w, X12_E_W_STATE);
		return;
	}
	size_t n = id ? strlen(id) : 0;
	bool ok = n >= 2 && n <= 3 && id[0] >= 'A' && id[0] <= 'Z';
	for (size_t i = 1; ok && i < n; i++)
		ok = (id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9');
	if (!ok) {
		fail(w, X12_E_W_VALUE);
		return;
	}
	put(w, id, n);
	w->in_seg = true;
	w->nelem = 0;
	w->keep = w->out->len;
}

void x12_w_seg(x12_writer *w, const char *id)
{
	if (w->err == X12_E_OK && w->state == W_GROUP) {
		fail(w, X12_E_W_STATE); /* a group holds sets only */
		return;
	}
	seg_start(w, id);
}

void x12_w_elemn(x12_writer *w, const char *value, size_t n)
{
	if (w->err != X12_E_OK)
		return;
	if (!w->in_seg) {
		fail(w, X12_E_W_STATE);
		return;
	}
	if (!value)
		n = 0;
	if (!clean(w, value, n)) {
		fail(w, X12_E_W_DELIM);
		return;
	}
	putc1(w, w->d.elem);
	put(w, value, n);
	w->nelem++;
	if (n)
		w->keep = w->out->len;
}

void x12_w_elem(x12_writer *w, const char *value)
{
	x12_w_elemn(w, value, value ? strlen(value) : 0);
}

void x12_w_elem_uint(x12_writer *w, uint64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof b, "%" PRIu64, v);
	x12_w_elemn(w, b, (size_t)n);
}

void x12_w_elem_dec(x12_writer *w, int64_t minor, unsigned scale)
{
	if (scale > 18) {
		fail(w, X12_E_W_VALUE);
		return;
	}
	uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	uint64_t pow = 1;
	for (unsigned i = 0; i < scale; i++)
		pow *= 10;
	uint64_t whole = mag / pow, frac = mag % pow;
	char b[48];
	int n = snprintf(b, sizeof b, "%s%" PRIu64, minor < 0 ? "-" : "", whole);
	if (frac) {
		char f[24];
		snprintf(f, sizeof f, "%0*" PRIu64, (int)scale, frac);
		size_t fl = strlen(f);
		while (fl > 0 && f[fl - 1] == '0')
			f[--fl] = 0;
		n += snprintf(b + n, sizeof b - (size_t)n, ".%s", f);
	}
	x12_w_elemn(w, b, (size_t)n);
}

static void sub(x12_writer *w, char sep, const char *value)
{
	if (w->err != X12_E_OK)
		return;
	if (!w->in_seg || w->nelem == 0 || !sep) {
		fail(w, X12_E_W_STATE);
		return;
	}
	size_t n = value ? strlen(value) : 0;
	if (!clean(w, value, n)) {
		fail(w, X12_E_W_DELIM);
		return;
	}
	putc1(w, sep);
	put(w, value, n);
	if (n)
		w->keep = w->out->len;
}

void x12_w_comp(x12_writer *w, const char *value)
{
	sub(w, w->d.comp, value);
}

void x12_w_rep(x12_writer *w, const char *value)
{
	sub(w, w->d.rep, value);
}

void x12_w_seg_end(x12_writer *w)
{
	if (w->err != X12_E_OK)
		return;
	if (!w->in_seg) {
		fail(w, X12_E_W_STATE);
		return;
	}
	w->out->len = w->keep; /* no empty trailing elements */
	putc1(w, w->d.seg);
	if (w->newline)
		putc1(w, '\n');
	w->in_seg = false;
	if (w->state == W_SET)
		w->nsegs++;
}

void x12_w_segv(x12_writer *w, const char *id, const char *const *elems, size_t n)
{
	x12_w_seg(w, id);
	for (size_t i = 0; i < n; i++)
		x12_w_elem(w, elems[i]);
	x12_w_seg_end(w);
}

/* A fixed-width ISA field: value padded with blanks to width. */
static void isa_field(x12_writer *w, const char *v, size_t width, size_t min)
{
	size_t n = v ? strlen(v) : 0;
	bool blank = true;
	for (size_t i = 0; i < n; i++)
		blank = blank && v[i] == ' ';
	if (n < min || n > width || (min > 0 && blank)) {
		fail(w, X12_E_W_VALUE);
		return;
	}
	if (!clean(w, v, n)) {
		fail(w, X12_E_W_DELIM);
		return;
	}
	char b[16];
	memset(b, ' ', sizeof b);
	if (n)
		memcpy(b, v, n);
	putc1(w, w->d.elem);
	put(w, b, width);
}

void x12_writer_init(x12_writer *w, x12_buf *out, const x12_envelope *env)
{
	memset(w, 0, sizeof *w);
	w->out = out;
	w->state = W_INTERCHANGE;
	w->version = env->version ? env->version : 401;
	w->now_us = env->now_us;
	w->newline = env->newline;
	w->d.elem = env->d.elem ? env->d.elem : '*';
	w->d.comp = env->d.comp ? env->d.comp : '>';
	w->d.seg = env->d.seg ? env->d.seg : '~';
	w->d.rep = w->version >= 402 ? (env->d.rep ? env->d.rep : '^') : 0;
	const x12_delims *d = &w->d;
	/* a line break may terminate segments, but then none may follow it */
	bool seg_ok = !bad_delim(d->seg) || (!w->newline && (d->seg == '\r' || d->seg == '\n'));
	if (bad_delim(d->elem) || bad_delim(d->comp) || !seg_ok || d->elem == d->comp ||
	    d->elem == d->seg || d->comp == d->seg ||
	    (d->rep &&
	     (bad_delim(d->rep) || d->rep == d->elem || d->rep == d->comp || d->rep == d->seg)) ||
	    w->version > 99999) {
		fail(w, X12_E_W_VALUE);
		return;
	}
	if (env->control < 1 || env->control > 999999999) {
		fail(w, X12_E_W_VALUE);
		return;
	}
	char usage = env->usage ? env->usage : 'P';
	if (usage != 'P' && usage != 'T' && usage != 'I') {
		fail(w, X12_E_W_VALUE);
		return;
	}
	snprintf(w->isa13, sizeof w->isa13, "%09" PRIu32, env->control);
	int y, mo, da, h, mi;
	x12_utc_parts(env->now_us, &y, &mo, &da, &h, &mi);
	char date[8], tm[8], ver[8];
	snprintf(date, sizeof date, "%02d%02d%02d", y % 100, mo, da);
	snprintf(tm, sizeof tm, "%02d%02d", h, mi);
	snprintf(ver, sizeof ver, "%05u", w->version);

	w->in_seg = true; /* the ISA is written field by field */
	put(w, "ISA", 3);
	isa_field(w, "00", 2, 2);
	isa_field(w, "", 10, 0);
	isa_field(w, "00", 2, 2);
	isa_field(w, "", 10, 0);
	isa_field(w, env->sender_qual, 2, 2);
	isa_field(w, env->sender_id, 15, 1);
	isa_field(w, env->receiver_qual, 2, 2);
	isa_field(w, env->receiver_id, 15, 1);
	isa_field(w, date, 6, 6);
	isa_field(w, tm, 4, 4);
	putc1(w, d->elem);
	putc1(w, d->rep ? d->rep : 'U');
	isa_field(w, ver, 5, 5);
	isa_field(w, w->isa13, 9, 9);
	isa_field(w, env->ack_requested ? "1" : "0", 1, 1);
	isa_field(w, (char[2]){usage, 0}, 1, 1);
	putc1(w, d->elem);
	putc1(w, d->comp);
	putc1(w, d->seg);
	if (w->newline)
		putc1(w, '\n');
	w->in_seg = false;
}

void x12_w_group_begin(x12_writer *w, const char *func, const char *app_sender,
                       const char *app_receiver, uint32_t control, const char *version)
{
	if (w->err != X12_E_OK)
		return;
	if (w->state != W_INTERCHANGE || w->in_seg) {
		fail(w, X12_E_W_STATE);
		return;
	}
	size_t fs = app_sender ? strlen(app_sender) : 0,
	       fr = app_receiver ? strlen(app_receiver) : 0;
	if (!func || strlen(func) != 2 || fs < 1 || fs > 15 || fr < 1 || fr > 15 || control < 1 ||
	    control > 999999999) {
		fail(w, X12_E_W_VALUE);
		return;
	}
	int y, mo, da, h, mi;
	x12_utc_parts(w->now_us, &y, &mo, &da, &h, &mi);
	char date[16], tm[8], ver[16];
	snprintf(date, sizeof date, "%04d%02d%02d", y, mo, da);
	snprintf(tm, sizeof tm, "%02d%02d", h, mi);
	snprintf(w->gs06, sizeof w->gs06, "%" PRIu32, control);
	if (!version) {
		snprintf(ver, sizeof ver, "%05u0", w->version);
		version = ver;
	}
	x12_w_segl(w, "GS", func, app_sender, app_receiver, date, tm, w->gs06, "X", version);
	w->state = W_GROUP;
	w->nsets = 0;
	w->ngroups++;
}

void x12_w_group_end(x12_writer *w)
{
	if (w->err != X12_E_OK)
		return;
	if (w->state != W_GROUP || w->in_seg) {
		fail(w, X12_E_W_STATE);
		return;
	}
	w->state = W_INTERCHANGE;
	seg_start(w, "GE");
	x12_w_elem_uint(w, w->nsets);
	x12_w_elem(w, w->gs06);
	x12_w_seg_end(w);
}

void x12_w_set_begin(x12_writer *w, const char *id, uint32_t control, const char *impl)
{
	if (w->err != X12_E_OK)
		return;
	if (w->state != W_GROUP || w->in_seg) {
		fail(w, X12_E_W_STATE);
		return;
	}
	if (!id || strlen(id) != 3 || control < 1 || control > 999999999) {
		fail(w, X12_E_W_VALUE);
		return;
	}
	snprintf(w->st02, sizeof w->st02, "%04" PRIu32, control);
	w->state = W_SET;
	w->nsegs = 0;
	seg_start(w, "ST");
	x12_w_elem(w, id);
	x12_w_elem(w, w->st02);
	if (impl)
		x12_w_elem(w, impl);
	x12_w_seg_end(w);
}

void x12_w_set_end(x12_writer *w)
{
	if (w->err != X12_E_OK)
		return;
	if (w->state != W_SET || w->in_seg) {
		fail(w, X12_E_W_STATE);
		return;
	}
	seg_start(w, "SE");
	x12_w_elem_uint(w, (uint64_t)w->nsegs + 1);
	x12_w_elem(w, w->st02);
	x12_w_seg_end(w);
	w->state = W_GROUP;
	w->nsets++;
}

x12_err x12_writer_finish(x12_writer *w)
{
	if (w->err != X12_E_OK)
		return w->err;
	if (w->state != W_INTERCHANGE || w->in_seg) {
		fail(w, X12_E_W_STATE);
		return w->err;
	}
	seg_start(w, "IEA");
	x12_w_elem_uint(w, w->ngroups);
	x12_w_elem(w, w->isa13);
	x12_w_seg_end(w);
	w->state = W_DONE;
	return w->err;
}

x12_err x12_writer_err(const x12_writer *w)
{
	return w->err;
}
