/*
 * inventory.c - the inventory service's handlers.
 *
 * stock:  "sku\0node" -> stock_level {on_hand, reserved} (host-order int64)
 * resv:   fulfilment id (16 bytes) + sku -> reserve_line record
 * holds:  order id + be64(attempt) + fulfilment id + sku -> "" (a routing's holds)
 * fids:   fulfilment id -> order id + be64(attempt) (to find them again)
 */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum { T_STOCK, T_RESV, T_META, T_HOLDS, T_FIDS, T_CARTS, T_CART_AT };
static const char *const inventory_tables[] = {"stock", "resv",  "meta",   "holds",
                                               "fids",  "carts", "cart_at"};

typedef struct stock_level {
	int64_t on_hand;
	int64_t reserved;
} stock_level;

#define KEY_MAX (64 + 1 + 32)

static size_t stock_key(char *k, const char *sku, const char *node)
{
	size_t a = strlen(sku), b = strlen(node);
	memcpy(k, sku, a);
	k[a] = '\0';
	memcpy(k + a + 1, node, b);
	return a + 1 + b;
}

static stock_level get_level(omo_ctx *ctx, const char *sku, const char *node)
{
	char k[KEY_MAX];
	omo_val v;
	stock_level s = {0, 0};
	if (omo_get(ctx->txn, T_STOCK, k, stock_key(k, sku, node), &v) == OMO_E_OK &&
	    v.len == sizeof(s))
		memcpy(&s, v.data, sizeof(s));
	return s;
}

enum { STAT_ON_HAND, STAT_RESERVED };
static const omo_stat_def stats[] = {
    [STAT_ON_HAND] = {"units_on_hand", "gauge", "node", "Units on hand, by node."},
    [STAT_RESERVED] = {"units_reserved", "gauge", "node",
                       "Units held for orders and carts, by node."},
};

/* put_level is the one place stock changes, so the gauges by node follow it. */
static omo_err put_level(omo_ctx *ctx, const char *sku, const char *node, const stock_level *s)
{
	char k[KEY_MAX];
	if (s->on_hand < 0 || s->reserved < 0 || s->reserved > s->on_hand)
		abort(); /* a bug: the callers check before they write */
	stock_level was = get_level(ctx, sku, node);
	omo_err e = OMO_E_OK;
	if (s->on_hand != was.on_hand)
		e = omo_stat_add(ctx, STAT_ON_HAND, node, s->on_hand - was.on_hand);
	if (e == OMO_E_OK && s->reserved != was.reserved)
		e = omo_stat_add(ctx, STAT_RESERVED, node, s->reserved - was.reserved);
	return e != OMO_E_OK
	           ? e
	           : omo_put(ctx->txn, T_STOCK, k, stock_key(k, sku, node), s, sizeof(*s));
}

static omo_err known(const inventory_app *app, const char *sku, const char *node,
                     omo_error_detail *d)
{
	if (omo_catalog_sku(&app->catalog, sku) == NULL)
		return omo_fail(d, OMO_E_UNKNOWN_SKU, "sku: \"%s\" is not in the catalog", sku);
	if (omo_catalog_node(&app->catalog, node) == NULL)
		return omo_fail(d, OMO_E_UNKNOWN_NODE, "node: \"%s\" is not in the network", node);
	return OMO_E_OK;
}

/* ---- queries ---------------------------------------------------------- */

typedef struct row_set {
	omo_stock_row *rows;
	uint32_t n, cap;
	const omo_stock_query *q;
	bool failed;
} row_set;

static bool wanted_node(const omo_stock_query *q, const char *node)
{
	if (q->nodes_count == 0)
		return true;
	for (uint32_t i = 0; i < q->nodes_count; i++)
		if (strcmp(q->nodes[i].node, node) == 0)
			return true;
	return false;
}

