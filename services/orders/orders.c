/*
 * orders.c - the orders service's handlers (no sockets, no LMDB calls of
 * their own: state goes through the store wrapper in ctx->txn).
 */
#include "orders.h"

#include <stdio.h>
#include <string.h>

/*
 * early: node updates that arrived before the router's order_routed that
 * announced their part (two producers, two streams, no order between them),
 * keyed by fulfilment id + status, applied when the part appears.
 */
enum { T_ORDERS, T_KEYS, T_EARLY };
static const char *const orders_tables[] = {"orders", "keys", "early"};

/* ---- state helpers ---------------------------------------------------- */

static omo_err load_order(omo_ctx *ctx, const omo_uuid *id, omo_order_view *o, omo_arena *a)
{
	return omo_get_rec(ctx->txn, T_ORDERS, id->b, 16, &omo_rec_order_view, o, a);
}

static omo_err save_order(omo_ctx *ctx, const omo_order_view *o)
{
	return omo_put_rec(ctx->txn, T_ORDERS, o->order_id.b, 16, &omo_rec_order_view, o);
}

/* grow_list makes room for one more item at the end of a list held in arena a. */
static void *grow_list(omo_arena *a, void **items, uint32_t *count, size_t size)
{
	char *p = omo_arena_grow(a, *items, *count, 1, size);
	if (p == NULL)
		return NULL;
	*items = p;
	return p + (size_t)(*count)++ * size;
}

static void add_history(omo_order_view *o, omo_arena *a, int64_t ts, const char *event,
                        const char *node, const char *detail)
{
	if (o->history_count >= 400)
		return; /* the schema's bound; the event stream keeps the full story */
	omo_history_entry *h =
	    grow_list(a, (void **)&o->history, &o->history_count, sizeof(*o->history));
	if (h == NULL)
		return;
	h->ts_us = ts;
	snprintf(h->event, sizeof(h->event), "%s", event);
	snprintf(h->node, sizeof(h->node), "%s", node ? node : "");
	snprintf(h->detail, sizeof(h->detail), "%s", detail ? detail : "");
}

omo_order_status orders_derive_status(const omo_order_view *o)
{
	uint32_t live = 0, done = 0, moving = 0, ready = 0;
	if (o->status == OMO_ORDER_CANCELLED || o->status == OMO_ORDER_REJECTED)
		return o->status;
	for (uint32_t i = 0; i < o->fulfillments_count; i++) {
		switch (o->fulfillments[i].status) {
		case OMO_FF_REJECTED:
		case OMO_FF_CANCELLED:
			continue; /* replaced by a later part, or gone with the order */
		case OMO_FF_DELIVERED:
		case OMO_FF_PICKED_UP: done++; break;
		case OMO_FF_SHIPPED: moving++; break;
		case OMO_FF_READY_FOR_PICKUP: ready++; break;
		default: break;
		}
		live++;
	}
	if (o->backordered_count > 0)
		return OMO_ORDER_BACKORDERED;
	if (live == 0)
		return OMO_ORDER_ACCEPTED;
	if (done == live)
		return OMO_ORDER_COMPLETED;
	if (done + moving + ready == live)
		return ready > 0 ? OMO_ORDER_READY_FOR_PICKUP : OMO_ORDER_SHIPPED;
	return OMO_ORDER_ROUTED;
}

enum { STAT_ORDERS };
static const omo_stat_def stats[] = {
    [STAT_ORDERS] = {"orders", "gauge", "state", "Orders by state."},
};

static omo_err count_state(omo_ctx *ctx, omo_order_status s, int64_t delta)
{
	return omo_stat_add(ctx, STAT_ORDERS, omo_enum_name(&omo_enum_order_status, (int)s), delta);
}

