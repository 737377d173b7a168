/*
 * test_router.c - the router service's handlers (services/router), driven
 * through one core on a fixed virtual clock, with inventory played by a fake
 * caller that answers stock_query and reserve from a table kept here (and
 * can fail them on purpose), recording every call. Checked: the calls, the
 * reserve lines, the events (order_routed, fulfillment_requested,
 * fulfillment_cancelled, order_unroutable) field by field, deterministic
 * fulfilment ids, retries on the clock, re-sourcing after rejections, the
 * attempt limit, cancellation and pick-up orders.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "router.h"
#include "testkit.h"

#define NOW       TK_NOW /* 2026-01-01T00:00:00Z */
#define EPOCH_ORD 5151
#define EPOCH_WH  6161
#define EPOCH_ST  7171
#define RETRY_MS  250
#define RETRY_US  (RETRY_MS * 1000LL)

/* ====================================================================== */
/* inventory, played by the test                                          */

#define MAX_ROWS  32
#define MAX_HOLDS 64
#define MAX_CALLS 64

typedef struct fake_row {
	char sku[65], node[33];
	int64_t on_hand, reserved;
} fake_row;

typedef struct fake_hold {
	omo_uuid order_id; /* the routing (order, attempt) that holds it */
	int64_t attempt;
	omo_uuid fid;
	char sku[65], node[33];
	int64_t qty;
} fake_hold;

typedef struct call_rec {
	char peer[33];
	omo_msg_type type;
	omo_err result;
	omo_uuid order_id;
	uint32_t n_skus, n_lines;
	char skus[8][65];
	omo_reserve_line lines[16];
} call_rec;

typedef struct fake {
	fake_row rows[MAX_ROWS];
	int n_rows;
	fake_hold holds[MAX_HOLDS];
	int n_holds;
	call_rec calls[MAX_CALLS];
	int n_calls;
	int query_unavailable; /* the next n stock_query calls fail UNAVAILABLE */
	int reserve_fail;      /* the next n reserve calls fail with reserve_code */
	omo_err reserve_code;
	int reserve_lost; /* the next n reserves are done, but answered UNAVAILABLE */
} fake;

static void fake_stock(fake *fk, const char *sku, const char *node, int64_t on_hand)
{
	assert_true(fk->n_rows < MAX_ROWS);
	fake_row *r = &fk->rows[fk->n_rows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->sku, sizeof(r->sku), "%s", sku);
	snprintf(r->node, sizeof(r->node), "%s", node);
	r->on_hand = on_hand;
}

static fake_row *fake_row_of(fake *fk, const char *sku, const char *node)
{
	for (int i = 0; i < fk->n_rows; i++)
		if (strcmp(fk->rows[i].sku, sku) == 0 && strcmp(fk->rows[i].node, node) == 0)
			return &fk->rows[i];
	return NULL;
}

static bool fake_held(const fake *fk, const omo_reserve_line *l)
{
	for (int i = 0; i < fk->n_holds; i++)
		if (memcmp(fk->holds[i].fid.b, l->fulfillment_id.b, 16) == 0 &&
		    strcmp(fk->holds[i].sku, l->sku) == 0)
			return true;
	return false;
}

static omo_err fake_query(fake *fk, const omo_stock_query *q, omo_msg *reply)
{
	omo_msg_init(reply, OMO_MSG_STOCK_REPLY);
	omo_stock_row *rows = omo_arena_alloc(&reply->arena, MAX_ROWS * sizeof(*rows));
	uint32_t n = 0;
	assert_non_null(rows);
	for (int i = 0; i < fk->n_rows; i++) {
		bool want = q->skus_count == 0, node_ok = q->nodes_count == 0;
		for (uint32_t k = 0; k < q->skus_count; k++)
			want |= strcmp(q->skus[k].sku, fk->rows[i].sku) == 0;
		for (uint32_t k = 0; k < q->nodes_count; k++)
			node_ok |= strcmp(q->nodes[k].node, fk->rows[i].node) == 0;
		if (!want || !node_ok)
			continue;
		omo_stock_row *r = &rows[n++];
		snprintf(r->sku, sizeof(r->sku), "%s", fk->rows[i].sku);
		snprintf(r->node, sizeof(r->node), "%s", fk->rows[i].node);
		r->on_hand = fk->rows[i].on_hand;
		r->reserved = fk->rows[i].reserved;
		r->available = r->on_hand - r->reserved;
	}
	reply->body.stock_reply.rows = rows;
	reply->body.stock_reply.rows_count = n;
	return OMO_E_OK;
}

/* fake_unhold_attempt frees what (order, attempt) holds, like inventory before a reserve. */
static void fake_unhold_attempt(fake *fk, const omo_reserve *r)
{
	for (int i = 0; i < fk->n_holds;) {
		fake_hold *h = &fk->holds[i];
		if (memcmp(&h->order_id, &r->order_id, 16) != 0 || h->attempt != r->attempt) {
			i++;
			continue;
		}
		fake_row_of(fk, h->sku, h->node)->reserved -= h->qty;
		*h = fk->holds[--fk->n_holds];
	}
}

/* fake_reserve holds all lines or none, like inventory: each reserve replaces
 * what the same (order, attempt) held; lines held already are retries. */
static omo_err fake_reserve(fake *fk, const omo_reserve *r, omo_msg *reply, omo_error_detail *d)
{
	fake_unhold_attempt(fk, r);
	for (uint32_t i = 0; i < r->lines_count; i++) {
		const omo_reserve_line *l = &r->lines[i];
		fake_row *row = fake_row_of(fk, l->sku, l->node);
		if (fake_held(fk, l))
			continue;
		if (row == NULL || row->on_hand - row->reserved < l->quantity)
			return omo_fail(d, OMO_E_OUT_OF_STOCK, "lines[%u]: %s at %s short", i,
			                l->sku, l->node);
	}
	for (uint32_t i = 0; i < r->lines_count; i++) {
		const omo_reserve_line *l = &r->lines[i];
		if (fake_held(fk, l))
			continue;
		assert_true(fk->n_holds < MAX_HOLDS);
		fake_hold *h = &fk->holds[fk->n_holds++];
		h->order_id = r->order_id;
		h->attempt = r->attempt;
		h->fid = l->fulfillment_id;
		snprintf(h->sku, sizeof(h->sku), "%s", l->sku);
		snprintf(h->node, sizeof(h->node), "%s", l->node);
		h->qty = l->quantity;
		fake_row_of(fk, l->sku, l->node)->reserved += l->quantity;
	}
	if (fk->reserve_lost > 0) {
		fk->reserve_lost--;
		return omo_fail(d, OMO_E_UNAVAILABLE, "inventory: no reply in time");
	}
	omo_msg_init(reply, OMO_MSG_ACK);
	snprintf(reply->body.ack.detail, sizeof(reply->body.ack.detail), "%u lines held",
	         r->lines_count);
	return OMO_E_OK;
}

