/*
 * test_adapter.c - the partner adapter service (services/adapters/adapter.h)
 * driven through its core: partner files dropped in watched folders are
 * applied once and filed with their acknowledgement, a document sent twice
 * is applied once, a crash before the commit applies nothing and the file is
 * taken again, and an order routed to a drop-ship manufacturer goes out as
 * an 850 that its 855 and 856 answer: the declined line named for
 * re-sourcing, the part shipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapter.h"
#include "adapter_testkit.h"
#include "folder.h"
#include "partners_view.h"
#include "testkit.h"
#include "x12.h"
#include "x12_test_util.h"

/* The orders and inventory services, as the adapter calls them. */
typedef struct peers {
	char keys[16][129]; /* idempotency keys of the orders submitted, in order */
	int submitted;
	bool down; /* nobody answers */
} peers;

static omo_err call_peer(void *arg, const char *peer, const omo_msg *req, omo_msg *reply,
                         omo_error_detail *d)
{
	peers *p = arg;
	if (p->down)
		return omo_fail(d, OMO_E_UNAVAILABLE, "%s does not answer", peer);
	if (req->type == OMO_MSG_SUBMIT_ORDER) {
		snprintf(p->keys[p->submitted++ % 16], sizeof p->keys[0], "%s",
		         req->body.submit_order.idempotency_key);
		omo_msg_init(reply, OMO_MSG_SUBMIT_ORDER_REPLY);
		reply->body.submit_order_reply.order_id.b[0] = 1;
		return OMO_E_OK;
	}
	omo_msg_init(reply, OMO_MSG_ACK);
	return OMO_E_OK;
}

typedef struct fx {
	tk_svc s;
	peers peers;
	char folders[64];
	tk_stream router;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	char partners[512], opt[2][600];
	assert_non_null(tk_mkdtemp(f->folders, sizeof f->folders, "folders"));
	snprintf(opt[0], sizeof opt[0], "partners_dir=%s",
	         at_tests(partners, sizeof partners, "partners"));
	snprintf(opt[1], sizeof opt[1], "folders_dir=%s", f->folders);
	tk_svc_open(&f->s, &adapter_service, "adapter",
	            (const char *const[]){opt[0], opt[1], NULL});
	omo_core_set_caller(f->s.core, call_peer, &f->peers);
	f->router = (tk_stream){.producer = "router", .epoch = 1};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	tk_svc_close(&f->s);
	tk_rm_rf(f->folders);
	free(f);
	return 0;
}

/* drop puts bytes into partner's inbox as the partner's gateway would. */
static void drop(fx *f, const char *partner_id, const char *name, const char *data, size_t len)
{
	assert_int_equal(folder_put(f->folders, partner_id, "inbox", name, data, len), 0);
}

static void drop_sample(fx *f, const char *partner_id, const char *name, const char *sample)
{
	size_t len;
	char *data = x12t_load(sample, &len);
	drop(f, partner_id, name, data, len);
	free(data);
}

/* count returns how many files sub of partner holds. */
static int count(fx *f, const char *partner_id, const char *sub)
{
	char names[32][FOLDER_NAME_MAX + 1];
	return folder_list(f->folders, partner_id, sub, names, 32);
}

/* outbox returns the content of the one file in partner's outbox whose name starts with prefix. */
static char *outbox(fx *f, const char *partner_id, const char *prefix)
{
	char names[32][FOLDER_NAME_MAX + 1];
	int n = folder_list(f->folders, partner_id, "outbox", names, 32);
	for (int i = 0; i < n; i++)
		if (strncmp(names[i], prefix, strlen(prefix)) == 0) {
			size_t len;
			return folder_read(f->folders, partner_id, "outbox", names[i], 1u << 20,
			                   &len);
		}
	fail_msg("no %s* in %s's outbox", prefix, partner_id);
	return NULL;
}

static void test_file_applied_once_and_filed(void **state)
{
	fx *f = *state;
	drop_sample(f, "xyz-retail", "po-1.edi", "x12_850_nodex12_vics.edi");
	tk_tick(&f->s, NULL); /* claimed and applied */
	assert_int_equal(f->peers.submitted, 1);
	assert_string_equal(f->peers.keys[0], "xyz-retail:850:08292233294");
	assert_int_equal(count(f, "xyz-retail", "processing"), 1); /* not filed before the commit */
	tk_tick(&f->s, NULL);                                      /* filed */
	assert_int_equal(count(f, "xyz-retail", "processing"), 0);
	assert_int_equal(count(f, "xyz-retail", "archive"), 1);
	char *ack = outbox(f, "xyz-retail", "997-");
	assert_non_null(strstr(ack, "AK9*A*1*1*1~"));
	assert_non_null(strstr(ack, "*01*999999999      *12*4405197800     *"));
	free(ack);

	/* the same document again, under another name: filed, not applied again */
	drop_sample(f, "xyz-retail", "po-1-again.edi", "x12_850_nodex12_vics.edi");
	tk_tick(&f->s, NULL);
	tk_tick(&f->s, NULL);
	assert_int_equal(f->peers.submitted, 1);
	assert_int_equal(count(f, "xyz-retail", "archive"), 2);
}

