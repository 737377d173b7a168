/*
 * router.c - the router service's handlers.
 *
 * orders: order id -> route_state (lines, what is still to source, parts, exclusions)
 * retry:  be64(retry time) + order id -> "" for orders to route again later
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum { T_ORDERS, T_RETRY };
static const char *const router_tables[] = {"orders", "retry"};

#define RESERVE_TRIES 3

static void app_fini(void *a)
{
	router_app *app = a;
	omo_catalog_fini(&app->catalog);
	free(app->nodes);
}

static int app_init(void *a, const void *c, char *err, size_t errlen)
{
	router_app *app = a;
	const router_config *cfg = c;
	if (omo_catalog_load(&app->catalog, cfg->network_dir, err, errlen) != 0)
		return -1;
	app->nodes = calloc(app->catalog.n_nodes ? app->catalog.n_nodes : 1, sizeof(rt_node));
	if (app->nodes == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < app->catalog.n_nodes; i++) {
		const omo_node_info *n = &app->catalog.nodes[i];
		rt_node *r = &app->nodes[i];
		snprintf(r->id, sizeof(r->id), "%s", n->id);
		r->type = n->type == OMO_NODE_MANUFACTURER ? RT_MANUFACTURER
		          : n->type == OMO_NODE_WAREHOUSE  ? RT_WAREHOUSE
		                                           : RT_STORE;
		r->caps = n->caps;
		r->lat_udeg = n->lat_udeg;
		r->lon_udeg = n->lon_udeg;
		r->online = true;
	}
	app->max_splits = cfg->max_splits > 0 ? (uint32_t)cfg->max_splits : 0;
	app->line_split = cfg->line_split != 0;
	app->max_declines = cfg->max_declines;
	app->retry_us = cfg->retry_ms * 1000;
	app->backorder_retry_us = cfg->backorder_retry_ms * 1000;
	return 0;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

void router_fulfillment_id(const omo_uuid *order, int64_t attempt, const char *node, omo_uuid *out)
{
	uint64_t h1 = 1469598103934665603ull, h2 = 0x9e3779b97f4a7c15ull;
	h1 = fnv(fnv(fnv(h1, order->b, 16), &attempt, sizeof(attempt)), node, strlen(node));
	h2 = fnv(fnv(fnv(h2, node, strlen(node)), &attempt, sizeof(attempt)), order->b, 16);
	omo_be64_put(out->b, h1);
	omo_be64_put(out->b + 8, h2);
	out->b[6] =
	    (uint8_t)((out->b[6] & 0x0f) | 0x80); /* UUID version 8: made by the application */
	out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80); /* RFC 9562 variant */
}

/* ---- state ------------------------------------------------------------ */

static omo_err load(omo_ctx *ctx, const omo_uuid *id, omo_route_state *s, omo_arena *a)
{
	return omo_get_rec(ctx->txn, T_ORDERS, id->b, 16, &omo_rec_route_state, s, a);
}

static omo_err save(omo_ctx *ctx, const omo_route_state *s)
{
	return omo_put_rec(ctx->txn, T_ORDERS, s->order_id.b, 16, &omo_rec_route_state, s);
}

/* schedule_retry makes at the one time s is routed again. */
static omo_err schedule_retry(omo_ctx *ctx, omo_route_state *s, int64_t at)
{
	omo_err e = OMO_E_OK;
	if (s->retry_at_us != 0)
		e = omo_timer_clear(ctx->txn, T_RETRY, s->retry_at_us, &s->order_id);
	s->retry_at_us = at;
	return e == OMO_E_OK ? omo_timer_set(ctx->txn, T_RETRY, at, &s->order_id) : e;
}

/* ---- routing one order ---------------------------------------------------- */

/* A routing in progress: the snapshot routing sees, and what came of it. */
typedef struct routing {
	rt_line lines[RT_MAX_LINES];
	int64_t *available; /* [line][node] */
	uint8_t *excluded;  /* [node] */
	rt_candidate *cands;
	rt_plan plan;
} routing;