/* set_status re-derives o's status and, if it changed, says so on the bus. */
static omo_err set_status(omo_ctx *ctx, omo_order_view *o, omo_order_status forced, bool force)
{
	omo_order_status s = force ? forced : orders_derive_status(o);
	if (s == o->status)
		return OMO_E_OK;
	omo_err e = count_state(ctx, o->status, -1);
	if (e == OMO_E_OK)
		e = count_state(ctx, s, +1);
	if (e != OMO_E_OK)
		return e;
	o->status = s;
	omo_msg ev;
	omo_msg_init(&ev, OMO_MSG_ORDER_STATUS_CHANGED);
	ev.corr = o->order_id;
	ev.body.order_status_changed.order_id = o->order_id;
	ev.body.order_status_changed.status = s;
	return omo_emit(ctx, &ev);
}

/* ---- submit ----------------------------------------------------------- */

/* digest is FNV-1a over the request body's canonical encoding, so a key
 * reused for a different request is told apart from a retry. */
static int64_t digest(const omo_submit_order *s)
{
	omo_buf b = {0};
	uint64_t h = 1469598103934665603ull;
	if (omo_rec_encode(&omo_rec_submit_order, s, &b, NULL) == OMO_E_OK)
		for (size_t i = 0; i < b.len; i++)
			h = (h ^ b.data[i]) * 1099511628211ull;
	omo_buf_fini(&b);
	return (int64_t)(h >> 1);
}

static omo_err validate(const orders_app *app, const omo_submit_order *s, omo_error_detail *d)
{
	if (s->lines_count == 0)
		return omo_fail(d, OMO_E_EMPTY_ORDER, "lines: the order has no lines");
	for (uint32_t i = 0; i < s->lines_count; i++) {
		const omo_order_line *l = &s->lines[i];
		if (omo_catalog_sku(&app->catalog, l->sku) == NULL)
			return omo_fail(d, OMO_E_UNKNOWN_SKU,
			                "lines[%u].sku: \"%s\" is not in the catalog", i, l->sku);
		for (uint32_t j = 0; j < i; j++)
			if (s->lines[j].line_no == l->line_no ||
			    strcmp(s->lines[j].sku, l->sku) == 0)
				return omo_fail(d, OMO_E_DUPLICATE_LINE,
				                "lines[%u]: same line_no or sku as lines[%u]", i,
				                j);
	}
	if (s->fulfillment == OMO_PICKUP_IN_STORE) {
		const omo_node_info *n = omo_catalog_node(&app->catalog, s->pickup_node);
		if (s->pickup_node[0] == '\0')
			return omo_fail(d, OMO_E_MISSING_FIELD,
			                "pickup_node: required for pickup_in_store");
		if (n == NULL || !(n->caps & RT_CAP_PICKUP))
			return omo_fail(d, OMO_E_UNKNOWN_NODE,
			                "pickup_node: \"%s\" is not a pick-up store",
			                s->pickup_node);
	} else if (s->ship_to.lat_udeg == 0 && s->ship_to.lon_udeg == 0 &&
	           s->ship_to.country[0] == '\0') {
		return omo_fail(d, OMO_E_MISSING_FIELD, "ship_to: required for ship_to_home");
	}
	return OMO_E_OK;
}

static void reply_accepted(omo_msg *reply, const omo_order_view *o)
{
	omo_msg_init(reply, OMO_MSG_SUBMIT_ORDER_REPLY);
	reply->body.submit_order_reply.order_id = o->order_id;
	reply->body.submit_order_reply.status = OMO_ORDER_ACCEPTED;
	reply->body.submit_order_reply.accepted_us = o->accepted_us;
}

