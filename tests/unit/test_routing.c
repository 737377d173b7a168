/*
 * test_routing.c - rt_route() against hand-worked plans, its refusals, the
 * distance function, and a seeded random run that checks the plan's
 * invariants on thousands of small requests.
 *
 * Set OMO_ROUTING_SEED (a number) to rerun the random test from another seed;
 * the seed in use is printed either way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routing.h"

#define MAX_NODES 16

/* Paris; test nodes sit due north of it, dlat micro-degrees away. */
#define SHIP_LAT 48856600
#define SHIP_LON 2352200

/* A request under construction; stock is kept per (line, node) and flattened by route(). */
typedef struct fixture {
	rt_line lines[RT_MAX_LINES];
	rt_node nodes[MAX_NODES];
	int64_t stock[RT_MAX_LINES][MAX_NODES];
	int64_t available[RT_MAX_LINES * MAX_NODES];
	uint8_t excluded[MAX_NODES];
	rt_request req;
	rt_plan plan;
	rt_candidate cands[MAX_NODES];
} fixture;

static fixture *fx_new(void)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->req.lines = f->lines;
	f->req.nodes = f->nodes;
	f->req.available = f->available;
	f->req.excluded = f->excluded;
	f->req.fulfillment = RT_SHIP_TO_HOME;
	f->req.ship_lat_udeg = SHIP_LAT;
	f->req.ship_lon_udeg = SHIP_LON;
	return f;
}

static uint32_t fx_line(fixture *f, int64_t qty)
{
	uint32_t l = f->req.n_lines++;

	f->lines[l].line_no = l + 1;
	f->lines[l].quantity = qty;
	return l;
}

static uint32_t fx_node(fixture *f, rt_node_type type, uint32_t caps, int64_t dlat)
{
	uint32_t n = f->req.n_nodes++;

	snprintf(f->nodes[n].id, sizeof(f->nodes[n].id), "node-%u", n);
	f->nodes[n].type = type;
	f->nodes[n].caps = caps;
	f->nodes[n].lat_udeg = SHIP_LAT + dlat;
	f->nodes[n].lon_udeg = SHIP_LON;
	f->nodes[n].online = true;
	return n;
}

static uint32_t fx_warehouse(fixture *f, int64_t dlat)
{
	return fx_node(f, RT_WAREHOUSE, RT_CAP_SHIP, dlat);
}

static rt_status fx_route(fixture *f)
{
	for (uint32_t l = 0; l < f->req.n_lines; l++) {
		for (uint32_t n = 0; n < f->req.n_nodes; n++)
			f->available[l * f->req.n_nodes + n] = f->stock[l][n];
	}
	return rt_route(&f->req, &f->plan, f->cands);
}

static void expect_alloc(const rt_plan *plan, uint32_t i, uint32_t line, uint32_t node, int64_t qty)
{
	assert_true(i < plan->n_allocs);
	assert_int_equal(plan->allocs[i].line, line);
	assert_int_equal(plan->allocs[i].node, node);
	assert_int_equal(plan->allocs[i].quantity, qty);
}

static void expect_exclusion(const fixture *f, uint32_t n, rt_exclusion e)
{
	assert_string_equal(rt_exclusion_name(f->cands[n].exclusion), rt_exclusion_name(e));
}

static void test_single_node_covers_all(void **state)
{
	fixture *f = fx_new();
	uint32_t n;

	(void)state;
	fx_line(f, 2);
	fx_line(f, 1);
	fx_line(f, 5);
	n = fx_warehouse(f, 10000);
	f->stock[0][n] = 2;
	f->stock[1][n] = 3;
	f->stock[2][n] = 9;

	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 3);
	expect_alloc(&f->plan, 0, 0, n, 2);
	expect_alloc(&f->plan, 1, 1, n, 1);
	expect_alloc(&f->plan, 2, 2, n, 5);
	assert_true(f->plan.complete);
	assert_int_equal(f->plan.n_nodes_used, 1);
	for (uint32_t l = 0; l < 3; l++)
		assert_int_equal(f->plan.short_qty[l], 0);
	expect_exclusion(f, n, RT_INCLUDED);
	assert_int_equal(f->cands[n].lines_coverable, 3);
	/* 0.01 degree of latitude is 1111.95 m on this sphere. */
	assert_int_equal(f->cands[n].distance_m, 1112);
	assert_int_equal(f->cands[n].score, 1112);
	free(f);
}