static omo_err fake_call(void *arg, const char *peer, const omo_msg *req, omo_msg *reply,
                         omo_error_detail *d)
{
	fake *fk = arg;
	assert_true(fk->n_calls < MAX_CALLS);
	call_rec *c = &fk->calls[fk->n_calls++];
	memset(c, 0, sizeof(*c));
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->type = req->type;
	memset(reply, 0, sizeof(*reply));
	if (strcmp(peer, "inventory") != 0)
		return c->result = omo_fail(d, OMO_E_UNAVAILABLE, "no peer %s", peer);
	switch (req->type) {
	case OMO_MSG_STOCK_QUERY: {
		const omo_stock_query *q = &req->body.stock_query;
		assert_true(q->skus_count <= 8);
		c->n_skus = q->skus_count;
		for (uint32_t i = 0; i < q->skus_count; i++)
			snprintf(c->skus[i], sizeof(c->skus[i]), "%s", q->skus[i].sku);
		if (fk->query_unavailable > 0) {
			fk->query_unavailable--;
			return c->result = omo_fail(d, OMO_E_UNAVAILABLE, "inventory is down");
		}
		return c->result = fake_query(fk, q, reply);
	}
	case OMO_MSG_RESERVE_MANY: {
		/* One reservation per order routed in the batch; these tests route one. */
		const omo_reserve_many *m = &req->body.reserve_many;
		assert_int_equal(m->reservations_count, 1);
		const omo_reserve *r = &m->reservations[0];
		assert_true(r->lines_count <= 16);
		c->order_id = r->order_id;
		c->n_lines = r->lines_count;
		if (r->lines_count > 0)
			memcpy(c->lines, r->lines, r->lines_count * sizeof(*r->lines));
		if (fk->reserve_fail > 0 && fk->reserve_code != OMO_E_OUT_OF_STOCK) {
			fk->reserve_fail--;
			return c->result = omo_fail(d, fk->reserve_code, "made to fail");
		}
		omo_error_detail one = {0};
		omo_err e = OMO_E_OUT_OF_STOCK;
		if (fk->reserve_fail > 0) /* refused on its own, as inventory refuses one group */
			fk->reserve_fail--;
		else
			e = fake_reserve(fk, r, reply, &one);
		if (e == OMO_E_UNAVAILABLE) /* done, but the reply was lost */
			return c->result = omo_fail(d, e, "%s", one.text);
		omo_msg_fini(reply);
		omo_msg_init(reply, OMO_MSG_RESERVE_RESULTS);
		omo_reserve_result *res = omo_arena_alloc(&reply->arena, sizeof(*res));
		res->order_id = r->order_id;
		res->attempt = r->attempt;
		if (e != OMO_E_OK)
			snprintf(res->code, sizeof(res->code), "%s", omo_err_name(e));
		reply->body.reserve_results.results = res;
		reply->body.reserve_results.results_count = 1;
		c->result = e; /* the reservation's outcome; the call itself succeeded */
		return OMO_E_OK;
	}
	default:
		fail_msg("router sent inventory a %s", omo_msg_name(req->type));
		return OMO_E_INTERNAL;
	}
}

/* ====================================================================== */
/* fixture                                                                */

typedef struct fx {
	tk_svc s;
	fake fk;
	tk_got g;
	tk_stream orders, wh, store;
	int64_t next; /* when the router's tick is next due, from the last batch */
} fx;

static void fx_open(fx *f, const char *const *opts)
{
	memset(f, 0, sizeof(*f));
	tk_svc_open(&f->s, &router_service, "router", opts);
	omo_core_set_caller(f->s.core, fake_call, &f->fk);
	f->orders = (tk_stream){"orders", EPOCH_ORD, 0};
	f->wh = (tk_stream){"node-warehouse", EPOCH_WH, 0};
	f->store = (tk_stream){"node-store", EPOCH_ST, 0};
}

static void fx_close(fx *f)
{
	tk_got_fini(&f->g);
	tk_svc_close(&f->s);
}

static int setup(void **state)
{
	static const char *const opts[] = {"retry_ms=250", NULL};
	fx *f = malloc(sizeof(*f));
	if (f == NULL)
		return -1;
	omo_log_init("test_router", "error");
	fx_open(f, opts);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	fx_close(f);
	free(f);
	return 0;
}

/* feed applies ev as the next event of st, then ticks, in one batch (as the
 * shell does); what was published lands in g, the next tick time in next. */
static void feed(fx *f, tk_stream *st, omo_msg *ev)
{
	assert_int_equal(tk_feed(&f->s, &f->g, st, ev, 0, NULL, &f->next), OMO_APPLIED);
}

/* tick_at moves the clock to t and runs a tick batch. */
static void tick_at(fx *f, int64_t t)
{
	f->s.now = t;
	f->next = tk_tick(&f->s, &f->g);
}

static const omo_address new_york = {
    .name = "Ada", .country = "US", .lat_udeg = 40712800, .lon_udeg = -74006000};

/* accepted_msg fills an order_accepted; lines "SKU:qty", NULL-ended, numbered from 1. */
static void accepted_msg(omo_msg *m, const omo_uuid *order, omo_fulfillment how, const char *pickup,
                         omo_order_line *buf, const char *const *lines)
{
	omo_msg_init(m, OMO_MSG_ORDER_ACCEPTED);
	m->corr = *order;
	omo_order_accepted *a = &m->body.order_accepted;
	a->order_id = *order;
	a->channel = OMO_CHANNEL_WEB;
	a->fulfillment = how;
	if (pickup != NULL)
		snprintf(a->pickup_node, sizeof(a->pickup_node), "%s", pickup);
	else
		a->ship_to = new_york;
	uint32_t n = 0;
	for (; lines[n] != NULL; n++) {
		const char *colon = strchr(lines[n], ':');
		memset(&buf[n], 0, sizeof(buf[n]));
		buf[n].line_no = n + 1;
		snprintf(buf[n].sku, sizeof(buf[n].sku), "%.*s", (int)(colon - lines[n]), lines[n]);
		buf[n].quantity = atoi(colon + 1);
	}
	a->lines = buf;
	a->lines_count = n;
}

static omo_uuid order_in(fx *f, omo_fulfillment how, const char *pickup, const char *const *lines)
{
	omo_msg m;
	omo_order_line buf[8];
	omo_uuid id;
	omo_uuid_generate(&id);
	accepted_msg(&m, &id, how, pickup, buf, lines);
	feed(f, &f->orders, &m);
	return id;
}

static omo_uuid fid_of(const omo_uuid *order, int64_t attempt, const char *node)
{
	omo_uuid u;
	router_fulfillment_id(order, attempt, node, &u);
	return u;
}

static bool uuid_eq(const omo_uuid *a, const omo_uuid *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

/* node_update sends a node's update on the part of order at node in attempt. */
static void node_update(fx *f, const omo_uuid *order, int64_t attempt, const char *node,
                        omo_fulfillment_status s)
{
	omo_msg m;
	omo_msg_init(&m, OMO_MSG_FULFILLMENT_UPDATE);
	m.corr = *order;
	omo_fulfillment_update *u = &m.body.fulfillment_update;
	u->fulfillment_id = fid_of(order, attempt, node);
	u->order_id = *order;
	snprintf(u->node, sizeof(u->node), "%s", node);
	u->status = s;
	if (s == OMO_FF_REJECTED)
		snprintf(u->detail, sizeof(u->detail), "declined: no capacity today");
	feed(f, strncmp(node, "ST-", 3) == 0 ? &f->store : &f->wh, &m);
}

/* A part as the test expects it: its node, node type and lines. */
typedef struct want_line {
	int64_t line_no;
	const char *sku;
	int64_t qty;
} want_line;

typedef struct want_part {
	const char *node;
	omo_node_type type;
	want_line lines[4];
	uint32_t n;
} want_part;

static void assert_lines(const omo_alloc_line *got_l, uint32_t n, const want_part *w)
{
	assert_int_equal(n, w->n);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(got_l[i].line_no, w->lines[i].line_no);
		assert_string_equal(got_l[i].sku, w->lines[i].sku);
		assert_int_equal(got_l[i].quantity, w->lines[i].qty);
	}
}