static omo_err submit(omo_ctx *ctx, const omo_submit_order *s, omo_msg *reply, omo_error_detail *d)
{
	const orders_app *app = ctx->app;
	omo_order_key key;
	omo_order_view o;
	omo_arena a = {0};
	omo_err e;
	int64_t h = digest(s);
	size_t klen = strlen(s->idempotency_key);

	e = omo_get_rec(ctx->txn, T_KEYS, s->idempotency_key, klen, &omo_rec_order_key, &key, &a);
	if (e == OMO_E_OK) {
		/* A retry: the same answer as the first time; a different request: refused. */
		if (key.digest != h)
			e = omo_fail(d, OMO_E_CONFLICT,
			             "idempotency_key: \"%s\" was used for another request",
			             s->idempotency_key);
		else if ((e = load_order(ctx, &key.order_id, &o, &a)) == OMO_E_OK)
			reply_accepted(reply, &o);
		omo_arena_fini(&a);
		return e;
	}
	if ((e = validate(app, s, d)) != OMO_E_OK)
		return e;

	memset(&o, 0, sizeof(o));
	omo_uuid_generate(&o.order_id);
	snprintf(o.idempotency_key, sizeof(o.idempotency_key), "%s", s->idempotency_key);
	o.channel = s->channel;
	o.fulfillment = s->fulfillment;
	snprintf(o.customer_id, sizeof(o.customer_id), "%s", s->customer_id);
	snprintf(o.pickup_node, sizeof(o.pickup_node), "%s", s->pickup_node);
	o.ship_to = s->ship_to;
	o.status = OMO_ORDER_ACCEPTED;
	o.accepted_us = ctx->now_us;
	o.lines = s->lines;
	o.lines_count = s->lines_count;
	add_history(&o, &a, ctx->now_us, "accepted", NULL, NULL);
	key.order_id = o.order_id;
	key.digest = h;

	omo_msg ev;
	omo_msg_init(&ev, OMO_MSG_ORDER_ACCEPTED);
	ev.corr = o.order_id;
	omo_order_accepted *acc = &ev.body.order_accepted;
	acc->order_id = o.order_id;
	acc->channel = o.channel;
	acc->fulfillment = o.fulfillment;
	memcpy(acc->pickup_node, o.pickup_node, sizeof(acc->pickup_node));
	acc->ship_to = o.ship_to;
	acc->lines = o.lines;
	acc->lines_count = o.lines_count;

	if ((e = save_order(ctx, &o)) == OMO_E_OK &&
	    (e = count_state(ctx, o.status, +1)) == OMO_E_OK &&
	    (e = omo_put_rec(ctx->txn, T_KEYS, s->idempotency_key, klen, &omo_rec_order_key,
	                     &key)) == OMO_E_OK &&
	    (e = omo_emit(ctx, &ev)) == OMO_E_OK)
		reply_accepted(reply, &o);
	omo_arena_fini(&a);
	return e == OMO_E_OK ? e : omo_fail(d, e, "order could not be stored");
}

/* ---- get and cancel ----------------------------------------------------- */

static omo_err view(omo_ctx *ctx, const omo_uuid *id, omo_msg *reply, omo_error_detail *d)
{
	omo_msg_init(reply, OMO_MSG_ORDER_VIEW);
	omo_err e = load_order(ctx, id, &reply->body.order_view, &reply->arena);
	if (e == OMO_E_NOT_FOUND) {
		char s[37];
		omo_uuid_format(id, s);
		return omo_fail(d, e, "order_id: no order %s", s);
	}
	return e;
}

static bool has_left_node(const omo_order_view *o)
{
	for (uint32_t i = 0; i < o->fulfillments_count; i++)
		switch (o->fulfillments[i].status) {
		case OMO_FF_SHIPPED:
		case OMO_FF_DELIVERED:
		case OMO_FF_READY_FOR_PICKUP:
		case OMO_FF_PICKED_UP: return true;
		default: break;
		}
	return false;
}

