/*
 * test_x12_samples.c - every partner sample in tests/x12/samples, read by
 * the X12 codec: clean files with their values asserted, BAD files
 * rejected with the error that names their real defect and answered with
 * the exact TA1 or 997 we send back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "x12.h"
#include "x12_ack.h"
#include "x12_test_util.h"
#include "x12_util.h"

#define ELEM_EQ(doc, seg, pos, want) assert_string_equal(x12t_elem((doc), (seg), (pos)), (want))

/* A sample and its parse, freed together. */
typedef struct sample {
	char *buf;
	size_t len;
	x12_doc doc;
	x12_err err;
} sample;

static void sample_open(sample *s, const char *name)
{
	s->buf = x12t_load(name, &s->len);
	s->err = x12_parse(&s->doc, s->buf, s->len, NULL);
}

static void sample_close(sample *s)
{
	x12_doc_fini(&s->doc);
	free(s->buf);
}

static int64_t money(const x12_doc *doc, uint32_t seg, unsigned pos, unsigned implied,
                     unsigned scale)
{
	x12_slice v = x12_elem(doc, seg, pos);
	int64_t out = -1;
	assert_int_equal(x12_decimal_parse(v.p, v.n, implied, scale, &out), X12_E_OK);
	return out;
}

static uint64_t uint_at(const x12_doc *doc, uint32_t seg, unsigned pos)
{
	x12_slice v = x12_elem(doc, seg, pos);
	uint64_t out = 0;
	assert_int_equal(x12_uint_parse(v.p, v.n, UINT64_MAX, &out), X12_E_OK);
	return out;
}