/*
 * assert_routed checks g is exactly: order_routed (attempt, parts in any
 * order, backordered n_short) then one fulfillment_requested per part, in the
 * order of the announcement, with fulfilment ids from router_fulfillment_id.
 */
static void assert_routed(fx *f, const omo_uuid *order, int64_t attempt, omo_fulfillment how,
                          const want_part *parts, uint32_t n_parts, uint32_t n_short)
{
	if (f->g.n != 1 + n_parts)
		fail_msg("published %zu events, want order_routed + %u requests", f->g.n, n_parts);
	const omo_msg *m = &f->g.m[0];
	assert_int_equal(m->type, OMO_MSG_ORDER_ROUTED);
	assert_string_equal(m->producer, "router");
	assert_memory_equal(m->corr.b, order->b, 16);
	const omo_order_routed *r = &m->body.order_routed;
	assert_memory_equal(r->order_id.b, order->b, 16);
	assert_int_equal(r->attempt, attempt);
	assert_int_equal(r->fulfillments_count, n_parts);
	assert_int_equal(r->backordered_count, n_short);
	for (uint32_t i = 0; i < n_parts; i++) {
		const omo_fulfillment_info *p = &r->fulfillments[i];
		const want_part *w = NULL;
		for (uint32_t k = 0; k < n_parts; k++)
			if (strcmp(parts[k].node, p->node) == 0)
				w = &parts[k];
		if (w == NULL)
			fail_msg("part at %s not expected", p->node);
		omo_uuid fid = fid_of(order, attempt, w->node);
		assert_true(uuid_eq(&p->fulfillment_id, &fid));
		assert_int_equal(p->node_type, w->type);
		assert_int_equal(p->status, OMO_FF_REQUESTED);
		assert_lines(p->lines, p->lines_count, w);

		const omo_msg *q = &f->g.m[1 + i];
		assert_int_equal(q->type, OMO_MSG_FULFILLMENT_REQUESTED);
		assert_memory_equal(q->corr.b, order->b, 16);
		assert_int_equal(q->seq, m->seq + 1 + i);
		const omo_fulfillment_requested *fr = &q->body.fulfillment_requested;
		assert_true(uuid_eq(&fr->fulfillment_id, &fid));
		assert_memory_equal(fr->order_id.b, order->b, 16);
		assert_string_equal(fr->node, w->node);
		assert_int_equal(fr->fulfillment, how);
		if (how == OMO_SHIP_TO_HOME) {
			assert_int_equal(fr->ship_to.lat_udeg, new_york.lat_udeg);
			assert_int_equal(fr->ship_to.lon_udeg, new_york.lon_udeg);
			assert_string_equal(fr->ship_to.country, "US");
		}
		assert_lines(fr->lines, fr->lines_count, w);
	}
}

/* assert_reserve checks call c is a reserve of exactly parts (any order) for attempt. */
static void assert_reserve(const fx *f, int c, const omo_uuid *order, int64_t attempt,
                           const want_part *parts, uint32_t n_parts)
{
	assert_true(c < f->fk.n_calls);
	const call_rec *r = &f->fk.calls[c];
	assert_string_equal(r->peer, "inventory");
	assert_int_equal(r->type, OMO_MSG_RESERVE_MANY);
	assert_memory_equal(r->order_id.b, order->b, 16);
	uint32_t total = 0;
	for (uint32_t k = 0; k < n_parts; k++)
		total += parts[k].n;
	assert_int_equal(r->n_lines, total);
	for (uint32_t k = 0; k < n_parts; k++) {
		omo_uuid fid = fid_of(order, attempt, parts[k].node);
		for (uint32_t j = 0; j < parts[k].n; j++) {
			bool found = false;
			for (uint32_t i = 0; i < r->n_lines && !found; i++)
				found = uuid_eq(&r->lines[i].fulfillment_id, &fid) &&
				        strcmp(r->lines[i].node, parts[k].node) == 0 &&
				        strcmp(r->lines[i].sku, parts[k].lines[j].sku) == 0 &&
				        r->lines[i].quantity == parts[k].lines[j].qty;
			if (!found)
				fail_msg("reserve has no line %s x%lld at %s",
				         parts[k].lines[j].sku, (long long)parts[k].lines[j].qty,
				         parts[k].node);
		}
	}
}

static void assert_query(const fx *f, int c, const char *const *skus)
{
	assert_true(c < f->fk.n_calls);
	const call_rec *r = &f->fk.calls[c];
	assert_string_equal(r->peer, "inventory");
	assert_int_equal(r->type, OMO_MSG_STOCK_QUERY);
	uint32_t n = 0;
	for (; skus[n] != NULL; n++)
		assert_string_equal(r->skus[n], skus[n]);
	assert_int_equal(r->n_skus, n);
}

/* ====================================================================== */
/* routing                                                                */

static void test_routes_split_order(void **state)
{
	fx *f = *state;
	fake_stock(&f->fk, "SKU-0001", "DC-NJ", 10);
	fake_stock(&f->fk, "SKU-0002", "ST-NYC", 5);
	fake_stock(&f->fk, "SKU-0001", "DC-TX", 3);
	f->fk.rows[2].reserved = 3; /* none free */
	const char *lines[] = {"SKU-0001:2", "SKU-0002:1", NULL};
	omo_uuid id = order_in(f, OMO_SHIP_TO_HOME, NULL, lines);

	const char *skus[] = {"SKU-0001", "SKU-0002", NULL};
	assert_int_equal(f->fk.n_calls, 2);
	assert_query(f, 0, skus);
	const want_part parts[] = {
	    {"DC-NJ", OMO_NODE_WAREHOUSE, {{1, "SKU-0001", 2}}, 1},
	    {"ST-NYC", OMO_NODE_STORE, {{2, "SKU-0002", 1}}, 1},
	};
	assert_reserve(f, 1, &id, 1, parts, 2);
	assert_routed(f, &id, 1, OMO_SHIP_TO_HOME, parts, 2, 0);
	assert_int_equal(f->g.m[0].seq, 1);
	assert_int_equal(f->g.m[0].ts_us, NOW);
	assert_int_equal(f->next, INT64_MAX); /* nothing left to do */
	assert_int_equal(f->fk.rows[0].reserved, 2);
	assert_int_equal(f->fk.rows[1].reserved, 1);

	/* the same order announced again (a new event): known, nothing more */
	omo_msg m;
	omo_order_line buf[8];
	accepted_msg(&m, &id, OMO_SHIP_TO_HOME, NULL, buf, lines);
	feed(f, &f->orders, &m);
	assert_int_equal(f->fk.n_calls, 2);
	assert_int_equal(f->g.n, 0);

	/* events about nothing it routes change nothing */
	omo_uuid stranger;
	omo_uuid_generate(&stranger);
	node_update(f, &stranger, 1, "DC-NJ", OMO_FF_REJECTED);
	assert_int_equal(f->fk.n_calls, 2);
	assert_int_equal(f->g.n, 0);
}