static int collect(void *arg, const omo_val *key, const omo_val *val)
{
	row_set *rs = arg;
	const char *k = key->data;
	size_t skulen = strnlen(k, key->len);
	stock_level s;
	if (skulen >= key->len || skulen > 64 || key->len - skulen - 1 > 32 ||
	    val->len != sizeof(s))
		return 0;
	omo_stock_row r = {0};
	memcpy(r.sku, k, skulen);
	memcpy(r.node, k + skulen + 1, key->len - skulen - 1);
	if (!wanted_node(rs->q, r.node))
		return 0;
	memcpy(&s, val->data, sizeof(s));
	r.on_hand = s.on_hand;
	r.reserved = s.reserved;
	r.available = s.on_hand - s.reserved;
	if (rs->n == rs->cap) {
		uint32_t cap = rs->cap ? rs->cap * 2 : 256;
		omo_stock_row *p = realloc(rs->rows, cap * sizeof(*p));
		if (p == NULL) {
			rs->failed = true;
			return 1;
		}
		rs->rows = p;
		rs->cap = cap;
	}
	rs->rows[rs->n++] = r;
	return 0;
}

static omo_err query(omo_ctx *ctx, const omo_stock_query *q, omo_msg *reply, omo_error_detail *d)
{
	row_set rs = {.q = q};
	omo_err e = OMO_E_OK;
	if (q->skus_count == 0)
		e = omo_scan(ctx->txn, T_STOCK, NULL, 0, NULL, 0, collect, &rs);
	for (uint32_t i = 0; i < q->skus_count && e == OMO_E_OK; i++)
		e = omo_scan(ctx->txn, T_STOCK, q->skus[i].sku, strlen(q->skus[i].sku) + 1, NULL, 0,
		             collect, &rs);
	omo_msg_init(reply, OMO_MSG_STOCK_REPLY);
	if (e == OMO_E_OK && rs.failed)
		e = OMO_E_NOMEM;
	if (e == OMO_E_OK && rs.n > omo_rec_stock_reply.fields[0].max)
		e = omo_fail(d, OMO_E_TOO_LARGE, "%u rows: narrow the query by SKU or node", rs.n);
	if (e == OMO_E_OK && rs.n > 0) {
		reply->body.stock_reply.rows =
		    omo_arena_alloc(&reply->arena, rs.n * sizeof(*rs.rows));
		if (reply->body.stock_reply.rows == NULL)
			e = OMO_E_NOMEM;
		else {
			memcpy(reply->body.stock_reply.rows, rs.rows, rs.n * sizeof(*rs.rows));
			reply->body.stock_reply.rows_count = rs.n;
		}
	}
	free(rs.rows);
	return e;
}

/* ---- reservations ------------------------------------------------------- */

#define RESV_KEY_MAX (16 + 64)
#define HOLD_PREFIX  24 /* order id + be64(attempt) */

static size_t resv_key(uint8_t *k, const omo_uuid *fid, const char *sku)
{
	size_t n = strlen(sku);
	memcpy(k, fid->b, 16);
	memcpy(k + 16, sku, n);
	return 16 + n;
}

static void hold_prefix(uint8_t *k, const omo_uuid *order, int64_t attempt)
{
	memcpy(k, order->b, 16);
	omo_be64_put(k + 16, (uint64_t)attempt);
}

/* A set of reservation keys (fulfilment id + sku) read from a table. */
typedef struct key_set {
	uint8_t keys[RT_MAX_ALLOCS][RESV_KEY_MAX];
	size_t len[RT_MAX_ALLOCS];
	size_t skip; /* bytes of each table key before the reservation key */
	int n;
	bool overflow;
} key_set;

static int collect_keys(void *arg, const omo_val *key, const omo_val *val)
{
	key_set *s = arg;
	(void)val;
	if (s->n == RT_MAX_ALLOCS || key->len <= s->skip || key->len - s->skip > RESV_KEY_MAX) {
		s->overflow = true;
		return 1;
	}
	memcpy(s->keys[s->n], (const uint8_t *)key->data + s->skip, key->len - s->skip);
	s->len[s->n++] = key->len - s->skip;
	return 0;
}

