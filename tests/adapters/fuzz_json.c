/*
 * fuzz_json.c - libFuzzer target for one JSON channel mapping, chosen by
 * FUZZ_SHAPE at build time (PARTNER_JSON_SHOPIFY, _AMAZON, _COMMERCETOOLS).
 * Any bytes are an order (for Amazon: the bytes before the first NUL are the
 * order, those after it its items). Each input must be refused with a code
 * and a sentence, or become a submit_order that encodes as omo would send it
 * and whose first line can be confirmed as valid JSON.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_channels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The listing ids of the samples, sorted as partner_sku expects. */
static partner_item items[] = {
    {PARTNER_ITEM_LISTING, "IPOD2008BLACK", "SKU-0093"},
    {PARTNER_ITEM_LISTING, "IPOD2008GREEN", "SKU-0091"},
    {PARTNER_ITEM_LISTING, "IPOD2008RED", "SKU-0092"},
    {PARTNER_ITEM_LISTING, "NABetaASINB00551Q3CS", "SKU-0094"},
    {PARTNER_ITEM_LISTING, "some-sku-123", "SKU-0095"},
};

static const partner channel = {
    .id = "fuzz",
    .has_channel = true,
    .channel = OMO_CHANNEL_MARKETPLACE,
    .json = FUZZ_SHAPE,
    .items = items,
    .n_items = sizeof items / sizeof items[0],
    .has_default_ship_to = true,
    .default_ship_to = {.name = "default", .lat_udeg = 1, .lon_udeg = 2},
};

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                 \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nul = memchr(data, 0, size);
	size_t len = nul ? (size_t)(nul - text) : size;
	const char *rest = nul ? nul + 1 : NULL;
	size_t rest_len = nul ? size - len - 1 : 0;
	omo_msg m;
	char id[JC_ID_MAX + 1];
	omo_error_detail d = {0};
	omo_err e = jc_order(&channel, text, len, rest, rest_len, &m, id, &d);
	if (e != OMO_E_OK) {
		CHECK(d.code == e && d.text[0] != 0);
	} else {
		omo_buf b = {0};
		CHECK(omo_msg_encode(&m, &b, &d) == OMO_E_OK);
		omo_buf_fini(&b);
		const omo_submit_order *o = &m.body.submit_order;
		CHECK(o->lines_count >= 1 && id[0] != 0);
		jc_shipment s = {.lines = &(omo_alloc_line){o->lines[0].line_no, "", 1},
		                 .n = 1,
		                 .carrier = "UPS",
		                 .tracking = "1Z"};
		char *out = jc_confirm(&channel, text, len, rest, rest_len, &s, &d);
		if (out) {
			json_t *v = json_loads(out, 0, NULL);
			CHECK(v != NULL);
			json_decref(v);
			free(out);
		}
	}
	omo_msg_fini(&m);
	return 0;
}