static omo_err snapshot(omo_ctx *ctx, const router_app *app, const omo_route_state *s, routing *r,
                        omo_error_detail *d)
{
	uint32_t nn = app->catalog.n_nodes, nl = s->pending_count;
	omo_msg req, reply;
	omo_sku_ref skus[RT_MAX_LINES];

	omo_msg_init(&req, OMO_MSG_STOCK_QUERY);
	omo_uuid_generate(&req.id);
	for (uint32_t l = 0; l < nl; l++)
		memcpy(skus[l].sku, s->pending[l].sku, sizeof(skus[l].sku));
	req.body.stock_query.skus = skus;
	req.body.stock_query.skus_count = nl;
	omo_err e = omo_ctx_call(ctx, "inventory", &req, &reply, d);
	if (e == OMO_E_OK) {
		memset(r->available, 0, (size_t)nl * nn * sizeof(int64_t));
		const omo_stock_reply *sr = &reply.body.stock_reply;
		for (uint32_t i = 0; i < sr->rows_count; i++) {
			int n = omo_catalog_node_index(&app->catalog, sr->rows[i].node);
			for (uint32_t l = 0; n >= 0 && l < nl; l++)
				if (strcmp(s->pending[l].sku, sr->rows[i].sku) == 0)
					r->available[(size_t)l * nn + (uint32_t)n] =
					    sr->rows[i].available;
		}
	}
	omo_msg_fini(&reply);
	return e;
}

/* plan_parts turns the plan into parts (one per node, in order of first
 * use) with their lines contiguous in lines_buf, and what stays short. */
static void plan_parts(const router_app *app, const omo_route_state *s, const routing *r,
                       int64_t attempt, omo_fulfillment_info *parts, uint32_t *n_parts,
                       omo_alloc_line *lines_buf, omo_alloc_line *short_lines, uint32_t *n_short)
{
	uint32_t used = 0;
	*n_parts = 0;
	for (uint32_t i = 0; i < r->plan.n_allocs; i++) {
		uint32_t node = r->plan.allocs[i].node;
		bool seen = false;
		for (uint32_t j = 0; j < i && !seen; j++)
			seen = r->plan.allocs[j].node == node;
		if (seen)
			continue;
		const omo_node_info *info = &app->catalog.nodes[node];
		omo_fulfillment_info *p = &parts[(*n_parts)++];
		memset(p, 0, sizeof(*p));
		snprintf(p->node, sizeof(p->node), "%s", info->id);
		p->node_type = info->type;
		p->status = OMO_FF_REQUESTED;
		router_fulfillment_id(&s->order_id, attempt, info->id, &p->fulfillment_id);
		p->lines = lines_buf + used;
		for (uint32_t j = i; j < r->plan.n_allocs; j++) {
			const rt_alloc *a = &r->plan.allocs[j];
			if (a->node != node)
				continue;
			omo_alloc_line *dst = &lines_buf[used++];
			dst->line_no = s->pending[a->line].line_no;
			memcpy(dst->sku, s->pending[a->line].sku, sizeof(dst->sku));
			dst->quantity = a->quantity;
			p->lines_count++;
		}
	}
	*n_short = 0;
	for (uint32_t l = 0; l < s->pending_count; l++)
		if (r->plan.short_qty[l] > 0) {
			short_lines[*n_short] = s->pending[l];
			short_lines[(*n_short)++].quantity = r->plan.short_qty[l];
		}
}