/* unhold ends the reservation row at key: consumed (shipped) or released. */
static omo_err unhold(omo_ctx *ctx, const uint8_t *key, size_t klen, bool consumed)
{
	omo_reserve_line l;
	uint8_t hk[HOLD_PREFIX + RESV_KEY_MAX];
	omo_val v;
	omo_err e = omo_get_rec(ctx->txn, T_RESV, key, klen, &omo_rec_reserve_line, &l, NULL);
	if (e != OMO_E_OK)
		return e == OMO_E_NOT_FOUND ? OMO_E_OK : e;
	stock_level lv = get_level(ctx, l.sku, l.node);
	lv.reserved -= l.quantity;
	if (consumed)
		lv.on_hand -= l.quantity;
	if (lv.reserved < 0 || lv.on_hand < lv.reserved) {
		OMO_ERROR("reservation_inconsistent", "sku=%s node=%s", l.sku, l.node);
		return OMO_E_INTERNAL;
	}
	if ((e = put_level(ctx, l.sku, l.node, &lv)) != OMO_E_OK ||
	    (e = omo_del(ctx->txn, T_RESV, key, klen)) != OMO_E_OK)
		return e;
	if (omo_get(ctx->txn, T_FIDS, key, 16, &v) == OMO_E_OK && v.len == HOLD_PREFIX) {
		memcpy(hk, v.data, HOLD_PREFIX);
		memcpy(hk + HOLD_PREFIX, key, klen);
		e = omo_del(ctx->txn, T_HOLDS, hk, HOLD_PREFIX + klen);
	}
	return e == OMO_E_NOT_FOUND ? OMO_E_OK : e;
}

/* settle ends every reservation of a fulfilment: consumed (shipped) or released. */
static omo_err settle(omo_ctx *ctx, const omo_uuid *fid, bool consumed)
{
	key_set *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return OMO_E_NOMEM;
	omo_err e = omo_scan(ctx->txn, T_RESV, fid->b, 16, NULL, 0, collect_keys, s);
	for (int i = 0; e == OMO_E_OK && i < s->n; i++)
		e = unhold(ctx, s->keys[i], s->len[i], consumed);
	if (e == OMO_E_OK && s->n > 0 &&
	    (e = omo_del(ctx->txn, T_FIDS, fid->b, 16)) == OMO_E_NOT_FOUND)
		e = OMO_E_OK;
	free(s);
	return e;
}

/* same_holds tells whether the holds in s are exactly the lines of r. */
static bool same_holds(omo_ctx *ctx, const key_set *s, const omo_reserve *r)
{
	uint8_t k[RESV_KEY_MAX];
	if (s->overflow || (uint32_t)s->n != r->lines_count)
		return false;
	for (uint32_t i = 0; i < r->lines_count; i++) {
		const omo_reserve_line *l = &r->lines[i];
		omo_reserve_line held;
		if (omo_get_rec(ctx->txn, T_RESV, k, resv_key(k, &l->fulfillment_id, l->sku),
		                &omo_rec_reserve_line, &held, NULL) != OMO_E_OK ||
		    held.quantity != l->quantity || strcmp(held.node, l->node) != 0)
			return false;
	}
	return true;
}

static bool in_set(const key_set *s, const uint8_t *k, size_t kl)
{
	for (int i = 0; i < s->n; i++)
		if (s->len[i] == kl && memcmp(s->keys[i], k, kl) == 0)
			return true;
	return false;
}

/* freed_at sums what the holds in s keep of sku at node: they are about to go. */
static int64_t freed_at(omo_ctx *ctx, const key_set *s, const char *sku, const char *node)
{
	int64_t q = 0;
	for (int i = 0; i < s->n; i++) {
		omo_reserve_line l;
		if (omo_get_rec(ctx->txn, T_RESV, s->keys[i], s->len[i], &omo_rec_reserve_line, &l,
		                NULL) == OMO_E_OK &&
		    strcmp(l.sku, sku) == 0 && strcmp(l.node, node) == 0)
			q += l.quantity;
	}
	return q;
}

/*
 * reserve_one holds r's lines, all or none, as the holds of (order, attempt):
 * they replace whatever that routing attempt held before (a retry after a
 * lost reply, or a new plan for the same attempt), so nothing stays held
 * for a plan that was never announced; no lines releases them. A line whose
 * (fulfilment, SKU) is held under another attempt is held already: neither
 * counted again nor held twice. Everything is checked before anything
 * changes, so a refusal (its code returned, d saying why) changes nothing.
 */
