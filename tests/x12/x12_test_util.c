/*
 * x12_test_util.c - shared by the X12 tests and the fuzz target.
 */
#include "x12_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef X12_SAMPLES_DIR
#define X12_SAMPLES_DIR "tests/x12/samples"
#endif

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "x12 invariant broken: %s (%s:%d)\n", #cond, __FILE__,     \
			        __LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

char *x12t_load(const char *name, size_t *len)
{
	char path[1024];
	const char *src = getenv("OMO_SOURCE_DIR");
	if (src)
		snprintf(path, sizeof path, "%s/tests/x12/samples/%s", src, name);
	else
		snprintf(path, sizeof path, "%s/%s", X12_SAMPLES_DIR, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		abort();
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	CHECK(n >= 0);
	char *b = malloc((size_t)n + 1);
	CHECK(b != NULL);
	CHECK(fread(b, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	b[n] = 0;
	*len = (size_t)n;
	return b;
}

uint32_t x12t_find(const x12_doc *doc, uint32_t from, uint32_t to, const char *id)
{
	for (uint32_t i = from; i <= to && i < doc->nsegs; i++)
		if (strcmp(doc->segs[i].id, id) == 0)
			return i;
	return X12_NONE;
}

const char *x12t_elem(const x12_doc *doc, uint32_t seg, unsigned pos)
{
	static char b[512];
	return x12_slice_copy(b, sizeof b, x12_elem(doc, seg, pos));
}

char *x12t_ack(const x12_doc *doc, uint32_t ic, bool ack_fa, x12_ack_result *r)
{
	x12_ack_opts o = {
	    .isa13 = 900,
	    .gs06 = 901,
	    .st02 = 902,
	    .now_us = X12_TEST_NOW_US,
	    .newline = true,
	    .ack_fa = ack_fa,
	};
	x12_buf out = {0};
	x12_err e = x12_ack_build(doc, ic, &o, &out, r);
	if (e != X12_E_OK) {
		fprintf(stderr, "ack: %s\n", x12_err_name(e));
		abort();
	}
	char *s = malloc(out.len + 1);
	CHECK(s != NULL);
	if (out.len)
		memcpy(s, out.data, out.len);
	s[out.len] = 0;
	x12_buf_fini(&out);
	return s;
}

/* Every index points where it should and every slice stays in the input. */
static void check_doc(const x12_doc *doc, const uint8_t *data, size_t size)
{
	CHECK(doc->data == (const char *)data || size == 0);
	for (uint32_t i = 0; i < doc->nsegs; i++) {
		const x12_seg *s = &doc->segs[i];
		CHECK((size_t)s->off + s->len <= size);
		CHECK(s->ic < doc->nics);
		unsigned n = s->nelem < 40 ? s->nelem : 40;
		for (unsigned k = 0; k <= n + 1; k++) {
			x12_slice e = x12_elem(doc, i, k);
			bool isa =
			    strcmp(s->id, "ISA") == 0; /* 16 even if ISA16 is the separator */
			if (isa) {
				if (!e.p)
					continue;
			} else if (k <= s->nelem || s->nelem == 65535) {
				CHECK(e.p != NULL);
			} else {
				CHECK(e.p == NULL);
				continue;
			}
			CHECK(e.p >= doc->data && e.p + e.n <= doc->data + size);
			x12_slice c = x12_elem_part(doc, i, k, 1, 2);
			CHECK(!c.p || (c.p >= e.p && c.p + c.n <= e.p + e.n));
		}
	}
	for (uint32_t i = 0; i < doc->nics; i++) {
		const x12_interchange *ic = &doc->ics[i];
		CHECK(ic->isa < doc->nsegs);
		CHECK(ic->iea == X12_NONE || (ic->iea > ic->isa && ic->iea < doc->nsegs));
		CHECK((uint64_t)ic->group_first + ic->ngroups <= doc->ngroups);
		CHECK((ic->err == X12_E_OK) == (ic->nerrs == 0));
	}
	for (uint32_t i = 0; i < doc->ngroups; i++) {
		const x12_group *g = &doc->groups[i];
		CHECK(g->ic < doc->nics && g->gs < doc->nsegs);
		CHECK(g->ge == X12_NONE || (g->ge > g->gs && g->ge < doc->nsegs));
		CHECK((uint64_t)g->set_first + g->nsets <= doc->nsets);
		CHECK(g->nerrs <= 5);
	}
	for (uint32_t i = 0; i < doc->nsets; i++) {
		const x12_set *s = &doc->sets[i];
		CHECK(s->group < doc->ngroups && s->st < doc->nsegs);
		CHECK(s->se == X12_NONE || (s->se > s->st && s->se < doc->nsegs));
		CHECK(s->nerrs <= 5 && s->nseg >= 1);
		CHECK(doc->err != X12_E_OK || x12_set_accepted(doc, i));
	}
	CHECK(doc->ndiags <= 200);
	CHECK((doc->err == X12_E_OK) == (doc->ndiags == 0 && doc->ndiags_lost == 0));
	for (uint32_t i = 0; i < doc->ndiags; i++) {
		const x12_diag *g = &doc->diags[i];
		CHECK(g->code > X12_E_OK && g->code < X12_E_COUNT);
		CHECK(memchr(g->text, 0, sizeof g->text) != NULL && g->text[0] != 0);
		CHECK(g->seg == X12_NONE || g->seg < doc->nsegs);
		CHECK(!g->value.p ||
		      (g->value.p >= doc->data && g->value.p + g->value.n <= doc->data + size));
	}
}

x12_err x12t_check(const uint8_t *data, size_t size)
{
	x12_doc doc;
	x12_err err = x12_parse(&doc, data, size, NULL);
	CHECK(err == doc.err);
	if (err == X12_E_NOMEM) {
		x12_doc_fini(&doc);
		return err;
	}
	check_doc(&doc, data, size);
	for (uint32_t i = 0; i < doc.nics; i++) {
		for (int fa = 0; fa < 2; fa++) {
			x12_ack_opts o = {
			    .isa13 = 1, .gs06 = 2, .st02 = 3, .now_us = 0, .ack_fa = fa};
			x12_buf out = {0};
			x12_ack_result r;
			x12_err e = x12_ack_build(&doc, i, &o, &out, &r);
			CHECK(e == X12_E_OK);
			CHECK(r.empty == (out.len == 0));
			CHECK(!(doc.ics[i].err != X12_E_OK) ||
			      (r.ta1 && r.ta1_status == 'R' && !r.group));
			if (!r.empty) {
				x12_doc ack;
				x12_err ae = x12_parse(&ack, out.data, out.len, NULL);
				if (ae != X12_E_OK) {
					fprintf(stderr,
					        "acknowledgement does not parse: %s\n%.*s\n",
					        ack.ndiags ? ack.diags[0].text : x12_err_name(ae),
					        (int)out.len, out.data);
					abort();
				}
				CHECK(ack.nics == 1 && ack.nsets == r.n997);
				x12_doc_fini(&ack);
			}
			x12_buf_fini(&out);
		}
	}
	x12_doc_fini(&doc);
	return err;
}
