/*
 * test_json_channels.c - orders from JSON channels (services/adapters/
 * json_channels.h): each sample of tests/adapters/samples becomes the
 * submit_order it stands for, field by field, money exact; each kind of bad
 * order is refused with its stable code and a sentence naming the JSON
 * path; and our shipment confirmations come out in each channel's shape,
 * naming the channel's own line ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_channels.h"
#include "adapter_testkit.h"
#include "partner.h"
#include "testkit.h"

typedef struct fx {
	omo_catalog cat;
	partner_set partners;
	char err[512];
	char *shopify, *amazon, *amazon_items, *ct;
} fx;

static char *sample(const char *name)
{
	char path[512], rel[128];
	snprintf(rel, sizeof rel, "samples/%s", name);
	at_tests(path, sizeof path, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	char dir[512];
	at_tests(dir, sizeof dir, "partners");
	if (!f || omo_catalog_load(&f->cat, tk_demo_dir(), f->err, sizeof f->err) ||
	    partner_set_load(&f->partners, dir, &f->cat, f->err, sizeof f->err))
		return -1;
	f->shopify = sample("shopify_order.json");
	f->amazon = sample("amazon_spapi_getOrder_MFN_TEST_CASE_200.json");
	f->amazon_items = sample("amazon_spapi_getOrderItems_TEST_CASE_200.json");
	f->ct = sample("commercetools_order.example.json");
	*state = f;
	return f->shopify && f->amazon && f->amazon_items && f->ct ? 0 : -1;
}

static int teardown(void **state)
{
	fx *f = *state;
	free(f->shopify);
	free(f->amazon);
	free(f->amazon_items);
	free(f->ct);
	partner_set_fini(&f->partners);
	omo_catalog_fini(&f->cat);
	free(f);
	return 0;
}

static const partner *who(fx *f, const char *id)
{
	const partner *p = partner_set_find(&f->partners, id);
	assert_non_null(p);
	return p;
}

/* order reads text (and items) from partner id; the message must encode. */
static omo_err order(fx *f, const char *id, const char *text, const char *items, omo_msg *m,
                     omo_error_detail *d)
{
	char their[JC_ID_MAX + 1];
	omo_err e =
	    jc_order(who(f, id), text, strlen(text), items, items ? strlen(items) : 0, m, their, d);
	if (e == OMO_E_OK)
		at_encodes(m);
	return e;
}

static void test_shopify(void **state)
{
	fx *f = *state;
	omo_msg m;
	char their[JC_ID_MAX + 1];
	omo_error_detail d;
	assert_int_equal(jc_order(who(f, "shopify-store"), f->shopify, strlen(f->shopify), NULL, 0,
	                          &m, their, &d),
	                 OMO_E_OK);
	assert_string_equal(their, "450789469");
	const omo_submit_order *o = &m.body.submit_order;
	assert_string_equal(o->idempotency_key, "shopify-store:order:450789469");
	assert_int_equal(o->channel, OMO_CHANNEL_SOCIAL);
	assert_int_equal(o->fulfillment, OMO_SHIP_TO_HOME);
	assert_string_equal(o->customer_id, "207119551");
	assert_string_equal(o->ship_to.name, "Bob Norman");
	assert_string_equal(o->ship_to.line1, "Chestnut Street 92");
	assert_string_equal(o->ship_to.city, "Louisville");
	assert_string_equal(o->ship_to.postal_code, "40202");
	assert_string_equal(o->ship_to.country, "US");
	assert_int_equal(o->ship_to.lat_udeg, 45416340); /* "45.41634", digit by digit */
	assert_int_equal(o->ship_to.lon_udeg, -75686800);
	assert_int_equal(o->lines_count, 3);
	at_order_line(&o->lines[0], 1, "SKU-0091", 1, 19900);
	at_order_line(&o->lines[1], 2, "SKU-0092", 1, 19900);
	at_order_line(&o->lines[2], 3, "SKU-0093", 1,
	              19900); /* sum 398.00 = total_line_items_price */
	omo_msg_fini(&m);
}