static void test_fewest_splits_beat_nearest(void **state)
{
	fixture *f = fx_new();
	uint32_t near0, near1, far;

	(void)state;
	fx_line(f, 1);
	fx_line(f, 1);
	near0 = fx_warehouse(f, 10000);
	near1 = fx_warehouse(f, 20000);
	far = fx_warehouse(f, 500000);
	f->stock[0][near0] = 1;
	f->stock[1][near1] = 1;
	f->stock[0][far] = 1;
	f->stock[1][far] = 1;

	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 2);
	expect_alloc(&f->plan, 0, 0, far, 1);
	expect_alloc(&f->plan, 1, 1, far, 1);
	assert_int_equal(f->plan.n_nodes_used, 1);
	assert_true(f->plan.complete);
	expect_exclusion(f, near0, RT_NOT_NEEDED);
	expect_exclusion(f, near1, RT_NOT_NEEDED);
	expect_exclusion(f, far, RT_INCLUDED);
	assert_int_equal(f->cands[near0].lines_coverable, 1);
	assert_int_equal(f->cands[far].lines_coverable, 2);
	free(f);
}

static void test_two_nodes_needed(void **state)
{
	fixture *f = fx_new();
	uint32_t a, b, c, d;

	(void)state;
	fx_line(f, 3);
	fx_line(f, 2);
	fx_line(f, 4);
	a = fx_warehouse(f, 90000); /* far, covers lines 0 and 1 */
	b = fx_warehouse(f, 10000); /* nearest, covers line 0 only */
	c = fx_warehouse(f, 40000); /* covers line 2 */
	d = fx_warehouse(f, 80000); /* covers line 2, farther than c */
	f->stock[0][a] = 3;
	f->stock[1][a] = 2;
	f->stock[2][a] = 3; /* one short of line 2 */
	f->stock[0][b] = 5;
	f->stock[2][c] = 4;
	f->stock[2][d] = 40;

	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 3);
	expect_alloc(&f->plan, 0, 0, a, 3);
	expect_alloc(&f->plan, 1, 1, a, 2);
	expect_alloc(&f->plan, 2, 2, c, 4);
	assert_int_equal(f->plan.n_nodes_used, 2);
	assert_true(f->plan.complete);
	expect_exclusion(f, a, RT_INCLUDED);
	expect_exclusion(f, b, RT_NOT_NEEDED);
	expect_exclusion(f, c, RT_INCLUDED);
	expect_exclusion(f, d, RT_NOT_NEEDED);
	free(f);
}

static void test_nearest_wins_tie(void **state)
{
	fixture *f = fx_new();
	uint32_t n0, n1, n2;

	(void)state;
	fx_line(f, 1);
	n0 = fx_warehouse(f, 30000);
	n1 = fx_warehouse(f, -20000);
	n2 = fx_warehouse(f, 25000);
	f->stock[0][n0] = 1;
	f->stock[0][n1] = 1;
	f->stock[0][n2] = 1;

	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 1);
	expect_alloc(&f->plan, 0, 0, n1, 1);
	expect_exclusion(f, n0, RT_NOT_NEEDED);
	expect_exclusion(f, n1, RT_INCLUDED);
	expect_exclusion(f, n2, RT_NOT_NEEDED);
	free(f);
}

static void test_equal_distance_lower_index_wins(void **state)
{
	fixture *f = fx_new();

	(void)state;
	fx_line(f, 1);
	fx_warehouse(f, 50000);
	fx_warehouse(f, 20000);
	fx_warehouse(f, 20000);
	f->stock[0][0] = 1;
	f->stock[0][1] = 1;
	f->stock[0][2] = 1;

	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 1);
	expect_alloc(&f->plan, 0, 0, 1, 1);
	expect_exclusion(f, 2, RT_NOT_NEEDED);
	free(f);
}

