/*
 * inventory.c - the inventory service's handlers.
 *
 * stock:  "sku\0node" -> stock_level {on_hand, reserved} (host-order int64)
 * resv:   fulfilment id (16 bytes) + sku -> reserve_line record
 */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum { T_STOCK, T_RESV, T_META };
static const char *const inventory_tables[] = {"stock", "resv", "meta"};

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

static omo_err put_level(omo_ctx *ctx, const char *sku, const char *node, const stock_level *s)
{
	char k[KEY_MAX];
	if (s->on_hand < 0 || s->reserved < 0 || s->reserved > s->on_hand)
		abort(); /* a bug: the callers check before they write */
	return omo_put(ctx->txn, T_STOCK, k, stock_key(k, sku, node), s, sizeof(*s));
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

static size_t resv_key(uint8_t *k, const omo_uuid *fid, const char *sku)
{
	size_t n = strlen(sku);
	memcpy(k, fid->b, 16);
	memcpy(k + 16, sku, n);
	return 16 + n;
}

static omo_err reserve(omo_ctx *ctx, const omo_reserve *r, omo_msg *reply, omo_error_detail *d)
{
	const inventory_app *app = ctx->app;
	uint8_t k[16 + 64];
	omo_err e;

	/* First check every line, then write: all or nothing. */
	for (uint32_t i = 0; i < r->lines_count; i++) {
		const omo_reserve_line *l = &r->lines[i];
		omo_val v;
		if ((e = known(app, l->sku, l->node, d)) != OMO_E_OK)
			return e;
		for (uint32_t j = 0; j < i; j++)
			if (memcmp(&r->lines[j].fulfillment_id, &l->fulfillment_id, 16) == 0 &&
			    strcmp(r->lines[j].sku, l->sku) == 0)
				return omo_fail(d, OMO_E_DUPLICATE_LINE,
				                "lines[%u]: same fulfilment and SKU as lines[%u]",
				                i, j);
		if (omo_get(ctx->txn, T_RESV, k, resv_key(k, &l->fulfillment_id, l->sku), &v) ==
		    OMO_E_OK)
			continue; /* held already: a retry */
		int64_t want = l->quantity;
		for (uint32_t j = 0; j < i; j++) /* lines of other fulfilments, same SKU and node */
			if (strcmp(r->lines[j].sku, l->sku) == 0 &&
			    strcmp(r->lines[j].node, l->node) == 0)
				want += r->lines[j].quantity;
		stock_level s = get_level(ctx, l->sku, l->node);
		if (s.on_hand - s.reserved < want)
			return omo_fail(d, OMO_E_OUT_OF_STOCK,
			                "lines[%u]: %s at %s has %lld available, %lld wanted", i,
			                l->sku, l->node, (long long)(s.on_hand - s.reserved),
			                (long long)want);
	}
	for (uint32_t i = 0; i < r->lines_count; i++) {
		const omo_reserve_line *l = &r->lines[i];
		omo_val v;
		size_t kl = resv_key(k, &l->fulfillment_id, l->sku);
		if (omo_get(ctx->txn, T_RESV, k, kl, &v) == OMO_E_OK)
			continue;
		stock_level s = get_level(ctx, l->sku, l->node);
		s.reserved += l->quantity;
		if ((e = put_level(ctx, l->sku, l->node, &s)) != OMO_E_OK ||
		    (e = omo_put_rec(ctx->txn, T_RESV, k, kl, &omo_rec_reserve_line, l)) !=
		        OMO_E_OK)
			return omo_fail(d, e, "reservation could not be stored");
	}
	omo_msg_init(reply, OMO_MSG_ACK);
	snprintf(reply->body.ack.detail, sizeof(reply->body.ack.detail), "%u lines held",
	         r->lines_count);
	return OMO_E_OK;
}

typedef struct resv_scan {
	uint8_t keys[100][16 + 64];
	size_t klen[100];
	omo_reserve_line lines[100];
	int n;
} resv_scan;

static int collect_resv(void *arg, const omo_val *key, const omo_val *val)
{
	resv_scan *s = arg;
	if (s->n == 100 || key->len > sizeof(s->keys[0]))
		return 1;
	if (omo_rec_decode(&omo_rec_reserve_line, val->data, val->len, &s->lines[s->n], NULL,
	                   NULL) != OMO_E_OK)
		return 0;
	memcpy(s->keys[s->n], key->data, key->len);
	s->klen[s->n++] = key->len;
	return 0;
}

/* settle ends a fulfilment's reservation: consumed (shipped) or released. */
static omo_err settle(omo_ctx *ctx, const omo_uuid *fid, bool consumed, int *lines)
{
	resv_scan *s = calloc(1, sizeof(*s));
	omo_err e;
	if (s == NULL)
		return OMO_E_NOMEM;
	e = omo_scan(ctx->txn, T_RESV, fid->b, 16, NULL, 0, collect_resv, s);
	for (int i = 0; i < s->n && e == OMO_E_OK; i++) {
		const omo_reserve_line *l = &s->lines[i];
		stock_level lv = get_level(ctx, l->sku, l->node);
		lv.reserved -= l->quantity;
		if (consumed)
			lv.on_hand -= l->quantity;
		if (lv.reserved < 0 || lv.on_hand < lv.reserved) {
			OMO_ERROR("reservation_inconsistent", "sku=%s node=%s", l->sku, l->node);
			e = OMO_E_INTERNAL;
			break;
		}
		if ((e = put_level(ctx, l->sku, l->node, &lv)) == OMO_E_OK)
			e = omo_del(ctx->txn, T_RESV, s->keys[i], s->klen[i]);
	}
	if (lines != NULL)
		*lines = s->n;
	free(s);
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
	case OMO_MSG_RELEASE:
		if ((e = settle(ctx, &req->body.release.fulfillment_id, false, NULL)) != OMO_E_OK)
			return omo_fail(d, e, "release failed");
		return ack(reply, "released%s%s", "", "");
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
	omo_err e = settle(ctx, &u->fulfillment_id, consumed, NULL);
	return e == OMO_E_OK ? e : omo_fail(d, e, "reservation not settled");
}

static omo_err on_tick(omo_ctx *ctx, int64_t *next_us)
{
	const inventory_app *app = ctx->app;
	*next_us = INT64_MAX; /* only the seed, once */
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
    .n_tables = 3,
    .on_request = on_request,
    .on_event = on_event,
    .on_tick = on_tick,
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