static void test_bad_file_to_error_with_reason(void **state)
{
	fx *f = *state;
	drop_sample(f, "waqe-3pl", "asn.edi", "x12_945_x12types_BAD_se_count.edi");
	tk_tick(&f->s, NULL);
	tk_tick(&f->s, NULL);
	assert_int_equal(count(f, "waqe-3pl", "error"), 2); /* the file and its .reason */
	size_t len;
	char *why = folder_read(f->folders, "waqe-3pl", "error", "asn.edi.reason", 4096, &len);
	assert_non_null(why);
	assert_string_equal(why, "945 : rejected: line 18, SE, segment 16 of transaction set "
	                         "000006123, element SE01: the number of included segments in SE01 "
	                         "does not match the actual count from ST to SE: SE01 is '12', "
	                         "counted 16");
	free(why);
	char *ack = outbox(f, "waqe-3pl", "997-");
	assert_non_null(strstr(ack, "AK5*R*4~"));
	free(ack);
}

static void test_crash_before_commit(void **state)
{
	fx *f = *state;
	drop_sample(f, "xyz-retail", "po-2.edi", "x12_850_nodex12_vics.edi");
	/* a batch that dies before its commit: the file was claimed, nothing else stays */
	assert_int_equal(omo_core_begin(f->s.core), OMO_E_OK);
	omo_core_tick(f->s.core);
	omo_core_abort(f->s.core);
	assert_int_equal(count(f, "xyz-retail", "processing"), 1);
	/* orders are idempotent on their key, and the document was not recorded: applied again */
	tk_tick(&f->s, NULL);
	tk_tick(&f->s, NULL);
	assert_int_equal(count(f, "xyz-retail", "archive"), 1);
	assert_int_equal(f->peers.submitted, 2);
	assert_string_equal(f->peers.keys[1], f->peers.keys[0]);

	/* the orders service down: the file waits in processing, nothing recorded */
	drop_sample(f, "staedi-trader", "mixed.edi", "x12_810_850_staedi_two_groups.edi");
	f->peers.down = true;
	tk_tick(&f->s, NULL);
	tk_tick(&f->s, NULL);
	assert_int_equal(count(f, "staedi-trader", "processing"), 1);
	f->peers.down = false;
	tk_tick(&f->s, NULL);
	tk_tick(&f->s, NULL);
	assert_int_equal(count(f, "staedi-trader", "processing"), 0);
	assert_int_equal(f->peers.submitted, 3);
	assert_string_equal(f->peers.keys[2], "staedi-trader:850:S115921858");
	/* its invoices name POs we never sent: the file is in error, with why */
	assert_int_equal(count(f, "staedi-trader", "error"), 2);
}

