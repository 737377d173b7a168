/*
 * node.c - the node agent's handlers.
 *
 * work: fulfilment id -> node_work (its state and next due time)
 * due:  be64(due time) + fulfilment id -> "" (the timer wheel)
 */
#include "node.h"

#include <stdio.h>
#include <string.h>

enum { T_WORK, T_DUE };
static const char *const node_tables[] = {"work", "due"};

static const omo_handlers node_handlers;

static void app_fini(void *app)
{
	omo_catalog_fini(&((node_app *)app)->catalog);
}

static int app_init(void *a, const void *c, char *err, size_t errlen)
{
	node_app *app = a;
	const node_config *cfg = c;
	int role = omo_enum_parse(&omo_enum_node_type, cfg->role, strlen(cfg->role));
	if (role < 0) {
		snprintf(err, errlen, "role must be manufacturer, warehouse or store");
		return -1;
	}
	if (omo_catalog_load(&app->catalog, cfg->network_dir, err, errlen) != 0)
		return -1;
	app->role = (omo_node_type)role;
	snprintf(app->name, sizeof(app->name), "node-%.26s", cfg->role);
	app->handlers = node_handlers;
	app->handlers.name = app->name;
	app->reject_pct = cfg->reject_pct;
	app->pick_us = cfg->pick_ms * 1000;
	app->transit_us = cfg->transit_ms * 1000;
	app->pickup_us = cfg->pickup_ms * 1000;
	return 0;
}

static bool mine(const node_app *app, const char *node)
{
	const omo_node_info *n = omo_catalog_node(&app->catalog, node);
	return n != NULL && n->type == app->role;
}

static omo_err save(omo_ctx *ctx, const omo_node_work *w)
{
	return omo_put_rec(ctx->txn, T_WORK, w->fulfillment_id.b, 16, &omo_rec_node_work, w);
}

static omo_err set_due(omo_ctx *ctx, omo_node_work *w, int64_t due)
{
	omo_err e = OMO_E_OK;
	if (w->due_us != 0)
		e = omo_timer_clear(ctx->txn, T_DUE, w->due_us, &w->fulfillment_id);
	w->due_us = due;
	if (e == OMO_E_OK && due != 0)
		e = omo_timer_set(ctx->txn, T_DUE, due, &w->fulfillment_id);
	return e;
}

/* advance moves w to status s, tells everyone, and stores it. */
static omo_err advance(omo_ctx *ctx, omo_node_work *w, omo_fulfillment_status s, int64_t due,
                       const char *detail)
{
	omo_msg ev;
	omo_err e;
	w->status = s;
	if ((e = set_due(ctx, w, due)) != OMO_E_OK)
		return e;
	omo_msg_init(&ev, OMO_MSG_FULFILLMENT_UPDATE);
	ev.corr = w->order_id;
	omo_fulfillment_update *u = &ev.body.fulfillment_update;
	u->fulfillment_id = w->fulfillment_id;
	u->order_id = w->order_id;
	memcpy(u->node, w->node, sizeof(u->node));
	u->status = s;
	snprintf(u->detail, sizeof(u->detail), "%s", detail ? detail : "");
	if ((e = omo_emit(ctx, &ev)) != OMO_E_OK)
		return e;
	return save(ctx, w);
}

static bool declines(const node_app *app, const omo_uuid *fid)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ fid->b[i]) * 16777619u;
	return (int64_t)(h % 100) < app->reject_pct;
}

static omo_err on_requested(omo_ctx *ctx, const omo_fulfillment_requested *r)
{
	const node_app *app = ctx->app;
	omo_node_work w;
	omo_arena a = {0};
	omo_err e =
	    omo_get_rec(ctx->txn, T_WORK, r->fulfillment_id.b, 16, &omo_rec_node_work, &w, &a);
	omo_arena_fini(&a);
	if (e == OMO_E_OK || !mine(app, r->node))
		return OMO_E_OK; /* had it already, or not ours */
	memset(&w, 0, sizeof(w));
	w.fulfillment_id = r->fulfillment_id;
	w.order_id = r->order_id;
	memcpy(w.node, r->node, sizeof(w.node));
	w.fulfillment = r->fulfillment;
	w.lines = r->lines;
	w.lines_count = r->lines_count;
	if (declines(app, &r->fulfillment_id))
		return advance(ctx, &w, OMO_FF_REJECTED, 0, "declined: no capacity today");
	return advance(ctx, &w, OMO_FF_ACCEPTED, ctx->now_us + app->pick_us, NULL);
}