static omo_err reserve_one(omo_ctx *ctx, const omo_reserve *r, omo_error_detail *d)
{
	const inventory_app *app = ctx->app;
	uint8_t prefix[HOLD_PREFIX], k[RESV_KEY_MAX], hk[HOLD_PREFIX + RESV_KEY_MAX];
	bool skip[RT_MAX_ALLOCS] = {false}; /* the schema allows 400 lines */
	omo_err e = OMO_E_OK;

	for (uint32_t i = 0; i < r->lines_count; i++) {
		const omo_reserve_line *l = &r->lines[i];
		if ((e = known(app, l->sku, l->node, d)) != OMO_E_OK)
			return e;
		for (uint32_t j = 0; j < i; j++)
			if (memcmp(&r->lines[j].fulfillment_id, &l->fulfillment_id, 16) == 0 &&
			    strcmp(r->lines[j].sku, l->sku) == 0)
				return omo_fail(d, OMO_E_DUPLICATE_LINE,
				                "lines[%u]: same fulfilment and SKU as lines[%u]",
				                i, j);
	}
	key_set *held = calloc(1, sizeof(*held));
	if (held == NULL)
		return omo_fail(d, OMO_E_NOMEM, "out of memory");
	hold_prefix(prefix, &r->order_id, r->attempt);
	held->skip = HOLD_PREFIX;
	if ((e = omo_scan(ctx->txn, T_HOLDS, prefix, HOLD_PREFIX, NULL, 0, collect_keys, held)) !=
	    OMO_E_OK)
		goto out;
	if (same_holds(ctx, held, r))
		goto out; /* a retry: held already */

	for (uint32_t i = 0; i < r->lines_count; i++) {
		omo_val v;
		size_t kl = resv_key(k, &r->lines[i].fulfillment_id, r->lines[i].sku);
		skip[i] = omo_get(ctx->txn, T_RESV, k, kl, &v) == OMO_E_OK && !in_set(held, k, kl);
	}
	for (uint32_t i = 0; i < r->lines_count; i++) {
		const omo_reserve_line *l = &r->lines[i];
		int64_t want = l->quantity;
		if (skip[i])
			continue;
		for (uint32_t j = 0; j < i; j++) /* other fulfilments, same SKU and node */
			if (!skip[j] && strcmp(r->lines[j].sku, l->sku) == 0 &&
			    strcmp(r->lines[j].node, l->node) == 0)
				want += r->lines[j].quantity;
		stock_level s = get_level(ctx, l->sku, l->node);
		int64_t avail = s.on_hand - s.reserved + freed_at(ctx, held, l->sku, l->node);
		if (avail < want) {
			e = omo_fail(d, OMO_E_OUT_OF_STOCK,
			             "lines[%u]: %s at %s has %lld available, %lld wanted", i,
			             l->sku, l->node, (long long)avail, (long long)want);
			goto out;
		}
	}
	for (int i = 0; e == OMO_E_OK && i < held->n; i++)
		e = unhold(ctx, held->keys[i], held->len[i], false);
	for (uint32_t i = 0; e == OMO_E_OK && i < r->lines_count; i++) {
		const omo_reserve_line *l = &r->lines[i];
		size_t kl = resv_key(k, &l->fulfillment_id, l->sku);
		if (skip[i])
			continue;
		stock_level s = get_level(ctx, l->sku, l->node);
		s.reserved += l->quantity;
		memcpy(hk, prefix, HOLD_PREFIX);
		memcpy(hk + HOLD_PREFIX, k, kl);
		if ((e = put_level(ctx, l->sku, l->node, &s)) == OMO_E_OK &&
		    (e = omo_put_rec(ctx->txn, T_RESV, k, kl, &omo_rec_reserve_line, l)) ==
		        OMO_E_OK &&
		    (e = omo_put(ctx->txn, T_HOLDS, hk, HOLD_PREFIX + kl, "", 0)) == OMO_E_OK)
			e = omo_put(ctx->txn, T_FIDS, l->fulfillment_id.b, 16, prefix, HOLD_PREFIX);
	}
	if (e != OMO_E_OK && e != OMO_E_OUT_OF_STOCK)
		omo_fail(d, e, "reservation could not be stored");
out:
	free(held);
	return e;
}

