/*
 * golden.c - runs one golden routing case: a data file with a rule set, a
 * network, stock and an order in, and the expected plan and reasons out.
 *
 *   about: what the case shows
 *   rules: {...}                  # a rule set, as in rules.h
 *   network:                      # in index order; ties go to the lower index
 *     - {id: DC-1, type: warehouse, caps: [ship, hazmat], lat: 40.0, lon: -74.0,
 *        online: true, used_orders: 0, used_lines: 0}
 *   stock:                        # (node, SKU) rows; components of made-to-order SKUs too
 *     - {node: DC-1, sku: A, on_hand: 5, reserved: 0}
 *   order:
 *     channel: web                # as in messages.def
 *     fulfillment: ship_to_home   # or pickup_in_store with pickup: ST-1
 *     ship_to: {lat: 40.7, lon: -74.0}
 *     today: 20000                # days since the epoch
 *     time: "10:30"               # UTC
 *     promise_by_day: 20003       # optional
 *     ship_complete: false
 *     excluded: [DC-2]            # rejected before
 *     lines: [{sku: A, quantity: 2, weight_g: 500}]
 *   expect:
 *     strategy: ship-to-home
 *     search: exact               # optional
 *     plan: [{line: 1, node: DC-1, quantity: 2, promise_day: 20001, transfer: false, made: false}]
 *     short: {1: 0}               # optional: units short per line number (absent lines: 0)
 *     reasons: {DC-2: excluded_by_order}
 *     cost: 123                   # optional
 *
 * Node operating data (handling cost, cutoff, ...), hazmat SKUs, bills of
 * materials and stock policy come from the rule set, as in the router. The
 * case also checks that deciding twice gives the same plan and digest.
 * Usage: routing-golden CASE.yaml; exit 0 if the case holds.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "schema.h"
#include "yamldoc.h"

#define MAX_NODES 64
#define MAX_SKUS  64

typedef struct golden {
	const char *path;
	rt_rules rules;
	rt_node nodes[MAX_NODES];
	uint32_t n_nodes;
	const char *skus[MAX_SKUS]; /* SKUs named by the stock rows */
	uint32_t n_skus;
	int64_t on_hand[MAX_SKUS][MAX_NODES], reserved[MAX_SKUS][MAX_NODES];
	rt_order_line lines[RT_MAX_LINES];
	const char *line_sku[RT_MAX_LINES];
	rt_component comps[RT_MAX_LINES][RT_MAX_BOM];
	int64_t comp_free[RT_MAX_LINES][RT_MAX_BOM][MAX_NODES];
	rt_stock stock[RT_MAX_LINES * MAX_NODES];
	uint8_t excluded[MAX_NODES];
	rt_order order;
	rt_snapshot snap;
	int failures;
} golden;

static void fail(golden *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(golden *g, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", g->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	g->failures++;
}

static int64_t num(const json_t *obj, const char *key, int64_t def)
{
	const json_t *v = json_object_get(obj, key);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)llround(json_real_value(v) *
		                        1e6); /* coordinates in micro-degrees */
	if (json_is_boolean(v))
		return json_is_true(v);
	return def;
}

static const char *str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s != NULL ? s : "";
}

static int node_index(const golden *g, const char *id)
{
	for (uint32_t n = 0; n < g->n_nodes; n++)
		if (strcmp(g->nodes[n].id, id) == 0)
			return (int)n;
	return -1;
}

static int sku_index(golden *g, const char *sku, bool add)
{
	for (uint32_t i = 0; i < g->n_skus; i++)
		if (strcmp(g->skus[i], sku) == 0)
			return (int)i;
	if (!add || g->n_skus == MAX_SKUS)
		return -1;
	g->skus[g->n_skus] = sku;
	return (int)g->n_skus++;
}

static uint32_t caps_of(golden *g, const json_t *list)
{
	static const char *const names[] = {"ship", "pickup", "dropship", "hazmat", "transfer"};
	uint32_t caps = 0;
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		uint32_t k = 0;
		while (k < 5 &&
		       strcmp(names[k], json_string_value(v) ? json_string_value(v) : "") != 0)
			k++;
		if (k == 5)
			fail(g, "network: unknown capability");
		caps |= 1u << k;
	}
	return caps;
}

static void load_network(golden *g, const json_t *list)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		rt_node *n = &g->nodes[g->n_nodes++];
		const char *type = str(v, "type");
		snprintf(n->id, sizeof(n->id), "%s", str(v, "id"));
		n->type = strcmp(type, "manufacturer") == 0 ? RT_MANUFACTURER
		          : strcmp(type, "warehouse") == 0  ? RT_WAREHOUSE
		                                            : RT_STORE;
		n->caps = caps_of(g, json_object_get(v, "caps"));
		n->lat_udeg = num(v, "lat", 0);
		n->lon_udeg = num(v, "lon", 0);
		n->online = num(v, "online", 1) != 0;
		n->used_orders = num(v, "used_orders", 0);
		n->used_lines = num(v, "used_lines", 0);
		const rt_node_rule *rule = rt_rules_node(&g->rules, n->id);
		if (rule != NULL)
			rt_node_apply(n, rule);
	}
}