static void route_once(fx *f, const omo_uuid *id, omo_fulfillment_info *out, uint32_t *n)
{
	omo_msg m;
	omo_order_line buf[8];
	const char *lines[] = {"SKU-0001:2", "SKU-0002:1", "SKU-0003:4", NULL};
	fake_stock(&f->fk, "SKU-0001", "DC-NJ", 10);
	fake_stock(&f->fk, "SKU-0002", "ST-NYC", 5);
	fake_stock(&f->fk, "SKU-0003", "DC-TX", 9);
	fake_stock(&f->fk, "SKU-0003", "ST-NYC", 1);
	accepted_msg(&m, id, OMO_SHIP_TO_HOME, NULL, buf, lines);
	feed(f, &f->orders, &m);
	assert_true(f->g.n >= 1);
	assert_int_equal(f->g.m[0].type, OMO_MSG_ORDER_ROUTED);
	*n = f->g.m[0].body.order_routed.fulfillments_count;
	assert_true(*n <= 4);
	for (uint32_t i = 0; i < *n; i++)
		out[i] = f->g.m[0].body.order_routed.fulfillments[i];
	for (uint32_t i = 0; i < *n; i++)
		out[i].lines = NULL; /* they live in g */
}

static void test_fulfillment_ids_are_stable(void **state)
{
	fx *f = *state;
	static const char *const opts[] = {"retry_ms=250", NULL};
	omo_uuid id;
	omo_uuid_generate(&id);
	omo_fulfillment_info a[4], b[4];
	uint32_t na, nb;
	route_once(f, &id, a, &na);
	assert_true(na >= 2);

	/* the same inputs on a fresh store give the same parts and ids */
	fx *g = malloc(sizeof(*g));
	assert_non_null(g);
	fx_open(g, opts);
	route_once(g, &id, b, &nb);
	assert_int_equal(na, nb);
	for (uint32_t i = 0; i < na; i++) {
		assert_string_equal(a[i].node, b[i].node);
		assert_true(uuid_eq(&a[i].fulfillment_id, &b[i].fulfillment_id));
		omo_uuid want = fid_of(&id, 1, a[i].node);
		assert_true(uuid_eq(&a[i].fulfillment_id, &want));
	}
	/* both reserved the same lines under the same ids */
	assert_int_equal(f->fk.n_holds, g->fk.n_holds);
	for (int i = 0; i < f->fk.n_holds; i++) {
		assert_true(uuid_eq(&f->fk.holds[i].fid, &g->fk.holds[i].fid));
		assert_string_equal(f->fk.holds[i].sku, g->fk.holds[i].sku);
		assert_int_equal(f->fk.holds[i].qty, g->fk.holds[i].qty);
	}
	fx_close(g);
	free(g);

	/* ids: a pure function of (order, attempt, node), distinct across each,
	 * and well-formed RFC 9562 version 8 UUIDs */
	omo_uuid other;
	omo_uuid_generate(&other);
	omo_uuid x = fid_of(&id, 1, "DC-NJ");
	omo_uuid again = fid_of(&id, 1, "DC-NJ");
	omo_uuid y[] = {fid_of(&id, 2, "DC-NJ"), fid_of(&id, 1, "DC-TX"),
	                fid_of(&other, 1, "DC-NJ")};
	assert_true(uuid_eq(&x, &again));
	for (int i = 0; i < 3; i++) {
		assert_false(uuid_eq(&x, &y[i]));
		assert_int_equal(y[i].b[6] >> 4, 8);
		assert_int_equal(y[i].b[8] & 0xc0, 0x80);
	}
	assert_int_equal(x.b[6] >> 4, 8);
	assert_int_equal(x.b[8] & 0xc0, 0x80);
}

static void test_inventory_unavailable_retries_on_tick(void **state)
{
	fx *f = *state;
	fake_stock(&f->fk, "SKU-0001", "DC-NJ", 10);
	f->fk.query_unavailable = 1;
	const char *lines[] = {"SKU-0001:2", NULL};
	omo_uuid id = order_in(f, OMO_SHIP_TO_HOME, NULL, lines);
	/* one failed query, nothing said, a retry due retry_ms later */
	assert_int_equal(f->fk.n_calls, 1);
	assert_int_equal(f->fk.calls[0].result, OMO_E_UNAVAILABLE);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(f->next, NOW + RETRY_US);

	tick_at(f, NOW + RETRY_US - 1);
	assert_int_equal(f->fk.n_calls, 1);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(f->next, NOW + RETRY_US);

	tick_at(f, NOW + RETRY_US);
	assert_int_equal(f->fk.n_calls, 3);
	const char *skus[] = {"SKU-0001", NULL};
	assert_query(f, 1, skus);
	const want_part parts[] = {{"DC-NJ", OMO_NODE_WAREHOUSE, {{1, "SKU-0001", 2}}, 1}};
	assert_reserve(f, 2, &id, 1, parts, 1);
	assert_routed(f, &id, 1, OMO_SHIP_TO_HOME, parts, 1, 0);
	assert_int_equal(f->g.m[0].ts_us, NOW + RETRY_US);
	assert_int_equal(f->next, INT64_MAX);

	/* done: later ticks do nothing */
	tick_at(f, NOW + 10 * RETRY_US);
	assert_int_equal(f->fk.n_calls, 3);
	assert_int_equal(f->g.n, 0);

	/* a reserve that inventory does not answer is retried the same way */
	f->fk.reserve_fail = 1;
	f->fk.reserve_code = OMO_E_UNAVAILABLE;
	f->s.now = NOW + 20 * RETRY_US;
	omo_uuid id2 = order_in(f, OMO_SHIP_TO_HOME, NULL, lines);
	assert_int_equal(f->fk.n_calls, 5);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(f->next, NOW + 21 * RETRY_US);
	tick_at(f, NOW + 21 * RETRY_US);
	assert_int_equal(f->fk.n_calls, 7);
	assert_reserve(f, 6, &id2, 1, parts, 1);
	assert_routed(f, &id2, 1, OMO_SHIP_TO_HOME, parts, 1, 0);
}

static void test_out_of_stock_defers(void **state)
{
	fx *f = *state;
	fake_stock(&f->fk, "SKU-0001", "DC-NJ", 10);
	const char *lines[] = {"SKU-0001:2", NULL};
	const want_part parts[] = {{"DC-NJ", OMO_NODE_WAREHOUSE, {{1, "SKU-0001", 2}}, 1}};

	/* refused: nothing said, tried again retry_ms later with the same attempt */
	f->fk.reserve_fail = 1;
	f->fk.reserve_code = OMO_E_OUT_OF_STOCK;
	omo_uuid a = order_in(f, OMO_SHIP_TO_HOME, NULL, lines);
	assert_int_equal(f->fk.n_calls, 2);
	assert_int_equal(f->fk.calls[0].type, OMO_MSG_STOCK_QUERY);
	assert_int_equal(f->fk.calls[1].type, OMO_MSG_RESERVE_MANY);
	assert_int_equal(f->fk.calls[1].result, OMO_E_OUT_OF_STOCK);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(f->next, NOW + RETRY_US);

	/* refused again at the retry: deferred again */
	f->fk.reserve_fail = 1;
	tick_at(f, NOW + RETRY_US);
	assert_int_equal(f->fk.n_calls, 4);
	assert_int_equal(f->fk.calls[3].result, OMO_E_OUT_OF_STOCK);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(f->next, NOW + 2 * RETRY_US);

	tick_at(f, NOW + 2 * RETRY_US);
	assert_int_equal(f->fk.n_calls, 6);
	assert_reserve(f, 5, &a, 1, parts, 1); /* deferring used up no attempt */
	assert_routed(f, &a, 1, OMO_SHIP_TO_HOME, parts, 1, 0);
	assert_int_equal(f->next, INT64_MAX);
}