/* The one error of a BAD file: its code, where, and what the sentence says. */
static const x12_diag *only_diag(const x12_doc *doc, x12_err code)
{
	for (uint32_t i = 0; i < doc->ndiags; i++)
		if (doc->diags[i].code == code)
			return &doc->diags[i];
	fail_msg("no %s diagnostic", x12_err_name(code));
	return NULL;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

static void assert_ack(const x12_doc *doc, uint32_t ic, bool ack_fa, const char *want)
{
	x12_ack_result r;
	char *got = x12t_ack(doc, ic, ack_fa, &r);
	assert_string_equal(got, want);
	/* and what we send is itself clean X12 */
	if (*got) {
		x12_doc back;
		assert_int_equal(x12_parse(&back, got, strlen(got), NULL), X12_E_OK);
		x12_doc_fini(&back);
	}
	free(got);
}

/* ---- 850, VICS 4010 ------------------------------------------------------ */

static void test_850_vics(void **state)
{
	(void)state;
	sample s;
	sample_open(&s, "x12_850_nodex12_vics.edi");
	const x12_doc *doc = &s.doc;
	assert_int_equal(s.err, X12_E_OK);
	assert_int_equal(doc->nics, 1);
	assert_int_equal(doc->ngroups, 1);
	assert_int_equal(doc->nsets, 1);
	assert_false(doc->bom);

	const x12_interchange *ic = &doc->ics[0];
	assert_int_equal(ic->d.elem, '*');
	assert_int_equal(ic->d.comp, '>');
	assert_int_equal(ic->d.rep, 0); /* 00400: ISA11 'U' is no separator */
	assert_int_equal(ic->d.seg, '~');
	assert_true(ic->padded);
	assert_int_equal(ic->version, 400);
	assert_string_equal(ic->control, "000003438");
	assert_int_equal(ic->usage, 'P');
	assert_false(ic->ack_requested);
	ELEM_EQ(doc, ic->isa, 4, "ABCCO     ");
	ELEM_EQ(doc, ic->isa, 6, "4405197800     ");
	ELEM_EQ(doc, ic->isa, 11, "U");

	const x12_group *g = &doc->groups[0];
	assert_string_equal(g->func, "PO");
	assert_string_equal(g->control, "1421");
	assert_string_equal(g->version, "004010VICS");

	const x12_set *set = &doc->sets[0];
	assert_string_equal(set->id, "850");
	assert_string_equal(set->control, "000000010");
	assert_int_equal(set->nseg, 33);
	assert_true(x12_set_accepted(doc, 0));

	uint32_t beg = set->st + 1;
	assert_string_equal(doc->segs[beg].id, "BEG");
	ELEM_EQ(doc, beg, 1, "00");
	ELEM_EQ(doc, beg, 2, "SA");
	ELEM_EQ(doc, beg, 3, "08292233294"); /* the PO number */
	ELEM_EQ(doc, beg, 5, "20101127");

	uint32_t n1 = x12t_find(doc, set->st, set->se, "N1");
	ELEM_EQ(doc, n1, 1, "ST");
	ELEM_EQ(doc, n1, 2, "XYZ RETAIL");
	ELEM_EQ(doc, n1, 4, "0003947268292");
	ELEM_EQ(doc, n1 + 2, 1, "SOLON"); /* N4 */

	static const struct {
		uint64_t qty;
		int64_t price_cents;
		const char *buyer_item, *vendor_item, *name;
	} want[] = {
	    {120, 925, "065322-117", "AB3542", "SMALL WIDGET"},
	    {220, 1379, "066850-116", "RD5322", "MEDIUM WIDGET"},
	    {126, 1099, "060733-110", "XY5266", "LARGE WIDGET"},
	    {76, 435, "065308-116", "VX2332", "NANO WIDGET"},
	    {72, 750, "065374-118", "RV0524", "BLUE WIDGET"},
	    {696, 955, "067504-118", "DX1875", "ORANGE WIDGET"},
	};
	unsigned lines = 0;
	int64_t total = 0;
	for (uint32_t i = x12t_find(doc, set->st, set->se, "PO1"); i != X12_NONE;
	     i = x12t_find(doc, i + 1, set->se, "PO1")) {
		assert_true(lines < 6);
		assert_int_equal(uint_at(doc, i, 1), lines + 1);
		assert_int_equal(uint_at(doc, i, 2), want[lines].qty);
		ELEM_EQ(doc, i, 3, "EA");
		assert_int_equal(money(doc, i, 4, 0, 2), want[lines].price_cents);
		ELEM_EQ(doc, i, 6, "CB");
		ELEM_EQ(doc, i, 7, want[lines].buyer_item);
		ELEM_EQ(doc, i, 10, "VN");
		ELEM_EQ(doc, i, 11, want[lines].vendor_item);
		ELEM_EQ(doc, i + 1, 5, want[lines].name); /* PID05 */
		total += (int64_t)want[lines].qty * want[lines].price_cents;
		lines++;
	}
	assert_int_equal(lines, 6);
	uint32_t ctt = x12t_find(doc, set->st, set->se, "CTT");
	assert_int_equal(uint_at(doc, ctt, 1), lines);
	uint32_t amt = x12t_find(doc, set->st, set->se, "AMT");
	assert_int_equal(money(doc, amt, 2, 0, 2), 1304594);
	assert_int_equal(total, 1304594); /* the lines add up to AMT02 exactly */

	assert_ack(doc, 0, false,
	           "ISA*00*          *00*          *01*999999999      *12*4405197800     "
	           "*240305*1430*U*00400*000000900*0*P*>~\n"
	           "GS*FA*999999999*4405197800*20240305*1430*901*X*004010~\n"
	           "ST*997*0902~\n"
	           "AK1*PO*1421~\n"
	           "AK2*850*000000010~\n"
	           "AK5*A~\n"
	           "AK9*A*1*1*1~\n"
	           "SE*6*0902~\n"
	           "GE*1*901~\n"
	           "IEA*1*000000900~\n");
	sample_close(&s);
}

/* ---- 850 drop-ship with a BOM; IEA02 is not ISA13 ------------------------ */

static void test_850_bad_iea(void **state)
{
	(void)state;
	sample s;
	sample_open(&s, "x12_850_edinet_dropship_BAD_iea.edi");
	const x12_doc *doc = &s.doc;
	assert_int_equal(s.err, X12_E_IEA_CONTROL);
	assert_true(doc->bom);
	assert_int_equal(doc->nics, 1);
	const x12_interchange *ic = &doc->ics[0];
	assert_false(ic->padded); /* its ISA02/04/06/08 pad with UTF-8 no-break spaces */
	assert_int_equal(ic->d.elem, '*');
	assert_int_equal(ic->d.comp, '>');
	assert_int_equal(ic->d.seg, '~');
	assert_int_equal(ic->err, X12_E_IEA_CONTROL);
	assert_int_equal(ic->nerrs, 1);
	assert_string_equal(ic->control, "000000055");
	assert_int_equal(doc->ndiags, 1);
	const x12_diag *d = only_diag(doc, X12_E_IEA_CONTROL);
	assert_int_equal(d->line, 15);
	assert_int_equal(d->elem, 2);
	assert_string_equal(x12_err_ack_code(d->code, 401), "001");
	assert_contains(d->text, "line 15, IEA, element IEA02");
	assert_contains(d->text, "IEA02 is '000000001', ISA13 is '000000055'");

	/* the group and the set are sound, but nothing of a rejected interchange counts */
	assert_int_equal(doc->groups[0].nerrs, 0);
	assert_int_equal(doc->sets[0].nerrs, 0);
	assert_false(x12_group_accepted(doc, 0));
	assert_false(x12_set_accepted(doc, 0));
	/* still readable, for the operator */
	const x12_set *set = &doc->sets[0];
	ELEM_EQ(doc, set->st + 1, 3, "1000012");
	uint32_t n1 = x12t_find(doc, set->st, set->se, "N1");
	ELEM_EQ(doc, n1, 2, "John Doe");
	uint32_t po1 = x12t_find(doc, set->st, set->se, "PO1");
	assert_int_equal(money(doc, po1, 4, 0, 2), 1995);
	ELEM_EQ(doc, po1, 7, "0054321");

	/* a TA1 alone: R, 001; no 997 for the groups of a rejected interchange */
	assert_ack(doc, 0, false,
	           "ISA*00*          *00*          *ZZ*PARTNERID      *01*000123456      "
	           "*240305*1430*U*00401*000000900*0*T*>~\n"
	           "TA1*000000055*090827*0936*R*001~\n"
	           "IEA*0*000000900~\n");
	sample_close(&s);
}

/* ---- 855 acknowledgement with accepted and rejected lines ---------------- */

static void test_855(void **state)
{
	(void)state;
	sample s;
	sample_open(&s, "x12_855_nodex12_ack_lines.edi");
	const x12_doc *doc = &s.doc;
	assert_int_equal(s.err, X12_E_OK);
	assert_int_equal(doc->nsets, 1);
	const x12_set *set = &doc->sets[0];
	assert_string_equal(set->id, "855");
	assert_string_equal(set->control, "0005");
	assert_string_equal(doc->groups[0].func, "PR");
	uint32_t bak = set->st + 1;
	ELEM_EQ(doc, bak, 1, "00");
	ELEM_EQ(doc, bak, 2, "AD");
	ELEM_EQ(doc, bak, 3, "POTEST1112");
	ELEM_EQ(doc, bak, 4, "20201015");

	static const struct {
		uint64_t qty;
		int64_t price;
		const char *ean, *ack;
		uint64_t ack_qty;
	} want[] = {
	    {3, 450, "9780446360265", "IA", 3},
	    {2, 1599, "9780767928427", "IR", 0},
	    {1, 0, "9780099599531", "IR", 0},
	    {2, 450, "9780446360272", "IA", 2},
	};
	unsigned lines = 0;
	uint64_t acked = 0;
	for (uint32_t i = x12t_find(doc, set->st, set->se, "PO1"); i != X12_NONE;
	     i = x12t_find(doc, i + 1, set->se, "PO1")) {
		assert_true(lines < 4);
		assert_int_equal(uint_at(doc, i, 2), want[lines].qty);
		assert_int_equal(money(doc, i, 4, 0, 2), want[lines].price);
		ELEM_EQ(doc, i, 6, "EN");
		ELEM_EQ(doc, i, 7, want[lines].ean);
		x12_slice ean = x12_elem(doc, i, 7);
		assert_true(x12_gtin_valid(ean.p, ean.n)); /* ISBN-13s are GTIN-13s */
		uint32_t ack = x12t_find(doc, i, set->se, "ACK");
		ELEM_EQ(doc, ack, 1, want[lines].ack);
		assert_int_equal(uint_at(doc, ack, 2), want[lines].ack_qty);
		acked += want[lines].ack_qty;
		lines++;
	}
	assert_int_equal(lines, 4);
	uint32_t ctt = x12t_find(doc, set->st, set->se, "CTT");
	assert_int_equal(uint_at(doc, ctt, 1), 4);
	assert_int_equal(uint_at(doc, ctt, 2), acked); /* hash total: acknowledged quantities */
	assert_ack(doc, 0, false,
	           "ISA*00*          *00*          *ZZ*123MILL        *ZZ*1556150        "
	           "*240305*1430*U*00401*000000900*0*P*>~\n"
	           "GS*FA*123MILL*1556150*20240305*1430*901*X*004010~\n"
	           "ST*997*0902~\n"
	           "AK1*PR*5~\n"
	           "AK2*855*0005~\n"
	           "AK5*A~\n"
	           "AK9*A*1*1*1~\n"
	           "SE*6*0902~\n"
	           "GE*1*901~\n"
	           "IEA*1*000000900~\n");
	sample_close(&s);
}

/* ---- 856, 4060, repetition separator '-' ---------------------------------- */

static void test_856_4060(void **state)
{
	(void)state;
	sample s;
	sample_open(&s, "x12_856_nodex12_4060_SOI.edi");
	const x12_doc *doc = &s.doc;
	assert_int_equal(s.err, X12_E_OK);
	const x12_interchange *ic = &doc->ics[0];
	assert_int_equal(ic->version, 406);
	assert_int_equal(ic->d.rep, '-'); /* from 00402 ISA11 is the repetition separator */
	assert_int_equal(ic->d.comp, '>');
	const x12_set *set = &doc->sets[0];
	assert_string_equal(set->id, "856");
	assert_string_equal(set->control, "0008");
	assert_int_equal(set->nseg, 31);
	assert_string_equal(doc->groups[0].version, "004060");

	uint32_t bsn = set->st + 1;
	ELEM_EQ(doc, bsn, 1, "14");
	ELEM_EQ(doc, bsn, 2, "829716"); /* shipment id */
	ELEM_EQ(doc, bsn, 3, "20111206");

	/* HL levels: shipment, order, two items under the order */
	static const struct {
		const char *id, *parent, *code;
	} hl[] = {{"1", "", "S"}, {"2", "1", "O"}, {"3", "2", "I"}, {"4", "2", "I"}};
	unsigned n = 0;
	for (uint32_t i = x12t_find(doc, set->st, set->se, "HL"); i != X12_NONE;
	     i = x12t_find(doc, i + 1, set->se, "HL")) {
		assert_true(n < 4);
		ELEM_EQ(doc, i, 1, hl[n].id);
		ELEM_EQ(doc, i, 2, hl[n].parent);
		ELEM_EQ(doc, i, 3, hl[n].code);
		n++;
	}
	assert_int_equal(n, 4);

	uint32_t td1 = x12t_find(doc, set->st, set->se, "TD1");
	assert_int_equal(money(doc, td1, 7, 0, 3), 60310); /* 60.310 LB, in thousandths */
	ELEM_EQ(doc, td1, 8, "LB");

	/* '-' in data is, by the standard, a repetition: raw and split views */
	uint32_t n4 = x12t_find(doc, x12t_find(doc, set->st, set->se, "N1") + 4, set->se, "N4");
	ELEM_EQ(doc, n4, 1, "ATLANTA");
	ELEM_EQ(doc, n4, 3, "31139-0020");
	char b[32];
	assert_string_equal(x12_slice_copy(b, sizeof b, x12_elem_part(doc, n4, 3, 1, 0)), "31139");
	assert_string_equal(x12_slice_copy(b, sizeof b, x12_elem_part(doc, n4, 3, 2, 0)), "0020");
	assert_null(x12_elem_part(doc, n4, 3, 3, 0).p);
	uint32_t ref = x12t_find(doc, set->st, set->se, "REF");
	ELEM_EQ(doc, ref, 2, "999999-001");

	/* items: UPCs and shipped quantities; CTT02 sums the quantities */
	static const struct {
		const char *vp, *upc;
		uint64_t qty;
	} item[] = {{"87787D", "999999310145", 24}, {"99887D", "999999311746", 6}};
	uint64_t shipped = 0;
	unsigned k = 0;
	for (uint32_t i = x12t_find(doc, set->st, set->se, "LIN"); i != X12_NONE;
	     i = x12t_find(doc, i + 1, set->se, "LIN")) {
		assert_true(k < 2);
		ELEM_EQ(doc, i, 2, "VP");
		ELEM_EQ(doc, i, 3, item[k].vp);
		ELEM_EQ(doc, i, 4, "UP");
		ELEM_EQ(doc, i, 5, item[k].upc);
		/* the sample's UPCs are placeholders whose check digits are wrong:
		 * the 856 flow must refuse to match on them */
		x12_slice upc = x12_elem(doc, i, 5);
		assert_false(x12_gtin_valid(upc.p, upc.n));
		uint32_t sn1 = i + 1;
		assert_string_equal(doc->segs[sn1].id, "SN1");
		assert_int_equal(uint_at(doc, sn1, 2), item[k].qty);
		shipped += item[k].qty;
		k++;
	}
	assert_int_equal(k, 2);
	uint32_t ctt = x12t_find(doc, set->st, set->se, "CTT");
	assert_int_equal(uint_at(doc, ctt, 1), 4);
	assert_int_equal(uint_at(doc, ctt, 2), shipped);
	/* no MAN segment in this sample: SSCCs are covered in test_x12_codec */
	assert_int_equal(x12t_find(doc, set->st, set->se, "MAN"), X12_NONE);

	assert_ack(doc, 0, false,
	           "ISA*00*          *00*          *01*999999999      *12*4405197800     "
	           "*240305*1430*-*00406*000000900*0*P*>~\n"
	           "GS*FA*999999999*4405197800*20240305*1430*901*X*004060~\n"
	           "ST*997*0902~\n"
	           "AK1*SH*49~\n"
	           "AK2*856*0008~\n"
	           "AK5*A~\n"
	           "AK9*A*1*1*1~\n"
	           "SE*6*0902~\n"
	           "GE*1*901~\n"
	           "IEA*1*000000900~\n");
	sample_close(&s);
}

/* ---- 856 with mixed terminators ------------------------------------------ */

static void test_856_bad_mixed(void **state)
{
	(void)state;
	sample s;
	sample_open(&s, "x12_856_stupidedi_BAD_mixed_terminators.edi");
	const x12_doc *doc = &s.doc;
	assert_int_equal(s.err, X12_E_MIXED_TERMINATORS);
	const x12_interchange *ic = &doc->ics[0];
	assert_int_equal(ic->d.comp, '{');
	assert_int_equal(ic->d.seg, '$'); /* the byte after ISA16; the file then also uses '~' */
	assert_int_equal(ic->err, X12_E_OK);
	assert_true(x12_group_accepted(doc, 0));
	assert_false(x12_set_accepted(doc, 0));

	const x12_diag *d = &doc->diags[0];
	assert_int_equal(d->code, X12_E_MIXED_TERMINATORS);
	assert_int_equal(d->line, 13);
	assert_int_equal(d->pos, 11);
	assert_int_equal(d->elem, 4);
	assert_string_equal(doc->segs[d->seg].id, "N1");
	assert_contains(d->text,
	                "line 13, N1, segment 11 of transaction set 0000001, element N104");
	assert_contains(d->text, "segment terminators are mixed");
	assert_contains(d->text, "'~' and a line break at line 13 end a segment before N3, but the "
	                         "ISA declares '$' as the segment terminator");
	/* read with the declared terminator, SE01 then counts 25 where there are 22 */
	const x12_diag *c = only_diag(doc, X12_E_SE_COUNT);
	assert_contains(c->text, "SE01 is '25', counted 22");
	const x12_set *set = &doc->sets[0];
	assert_int_equal(set->nerrs, 2);
	assert_int_equal(set->errs[0], X12_E_SET_SEGMENTS);
	assert_int_equal(set->errs[1], X12_E_SE_COUNT);

	assert_ack(doc, 0, false,
	           "ISA*00*          *00*          *01*207046228T     *ZZ*010020001ABCINC"
	           "*240305*1430*U*00400*000000900*0*T*{$\n"
	           "GS*FA*207046228T*010020001*20240305*1430*901*X*004010$\n"
	           "ST*997*0902$\n"
	           "AK1*SH*000000089$\n"
	           "AK2*856*0000001$\n"
	           "AK3*N1*11**8$\n"
	           "AK4*4**6$\n"
	           "AK4*5**6$\n"
	           "AK4*9**6$\n"
	           "AK5*R*5*4$\n"
	           "AK9*R*1*1*0$\n"
	           "SE*10*0902$\n"
	           "GE*1*901$\n"
	           "IEA*1*000000900$\n");
	sample_close(&s);
}

/* ---- 810 invoices and an 850 in two groups -------------------------------- */

static void test_810_850_two_groups(void **state)
{
	(void)state;
	sample s;
	sample_open(&s, "x12_810_850_staedi_two_groups.edi");
	const x12_doc *doc = &s.doc;
	assert_int_equal(s.err, X12_E_OK);
	assert_int_equal(doc->nics, 1);
	assert_int_equal(doc->ngroups, 2);
	assert_int_equal(doc->nsets, 3);
	assert_int_equal(doc->ics[0].ngroups, 2);
	ELEM_EQ(doc, doc->ics[0].iea, 1, "2");

	const x12_group *inv = &doc->groups[0], *po = &doc->groups[1];
	assert_string_equal(inv->func, "IN");
	assert_string_equal(inv->control, "1");
	assert_int_equal(inv->nsets, 2);
	assert_string_equal(po->func, "PO");
	assert_string_equal(po->control, "165");
	assert_string_equal(po->version, "003010");
	ELEM_EQ(doc, po->gs, 4, "020906"); /* a 3010 group date: YYMMDD */
	assert_int_equal(po->nsets, 1);

	/* invoice 1: seven lines at 12.34 whose total is TDS01 (N2: implied decimals) */
	const x12_set *i1 = &doc->sets[0];
	assert_string_equal(i1->id, "810");
	assert_int_equal(i1->nseg, 32);
	uint32_t big = i1->st + 1;
	ELEM_EQ(doc, big, 1, "19971211");
	ELEM_EQ(doc, big, 2, "00001");
	ELEM_EQ(doc, big, 4, "A99999-01");
	uint32_t re = x12t_find(doc, i1->st, i1->se, "N1");
	re = x12t_find(doc, re + 1, i1->se, "N1");
	re = x12t_find(doc, re + 1, i1->se, "N1");
	ELEM_EQ(doc, re, 1, "RE");
	ELEM_EQ(doc, re, 2, "FOODSELLER");
	static const uint64_t qty1[] = {16, 13, 32, 51, 9, 85, 1};
	unsigned n = 0;
	uint64_t units = 0;
	int64_t total = 0;
	for (uint32_t i = x12t_find(doc, i1->st, i1->se, "IT1"); i != X12_NONE;
	     i = x12t_find(doc, i + 1, i1->se, "IT1")) {
		assert_true(n < 7);
		assert_int_equal(uint_at(doc, i, 2), qty1[n]);
		ELEM_EQ(doc, i, 3, "CA");
		int64_t price = money(doc, i, 4, 0, 2);
		assert_int_equal(price, 1234);
		ELEM_EQ(doc, i, 6, "UA");
		units += qty1[n];
		total += (int64_t)qty1[n] * price;
		n++;
	}
	assert_int_equal(n, 7);
	uint32_t tds = x12t_find(doc, i1->st, i1->se, "TDS");
	assert_int_equal(money(doc, tds, 1, 2, 2), 255438);
	assert_int_equal(total, 255438);
	uint32_t iss = x12t_find(doc, i1->st, i1->se, "ISS");
	assert_int_equal(uint_at(doc, iss, 1), units);
	assert_int_equal(uint_at(doc, x12t_find(doc, i1->st, i1->se, "CTT"), 1), 7);

	/* invoice 2: TDS01 was copied from invoice 1 and does not match its lines;
	 * a syntax matter it is not, so the set is accepted (the 810 flow matches totals) */
	const x12_set *i2 = &doc->sets[1];
	assert_string_equal(i2->control, "000000002");
	assert_int_equal(i2->nseg, 22);
	ELEM_EQ(doc, i2->st + 1, 4, "A99999-04");
	int64_t total2 = 0;
	for (uint32_t i = x12t_find(doc, i2->st, i2->se, "IT1"); i != X12_NONE;
	     i = x12t_find(doc, i + 1, i2->se, "IT1"))
		total2 += (int64_t)uint_at(doc, i, 2) * money(doc, i, 4, 0, 2);
	assert_int_equal(total2, 185100);
	assert_int_equal(money(doc, x12t_find(doc, i2->st, i2->se, "TDS"), 1, 2, 2), 255438);

	/* the 850 of group 2 */
	const x12_set *p = &doc->sets[2];
	assert_string_equal(p->id, "850");
	assert_string_equal(p->control, "000191240");
	assert_int_equal(p->nseg, 17);
	ELEM_EQ(doc, p->st + 1, 3, "S115921858");
	uint32_t by = x12t_find(doc, p->st, p->se, "N1");
	ELEM_EQ(doc, by, 1, "BY");
	ELEM_EQ(doc, by, 2, "SHIPPING GROUP, INC.");
	ELEM_EQ(doc, by + 1, 2, "CARGO LIMITED #112");
	static const struct {
		uint64_t qty;
		const char *item;
	} pl[] = {{150, "02006"}, {50, "02008"}, {25, "01019"}, {25, "01220"}};
	n = 0;
	units = 0;
	for (uint32_t i = x12t_find(doc, p->st, p->se, "PO1"); i != X12_NONE;
	     i = x12t_find(doc, i + 1, p->se, "PO1")) {
		assert_true(n < 4);
		assert_int_equal(uint_at(doc, i, 2), pl[n].qty);
		assert_int_equal(x12_elem(doc, i, 4).n, 0); /* no unit price */
		ELEM_EQ(doc, i, 6, "IN");
		ELEM_EQ(doc, i, 7, pl[n].item);
		units += pl[n].qty;
		n++;
	}
	assert_int_equal(n, 4);
	uint32_t ctt = x12t_find(doc, p->st, p->se, "CTT");
	assert_int_equal(uint_at(doc, ctt, 2), units);

	/* one 997 per group, in one FA group */
	assert_ack(doc, 0, false,
	           "ISA*00*          *00*          *ZZ*RECEIVERISA    *ZZ*SENDERISA      "
	           "*240305*1430*U*00401*000000900*0*T*>~\n"
	           "GS*FA*007326879*SENDERDEPT*20240305*1430*901*X*004010~\n"
	           "ST*997*0902~\n"
	           "AK1*IN*1~\n"
	           "AK2*810*000000001~\n"
	           "AK5*A~\n"
	           "AK2*810*000000002~\n"
	           "AK5*A~\n"
	           "AK9*A*2*2*2~\n"
	           "SE*8*0902~\n"
	           "ST*997*0903~\n"
	           "AK1*PO*165~\n"
	           "AK2*850*000191240~\n"
	           "AK5*A~\n"
	           "AK9*A*1*1*1~\n"
	           "SE*6*0903~\n"
	           "GE*2*901~\n"
	           "IEA*1*000000900~\n");
	sample_close(&s);
}

/* ---- 940, ISA16 is a backslash -------------------------------------------- */

static void test_940(void **state)
{
	(void)state;
	sample s;
	sample_open(&s, "x12_940_x12types_babelway.edi");
	const x12_doc *doc = &s.doc;
	assert_int_equal(s.err, X12_E_OK);
	assert_int_equal(doc->ics[0].d.comp, '\\');
	assert_string_equal(doc->groups[0].func, "OW");
	assert_string_equal(doc->groups[0].control, "575103");
	const x12_set *set = &doc->sets[0];
	assert_string_equal(set->id, "940");
	assert_int_equal(set->nseg, 34);
	uint32_t w05 = set->st + 1;
	ELEM_EQ(doc, w05, 1, "N");
	ELEM_EQ(doc, w05, 2, "0080215659"); /* depositor order number */
	ELEM_EQ(doc, w05, 3, "4000207344"); /* purchase order number */
	uint32_t sf = x12t_find(doc, set->st, set->se, "N1");
	ELEM_EQ(doc, sf, 1, "SF");
	ELEM_EQ(doc, sf, 2, "American Company, Inc.");
	ELEM_EQ(doc, sf, 4, "3010");
	uint32_t st = x12t_find(doc, sf + 1, set->se, "N1");
	ELEM_EQ(doc, st, 1, "ST");
	ELEM_EQ(doc, st, 2, "Atlanta Technology");
	ELEM_EQ(doc, st + 1, 1, "Co Ltd");  /* N2 */
	ELEM_EQ(doc, st + 4, 1, "Chicago"); /* N4 */
	ELEM_EQ(doc, st + 4, 3, "100096");
	uint32_t g62 = x12t_find(doc, set->st, set->se, "G62");
	ELEM_EQ(doc, g62, 1, "10");
	ELEM_EQ(doc, g62, 2, "20180328"); /* requested ship date */
	uint32_t w01 = x12t_find(doc, set->st, set->se, "W01");
	assert_int_equal(uint_at(doc, w01, 1), 2);
	ELEM_EQ(doc, w01, 2, "PC");
	ELEM_EQ(doc, w01, 3, "000619002280");
	x12_slice upc = x12_elem(doc, w01, 3);
	assert_true(x12_gtin_valid(upc.p, upc.n));
	ELEM_EQ(doc, w01, 5, "E000169");
	ELEM_EQ(doc, w01 + 1, 1, "ET1929LM-7BOO-1-WH-G"); /* G69 */
	uint32_t w76 = x12t_find(doc, set->st, set->se, "W76");
	assert_int_equal(uint_at(doc, w76, 1), 2);
	sample_close(&s);
}

/* ---- 945 with an unpadded ISA; SE01 wrong -------------------------------- */

static void test_945_bad_se_count(void **state)
{
	(void)state;
	sample s;
	sample_open(&s, "x12_945_x12types_BAD_se_count.edi");
	const x12_doc *doc = &s.doc;
	assert_int_equal(s.err, X12_E_SE_COUNT);
	const x12_interchange *ic = &doc->ics[0];
	assert_false(ic->padded);
	assert_int_equal(ic->d.elem, '*');
	assert_int_equal(ic->d.comp, '>');
	assert_int_equal(ic->d.seg, '~');
	assert_int_equal(ic->err, X12_E_OK);
	assert_string_equal(ic->control, "043000123");
	ELEM_EQ(doc, ic->isa, 6, "YOUR-ID-HERE ");
	assert_int_equal(doc->ndiags, 1);
	const x12_diag *d = only_diag(doc, X12_E_SE_COUNT);
	assert_int_equal(d->line, 18);
	assert_int_equal(d->pos, 16);
	assert_contains(d->text, "line 18, SE, segment 16 of transaction set 000006123");
	assert_contains(d->text, "SE01 is '12', counted 16");
	const x12_set *set = &doc->sets[0];
	assert_int_equal(set->nseg, 16);
	assert_false(x12_set_accepted(doc, 0));

	uint32_t w06 = set->st + 1;
	ELEM_EQ(doc, w06, 1, "F");
	ELEM_EQ(doc, w06, 2, "IF102");    /* depositor order number */
	ELEM_EQ(doc, w06, 4, "BOL12345"); /* shipment id */
	ELEM_EQ(doc, w06, 6, "PO9865");
	uint32_t w12 = x12t_find(doc, set->st, set->se, "W12");
	ELEM_EQ(doc, w12, 1, "CC");
	assert_int_equal(uint_at(doc, w12, 2), 3000);
	assert_int_equal(uint_at(doc, w12, 3), 3000);
	assert_int_equal(uint_at(doc, w12, 4), 0);
	ELEM_EQ(doc, w12, 8, "123456789");

	assert_ack(doc, 0, false,
	           "ISA*00*          *00*          *ZZ*WAQE           *ZZ*YOUR-ID-HERE   "
	           "*240305*1430*U*00401*000000900*0*P*>~\n"
	           "GS*FA*WAQE*YOUR-ID-HERE*20240305*1430*901*X*004010~\n"
	           "ST*997*0902~\n"
	           "AK1*SW*000000123~\n"
	           "AK2*945*000006123~\n"
	           "AK5*R*4~\n"
	           "AK9*R*1*1*0~\n"
	           "SE*6*0902~\n"
	           "GE*1*901~\n"
	           "IEA*1*000000900~\n");
	sample_close(&s);
}

/* ---- a 5010 997 that rejects a set ----------------------------------------- */

static void test_997_reject(void **state)
{
	(void)state;
	sample s;
	sample_open(&s, "x12_997_staedi_reject.edi");
	const x12_doc *doc = &s.doc;
	assert_int_equal(s.err, X12_E_OK);
	const x12_interchange *ic = &doc->ics[0];
	assert_int_equal(ic->version, 501);
	assert_int_equal(ic->d.rep, '^');
	assert_int_equal(ic->d.comp, ':');
	assert_string_equal(doc->groups[0].func, "FA");
	assert_string_equal(doc->groups[0].version, "005010X230");
	const x12_set *set = &doc->sets[0];
	assert_string_equal(set->id, "997");
	uint32_t ak1 = set->st + 1;
	ELEM_EQ(doc, ak1, 1, "HC");
	ELEM_EQ(doc, ak1, 2, "000001");
	uint32_t ak2 = x12t_find(doc, set->st, set->se, "AK2");
	ELEM_EQ(doc, ak2, 1, "837");
	ELEM_EQ(doc, ak2, 2, "0021");
	uint32_t ak3 = x12t_find(doc, set->st, set->se, "AK3");
	ELEM_EQ(doc, ak3, 1, "NM1");
	ELEM_EQ(doc, ak3, 2, "8");
	ELEM_EQ(doc, ak3, 4, "8"); /* segment has data element errors */
	uint32_t ak4 = x12t_find(doc, set->st, set->se, "AK4");
	ELEM_EQ(doc, ak4, 1, "8");
	ELEM_EQ(doc, ak4, 2, "66");
	ELEM_EQ(doc, ak4, 3, "7"); /* invalid code value */
	ELEM_EQ(doc, ak4, 4, "MI");
	uint32_t ak5 = x12t_find(doc, set->st, set->se, "AK5");
	ELEM_EQ(doc, ak5, 1, "R");
	ELEM_EQ(doc, ak5, 2, "5"); /* one or more segments in error */
	uint32_t ak9 = x12t_find(doc, set->st, set->se, "AK9");
	ELEM_EQ(doc, ak9, 1, "R");
	ELEM_EQ(doc, ak9, 2, "1");
	ELEM_EQ(doc, ak9, 3, "1");
	ELEM_EQ(doc, ak9, 4, "0");

	/* acknowledgements are not acknowledged... */
	assert_ack(doc, 0, false, "");
	/* ...unless asked: then a 5010 997 (AK103 carries GS08) */
	assert_ack(doc, 0, true,
	           "ISA*00*          *00*          *ZZ*Sender         *ZZ*ReceiverID     "
	           "*240305*1430*^*00501*000000900*0*P*:~\n"
	           "GS*FA*SenderDept*ReceiverDept*20240305*1430*901*X*005010~\n"
	           "ST*997*0902~\n"
	           "AK1*FA*000005*005010X230~\n"
	           "AK2*997*0001~\n"
	           "AK5*A~\n"
	           "AK9*A*1*1*1~\n"
	           "SE*6*0902~\n"
	           "GE*1*901~\n"
	           "IEA*1*000000900~\n");
	sample_close(&s);
}

/* Every sample, through the invariants the fuzz target checks too. */
static void test_all_samples_invariants(void **state)
{
	(void)state;
	static const char *const names[] = {
	    "x12_810_850_staedi_two_groups.edi", "x12_850_edinet_dropship_BAD_iea.edi",
	    "x12_850_nodex12_vics.edi",          "x12_855_nodex12_ack_lines.edi",
	    "x12_856_nodex12_4060_SOI.edi",      "x12_856_stupidedi_BAD_mixed_terminators.edi",
	    "x12_940_x12types_babelway.edi",     "x12_945_x12types_BAD_se_count.edi",
	    "x12_997_staedi_reject.edi",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t len;
		char *b = x12t_load(names[i], &len);
		x12_err e = x12t_check((const uint8_t *)b, len);
		assert_int_equal(e == X12_E_OK, strstr(names[i], "BAD") == NULL);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_850_vics),      cmocka_unit_test(test_850_bad_iea),
	    cmocka_unit_test(test_855),           cmocka_unit_test(test_856_4060),
	    cmocka_unit_test(test_856_bad_mixed), cmocka_unit_test(test_810_850_two_groups),
	    cmocka_unit_test(test_940),           cmocka_unit_test(test_945_bad_se_count),
	    cmocka_unit_test(test_997_reject),    cmocka_unit_test(test_all_samples_invariants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