static void test_excluded_by_order(void **state)
{
	fixture *f = fx_new();
	uint32_t near, far;

	(void)state;
	fx_line(f, 2);
	near = fx_warehouse(f, 10000);
	far = fx_warehouse(f, 90000);
	f->stock[0][near] = 2;
	f->stock[0][far] = 2;
	f->excluded[near] = 1;

	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 1);
	expect_alloc(&f->plan, 0, 0, far, 2);
	expect_exclusion(f, near, RT_EXCLUDED_BY_ORDER);
	expect_exclusion(f, far, RT_INCLUDED);
	/* The record still says what the excluded node had to offer. */
	assert_int_equal(f->cands[near].lines_coverable, 1);
	assert_int_equal(f->cands[near].distance_m, 1112);

	/* Exclusion is checked first, even for a node that is also offline. */
	f->nodes[near].online = false;
	assert_int_equal(fx_route(f), RT_OK);
	expect_exclusion(f, near, RT_EXCLUDED_BY_ORDER);
	free(f);
}

static void test_offline(void **state)
{
	fixture *f = fx_new();
	uint32_t near, far;

	(void)state;
	fx_line(f, 1);
	near = fx_warehouse(f, 10000);
	far = fx_warehouse(f, 90000);
	f->stock[0][near] = 1;
	f->stock[0][far] = 1;
	f->nodes[near].online = false;
	f->nodes[near].caps = 0; /* offline wins over not capable */

	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 1);
	expect_alloc(&f->plan, 0, 0, far, 1);
	expect_exclusion(f, near, RT_OFFLINE);
	expect_exclusion(f, far, RT_INCLUDED);
	free(f);
}

static void test_not_capable(void **state)
{
	fixture *f = fx_new();
	uint32_t store, maker;

	(void)state;
	fx_line(f, 4);
	store = fx_node(f, RT_STORE, RT_CAP_PICKUP, 1000);
	maker = fx_node(f, RT_MANUFACTURER, RT_CAP_DROPSHIP, 300000);
	f->stock[0][store] = 10;
	f->stock[0][maker] = 10;

	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 1);
	expect_alloc(&f->plan, 0, 0, maker, 4);
	expect_exclusion(f, store, RT_NOT_CAPABLE);
	expect_exclusion(f, maker, RT_INCLUDED);
	assert_int_equal(f->cands[store].score, INT64_MAX);
	assert_int_equal(f->cands[maker].score, f->cands[maker].distance_m);

	/* A store that ships is as good as a warehouse. */
	f->nodes[store].caps |= RT_CAP_SHIP;
	assert_int_equal(fx_route(f), RT_OK);
	expect_alloc(&f->plan, 0, 0, store, 4);
	expect_exclusion(f, maker, RT_NOT_NEEDED);
	free(f);
}

static void test_no_stock(void **state)
{
	fixture *f = fx_new();
	uint32_t empty, full;

	(void)state;
	fx_line(f, 1);
	fx_line(f, 1);
	empty = fx_warehouse(f, 1000);
	full = fx_warehouse(f, 2000);
	f->stock[0][empty] = -3; /* oversold: counts as none */
	f->stock[1][empty] = 0;
	f->stock[0][full] = 1;
	f->stock[1][full] = 1;

	assert_int_equal(fx_route(f), RT_OK);
	expect_exclusion(f, empty, RT_NO_STOCK);
	expect_exclusion(f, full, RT_INCLUDED);
	assert_int_equal(f->cands[empty].lines_coverable, 0);
	assert_true(f->plan.complete);
	free(f);
}

static void test_pickup_uses_pickup_node_only(void **state)
{
	fixture *f = fx_new();
	uint32_t wh, other, store;

	(void)state;
	fx_line(f, 2);
	fx_line(f, 1);
	wh = fx_warehouse(f, 100);
	other = fx_node(f, RT_STORE, RT_CAP_PICKUP | RT_CAP_SHIP, 200);
	store = fx_node(f, RT_STORE, RT_CAP_PICKUP, 50000);
	for (uint32_t n = 0; n < 3; n++) {
		f->stock[0][n] = 5;
		f->stock[1][n] = 5;
	}
	f->req.fulfillment = RT_PICKUP_IN_STORE;
	f->req.pickup_node = (int32_t)store;
	f->req.ship_lat_udeg = 0; /* meaningless for pick-up */
	f->req.ship_lon_udeg = 0;

	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 2);
	expect_alloc(&f->plan, 0, 0, store, 2);
	expect_alloc(&f->plan, 1, 1, store, 1);
	assert_true(f->plan.complete);
	assert_int_equal(f->plan.n_nodes_used, 1);
	expect_exclusion(f, wh, RT_NOT_PICKUP_NODE);
	expect_exclusion(f, other, RT_NOT_PICKUP_NODE);
	expect_exclusion(f, store, RT_INCLUDED);
	/* Pick-up distances are measured from the store itself. */
	assert_int_equal(f->cands[store].distance_m, 0);
	assert_int_equal(f->cands[store].score, 0);
	assert_int_equal(f->cands[wh].distance_m,
	                 rt_distance_m(SHIP_LAT + 50000, SHIP_LON, SHIP_LAT + 100, SHIP_LON));
	free(f);
}