static void load_stock(golden *g, const json_t *list)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		int n = node_index(g, str(v, "node"));
		int k = sku_index(g, str(v, "sku"), true);
		if (n < 0 || k < 0) {
			fail(g, "stock[%zu]: unknown node or too many SKUs", i);
			continue;
		}
		g->on_hand[k][n] = num(v, "on_hand", 0);
		g->reserved[k][n] = num(v, "reserved", 0);
	}
}

static void load_order(golden *g, const json_t *o)
{
	size_t i;
	json_t *v;
	const char *ch = str(o, "channel"), *ff = str(o, "fulfillment"), *time = str(o, "time");
	unsigned hh = 0, mm = 0;
	sscanf(time, "%u:%u", &hh, &mm);
	g->order.channel = omo_enum_parse(&omo_enum_channel, ch, strlen(ch));
	g->order.fulfillment = omo_enum_parse(&omo_enum_fulfillment, ff, strlen(ff));
	g->order.ship_lat_udeg = num(json_object_get(o, "ship_to"), "lat", 0);
	g->order.ship_lon_udeg = num(json_object_get(o, "ship_to"), "lon", 0);
	g->order.pickup_node = node_index(g, str(o, "pickup"));
	g->order.ship_complete = num(o, "ship_complete", 0) != 0;
	g->order.now_us = (num(o, "today", 20000) * 1440 + hh * 60 + mm) * 60000000LL;
	g->order.promise_by_us = num(o, "promise_by_day", 0) * 86400000000LL;
	json_array_foreach(json_object_get(o, "excluded"), i, v)
	{
		int n = node_index(g, json_string_value(v) ? json_string_value(v) : "");
		if (n >= 0)
			g->excluded[n] = 1;
	}
	g->order.excluded = g->excluded;
	json_array_foreach(json_object_get(o, "lines"), i, v)
	{
		rt_order_line *line = &g->lines[g->order.n_lines];
		const char *sku = str(v, "sku");
		const rt_sku_rule *rule = rt_rules_sku(&g->rules, sku);
		int k = sku_index(g, sku, true);
		g->line_sku[g->order.n_lines] = sku;
		line->line_no = g->order.n_lines + 1;
		line->quantity = num(v, "quantity", 0);
		line->weight_g = num(v, "weight_g", 0);
		line->hazmat = rule != NULL && rule->hazmat;
		for (uint32_t n = 0; n < g->n_nodes; n++) {
			rt_stock *s = &g->stock[(size_t)g->order.n_lines * g->n_nodes + n];
			const rt_stock_rule *policy =
			    rt_rules_stock(&g->rules, g->nodes[n].id, sku);
			s->on_hand = k >= 0 ? g->on_hand[k][n] : 0;
			s->reserved = k >= 0 ? g->reserved[k][n] : 0;
			if (policy != NULL) {
				s->safety = policy->safety;
				s->target = policy->target;
				s->channel_held = policy->channel_held;
				s->channel_mask = policy->channel_mask;
			}
		}
		for (uint32_t b = 0; rule != NULL && b < rule->n_bom; b++) {
			int ck = sku_index(g, rule->bom[b].sku, false);
			for (uint32_t n = 0; n < g->n_nodes; n++)
				g->comp_free[g->order.n_lines][b][n] =
				    ck >= 0 ? g->on_hand[ck][n] - g->reserved[ck][n] : 0;
			g->comps[g->order.n_lines][b] =
			    (rt_component){.per_unit = rule->bom[b].per_unit,
			                   .free = g->comp_free[g->order.n_lines][b]};
		}
		if (rule != NULL && rule->n_bom > 0) {
			line->bom = g->comps[g->order.n_lines];
			line->n_bom = rule->n_bom;
		}
		g->order.n_lines++;
	}
	g->order.lines = g->lines;
	g->snap = (rt_snapshot){.nodes = g->nodes, .n_nodes = g->n_nodes, .stock = g->stock};
}

static void print_plan(const golden *g, const rt_plan *plan, const rt_candidate *cands)
{
	fprintf(stderr, "  got (strategy %s, %s, cost %lld):\n",
	        g->rules.strategies[plan->strategy].name, plan->exact ? "exact" : "shortlist",
	        (long long)plan->cost);
	for (uint32_t i = 0; i < plan->n_allocs; i++) {
		const rt_alloc *a = &plan->allocs[i];
		fprintf(
		    stderr,
		    "    - {line: %u, node: %s, quantity: %lld, promise_day: %lld, transfer: %s, "
		    "made: %s}\n",
		    a->line + 1, g->nodes[a->node].id, (long long)a->quantity,
		    (long long)a->promise_day, a->transfer ? "true" : "false",
		    a->made ? "true" : "false");
	}
	for (uint32_t n = 0; n < g->n_nodes; n++)
		fprintf(stderr, "    %s: %s score %lld\n", g->nodes[n].id,
		        rt_exclusion_name(cands[n].exclusion), (long long)cands[n].score);
}