static omo_err reserve(omo_ctx *ctx, const omo_reserve *r, omo_msg *reply, omo_error_detail *d)
{
	omo_err e = reserve_one(ctx, r, d);
	if (e != OMO_E_OK)
		return e;
	omo_msg_init(reply, OMO_MSG_ACK);
	snprintf(reply->body.ack.detail, sizeof(reply->body.ack.detail), "%u lines held",
	         r->lines_count);
	return OMO_E_OK;
}

/* reserve_many does each reservation on its own: one refused leaves the
 * others held. Only a store failure fails the whole request. */
static omo_err reserve_many(omo_ctx *ctx, const omo_reserve_many *m, omo_msg *reply,
                            omo_error_detail *d)
{
	omo_msg_init(reply, OMO_MSG_RESERVE_RESULTS);
	omo_reserve_results *rr = &reply->body.reserve_results;
	rr->results = omo_arena_alloc(&reply->arena, m->reservations_count * sizeof(*rr->results));
	if (rr->results == NULL)
		return omo_fail(d, OMO_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < m->reservations_count; i++) {
		omo_error_detail one = {0};
		omo_reserve_result *res = &rr->results[rr->results_count++];
		res->order_id = m->reservations[i].order_id;
		res->attempt = m->reservations[i].attempt;
		omo_err e = reserve_one(ctx, &m->reservations[i], &one);
		if (e == OMO_E_OK)
			continue;
		if (e != OMO_E_OUT_OF_STOCK && e != OMO_E_UNKNOWN_SKU && e != OMO_E_UNKNOWN_NODE &&
		    e != OMO_E_DUPLICATE_LINE)
			return omo_fail(d, e, "reservations[%u]: %s", i, one.text);
		snprintf(res->code, sizeof(res->code), "%s", omo_err_name(e));
		snprintf(res->detail, sizeof(res->detail), "%s", one.text);
	}
	return OMO_E_OK;
}

/* ---- carts -------------------------------------------------------------- */

/*
 * A cart's hold is a reservation like a routing's, under (cart id, attempt
 * 1), one fulfilment id per node derived from the cart: reserve_one's
 * checks, replacement and release all apply. cart_at keeps when the hold
 * expires; the carts timer table wakes the tick then. A timer whose cart
 * was held again later, or released, finds another time (or none) in
 * cart_at and is let go.
 */

static void cart_fid(const omo_uuid *cart, const char *node, omo_uuid *out)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = node; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	*out = *cart;
	for (int i = 0; i < 8; i++)
		out->b[8 + i] ^= (uint8_t)(h >> (8 * i));
}

static omo_err cart_release(omo_ctx *ctx, const omo_uuid *cart, omo_error_detail *d)
{
	omo_reserve none = {.order_id = *cart, .attempt = 1};
	omo_err e = reserve_one(ctx, &none, d);
	if (e == OMO_E_OK) {
		e = omo_del(ctx->txn, T_CART_AT, cart->b, 16);
		e = e == OMO_E_NOT_FOUND ? OMO_E_OK : e;
	}
	return e;
}

static omo_err hold_cart(omo_ctx *ctx, const omo_hold_cart *h, omo_msg *reply, omo_error_detail *d)
{
	omo_reserve_line lines[100];
	uint8_t at_be[8];
	int64_t at = ctx->now_us + h->ttl_ms * 1000;
	for (uint32_t i = 0; i < h->lines_count; i++) {
		cart_fid(&h->cart_id, h->lines[i].node, &lines[i].fulfillment_id);
		memcpy(lines[i].sku, h->lines[i].sku, sizeof(lines[i].sku));
		memcpy(lines[i].node, h->lines[i].node, sizeof(lines[i].node));
		lines[i].quantity = h->lines[i].quantity;
	}
	omo_reserve r = {
	    .order_id = h->cart_id, .attempt = 1, .lines = lines, .lines_count = h->lines_count};
	omo_err e = reserve_one(ctx, &r, d);
	if (e != OMO_E_OK)
		return e;
	omo_be64_put(at_be, (uint64_t)at);
	if ((e = omo_put(ctx->txn, T_CART_AT, h->cart_id.b, 16, at_be, 8)) != OMO_E_OK ||
	    (e = omo_timer_set(ctx->txn, T_CARTS, at, &h->cart_id)) != OMO_E_OK)
		return omo_fail(d, e, "cart hold could not be stored");
	omo_msg_init(reply, OMO_MSG_ACK);
	snprintf(reply->body.ack.detail, sizeof(reply->body.ack.detail),
	         "%u lines held for %lld ms", h->lines_count, (long long)h->ttl_ms);
	return OMO_E_OK;
}

