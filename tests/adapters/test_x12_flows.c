/*
 * test_x12_flows.c - partner X12 documents to omo messages and back
 * (services/adapters/x12_flows.h). Every sample of tests/x12/samples goes
 * through flow_read with the partner that sent it (tests/adapters/partners):
 * clean ones yield the messages they stand for, field by field; BAD ones
 * yield none and the acknowledgement that names their defect. Then what a
 * set cannot mean (unknown items, places and orders, the wrong sender, a
 * set the partner does not send), the documents without a public sample
 * (846, 180), and our outbound 850, 940, 855 and 856 read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_testkit.h"
#include "partner.h"
#include "testkit.h"
#include "x12_flows.h"
#include "x12_test_util.h"

/* ---- the partners' side of our orders ----------------------------------- */

#define MAX_PO_LINES 8

/* Our orders the samples answer, with the units shipped so far. */
static const struct {
	const char *ref, *node;
	uint8_t fulfillment, order;
	struct {
		int64_t line_no;
		const char *sku;
		int64_t qty, shipped;
	} lines[MAX_PO_LINES];
} our_pos[] = {
    {"POTEST1112",
     "MFG-OH",
     1,
     11,
     {{1, "SKU-0031", 3, 0}, {2, "SKU-0032", 2, 0}, {3, "SKU-0033", 1, 0}, {4, "SKU-0034", 2, 0}}},
    {"99999817", "DC-NJ", 2, 12, {{1, "SKU-0041", 24, 0}, {2, "SKU-0042", 6, 0}}},
    {"A99999-01",
     "MFG-NC",
     3,
     13,
     {{1, "SKU-0011", 16, 16},
      {2, "SKU-0012", 13, 13},
      {3, "SKU-0013", 32, 32},
      {4, "SKU-0014", 51, 51},
      {5, "SKU-0015", 9, 9},
      {6, "SKU-0016", 85, 85},
      {7, "SKU-0017", 1, 1}}},
    {"A99999-04", "MFG-NC", 4, 14, {{1, "SKU-0011", 50, 50}, {2, "SKU-0015", 100, 90}}},
    {"SO-77", "DC-TX", 5, 15, {{1, "SKU-0061", 4000, 0}}},
};

static omo_uuid id_of(uint8_t n)
{
	omo_uuid u = {{0}};
	u.b[15] = n;
	return u;
}

static int find_po(void *arg, const char *ref, flow_po *po)
{
	(void)arg;
	for (size_t i = 0; i < sizeof our_pos / sizeof our_pos[0]; i++) {
		if (strcmp(our_pos[i].ref, ref) != 0)
			continue;
		po->fulfillment_id = id_of(our_pos[i].fulfillment);
		po->order_id = id_of(our_pos[i].order);
		snprintf(po->node, sizeof po->node, "%s", our_pos[i].node);
		for (uint32_t k = 0; k < MAX_PO_LINES && our_pos[i].lines[k].sku; k++) {
			po->lines[k].line_no = our_pos[i].lines[k].line_no;
			snprintf(po->lines[k].sku, sizeof po->lines[k].sku, "%s",
			         our_pos[i].lines[k].sku);
			po->lines[k].quantity = our_pos[i].lines[k].qty;
			po->shipped[k] = our_pos[i].lines[k].shipped;
			po->n_lines = k + 1;
		}
		return 0;
	}
	return -1;
}

/* Stock as we know it: 30 of everything at every node. */
static int64_t on_hand(void *arg, const char *node, const char *sku)
{
	(void)arg;
	(void)node;
	(void)sku;
	return 30;
}

static const flow_env env = {.find_po = find_po, .on_hand = on_hand, .now_us = X12_TEST_NOW_US};

/* ---- running a document through -------------------------------------------- */

typedef struct fx {
	omo_catalog cat;
	partner_set samples, demo;
	char err[512];
} fx;

typedef struct run {
	char *buf;
	size_t len;
	x12_doc doc;
	flow_result r;
	char *ack; /* the acknowledgement of the first interchange ("" if none) */
} run;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	char dir[512];
	if (f == NULL || omo_catalog_load(&f->cat, tk_demo_dir(), f->err, sizeof f->err) != 0)
		return -1;
	if (partner_set_load(&f->samples, at_tests(dir, sizeof dir, "partners"), &f->cat, f->err,
	                     sizeof f->err) != 0)
		goto fail;
	snprintf(dir, sizeof dir, "%s/partners", tk_demo_dir());
	if (partner_set_load(&f->demo, dir, &f->cat, f->err, sizeof f->err) != 0)
		goto fail;
	*state = f;
	return 0;
