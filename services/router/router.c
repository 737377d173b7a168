/*
 * router.c - the router service's handlers.
 *
 * orders:    order id -> route_state (lines, what is still to source, parts, exclusions)
 * retry:     be64(retry time) + order id -> "" for orders to route again later
 * decisions: order id + be64(attempt) -> decision (the record of one routing)
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

enum { T_ORDERS, T_RETRY, T_DECISIONS };
static const char *const router_tables[] = {"orders", "retry", "decisions"};

/* ---- the rule set ------------------------------------------------------ */

/* Used when the network has no rules.yaml: fewest packages, then nearest. */
static const char builtin_rules[] = "name: builtin\n"
                                    "version: 1\n"
                                    "strategies:\n"
                                    "  - name: fewest-packages-then-nearest\n"
                                    "    filters: [exclusions, online, capability]\n"
                                    "    objective: {package: 1000000, distance: 1}\n"
                                    "    max_splits: 3\n"
                                    "    line_split: true\n";

/* nodes_apply gives routing's nodes the catalog's data plus the rule set's. */
static void nodes_apply(router_app *app)
{
	for (uint32_t i = 0; i < app->catalog.n_nodes; i++) {
		const omo_node_info *n = &app->catalog.nodes[i];
		const rt_node_rule *x = rt_rules_node(&app->rules, n->id);
		rt_node *r = &app->nodes[i];
		memset(r, 0, sizeof(*r));
		snprintf(r->id, sizeof(r->id), "%s", n->id);
		r->type = n->type == OMO_NODE_MANUFACTURER ? RT_MANUFACTURER
		          : n->type == OMO_NODE_WAREHOUSE  ? RT_WAREHOUSE
		                                           : RT_STORE;
		r->caps = n->caps;
		r->lat_udeg = n->lat_udeg;
		r->lon_udeg = n->lon_udeg;
		r->online = true;
		if (x != NULL)
			rt_node_apply(r, x);
	}
}