static void test_pickup_node_short(void **state)
{
	fixture *f = fx_new();
	uint32_t wh, store;

	(void)state;
	fx_line(f, 3);
	fx_line(f, 2);
	wh = fx_warehouse(f, 100);
	store = fx_node(f, RT_STORE, RT_CAP_PICKUP, 500);
	f->stock[0][wh] = 10;
	f->stock[1][wh] = 10;
	f->stock[0][store] = 1;
	f->stock[1][store] = 2;
	f->req.fulfillment = RT_PICKUP_IN_STORE;
	f->req.pickup_node = (int32_t)store;

	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 1);
	expect_alloc(&f->plan, 0, 1, store, 2);
	assert_int_equal(f->plan.short_qty[0], 3);
	assert_int_equal(f->plan.short_qty[1], 0);
	assert_false(f->plan.complete);
	assert_int_equal(f->plan.n_nodes_used, 1);
	expect_exclusion(f, wh, RT_NOT_PICKUP_NODE);

	/* With line splits the store gives what it has of line 0. */
	f->req.allow_line_split = true;
	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 2);
	expect_alloc(&f->plan, 0, 1, store, 2);
	expect_alloc(&f->plan, 1, 0, store, 1);
	assert_int_equal(f->plan.short_qty[0], 2);
	assert_false(f->plan.complete);

	/* A pick-up node that does not hand over orders gives nothing. */
	f->nodes[store].caps = RT_CAP_SHIP;
	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 0);
	assert_int_equal(f->plan.n_nodes_used, 0);
	assert_int_equal(f->plan.short_qty[0], 3);
	assert_int_equal(f->plan.short_qty[1], 2);
	expect_exclusion(f, store, RT_NOT_CAPABLE);
	free(f);
}

static void test_max_splits_leaves_shortage(void **state)
{
	fixture *f = fx_new();

	(void)state;
	fx_line(f, 1);
	fx_line(f, 1);
	fx_line(f, 1);
	fx_warehouse(f, 30000);
	fx_warehouse(f, 10000);
	fx_warehouse(f, 20000);
	f->stock[0][0] = 1;
	f->stock[1][1] = 1;
	f->stock[2][2] = 1;
	f->req.max_splits = 2;

	assert_int_equal(fx_route(f), RT_OK);
	/* One line each: nearest first, so nodes 1 then 2. */
	assert_int_equal(f->plan.n_allocs, 2);
	expect_alloc(&f->plan, 0, 1, 1, 1);
	expect_alloc(&f->plan, 1, 2, 2, 1);
	assert_int_equal(f->plan.n_nodes_used, 2);
	assert_int_equal(f->plan.short_qty[0], 1);
	assert_int_equal(f->plan.short_qty[1], 0);
	assert_int_equal(f->plan.short_qty[2], 0);
	assert_false(f->plan.complete);
	expect_exclusion(f, 0, RT_NOT_NEEDED);

	f->req.max_splits = 0;
	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_nodes_used, 3);
	assert_true(f->plan.complete);
	free(f);
}