static omo_err reserve_parts(omo_ctx *ctx, const omo_route_state *s,
                             const omo_fulfillment_info *parts, uint32_t n_parts,
                             omo_error_detail *d)
{
	omo_reserve_line lines[RT_MAX_ALLOCS];
	uint32_t n = 0;
	omo_msg req, reply;
	for (uint32_t i = 0; i < n_parts; i++)
		for (uint32_t j = 0; j < parts[i].lines_count; j++, n++) {
			lines[n].fulfillment_id = parts[i].fulfillment_id;
			memcpy(lines[n].sku, parts[i].lines[j].sku, sizeof(lines[n].sku));
			memcpy(lines[n].node, parts[i].node, sizeof(lines[n].node));
			lines[n].quantity = parts[i].lines[j].quantity;
		}
	/* Sent even with no lines: it releases what an earlier try of this
	 * attempt may hold. */
	omo_msg_init(&req, OMO_MSG_RESERVE);
	omo_uuid_generate(&req.id);
	req.body.reserve.order_id = s->order_id;
	req.body.reserve.attempt = s->attempt + 1;
	req.body.reserve.lines = lines;
	req.body.reserve.lines_count = n;
	omo_err e = omo_ctx_call(ctx, "inventory", &req, &reply, d);
	omo_msg_fini(&reply);
	return e;
}

static omo_err emit_unroutable(omo_ctx *ctx, const omo_route_state *s, const char *why)
{
	omo_msg ev;
	omo_msg_init(&ev, OMO_MSG_ORDER_UNROUTABLE);
	ev.corr = s->order_id;
	ev.body.order_unroutable.order_id = s->order_id;
	snprintf(ev.body.order_unroutable.reason, sizeof(ev.body.order_unroutable.reason), "%s",
	         why);
	return omo_emit(ctx, &ev);
}

static omo_err emit_routed(omo_ctx *ctx, omo_route_state *s, omo_fulfillment_info *parts,
                           uint32_t n_parts, omo_alloc_line *short_lines, uint32_t n_short)
{
	omo_msg ev;
	omo_err e;
	omo_msg_init(&ev, OMO_MSG_ORDER_ROUTED);
	ev.corr = s->order_id;
	ev.body.order_routed.order_id = s->order_id;
	ev.body.order_routed.attempt = s->attempt;
	ev.body.order_routed.fulfillments = parts;
	ev.body.order_routed.fulfillments_count = n_parts;
	ev.body.order_routed.backordered = short_lines;
	ev.body.order_routed.backordered_count = n_short;
	if ((e = omo_emit(ctx, &ev)) != OMO_E_OK)
		return e;
	for (uint32_t i = 0; i < n_parts; i++) {
		omo_msg fr;
		omo_msg_init(&fr, OMO_MSG_FULFILLMENT_REQUESTED);
		fr.corr = s->order_id;
		omo_fulfillment_requested *b = &fr.body.fulfillment_requested;
		b->fulfillment_id = parts[i].fulfillment_id;
		b->order_id = s->order_id;
		memcpy(b->node, parts[i].node, sizeof(b->node));
		b->fulfillment = s->fulfillment;
		b->ship_to = s->ship_to;
		b->lines = parts[i].lines;
		b->lines_count = parts[i].lines_count;
		if ((e = omo_emit(ctx, &fr)) != OMO_E_OK)
			return e;
	}
	return OMO_E_OK;
}

/*
 * route sources s->pending: snapshot, plan, reserve (retrying if another
 * order took the stock meanwhile), then announce. s is saved by the caller.
 */