static void test_amazon(void **state)
{
	fx *f = *state;
	omo_msg m;
	omo_error_detail d;
	assert_int_equal(order(f, "amazon-us", f->amazon, f->amazon_items, &m, &d), OMO_E_OK);
	const omo_submit_order *o = &m.body.submit_order;
	assert_string_equal(o->idempotency_key, "amazon-us:order:902-1845936-5435065");
	assert_int_equal(o->channel, OMO_CHANNEL_MARKETPLACE);
	assert_string_equal(o->ship_to.city, "SEATTLE"); /* no address without a token */
	assert_int_equal(o->ship_to.lat_udeg, 47606200);
	assert_int_equal(o->lines_count, 1);
	at_order_line(&o->lines[0], 1, "SKU-0094", 1, 1000);
	omo_msg_fini(&m);

	/* the order without its items is not an order */
	assert_int_equal(order(f, "amazon-us", f->amazon, NULL, &m, &d), OMO_E_MISSING_FIELD);
	assert_string_equal(d.text, "the order items body is missing");
	omo_msg_fini(&m);
}

static void test_commercetools(void **state)
{
	fx *f = *state;
	omo_msg m;
	omo_error_detail d;
	assert_int_equal(order(f, "commercetools-eu", f->ct, NULL, &m, &d), OMO_E_OK);
	const omo_submit_order *o = &m.body.submit_order;
	assert_string_equal(o->idempotency_key,
	                    "commercetools-eu:order:92f5a867-bf19-47ab-982c-6720a03a3921");
	assert_int_equal(o->channel, OMO_CHANNEL_WEB);
	assert_string_equal(o->customer_id, "7297c742-d8b0-484b-aadc-1d0ba6769dc9");
	assert_string_equal(o->ship_to.country, "DE");
	assert_int_equal(o->lines_count, 1);
	at_order_line(&o->lines[0], 1, "SKU-0095", 1, 1000);
	omo_msg_fini(&m);
}

/* ---- refusals --------------------------------------------------------------- */

/* An edit of a sample: set the JSON at path (dotted, [n] for an index) to value. */
typedef struct refusal {
	const char *partner, *path, *value; /* value NULL: remove the key */
	omo_err code;
	const char *text;
} refusal;