static omo_err cancel(omo_ctx *ctx, const omo_cancel_order *c, omo_msg *reply, omo_error_detail *d)
{
	omo_err e = view(ctx, &c->order_id, reply, d);
	omo_order_view *o = &reply->body.order_view;
	if (e != OMO_E_OK)
		return e;
	if (o->status == OMO_ORDER_CANCELLED)
		return OMO_E_OK; /* cancelling twice is cancelling once */
	if (o->status == OMO_ORDER_REJECTED || o->status == OMO_ORDER_COMPLETED || has_left_node(o))
		return omo_fail(d, OMO_E_BAD_STATE, "order is %s; goods have left a node",
		                omo_enum_name(&omo_enum_order_status, (int)o->status));
	add_history(o, &reply->arena, ctx->now_us, "cancelled", NULL, c->reason);
	omo_msg ev;
	omo_msg_init(&ev, OMO_MSG_ORDER_CANCELLED);
	ev.corr = o->order_id;
	ev.body.order_cancelled.order_id = o->order_id;
	memcpy(ev.body.order_cancelled.reason, c->reason, sizeof(c->reason));
	if ((e = omo_emit(ctx, &ev)) != OMO_E_OK ||
	    (e = set_status(ctx, o, OMO_ORDER_CANCELLED, true)) != OMO_E_OK ||
	    (e = save_order(ctx, o)) != OMO_E_OK)
		return omo_fail(d, e, "order could not be stored");
	return OMO_E_OK;
}

static omo_err on_request(omo_ctx *ctx, const omo_msg *req, omo_msg *reply, omo_error_detail *d)
{
	switch (req->type) {
	case OMO_MSG_SUBMIT_ORDER: return submit(ctx, &req->body.submit_order, reply, d);
	case OMO_MSG_GET_ORDER: return view(ctx, &req->body.get_order.order_id, reply, d);
	case OMO_MSG_CANCEL_ORDER: return cancel(ctx, &req->body.cancel_order, reply, d);
	default:
		return omo_fail(d, OMO_E_UNKNOWN_TYPE, "orders does not take %s",
		                omo_msg_name(req->type));
	}
}

/* ---- events ----------------------------------------------------------- */

static omo_err on_update(omo_ctx *ctx, omo_order_view *o, omo_arena *a,
                         const omo_fulfillment_update *u);

typedef struct early_scan {
	omo_ctx *ctx;
	omo_order_view *o;
	omo_arena *a;
	omo_err e;
	uint8_t keys[8][17];
	int n;
} early_scan;

static int apply_early(void *arg, const omo_val *key, const omo_val *val)
{
	early_scan *s = arg;
	omo_fulfillment_update u;
	if (s->n == 8 || key->len != 17)
		return 1;
	if (omo_rec_decode(&omo_rec_fulfillment_update, val->data, val->len, &u, s->a, NULL) ==
	    OMO_E_OK)
		s->e = on_update(s->ctx, s->o, s->a, &u);
	memcpy(s->keys[s->n++], key->data, 17);
	return 0;
}

/* take_early applies the updates that came before part f was announced. */
static omo_err take_early(omo_ctx *ctx, omo_order_view *o, omo_arena *a, const omo_uuid *fid)
{
	early_scan s = {.ctx = ctx, .o = o, .a = a, .e = OMO_E_OK};
	omo_err e = omo_scan(ctx->txn, T_EARLY, fid->b, 16, NULL, 0, apply_early, &s);
	for (int i = 0; i < s.n && e == OMO_E_OK; i++)
		e = omo_del(ctx->txn, T_EARLY, s.keys[i], 17);
	return e != OMO_E_OK ? e : s.e;
}

static omo_err on_routed(omo_ctx *ctx, omo_order_view *o, omo_arena *a, const omo_order_routed *r)
{
	char nodes[128] = "";
	for (uint32_t i = 0; i < r->fulfillments_count; i++) {
		omo_fulfillment_info *f =
		    grow_list(a, (void **)&o->fulfillments, &o->fulfillments_count, sizeof(*f));
		if (f == NULL)
			return OMO_E_NOMEM;
		*f = r->fulfillments[i];
		size_t n = strlen(nodes);
		snprintf(nodes + n, sizeof(nodes) - n, "%s%s", n ? " " : "", f->node);
	}
	o->backordered = r->backordered;
	o->backordered_count = r->backordered_count;
	add_history(o, a, ctx->now_us, r->backordered_count ? "backordered" : "routed", NULL,
	            nodes);
	for (uint32_t i = 0; i < r->fulfillments_count; i++) {
		omo_err e = take_early(ctx, o, a, &r->fulfillments[i].fulfillment_id);
		if (e != OMO_E_OK)
			return e;
	}
	return OMO_E_OK;
}