/* carts_expire frees every cart whose hold has run out by now. */
static omo_err carts_expire(omo_ctx *ctx)
{
	omo_uuid due[64];
	int n;
	omo_err e = OMO_E_OK;
	do {
		n = omo_timer_take(ctx->txn, T_CARTS, ctx->now_us, due, 64);
		if (n < 0)
			return OMO_E_IO;
		for (int i = 0; i < n && e == OMO_E_OK; i++) {
			omo_val v;
			omo_error_detail d = {0};
			if (omo_get(ctx->txn, T_CART_AT, due[i].b, 16, &v) != OMO_E_OK ||
			    v.len != 8 || (int64_t)omo_be64_get(v.data) > ctx->now_us)
				continue; /* released, or held again since */
			if ((e = cart_release(ctx, &due[i], &d)) == OMO_E_OK)
				OMO_INFO("cart_expired", "holds freed");
		}
	} while (n == 64 && e == OMO_E_OK);
	return e;
}

/* ---- receipts and adjustments ------------------------------------------ */

static omo_err receive(omo_ctx *ctx, const char *node, const char *sku, int64_t qty,
                       omo_error_detail *d)
{
	omo_err e = known(ctx->app, sku, node, d);
	if (e != OMO_E_OK)
		return e;
	stock_level s = get_level(ctx, sku, node);
	if (s.on_hand + qty < s.reserved)
		return omo_fail(d, OMO_E_BAD_STATE,
		                "%s at %s: on hand %lld with %lld reserved cannot change by %lld",
		                sku, node, (long long)s.on_hand, (long long)s.reserved,
		                (long long)qty);
	s.on_hand += qty;
	return put_level(ctx, sku, node, &s);
}

static int seed_row(void *arg, char **f)
{
	omo_error_detail d;
	char *end;
	long long q = strtoll(f[2], &end, 10);
	return *end != '\0' || q < 0 || receive(arg, f[0], f[1], q, &d) != OMO_E_OK ? -1 : 0;
}

int inventory_seed(omo_ctx *ctx, const char *path)
{
	char err[300];
	omo_val v;
	if (omo_get(ctx->txn, T_META, "seeded", 6, &v) == OMO_E_OK)
		return 0;
	if (omo_csv_read(path, 3, "node,sku,on_hand (known node and SKU, on_hand >= 0)", seed_row,
	                 ctx, err, sizeof(err)) != 0) {
		OMO_ERROR("seed_failed", "detail=\"%s\"", err);
		return -1;
	}
	return omo_put(ctx->txn, T_META, "seeded", 6, "1", 1) == OMO_E_OK ? 1 : -1;
}

static omo_err ack(omo_msg *reply, const char *fmt, const char *a, const char *b)
{
	omo_msg_init(reply, OMO_MSG_ACK);
	snprintf(reply->body.ack.detail, sizeof(reply->body.ack.detail), fmt, a, b);
	return OMO_E_OK;
}