fail:
	fprintf(stderr, "setup: %s\n", f->err);
	return -1;
}

static int teardown(void **state)
{
	fx *f = *state;
	partner_set_fini(&f->samples);
	partner_set_fini(&f->demo);
	omo_catalog_fini(&f->cat);
	free(f);
	return 0;
}

static const partner *who(const fx *f, const char *id)
{
	const partner *p = partner_set_find(&f->samples, id);
	if (!p)
		p = partner_set_find(&f->demo, id);
	if (!p)
		fail_msg("no partner %s", id);
	return p;
}

/* read_bytes runs len bytes at buf (taken over) from partner id through flow_read. */
static void read_bytes(run *x, const fx *f, const char *id, char *buf, size_t len)
{
	memset(x, 0, sizeof *x);
	x->buf = buf;
	x->len = len;
	x12_parse(&x->doc, x->buf, x->len, NULL);
	assert_int_equal(flow_read(who(f, id), &x->doc, &env, &x->r), 0);
	x12_ack_result ar;
	x->ack = x->doc.nics ? x12t_ack(&x->doc, 0, false, &ar) : strdup("");
	for (uint32_t i = 0; i < x->r.n_msgs; i++)
		at_encodes(&x->r.msgs[i]);
}

static void read_sample(run *x, const fx *f, const char *id, const char *file)
{
	size_t len;
	char *buf = x12t_load(file, &len);
	read_bytes(x, f, id, buf, len);
}

/* read_edited reads sample file with its first `from` replaced by `to`. */
static void read_edited(run *x, const fx *f, const char *id, const char *file, const char *from,
                        const char *to)
{
	size_t len;
	char *buf = x12t_load(file, &len), *at = strstr(buf, from);
	assert_non_null(at);
	char *out = malloc(len + strlen(to) + 1);
	size_t head = (size_t)(at - buf);
	memcpy(out, buf, head);
	strcpy(out + head, to);
	strcpy(out + head + strlen(to), at + strlen(from));
	free(buf);
	read_bytes(x, f, id, out, strlen(out));
}

static void done(run *x)
{
	flow_result_fini(&x->r);
	x12_doc_fini(&x->doc);
	free(x->buf);
	free(x->ack);
}

static bool acked(const run *x, const char *segment)
{
	return strstr(x->ack, segment) != NULL;
}

#define ACKED(x, seg)                                                                              \
	do {                                                                                       \
		if (!acked((x), (seg)))                                                            \
			fail_msg("the acknowledgement has no %s:\n%s", (seg), (x)->ack);           \
	} while (0)

static const omo_fulfillment_update *update_at(const run *x, uint32_t i, omo_fulfillment_status st)
{
	assert_true(i < x->r.n_msgs);
	assert_int_equal(x->r.msgs[i].type, OMO_MSG_FULFILLMENT_UPDATE);
	const omo_fulfillment_update *u = &x->r.msgs[i].body.fulfillment_update;
	assert_int_equal(u->status, st);
	return u;
}

/* ---- the samples ---------------------------------------------------------- */