static void test_line_split(void **state)
{
	fixture *f = fx_new();
	uint32_t near, far;

	(void)state;
	fx_line(f, 10);
	near = fx_warehouse(f, 10000);
	far = fx_warehouse(f, 20000);
	f->stock[0][near] = 6;
	f->stock[0][far] = 7;

	/* Neither node has all ten, and the line may not be split. */
	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 0);
	assert_int_equal(f->plan.short_qty[0], 10);
	assert_false(f->plan.complete);
	expect_exclusion(f, near, RT_NOT_NEEDED);

	f->req.allow_line_split = true;
	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 2);
	expect_alloc(&f->plan, 0, 0, near, 6);
	expect_alloc(&f->plan, 1, 0, far, 4);
	assert_int_equal(f->plan.short_qty[0], 0);
	assert_true(f->plan.complete);
	assert_int_equal(f->plan.n_nodes_used, 2);

	/* More than both have: each gives all it has, never more. */
	f->lines[0].quantity = 20;
	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 2);
	expect_alloc(&f->plan, 0, 0, near, 6);
	expect_alloc(&f->plan, 1, 0, far, 7);
	assert_int_equal(f->plan.short_qty[0], 7);
	assert_false(f->plan.complete);
	free(f);
}

static void test_line_split_prefers_nodes_in_plan(void **state)
{
	fixture *f = fx_new();
	uint32_t near, far;

	(void)state;
	fx_line(f, 5);
	fx_line(f, 10);
	near = fx_warehouse(f, 10000);
	far = fx_warehouse(f, 90000);
	f->stock[0][far] = 5;
	f->stock[1][far] = 4;
	f->stock[1][near] = 8;
	f->req.allow_line_split = true;

	/* far is in the plan for line 0, so line 1 takes from it before near. */
	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 3);
	expect_alloc(&f->plan, 0, 0, far, 5);
	expect_alloc(&f->plan, 1, 1, far, 4);
	expect_alloc(&f->plan, 2, 1, near, 6);
	assert_true(f->plan.complete);
	assert_int_equal(f->plan.n_nodes_used, 2);

	/* With one node allowed, line 1 gets only what far has. */
	f->req.max_splits = 1;
	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, 2);
	expect_alloc(&f->plan, 1, 1, far, 4);
	assert_int_equal(f->plan.short_qty[1], 6);
	assert_int_equal(f->plan.n_nodes_used, 1);
	expect_exclusion(f, near, RT_NOT_NEEDED);
	free(f);
}

static void test_no_nodes(void **state)
{
	fixture *f = fx_new();

	(void)state;
	fx_line(f, 3);
	fx_line(f, 1);
	f->req.nodes = NULL;
	f->req.available = NULL;
	f->req.excluded = NULL;

	assert_int_equal(rt_route(&f->req, &f->plan, NULL), RT_OK);
	assert_int_equal(f->plan.n_allocs, 0);
	assert_int_equal(f->plan.n_nodes_used, 0);
	assert_int_equal(f->plan.short_qty[0], 3);
	assert_int_equal(f->plan.short_qty[1], 1);
	assert_false(f->plan.complete);
	free(f);
}

static void test_alloc_limit(void **state)
{
	fixture *f = fx_new();
	int64_t allocated = 0;
	int64_t shortfall = 0;

	(void)state;
	/* 100 lines of 8 units, one unit per node: 800 allocations wanted. */
	for (uint32_t n = 0; n < 8; n++)
		fx_warehouse(f, 1000 * (n + 1));
	for (uint32_t l = 0; l < RT_MAX_LINES; l++) {
		fx_line(f, 8);
		for (uint32_t n = 0; n < 8; n++)
			f->stock[l][n] = 1;
	}
	f->req.allow_line_split = true;

	assert_int_equal(fx_route(f), RT_OK);
	assert_int_equal(f->plan.n_allocs, RT_MAX_ALLOCS);
	assert_false(f->plan.complete);
	for (uint32_t i = 0; i < f->plan.n_allocs; i++) {
		assert_int_equal(f->plan.allocs[i].quantity, 1);
		allocated += f->plan.allocs[i].quantity;
	}
	for (uint32_t l = 0; l < RT_MAX_LINES; l++)
		shortfall += f->plan.short_qty[l];
	assert_int_equal(allocated, RT_MAX_ALLOCS);
	assert_int_equal(allocated + shortfall, 8 * RT_MAX_LINES);
	/* The first 50 lines are filled; the rest are left whole. */
	assert_int_equal(f->plan.short_qty[49], 0);
	assert_int_equal(f->plan.short_qty[50], 8);
	assert_int_equal(f->plan.n_nodes_used, 8);
	free(f);
}

