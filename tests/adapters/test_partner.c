/*
 * test_partner.c - partner mappings (services/adapters/partner.h): the demo
 * partners and the sample partners load against the demo network, their
 * lookups answer, and every kind of bad mapping is refused with a sentence
 * that names the file, the place and the fault.
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

#include "controls.h"
#include "partner.h"
#include "testkit.h"

typedef struct fx {
	omo_catalog cat;
	char err[512];
	char dir[64];
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	if (f == NULL || omo_catalog_load(&f->cat, tk_demo_dir(), f->err, sizeof f->err) != 0 ||
	    tk_mkdtemp(f->dir, sizeof f->dir, "partner") == NULL) {
		fprintf(stderr, "setup: %s\n", f ? f->err : "no memory");
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	tk_rm_rf(f->dir);
	omo_catalog_fini(&f->cat);
	free(f);
	return 0;
}

/* Loads the partners folder rel (below the demo network) into s. */
static void load_set(fx *f, const char *rel, partner_set *s)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/%s", tk_demo_dir(), rel);
	if (partner_set_load(s, dir, &f->cat, f->err, sizeof f->err) != 0)
		fail_msg("%s", f->err);
}

static void test_demo_partners(void **state)
{
	fx *f = *state;
	partner_set s;
	load_set(f, "partners", &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.partners[0].id, "acme-stores");
	assert_string_equal(s.partners[1].id, "dallas-3pl");
	assert_string_equal(s.partners[2].id, "dayton-mfg");

	const partner *m = partner_set_for_node(&s, "MFG-OH");
	assert_non_null(m);
	assert_ptr_equal(m, partner_set_find(&s, "dayton-mfg"));
	assert_string_equal(m->isa_qual, "ZZ");
	assert_string_equal(m->isa_id, "DAYTONMFG");
	assert_string_equal(m->our_id, "OMORETAIL");
	assert_int_equal(m->version, 401);
	assert_true(partner_handles(m, PARTNER_DOC_850, false));
	assert_false(partner_handles(m, PARTNER_DOC_850, true));
	assert_true(partner_handles(m, PARTNER_DOC_855, true));
	assert_false(m->has_channel);
	/* a GTIN-13 and the same item as GTIN-14 are one item; a wrong check digit none */
	assert_string_equal(partner_sku(m, PARTNER_ITEM_GTIN, "0614141018208", 13), "SKU-0182");
	assert_string_equal(partner_sku(m, PARTNER_ITEM_GTIN, "00614141018208", 14), "SKU-0182");
	assert_null(partner_sku(m, PARTNER_ITEM_GTIN, "0614141018209", 13));
	assert_string_equal(partner_sku(m, PARTNER_ITEM_VENDOR, "DAY-0184", 8), "SKU-0184");
	assert_null(partner_sku(m, PARTNER_ITEM_BUYER, "DAY-0184", 8));
	assert_string_equal(partner_item_code(m, PARTNER_ITEM_VENDOR, "SKU-0186"), "DAY-0186");
	assert_string_equal(partner_item_code(m, PARTNER_ITEM_GTIN, "SKU-0186"), "00614141018604");
	const partner_location *l = partner_location_of_node(m, "MFG-OH");
	assert_non_null(l);
	assert_int_equal(l->kind, PARTNER_LOC_GLN);
	assert_string_equal(l->code, "0614141000012");

	const partner *c = partner_set_find(&s, "acme-stores");
	assert_true(c->has_channel);
	assert_int_equal(c->channel, OMO_CHANNEL_B2B);
	assert_string_equal(c->node, "");
	l = partner_location_find(c, PARTNER_LOC_STORE, "0102", 4);
	assert_non_null(l);
	assert_true(l->has_ship_to);
	assert_string_equal(l->ship_to.city, "Columbus");
	assert_int_equal(l->ship_to.lat_udeg, 39961200);
	assert_int_equal(l->ship_to.lon_udeg, -82998800);
	assert_null(partner_location_find(c, PARTNER_LOC_STORE, "0103", 4));
	assert_null(partner_set_find(&s, "nobody"));
	partner_set_fini(&s);
}

