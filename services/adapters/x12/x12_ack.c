/*
 * x12_ack.c - TA1 and 997 from a parsed interchange and its diagnostics.
 */
#include "x12_ack.h"

#include <stdio.h>
#include <string.h>

/* The writer's delimiters for d at version ver (zeros become defaults). */
static x12_delims final_delims(x12_delims d, unsigned ver)
{
	x12_delims f = {
	    d.elem ? d.elem : '*',
	    d.comp ? d.comp : '>',
	    ver >= 402 ? (d.rep ? d.rep : '^') : 0,
	    d.seg ? d.seg : '~',
	};
	return f;
}

/*
 * Copies s into dst (at most max bytes) keeping only printable ASCII that is
 * no delimiter, without the blanks (or UTF-8 no-break spaces) that pad ISA
 * fields. Returns dst; *dropped (if not NULL) tells whether bytes were lost.
 */
static const char *cleaned(char *dst, size_t cap, x12_slice s, const x12_delims *d, size_t max,
                           bool *dropped)
{
	size_t len = s.p ? s.n : 0, n = 0;
	bool lost = false;
	while (len > 0) {
		if (s.p[len - 1] == ' ')
			len--;
		else if (len >= 2 && (unsigned char)s.p[len - 1] == 0xA0 &&
		         (unsigned char)s.p[len - 2] == 0xC2)
			len -= 2;
		else
			break;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s.p[i];
		if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e || c == d->elem ||
		    c == d->comp || c == d->seg || (d->rep && c == d->rep)) {
			lost = true;
			continue;
		}
		if (n >= max || n + 1 >= cap) {
			lost = true;
			break;
		}
		dst[n++] = c;
	}
	while (n > 0 && dst[n - 1] == ' ') /* what was left may end in padding too */
		n--;
	dst[n] = 0;
	if (dropped)
		*dropped = lost;
	return dst;
}