static omo_err on_cancelled(omo_ctx *ctx, const omo_fulfillment_cancelled *c)
{
	omo_node_work w;
	omo_arena a = {0};
	omo_err e =
	    omo_get_rec(ctx->txn, T_WORK, c->fulfillment_id.b, 16, &omo_rec_node_work, &w, &a);
	if (e == OMO_E_OK && (w.status == OMO_FF_REQUESTED || w.status == OMO_FF_ACCEPTED))
		e = advance(ctx, &w, OMO_FF_CANCELLED, 0, "order cancelled");
	omo_arena_fini(&a);
	return e == OMO_E_NOT_FOUND ? OMO_E_OK : e;
}

static omo_err on_event(omo_ctx *ctx, const omo_msg *ev, omo_error_detail *d)
{
	omo_err e = OMO_E_OK;
	if (ev->type == OMO_MSG_FULFILLMENT_REQUESTED)
		e = on_requested(ctx, &ev->body.fulfillment_requested);
	else if (ev->type == OMO_MSG_FULFILLMENT_CANCELLED)
		e = on_cancelled(ctx, &ev->body.fulfillment_cancelled);
	return e == OMO_E_OK ? e : omo_fail(d, e, "%s not applied", omo_msg_name(ev->type));
}

/* step does the next thing due for w. */
static omo_err step(omo_ctx *ctx, omo_node_work *w)
{
	const node_app *app = ctx->app;
	char tracking[40];
	bool pickup = w->fulfillment == OMO_PICKUP_IN_STORE;
	switch (w->status) {
	case OMO_FF_ACCEPTED:
		if (pickup)
			return advance(ctx, w, OMO_FF_READY_FOR_PICKUP,
			               ctx->now_us + app->pickup_us, NULL);
		snprintf(tracking, sizeof(tracking), "tracking %02X%02X%02X%02X%02X%02X",
		         w->fulfillment_id.b[10], w->fulfillment_id.b[11], w->fulfillment_id.b[12],
		         w->fulfillment_id.b[13], w->fulfillment_id.b[14], w->fulfillment_id.b[15]);
		return advance(ctx, w, OMO_FF_SHIPPED, ctx->now_us + app->transit_us, tracking);
	case OMO_FF_SHIPPED: return advance(ctx, w, OMO_FF_DELIVERED, 0, NULL);
	case OMO_FF_READY_FOR_PICKUP: return advance(ctx, w, OMO_FF_PICKED_UP, 0, NULL);
	default: return set_due(ctx, w, 0) == OMO_E_OK ? save(ctx, w) : OMO_E_IO;
	}
}

#define TICK_MAX 256 /* steps per tick; the rest stay due for the next */

static omo_err on_tick(omo_ctx *ctx, int64_t *next_us)
{
	omo_uuid due[TICK_MAX];
	int n = omo_timer_take(ctx->txn, T_DUE, ctx->now_us, due, TICK_MAX);
	omo_err e = n < 0 ? OMO_E_IO : OMO_E_OK;
	for (int i = 0; i < n && e == OMO_E_OK; i++) {
		omo_node_work w;
		omo_arena a = {0};
		if ((e = omo_get_rec(ctx->txn, T_WORK, due[i].b, 16, &omo_rec_node_work, &w, &a)) ==
		    OMO_E_OK) {
			w.due_us = 0; /* taken */
			e = step(ctx, &w);
		}
		omo_arena_fini(&a);
	}
	*next_us = omo_timer_next(ctx->txn, T_DUE); /* steps just scheduled included */
	return e;
}

static const omo_handlers node_handlers = {
    .name = "node",
    .tables = node_tables,
    .n_tables = 2,
    .on_event = on_event,
    .on_tick = on_tick,
};

static const omo_handlers *app_handlers(const void *app)
{
	return &((const node_app *)app)->handlers;
}

static const omo_option options[] = {NODE_OPTIONS(OMO_CONFIG_ROW, node_config)};
static const char *const follows[] = {"router"};

const omo_service_def node_service = {
    .handlers = &node_handlers,
    .follows = follows,
    .n_follows = 1,
    .options = options,
    .n_options = sizeof(options) / sizeof(options[0]),
    .config_size = sizeof(node_config),
    .app_size = sizeof(node_app),
    .app_init = app_init,
    .app_fini = app_fini,
    .app_handlers = app_handlers,
};
