#include "json_channels.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x12_util.h"
#include "x12_write.h"

/* ---- the shapes ---------------------------------------------------------- */

/* Where each shape keeps what an order needs (dotted paths). */
typedef struct shape {
	const char *name;
	const char *order;      /* the order object in the body */
	const char *id;         /* its id, in the order */
	const char *lines;      /* its lines: in the order, or in the items body */
	bool lines_in_items;    /* Amazon: lines come from getOrderItems */
	const char *line_id;    /* a line's id */
	const char *listing;    /* what the item is listed under */
	const char *quantity;   /* units */
	const char *price;      /* unit price (or the line's total if price_is_total) */
	bool price_is_total;    /* Amazon ItemPrice is for the whole quantity */
	const char *ship_to;    /* the ship-to address, if any */
	const char *customer;   /* the customer's id, if any */
	const char *cancelled;  /* set (not null, not false) when the order is cancelled */
	const char *state;      /* the order's state field, if any */
	const char *const *bad; /* states it may not be taken in */
} shape;

static const char *const amazon_bad[] = {"Canceled", "Shipped", "Pending", NULL};
static const char *const ct_bad[] = {"Cancelled", "Complete", NULL};

static const shape shapes[] = {
    [PARTNER_JSON_SHOPIFY] = {.name = "shopify",
                              .order = "order",
                              .id = "id",
                              .lines = "line_items",
                              .line_id = "id",
                              .listing = "sku",
                              .quantity = "quantity",
                              .price = "price",
                              .ship_to = "shipping_address",
                              .customer = "customer.id",
                              .cancelled = "cancelled_at"},
    [PARTNER_JSON_AMAZON] = {.name = "amazon",
                             .order = "payload",
                             .id = "AmazonOrderId",
                             .lines = "payload.OrderItems",
                             .lines_in_items = true,
                             .line_id = "OrderItemId",
                             .listing = "SellerSKU",
                             .quantity = "QuantityOrdered",
                             .price = "ItemPrice.Amount",
                             .price_is_total = true,
                             .ship_to = "ShippingAddress",
                             .state = "OrderStatus",
                             .bad = amazon_bad},
    [PARTNER_JSON_COMMERCETOOLS] = {.name = "commercetools",
                                    .order = "",
                                    .id = "id",
                                    .lines = "lineItems",
                                    .line_id = "id",
                                    .listing = "variant.sku",
                                    .quantity = "quantity",
                                    .price = "price.value",
                                    .ship_to = "shippingAddress",
                                    .customer = "customerId",
                                    .state = "orderState",
                                    .bad = ct_bad},
};

/* at walks a dotted path from v ("" is v itself); NULL if any step is missing. */
static json_t *at(json_t *v, const char *path)
{
	char key[64];
	while (v && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof key)
			return NULL;
		memcpy(key, path, n);
		key[n] = 0;
		v = json_is_object(v) ? json_object_get(v, key) : NULL;
		path += n + (path[n] == '.');
	}
	return v;
}

/* ---- values ----------------------------------------------------------------- */

/* text copies a string or integer value (ids come as either) into out. */
static omo_err id_text(json_t *v, const char *where, char *out, size_t cap, omo_error_detail *d)
{
	if (json_is_integer(v))
		snprintf(out, cap, "%lld", (long long)json_integer_value(v));
	else if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < cap)
		memcpy(out, json_string_value(v), json_string_length(v) + 1);
	else if (v == NULL || json_is_null(v))
		return omo_fail(d, OMO_E_MISSING_FIELD, "%s is missing", where);
	else
		return omo_fail(d, OMO_E_WRONG_TYPE, "%s must be a string of 1 to %zu characters",
		                where, cap - 1);
	return OMO_E_OK;
}

/* cents reads money exactly: a decimal string, or commercetools' {centAmount,
 * fractionDigits}; a JSON real is refused (it went through floating point). */