static omo_err on_update(omo_ctx *ctx, omo_order_view *o, omo_arena *a,
                         const omo_fulfillment_update *u)
{
	for (uint32_t i = 0; i < o->fulfillments_count; i++)
		if (memcmp(&o->fulfillments[i].fulfillment_id, &u->fulfillment_id, 16) == 0) {
			o->fulfillments[i].status = u->status;
			add_history(o, a, ctx->now_us,
			            omo_enum_name(&omo_enum_fulfillment_status, (int)u->status),
			            u->node, u->detail);
			return OMO_E_OK;
		}
	/* Not announced yet: keep it until the router's event arrives. */
	uint8_t key[17];
	memcpy(key, u->fulfillment_id.b, 16);
	key[16] = (uint8_t)u->status;
	return omo_put_rec(ctx->txn, T_EARLY, key, 17, &omo_rec_fulfillment_update, u);
}

static omo_err on_event(omo_ctx *ctx, const omo_msg *ev, omo_error_detail *d)
{
	const omo_uuid *id;
	switch (ev->type) {
	case OMO_MSG_ORDER_ROUTED: id = &ev->body.order_routed.order_id; break;
	case OMO_MSG_ORDER_UNROUTABLE: id = &ev->body.order_unroutable.order_id; break;
	case OMO_MSG_FULFILLMENT_UPDATE: id = &ev->body.fulfillment_update.order_id; break;
	default: return OMO_E_OK; /* not about an order's state */
	}
	omo_order_view o;
	omo_arena a = {0};
	omo_err e = load_order(ctx, id, &o, &a);
	if (e == OMO_E_OK) {
		bool force = false;
		if (ev->type == OMO_MSG_ORDER_ROUTED)
			e = on_routed(ctx, &o, &a, &ev->body.order_routed);
		else if (ev->type == OMO_MSG_FULFILLMENT_UPDATE)
			e = on_update(ctx, &o, &a, &ev->body.fulfillment_update);
		else {
			add_history(&o, &a, ctx->now_us, "rejected", NULL,
			            ev->body.order_unroutable.reason);
			force = o.status != OMO_ORDER_CANCELLED;
		}
		if (e == OMO_E_OK &&
		    (e = set_status(ctx, &o, OMO_ORDER_REJECTED, force)) == OMO_E_OK)
			e = save_order(ctx, &o);
	}
	omo_arena_fini(&a);
	return e == OMO_E_OK
	           ? e
	           : omo_fail(d, e, "%s for an order not applied", omo_msg_name(ev->type));
}

static void app_fini(void *app)
{
	omo_catalog_fini(&((orders_app *)app)->catalog);
}

static int app_init(void *app, const void *cfg, char *err, size_t errlen)
{
	return omo_catalog_load(&((orders_app *)app)->catalog,
	                        ((const orders_config *)cfg)->network_dir, err, errlen);
}

static const omo_handlers handlers = {
    .name = "orders",
    .tables = orders_tables,
    .n_tables = 3,
    .on_request = on_request,
    .on_event = on_event,
    .stats = stats,
    .n_stats = sizeof(stats) / sizeof(stats[0]),
};
static const omo_option options[] = {ORDERS_OPTIONS(OMO_CONFIG_ROW, orders_config)};
static const char *const follows[] = {"router", "node-manufacturer", "node-warehouse",
                                      "node-store"};

const omo_service_def orders_service = {
    .handlers = &handlers,
    .follows = follows,
    .n_follows = 4,
    .options = options,
    .n_options = sizeof(options) / sizeof(options[0]),
    .config_size = sizeof(orders_config),
    .app_size = sizeof(orders_app),
    .app_init = app_init,
    .app_fini = app_fini,
};
