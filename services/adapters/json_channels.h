/*
 * json_channels.h - orders from JSON sales channels, and our shipment
 * confirmations back in each channel's own shape.
 *
 * Three shapes (a partner's mapping names its own with json:): a Shopify
 * order (the orders/create webhook body), an Amazon SP-API merchant-
 * fulfilled order (getOrder, with getOrderItems for its lines) and a
 * commercetools Order. Each becomes a submit_order on the partner's channel,
 * keyed "<partner>:order:<their order id>" so a webhook delivered twice is
 * one order. Items are found by what the channel lists them under (the
 * mapping's listing ids).
 *
 * Money never passes through floating point: decimal strings ("199.00") are
 * read digit by digit into cents, commercetools' integer centAmount is scaled
 * by its fractionDigits, and an amount given as a JSON real is refused.
 *
 * Bad input changes nothing: every function returns a stable error code
 * (errors.def: MALFORMED, TOO_LARGE, MISSING_FIELD, WRONG_TYPE, OUT_OF_RANGE,
 * UNKNOWN_SKU, BAD_STATE) with a sentence naming the JSON path.
 */
#ifndef OMO_JSON_CHANNELS_H
#define OMO_JSON_CHANNELS_H

#include <stddef.h>
#include <stdint.h>

#include "partner.h"
#include "schema.h"

#define JC_ID_MAX 64

/*
 * jc_order reads an order of partner p (whose json shape decides how) into
 * m, which it initialises as a submit_order (omo_msg_fini it in every case),
 * and its id in the channel into their_id. For Amazon, items is the
 * getOrderItems body; for the others it is ignored (may be NULL).
 */
omo_err jc_order(const partner *p, const char *text, size_t len, const char *items,
                 size_t items_len, omo_msg *m, char their_id[JC_ID_MAX + 1], omo_error_detail *d);

/* What left, for a confirmation. */
typedef struct jc_shipment {
	const omo_alloc_line *lines; /* line_no as jc_order numbered them */
	uint32_t n;
	const char *carrier, *tracking;
	int64_t shipped_us;
} jc_shipment;

/*
 * jc_confirm writes the confirmation of shipment sh of the order text (as
 * the partner sent it; items as for jc_order) in the partner's shape: a
 * Shopify fulfillment, an SP-API confirmShipment request, commercetools
 * update actions. Returns a malloc'd JSON text, or NULL with d set.
 */
char *jc_confirm(const partner *p, const char *text, size_t len, const char *items,
                 size_t items_len, const jc_shipment *sh, omo_error_detail *d);

#endif