static void test_deterministic(void **state)
{
	fixture *f = fx_new();
	rt_plan *first = malloc(sizeof(*first));
	rt_candidate cands[MAX_NODES];

	(void)state;
	assert_non_null(first);
	for (uint32_t l = 0; l < 6; l++)
		fx_line(f, 1 + l % 3);
	for (uint32_t n = 0; n < 9; n++) {
		fx_node(f, (rt_node_type)(n % 3), RT_CAP_SHIP | RT_CAP_DROPSHIP, 7000 * (n % 4));
		for (uint32_t l = 0; l < 6; l++)
			f->stock[l][n] = (int64_t)((l * 7 + n * 3) % 5);
	}
	f->req.allow_line_split = true;

	/* Different garbage in the output beforehand must not show through. */
	memset(&f->plan, 0x00, sizeof(f->plan));
	memset(f->cands, 0x00, sizeof(f->cands));
	assert_int_equal(fx_route(f), RT_OK);
	memcpy(first, &f->plan, sizeof(*first));
	memcpy(cands, f->cands, sizeof(cands));
	memset(&f->plan, 0xff, sizeof(f->plan));
	memset(f->cands, 0x5a, sizeof(f->cands));
	assert_int_equal(fx_route(f), RT_OK);
	assert_memory_equal(first, &f->plan, sizeof(*first));
	for (uint32_t n = 0; n < 9; n++) {
		assert_int_equal(cands[n].exclusion, f->cands[n].exclusion);
		assert_int_equal(cands[n].lines_coverable, f->cands[n].lines_coverable);
		assert_int_equal(cands[n].distance_m, f->cands[n].distance_m);
		assert_int_equal(cands[n].score, f->cands[n].score);
	}
	assert_true(first->complete);
	free(first);
	free(f);
}

/* expect_einval routes f and checks that nothing at all was written. */
static void expect_einval(fixture *f, const rt_request *req)
{
	unsigned char clean[sizeof(f->plan)];

	memset(clean, 0xab, sizeof(clean));
	memset(&f->plan, 0xab, sizeof(f->plan));
	memset(f->cands, 0xab, sizeof(f->cands));
	assert_int_equal(rt_route(req, &f->plan, f->cands), RT_EINVAL);
	assert_memory_equal(&f->plan, clean, sizeof(f->plan));
	assert_memory_equal(f->cands, clean, sizeof(f->cands));
}

static void test_einval_writes_nothing(void **state)
{
	fixture *f = fx_new();
	rt_request req;

	(void)state;
	fx_line(f, 1);
	fx_line(f, 2);
	fx_warehouse(f, 0);
	fx_node(f, RT_STORE, RT_CAP_PICKUP, 0);
	assert_int_equal(fx_route(f), RT_OK);

	req = f->req;
	req.n_lines = 0;
	expect_einval(f, &req);
	req = f->req;
	req.n_lines = RT_MAX_LINES + 1;
	expect_einval(f, &req);
	req = f->req;
	req.lines = NULL;
	expect_einval(f, &req);
	req = f->req;
	req.nodes = NULL;
	expect_einval(f, &req);
	req = f->req;
	req.available = NULL;
	expect_einval(f, &req);
	req = f->req;
	req.fulfillment = (rt_fulfillment)7;
	expect_einval(f, &req);
	req = f->req;
	req.fulfillment = RT_PICKUP_IN_STORE;
	req.pickup_node = 2;
	expect_einval(f, &req);
	req.pickup_node = -1;
	expect_einval(f, &req);
	req.n_nodes = 0;
	req.pickup_node = 0;
	expect_einval(f, &req);

	f->lines[1].quantity = 0;
	expect_einval(f, &f->req);
	f->lines[1].quantity = -4;
	expect_einval(f, &f->req);
	f->lines[1].quantity = 2;

	expect_einval(f, NULL);
	assert_int_equal(rt_route(&f->req, NULL, f->cands), RT_EINVAL);
	memset(&f->plan, 0xab, sizeof(f->plan));
	assert_int_equal(rt_route(&f->req, &f->plan, NULL), RT_EINVAL);
	assert_int_equal(f->plan.n_allocs, 0xabababab);

	/* The same request, repaired, routes. */
	f->req.fulfillment = RT_PICKUP_IN_STORE;
	f->req.pickup_node = 1;
	assert_int_equal(fx_route(f), RT_OK);
	free(f);
}