static const refusal refusals[] = {
    {"shopify-store", "order.line_items.0.price", "199.0", OMO_E_WRONG_TYPE,
     "line_items[0].price must be a decimal string or {centAmount, fractionDigits} (never a "
     "JSON real: it would pass through floating point)"},
    {"shopify-store", "order.line_items.1.price", "\"199.001\"", OMO_E_OUT_OF_RANGE,
     "line_items[1].price '199.001' is not an amount in cents"},
    {"shopify-store", "order.line_items.1.price", "\"-1.00\"", OMO_E_OUT_OF_RANGE,
     "line_items[1].price '-1.00' is not an amount in cents"},
    {"shopify-store", "order.line_items.2.sku", "\"IPOD2008GOLD\"", OMO_E_UNKNOWN_SKU,
     "line_items[2].sku 'IPOD2008GOLD' is not in partner shopify-store's mapping"},
    {"shopify-store", "order.line_items.0.quantity", "0", OMO_E_OUT_OF_RANGE,
     "line_items[0].quantity: 0 is outside 1..100000"},
    {"shopify-store", "order.line_items.0.quantity", "\"1\"", OMO_E_WRONG_TYPE,
     "line_items[0].quantity must be a whole number"},
    {"shopify-store", "order.cancelled_at", "\"2008-01-10T12:00:00-05:00\"", OMO_E_BAD_STATE,
     "order 450789469 is cancelled (cancelled_at)"},
    {"shopify-store", "order.line_items", "[]", OMO_E_EMPTY_ORDER, "line_items is empty"},
    {"shopify-store", "order.id", NULL, OMO_E_MISSING_FIELD, "id is missing"},
    {"shopify-store", "order", "[1]", OMO_E_MALFORMED, "not a shopify order: no order object"},
    {"amazon-us", "payload.FulfillmentChannel", "\"AFN\"", OMO_E_BAD_STATE,
     "order 902-1845936-5435065 is not merchant-fulfilled (FulfillmentChannel MFN)"},
    {"amazon-us", "payload.OrderStatus", "\"Canceled\"", OMO_E_BAD_STATE,
     "order 902-1845936-5435065 is Canceled: not to be fulfilled now"},
    {"amazon-us", "payload.AmazonOrderId", "\"111-0000000-0000000\"", OMO_E_CONFLICT,
     "the items are of order 902-1845936-5435065, not 111-0000000-0000000"},
    {"commercetools-eu", "lineItems.0.price.value", "{\"centAmount\": 1005, \"fractionDigits\": 3}",
     OMO_E_OUT_OF_RANGE, "lineItems[0].price.value has a fraction of a cent"},
    {"commercetools-eu", "lineItems.0.price.value.centAmount", "1000.5", OMO_E_WRONG_TYPE,
     "lineItems[0].price.value must be a decimal string or {centAmount, fractionDigits} (never "
     "a JSON real: it would pass through floating point)"},
    {"commercetools-eu", "lineItems.0.price.value.centAmount", "100000000001", OMO_E_OUT_OF_RANGE,
     "lines[0].unit_price: 100000000001 is outside 0..100000000000"},
    {"commercetools-eu", "orderState", "\"Cancelled\"", OMO_E_BAD_STATE,
     "order 92f5a867-bf19-47ab-982c-6720a03a3921 is Cancelled: not to be fulfilled now"},
};

/* edit returns a copy of text with r applied (heap). */
static char *edit(const char *text, const refusal *r)
{
	json_t *root = json_loads(text, 0, NULL), *v = root;
	char path[128], *save = NULL;
	snprintf(path, sizeof path, "%s", r->path);
	char *key = strtok_r(path, ".", &save), *nextk;
	for (; (nextk = strtok_r(NULL, ".", &save)) != NULL; key = nextk)
		v = json_is_array(v) ? json_array_get(v, (size_t)atoi(key))
		                     : json_object_get(v, key);
	assert_non_null(v);
	if (r->value == NULL)
		json_object_del(v, key);
	else
		json_object_set_new(v, key, json_loads(r->value, JSON_DECODE_ANY, NULL));
	char *out = json_dumps(root, 0);
	json_decref(root);
	return out;
}

static void test_refusals(void **state)
{
	fx *f = *state;
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		const refusal *r = &refusals[i];
		bool amazon = strcmp(r->partner, "amazon-us") == 0;
		const char *base = amazon ? f->amazon : r->partner[0] == 's' ? f->shopify : f->ct;
		char *text = edit(base, r);
		omo_msg m;
		omo_error_detail d = {0};
		omo_err e = order(f, r->partner, text, amazon ? f->amazon_items : NULL, &m, &d);
		if (e != r->code || strcmp(d.text, r->text) != 0)
			fail_msg("%s %s: got %s \"%s\"", r->partner, r->path, omo_err_name(e),
			         d.text);
		omo_msg_fini(&m);
		free(text);
	}
	omo_msg m;
	omo_error_detail d;
	assert_int_equal(order(f, "shopify-store", "{\"order\": ", NULL, &m, &d), OMO_E_MALFORMED);
	omo_msg_fini(&m);
	assert_int_equal(
	    order(f, "shopify-store", "{\"order\": {\"id\": 1, \"id\": 2}}", NULL, &m, &d),
	    OMO_E_MALFORMED); /* which id? */
	omo_msg_fini(&m);
	assert_int_equal(order(f, "xyz-retail", f->shopify, NULL, &m, &d), OMO_E_CONFIG);
	omo_msg_fini(&m);
}