static bool digits_only(x12_slice s, size_t min, size_t max)
{
	if (!s.p || s.n < min || s.n > max)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

static unsigned ack_version(const x12_interchange *in)
{
	return in->version >= 200 && in->version <= 99999 ? in->version : 401;
}

static bool wants_ack(const x12_group *g, const x12_ack_opts *o)
{
	return o->ack_fa || strcmp(g->func, "FA") != 0;
}

/* AK3 and AK4 for the segment and element errors of set si. */
static void write_ak3(x12_writer *w, const x12_doc *doc, uint32_t si, unsigned ver)
{
	const x12_set *s = &doc->sets[si];
	uint32_t open_seg = X12_NONE, skip_seg = X12_NONE;
	char a[128];
	for (uint32_t i = 0; i < doc->ndiags; i++) {
		const x12_diag *g = &doc->diags[i];
		x12_level lv = x12_err_level(g->code);
		if (g->set != si || (lv != X12_LEVEL_SEGMENT && lv != X12_LEVEL_ELEMENT) ||
		    g->seg >= doc->nsegs || g->seg == skip_seg)
			continue;
		if (lv == X12_LEVEL_SEGMENT || g->seg != open_seg) {
			const char *id = NULL;
			if (g->code == X12_E_SEG_BEGIN)
				id = x12_begin_segment(s->id);
			if (!id)
				id = cleaned(
				    a, sizeof a,
				    (x12_slice){doc->segs[g->seg].id, strlen(doc->segs[g->seg].id)},
				    &w->d, 3, NULL);
			if (strlen(id) < 2) {
				skip_seg = g->seg; /* AK301 cannot name it; AK5 still says 5 */
				continue;
			}
			x12_w_seg(w, "AK3");
			x12_w_elem(w, id);
			x12_w_elem_uint(w, g->pos);
			x12_w_elem(w, NULL);
			x12_w_elem(w,
			           lv == X12_LEVEL_SEGMENT ? x12_err_ack_code(g->code, ver) : "8");
			x12_w_seg_end(w);
			open_seg = g->code == X12_E_SEG_BEGIN ? X12_NONE : g->seg;
		}
		if (lv != X12_LEVEL_ELEMENT)
			continue;
		x12_w_seg(w, "AK4");
		x12_w_elem_uint(w, g->elem > 99 ? 99 : g->elem);
		if (g->comp) {
			snprintf(a, sizeof a, "%u", (unsigned)g->comp);
			x12_w_comp(w, a);
		}
		x12_w_elem(w, NULL);
		x12_w_elem(w, x12_err_ack_code(g->code, ver));
		bool lost;
		cleaned(a, sizeof a, g->value, &w->d, 99, &lost);
		if (!lost && g->value.n > 0 && g->value.n <= 99)
			x12_w_elem(w, a);
		x12_w_seg_end(w);
	}
}

static void write_997(x12_writer *w, const x12_doc *doc, uint32_t gi, uint32_t st02, unsigned ver)
{
	const x12_group *g = &doc->groups[gi];
	char a[64];
	x12_w_set_begin(w, "997", st02, NULL);
	x12_w_seg(w, "AK1");
	x12_w_elem(w, cleaned(a, sizeof a, x12_elem(doc, g->gs, 1), &w->d, 2, NULL));
	x12_w_elem(w, cleaned(a, sizeof a, x12_elem(doc, g->gs, 6), &w->d, 9, NULL));
	if (ver >= 501)
		x12_w_elem(w, cleaned(a, sizeof a, x12_elem(doc, g->gs, 8), &w->d, 12, NULL));
	x12_w_seg_end(w);

	bool group_ok = g->nerrs == 0;
	uint32_t accepted = 0;
	for (uint32_t k = 0; k < g->nsets; k++) {
		uint32_t si = g->set_first + k;
		const x12_set *s = &doc->sets[si];
		x12_w_seg(w, "AK2");
		x12_w_elem(w, cleaned(a, sizeof a, x12_elem(doc, s->st, 1), &w->d, 3, NULL));
		x12_w_elem(w, cleaned(a, sizeof a, x12_elem(doc, s->st, 2), &w->d, 9, NULL));
		if (ver >= 501)
			x12_w_elem(w,
			           cleaned(a, sizeof a, x12_elem(doc, s->st, 3), &w->d, 35, NULL));
		x12_w_seg_end(w);
		write_ak3(w, doc, si, ver);
		bool ok = group_ok && s->nerrs == 0 && s->nseg_errs == 0;
		accepted += ok;
		x12_w_seg(w, "AK5");
		x12_w_elem(w, ok ? "A" : "R");
		for (unsigned e = 0; e < s->nerrs; e++) {
			const char *code = x12_err_ack_code(s->errs[e], ver);
			if (*code)
				x12_w_elem(w, code);
		}
		x12_w_seg_end(w);
	}

	x12_slice ge01 = g->ge != X12_NONE ? x12_elem(doc, g->ge, 1) : (x12_slice){NULL, 0};
	x12_w_seg(w, "AK9");
	x12_w_elem(w, !group_ok || (accepted == 0 && g->nsets > 0) ? "R"
	              : accepted == g->nsets                       ? "A"
	                                                           : "P");
	if (digits_only(ge01, 1, 6))
		x12_w_elem(w, cleaned(a, sizeof a, ge01, &w->d, 6, NULL));
	else
		x12_w_elem_uint(w, g->nsets);
	x12_w_elem_uint(w, g->nsets);
	x12_w_elem_uint(w, accepted);
	for (unsigned e = 0; e < g->nerrs; e++) {
		const char *code = x12_err_ack_code(g->errs[e], ver);
		if (*code)
			x12_w_elem(w, code);
	}
	x12_w_seg_end(w);
	x12_w_set_end(w);
}

static x12_err build(const x12_doc *doc, uint32_t ic, const x12_ack_opts *o, x12_delims d,
                     x12_buf *out, x12_ack_result *r)
{
	const x12_interchange *in = &doc->ics[ic];
	unsigned ver = ack_version(in);
	x12_delims fd = final_delims(d, ver);
	bool rejected = in->err != X12_E_OK;
	memset(r, 0, sizeof *r);

	char their_q[8], their_id[32], our_q[8], our_id[32];
	cleaned(their_q, sizeof their_q, x12_elem(doc, in->isa, 5), &fd, 2, NULL);
	cleaned(their_id, sizeof their_id, x12_elem(doc, in->isa, 6), &fd, 15, NULL);
	if (o->our_qual && o->our_id) {
		snprintf(our_q, sizeof our_q, "%s", o->our_qual);
		snprintf(our_id, sizeof our_id, "%s", o->our_id);
	} else {
		cleaned(our_q, sizeof our_q, x12_elem(doc, in->isa, 7), &fd, 2, NULL);
		cleaned(our_id, sizeof our_id, x12_elem(doc, in->isa, 8), &fd, 15, NULL);
	}
	if (strlen(their_q) != 2)
		strcpy(their_q, "ZZ");
	if (!their_id[0])
		strcpy(their_id, "UNKNOWN");
	if (strlen(our_q) != 2)
		strcpy(our_q, "ZZ");
	if (!our_id[0])
		strcpy(our_id, "UNKNOWN");

	x12_envelope env = {
	    .sender_qual = our_q,
	    .sender_id = our_id,
	    .receiver_qual = their_q,
	    .receiver_id = their_id,
	    .control = o->isa13,
	    .version = ver,
	    .now_us = o->now_us,
	    .usage = in->usage ? in->usage : 'P',
	    .d = fd,
	    .newline = o->newline,
	};
	x12_writer w;
	x12_writer_init(&w, out, &env);

	if (rejected || in->ack_requested || o->ta1_always) {
		char ctl[16], date[8], tm[8];
		x12_slice c = x12_elem(doc, in->isa, 13), dt = x12_elem(doc, in->isa, 9),
		          t = x12_elem(doc, in->isa, 10);
		if (digits_only(c, 1, 9)) {
			memset(ctl, '0', 9 - c.n);
			memcpy(ctl + 9 - c.n, c.p, c.n);
			ctl[9] = 0;
		} else {
			strcpy(ctl, "000000000");
		}
		x12_slice_copy(date, sizeof date,
		               digits_only(dt, 6, 6) ? dt : (x12_slice){"000000", 6});
		x12_slice_copy(tm, sizeof tm, digits_only(t, 4, 4) ? t : (x12_slice){"0000", 4});
		r->ta1 = true;
		r->ta1_status = rejected ? 'R' : 'A';
		const char *code = rejected ? x12_err_ack_code(in->err, ver) : "000";
		snprintf(r->ta1_code, sizeof r->ta1_code, "%s", *code ? code : "022");
		x12_w_segl(&w, "TA1", ctl, date, tm, rejected ? "R" : "A", r->ta1_code);
	}

	if (!rejected) {
		uint32_t st02 = o->st02;
		unsigned gver = ver; /* the 997s' version: that of the first group they answer */
		for (uint32_t k = 0; k < in->ngroups; k++) {
			uint32_t gi = in->group_first + k;
			const x12_group *g = &doc->groups[gi];
			if (!wants_ack(g, o))
				continue;
			if (!r->group) {
				char snd[32], rcv[32], gs08[8] = {0};
				cleaned(snd, sizeof snd, x12_elem(doc, g->gs, 3), &fd, 15, NULL);
				cleaned(rcv, sizeof rcv, x12_elem(doc, g->gs, 2), &fd, 15, NULL);
				if (g->version[0]) {
					memcpy(gs08, g->version, 6);
					gver = 0; /* "004010" -> 401, like ISA12 */
					for (int i = 0; i < 5; i++)
						gver = gver * 10 + (unsigned)(gs08[i] - '0');
				}
				x12_w_group_begin(&w, "FA", snd[0] ? snd : our_id,
				                  rcv[0] ? rcv : their_id, o->gs06,
				                  gs08[0] ? gs08 : NULL);
				r->group = true;
			}
			write_997(&w, doc, gi, st02++, gver);
			r->n997++;
		}
		if (r->group)
			x12_w_group_end(&w);
	}
	r->empty = !r->ta1 && !r->group;
	return r->empty ? X12_E_OK : x12_writer_finish(&w);
}

x12_err x12_ack_build(const x12_doc *doc, uint32_t ic, const x12_ack_opts *o, x12_buf *out,
                      x12_ack_result *r)
{
	if (ic >= doc->nics)
		return X12_E_W_STATE;
	const x12_interchange *in = &doc->ics[ic];
	size_t mark = out->len;
	bool own = o->d.elem != 0;
	/* the received delimiters, unless they were part of what was wrong */
	bool theirs_ok = in->err != X12_E_ISA_COMP_SEP && in->err != X12_E_ISA_TERMINATOR &&
	                 in->err != X12_E_ISA_REP_SEP && in->d.elem;
	x12_delims d = own ? o->d : theirs_ok ? in->d : (x12_delims){0};
	x12_err e = build(doc, ic, o, d, out, r);
	if (e != X12_E_OK) {
		out->len = mark;
		if (!own && (e == X12_E_W_DELIM || e == X12_E_W_VALUE) && d.elem) {
			e = build(doc, ic, o, (x12_delims){0}, out, r);
			if (e != X12_E_OK)
				out->len = mark;
		}
	}
	if (r->empty)
		out->len = mark;
	return e;
}