static omo_err cents(json_t *v, const char *where, int64_t *out, omo_error_detail *d)
{
	if (json_is_string(v)) {
		x12_err e =
		    x12_decimal_parse(json_string_value(v), json_string_length(v), 0, 2, out);
		if (e == X12_E_OK && *out >= 0)
			return OMO_E_OK;
		return omo_fail(d, OMO_E_OUT_OF_RANGE, "%s '%.32s' is not an amount in cents",
		                where, json_string_value(v));
	}
	json_t *amount = at(v, "centAmount"), *digits = at(v, "fractionDigits");
	if (json_is_integer(amount) && json_is_integer(digits)) {
		json_int_t a = json_integer_value(amount), f = json_integer_value(digits);
		if (a < 0 || f < 0 || f > 12)
			return omo_fail(d, OMO_E_OUT_OF_RANGE, "%s: %lld with %lld digits", where,
			                (long long)a, (long long)f);
		for (; f < 2; f++)
			if (a > INT64_MAX / 10)
				return omo_fail(d, OMO_E_OUT_OF_RANGE, "%s is too large", where);
			else
				a *= 10;
		for (; f > 2; f--)
			if (a % 10)
				return omo_fail(d, OMO_E_OUT_OF_RANGE,
				                "%s has a fraction of a cent", where);
			else
				a /= 10;
		*out = a;
		return OMO_E_OK;
	}
	if (v == NULL || json_is_null(v))
		return omo_fail(d, OMO_E_MISSING_FIELD, "%s is missing", where);
	return omo_fail(d, OMO_E_WRONG_TYPE,
	                "%s must be a decimal string or {centAmount, fractionDigits} (never a "
	                "JSON real: it would pass through floating point)",
	                where);
}

static omo_err units(json_t *v, const char *where, int64_t *out, omo_error_detail *d)
{
	if (v == NULL)
		return omo_fail(d, OMO_E_MISSING_FIELD, "%s is missing", where);
	if (!json_is_integer(v))
		return omo_fail(d, OMO_E_WRONG_TYPE, "%s must be a whole number", where);
	*out = (int64_t)json_integer_value(v);
	if (*out < 1 || *out > 100000)
		return omo_fail(d, OMO_E_OUT_OF_RANGE, "%s: %lld is outside 1..100000", where,
		                (long long)*out);
	return OMO_E_OK;
}

/* degrees reads a coordinate given as a decimal string or an integer. */
static bool degrees(json_t *v, int64_t limit, int64_t *udeg)
{
	int64_t x;
	if (json_is_integer(v))
		x = (int64_t)json_integer_value(v) * 1000000;
	else if (!json_is_string(v) ||
	         x12_decimal_parse(json_string_value(v), json_string_length(v), 0, 6, &x) !=
	             X12_E_OK)
		return false;
	if (x < -limit * 1000000 || x > limit * 1000000)
		return false;
	*udeg = x;
	return true;
}

/* ---- reading an order ---------------------------------------------------- */

/* The parsed bodies of one order. */
typedef struct view {
	const shape *sh;
	json_t *body, *items, *order, *lines;
	char id[JC_ID_MAX + 1];
} view;