/* ---- confirmations ------------------------------------------------------------ */

static json_t *confirm(fx *f, const char *id, const char *text, const char *items,
                       const omo_alloc_line *lines, uint32_t n)
{
	jc_shipment s = {.lines = lines,
	                 .n = n,
	                 .carrier = "UPS",
	                 .tracking = "1Z999AA10123456784",
	                 .shipped_us = TK_NOW};
	omo_error_detail d;
	char *out =
	    jc_confirm(who(f, id), text, strlen(text), items, items ? strlen(items) : 0, &s, &d);
	if (!out)
		fail_msg("%s", d.text);
	json_t *v = json_loads(out, 0, NULL);
	free(out);
	assert_non_null(v);
	return v;
}

static void test_confirmations(void **state)
{
	fx *f = *state;
	omo_alloc_line lines[2] = {{1, "SKU-0091", 1}, {3, "SKU-0093", 1}};
	json_t *v = confirm(f, "shopify-store", f->shopify, NULL, lines, 2);
	json_t *ful = json_object_get(v, "fulfillment");
	assert_int_equal(json_integer_value(json_object_get(ful, "order_id")), 450789469);
	assert_string_equal(json_string_value(json_object_get(ful, "tracking_number")),
	                    "1Z999AA10123456784");
	assert_string_equal(json_string_value(json_object_get(ful, "tracking_company")), "UPS");
	json_t *li = json_object_get(ful, "line_items");
	assert_int_equal(json_array_size(li), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(li, 0), "id")),
	                 466157049);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(li, 1), "id")),
	                 703073504);
	json_decref(v);

	v = confirm(f, "amazon-us", f->amazon, f->amazon_items,
	            (omo_alloc_line[]){{1, "SKU-0094", 1}}, 1);
	assert_string_equal(json_string_value(json_object_get(v, "marketplaceId")),
	                    "ATVPDKIKX0DER");
	json_t *pkg = json_object_get(v, "packageDetail");
	assert_string_equal(json_string_value(json_object_get(pkg, "shipDate")),
	                    "2026-01-01T00:00:00Z");
	json_t *item = json_array_get(json_object_get(pkg, "orderItems"), 0);
	assert_string_equal(json_string_value(json_object_get(item, "orderItemId")),
	                    "05015851154158");
	assert_int_equal(json_integer_value(json_object_get(item, "quantity")), 1);
	json_decref(v);

	v = confirm(f, "commercetools-eu", f->ct, NULL, (omo_alloc_line[]){{1, "SKU-0095", 1}}, 1);
	assert_int_equal(json_integer_value(json_object_get(v, "version")), 1);
	json_t *acts = json_object_get(v, "actions");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(acts, 0), "shipmentState")),
	    "Shipped");
	json_t *del = json_array_get(acts, 1);
	assert_string_equal(json_string_value(json_object_get(del, "action")), "addDelivery");
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(del, "items"), 0), "id")),
	                    "7297c742-d8b0-484b-aadc-1d0ba1869dc9");
	json_decref(v);

	/* a line the order does not have */
	jc_shipment s = {.lines = (omo_alloc_line[]){{4, "SKU-0091", 1}},
	                 .n = 1,
	                 .carrier = "UPS",
	                 .tracking = "1Z"};
	omo_error_detail d;
	assert_null(
	    jc_confirm(who(f, "shopify-store"), f->shopify, strlen(f->shopify), NULL, 0, &s, &d));
	assert_int_equal(d.code, OMO_E_NOT_FOUND);
	assert_string_equal(d.text, "order 450789469 has no line 4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shopify),       cmocka_unit_test(test_amazon),
	    cmocka_unit_test(test_commercetools), cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_confirmations),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