static void check(golden *g, const json_t *expect, const rt_plan *plan, const rt_candidate *cands)
{
	const json_t *want_plan = json_object_get(expect, "plan");
	const char *strategy = str(expect, "strategy");
	size_t i;
	json_t *v;
	const char *key;

	if (strategy[0] && strcmp(strategy, g->rules.strategies[plan->strategy].name) != 0)
		fail(g, "strategy %s, want %s", g->rules.strategies[plan->strategy].name, strategy);
	if (str(expect, "search")[0] &&
	    strcmp(str(expect, "search"), plan->exact ? "exact" : "shortlist") != 0)
		fail(g, "search %s, want %s", plan->exact ? "exact" : "shortlist",
		     str(expect, "search"));
	if (json_object_get(expect, "cost") != NULL && num(expect, "cost", 0) != plan->cost)
		fail(g, "cost %lld, want %lld", (long long)plan->cost,
		     (long long)num(expect, "cost", 0));
	if (json_array_size(want_plan) != plan->n_allocs)
		fail(g, "%u allocations, want %zu", plan->n_allocs, json_array_size(want_plan));
	json_array_foreach(want_plan, i, v)
	{
		bool found = false;
		for (uint32_t k = 0; k < plan->n_allocs && !found; k++) {
			const rt_alloc *a = &plan->allocs[k];
			found = (int64_t)a->line + 1 == num(v, "line", 0) &&
			        strcmp(g->nodes[a->node].id, str(v, "node")) == 0 &&
			        a->quantity == num(v, "quantity", 0) &&
			        a->transfer == (num(v, "transfer", 0) != 0) &&
			        a->made == (num(v, "made", 0) != 0) &&
			        (json_object_get(v, "promise_day") == NULL ||
			         a->promise_day == num(v, "promise_day", 0));
		}
		if (!found)
			fail(g, "plan lacks line %lld x%lld from %s", (long long)num(v, "line", 0),
			     (long long)num(v, "quantity", 0), str(v, "node"));
	}
	for (uint32_t l = 0; l < g->order.n_lines; l++) {
		char no[16];
		snprintf(no, sizeof(no), "%u", l + 1);
		int64_t want = num(json_object_get(expect, "short"), no, 0);
		if (plan->short_qty[l] != want)
			fail(g, "line %u short %lld, want %lld", l + 1,
			     (long long)plan->short_qty[l], (long long)want);
	}
	json_object_foreach((json_t *)json_object_get(expect, "reasons"), key, v)
	{
		int n = node_index(g, key);
		if (n < 0)
			fail(g, "reasons: no node %s", key);
		else if (strcmp(rt_exclusion_name(cands[n].exclusion), json_string_value(v)) != 0)
			fail(g, "%s is %s, want %s", key, rt_exclusion_name(cands[n].exclusion),
			     json_string_value(v));
	}
}

int main(int argc, char **argv)
{
	static golden g;
	static rt_plan plan, again;
	static rt_candidate cands[MAX_NODES], cands2[MAX_NODES];
	char err[256], d1[RT_HASH_HEX + 1], d2[RT_HASH_HEX + 1];

	if (argc != 2) {
		fprintf(stderr, "usage: routing-golden CASE.yaml\n");
		return 2;
	}
	g.path = argv[1];
	json_t *doc = omo_yaml_load(g.path, err, sizeof(err));
	if (doc == NULL) {
		fprintf(stderr, "%s: %s\n", g.path, err);
		return 1;
	}
	if (rt_rules_parse(json_object_get(doc, "rules"), &g.rules, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: rules: %s\n", g.path, err);
		json_decref(doc);
		return 1;
	}
	if (json_array_size(json_object_get(doc, "network")) > MAX_NODES ||
	    json_array_size(json_object_get(json_object_get(doc, "order"), "lines")) >
	        RT_MAX_LINES) {
		fprintf(stderr, "%s: too many nodes or lines for the runner\n", g.path);
		return 1;
	}
	load_network(&g, json_object_get(doc, "network"));
	load_stock(&g, json_object_get(doc, "stock"));
	load_order(&g, json_object_get(doc, "order"));
	if (g.failures == 0 && rt_decide(&g.rules, &g.order, &g.snap, &plan, cands) != RT_OK)
		fail(&g, "rt_decide refused the request");
	if (g.failures == 0) {
		check(&g, json_object_get(doc, "expect"), &plan, cands);
		/* the same inputs decide the same again, with the same digest */
		rt_input_digest(&g.order, &g.snap, d1);
		if (rt_decide(&g.rules, &g.order, &g.snap, &again, cands2) != RT_OK ||
		    memcmp(&plan, &again, sizeof(plan)) != 0 ||
		    memcmp(cands, cands2, g.n_nodes * sizeof(cands[0])) != 0)
			fail(&g, "a second decision differs");
		rt_input_digest(&g.order, &g.snap, d2);
		if (strlen(d1) != RT_HASH_HEX || strcmp(d1, d2) != 0)
			fail(&g, "input digest unstable");
		if (g.failures > 0)
			print_plan(&g, &plan, cands);
	}
	rt_rules_fini(&g.rules);
	json_decref(doc);
	if (g.failures == 0)
		printf("%s: ok\n", g.path);
	return g.failures == 0 ? 0 : 1;
}