static omo_err route(omo_ctx *ctx, omo_route_state *s, omo_arena *a)
{
	const router_app *app = ctx->app;
	uint32_t nn = app->catalog.n_nodes, nl = s->pending_count;
	omo_error_detail d = {0};
	omo_err e = OMO_E_OK;

	if (nl == 0 || s->cancelled)
		return OMO_E_OK;
	if (s->rejections >= app->max_declines) {
		s->pending_count = 0;
		return emit_unroutable(ctx, s, "every node asked has declined");
	}
	routing *r = calloc(1, sizeof(*r));
	omo_fulfillment_info *parts = omo_arena_alloc(a, RT_MAX_ALLOCS * sizeof(*parts));
	omo_alloc_line *lines = omo_arena_alloc(a, RT_MAX_ALLOCS * sizeof(*lines));
	omo_alloc_line *short_lines = omo_arena_alloc(a, RT_MAX_LINES * sizeof(*short_lines));
	if (r == NULL || parts == NULL || lines == NULL || short_lines == NULL ||
	    (r->available = calloc((size_t)nl * nn + 1, sizeof(int64_t))) == NULL ||
	    (r->excluded = calloc(nn + 1, 1)) == NULL ||
	    (r->cands = calloc(nn + 1, sizeof(rt_candidate))) == NULL) {
		e = OMO_E_NOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < s->excluded_count; i++) {
		int n = omo_catalog_node_index(&app->catalog, s->excluded[i].node);
		if (n >= 0)
			r->excluded[n] = 1;
	}
	for (uint32_t l = 0; l < nl; l++)
		r->lines[l] = (rt_line){.line_no = (uint32_t)s->pending[l].line_no,
		                        .quantity = s->pending[l].quantity};
	rt_request req = {
	    .lines = r->lines,
	    .n_lines = nl,
	    .nodes = app->nodes,
	    .n_nodes = nn,
	    .available = r->available,
	    .excluded = r->excluded,
	    .fulfillment =
	        s->fulfillment == OMO_PICKUP_IN_STORE ? RT_PICKUP_IN_STORE : RT_SHIP_TO_HOME,
	    .ship_lat_udeg = s->ship_to.lat_udeg,
	    .ship_lon_udeg = s->ship_to.lon_udeg,
	    .pickup_node = s->fulfillment == OMO_PICKUP_IN_STORE
	                       ? omo_catalog_node_index(&app->catalog, s->pickup_node)
	                       : -1,
	    .max_splits = app->max_splits,
	    .allow_line_split = app->line_split,
	};
	uint32_t n_parts = 0, n_short = 0;
	for (int tries = 0;; tries++) {
		if ((e = snapshot(ctx, app, s, r, &d)) != OMO_E_OK)
			break;
		if (rt_route(&req, &r->plan, r->cands) != RT_OK) {
			e = OMO_E_INTERNAL;
			break;
		}
		plan_parts(app, s, r, s->attempt + 1, parts, &n_parts, lines, short_lines,
		           &n_short);
		e = reserve_parts(ctx, s, parts, n_parts, &d);
		if (e != OMO_E_OUT_OF_STOCK || tries + 1 == RESERVE_TRIES)
			break;
		OMO_DEBUG("reserve_raced", "detail=\"%s\"",
		          d.text); /* someone took it: look again */
	}
	if (e == OMO_E_UNAVAILABLE || e == OMO_E_OUT_OF_STOCK) {
		OMO_WARN("route_deferred", "code=%s detail=\"%s\"", omo_err_name(e), d.text);
		e = schedule_retry(ctx, s, ctx->now_us + app->retry_us);
		goto out;
	}
	if (e != OMO_E_OK)
		goto out;
	s->attempt++;
	for (uint32_t i = 0; i < n_parts; i++) {
		omo_fulfillment_info *p =
		    omo_arena_grow(a, s->parts, s->parts_count, 1, sizeof(*p));
		if (p == NULL) {
			e = OMO_E_NOMEM;
			goto out;
		}
		p[s->parts_count++] = parts[i];
		s->parts = p;
	}
	s->pending = short_lines;
	s->pending_count = n_short;
	if ((e = emit_routed(ctx, s, parts, n_parts, short_lines, n_short)) == OMO_E_OK &&
	    n_short > 0)
		e = schedule_retry(ctx, s, ctx->now_us + app->backorder_retry_us);
out:
	if (r != NULL) {
		free(r->available);
		free(r->excluded);
		free(r->cands);
		free(r);
	}
	return e;
}