/* node_in_reserves tells whether node appears in any reserve from call 'from' on. */
static bool node_in_reserves(const fx *f, int from, const char *node)
{
	for (int c = from; c < f->fk.n_calls; c++)
		for (uint32_t i = 0; i < f->fk.calls[c].n_lines; i++)
			if (strcmp(f->fk.calls[c].lines[i].node, node) == 0)
				return true;
	return false;
}

static bool node_in_events(const fx *f, const char *node)
{
	for (size_t i = 0; i < f->g.n; i++) {
		const omo_msg *m = &f->g.m[i];
		if (m->type == OMO_MSG_FULFILLMENT_REQUESTED &&
		    strcmp(m->body.fulfillment_requested.node, node) == 0)
			return true;
		if (m->type == OMO_MSG_ORDER_ROUTED)
			for (uint32_t k = 0; k < m->body.order_routed.fulfillments_count; k++)
				if (strcmp(m->body.order_routed.fulfillments[k].node, node) == 0)
					return true;
	}
	return false;
}

static size_t count_requests(const fx *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->g.n; i++)
		n += f->g.m[i].type == OMO_MSG_FULFILLMENT_REQUESTED;
	return n;
}

/* ---- rule sets and decision records ------------------------------------ */

/* write_rules writes text to path with its mtime at t seconds, so a rewrite
 * inside one clock tick of the file system is still seen as a change. */
static void write_rules(const char *path, const char *text, time_t t)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	struct timespec times[2] = {{t, 0}, {t, 0}};
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static void explain(fx *f, const omo_uuid *id, omo_msg *r)
{
	omo_msg req;
	omo_msg_init(&req, OMO_MSG_EXPLAIN);
	req.body.explain.order_id = *id;
	tk_request(&f->s, &f->g, &req, r, NULL);
}

static const omo_decision_candidate *candidate(const omo_decision *d, const char *node)
{
	for (uint32_t i = 0; i < d->candidates_count; i++)
		if (strcmp(d->candidates[i].node, node) == 0)
			return &d->candidates[i];
	fail_msg("no candidate %s", node);
	return NULL;
}

static void test_rejection_resources_elsewhere(void **state)
{
	fx *f = *state;
	/* DC-NJ stays the nearest and best stocked throughout */
	fake_stock(&f->fk, "SKU-0001", "DC-NJ", 100);
	fake_stock(&f->fk, "SKU-0001", "DC-TX", 10);
	fake_stock(&f->fk, "SKU-0001", "DC-CA", 10);
	const char *lines[] = {"SKU-0001:2", NULL};
	omo_uuid id = order_in(f, OMO_SHIP_TO_HOME, NULL, lines);
	const want_part nj[] = {{"DC-NJ", OMO_NODE_WAREHOUSE, {{1, "SKU-0001", 2}}, 1}};
	const want_part tx[] = {{"DC-TX", OMO_NODE_WAREHOUSE, {{1, "SKU-0001", 2}}, 1}};
	const want_part ca[] = {{"DC-CA", OMO_NODE_WAREHOUSE, {{1, "SKU-0001", 2}}, 1}};
	assert_routed(f, &id, 1, OMO_SHIP_TO_HOME, nj, 1, 0);

	/* accepted: nothing to do */
	node_update(f, &id, 1, "DC-NJ", OMO_FF_ACCEPTED);
	assert_int_equal(f->fk.n_calls, 2);
	assert_int_equal(f->g.n, 0);

	/* DC-NJ declines: the line goes to the next best node, attempt 2 */
	int mark = f->fk.n_calls;
	node_update(f, &id, 1, "DC-NJ", OMO_FF_REJECTED);
	assert_int_equal(f->fk.n_calls, mark + 2);
	assert_reserve(f, mark + 1, &id, 2, tx, 1);
	assert_routed(f, &id, 2, OMO_SHIP_TO_HOME, tx, 1, 0);
	assert_false(node_in_reserves(f, mark, "DC-NJ"));

	/* the same rejection again (a new event) re-sources nothing */
	node_update(f, &id, 1, "DC-NJ", OMO_FF_REJECTED);
	assert_int_equal(f->fk.n_calls, mark + 2);
	assert_int_equal(f->g.n, 0);

	/* DC-TX declines too: DC-CA, attempt 3; neither DC-NJ nor DC-TX again */
	node_update(f, &id, 2, "DC-TX", OMO_FF_REJECTED);
	assert_int_equal(f->fk.n_calls, mark + 4);
	assert_reserve(f, mark + 3, &id, 3, ca, 1);
	assert_routed(f, &id, 3, OMO_SHIP_TO_HOME, ca, 1, 0);
	assert_false(node_in_reserves(f, mark, "DC-NJ"));
	assert_false(node_in_reserves(f, mark + 2, "DC-TX"));

	/* /metrics counts each node's declines once, the repeated event not again */
	omo_buf m = {0};
	assert_int_equal(omo_core_begin(f->s.core), OMO_E_OK);
	omo_core_metrics(f->s.core, &m);
	omo_core_abort(f->s.core);
	omo_buf_append(&m, "", 1);
	assert_non_null(strstr((char *)m.data,
	                       "omo_fulfillments_resourced_total{service=\"router\","
	                       "node=\"DC-NJ\"} 1\n"));
	assert_non_null(strstr((char *)m.data,
	                       "omo_fulfillments_resourced_total{service=\"router\","
	                       "node=\"DC-TX\"} 1\n"));
	omo_buf_fini(&m);

	/* the decision records say so: each rejected node excluded, by name */
	omo_msg r;
	explain(f, &id, &r);
	assert_int_equal(r.body.explanation.decisions_count, 3);
	const omo_decision *d = r.body.explanation.decisions;
	assert_int_equal(d[0].attempt, 1);
	assert_string_equal(candidate(&d[0], "DC-NJ")->reason, "included");
	assert_int_equal(d[0].excluded_count, 0);
	assert_int_equal(d[1].attempt, 2);
	assert_int_equal(d[1].excluded_count, 1);
	assert_string_equal(d[1].excluded[0].node, "DC-NJ");
	assert_string_equal(candidate(&d[1], "DC-NJ")->reason, "excluded_by_order");
	assert_string_equal(candidate(&d[1], "DC-TX")->reason, "included");
	assert_string_equal(d[1].plan[0].node, "DC-TX");
	assert_int_equal(d[2].excluded_count, 2);
	assert_string_equal(candidate(&d[2], "DC-NJ")->reason, "excluded_by_order");
	assert_string_equal(candidate(&d[2], "DC-TX")->reason, "excluded_by_order");
	assert_string_equal(candidate(&d[2], "DC-CA")->reason, "included");
	for (int i = 0; i < 3; i++)
		assert_string_equal(d[i].replay, "same plan");
	omo_msg_fini(&r);

	/* DC-CA declines: no node with stock is left; none excluded comes back */
	node_update(f, &id, 3, "DC-CA", OMO_FF_REJECTED);
	assert_false(node_in_reserves(f, mark, "DC-NJ"));
	assert_false(node_in_reserves(f, mark + 2, "DC-TX"));
	assert_false(node_in_reserves(f, mark + 4, "DC-CA"));
	assert_false(node_in_events(f, "DC-NJ"));
	assert_false(node_in_events(f, "DC-TX"));
	assert_false(node_in_events(f, "DC-CA"));
	assert_int_equal(count_requests(f), 0);
}