static void test_distance(void **state)
{
	int64_t d;

	(void)state;
	/* Paris to London is about 343.5 km. */
	d = rt_distance_m(48856600, 2352200, 51507400, -127800);
	assert_in_range(d, 340065, 346935);
	assert_int_equal(rt_distance_m(51507400, -127800, 48856600, 2352200), d);
	assert_int_equal(rt_distance_m(48856600, 2352200, 48856600, 2352200), 0);
	/* A quarter meridian and half the equator, on a 6371008.8 m sphere. */
	assert_int_equal(rt_distance_m(0, 0, 90000000, 0), 10007557);
	assert_int_equal(rt_distance_m(0, 0, 0, 180000000), 20015114);
	assert_int_equal(rt_distance_m(0, -179000000, 0, 179000000), 222390);
}

static void test_exclusion_names(void **state)
{
	(void)state;
	assert_string_equal(rt_exclusion_name(RT_INCLUDED), "included");
	assert_string_equal(rt_exclusion_name(RT_EXCLUDED_BY_ORDER), "excluded_by_order");
	assert_string_equal(rt_exclusion_name(RT_OFFLINE), "offline");
	assert_string_equal(rt_exclusion_name(RT_NOT_CAPABLE), "not_capable");
	assert_string_equal(rt_exclusion_name(RT_NOT_PICKUP_NODE), "not_pickup_node");
	assert_string_equal(rt_exclusion_name(RT_NO_STOCK), "no_stock");
	assert_string_equal(rt_exclusion_name(RT_NOT_NEEDED), "not_needed");
	assert_string_equal(rt_exclusion_name((rt_exclusion)99), "unknown");
}

/* ---- randomized invariants ---- */

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static uint32_t rnd(uint64_t *s, uint32_t below)
{
	return (uint32_t)(xorshift64(s) % below);
}

static bool usable(const rt_request *req, uint32_t n)
{
	uint32_t need = RT_CAP_SHIP | RT_CAP_DROPSHIP;

	if (req->excluded[n] || !req->nodes[n].online)
		return false;
	if (req->fulfillment == RT_PICKUP_IN_STORE) {
		if (n != (uint32_t)req->pickup_node)
			return false;
		need = RT_CAP_PICKUP;
	}
	return (req->nodes[n].caps & need) != 0;
}

static void random_request(fixture *f, uint64_t *s)
{
	uint32_t n_lines = 1 + rnd(s, 6);
	uint32_t n_nodes = rnd(s, 13);

	f->req.n_lines = 0;
	f->req.n_nodes = 0;
	for (uint32_t l = 0; l < n_lines; l++)
		fx_line(f, 1 + rnd(s, 6));
	for (uint32_t n = 0; n < n_nodes; n++) {
		/* Coarse positions make equal distances, and so ties, common. */
		fx_node(f, (rt_node_type)rnd(s, 3), rnd(s, 8), 10000 * (int64_t)rnd(s, 5));
		f->nodes[n].lon_udeg += 10000 * (int64_t)rnd(s, 3);
		f->nodes[n].online = rnd(s, 8) != 0;
		f->excluded[n] = rnd(s, 8) == 0;
		for (uint32_t l = 0; l < n_lines; l++)
			f->stock[l][n] = (int64_t)rnd(s, 9) - 2;
	}
	f->req.fulfillment = n_nodes > 0 && rnd(s, 4) == 0 ? RT_PICKUP_IN_STORE : RT_SHIP_TO_HOME;
	f->req.pickup_node = n_nodes > 0 ? (int32_t)rnd(s, n_nodes) : 0;
	f->req.max_splits = rnd(s, 4);
	f->req.allow_line_split = rnd(s, 2) != 0;
}