static void test_850_vics(void **state)
{
	run x;
	read_sample(&x, *state, "xyz-retail", "x12_850_nodex12_vics.edi");
	assert_int_equal(x.r.n_sets, 1);
	assert_true(x.r.sets[0].accepted);
	assert_int_equal(x.r.sets[0].doc, PARTNER_DOC_850);
	assert_string_equal(x.r.sets[0].ref, "08292233294");
	assert_string_equal(x.r.sets[0].note, "order 08292233294: 6 lines");
	assert_int_equal(x.r.n_msgs, 1);
	assert_int_equal(x.r.msgs[0].type, OMO_MSG_SUBMIT_ORDER);
	const omo_submit_order *o = &x.r.msgs[0].body.submit_order;
	assert_string_equal(o->idempotency_key, "xyz-retail:850:08292233294");
	assert_int_equal(o->channel, OMO_CHANNEL_B2B);
	assert_int_equal(o->fulfillment, OMO_SHIP_TO_HOME);
	assert_string_equal(o->customer_id, "xyz-retail");
	assert_string_equal(o->ship_to.name, "XYZ RETAIL");
	assert_string_equal(o->ship_to.postal_code, "44139");
	assert_int_equal(o->ship_to.lat_udeg, 41389800);
	assert_int_equal(o->ship_to.lon_udeg, -81441200);
	assert_int_equal(o->lines_count, 6);
	at_order_line(&o->lines[0], 1, "SKU-0001", 120, 925);
	at_order_line(&o->lines[1], 2, "SKU-0002", 220, 1379);
	at_order_line(&o->lines[2], 3, "SKU-0003", 126, 1099);
	at_order_line(&o->lines[3], 4, "SKU-0004", 76, 435);
	at_order_line(&o->lines[4], 5, "SKU-0005", 72, 750);
	at_order_line(&o->lines[5], 6, "SKU-0006", 696, 955);
	int64_t total = 0;
	for (uint32_t i = 0; i < o->lines_count; i++)
		total += o->lines[i].quantity * o->lines[i].unit_price;
	assert_int_equal(total, 1304594); /* AMT*1*13045.94 */
	ACKED(&x, "AK5*A~");
	ACKED(&x, "AK9*A*1*1*1~");
	done(&x);
}

static void test_810_850_two_groups(void **state)
{
	run x;
	read_sample(&x, *state, "staedi-trader", "x12_810_850_staedi_two_groups.edi");
	assert_int_equal(x.r.n_sets, 3);
	/* the first invoice matches what shipped, line for line and in total */
	assert_true(x.r.sets[0].accepted);
	assert_false(x.r.sets[0].held);
	assert_string_equal(x.r.sets[0].ref, "00001");
	assert_string_equal(x.r.sets[0].note,
	                    "invoice 00001 for PO A99999-01: matches what shipped, 255438 cents");
	/* the second invoices 100 where 90 shipped, and its TDS is the first's */
	assert_true(x.r.sets[1].accepted);
	assert_true(x.r.sets[1].held);
	assert_string_equal(
	    x.r.sets[1].note,
	    "invoice 00001 for PO A99999-04: held: line 2 invoiced 100, shipped 90; "
	    "lines sum to 185100 cents, TDS01 says 255438, 255438 cents");
	assert_int_equal(x.r.sets[0].n_msgs + x.r.sets[1].n_msgs, 0);
	/* the purchase order of the second group */
	if (!x.r.sets[2].accepted)
		fail_msg("%s\n%s", x.r.sets[2].note, x.ack);
	assert_int_equal(x.r.n_msgs, 1);
	const omo_submit_order *o = &x.r.msgs[0].body.submit_order;
	assert_string_equal(o->idempotency_key, "staedi-trader:850:S115921858");
	assert_string_equal(o->ship_to.city, "SAN PEDRO"); /* N1*ST has no code: the default */
	assert_int_equal(o->lines_count, 4);
	at_order_line(&o->lines[0], 1, "SKU-0021", 150, 0);
	at_order_line(&o->lines[1], 2, "SKU-0022", 50, 0);
	at_order_line(&o->lines[2], 3, "SKU-0023", 25, 0);
	at_order_line(&o->lines[3], 4, "SKU-0024", 25, 0);
	ACKED(&x, "AK9*A*2*2*2~");
	ACKED(&x, "AK9*A*1*1*1~");
	done(&x);
}

static void test_855_lines(void **state)
{
	run x;
	read_sample(&x, *state, "book-distributor", "x12_855_nodex12_ack_lines.edi");
	assert_int_equal(x.r.n_sets, 1);
	assert_true(x.r.sets[0].accepted);
	assert_string_equal(x.r.sets[0].ref, "POTEST1112");
	assert_string_equal(x.r.sets[0].note,
	                    "PO POTEST1112: 2 accepted (0 back-ordered), 2 declined");
	assert_int_equal(x.r.n_msgs, 2);
	const omo_fulfillment_update *u = update_at(&x, 0, OMO_FF_ACCEPTED);
	assert_memory_equal(&u->fulfillment_id, &(omo_uuid){.b[15] = 1}, 16);
	assert_memory_equal(&u->order_id, &(omo_uuid){.b[15] = 11}, 16);
	assert_string_equal(u->node, "MFG-OH");
	assert_string_equal(u->detail, "855 POTEST1112: 2 of 4 lines accepted");
	assert_int_equal(u->lines_count, 0);
	u = update_at(&x, 1, OMO_FF_REJECTED);
	assert_string_equal(u->detail, "855 POTEST1112: 2 of 4 lines declined");
	assert_int_equal(u->lines_count, 2); /* only these are sourced again */
	at_alloc_line(&u->lines[0], 2, "SKU-0032", 2);
	at_alloc_line(&u->lines[1], 3, "SKU-0033", 1);
	ACKED(&x, "AK5*A~");
	done(&x);
}