static void test_sample_partners(void **state)
{
	fx *f = *state;
	partner_set s;
	load_set(f, "../../../tests/adapters/partners", &s);
	assert_int_equal(s.n, 12);
	const partner *p = partner_set_find(&s, "xyz-retail");
	assert_string_equal(partner_sku(p, PARTNER_ITEM_BUYER, "067504-118", 10), "SKU-0006");
	const partner_location *l = partner_location_find(p, PARTNER_LOC_DUNS, "0003947268292", 13);
	assert_non_null(l);
	assert_string_equal(l->ship_to.postal_code, "44139");
	p = partner_set_find(&s, "book-distributor");
	assert_string_equal(partner_sku(p, PARTNER_ITEM_GTIN, "9780099599531", 13), "SKU-0033");
	assert_int_equal(partner_set_find(&s, "staedi-health")->version, 501);
	partner_set_fini(&s);
}

/* Writes text to dir/name and loads it; returns the error ("" if it loaded). */
static const char *load_text(fx *f, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	partner p;
	f->err[0] = 0;
	if (partner_load(&p, path, &f->cat, f->err, sizeof f->err) == 0) {
		partner_fini(&p);
		return "";
	}
	/* the sentence starts with the file; return what follows its name */
	const char *s = strstr(f->err, name);
	assert_non_null(s);
	assert_null(p.items);
	return s + strlen(name) + 2;
}

#define HEAD "partner: p\nx12: {id: \"ZZ:P\", our_id: \"ZZ:US\"}\ndocuments: {in: [850]}\n"

/* A mapping file and what loading it says ("" : it loads). */
typedef struct refusal {
	const char *file, *text, *want;
} refusal;

static const refusal refusals[] = {
    {"p.yaml",
     HEAD "items:\n  - {sku: SKU-0001, gtin: "
          "\"0614141018208\"}\n",
     ""},
    {"p.yaml", HEAD "items:\n  - {sku: SKU-0001, gtin: \"0614141018209\"}\n",
     "items[0]: gtin 0614141018209 is not a GTIN-8, -12, -13 or -14 with a correct check "
     "digit"},
    {"p.yaml", HEAD "items:\n  - {sku: SKU-0001, gtin: 614141018208}\n",
     "items[0]: must be a quoted string (leading zeros matter)"},
    {"p.yaml", HEAD "items:\n  - {sku: SKU-9999, buyer: A}\n",
     "items[0]: SKU SKU-9999 is not in the catalog"},
    {"p.yaml", HEAD "items:\n  - {sku: SKU-0001}\n",
     "items[0]: needs at least one of gtin, buyer, vendor, listing"},
    {"p.yaml",
     HEAD "items:\n  - {sku: SKU-0001, buyer: A}\n"
          "  - {sku: SKU-0002, buyer: A}\n",
     "items: buyer A names two SKUs"},
    {"p.yaml", HEAD "locations:\n  - {gln: \"0614141000013\", node: MFG-OH}\n",
     "locations[0]: gln 0614141000013 is not 13 digits with a correct check digit"},
    {"p.yaml", HEAD "locations:\n  - {duns: \"12345\", node: MFG-OH}\n",
     "locations[0]: duns 12345 is not 9 digits (or 13 with its suffix)"},
    {"p.yaml", HEAD "locations:\n  - {store: \"1\", node: XX-NOPE}\n",
     "locations[0]: node XX-NOPE is not in the network"},
    {"p.yaml", HEAD "locations:\n  - {store: \"1\"}\n",
     "locations[0]: needs exactly one of node, ship_to"},
    {"p.yaml",
     HEAD "locations:\n  - {store: \"1\", ship_to: "
          "{lat: 91, lon: 0}}\n",
     "locations[0]: must be within +/-90 degrees"},
    {"p.yaml", HEAD "colour: blue\n", "top: unknown key 'colour'"},
    {"q.yaml", HEAD, "partner: 'p' must be the file's name (p.yaml)"},
    {"p.yaml", "partner: p\ndocuments: {in: [850]}\n",
     "x12: a partner exchanging X12 documents needs x12.id and our_id"},
    {"p.yaml", HEAD "documents: {in: [999]}\n", "line 4: key \"documents\" appears twice"},
    {"p.yaml",
     "partner: p\nx12: {id: \"ZZ:P\", our_id: \"ZZ:US\"}\n"
     "documents: {in: [851]}\n",
     "documents.in: '851' is not a document omo exchanges"},
    {"p.yaml",
     "partner: p\nx12: {id: \"ZZP\", our_id: "
     "\"ZZ:US\"}\n",
     "x12.id: must be \"QQ:ID\": a 2-character qualifier and 1 to 15 "
     "characters of ID"},
    {"p.yaml", "partner: p\nchannel: fax\n",
     "channel: must be a sales channel (b2b, marketplace, ...)"},
};