static void test_max_attempts_unroutable(void **state)
{
	fx *f = *state;
	fx_close(f);
	static const char *const opts[] = {"retry_ms=250", "max_declines=2", NULL};
	fx_open(f, opts);
	fake_stock(&f->fk, "SKU-0001", "DC-NJ", 100);
	fake_stock(&f->fk, "SKU-0001", "DC-TX", 10);
	fake_stock(&f->fk, "SKU-0001", "DC-CA", 10);
	const char *lines[] = {"SKU-0001:2", NULL};
	omo_uuid id = order_in(f, OMO_SHIP_TO_HOME, NULL, lines);
	const want_part tx[] = {{"DC-TX", OMO_NODE_WAREHOUSE, {{1, "SKU-0001", 2}}, 1}};
	node_update(f, &id, 1, "DC-NJ", OMO_FF_REJECTED);
	assert_routed(f, &id, 2, OMO_SHIP_TO_HOME, tx, 1, 0);
	int calls = f->fk.n_calls;

	/* the second rejection reaches max_declines: the order is unroutable */
	node_update(f, &id, 2, "DC-TX", OMO_FF_REJECTED);
	assert_int_equal(f->fk.n_calls, calls); /* inventory not even asked */
	assert_int_equal(f->g.n, 1);
	const omo_msg *m = &f->g.m[0];
	assert_int_equal(m->type, OMO_MSG_ORDER_UNROUTABLE);
	assert_string_equal(m->producer, "router");
	assert_memory_equal(m->corr.b, id.b, 16);
	assert_memory_equal(m->body.order_unroutable.order_id.b, id.b, 16);
	assert_true(strlen(m->body.order_unroutable.reason) > 0);
	assert_int_equal(f->next, INT64_MAX);

	/* and stays so: more news about it routes nothing */
	node_update(f, &id, 2, "DC-TX", OMO_FF_CANCELLED);
	tick_at(f, NOW + 100 * RETRY_US);
	assert_int_equal(f->fk.n_calls, calls);
	assert_int_equal(f->g.n, 0);
}

static void test_cancel_withdraws_open_parts(void **state)
{
	fx *f = *state;
	fake_stock(&f->fk, "SKU-0001", "DC-NJ", 10);
	fake_stock(&f->fk, "SKU-0002", "ST-NYC", 10);
	fake_stock(&f->fk, "SKU-0003", "DC-TX", 10);
	const char *lines[] = {"SKU-0001:1", "SKU-0002:1", "SKU-0003:1", NULL};
	omo_uuid id = order_in(f, OMO_SHIP_TO_HOME, NULL, lines);
	assert_int_equal(f->g.n, 4); /* three parts */
	node_update(f, &id, 1, "ST-NYC", OMO_FF_ACCEPTED);
	node_update(f, &id, 1, "DC-TX", OMO_FF_ACCEPTED);
	node_update(f, &id, 1, "DC-TX", OMO_FF_SHIPPED);
	assert_int_equal(f->g.n, 0);

	omo_msg m;
	omo_msg_init(&m, OMO_MSG_ORDER_CANCELLED);
	m.corr = id;
	m.body.order_cancelled.order_id = id;
	snprintf(m.body.order_cancelled.reason, 129, "customer changed mind");
	int calls = f->fk.n_calls;
	feed(f, &f->orders, &m);
	/* one empty reserve for the next attempt: frees any unannounced try's holds */
	assert_int_equal(f->fk.n_calls, calls + 1);
	assert_int_equal(f->fk.calls[calls].type, OMO_MSG_RESERVE_MANY);
	assert_int_equal(f->fk.calls[calls].n_lines, 0);
	assert_memory_equal(f->fk.calls[calls].order_id.b, id.b, 16);
	/* the requested and the accepted part are withdrawn; the shipped one is not */
	assert_int_equal(f->g.n, 2);
	bool nj = false, nyc = false;
	for (size_t i = 0; i < f->g.n; i++) {
		const omo_msg *e = &f->g.m[i];
		assert_int_equal(e->type, OMO_MSG_FULFILLMENT_CANCELLED);
		assert_memory_equal(e->corr.b, id.b, 16);
		const omo_fulfillment_cancelled *c = &e->body.fulfillment_cancelled;
		assert_memory_equal(c->order_id.b, id.b, 16);
		omo_uuid fid = fid_of(&id, 1, c->node);
		assert_true(uuid_eq(&c->fulfillment_id, &fid));
		nj |= strcmp(c->node, "DC-NJ") == 0;
		nyc |= strcmp(c->node, "ST-NYC") == 0;
	}
	assert_true(nj && nyc);

	/* a part declined after the cancellation is not sourced again */
	node_update(f, &id, 1, "ST-NYC", OMO_FF_REJECTED);
	assert_int_equal(f->fk.n_calls, calls + 1); /* only the release above */
	assert_int_equal(f->g.n, 0);

	/* cancelling an order it never saw is a no-op */
	omo_uuid_generate(&m.body.order_cancelled.order_id);
	feed(f, &f->orders, &m);
	assert_int_equal(f->g.n, 0);

	/* an order cancelled while its routing waits is never routed */
	f->fk.query_unavailable = 1;
	omo_uuid late = order_in(f, OMO_SHIP_TO_HOME, NULL, lines);
	assert_int_equal(f->g.n, 0);
	omo_msg_init(&m, OMO_MSG_ORDER_CANCELLED);
	m.body.order_cancelled.order_id = late;
	feed(f, &f->orders, &m);
	assert_int_equal(f->g.n, 0);
	calls = f->fk.n_calls;
	tick_at(f, NOW + RETRY_US);
	assert_int_equal(f->fk.n_calls, calls);
	assert_int_equal(f->g.n, 0);
}