static void test_856_shipment(void **state)
{
	run x;
	read_sample(&x, *state, "edi-source", "x12_856_nodex12_4060_SOI.edi");
	assert_int_equal(x.r.n_sets, 1);
	assert_true(x.r.sets[0].accepted);
	assert_string_equal(x.r.sets[0].ref, "99999817");
	assert_string_equal(x.r.sets[0].note, "shipment 829716 of PO 99999817: 0 SSCC cartons");
	assert_int_equal(x.r.n_msgs, 1);
	const omo_fulfillment_update *u = update_at(&x, 0, OMO_FF_SHIPPED);
	assert_memory_equal(&u->fulfillment_id, &(omo_uuid){.b[15] = 2}, 16);
	assert_string_equal(u->node, "DC-NJ");
	assert_string_equal(u->detail, "856 829716 tracking 5787970539");
	assert_int_equal(u->lines_count, 0); /* 24 and 6: everything */
	done(&x);
}

static void test_940_order(void **state)
{
	run x;
	read_sample(&x, *state, "babelway-depositor", "x12_940_x12types_babelway.edi");
	assert_int_equal(x.r.n_sets, 1);
	assert_true(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 1);
	const omo_submit_order *o = &x.r.msgs[0].body.submit_order;
	assert_string_equal(o->idempotency_key, "babelway-depositor:940:0080215659");
	assert_string_equal(o->ship_to.name, "Atlanta Technology");
	assert_int_equal(o->lines_count, 1);
	at_order_line(&o->lines[0], 1, "SKU-0051", 2, 0);
	done(&x);
}

static void test_997_received(void **state)
{
	run x;
	read_sample(&x, *state, "staedi-health", "x12_997_staedi_reject.edi");
	assert_int_equal(x.r.n_sets, 1);
	assert_true(x.r.sets[0].accepted);
	assert_string_equal(x.r.sets[0].note, "acknowledges our HC group 000001: R, 1 of 1 sets "
	                                      "rejected (first: 837 0021, AK502 5)");
	assert_int_equal(x.r.n_msgs, 0);
	assert_string_equal(x.ack, ""); /* acknowledgements are not acknowledged */
	done(&x);
}

static void test_bad_samples(void **state)
{
	run x;
	read_sample(&x, *state, "waqe-3pl", "x12_945_x12types_BAD_se_count.edi");
	assert_int_equal(x.r.n_sets, 1);
	assert_false(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 0);
	ACKED(&x, "AK5*R*4~");
	ACKED(&x, "AK9*R*1*1*0~");
	done(&x);

	read_sample(&x, *state, "abc-supplier", "x12_856_stupidedi_BAD_mixed_terminators.edi");
	assert_int_equal(x.r.n_sets, 1);
	assert_false(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 0);
	ACKED(&x, "AK4*4**6");
	ACKED(&x, "AK5*R*5*4");
	done(&x);

	read_sample(&x, *state, "edinet-shopper", "x12_850_edinet_dropship_BAD_iea.edi");
	assert_int_equal(x.r.n_sets, 1);
	assert_false(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 0);
	ACKED(&x, "TA1*000000055*090827*0936*R*001~");
	assert_false(acked(&x, "AK1"));
	done(&x);
}

/* ---- what a set cannot mean ---------------------------------------------- */

static void test_unknown_item(void **state)
{
	run x;
	read_edited(&x, *state, "xyz-retail", "x12_850_nodex12_vics.edi",
	            "CB*065322-117*PR*RO*VN*AB3542", "CB*999999-999*PR*RO*VN*ZZ9999");
	assert_false(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 0); /* the other five lines are not applied either */
	assert_string_equal(x.r.sets[0].note,
	                    "rejected: no item id of this line (CB 999999-999, PR RO, VN ZZ9999) "
	                    "is in partner xyz-retail's mapping");
	ACKED(&x, "AK3*PO1*13**8~");
	ACKED(&x, "AK4*7**7*999999-999~");
	ACKED(&x, "AK5*R*5~");
	done(&x);
}