static void check_invariants(const fixture *f)
{
	const rt_request *req = &f->req;
	const rt_plan *plan = &f->plan;
	uint32_t included = 0;
	bool complete = true;

	assert_true(plan->n_allocs <= RT_MAX_ALLOCS);
	for (uint32_t l = 0; l < req->n_lines; l++) {
		int64_t sum = plan->short_qty[l];
		uint32_t count = 0;

		assert_true(plan->short_qty[l] >= 0);
		complete = complete && plan->short_qty[l] == 0;
		for (uint32_t n = 0; n < req->n_nodes; n++) {
			int64_t given = 0;
			int64_t avail = f->stock[l][n] > 0 ? f->stock[l][n] : 0;

			for (uint32_t i = 0; i < plan->n_allocs; i++) {
				if (plan->allocs[i].line == l && plan->allocs[i].node == n)
					given += plan->allocs[i].quantity;
			}
			assert_true(given <= avail);
		}
		for (uint32_t i = 0; i < plan->n_allocs; i++) {
			if (plan->allocs[i].line == l) {
				sum += plan->allocs[i].quantity;
				count++;
			}
		}
		assert_int_equal(sum, req->lines[l].quantity);
		if (!req->allow_line_split) {
			assert_true(count <= 1);
			assert_true(count == 0 || plan->short_qty[l] == 0);
		}
	}
	assert_int_equal(plan->complete, complete);
	for (uint32_t i = 0; i < plan->n_allocs; i++) {
		const rt_alloc *a = &plan->allocs[i];

		assert_true(a->line < req->n_lines);
		assert_true(a->node < req->n_nodes);
		assert_true(a->quantity > 0);
		assert_true(usable(req, a->node));
		assert_int_equal(f->cands[a->node].exclusion, RT_INCLUDED);
	}
	for (uint32_t n = 0; n < req->n_nodes; n++) {
		const rt_candidate *c = &f->cands[n];

		if (c->exclusion == RT_INCLUDED)
			included++;
		if (c->exclusion == RT_INCLUDED || c->exclusion == RT_NOT_NEEDED) {
			assert_true(usable(req, n));
			assert_int_equal(c->score, c->distance_m);
		} else {
			assert_int_equal(c->score, INT64_MAX);
		}
		if (req->fulfillment == RT_PICKUP_IN_STORE && n != (uint32_t)req->pickup_node)
			assert_true(c->exclusion == RT_NOT_PICKUP_NODE ||
			            c->exclusion == RT_EXCLUDED_BY_ORDER ||
			            c->exclusion == RT_OFFLINE);
	}
	assert_int_equal(included, plan->n_nodes_used);
	if (req->max_splits != 0)
		assert_true(plan->n_nodes_used <= req->max_splits);
}

static void test_random_invariants(void **state)
{
	fixture *f = fx_new();
	rt_plan *again = malloc(sizeof(*again));
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	const char *env = getenv("OMO_ROUTING_SEED");
	uint64_t s;

	(void)state;
	assert_non_null(again);
	if (env != NULL && *env != '\0')
		seed = strtoull(env, NULL, 0);
	if (seed == 0)
		seed = 1; /* xorshift's one fixed point */
	printf("test_random_invariants: seed 0x%llx\n", (unsigned long long)seed);
	s = seed;
	for (int i = 0; i < 2000; i++) {
		random_request(f, &s);
		assert_int_equal(fx_route(f), RT_OK);
		check_invariants(f);
		memcpy(again, &f->plan, sizeof(*again));
		assert_int_equal(fx_route(f), RT_OK);
		assert_memory_equal(again, &f->plan, sizeof(*again));
	}
	free(again);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_node_covers_all),
	    cmocka_unit_test(test_fewest_splits_beat_nearest),
	    cmocka_unit_test(test_two_nodes_needed),
	    cmocka_unit_test(test_nearest_wins_tie),
	    cmocka_unit_test(test_equal_distance_lower_index_wins),
	    cmocka_unit_test(test_excluded_by_order),
	    cmocka_unit_test(test_offline),
	    cmocka_unit_test(test_not_capable),
	    cmocka_unit_test(test_no_stock),
	    cmocka_unit_test(test_pickup_uses_pickup_node_only),
	    cmocka_unit_test(test_pickup_node_short),
	    cmocka_unit_test(test_max_splits_leaves_shortage),
	    cmocka_unit_test(test_line_split),
	    cmocka_unit_test(test_line_split_prefers_nodes_in_plan),
	    cmocka_unit_test(test_no_nodes),
	    cmocka_unit_test(test_alloc_limit),
	    cmocka_unit_test(test_deterministic),
	    cmocka_unit_test(test_einval_writes_nothing),
	    cmocka_unit_test(test_distance),
	    cmocka_unit_test(test_exclusion_names),
	    cmocka_unit_test(test_random_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