static void test_pickup_uses_only_pickup_store(void **state)
{
	fx *f = *state;
	fake_stock(&f->fk, "SKU-0001", "ST-NYC", 1);
	fake_stock(&f->fk, "SKU-0001", "ST-BOS", 50);
	fake_stock(&f->fk, "SKU-0001", "ST-PHL", 50);
	fake_stock(&f->fk, "SKU-0001", "DC-NJ", 100);
	const char *one[] = {"SKU-0001:1", NULL};
	omo_uuid a = order_in(f, OMO_PICKUP_IN_STORE, "ST-NYC", one);
	const want_part nyc[] = {{"ST-NYC", OMO_NODE_STORE, {{1, "SKU-0001", 1}}, 1}};
	assert_reserve(f, 1, &a, 1, nyc, 1);
	assert_routed(f, &a, 1, OMO_PICKUP_IN_STORE, nyc, 1, 0);

	const char *two[] = {"SKU-0001:2", NULL};
	omo_uuid b = order_in(f, OMO_PICKUP_IN_STORE, "ST-BOS", two);
	const want_part bos[] = {{"ST-BOS", OMO_NODE_STORE, {{1, "SKU-0001", 2}}, 1}};
	assert_reserve(f, 3, &b, 1, bos, 1);
	assert_routed(f, &b, 1, OMO_PICKUP_IN_STORE, bos, 1, 0);

	/* the chosen store has none left: nothing is taken from anywhere else */
	int calls = f->fk.n_calls;
	omo_uuid c = order_in(f, OMO_PICKUP_IN_STORE, "ST-NYC", two);
	assert_false(node_in_reserves(f, calls, "DC-NJ"));
	assert_false(node_in_reserves(f, calls, "ST-BOS"));
	assert_false(node_in_reserves(f, calls, "ST-PHL"));
	assert_false(node_in_events(f, "DC-NJ"));
	assert_false(node_in_events(f, "ST-BOS"));
	assert_false(node_in_events(f, "ST-PHL"));
	assert_int_equal(f->fk.n_holds, 2);
	(void)c;
}

/*
 * inventory held the units but its answer was lost (a timeout: UNAVAILABLE).
 * The router tries again later; whatever it then plans, the units held for
 * the order must not exceed what was ordered (I3: allocated <= ordered), and
 * every hold must belong to a part it announced, or it is never released.
 */
static void test_lost_reserve_reply_leaks_no_hold(void **state)
{
	fx *f = *state;
	fake_stock(&f->fk, "SKU-0001", "DC-NJ", 2);
	fake_stock(&f->fk, "SKU-0001", "DC-TX", 10);
	f->fk.reserve_lost = 1;
	const char *lines[] = {"SKU-0001:2", NULL};
	omo_uuid id = order_in(f, OMO_SHIP_TO_HOME, NULL, lines);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(f->fk.n_holds, 1); /* DC-NJ's 2 units are held */
	tick_at(f, NOW + RETRY_US);
	assert_int_equal(f->g.n, 2);
	assert_int_equal(f->g.m[0].type, OMO_MSG_ORDER_ROUTED);
	const omo_order_routed *r = &f->g.m[0].body.order_routed;

	int64_t held = 0;
	for (int i = 0; i < f->fk.n_holds; i++) {
		const fake_hold *h = &f->fk.holds[i];
		bool announced = false;
		for (uint32_t k = 0; k < r->fulfillments_count; k++)
			announced |= uuid_eq(&r->fulfillments[k].fulfillment_id, &h->fid);
		if (!announced)
			fail_msg("%lld units of %s held at %s for a fulfilment the router never "
			         "announced (routed to %s): nothing will ever release them",
			         (long long)h->qty, h->sku, h->node, r->fulfillments[0].node);
		held += h->qty;
	}
	assert_int_equal(held, 2);
	(void)id;
}

static void test_rules_reload_and_explain(void **state)
{
	(void)state;
	static const char nearest[] = "name: nearest\nversion: 1\n"
	                              "strategies: [{name: near, filters: [capability],"
	                              " objective: {distance: 1}, max_splits: 2}]\n";
	static const char no_store[] = "name: nearest\nversion: 2\n"
	                               "strategies: [{name: cheap, filters: [capability],"
	                               " objective: {distance: 1, handling: 1}, max_splits: 2}]\n"
	                               "nodes: {ST-NYC: {handling_cost: 100000}}\n";
	char dir[64], path[128], opt[160], err[200];
	rt_rules v1, v2;
	omo_msg r;
	tk_mkdtemp(dir, sizeof(dir), "rules");
	snprintf(path, sizeof(path), "%s/rules.yaml", dir);
	write_rules(path, nearest, 1000);
	assert_int_equal(rt_rules_load(path, &v1, err, sizeof(err)), 0);
	snprintf(opt, sizeof(opt), "rules=%s", path);
	const char *const opts[] = {"retry_ms=250", opt, NULL};
	fx *f = malloc(sizeof(*f));
	assert_non_null(f);
	fx_open(f, opts);
	fake_stock(&f->fk, "SKU-0001", "DC-NJ", 10);
	fake_stock(&f->fk, "SKU-0001", "ST-NYC", 10);
	const char *lines[] = {"SKU-0001:2", NULL};

	/* rule set 1: the nearest node, the store, and a record that says so */
	omo_uuid first = order_in(f, OMO_SHIP_TO_HOME, NULL, lines);
	const want_part at_store[] = {{"ST-NYC", OMO_NODE_STORE, {{1, "SKU-0001", 2}}, 1}};
	assert_routed(f, &first, 1, OMO_SHIP_TO_HOME, at_store, 1, 0);
	explain(f, &first, &r);
	assert_int_equal(r.type, OMO_MSG_EXPLANATION);
	assert_int_equal(r.body.explanation.decisions_count, 1);
	const omo_decision *d = &r.body.explanation.decisions[0];
	assert_string_equal(d->rules_hash, v1.hash);
	assert_string_equal(d->rules_name, "nearest");
	assert_string_equal(d->strategy, "near");
	assert_string_equal(d->search, "exact");
	assert_int_equal(d->attempt, 1);
	assert_int_equal(strlen(d->input_digest), 64);
	assert_int_equal(d->plan_count, 1);
	assert_string_equal(d->plan[0].node, "ST-NYC");
	assert_int_equal(d->plan[0].quantity, 2);
	assert_string_equal(candidate(d, "ST-NYC")->reason, "included");
	assert_string_equal(candidate(d, "DC-NJ")->reason, "not_needed");
	assert_true(candidate(d, "DC-NJ")->score > candidate(d, "ST-NYC")->score);
	assert_string_equal(candidate(d, "DC-TX")->reason, "no_stock");
	assert_string_equal(d->replay, "same plan");
	omo_msg_fini(&r);

	/* rule set 2, written while running: the next order follows it */
	write_rules(path, no_store, 2000);
	assert_int_equal(rt_rules_load(path, &v2, err, sizeof(err)), 0);
	assert_string_not_equal(v1.hash, v2.hash);
	omo_uuid second = order_in(f, OMO_SHIP_TO_HOME, NULL, lines);
	const want_part at_dc[] = {{"DC-NJ", OMO_NODE_WAREHOUSE, {{1, "SKU-0001", 2}}, 1}};
	assert_routed(f, &second, 1, OMO_SHIP_TO_HOME, at_dc, 1, 0);
	explain(f, &second, &r);
	assert_string_equal(r.body.explanation.decisions[0].rules_hash, v2.hash);
	assert_string_equal(r.body.explanation.decisions[0].replay, "same plan");
	omo_msg_fini(&r);
	/* the first record keeps its hash; it cannot be re-run under other rules */
	explain(f, &first, &r);
	assert_string_equal(r.body.explanation.decisions[0].rules_hash, v1.hash);
	assert_string_equal(r.body.explanation.decisions[0].replay,
	                    "not re-run: the rule set has changed");
	omo_msg_fini(&r);

	/* a file that does not read changes nothing */
	write_rules(path, "name: broken\nversion: 3\nstrategies: [{name: x, filters: [fast]}]\n",
	            3000);
	omo_uuid third = order_in(f, OMO_SHIP_TO_HOME, NULL, lines);
	assert_routed(f, &third, 1, OMO_SHIP_TO_HOME, at_dc, 1, 0);
	explain(f, &third, &r);
	assert_string_equal(r.body.explanation.decisions[0].rules_hash, v2.hash);
	omo_msg_fini(&r);

	/* an order it never routed has no record */
	omo_uuid stranger;
	omo_uuid_generate(&stranger);
	explain(f, &stranger, &r);
	tk_assert_error(&r, "NOT_FOUND");
	omo_msg_fini(&r);

	rt_rules_fini(&v1);
	rt_rules_fini(&v2);
	fx_close(f);
	free(f);
	tk_rm_rf(dir);
}