static void test_unknown_place_and_quantity(void **state)
{
	run x;
	read_edited(&x, *state, "xyz-retail", "x12_850_nodex12_vics.edi", "9*0003947268292",
	            "9*0003947268299");
	assert_false(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 0);
	ACKED(&x, "AK3*N1*10**8~");
	ACKED(&x, "AK4*4**7*0003947268299~");
	done(&x);

	read_edited(&x, *state, "xyz-retail", "x12_850_nodex12_vics.edi", "*13.79*",
	            "*1000000000.01*");
	assert_false(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 0);
	assert_string_equal(
	    x.r.sets[0].note,
	    "rejected: lines[1].unit_price: 100000000001 is outside 0..100000000000");
	ACKED(&x, "AK5*R*5~");
	done(&x);

	read_edited(&x, *state, "xyz-retail", "x12_850_nodex12_vics.edi", "PO1*2*220*",
	            "PO1*2*2.5*");
	assert_false(x.r.sets[0].accepted);
	assert_string_equal(
	    x.r.sets[0].note,
	    "rejected: PO102 '2.5' is not a whole number of units from 1 to 100000");
	ACKED(&x, "AK4*2**6*2.5~");
	done(&x);
}

static void test_wrong_sender_and_set(void **state)
{
	run x;
	/* book-distributor's connection carrying XYZ's interchange */
	read_sample(&x, *state, "book-distributor", "x12_850_nodex12_vics.edi");
	assert_false(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 0);
	ACKED(&x, "*R*006~");
	done(&x);

	/* edi-source shares XYZ's ISA ID but sends us no orders */
	read_sample(&x, *state, "edi-source", "x12_850_nodex12_vics.edi");
	assert_false(x.r.sets[0].accepted);
	assert_string_equal(x.r.sets[0].note,
	                    "rejected: partner edi-source is not set up to send 850");
	ACKED(&x, "AK5*R*1~");
	done(&x);
}

static void test_reply_to_unknown_po(void **state)
{
	run x;
	read_edited(&x, *state, "book-distributor", "x12_855_nodex12_ack_lines.edi", "POTEST1112",
	            "POTEST9999");
	assert_false(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 0);
	assert_string_equal(
	    x.r.sets[0].note,
	    "rejected: POTEST9999 is not an order we sent partner book-distributor");
	ACKED(&x, "AK4*3**7*POTEST9999~");
	done(&x);
}

/* ---- documents without a public sample, written here ---------------------- */

/* An interchange from partner p to us holding one set of segs (NULL-ended). */
static void read_made(run *x, const fx *f, const char *id, const char *set, const char *func,
                      const char *const *segs)
{
	const partner *p = who(f, id);
	x12_buf out = {0};
	x12_writer w;
	x12_writer_init(&w, &out,
	                &(x12_envelope){.sender_qual = p->isa_qual,
	                                .sender_id = p->isa_id,
	                                .receiver_qual = p->our_qual,
	                                .receiver_id = p->our_id,
	                                .control = 7,
	                                .now_us = X12_TEST_NOW_US});
	x12_w_group_begin(&w, func, p->isa_id, p->our_id, 7, NULL);
	x12_w_set_begin(&w, set, 1, NULL);
	for (const char *const *s = segs; *s; s++) {
		char buf[256];
		snprintf(buf, sizeof buf, "%s", *s);
		char *save = NULL, *tok = strtok_r(buf, "*", &save);
		x12_w_seg(&w, tok);
		while ((tok = strtok_r(NULL, "*", &save)) != NULL)
			x12_w_elem(&w, strcmp(tok, "-") == 0 ? NULL : tok);
		x12_w_seg_end(&w);
	}
	x12_w_set_end(&w);
	x12_w_group_end(&w);
	assert_int_equal(x12_writer_finish(&w), X12_E_OK);
	read_bytes(x, f, id, out.data, out.len);
}