static omo_err on_request(omo_ctx *ctx, const omo_msg *req, omo_msg *reply, omo_error_detail *d)
{
	omo_err e;
	switch (req->type) {
	case OMO_MSG_STOCK_QUERY: return query(ctx, &req->body.stock_query, reply, d);
	case OMO_MSG_RESERVE: return reserve(ctx, &req->body.reserve, reply, d);
	case OMO_MSG_RESERVE_MANY: return reserve_many(ctx, &req->body.reserve_many, reply, d);
	case OMO_MSG_RELEASE:
		if ((e = settle(ctx, &req->body.release.fulfillment_id, false)) != OMO_E_OK)
			return omo_fail(d, e, "release failed");
		return ack(reply, "released%s%s", "", "");
	case OMO_MSG_HOLD_CART: return hold_cart(ctx, &req->body.hold_cart, reply, d);
	case OMO_MSG_RELEASE_CART:
		if ((e = cart_release(ctx, &req->body.release_cart.cart_id, d)) != OMO_E_OK)
			return e;
		return ack(reply, "cart released%s%s", "", "");
	case OMO_MSG_RECEIVE_STOCK: {
		const omo_receive_stock *r = &req->body.receive_stock;
		if ((e = receive(ctx, r->node, r->sku, r->quantity, d)) != OMO_E_OK)
			return e;
		return ack(reply, "received %s at %s", r->sku, r->node);
	}
	case OMO_MSG_ADJUST_STOCK: {
		const omo_adjust_stock *a = &req->body.adjust_stock;
		if ((e = receive(ctx, a->node, a->sku, a->delta, d)) != OMO_E_OK)
			return e;
		return ack(reply, "adjusted %s at %s", a->sku, a->node);
	}
	default:
		return omo_fail(d, OMO_E_UNKNOWN_TYPE, "inventory does not take %s",
		                omo_msg_name(req->type));
	}
}

static omo_err on_event(omo_ctx *ctx, const omo_msg *ev, omo_error_detail *d)
{
	if (ev->type != OMO_MSG_FULFILLMENT_UPDATE)
		return OMO_E_OK;
	const omo_fulfillment_update *u = &ev->body.fulfillment_update;
	bool consumed = u->status == OMO_FF_SHIPPED || u->status == OMO_FF_PICKED_UP;
	bool released = u->status == OMO_FF_REJECTED || u->status == OMO_FF_CANCELLED;
	if (!consumed && !released)
		return OMO_E_OK;
	omo_err e = settle(ctx, &u->fulfillment_id, consumed);
	return e == OMO_E_OK ? e : omo_fail(d, e, "reservation not settled");
}

static omo_err on_tick(omo_ctx *ctx, int64_t *next_us)
{
	const inventory_app *app = ctx->app;
	omo_err e = carts_expire(ctx);
	if (e != OMO_E_OK)
		return e;
	*next_us = omo_timer_next(ctx->txn, T_CARTS);
	if (app->seed_stock[0] != '\0') {
		int seeded = inventory_seed(ctx, app->seed_stock);
		if (seeded < 0)
			return OMO_E_CONFIG;
		if (seeded > 0)
			OMO_INFO("stock_seeded", "file=%s", app->seed_stock);
	}
	return OMO_E_OK;
}

static void app_fini(void *app)
{
	omo_catalog_fini(&((inventory_app *)app)->catalog);
}

static int app_init(void *app, const void *cfg, char *err, size_t errlen)
{
	inventory_app *a = app;
	const inventory_config *c = cfg;
	memcpy(a->seed_stock, c->seed_stock, sizeof(a->seed_stock));
	return omo_catalog_load(&a->catalog, c->network_dir, err, errlen);
}

static const omo_handlers handlers = {
    .name = "inventory",
    .tables = inventory_tables,
    .n_tables = 7,
    .on_request = on_request,
    .on_event = on_event,
    .on_tick = on_tick,
    .stats = stats,
    .n_stats = sizeof(stats) / sizeof(stats[0]),
};
static const omo_option options[] = {INVENTORY_OPTIONS(OMO_CONFIG_ROW, inventory_config)};
static const char *const follows[] = {"node-manufacturer", "node-warehouse", "node-store"};

const omo_service_def inventory_service = {
    .handlers = &handlers,
    .follows = follows,
    .n_follows = 3,
    .options = options,
    .n_options = sizeof(options) / sizeof(options[0]),
    .config_size = sizeof(inventory_config),
    .app_size = sizeof(inventory_app),
    .app_init = app_init,
    .app_fini = app_fini,
};