/* ---- events ----------------------------------------------------------- */

static omo_err on_accepted(omo_ctx *ctx, const omo_order_accepted *o)
{
	omo_route_state s;
	omo_arena a = {0};
	omo_err e;
	if (load(ctx, &o->order_id, &s, &a) == OMO_E_OK) {
		omo_arena_fini(&a);
		return OMO_E_OK; /* known already */
	}
	memset(&s, 0, sizeof(s));
	s.order_id = o->order_id;
	s.fulfillment = o->fulfillment;
	memcpy(s.pickup_node, o->pickup_node, sizeof(s.pickup_node));
	s.ship_to = o->ship_to;
	s.lines = o->lines;
	s.lines_count = o->lines_count;
	s.pending = omo_arena_alloc(&a, o->lines_count * sizeof(*s.pending));
	if (s.pending == NULL) {
		omo_arena_fini(&a);
		return OMO_E_NOMEM;
	}
	for (uint32_t i = 0; i < o->lines_count; i++) {
		s.pending[i].line_no = o->lines[i].line_no;
		memcpy(s.pending[i].sku, o->lines[i].sku, sizeof(s.pending[i].sku));
		s.pending[i].quantity = o->lines[i].quantity;
	}
	s.pending_count = o->lines_count;
	if ((e = route(ctx, &s, &a)) == OMO_E_OK)
		e = save(ctx, &s);
	omo_arena_fini(&a);
	return e;
}

static omo_err on_cancelled(omo_ctx *ctx, const omo_order_cancelled *c)
{
	omo_route_state s;
	omo_arena a = {0};
	omo_err e = load(ctx, &c->order_id, &s, &a);
	if (e != OMO_E_OK) {
		omo_arena_fini(&a);
		return e == OMO_E_NOT_FOUND ? OMO_E_OK : e;
	}
	s.cancelled = true;
	s.pending_count = 0;
	for (uint32_t i = 0; i < s.parts_count && e == OMO_E_OK; i++) {
		omo_fulfillment_info *p = &s.parts[i];
		if (p->status != OMO_FF_REQUESTED && p->status != OMO_FF_ACCEPTED)
			continue;
		omo_msg ev;
		omo_msg_init(&ev, OMO_MSG_FULFILLMENT_CANCELLED);
		ev.corr = s.order_id;
		ev.body.fulfillment_cancelled.fulfillment_id = p->fulfillment_id;
		ev.body.fulfillment_cancelled.order_id = s.order_id;
		memcpy(ev.body.fulfillment_cancelled.node, p->node, sizeof(p->node));
		e = omo_emit(ctx, &ev);
	}
	if (e == OMO_E_OK)
		e = save(ctx, &s);
	omo_arena_fini(&a);
	return e;
}

static omo_err add_excluded(omo_route_state *s, omo_arena *a, const char *node)
{
	omo_node_ref *x = omo_arena_grow(a, s->excluded, s->excluded_count, 1, sizeof(*x));
	if (x == NULL)
		return OMO_E_NOMEM;
	snprintf(x[s->excluded_count].node, sizeof(x->node), "%s", node);
	s->excluded = x;
	s->excluded_count++;
	return OMO_E_OK;
}

/* add_pending puts a part's lines back among those still to source. */
static omo_err add_pending(omo_route_state *s, omo_arena *a, const omo_fulfillment_info *p)
{
	omo_alloc_line *x =
	    omo_arena_grow(a, s->pending, s->pending_count, p->lines_count, sizeof(*x));
	if (x == NULL)
		return OMO_E_NOMEM;
	for (uint32_t i = 0; i < p->lines_count; i++) {
		uint32_t j;
		for (j = 0; j < s->pending_count; j++)
			if (x[j].line_no == p->lines[i].line_no)
				break;
		if (j < s->pending_count)
			x[j].quantity += p->lines[i].quantity;
		else
			x[s->pending_count++] = p->lines[i];
	}
	s->pending = x;
	return OMO_E_OK;
}