static void test_846_inventory(void **state)
{
	run x;
	read_made(&x, *state, "dallas-3pl", "846", "IB",
	          (const char *const[]){"BIA*00*MM*INV-1*20240305", "LIN*1*VN*TX-0002", "QTY*33*42",
	                                "LIN*2*UP*614141000517", "QTY*33*30", "LIN*3*VN*TX-0003",
	                                "QTY*33*0", NULL});
	assert_true(x.r.sets[0].accepted);
	assert_string_equal(x.r.sets[0].note, "stock of DC-TX: 3 items known, 2 adjusted");
	assert_int_equal(x.r.n_msgs, 2);
	const omo_adjust_stock *a = &x.r.msgs[0].body.adjust_stock;
	assert_int_equal(x.r.msgs[0].type, OMO_MSG_ADJUST_STOCK);
	assert_string_equal(a->node, "DC-TX");
	assert_string_equal(a->sku, "SKU-0002");
	assert_int_equal(a->delta, 12);
	assert_string_equal(a->reason, "846 INV-1 from dallas-3pl");
	a = &x.r.msgs[1].body.adjust_stock;
	assert_string_equal(a->sku, "SKU-0003");
	assert_int_equal(a->delta, -30);
	done(&x);
}

static void test_180_return(void **state)
{
	run x;
	read_made(&x, *state, "acme-stores", "180", "AN",
	          (const char *const[]){"BGN*00*RMA-5*20240305", "N1*ST*EDISON*92*9001",
	                                "LIN*1*IN*AC0007", "QTY*39*3", NULL});
	assert_true(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 1);
	assert_int_equal(x.r.msgs[0].type, OMO_MSG_RECEIVE_STOCK);
	const omo_receive_stock *r = &x.r.msgs[0].body.receive_stock;
	assert_string_equal(r->node, "DC-NJ");
	assert_string_equal(r->sku, "SKU-0007");
	assert_int_equal(r->quantity, 3);
	assert_string_equal(r->reference, "return RMA-5 from acme-stores");
	done(&x);

	/* a return to a place of theirs, not one of our nodes */
	read_made(&x, *state, "acme-stores", "180", "AN",
	          (const char *const[]){"BGN*00*RMA-6*20240305", "N1*ST*PGH*92*0101",
	                                "LIN*1*IN*AC0007", "QTY*39*3", NULL});
	assert_false(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 0);
	ACKED(&x, "AK4*4**7*0101~");
	done(&x);
}

static void test_945_short_ship(void **state)
{
	run x;
	read_made(&x, *state, "waqe-3pl", "945", "SW",
	          (const char *const[]){"W06*F*SO-77*20240305*BOL1", "LX*1",
	                                "W12*CP*4000*3000*1000*EA*-*VN*123456789", NULL});
	assert_true(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 2);
	const omo_fulfillment_update *u = update_at(&x, 0, OMO_FF_SHIPPED);
	assert_string_equal(u->detail, "945 SO-77 bill of lading BOL1");
	assert_int_equal(u->lines_count, 1);
	at_alloc_line(&u->lines[0], 1, "SKU-0061", 3000);
	u = update_at(&x, 1, OMO_FF_REJECTED);
	assert_string_equal(u->detail, "short-shipped");
	at_alloc_line(&u->lines[0], 1, "SKU-0061", 1000);
	done(&x);
}

static void test_856_sscc(void **state)
{
	run x;
	read_made(&x, *state, "edi-source", "856", "SH",
	          (const char *const[]){"BSN*00*S1*20240305*1430", "HL*1**S", "REF*CN*1Z999",
	                                "HL*2*1*O", "PRF*99999817", "HL*3*2*P",
	                                "MAN*GM*00106141411234567897", "HL*4*3*I",
	                                "LIN*1*VP*87787D", "SN1*1*20*EA", NULL});
	assert_true(x.r.sets[0].accepted);
	assert_string_equal(x.r.sets[0].note, "shipment S1 of PO 99999817: 1 SSCC cartons");
	const omo_fulfillment_update *u = update_at(&x, 0, OMO_FF_SHIPPED);
	assert_string_equal(u->detail, "856 S1 tracking 1Z999");
	assert_int_equal(u->lines_count, 1); /* 20 of 24, and none of line 2 */
	at_alloc_line(&u->lines[0], 1, "SKU-0041", 20);
	done(&x);

	read_made(&x, *state, "edi-source", "856", "SH",
	          (const char *const[]){"BSN*00*S2*20240305*1430", "HL*1**S", "HL*2*1*O",
	                                "PRF*99999817", "HL*3*2*P", "MAN*GM*00106141411234567898",
	                                "HL*4*3*I", "LIN*1*VP*87787D", "SN1*1*24*EA", NULL});
	assert_false(x.r.sets[0].accepted);
	assert_int_equal(x.r.n_msgs, 0);
	ACKED(&x, "AK4*2**6*00106141411234567898~");
	done(&x);
}