static omo_err load(const char *text, size_t len, const char *what, json_t **out,
                    omo_error_detail *d)
{
	json_error_t je;
	if (text == NULL)
		return omo_fail(d, OMO_E_MISSING_FIELD, "the %s body is missing", what);
	if (len > OMO_MAX_MESSAGE)
		return omo_fail(d, OMO_E_TOO_LARGE, "the %s body has %zu bytes, at most %u", what,
		                len, OMO_MAX_MESSAGE);
	if ((*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return omo_fail(d, OMO_E_MALFORMED, "the %s body is not JSON: line %d: %s", what,
		                je.line, je.text);
	return OMO_E_OK;
}

static void view_fini(view *v)
{
	json_decref(v->body);
	json_decref(v->items);
}

static omo_err view_open(view *v, const partner *p, const char *text, size_t len, const char *items,
                         size_t items_len, omo_error_detail *d)
{
	memset(v, 0, sizeof *v);
	if (p->json == PARTNER_JSON_NONE)
		return omo_fail(d, OMO_E_CONFIG, "partner %s is not a JSON channel", p->id);
	v->sh = &shapes[p->json];
	omo_err e = load(text, len, "order", &v->body, d);
	if (e == OMO_E_OK && v->sh->lines_in_items)
		e = load(items, items_len, "order items", &v->items, d);
	if (e != OMO_E_OK)
		return e;
	v->order = at(v->body, v->sh->order);
	if (!json_is_object(v->order))
		return omo_fail(d, OMO_E_MALFORMED, "not a %s order: no %s object", v->sh->name,
		                *v->sh->order ? v->sh->order : "top-level");
	e = id_text(at(v->order, v->sh->id), v->sh->id, v->id, sizeof v->id, d);
	if (e != OMO_E_OK)
		return e;
	if (v->items) {
		char other[JC_ID_MAX + 1];
		json_t *of = at(v->items, "payload.AmazonOrderId");
		if (id_text(of, "payload.AmazonOrderId", other, sizeof other, d) != OMO_E_OK ||
		    strcmp(other, v->id) != 0)
			return omo_fail(d, OMO_E_CONFLICT, "the items are of order %s, not %s",
			                json_is_string(of) ? json_string_value(of) : "?", v->id);
	}
	v->lines = at(v->sh->lines_in_items ? v->items : v->order, v->sh->lines);
	if (!json_is_array(v->lines))
		return omo_fail(d, OMO_E_MISSING_FIELD, "%s must be a list of lines", v->sh->lines);
	if (json_array_size(v->lines) == 0)
		return omo_fail(d, OMO_E_EMPTY_ORDER, "%s is empty", v->sh->lines);
	if (json_array_size(v->lines) > 100)
		return omo_fail(d, OMO_E_OUT_OF_RANGE, "%s has %zu lines, at most 100",
		                v->sh->lines, json_array_size(v->lines));
	return OMO_E_OK;
}

static omo_err state_ok(const view *v, omo_error_detail *d)
{
	const shape *sh = v->sh;
	json_t *c = sh->cancelled ? at(v->order, sh->cancelled) : NULL;
	if (c && !json_is_null(c) && !json_is_false(c))
		return omo_fail(d, OMO_E_BAD_STATE, "order %s is cancelled (%s)", v->id,
		                sh->cancelled);
	json_t *s = sh->state ? at(v->order, sh->state) : NULL;
	for (const char *const *b = sh->bad; b && *b && json_is_string(s); b++)
		if (strcmp(json_string_value(s), *b) == 0)
			return omo_fail(d, OMO_E_BAD_STATE,
			                "order %s is %s: not to be fulfilled now", v->id, *b);
	if (v->sh == &shapes[PARTNER_JSON_AMAZON] &&
	    !(json_is_string(at(v->order, "FulfillmentChannel")) &&
	      strcmp(json_string_value(at(v->order, "FulfillmentChannel")), "MFN") == 0))
		return omo_fail(d, OMO_E_BAD_STATE,
		                "order %s is not merchant-fulfilled (FulfillmentChannel MFN)",
		                v->id);
	return OMO_E_OK;
}

/* ship_to takes the channel's address when it has coordinates, else the
 * partner's default place with whatever address text the order has. */
static omo_err ship_to(const view *v, const partner *p, omo_address *a, omo_error_detail *d)
{
	json_t *s = v->sh->ship_to ? at(v->order, v->sh->ship_to) : NULL;
	bool located = json_is_object(s) && degrees(at(s, "latitude"), 90, &a->lat_udeg) &&
	               degrees(at(s, "longitude"), 180, &a->lon_udeg);
	if (!located) {
		if (!p->has_default_ship_to)
			return omo_fail(
			    d, OMO_E_MISSING_FIELD,
			    "order %s has no ship-to with coordinates and partner %s no "
			    "default_ship_to",
			    v->id, p->id);
		*a = p->default_ship_to;
	}
	if (!json_is_object(s))
		return OMO_E_OK;
	static const struct {
		size_t off, cap;
		const char *keys[4];
	} fields[] = {
	    {offsetof(omo_address, name), sizeof a->name, {"name", "Name", "firstName", NULL}},
	    {offsetof(omo_address, line1),
	     sizeof a->line1,
	     {"address1", "AddressLine1", "streetName", NULL}},
	    {offsetof(omo_address, city), sizeof a->city, {"city", "City", NULL}},
	    {offsetof(omo_address, postal_code),
	     sizeof a->postal_code,
	     {"zip", "PostalCode", "postalCode", NULL}},
	    {offsetof(omo_address, country),
	     sizeof a->country,
	     {"country_code", "CountryCode", "country", NULL}},
	};
	for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
		for (int k = 0; fields[f].keys[k]; k++) {
			json_t *x = at(s, fields[f].keys[k]);
			if (json_is_string(x) && json_string_length(x) > 0) {
				snprintf((char *)a + fields[f].off, fields[f].cap, "%s",
				         json_string_value(x));
				break;
			}
		}
	return OMO_E_OK;
}

static omo_err read_line(const view *v, const partner *p, size_t i, omo_order_line *l,
                         omo_error_detail *d)
{
	const shape *sh = v->sh;
	json_t *line = json_array_get(v->lines, i);
	char where[96], listing[65];
	int64_t price;
	snprintf(where, sizeof where, "%s[%zu].%s", sh->lines, i, sh->listing);
	omo_err e = id_text(at(line, sh->listing), where, listing, sizeof listing, d);
	if (e != OMO_E_OK)
		return e;
	const char *sku = partner_sku(p, PARTNER_ITEM_LISTING, listing, strlen(listing));
	if (!sku)
		return omo_fail(d, OMO_E_UNKNOWN_SKU, "%s '%s' is not in partner %s's mapping",
		                where, listing, p->id);
	snprintf(where, sizeof where, "%s[%zu].%s", sh->lines, i, sh->quantity);
	if ((e = units(at(line, sh->quantity), where, &l->quantity, d)) != OMO_E_OK)
		return e;
	snprintf(where, sizeof where, "%s[%zu].%s", sh->lines, i, sh->price);
	if ((e = cents(at(line, sh->price), where, &price, d)) != OMO_E_OK)
		return e;
	if (sh->price_is_total && price % l->quantity != 0)
		return omo_fail(d, OMO_E_OUT_OF_RANGE,
		                "%s: %lld cents for %lld units is not a whole number of cents each",
		                where, (long long)price, (long long)l->quantity);
	l->unit_price = sh->price_is_total ? price / l->quantity : price;
	l->line_no = (int64_t)i + 1;
	snprintf(l->sku, sizeof l->sku, "%s", sku);
	return OMO_E_OK;
}

omo_err jc_order(const partner *p, const char *text, size_t len, const char *items,
                 size_t items_len, omo_msg *m, char their_id[JC_ID_MAX + 1], omo_error_detail *d)
{
	view v;
	omo_msg_init(m, OMO_MSG_SUBMIT_ORDER);
	their_id[0] = 0;
	omo_err e = view_open(&v, p, text, len, items, items_len, d);
	if (e == OMO_E_OK)
		e = state_ok(&v, d);
	omo_submit_order *o = &m->body.submit_order;
	if (e == OMO_E_OK)
		e = ship_to(&v, p, &o->ship_to, d);
	size_t n = e == OMO_E_OK ? json_array_size(v.lines) : 0;
	if (n && (o->lines = omo_arena_alloc(&m->arena, n * sizeof *o->lines)) == NULL)
		e = omo_fail(d, OMO_E_NOMEM, "no memory for %zu lines", n);
	for (size_t i = 0; i < n && e == OMO_E_OK; i++)
		if ((e = read_line(&v, p, i, &o->lines[i], d)) == OMO_E_OK)
			o->lines_count++;
	if (e == OMO_E_OK) {
		snprintf(their_id, JC_ID_MAX + 1, "%s", v.id);
		snprintf(o->idempotency_key, sizeof o->idempotency_key, "%s:order:%s", p->id, v.id);
		o->channel = p->channel;
		o->fulfillment = OMO_SHIP_TO_HOME;
		json_t *c = v.sh->customer ? at(v.order, v.sh->customer) : NULL;
		if (c &&
		    id_text(c, "customer", o->customer_id, sizeof o->customer_id, NULL) != OMO_E_OK)
			o->customer_id[0] = 0;
		/* the schema's limits, defined once, decide what omo takes (a price too high, ...)
		 */
		omo_buf b = {0};
		e = omo_msg_encode(m, &b, d);
		omo_buf_fini(&b);
	}
	view_fini(&v);
	return e;
}

/* ---- confirming a shipment ------------------------------------------------- */

static char *iso8601(char out[32], int64_t us)
{
	int y, mo, day, h, mi;
	x12_utc_parts(us, &y, &mo, &day, &h, &mi);
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:00Z", y % 10000, mo % 100, day % 100, h % 100,
	         mi % 100);
	return out;
}

/* their_line returns the channel's id of our line_no, as JSON (a copy). */
static json_t *their_line(const view *v, int64_t line_no)
{
	json_t *line = json_array_get(v->lines, (size_t)(line_no - 1));
	json_t *id = line ? at(line, v->sh->line_id) : NULL;
	return id && (json_is_string(id) || json_is_integer(id)) ? json_copy(id) : NULL;
}

static json_t *confirm_body(const view *v, const jc_shipment *s, json_t *lines)
{
	char when[32];
	switch ((partner_json)(v->sh - shapes)) {
	case PARTNER_JSON_SHOPIFY:
		return json_pack("{s:{s:O,s:s,s:s,s:s,s:b,s:O}}", "fulfillment", "order_id",
		                 at(v->order, "id"), "tracking_number", s->tracking,
		                 "tracking_company", s->carrier, "status", "success",
		                 "notify_customer", 1, "line_items", lines);
	case PARTNER_JSON_AMAZON:
		return json_pack("{s:O,s:{s:s,s:s,s:s,s:s,s:O}}", "marketplaceId",
		                 at(v->order, "MarketplaceId"), "packageDetail",
		                 "packageReferenceId", "1", "carrierCode", s->carrier,
		                 "trackingNumber", s->tracking, "shipDate",
		                 iso8601(when, s->shipped_us), "orderItems", lines);
	case PARTNER_JSON_COMMERCETOOLS:
		return json_pack("{s:O,s:[{s:s,s:s},{s:s,s:O,s:[{s:{s:s,s:s}}]}]}", "version",
		                 at(v->order, "version"), "actions", "action",
		                 "changeShipmentState", "shipmentState", "Shipped", "action",
		                 "addDelivery", "items", lines, "parcels", "trackingData",
		                 "trackingId", s->tracking, "carrier", s->carrier);
	case PARTNER_JSON_NONE: break;
	}
	return NULL;
}

char *jc_confirm(const partner *p, const char *text, size_t len, const char *items,
                 size_t items_len, const jc_shipment *s, omo_error_detail *d)
{
	view v;
	char *out = NULL;
	json_t *lines = json_array();
	omo_err e = view_open(&v, p, text, len, items, items_len, d);
	if (e == OMO_E_OK && (s->n == 0 || !s->carrier || !s->tracking))
		e = omo_fail(d, OMO_E_MISSING_FIELD,
		             "a confirmation needs lines, carrier, tracking");
	/* each shape names a line and its units its own way */
	static const char *const keys[][2] = {[PARTNER_JSON_SHOPIFY] = {"id", "quantity"},
	                                      [PARTNER_JSON_AMAZON] = {"orderItemId", "quantity"},
	                                      [PARTNER_JSON_COMMERCETOOLS] = {"id", "quantity"}};
	for (uint32_t i = 0; e == OMO_E_OK && i < s->n; i++) {
		json_t *id = their_line(&v, s->lines[i].line_no);
		if (!id) {
			e = omo_fail(d, OMO_E_NOT_FOUND, "order %s has no line %lld", v.id,
			             (long long)s->lines[i].line_no);
			break;
		}
		json_array_append_new(lines,
		                      json_pack("{s:o,s:I}", keys[p->json][0], id, keys[p->json][1],
		                                (json_int_t)s->lines[i].quantity));
	}
	json_t *body = e == OMO_E_OK ? confirm_body(&v, s, lines) : NULL;
	if (e == OMO_E_OK && body == NULL)
		omo_fail(d, OMO_E_MISSING_FIELD, "order %s lacks what its confirmation names",
		         v.id);
	if (body)
		out = json_dumps(body, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(body);
	json_decref(lines);
	view_fini(&v);
	return out;
}