static int64_t file_mtime_ns(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

/* rules_read replaces app's rule set with the file's (or the built-in one);
 * on error app keeps what it had and err says why. */
static int rules_read(router_app *app, char *err, size_t errlen)
{
	rt_rules next;
	int64_t mtime = app->rules_path[0] ? file_mtime_ns(app->rules_path) : 0;
	int rc = app->rules_path[0] ? rt_rules_load(app->rules_path, &next, err, errlen)
	                            : rt_rules_parse_text(builtin_rules, sizeof(builtin_rules) - 1,
	                                                  &next, err, errlen);
	if (rc != 0)
		return -1;
	rt_rules_fini(&app->rules);
	app->rules = next;
	app->rules_mtime_ns = mtime;
	nodes_apply(app);
	OMO_INFO("rules_loaded", "name=%s version=%lld hash=%s", app->rules.name,
	         (long long)app->rules.version, app->rules.hash);
	return 0;
}

/* rules_check reloads the rule set when its file has changed; a file that
 * does not read leaves the rules in use as they are. */
static void rules_check(router_app *app)
{
	char err[256];
	if (app->rules_path[0] == '\0' || file_mtime_ns(app->rules_path) == app->rules_mtime_ns)
		return;
	if (rules_read(app, err, sizeof(err)) != 0) {
		app->rules_mtime_ns = file_mtime_ns(app->rules_path); /* said once per change */
		OMO_WARN("rules_refused", "keeping hash=%s detail=\"%s\"", app->rules.hash, err);
	}
}

static void app_fini(void *a)
{
	router_app *app = a;
	omo_catalog_fini(&app->catalog);
	rt_rules_fini(&app->rules);
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
	if (cfg->rules[0] != '\0')
		snprintf(app->rules_path, sizeof(app->rules_path), "%s", cfg->rules);
	else {
		snprintf(app->rules_path, sizeof(app->rules_path), "%s/rules.yaml",
		         cfg->network_dir);
		if (file_mtime_ns(app->rules_path) < 0)
			app->rules_path[0] = '\0';
	}
	if (rules_read(app, err, errlen) != 0)
		return -1;
	app->max_declines = cfg->max_declines;
	app->retry_us = cfg->retry_ms * 1000;
	app->backorder_retry_us = cfg->backorder_retry_ms * 1000;
	app->unfillable_after_us = cfg->unfillable_after_ms * 1000;
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
	memcpy(out->b, order->b, 6); /* the order's time first: stored near each other */
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

/* ---- routing a batch of orders -------------------------------------------- */

/*
 * Every order that is due is routed in one go: one stock query for all
 * their SKUs, each order planned in turn against what the ones before it
 * took, then one reserve_many that inventory applies in one commit. The
 * router is inventory's only reserver, so a plan made from the snapshot
 * rarely meets a refusal; one that does is tried again on a timer.
 */

#define BATCH_MAX 96 /* orders per batch: 96 x 100 lines stay within a query's 10,000 SKUs */

/* One order being routed in this batch. */
typedef struct job {
	omo_route_state s;
	omo_arena a;
	bool active;  /* it has units to source now */
	bool release; /* cancelled: free what an unannounced try may hold */
	omo_fulfillment_info *parts;
	uint32_t n_parts;
	omo_alloc_line *short_lines;
	uint32_t n_short;
	omo_reserve_line *holds; /* the parts' lines as inventory holds them */
	uint32_t n_holds;
	omo_decision dec; /* the record of this routing */
} job;

/* Stock per (SKU, node) for the orders of one batch. */
typedef struct snapshot {
	const char **skus; /* sorted, distinct; they point into the jobs' lines */
	uint32_t n_skus;
	int64_t *on_hand; /* [sku * n_nodes + node] */
	int64_t *reserved;
} snapshot;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int sku_index(const snapshot *snap, const char *sku)
{
	const char **p = bsearch(&sku, snap->skus, snap->n_skus, sizeof(*snap->skus), cmp_str);
	return p ? (int)(p - snap->skus) : -1;
}

/* snapshot_take reads the stock of snap->skus (n_skus of them, any order,
 * repeats allowed; it sorts them and drops the repeats) at every node. */
static omo_err snapshot_take(omo_ctx *ctx, const router_app *app, snapshot *snap,
                             omo_error_detail *d)
{
	uint32_t nn = app->catalog.n_nodes;
	omo_msg req, reply;
	qsort(snap->skus, snap->n_skus, sizeof(*snap->skus), cmp_str);
	uint32_t distinct = 0;
	for (uint32_t i = 0; i < snap->n_skus; i++)
		if (distinct == 0 || strcmp(snap->skus[distinct - 1], snap->skus[i]) != 0)
			snap->skus[distinct++] = snap->skus[i];
	snap->n_skus = distinct;
	omo_sku_ref *refs = calloc(distinct + 1, sizeof(*refs));
	if (refs == NULL)
		return omo_fail(d, OMO_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < distinct; i++)
		snprintf(refs[i].sku, sizeof(refs[i].sku), "%s", snap->skus[i]);

	omo_msg_init(&req, OMO_MSG_STOCK_QUERY);
	omo_uuid_generate(&req.id);
	req.body.stock_query.skus = refs;
	req.body.stock_query.skus_count = distinct;
	omo_err e = omo_ctx_call(ctx, "inventory", &req, &reply, d);
	free(refs);
	if (e == OMO_E_OK &&
	    ((snap->on_hand = calloc((size_t)distinct * nn + 1, sizeof(int64_t))) == NULL ||
	     (snap->reserved = calloc((size_t)distinct * nn + 1, sizeof(int64_t))) == NULL))
		e = omo_fail(d, OMO_E_NOMEM, "out of memory");
	for (uint32_t i = 0; e == OMO_E_OK && i < reply.body.stock_reply.rows_count; i++) {
		const omo_stock_row *row = &reply.body.stock_reply.rows[i];
		int k = sku_index(snap, row->sku);
		int node = omo_catalog_node_index(&app->catalog, row->node);
		if (k >= 0 && node >= 0) {
			snap->on_hand[(size_t)k * nn + (uint32_t)node] = row->on_hand;
			snap->reserved[(size_t)k * nn + (uint32_t)node] = row->reserved;
		}
	}
	omo_msg_fini(&reply);
	return e;
}

static void snapshot_fini(snapshot *snap)
{
	free(snap->skus);
	free(snap->on_hand);
	free(snap->reserved);
}

/* Working memory for planning one order, reused across the batch. */
typedef struct planner {
	rt_order_line lines[RT_MAX_LINES];
	rt_stock *stock;   /* [line][node] */
	uint8_t *excluded; /* [node] */
	rt_candidate *cands;
	rt_plan plan;
	rt_order order;
	rt_snapshot snap;
} planner;

static omo_err planner_alloc(planner **pp, uint32_t nn)
{
	planner *p = calloc(1, sizeof(*p));
	if (p == NULL ||
	    (p->stock = calloc((size_t)RT_MAX_LINES * nn + 1, sizeof(rt_stock))) == NULL ||
	    (p->excluded = calloc(nn + 1, 1)) == NULL ||
	    (p->cands = calloc(nn + 1, sizeof(rt_candidate))) == NULL) {
		if (p != NULL) {
			free(p->stock);
			free(p->excluded);
		}
		free(p);
		return OMO_E_NOMEM;
	}
	*pp = p;
	return OMO_E_OK;
}

static void planner_free(planner *p)
{
	if (p == NULL)
		return;
	free(p->stock);
	free(p->excluded);
	free(p->cands);
	free(p);
}

/*
 * decision_inputs adds to d (whose order fields and lines are set) the stock
 * its routing will read: every (line, node) of the snapshot that has any,
 * with the rule set's policy for it. Live routing, promises and explain's
 * replay all plan from such a record, through request_build.
 */
static omo_err decision_inputs(const router_app *app, const snapshot *snap, omo_decision *d,
                               omo_arena *a)
{
	uint32_t nn = app->catalog.n_nodes, n_cells = 0;
	for (uint32_t l = 0; l < d->lines_count; l++) {
		int k = sku_index(snap, d->lines[l].sku);
		for (uint32_t n = 0; k >= 0 && n < nn; n++)
			n_cells += snap->on_hand[(size_t)k * nn + n] != 0 ||
			           snap->reserved[(size_t)k * nn + n] != 0;
	}
	d->cells = omo_arena_alloc(a, (n_cells + 1) * sizeof(*d->cells));
	if (d->cells == NULL)
		return OMO_E_NOMEM;
	d->cells_count = 0;
	for (uint32_t l = 0; l < d->lines_count; l++) {
		int k = sku_index(snap, d->lines[l].sku);
		for (uint32_t n = 0; k >= 0 && n < nn; n++) {
			size_t at = (size_t)k * nn + n;
			if (snap->on_hand[at] == 0 && snap->reserved[at] == 0)
				continue;
			const rt_stock_rule *policy =
			    rt_rules_stock(&app->rules, app->catalog.nodes[n].id, d->lines[l].sku);
			omo_decision_cell *c = &d->cells[d->cells_count++];
			c->line = l;
			memcpy(c->node, app->catalog.nodes[n].id, sizeof(c->node));
			c->on_hand = snap->on_hand[at];
			c->reserved = snap->reserved[at];
			if (policy != NULL) {
				c->safety = policy->safety;
				c->held = policy->channel_held;
				c->held_for = policy->channel_mask;
				c->target = policy->target;
			}
		}
	}
	return OMO_E_OK;
}

/* request_build turns a decision record's inputs into routing's order and
 * snapshot in p; -1 if they name what the network no longer has. */
static int request_build(const router_app *app, const omo_decision *d, planner *p)
{
	uint32_t nn = app->catalog.n_nodes;
	if (d->lines_count == 0 || d->lines_count > RT_MAX_LINES)
		return -1;
	memset(p->stock, 0, (size_t)d->lines_count * nn * sizeof(*p->stock));
	memset(p->excluded, 0, nn);
	for (uint32_t l = 0; l < d->lines_count; l++) {
		const omo_sku_info *sku = omo_catalog_sku(&app->catalog, d->lines[l].sku);
		const rt_sku_rule *rule = rt_rules_sku(&app->rules, d->lines[l].sku);
		p->lines[l] = (rt_order_line){.line_no = (uint32_t)d->lines[l].line_no,
		                              .quantity = d->lines[l].quantity,
		                              .weight_g = sku != NULL ? sku->weight_g : 0,
		                              .hazmat = rule != NULL && rule->hazmat};
	}
	for (uint32_t i = 0; i < d->cells_count; i++) {
		const omo_decision_cell *c = &d->cells[i];
		int n = omo_catalog_node_index(&app->catalog, c->node);
		if (n < 0 || c->line < 0 || (uint64_t)c->line >= d->lines_count)
			return -1;
		p->stock[(size_t)c->line * nn + (uint32_t)n] =
		    (rt_stock){.on_hand = c->on_hand,
		               .reserved = c->reserved,
		               .safety = c->safety,
		               .channel_held = c->held,
		               .channel_mask = (uint32_t)c->held_for,
		               .target = c->target};
	}
	for (uint32_t i = 0; i < d->excluded_count; i++) {
		int n = omo_catalog_node_index(&app->catalog, d->excluded[i].node);
		if (n >= 0)
			p->excluded[n] = 1;
	}
	int pickup = d->fulfillment == OMO_PICKUP_IN_STORE
	                 ? omo_catalog_node_index(&app->catalog, d->pickup_node)
	                 : -1;
	p->order =
	    (rt_order){.lines = p->lines,
	               .n_lines = d->lines_count,
	               .channel = (int)d->channel,
	               .fulfillment = d->fulfillment == OMO_PICKUP_IN_STORE ? RT_PICKUP_IN_STORE
	                                                                    : RT_SHIP_TO_HOME,
	               .ship_lat_udeg = d->ship_to.lat_udeg,
	               .ship_lon_udeg = d->ship_to.lon_udeg,
	               .pickup_node = pickup,
	               .now_us = d->at_us,
	               .excluded = p->excluded};
	p->snap = (rt_snapshot){.nodes = app->nodes, .n_nodes = nn, .stock = p->stock};
	return 0;
}

/* decide routes p's request and writes the outcome into d (lists in a). */
static omo_err decide(const router_app *app, planner *p, omo_decision *d, omo_arena *a)
{
	uint32_t nn = app->catalog.n_nodes;
	const rt_plan *plan = &p->plan;
	if (rt_decide(&app->rules, &p->order, &p->snap, &p->plan, p->cands) != RT_OK)
		return OMO_E_INTERNAL;
	snprintf(d->rules_hash, sizeof(d->rules_hash), "%s", app->rules.hash);
	snprintf(d->rules_name, sizeof(d->rules_name), "%s", app->rules.name);
	d->rules_version = app->rules.version;
	snprintf(d->strategy, sizeof(d->strategy), "%s",
	         app->rules.strategies[plan->strategy].name);
	snprintf(d->search, sizeof(d->search), "%s", plan->exact ? "exact" : "shortlist");
	rt_input_digest(&p->order, &p->snap, d->input_digest);
	d->cost = plan->cost;
	d->candidates = omo_arena_alloc(a, (nn + 1) * sizeof(*d->candidates));
	d->plan = omo_arena_alloc(a, (plan->n_allocs + 1) * sizeof(*d->plan));
	d->backordered = omo_arena_alloc(a, (d->lines_count + 1) * sizeof(*d->backordered));
	if (d->candidates == NULL || d->plan == NULL || d->backordered == NULL)
		return OMO_E_NOMEM;
	d->candidates_count = nn;
	for (uint32_t n = 0; n < nn; n++) {
		const rt_candidate *c = &p->cands[n];
		omo_decision_candidate *x = &d->candidates[n];
		memcpy(x->node, app->catalog.nodes[n].id, sizeof(x->node));
		snprintf(x->reason, sizeof(x->reason), "%s", rt_exclusion_name(c->exclusion));
		x->score = c->score;
		x->distance_m = c->distance_m;
		x->zone = c->zone;
		x->promise_day = c->promise_day;
		x->lines_whole = c->lines_coverable;
	}
	d->plan_count = plan->n_allocs;
	for (uint32_t i = 0; i < plan->n_allocs; i++) {
		const rt_alloc *al = &plan->allocs[i];
		omo_decision_alloc *x = &d->plan[i];
		x->line_no = d->lines[al->line].line_no;
		memcpy(x->sku, d->lines[al->line].sku, sizeof(x->sku));
		memcpy(x->node, app->catalog.nodes[al->node].id, sizeof(x->node));
		x->quantity = al->quantity;
		x->promise_day = al->promise_day;
		x->transfer = al->transfer;
		x->made = al->made;
	}
	d->backordered_count = 0;
	for (uint32_t l = 0; l < d->lines_count; l++)
		if (plan->short_qty[l] > 0) {
			d->backordered[d->backordered_count] = d->lines[l];
			d->backordered[d->backordered_count++].quantity = plan->short_qty[l];
		}
	return OMO_E_OK;
}

/* plan_job plans j against the snapshot, takes its units out of it, and
 * builds its parts (one per node, in order of first use) and holds. */
static omo_err plan_job(const omo_ctx *ctx, const router_app *app, snapshot *snap, planner *p,
                        job *j)
{
	uint32_t nn = app->catalog.n_nodes, nl = j->s.pending_count;
	const omo_route_state *s = &j->s;
	omo_decision *d = &j->dec;
	memset(d, 0, sizeof(*d));
	d->order_id = s->order_id;
	d->attempt = s->attempt + 1;
	d->at_us = ctx->now_us;
	d->channel = s->channel;
	d->fulfillment = s->fulfillment;
	memcpy(d->pickup_node, s->pickup_node, sizeof(d->pickup_node));
	d->ship_to = s->ship_to;
	d->lines = s->pending;
	d->lines_count = s->pending_count;
	d->excluded = s->excluded;
	d->excluded_count = s->excluded_count;
	omo_err e = decision_inputs(app, snap, d, &j->a);
	if (e != OMO_E_OK)
		return e;
	if (request_build(app, &j->dec, p) != 0)
		return OMO_E_INTERNAL;
	if ((e = decide(app, p, &j->dec, &j->a)) != OMO_E_OK)
		return e;

	j->parts = omo_arena_alloc(&j->a, (p->plan.n_allocs + 1) * sizeof(*j->parts));
	omo_alloc_line *lines = omo_arena_alloc(&j->a, (p->plan.n_allocs + 1) * sizeof(*lines));
	j->holds = omo_arena_alloc(&j->a, (p->plan.n_allocs + 1) * sizeof(*j->holds));
	j->short_lines = omo_arena_alloc(&j->a, (nl + 1) * sizeof(*j->short_lines));
	if (j->parts == NULL || lines == NULL || j->holds == NULL || j->short_lines == NULL)
		return OMO_E_NOMEM;
	uint32_t used = 0;
	for (uint32_t i = 0; i < p->plan.n_allocs; i++) {
		uint32_t node = p->plan.allocs[i].node;
		bool seen = false;
		for (uint32_t k = 0; k < i && !seen; k++)
			seen = p->plan.allocs[k].node == node;
		if (seen)
			continue;
		const omo_node_info *info = &app->catalog.nodes[node];
		omo_fulfillment_info *part = &j->parts[j->n_parts++];
		memset(part, 0, sizeof(*part));
		snprintf(part->node, sizeof(part->node), "%s", info->id);
		part->node_type = info->type;
		part->status = OMO_FF_REQUESTED;
		router_fulfillment_id(&s->order_id, s->attempt + 1, info->id,
		                      &part->fulfillment_id);
		part->lines = lines + used;
		for (uint32_t k = i; k < p->plan.n_allocs; k++) {
			const rt_alloc *a = &p->plan.allocs[k];
			if (a->node != node)
				continue;
			omo_alloc_line *dst = &lines[used++];
			dst->line_no = s->pending[a->line].line_no;
			memcpy(dst->sku, s->pending[a->line].sku, sizeof(dst->sku));
			dst->quantity = a->quantity;
			part->lines_count++;
			omo_reserve_line *h = &j->holds[j->n_holds++];
			h->fulfillment_id = part->fulfillment_id;
			memcpy(h->sku, dst->sku, sizeof(h->sku));
			memcpy(h->node, part->node, sizeof(h->node));
			h->quantity = a->quantity;
			int k_sku = sku_index(snap, s->pending[a->line].sku);
			if (k_sku >= 0) /* taken: later orders see less */
				snap->reserved[(size_t)k_sku * nn + node] += a->quantity;
		}
	}
	for (uint32_t l = 0; l < nl; l++)
		if (p->plan.short_qty[l] > 0) {
			j->short_lines[j->n_short] = s->pending[l];
			j->short_lines[j->n_short++].quantity = p->plan.short_qty[l];
		}
	return OMO_E_OK;
}

/* reserve_jobs asks inventory to hold every active job's plan in one
 * request; a reservation of no lines releases what an earlier try of the
 * same attempt may hold. codes[i] is the outcome of job i. */
static omo_err reserve_jobs(omo_ctx *ctx, job *jobs, int n, omo_err *codes, omo_error_detail *d)
{
	omo_reserve groups[BATCH_MAX];
	int idx[BATCH_MAX], m = 0;
	omo_msg req, reply;
	for (int i = 0; i < n; i++) {
		codes[i] = OMO_E_OK;
		if (!jobs[i].active && !jobs[i].release)
			continue;
		groups[m] = (omo_reserve){.order_id = jobs[i].s.order_id,
		                          .attempt = jobs[i].s.attempt + 1,
		                          .lines = jobs[i].holds,
		                          .lines_count = jobs[i].n_holds};
		idx[m++] = i;
	}
	if (m == 0)
		return OMO_E_OK;
	omo_msg_init(&req, OMO_MSG_RESERVE_MANY);
	omo_uuid_generate(&req.id);
	req.body.reserve_many.reservations = groups;
	req.body.reserve_many.reservations_count = (uint32_t)m;
	omo_err e = omo_ctx_call(ctx, "inventory", &req, &reply, d);
	const omo_reserve_results *r = &reply.body.reserve_results;
	if (e == OMO_E_OK && r->results_count != (uint32_t)m)
		e = omo_fail(d, OMO_E_INTERNAL, "%u results for %d reservations", r->results_count,
		             m);
	for (int k = 0; e == OMO_E_OK && k < m; k++)
		if (r->results[k].code[0] != '\0') {
			omo_err c = omo_err_from_name(r->results[k].code);
			codes[idx[k]] = c == OMO_E_COUNT ? OMO_E_INTERNAL : c;
			char order[37];
			omo_uuid_format(&groups[k].order_id, order);
			OMO_INFO("reserve_refused", "order_id=%s code=%s detail=\"%s\"", order,
			         r->results[k].code, r->results[k].detail);
		}
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

/* announce records j's new parts and tells the orders service and the nodes. */
static omo_err announce(omo_ctx *ctx, const router_app *app, job *j)
{
	omo_route_state *s = &j->s;
	omo_msg ev;
	omo_err e;
	uint8_t key[24];
	memcpy(key, s->order_id.b, 16);
	omo_be64_put(key + 16, (uint64_t)j->dec.attempt);
	if ((e = omo_put_rec(ctx->txn, T_DECISIONS, key, sizeof(key), &omo_rec_decision,
	                     &j->dec)) != OMO_E_OK)
		return e;
	OMO_DEBUG("routed", "attempt=%lld rules=%s strategy=%s search=%s cost=%lld",
	          (long long)j->dec.attempt, j->dec.rules_hash, j->dec.strategy, j->dec.search,
	          (long long)j->dec.cost);
	s->attempt++;
	omo_fulfillment_info *all =
	    omo_arena_grow(&j->a, s->parts, s->parts_count, j->n_parts, sizeof(*all));
	if (all == NULL)
		return OMO_E_NOMEM;
	memcpy(all + s->parts_count, j->parts, j->n_parts * sizeof(*all));
	s->parts = all;
	s->parts_count += j->n_parts;
	s->pending = j->short_lines;
	s->pending_count = j->n_short;

	omo_msg_init(&ev, OMO_MSG_ORDER_ROUTED);
	ev.corr = s->order_id;
	ev.body.order_routed.order_id = s->order_id;
	ev.body.order_routed.attempt = s->attempt;
	ev.body.order_routed.fulfillments = j->parts;
	ev.body.order_routed.fulfillments_count = j->n_parts;
	ev.body.order_routed.backordered = j->short_lines;
	ev.body.order_routed.backordered_count = j->n_short;
	if ((e = omo_emit(ctx, &ev)) != OMO_E_OK)
		return e;
	for (uint32_t i = 0; i < j->n_parts; i++) {
		omo_msg fr;
		omo_msg_init(&fr, OMO_MSG_FULFILLMENT_REQUESTED);
		fr.corr = s->order_id;
		omo_fulfillment_requested *b = &fr.body.fulfillment_requested;
		b->fulfillment_id = j->parts[i].fulfillment_id;
		b->order_id = s->order_id;
		memcpy(b->node, j->parts[i].node, sizeof(b->node));
		b->fulfillment = s->fulfillment;
		b->ship_to = s->ship_to;
		b->lines = j->parts[i].lines;
		b->lines_count = j->parts[i].lines_count;
		if ((e = omo_emit(ctx, &fr)) != OMO_E_OK)
			return e;
	}
	/* Units no node has now wait for supply, and look again later. */
	return j->n_short > 0 ? schedule_retry(ctx, s, ctx->now_us + app->backorder_retry_us)
	                      : OMO_E_OK;
}

/* route_batch sources what every job still needs; the caller saves the jobs. */
static omo_err route_batch(omo_ctx *ctx, job *jobs, int n)
{
	const router_app *app = ctx->app;
	uint32_t nn = app->catalog.n_nodes;
	omo_error_detail d = {0};
	omo_err codes[BATCH_MAX], e = OMO_E_OK;
	snapshot snap = {0};
	planner *p = NULL;
	int active = 0, releases = 0;

	for (int i = 0; i < n && e == OMO_E_OK; i++) {
		job *j = &jobs[i];
		j->active = j->s.pending_count > 0 && !j->s.cancelled;
		/* A try whose holds inventory kept but whose plan was never announced
		 * (a lost reply, a crash) would hold them forever once the order is
		 * cancelled: an empty reserve for the next attempt frees them. */
		j->release = j->s.cancelled;
		releases += j->release;
		if (j->active && j->s.rejections >= app->max_declines) {
			j->active = false;
			j->s.pending_count = 0;
			e = emit_unroutable(ctx, &j->s, "every node asked has declined");
		} else if (j->active && j->s.parts_count == 0 && app->unfillable_after_us > 0 &&
		           ctx->now_us - j->s.accepted_us >= app->unfillable_after_us) {
			/* nothing of it found supply in all that time: the customer is told */
			j->active = false;
			j->s.pending_count = 0;
			e = emit_unroutable(ctx, &j->s, "no node could fill the order in time");
		}
		active += j->active;
	}
	if (e != OMO_E_OK || active + releases == 0)
		return e;
	uint32_t total = 0;
	for (int i = 0; i < n; i++)
		total += jobs[i].active ? jobs[i].s.pending_count : 0;
	if (active > 0 && (snap.skus = calloc(total + 1, sizeof(*snap.skus))) == NULL)
		e = omo_fail(&d, OMO_E_NOMEM, "out of memory");
	for (int i = 0; e == OMO_E_OK && i < n; i++)
		for (uint32_t l = 0; jobs[i].active && l < jobs[i].s.pending_count; l++)
			snap.skus[snap.n_skus++] = jobs[i].s.pending[l].sku;
	if (e == OMO_E_OK &&
	    (active == 0 || (e = snapshot_take(ctx, app, &snap, &d)) == OMO_E_OK)) {
		if (planner_alloc(&p, nn) != OMO_E_OK)
			e = omo_fail(&d, OMO_E_NOMEM, "out of memory");
		for (int i = 0; i < n && e == OMO_E_OK; i++)
			if (jobs[i].active)
				e = plan_job(ctx, app, &snap, p, &jobs[i]);
		if (e == OMO_E_OK)
			e = reserve_jobs(ctx, jobs, n, codes, &d);
	}
	if (e == OMO_E_UNAVAILABLE) {
		/* Inventory did not answer: everyone tries again shortly. */
		OMO_WARN("route_deferred", "orders=%d detail=\"%s\"", active, d.text);
		for (int i = 0; i < n; i++)
			codes[i] = jobs[i].active || jobs[i].release ? OMO_E_UNAVAILABLE : OMO_E_OK;
		e = OMO_E_OK;
	}
	for (int i = 0; i < n && e == OMO_E_OK; i++)
		if (jobs[i].active)
			e = codes[i] == OMO_E_OK
			        ? announce(ctx, app, &jobs[i])
			        : schedule_retry(ctx, &jobs[i].s, ctx->now_us + app->retry_us);
		else if (jobs[i].release && codes[i] != OMO_E_OK)
			e = schedule_retry(ctx, &jobs[i].s, ctx->now_us + app->retry_us);
	planner_free(p);
	snapshot_fini(&snap);
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
	s.accepted_us = ctx->now_us;
	s.channel = o->channel;
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
	/* Routed by the tick that ends this batch, with every other order due. */
	if ((e = schedule_retry(ctx, &s, ctx->now_us)) == OMO_E_OK)
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
	e = schedule_retry(ctx, &s, ctx->now_us); /* the tick releases an unannounced try */
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

enum { STAT_RESOURCED };
static const omo_stat_def stats[] = {
    [STAT_RESOURCED] = {"fulfillments_resourced_total", "counter", "node",
                        "Fulfilments a node declined, sent to be sourced again, by that node."},
};

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
			char order[37];
			omo_uuid_format(&u->order_id, order);
			OMO_INFO("fulfillment_rejected", "order_id=%s node=%s detail=\"%s\"", order,
			         u->node, u->detail);
			s.rejections++;
			if ((e = omo_stat_add(ctx, STAT_RESOURCED, u->node, 1)) == OMO_E_OK &&
			    (e = add_excluded(&s, &a, u->node)) == OMO_E_OK &&
			    (e = add_pending(&s, &a, p)) == OMO_E_OK && !s.cancelled)
				e = schedule_retry(ctx, &s, ctx->now_us);
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

/* ---- the tick: everything due, routed together ----------------------- */

static omo_err on_tick(omo_ctx *ctx, int64_t *next_us)
{
	rules_check(ctx->app);
	omo_uuid due[BATCH_MAX];
	int n = omo_timer_take(ctx->txn, T_RETRY, ctx->now_us, due, BATCH_MAX), loaded = 0;
	omo_err e = n < 0 ? OMO_E_IO : OMO_E_OK;
	job *jobs = n > 0 ? calloc((size_t)n, sizeof(*jobs)) : NULL;
	if (n > 0 && jobs == NULL)
		e = OMO_E_NOMEM;
	for (int i = 0; i < n && e == OMO_E_OK; i++) {
		job *j = &jobs[loaded];
		if (load(ctx, &due[i], &j->s, &j->a) == OMO_E_OK) {
			j->s.retry_at_us = 0; /* taken */
			loaded++;
		} else
			omo_arena_fini(&j->a);
	}
	if (e == OMO_E_OK)
		e = route_batch(ctx, jobs, loaded);
	for (int i = 0; i < loaded; i++) {
		if (e == OMO_E_OK)
			e = save(ctx, &jobs[i].s);
		omo_arena_fini(&jobs[i].a);
	}
	free(jobs);
	/* More due than one batch takes: come back at once. */
	*next_us = n == BATCH_MAX ? ctx->now_us : omo_timer_next(ctx->txn, T_RETRY);
	return e;
}

/* ---- explain: an order's decision records, each re-run ----------------- */

typedef struct explain_scan {
	omo_decision *list;
	uint32_t n, cap;
	omo_arena *a;
	omo_err e;
	omo_error_detail *d;
} explain_scan;

static int explain_row(void *arg, const omo_val *key, const omo_val *val)
{
	explain_scan *x = arg;
	(void)key;
	if (x->n == x->cap) {
		omo_decision *more = omo_arena_grow(x->a, x->list, x->n, x->cap + 8, sizeof(*more));
		if (more == NULL) {
			x->e = OMO_E_NOMEM;
			return 1;
		}
		x->list = more;
		x->cap += 8;
	}
	x->e = omo_rec_decode(&omo_rec_decision, val->data, val->len, &x->list[x->n], x->a, x->d);
	x->n += x->e == OMO_E_OK;
	return x->e != OMO_E_OK;
}

/* replay routes d's inputs again with the rules in force and says whether
 * the plan is the one recorded. */
static void replay(const router_app *app, planner *p, const omo_decision *d, char *out,
                   size_t outlen, omo_arena *a)
{
	omo_decision again = *d;
	if (strcmp(d->rules_hash, app->rules.hash) != 0) {
		snprintf(out, outlen, "not re-run: the rule set has changed");
		return;
	}
	if (request_build(app, d, p) != 0 || decide(app, p, &again, a) != OMO_E_OK) {
		snprintf(out, outlen, "not re-run: the network has changed");
		return;
	}
	bool same = strcmp(again.input_digest, d->input_digest) == 0 &&
	            again.plan_count == d->plan_count &&
	            again.backordered_count == d->backordered_count;
	for (uint32_t i = 0; same && i < d->plan_count; i++)
		same = again.plan[i].line_no == d->plan[i].line_no &&
		       strcmp(again.plan[i].node, d->plan[i].node) == 0 &&
		       again.plan[i].quantity == d->plan[i].quantity;
	snprintf(out, outlen, "%s", same ? "same plan" : "different plan");
}

/* ---- promise: where each SKU would come from, and when ------------------ */

/*
 * promise routes each item alone, as a one-line order, against one stock
 * snapshot, with the rules in force; nothing is held (a checkout holds with
 * hold_cart). The row names the node sending most units and the latest day
 * any of them arrives.
 */
static omo_err promise(omo_ctx *ctx, const omo_promise *q, omo_msg *reply, omo_error_detail *d)
{
	const router_app *app = ctx->app;
	snapshot snap = {0};
	planner *p = NULL;
	omo_msg_init(reply, OMO_MSG_PROMISE_REPLY);
	omo_promise_reply *out = &reply->body.promise_reply;
	omo_err e = OMO_E_OK;
	if (q->fulfillment == OMO_PICKUP_IN_STORE &&
	    omo_catalog_node_index(&app->catalog, q->pickup_node) < 0)
		return omo_fail(d, OMO_E_UNKNOWN_NODE, "pickup_node: \"%s\" is not in the network",
		                q->pickup_node);
	snap.skus = calloc(q->items_count + 1, sizeof(*snap.skus));
	out->rows = omo_arena_alloc(&reply->arena, q->items_count * sizeof(*out->rows));
	if (snap.skus == NULL || out->rows == NULL ||
	    planner_alloc(&p, app->catalog.n_nodes) != OMO_E_OK)
		e = omo_fail(d, OMO_E_NOMEM, "out of memory");
	for (uint32_t i = 0; e == OMO_E_OK && i < q->items_count; i++)
		snap.skus[snap.n_skus++] = q->items[i].sku;
	if (e == OMO_E_OK)
		e = snapshot_take(ctx, app, &snap, d);
	snprintf(out->rules_hash, sizeof(out->rules_hash), "%s", app->rules.hash);
	for (uint32_t i = 0; e == OMO_E_OK && i < q->items_count; i++) {
		omo_alloc_line line = {.line_no = 1, .quantity = q->items[i].quantity};
		omo_decision dec = {.at_us = ctx->now_us,
		                    .channel = q->channel,
		                    .fulfillment = q->fulfillment,
		                    .ship_to = q->ship_to,
		                    .lines = &line,
		                    .lines_count = 1};
		omo_promise_row *row = &out->rows[out->rows_count++];
		memcpy(line.sku, q->items[i].sku, sizeof(line.sku));
		memcpy(dec.pickup_node, q->pickup_node, sizeof(dec.pickup_node));
		memcpy(row->sku, q->items[i].sku, sizeof(row->sku));
		row->quantity = q->items[i].quantity;
		if ((e = decision_inputs(app, &snap, &dec, &reply->arena)) != OMO_E_OK)
			break;
		if (request_build(app, &dec, p) != 0 ||
		    rt_decide(&app->rules, &p->order, &p->snap, &p->plan, p->cands) != RT_OK) {
			e = omo_fail(d, OMO_E_INTERNAL, "items[%u] could not be routed", i);
			break;
		}
		int64_t most = 0;
		for (uint32_t k = 0; k < p->plan.n_allocs; k++) {
			const rt_alloc *al = &p->plan.allocs[k];
			row->available += al->quantity;
			if (al->promise_day > row->promise_day)
				row->promise_day = al->promise_day;
			if (al->quantity > most) {
				most = al->quantity;
				memcpy(row->node, app->catalog.nodes[al->node].id,
				       sizeof(row->node));
			}
		}
		row->nodes = p->plan.n_nodes_used;
	}
	planner_free(p);
	snapshot_fini(&snap);
	return e;
}

static omo_err on_request(omo_ctx *ctx, const omo_msg *req, omo_msg *reply, omo_error_detail *d)
{
	const router_app *app = ctx->app;
	if (req->type == OMO_MSG_PROMISE)
		return promise(ctx, &req->body.promise, reply, d);
	if (req->type != OMO_MSG_EXPLAIN)
		return omo_fail(d, OMO_E_UNKNOWN_TYPE, "the router answers promise and explain");
	omo_msg_init(reply, OMO_MSG_EXPLANATION);
	explain_scan x = {.a = &reply->arena, .e = OMO_E_OK, .d = d};
	omo_err e = omo_scan(ctx->txn, T_DECISIONS, req->body.explain.order_id.b, 16, NULL, 0,
	                     explain_row, &x);
	if (e == OMO_E_OK)
		e = x.e;
	if (e == OMO_E_OK && x.n == 0)
		e = omo_fail(d, OMO_E_NOT_FOUND, "no decision recorded for this order");
	planner *p = NULL;
	if (e == OMO_E_OK && planner_alloc(&p, app->catalog.n_nodes) != OMO_E_OK)
		e = omo_fail(d, OMO_E_NOMEM, "out of memory");
	for (uint32_t i = 0; e == OMO_E_OK && i < x.n; i++)
		replay(app, p, &x.list[i], x.list[i].replay, sizeof(x.list[i].replay),
		       &reply->arena);
	planner_free(p);
	reply->body.explanation.decisions = x.list;
	reply->body.explanation.decisions_count = x.n;
	return e;
}

static const omo_handlers handlers = {
    .name = "router",
    .tables = router_tables,
    .n_tables = 3,
    .on_request = on_request,
    .on_event = on_event,
    .on_tick = on_tick,
    .stats = stats,
    .n_stats = sizeof(stats) / sizeof(stats[0]),
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