/* ---- ours, read back -------------------------------------------------------- */

static void test_850_out_reads_back(void **state)
{
	fx *f = *state;
	const partner *p = who(f, "dayton-mfg");
	omo_alloc_line lines[2] = {{1, "SKU-0182", 3}, {2, "SKU-0186", 1}};
	omo_fulfillment_requested fr = {.node = "MFG-OH",
	                                .fulfillment = OMO_SHIP_TO_HOME,
	                                .ship_to = {.name = "Ann Lee",
	                                            .line1 = "1 Main St",
	                                            .city = "Dayton",
	                                            .postal_code = "45402",
	                                            .country = "US"},
	                                .lines = lines,
	                                .lines_count = 2};
	flow_controls ctl = {.isa13 = 41, .gs06 = 42, .st02 = 43, .now_us = X12_TEST_NOW_US};
	x12_buf out = {0};
	assert_int_equal(flow_write_850(p, &fr, "OMO-000041", &ctl, &out), X12_E_OK);
	x12_doc doc;
	assert_int_equal(x12_parse(&doc, out.data, out.len, NULL), X12_E_OK);
	assert_int_equal(doc.nsets, 1);
	assert_string_equal(x12t_elem(&doc, 0, 6), "OMORETAIL      ");
	assert_string_equal(x12t_elem(&doc, 0, 8), "DAYTONMFG      ");
	assert_string_equal(x12t_elem(&doc, 0, 13), "000000041");
	uint32_t beg = x12t_find(&doc, 0, doc.nsegs - 1, "BEG");
	assert_string_equal(x12t_elem(&doc, beg, 2), "DS");
	assert_string_equal(x12t_elem(&doc, beg, 3), "OMO-000041");
	assert_string_equal(x12t_elem(&doc, beg, 5), "20240305");
	/* each PO1 names the line, the units and items the manufacturer's mapping resolves */
	uint32_t s = beg;
	for (uint32_t i = 0; i < 2; i++) {
		s = x12t_find(&doc, s + 1, doc.nsegs - 1, "PO1");
		assert_int_not_equal(s, X12_NONE);
		assert_int_equal(atoi(x12t_elem(&doc, s, 1)), lines[i].line_no);
		assert_int_equal(atoi(x12t_elem(&doc, s, 2)), lines[i].quantity);
		assert_string_equal(x12t_elem(&doc, s, 6), "UP"); /* GTIN-13 0614...: a UPC-A */
		x12_slice g = x12_elem(&doc, s, 7), v = x12_elem(&doc, s, 9);
		assert_string_equal(partner_sku(p, PARTNER_ITEM_GTIN, g.p, g.n), lines[i].sku);
		assert_string_equal(x12t_elem(&doc, s, 8), "VN");
		assert_string_equal(partner_sku(p, PARTNER_ITEM_VENDOR, v.p, v.n), lines[i].sku);
	}
	uint32_t ctt = x12t_find(&doc, 0, doc.nsegs - 1, "CTT");
	assert_string_equal(x12t_elem(&doc, ctt, 1), "2");
	assert_string_equal(x12t_elem(&doc, ctt, 2), "4");
	x12_doc_fini(&doc);
	x12_buf_fini(&out);

	/* an item the manufacturer's mapping lacks cannot be ordered from it */
	lines[1] = (omo_alloc_line){2, "SKU-0001", 1};
	assert_int_equal(flow_write_850(p, &fr, "OMO-000042", &ctl, &out), X12_E_W_VALUE);
	x12_buf_fini(&out);
}