static void test_dropship_round_trip(void **state)
{
	fx *f = *state;
	tk_got g = {0};
	omo_alloc_line lines[4] = {
	    {1, "SKU-0031", 3}, {2, "SKU-0032", 2}, {3, "SKU-0033", 1}, {4, "SKU-0034", 2}};
	omo_msg ev;
	omo_msg_init(&ev, OMO_MSG_FULFILLMENT_REQUESTED);
	omo_fulfillment_requested *r = &ev.body.fulfillment_requested;
	omo_uuid_generate(&r->fulfillment_id);
	omo_uuid_generate(&r->order_id);
	snprintf(r->node, sizeof r->node, "MFG-OH"); /* book-distributor fulfils for it */
	r->ship_to = (omo_address){.name = "Ann Lee", .city = "Dayton", .lat_udeg = 1};
	r->lines = lines;
	r->lines_count = 4;
	assert_int_equal(tk_feed(&f->s, &g, &f->router, &ev, 0, NULL, NULL), OMO_APPLIED);
	tk_got_fini(&g);

	/* the 850 in the partner's outbox reads back to the same lines */
	char *po = outbox(f, "book-distributor", "850-");
	x12_doc doc;
	assert_int_equal(x12_parse(&doc, po, strlen(po), NULL), X12_E_OK);
	char ref[32];
	uint32_t beg = x12t_find(&doc, 0, doc.nsegs - 1, "BEG");
	snprintf(ref, sizeof ref, "%s", x12t_elem(&doc, beg, 3));
	uint32_t s = beg;
	for (int i = 0; i < 4; i++) {
		s = x12t_find(&doc, s + 1, doc.nsegs - 1, "PO1");
		assert_int_equal(atoi(x12t_elem(&doc, s, 1)), lines[i].line_no);
		assert_int_equal(atoi(x12t_elem(&doc, s, 2)), lines[i].quantity);
		x12_slice gtin = x12_elem(&doc, s, 7);
		const partner *p =
		    partner_set_find(&((adapter_app *)f->s.app)->partners, "book-distributor");
		assert_string_equal(partner_sku(p, PARTNER_ITEM_GTIN, gtin.p, gtin.n),
		                    lines[i].sku);
	}
	x12_doc_fini(&doc);
	free(po);

	/* its 855 declines lines 2 and 3: only they go back to be sourced elsewhere */
	size_t len;
	char *ack = x12t_load("x12_855_nodex12_ack_lines.edi", &len),
	     *at = strstr(ack, "POTEST1112");
	char *edited = calloc(1, len + 32);
	snprintf(edited, len + 32, "%.*s%s%s", (int)(at - ack), ack, ref,
	         at + strlen("POTEST1112"));
	drop(f, "book-distributor", "855.edi", edited, strlen(edited));
	free(ack);
	free(edited);
	tk_tick(&f->s, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.m[0].body.fulfillment_update.status, OMO_FF_ACCEPTED);
	const omo_fulfillment_update *u = &g.m[1].body.fulfillment_update;
	assert_int_equal(u->status, OMO_FF_REJECTED);
	assert_memory_equal(&u->fulfillment_id, &r->fulfillment_id, 16);
	assert_int_equal(u->lines_count, 2);
	at_alloc_line(&u->lines[0], 2, "SKU-0032", 2);
	at_alloc_line(&u->lines[1], 3, "SKU-0033", 1);
	tk_got_fini(&g);

	/* its 856 ships the accepted lines: the part is shipped */
	char asn[600];
	snprintf(
	    asn, sizeof asn,
	    "ISA*00*          *00*          *ZZ*1556150        *ZZ*123MILL        *240305*1430*U*"
	    "00401*000000077*0*P*>~GS*SH*1556150*123MILL*20240305*1430*77*X*004010~"
	    "ST*856*0001~BSN*00*SHIP-9*20240305*1430~HL*1**S~REF*CN*1Z42~HL*2*1*O~PRF*%s~"
	    "HL*3*2*I~LIN*1*EN*9780446360265~SN1*1*3*UN~HL*4*2*I~LIN*4*EN*9780446360272~"
	    "SN1*4*2*UN~SE*13*0001~GE*1*77~IEA*1*000000077~",
	    ref);
	drop(f, "book-distributor", "856.edi", asn, strlen(asn));
	tk_tick(&f->s, &g);
	assert_int_equal(g.n, 1);
	u = &g.m[0].body.fulfillment_update;
	assert_int_equal(u->status, OMO_FF_SHIPPED);
	assert_string_equal(u->detail, "856 SHIP-9 tracking 1Z42");
	assert_int_equal(u->lines_count, 2);
	tk_got_fini(&g);
	omo_msg_fini(&ev);
}

/* view returns what omo partners prints for f's folders (heap). */
static char *view(fx *f)
{
	char *text = NULL, partners[512], err[512];
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_int_equal(partners_view(out, at_tests(partners, sizeof partners, "partners"),
	                               tk_demo_dir(), f->folders, 5, err, sizeof err),
	                 0);
	fclose(out);
	return text;
}

static bool has(const char *text, const char *want)
{
	if (strstr(text, want))
		return true;
	fprintf(stderr, "no \"%s\" in:\n%s\n", want, text);
	return false;
}

static void test_operator_view(void **state)
{
	fx *f = *state;
	drop_sample(f, "xyz-retail", "po-1.edi", "x12_850_nodex12_vics.edi");
	drop_sample(f, "waqe-3pl", "asn.edi", "x12_945_x12types_BAD_se_count.edi");
	drop_sample(f, "edinet-shopper", "dropship.edi", "x12_850_edinet_dropship_BAD_iea.edi");
	tk_tick(&f->s, NULL);
	tk_tick(&f->s, NULL);
	drop_sample(f, "xyz-retail", "po-3.edi", "x12_850_nodex12_vics.edi"); /* not yet taken */
	char *v = view(f);
	assert_true(has(v, "xyz-retail (XYZ Retail), orders on b2b, X12 12:4405197800\n"));
	assert_true(has(v, "po-1.edi                     applied\n"));
	assert_true(has(v, "997-000000001.edi            997 A: 1 of 1 sets accepted\n"));
	assert_true(has(v, "  1 waiting, 0 in error\n"));
	assert_true(has(v, "asn.edi                      IN ERROR: 945 : rejected: line 18, SE, "));
	assert_true(has(v, "997 R: 0 of 1 sets accepted"));
	assert_true(has(v, "dropship.edi                 IN ERROR: 850 : rejected: line 15, IEA"));
	assert_true(has(v, "TA1 R 001"));
	assert_true(has(v, "waqe-3pl (WAQE 3PL), fulfils for DC-TX, X12 ZZ:YOUR-ID-HERE\n"));
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_file_applied_once_and_filed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_file_to_error_with_reason, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_before_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dropship_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_operator_view, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