static void test_refusals(void **state)
{
	fx *f = *state;
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
		assert_string_equal(load_text(f, refusals[i].file, refusals[i].text),
		                    refusals[i].want);
}

static void test_two_partners_one_node(void **state)
{
	fx *f = *state;
	char dir[128], path[256];
	snprintf(dir, sizeof dir, "%s/set", f->dir);
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/a.yaml", dir);
	FILE *fp = fopen(path, "w");
	fputs("partner: a\nnode: MFG-OH\n", fp);
	fclose(fp);
	snprintf(path, sizeof path, "%s/b.yaml", dir);
	fp = fopen(path, "w");
	fputs("partner: b\nnode: MFG-OH\n", fp);
	fclose(fp);
	partner_set s;
	assert_int_equal(partner_set_load(&s, dir, &f->cat, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "partners a and b both fulfil for node MFG-OH"));
	assert_int_equal(s.n, 0);
}

/* Takes n numbers for partner who in a store of its own at dir, reopened each time. */
static uint32_t take(const char *dir, const char *who, uint32_t n)
{
	static const char *const tables[] = {"controls"};
	omo_store *st;
	omo_txn *t;
	uint32_t first = 0;
	omo_error_detail d;
	assert_int_equal(omo_store_open(&st, dir, tables, 1, 1u << 20, true, &d), OMO_E_OK);
	assert_int_equal(omo_txn_begin(st, NULL, true, &t), OMO_E_OK);
	assert_int_equal(controls_take(t, 0, who, n, &first), OMO_E_OK);
	assert_int_equal(omo_txn_commit(t), OMO_E_OK);
	omo_store_close(st);
	return first;
}

static void test_control_numbers(void **state)
{
	fx *f = *state;
	char dir[128];
	snprintf(dir, sizeof dir, "%s/controls", f->dir);
	mkdir(dir, 0700);
	assert_int_equal(take(dir, "dayton-mfg", 3), 1); /* 1, 2, 3 */
	assert_int_equal(take(dir, "dayton-mfg", 1), 4); /* after a restart: on from 3 */
	assert_int_equal(take(dir, "dallas-3pl", 2), 1); /* each partner its own */
	assert_int_equal(take(dir, "dayton-mfg", 2), 5);

	/* near the end of nine digits a run that would not fit starts again at 1 */
	static const char *const tables[] = {"controls"};
	omo_store *st;
	omo_txn *t;
	omo_error_detail d;
	uint8_t last[8];
	omo_be64_put(last, CONTROLS_MAX - 1);
	assert_int_equal(omo_store_open(&st, dir, tables, 1, 1u << 20, true, &d), OMO_E_OK);
	assert_int_equal(omo_txn_begin(st, NULL, true, &t), OMO_E_OK);
	assert_int_equal(omo_put(t, 0, "dallas-3pl", 10, last, 8), OMO_E_OK);
	assert_int_equal(omo_txn_commit(t), OMO_E_OK);
	omo_store_close(st);
	assert_int_equal(take(dir, "dallas-3pl", 1), CONTROLS_MAX);
	assert_int_equal(take(dir, "dallas-3pl", 2), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demo_partners),   cmocka_unit_test(test_sample_partners),
	    cmocka_unit_test(test_refusals),        cmocka_unit_test(test_two_partners_one_node),
	    cmocka_unit_test(test_control_numbers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