static void test_940_out_reads_back(void **state)
{
	fx *f = *state;
	const partner *p = who(f, "dallas-3pl");
	omo_alloc_line lines[1] = {{1, "SKU-0002", 5}};
	omo_fulfillment_requested fr = {.node = "DC-TX",
	                                .ship_to = {.name = "Bo*b~", .city = "Austin"},
	                                .lines = lines,
	                                .lines_count = 1};
	flow_controls ctl = {.isa13 = 7, .gs06 = 8, .st02 = 9, .now_us = X12_TEST_NOW_US};
	x12_buf out = {0};
	assert_int_equal(flow_write_940(p, &fr, "OMO-7", &ctl, &out), X12_E_OK);
	x12_doc doc;
	assert_int_equal(x12_parse(&doc, out.data, out.len, NULL), X12_E_OK);
	uint32_t n1 = x12t_find(&doc, 0, doc.nsegs - 1, "N1");
	assert_string_equal(x12t_elem(&doc, n1, 2), "Bo b "); /* delimiters never leak */
	uint32_t w01 = x12t_find(&doc, 0, doc.nsegs - 1, "W01");
	assert_string_equal(x12t_elem(&doc, w01, 1), "5");
	assert_string_equal(x12t_elem(&doc, w01, 4), "VN");
	assert_string_equal(x12t_elem(&doc, w01, 5), "TX-0002");
	x12_doc_fini(&doc);
	x12_buf_fini(&out);
}

static void test_855_856_out(void **state)
{
	fx *f = *state;
	const partner *p = who(f, "acme-stores");
	omo_order_line lines[2] = {{1, "SKU-0003", 4, 1250}, {2, "SKU-0004", 1, 0}};
	omo_submit_order o = {.lines = lines, .lines_count = 2};
	flow_controls ctl = {.isa13 = 1, .gs06 = 1, .st02 = 1, .now_us = X12_TEST_NOW_US};
	x12_buf out = {0};
	assert_int_equal(flow_write_855(p, "PO-9", &o, true, NULL, &ctl, &out), X12_E_OK);
	x12_doc doc;
	assert_int_equal(x12_parse(&doc, out.data, out.len, NULL), X12_E_OK);
	uint32_t po1 = x12t_find(&doc, 0, doc.nsegs - 1, "PO1");
	assert_string_equal(x12t_elem(&doc, po1, 4), "12.5");
	assert_string_equal(x12t_elem(&doc, po1, 7), "AC0003");
	assert_string_equal(x12t_elem(&doc, po1 + 1, 1), "IA");
	x12_doc_fini(&doc);
	x12_buf_fini(&out);

	assert_int_equal(flow_write_855(p, "PO-9", &o, false, "UNKNOWN_SKU", &ctl, &out), X12_E_OK);
	assert_non_null(strstr(out.data, "BAK*00*RD*PO-9*20240305~"));
	assert_non_null(strstr(out.data, "ACK*IR*0*EA~"));
	x12_buf_fini(&out);

	omo_alloc_line shipped[1] = {{1, "SKU-0003", 4}};
	assert_int_equal(flow_write_856(p, "PO-9", "SHP-1", shipped, 1, "1Z42", &ctl, &out),
	                 X12_E_OK);
	assert_int_equal(x12_parse(&doc, out.data, out.len, NULL), X12_E_OK);
	uint32_t sn1 = x12t_find(&doc, 0, doc.nsegs - 1, "SN1");
	assert_string_equal(x12t_elem(&doc, sn1, 2), "4");
	assert_string_equal(x12t_elem(&doc, x12t_find(&doc, 0, doc.nsegs - 1, "PRF"), 1), "PO-9");
	x12_doc_fini(&doc);
	x12_buf_fini(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_850_vics),
	    cmocka_unit_test(test_810_850_two_groups),
	    cmocka_unit_test(test_855_lines),
	    cmocka_unit_test(test_856_shipment),
	    cmocka_unit_test(test_940_order),
	    cmocka_unit_test(test_997_received),
	    cmocka_unit_test(test_bad_samples),
	    cmocka_unit_test(test_unknown_item),
	    cmocka_unit_test(test_unknown_place_and_quantity),
	    cmocka_unit_test(test_wrong_sender_and_set),
	    cmocka_unit_test(test_reply_to_unknown_po),
	    cmocka_unit_test(test_846_inventory),
	    cmocka_unit_test(test_180_return),
	    cmocka_unit_test(test_945_short_ship),
	    cmocka_unit_test(test_856_sscc),
	    cmocka_unit_test(test_850_out_reads_back),
	    cmocka_unit_test(test_940_out_reads_back),
	    cmocka_unit_test(test_855_856_out),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