/* count_type counts the events of type t the last batch published. */
static int count_type(const fx *f, omo_msg_type t)
{
	int n = 0;
	for (size_t i = 0; i < f->g.n; i++)
		n += f->g.m[i].type == t;
	return n;
}

static void test_unfillable_given_up(void **state)
{
	fx *f = *state;
	fx_close(f);
	static const char *const opts[] = {"retry_ms=250", "unfillable_after_ms=60000", NULL};
	fx_open(f, opts);
	fake_stock(&f->fk, "SKU-0001", "DC-NJ", 2);
	const char *none[] = {"SKU-0002:1", NULL}, *some[] = {"SKU-0001:5", NULL};
	omo_uuid lost = order_in(f, OMO_SHIP_TO_HOME, NULL, none);
	assert_int_equal(count_type(f, OMO_MSG_ORDER_ROUTED), 1); /* all of it back-ordered */
	assert_int_equal(f->g.m[0].body.order_routed.fulfillments_count, 0);
	assert_int_equal(f->g.m[0].body.order_routed.backordered_count, 1);
	f->s.now = NOW + 1000000; /* a second later: the fake inventory takes one order a batch */
	omo_uuid partial = order_in(f, OMO_SHIP_TO_HOME, NULL, some);
	assert_int_equal(f->g.m[0].body.order_routed.fulfillments_count, 1);
	assert_int_equal(f->g.m[0].body.order_routed.backordered[0].quantity, 3);

	/* 30 s on: both still wait for supply */
	tick_at(f, NOW + 30000000);
	assert_int_equal(count_type(f, OMO_MSG_ORDER_ROUTED), 1);
	tick_at(f, NOW + 31000000);
	assert_int_equal(count_type(f, OMO_MSG_ORDER_ROUTED), 1);
	/* 60 s on: the order nothing could fill is given up ... */
	tick_at(f, NOW + 60000000);
	assert_int_equal(f->g.n, 1);
	assert_int_equal(f->g.m[0].type, OMO_MSG_ORDER_UNROUTABLE);
	assert_memory_equal(f->g.m[0].body.order_unroutable.order_id.b, lost.b, 16);
	assert_string_equal(f->g.m[0].body.order_unroutable.reason,
	                    "no node could fill the order in time");
	/* ... the one partly filled waits on for the rest */
	tick_at(f, NOW + 61000000);
	assert_int_equal(count_type(f, OMO_MSG_ORDER_UNROUTABLE), 0);
	assert_int_equal(count_type(f, OMO_MSG_ORDER_ROUTED), 1);
	assert_memory_equal(f->g.m[0].body.order_routed.order_id.b, partial.b, 16);
	/* given up once: later ticks say nothing more of it */
	tick_at(f, NOW + 90000000);
	assert_int_equal(count_type(f, OMO_MSG_ORDER_UNROUTABLE), 0);
	tick_at(f, NOW + 91000000);
	assert_int_equal(count_type(f, OMO_MSG_ORDER_UNROUTABLE), 0);
}

static void promise_req(omo_msg *req, omo_promise_item *items, const char *const *want)
{
	omo_msg_init(req, OMO_MSG_PROMISE);
	req->body.promise.channel = OMO_CHANNEL_WEB;
	req->body.promise.fulfillment = OMO_SHIP_TO_HOME;
	req->body.promise.ship_to = new_york;
	uint32_t n = 0;
	for (; want[n] != NULL; n++) {
		const char *colon = strchr(want[n], ':');
		snprintf(items[n].sku, sizeof(items[n].sku), "%.*s", (int)(colon - want[n]),
		         want[n]);
		items[n].quantity = atoi(colon + 1);
	}
	req->body.promise.items = items;
	req->body.promise.items_count = n;
}

static void test_promise_per_sku(void **state)
{
	fx *f = *state;
	fake_stock(&f->fk, "SKU-0001", "ST-NYC", 5);
	fake_stock(&f->fk, "SKU-0001", "DC-NJ", 10);
	fake_stock(&f->fk, "SKU-0002", "DC-TX", 3);
	omo_promise_item items[3];
	omo_msg req, r;
	const char *want[] = {"SKU-0001:2", "SKU-0002:5", "SKU-0003:1", NULL};
	promise_req(&req, items, want);
	tk_request(&f->s, &f->g, &req, &r, NULL);
	assert_int_equal(r.type, OMO_MSG_PROMISE_REPLY);
	const omo_promise_reply *p = &r.body.promise_reply;
	assert_int_equal(strlen(p->rules_hash), 64);
	assert_int_equal(p->rows_count, 3);
	/* the nearby store: a day to pick, zone 1 overnight (NOW is day 20454) */
	assert_string_equal(p->rows[0].sku, "SKU-0001");
	assert_int_equal(p->rows[0].available, 2);
	assert_string_equal(p->rows[0].node, "ST-NYC");
	assert_int_equal(p->rows[0].nodes, 1);
	assert_int_equal(p->rows[0].promise_day, 20456);
	/* 3 of 5 in Dallas, five days away in zone 4 */
	assert_int_equal(p->rows[1].quantity, 5);
	assert_int_equal(p->rows[1].available, 3);
	assert_string_equal(p->rows[1].node, "DC-TX");
	assert_int_equal(p->rows[1].promise_day, 20459);
	/* none anywhere */
	assert_int_equal(p->rows[2].available, 0);
	assert_string_equal(p->rows[2].node, "");
	assert_int_equal(p->rows[2].promise_day, 0);
	omo_msg_fini(&r);
	/* one stock query for all of it; nothing held, nothing published */
	assert_int_equal(f->fk.n_calls, 1);
	assert_int_equal(f->fk.calls[0].type, OMO_MSG_STOCK_QUERY);
	assert_int_equal(f->fk.calls[0].n_skus, 3);
	assert_int_equal(f->g.n, 0);

	/* a pick-up store that is not in the network is refused by name */
	promise_req(&req, items, want);
	req.body.promise.fulfillment = OMO_PICKUP_IN_STORE;
	strcpy(req.body.promise.pickup_node, "ST-NOWHERE");
	tk_request(&f->s, &f->g, &req, &r, NULL);
	tk_assert_error(&r, "UNKNOWN_NODE");
	omo_msg_fini(&r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_routes_split_order),
	    T(test_fulfillment_ids_are_stable),
	    T(test_inventory_unavailable_retries_on_tick),
	    T(test_out_of_stock_defers),
	    T(test_rejection_resources_elsewhere),
	    T(test_max_attempts_unroutable),
	    T(test_cancel_withdraws_open_parts),
	    T(test_pickup_uses_only_pickup_store),
	    T(test_lost_reserve_reply_leaks_no_hold),
	    T(test_unfillable_given_up),
	    T(test_promise_per_sku),
	    cmocka_unit_test(test_rules_reload_and_explain),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