static omo_err on_update(omo_ctx *ctx, const omo_fulfillment_update *u)
{
	omo_route_state s;
	omo_arena a = {0};
	omo_err e = load(ctx, &u->order_id, &s, &a);
	omo_fulfillment_info *p = NULL;
	for (uint32_t i = 0; e == OMO_E_OK && i < s.parts_count && p == NULL; i++)
		if (memcmp(&s.parts[i].fulfillment_id, &u->fulfillment_id, 16) == 0)
			p = &s.parts[i];
	if (e == OMO_E_OK && p != NULL && p->status != u->status) {
		bool rejected = u->status == OMO_FF_REJECTED && p->status != OMO_FF_REJECTED;
		p->status = u->status;
		if (rejected) {
			OMO_INFO("fulfillment_rejected", "node=%s detail=\"%s\"", u->node,
			         u->detail);
			s.rejections++;
			if ((e = add_excluded(&s, &a, u->node)) == OMO_E_OK &&
			    (e = add_pending(&s, &a, p)) == OMO_E_OK)
				e = route(ctx, &s, &a);
		}
		if (e == OMO_E_OK)
			e = save(ctx, &s);
	}
	omo_arena_fini(&a);
	return e == OMO_E_NOT_FOUND ? OMO_E_OK : e;
}

static omo_err on_event(omo_ctx *ctx, const omo_msg *ev, omo_error_detail *d)
{
	omo_err e = OMO_E_OK;
	switch (ev->type) {
	case OMO_MSG_ORDER_ACCEPTED: e = on_accepted(ctx, &ev->body.order_accepted); break;
	case OMO_MSG_ORDER_CANCELLED: e = on_cancelled(ctx, &ev->body.order_cancelled); break;
	case OMO_MSG_FULFILLMENT_UPDATE: e = on_update(ctx, &ev->body.fulfillment_update); break;
	default: break;
	}
	return e == OMO_E_OK ? e : omo_fail(d, e, "%s not applied", omo_msg_name(ev->type));
}

/* ---- retries ---------------------------------------------------------- */

#define TICK_MAX 64 /* orders routed again per tick; the rest stay due */

static omo_err on_tick(omo_ctx *ctx, int64_t *next_us)
{
	omo_uuid due[TICK_MAX];
	int n = omo_timer_take(ctx->txn, T_RETRY, ctx->now_us, due, TICK_MAX);
	omo_err e = n < 0 ? OMO_E_IO : OMO_E_OK;
	for (int i = 0; i < n && e == OMO_E_OK; i++) {
		omo_route_state s;
		omo_arena a = {0};
		if (load(ctx, &due[i], &s, &a) == OMO_E_OK) {
			s.retry_at_us = 0;
			if ((e = route(ctx, &s, &a)) == OMO_E_OK)
				e = save(ctx, &s);
		}
		omo_arena_fini(&a);
	}
	*next_us = omo_timer_next(ctx->txn, T_RETRY); /* retries just scheduled included */
	return e;
}

static const omo_handlers handlers = {
    .name = "router",
    .tables = router_tables,
    .n_tables = 2,
    .on_event = on_event,
    .on_tick = on_tick,
};
static const omo_option options[] = {ROUTER_OPTIONS(OMO_CONFIG_ROW, router_config)};
static const char *const follows[] = {"orders", "node-manufacturer", "node-warehouse",
                                      "node-store"};
static const char *const calls[] = {"inventory"};

const omo_service_def router_service = {
    .handlers = &handlers,
    .follows = follows,
    .n_follows = 4,
    .calls = calls,
    .n_calls = 1,
    .options = options,
    .n_options = sizeof(options) / sizeof(options[0]),
    .config_size = sizeof(router_config),
    .app_size = sizeof(router_app),
    .app_init = app_init,
    .app_fini = app_fini,
};
