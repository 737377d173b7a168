/*
 * decide.c - rt_decide(): one order, one snapshot, one rule set.
 *
 * 1. Filters. Each node gets the first reason that applies, in the order
 *    exclusions, online, capability (pick-up: the customer's store must offer
 *    pick-up, and other nodes may only send a transfer, if the strategy
 *    allows transfers), daily capacity. Then every (line, node) cell gets its
 *    units: made-to-order lines (a bill of materials) are capable-to-promise,
 *    min(make capacity, component units / units per piece); other lines are
 *    on hand - reserved, less safety stock, less what is set aside for other
 *    channels, each step only under its filter; hazardous lines count 0 at a
 *    node not allowed to handle them; with the promise filter, a late cell
 *    counts 0. A node left with no units of any line is out, for the most
 *    telling reason its cells gave (hazmat, safety stock, channel reserved,
 *    misses promise, else no stock).
 *
 * 2. Costs, in thousandths of a point so every term stays an integer. A node
 *    used costs a fixed amount per package: distance (metres, weighed per
 *    km), the zone's base shipping cost, its handling cost and the package
 *    penalty. A unit costs the zone's rate per kg by its weight, the late
 *    penalty per day past the promise date and the stock balance term.
 *    Promise day = today + processing days (+1 after the cutoff) + make days
 *    (made to order) + the zone's transit days; the zone is the first whose
 *    max_km covers the distance (the last one beyond). Pick-up measures
 *    from the store: the store itself is at 0, transfers ship to it.
 *
 * 3. Search. A plan is a set S of nodes (|S| <= max_splits). Given S, each
 *    line goes whole to its cheapest node in S that has it all, or, when
 *    lines may split, takes units from the cheapest nodes of S per unit
 *    first; both are optimal for S because unit costs are linear and every
 *    node in S pays its fixed cost. Plans compare by units short, then
 *    cost, then fewer nodes, then the sorted node indices: a total order,
 *    so the answer is deterministic. Branch and bound enumerates subsets
 *    depth first and prunes a branch when even all its remaining nodes
 *    could not leave fewer units short, or cost less, than the best so far
 *    (lower bound: fixed costs of S plus each line's best fill at the
 *    cheapest unit cost among S and the remaining nodes).
 *
 *    With at most RT_SHORTLIST eligible nodes this is exact. Beyond, the
 *    search runs on a shortlist of RT_SHORTLIST nodes: for each line its
 *    cheapest node holding all of it (or, if none, the one holding most),
 *    then each line's second, then the best remaining nodes by lines they
 *    hold whole, then standalone cost (fixed + those lines). The bound is
 *    that size, whatever the network; the tests measure how often it misses
 *    the exact answer.
 *
 *    Daily line capacity is checked on the plan chosen for S (a node given
 *    more lines than it has left makes S infeasible), which may miss a
 *    cheaper assignment inside S that respects it; made-to-order capacity
 *    is per line.
 *
 * Ship-complete orders use one node that has every line whole, or nothing.
 */
#include "rules.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo.h"

#define DAY_US     86400000000LL
#define MINUTE_US  60000000LL
#define RT_INF     (INT64_MAX / 4)
#define RT_NO_NODE UINT32_MAX

/* Costs saturate at RT_INF instead of wrapping; every term is >= 0. The
 * overflow builtins (GCC and Clang) keep a division out of the hot loop. */
static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_add_overflow(a, b, &r) || r > RT_INF ? RT_INF : r;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_mul_overflow(a, b, &r) || r > RT_INF ? RT_INF : r;
}

/* What rt_decide works from, worked out once. */
typedef struct dctx {
	const rt_strategy *st;
	const rt_rules *rules;
	const rt_order *o;
	const rt_snapshot *snap;
	rt_point ref;
	int64_t today;      /* days since the epoch */
	int64_t minute;     /* of today */
	int64_t promise_by; /* day; INT64_MAX if none */
	bool complete;      /* ship-complete: one node sends all, or nothing is sent */
	bool whole_lines;   /* lines may not split */
	uint32_t max_nodes;
	bool store_ok; /* pick-up: the store itself passes the node filters */
} dctx;

/* Per node, from pass 1. */
typedef struct nodeval {
	int64_t fixed;      /* cost per package */
	int64_t ship_day;   /* day it can hand goods to the carrier */
	int32_t transit;    /* days */
	int64_t per_kg;     /* zone rate */
	int64_t left_lines; /* daily line capacity left, INT64_MAX if none */
} nodeval;

/* One (line, node) cell. */
typedef struct cell {
	int64_t avail;
	int64_t unit; /* cost per unit */
	int64_t promise_day;
	bool made;
	rt_exclusion why; /* when avail is 0 */
} cell;

static const rt_zone *zone_for(const rt_rules *r, int64_t distance_m, uint32_t *zone)
{
	if (r->n_zones == 0) {
		*zone = 0;
		return NULL;
	}
	for (uint32_t z = 0; z < r->n_zones; z++)
		if (distance_m <= r->zones[z].max_km * 1000) {
			*zone = z + 1;
			return &r->zones[z];
		}
	*zone = r->n_zones;
	return &r->zones[r->n_zones - 1];
}

static rt_exclusion node_filter(const dctx *c, uint32_t n)
{
	const rt_node *node = &c->snap->nodes[n];
	uint32_t f = c->st->filters;

	if ((f & RT_FILTER_EXCLUSIONS) && c->o->excluded != NULL && c->o->excluded[n] != 0)
		return RT_EXCLUDED_BY_ORDER;
	if ((f & RT_FILTER_ONLINE) && !node->online)
		return RT_OFFLINE;
	if (c->o->fulfillment == RT_PICKUP_IN_STORE) {
		if (n == (uint32_t)c->o->pickup_node) {
			if ((f & RT_FILTER_CAPABILITY) && (node->caps & RT_CAP_PICKUP) == 0)
				return RT_NOT_CAPABLE;
		} else if (!c->st->pickup_transfer || !c->store_ok) {
			return RT_NOT_PICKUP_NODE; /* no transfer to a store that cannot hand over
			                            */
		} else if ((f & RT_FILTER_CAPABILITY) && (node->caps & RT_CAP_TRANSFER) == 0) {
			return RT_NOT_CAPABLE;
		}
	} else if ((f & RT_FILTER_CAPABILITY) &&
	           (node->caps & (RT_CAP_SHIP | RT_CAP_DROPSHIP)) == 0) {
		return RT_NOT_CAPABLE;
	}
	if ((f & RT_FILTER_DAILY_CAPACITY) &&
	    ((node->cap_orders > 0 && node->used_orders >= node->cap_orders) ||
	     (node->cap_lines > 0 && node->used_lines >= node->cap_lines)))
		return RT_AT_CAPACITY;
	return RT_NOT_NEEDED;
}

/* node_costs fills the per-package values of node n and its record row. */
static void node_costs(const dctx *c, uint32_t n, nodeval *v, rt_candidate *cand)
{
	const rt_node *node = &c->snap->nodes[n];
	const rt_weights *w = &c->st->weights;
	bool is_store = c->o->fulfillment == RT_PICKUP_IN_STORE && n == (uint32_t)c->o->pickup_node;
	const rt_zone *z;

	cand->distance_m = is_store ? 0 : rt_distance_from(&c->ref, node->lat_udeg, node->lon_udeg);
	z = zone_for(c->rules, cand->distance_m, &cand->zone);
	if (is_store) {
		z = NULL;
		cand->zone = 0;
	}
	v->transit = z != NULL ? z->transit_days : 0;
	v->per_kg = z != NULL ? z->per_kg : 0;
	v->ship_day = c->today + node->processing_days +
	              (node->cutoff_min > 0 && c->minute >= node->cutoff_min ? 1 : 0);
	v->fixed = sat_add(sat_mul(w->distance, cand->distance_m),
	                   sat_mul(1000, sat_add(sat_add(sat_mul(w->shipping, z ? z->base_cost : 0),
	                                                 sat_mul(w->handling, node->handling_cost)),
	                                         w->package)));
	v->left_lines = (c->st->filters & RT_FILTER_DAILY_CAPACITY) && node->cap_lines > 0
	                    ? node->cap_lines - node->used_lines
	                    : INT64_MAX;
}

static int64_t ctp_units(const dctx *c, const rt_order_line *line, uint32_t n)
{
	int64_t units = c->snap->nodes[n].make_capacity;

	for (uint32_t b = 0; b < line->n_bom && units > 0; b++) {
		int64_t free = line->bom[b].free[n];
		int64_t can = free > 0 ? free / line->bom[b].per_unit : 0;
		if (can < units)
			units = can;
	}
	return units > 0 ? units : 0;
}

static inline void cell_at(const dctx *c, const nodeval *v, uint32_t l, uint32_t n, cell *out)
{
	const rt_order_line *line = &c->o->lines[l];
	const rt_node *node = &c->snap->nodes[n];
	const rt_stock *s = &c->snap->stock[(size_t)l * c->snap->n_nodes + n];
	const rt_weights *w = &c->st->weights;
	uint32_t f = c->st->filters;
	int64_t free = s->on_hand - s->reserved, a, late;

	out->avail = 0;
	out->unit = 0;
	out->promise_day = 0;
	out->made = line->n_bom > 0;
	out->why = RT_NO_STOCK;
	if (!out->made && free <= 0)
		return; /* most cells of a large network: settled before any arithmetic */
	out->promise_day = v->ship_day + (out->made ? node->make_days : 0) + v->transit;
	if ((f & RT_FILTER_HAZMAT) && line->hazmat && (node->caps & RT_CAP_HAZMAT) == 0) {
		out->why = RT_NOT_HAZMAT;
		return;
	}
	if (out->made) {
		a = ctp_units(c, line, n);
	} else {
		a = free;
		if ((f & RT_FILTER_SAFETY_STOCK) && (a -= s->safety) <= 0)
			out->why = RT_SAFETY_STOCK;
		if (a > 0 && (f & RT_FILTER_CHANNEL_RESERVATION) && s->channel_held > 0 &&
		    (s->channel_mask & (1u << c->o->channel)) == 0 && (a -= s->channel_held) <= 0)
			out->why = RT_CHANNEL_RESERVED;
	}
	if (a <= 0)
		return;
	late = out->promise_day > c->promise_by ? out->promise_day - c->promise_by : 0;
	if (late > 0 && (f & RT_FILTER_PROMISE)) {
		out->why = RT_MISSES_PROMISE;
		return;
	}
	out->avail = a;
	out->unit = sat_add(sat_mul(sat_mul(w->shipping, v->per_kg), line->weight_g),
	                    sat_mul(sat_mul(w->late, late), 1000));
	if (w->balance > 0 && s->target > 0 && !out->made) {
		int64_t b = 2000 - sat_mul(free, 1000) / s->target;
		out->unit = sat_add(out->unit, sat_mul(w->balance, b < 0      ? 0
		                                                   : b > 2000 ? 2000
		                                                              : b));
	}
}

/* Which reason tells most about a node none of whose cells has units. */
static int reason_rank(rt_exclusion e)
{
	switch (e) {
	case RT_NOT_HAZMAT: return 4;
	case RT_MISSES_PROMISE: return 3;
	case RT_CHANNEL_RESERVED: return 2;
	case RT_SAFETY_STOCK: return 1;
	default: return 0;
	}
}

/* ---- search over a shortlist ----------------------------------------- */

/* The shortlist's nodes and cells; the search works on these only. */
typedef struct space {
	uint32_t k;                  /* nodes */
	uint32_t node[RT_SHORTLIST]; /* snapshot index, ascending */
	nodeval val[RT_SHORTLIST];
	cell cells[RT_MAX_LINES][RT_SHORTLIST];
	uint32_t by_unit[RT_MAX_LINES][RT_SHORTLIST]; /* per line, nodes cheapest per unit first */
	/* for the bound: per line, units and the cheapest unit cost of nodes k.. */
	int64_t suf_sum[RT_MAX_LINES][RT_SHORTLIST + 1];
	int64_t suf_min[RT_MAX_LINES][RT_SHORTLIST + 1];
} space;

/* What the nodes chosen so far on a search path offer, line by line. */
typedef struct chosen {
	int64_t sum[RT_MAX_LINES]; /* units */
	int64_t min[RT_MAX_LINES]; /* cheapest unit cost */
	int64_t fixed;
	uint32_t n;
} chosen;

/* unit_before: is node a of the shortlist cheaper for line l than b (per
 * unit, then per package, then the lower node index)? */
static bool unit_before(const space *sp, uint32_t l, uint32_t a, uint32_t b)
{
	if (sp->cells[l][a].unit != sp->cells[l][b].unit)
		return sp->cells[l][a].unit < sp->cells[l][b].unit;
	if (sp->val[a].fixed != sp->val[b].fixed)
		return sp->val[a].fixed < sp->val[b].fixed;
	return sp->node[a] < sp->node[b];
}

typedef struct score {
	int64_t shortfall;
	int64_t cost;
	uint32_t n;
	uint32_t mask;
} score;

/* better: is a preferred over b? (short, cost, nodes, node indices) */
static bool better(const space *sp, const score *a, const score *b)
{
	uint32_t diff = a->mask ^ b->mask, lowest = RT_NO_NODE;
	bool in_a = false;

	if (a->shortfall != b->shortfall)
		return a->shortfall < b->shortfall;
	if (a->cost != b->cost)
		return a->cost < b->cost;
	if (a->n != b->n)
		return a->n < b->n;
	/* same size: the set with the lowest node index the other lacks wins */
	for (uint32_t k = 0; k < sp->k; k++)
		if ((diff & (1u << k)) && sp->node[k] < lowest) {
			lowest = sp->node[k];
			in_a = (a->mask & (1u << k)) != 0;
		}
	return in_a;
}

/* line_whole returns the cheapest node of mask with all of line l, or RT_NO_NODE. */
static uint32_t line_whole(const dctx *c, const space *sp, uint32_t l, uint32_t mask)
{
	for (uint32_t i = 0; i < sp->k; i++) {
		uint32_t k = sp->by_unit[l][i];
		if ((mask & (1u << k)) && sp->cells[l][k].avail >= c->o->lines[l].quantity)
			return k;
	}
	return RT_NO_NODE;
}

/* line_split takes line l's units from the nodes of mask, cheapest per unit
 * first; returns units short and adds cost. take[k] gets each node's units
 * if not NULL. */
static int64_t line_split(const dctx *c, const space *sp, uint32_t l, uint32_t mask, int64_t *cost,
                          int64_t *take)
{
	int64_t q = c->o->lines[l].quantity;

	for (uint32_t i = 0; i < sp->k && q > 0; i++) {
		uint32_t k = sp->by_unit[l][i];
		int64_t t;
		if ((mask & (1u << k)) == 0 || sp->cells[l][k].avail == 0)
			continue;
		t = sp->cells[l][k].avail < q ? sp->cells[l][k].avail : q;
		*cost = sat_add(*cost, sat_mul(t, sp->cells[l][k].unit));
		if (take)
			take[k] = t;
		q -= t;
	}
	return q;
}

/* line_fill gives line l its units from the nodes of mask: whole from one
 * node when lines may not split or when that costs no more than splitting.
 * Returns units short and adds cost; take as for line_split. */
static int64_t line_fill(const dctx *c, const space *sp, uint32_t l, uint32_t mask, int64_t *cost,
                         int64_t *take)
{
	int64_t q = c->o->lines[l].quantity, split_cost = 0, left = 0;
	uint32_t k = line_whole(c, sp, l, mask);

	if (!c->whole_lines) {
		left = line_split(c, sp, l, mask, &split_cost, NULL);
		if (k == RT_NO_NODE || left > 0 || split_cost < sat_mul(q, sp->cells[l][k].unit)) {
			*cost = sat_add(*cost, split_cost);
			return take ? line_split(c, sp, l, mask, &split_cost, take) : left;
		}
	}
	if (k == RT_NO_NODE)
		return q;
	*cost = sat_add(*cost, sat_mul(q, sp->cells[l][k].unit));
	if (take)
		take[k] = q;
	return 0;
}

static int64_t total_units(const rt_order *o)
{
	int64_t t = 0;

	for (uint32_t l = 0; l < o->n_lines; l++)
		t += o->lines[l].quantity;
	return t;
}

/* evaluate scores the plan of node set mask, lines in order; a node whose
 * daily line capacity runs out takes no further line. takes (may be NULL)
 * receives the units per line and shortlisted node, and short_qty what
 * each line lacks. */
static score evaluate(const dctx *c, const space *sp, uint32_t mask, int64_t (*takes)[RT_SHORTLIST],
                      int64_t *short_qty)
{
	score s = {0, 0, 0, mask};
	int64_t lines_at[RT_SHORTLIST] = {0};
	uint32_t open = mask;

	for (uint32_t k = 0; k < sp->k; k++)
		if (mask & (1u << k)) {
			s.cost = sat_add(s.cost, sp->val[k].fixed);
			s.n++;
		}
	for (uint32_t l = 0; l < c->o->n_lines; l++) {
		int64_t take[RT_SHORTLIST] = {0}, left = line_fill(c, sp, l, open, &s.cost, take);
		s.shortfall += left;
		for (uint32_t k = 0; k < sp->k; k++)
			if (take[k] > 0 && ++lines_at[k] >= sp->val[k].left_lines)
				open &= ~(1u << k);
		if (takes != NULL)
			memcpy(takes[l], take, sizeof(take));
		if (short_qty != NULL)
			short_qty[l] = left;
	}
	if (c->complete && s.shortfall > 0)
		s.shortfall = total_units(c->o);
	return s;
}

/* counts: may node k serve line l in the bound (any units, or all of it)? */
static bool counts(const dctx *c, const space *sp, uint32_t l, uint32_t k)
{
	int64_t a = sp->cells[l][k].avail;
	return a > 0 && (!c->whole_lines || a >= c->o->lines[l].quantity);
}

static void suffixes(const dctx *c, space *sp)
{
	for (uint32_t l = 0; l < c->o->n_lines; l++) {
		sp->suf_sum[l][sp->k] = 0;
		sp->suf_min[l][sp->k] = RT_INF;
		for (uint32_t k = sp->k; k-- > 0;) {
			bool ok = counts(c, sp, l, k);
			int64_t unit = sp->cells[l][k].unit;
			sp->suf_sum[l][k] =
			    sat_add(sp->suf_sum[l][k + 1], ok ? sp->cells[l][k].avail : 0);
			sp->suf_min[l][k] =
			    ok && unit < sp->suf_min[l][k + 1] ? unit : sp->suf_min[l][k + 1];
		}
	}
}

/* bound: the best any plan with every node of ch, and any of the nodes from
 * `from` on, could reach: each line filled as far as they all allow, at the
 * cheapest unit cost among them, plus the fixed costs of ch. */
static score bound(const dctx *c, const space *sp, const chosen *ch, uint32_t from)
{
	score s = {0, ch->fixed, ch->n, 0};

	for (uint32_t l = 0; l < c->o->n_lines; l++) {
		int64_t q = c->o->lines[l].quantity;
		int64_t sum = sat_add(ch->sum[l], sp->suf_sum[l][from]);
		int64_t cheapest =
		    ch->min[l] < sp->suf_min[l][from] ? ch->min[l] : sp->suf_min[l][from];
		int64_t fill = sum < q ? sum : q;
		s.shortfall += q - fill;
		if (fill > 0)
			s.cost = sat_add(s.cost, sat_mul(fill, cheapest));
	}
	return s;
}

static void search(const dctx *c, const space *sp, const chosen *ch, uint32_t mask, uint32_t from,
                   score *best)
{
	chosen next;

	for (uint32_t k = from; k < sp->k; k++) {
		uint32_t m = mask | (1u << k);
		next.fixed = sat_add(ch->fixed, sp->val[k].fixed);
		next.n = ch->n + 1;
		for (uint32_t l = 0; l < c->o->n_lines; l++) {
			bool ok = counts(c, sp, l, k);
			int64_t unit = sp->cells[l][k].unit;
			next.sum[l] = sat_add(ch->sum[l], ok ? sp->cells[l][k].avail : 0);
			next.min[l] = ok && unit < ch->min[l] ? unit : ch->min[l];
		}
		score lb = bound(c, sp, &next, k + 1), s;
		if (lb.shortfall > best->shortfall ||
		    (lb.shortfall == best->shortfall && lb.cost > best->cost))
			continue;
		s = evaluate(c, sp, m, NULL, NULL);
		if (better(sp, &s, best))
			*best = s;
		if (next.n < c->max_nodes)
			search(c, sp, &next, m, k + 1, best);
	}
}

/* ---- the shortlist -------------------------------------------------- */

/* A node's rank for the shortlist's last step. */
typedef struct ranked {
	uint32_t node;
	uint32_t cover;
	int64_t score;
} ranked;

static bool ranks_before(const ranked *a, const ranked *b)
{
	if (a->cover != b->cover)
		return a->cover > b->cover;
	if (a->score != b->score)
		return a->score < b->score;
	return a->node < b->node;
}

/* Per line: its two best nodes holding it whole (by cost), and the two
 * holding most (by units), for lines no node holds whole. */
typedef struct line_best {
	uint32_t whole[2];
	int64_t whole_cost[2];
	uint32_t most[2];
	int64_t most_units[2];
} line_best;

static inline void keep_best2(uint32_t *ids, int64_t *keys, uint32_t n, int64_t key, bool lower)
{
	for (int i = 0; i < 2; i++) {
		bool wins = ids[i] == RT_NO_NODE || (lower ? key < keys[i] : key > keys[i]);
		if (wins) {
			if (i == 0) {
				ids[1] = ids[0];
				keys[1] = keys[0];
			}
			ids[i] = n;
			keys[i] = key;
			return;
		}
	}
}

static bool in_list(const uint32_t *list, uint32_t n, uint32_t node)
{
	for (uint32_t i = 0; i < n; i++)
		if (list[i] == node)
			return true;
	return false;
}

/* cheaper: does node a stand before b on its own (standalone score, index)? */
static bool cheaper(const rt_candidate *cands, uint32_t a, uint32_t b)
{
	if (cands[a].score != cands[b].score)
		return cands[a].score < cands[b].score;
	return a < b;
}

static bool valid(const rt_rules *rules, const rt_order *o, const rt_snapshot *snap,
                  const rt_plan *plan, const rt_candidate *cands)
{
	if (rules == NULL || o == NULL || snap == NULL || plan == NULL)
		return false;
	if (o->n_lines == 0 || o->n_lines > RT_MAX_LINES || o->lines == NULL)
		return false;
	if (o->fulfillment != RT_SHIP_TO_HOME && o->fulfillment != RT_PICKUP_IN_STORE)
		return false;
	if (o->channel < 0 || o->channel >= 32 || o->now_us < 0 || o->promise_by_us < 0)
		return false;
	if (rt_rules_select(rules, o->channel, o->fulfillment) < 0)
		return false;
	if (snap->n_nodes > 0 && (snap->nodes == NULL || snap->stock == NULL || cands == NULL))
		return false;
	if (o->fulfillment == RT_PICKUP_IN_STORE &&
	    (o->pickup_node < 0 || (uint32_t)o->pickup_node >= snap->n_nodes))
		return false;
	for (uint32_t l = 0; l < o->n_lines; l++) {
		const rt_order_line *line = &o->lines[l];
		if (line->quantity <= 0 || line->quantity > 1000000 || line->weight_g < 0 ||
		    line->n_bom > RT_MAX_BOM || (line->n_bom > 0 && line->bom == NULL))
			return false;
		for (uint32_t b = 0; b < line->n_bom; b++)
			if (line->bom[b].per_unit <= 0 || line->bom[b].free == NULL)
				return false;
	}
	return true;
}

rt_status rt_decide_limited(const rt_rules *rules, const rt_order *o, const rt_snapshot *snap,
                            uint32_t limit, rt_plan *plan, rt_candidate *cands)
{
	space sp;
	dctx c;
	line_best lb[RT_MAX_LINES];
	ranked top[RT_SHORTLIST];
	uint32_t n_top = 0, n_eligible = 0, nn;
	int strategy;

	if (!valid(rules, o, snap, plan, cands) || limit == 0 || limit > RT_SHORTLIST)
		return RT_EINVAL;
	nn = snap->n_nodes;
	strategy = rt_rules_select(rules, o->channel, o->fulfillment);
	memset(&c, 0, sizeof(c));
	c.st = &rules->strategies[strategy];
	c.rules = rules;
	c.o = o;
	c.snap = snap;
	c.today = o->now_us / DAY_US;
	c.minute = (o->now_us % DAY_US) / MINUTE_US;
	c.promise_by = o->promise_by_us > 0 ? o->promise_by_us / DAY_US : INT64_MAX;
	c.complete = c.st->ship_complete || o->ship_complete;
	c.whole_lines = c.complete || !c.st->line_split;
	c.max_nodes = c.complete ? 1 : c.st->max_splits > 0 ? c.st->max_splits : RT_SHORTLIST;
	if (o->fulfillment == RT_PICKUP_IN_STORE) {
		c.ref = rt_point_at(snap->nodes[o->pickup_node].lat_udeg,
		                    snap->nodes[o->pickup_node].lon_udeg);
		c.store_ok = node_filter(&c, (uint32_t)o->pickup_node) == RT_NOT_NEEDED;
	} else
		c.ref = rt_point_at(o->ship_lat_udeg, o->ship_lon_udeg);
	for (uint32_t l = 0; l < o->n_lines; l++) {
		lb[l].whole[0] = lb[l].whole[1] = lb[l].most[0] = lb[l].most[1] = RT_NO_NODE;
		lb[l].whole_cost[0] = lb[l].whole_cost[1] = 0;
		lb[l].most_units[0] = lb[l].most_units[1] = 0;
	}

	/* Pass 1: filters and costs for every node; the shortlist's candidates. */
	for (uint32_t n = 0; n < nn; n++) {
		rt_candidate *cand = &cands[n];
		nodeval v;
		rt_exclusion why = RT_NO_STOCK;
		bool any = false;

		memset(cand, 0, sizeof(*cand));
		cand->exclusion = node_filter(&c, n);
		node_costs(&c, n, &v, cand);
		cand->score = v.fixed;
		cand->promise_day = INT64_MAX;
		for (uint32_t l = 0; l < o->n_lines; l++) {
			cell x;
			cell_at(&c, &v, l, n, &x);
			if (x.avail == 0) {
				if (reason_rank(x.why) > reason_rank(why))
					why = x.why;
				continue;
			}
			any = true;
			if (x.promise_day < cand->promise_day)
				cand->promise_day = x.promise_day;
			if (x.avail >= o->lines[l].quantity) {
				int64_t cost = sat_mul(x.unit, o->lines[l].quantity);
				cand->lines_coverable++;
				cand->score = sat_add(cand->score, cost);
				if (cand->exclusion == RT_NOT_NEEDED)
					keep_best2(lb[l].whole, lb[l].whole_cost, n,
					           sat_add(v.fixed, cost), true);
			} else if (cand->exclusion == RT_NOT_NEEDED) {
				keep_best2(lb[l].most, lb[l].most_units, n, x.avail, false);
			}
		}
		if (cand->promise_day == INT64_MAX)
			cand->promise_day = 0;
		if (cand->exclusion == RT_NOT_NEEDED && !any)
			cand->exclusion = why;
		if (cand->exclusion == RT_NOT_NEEDED && c.complete &&
		    cand->lines_coverable < o->n_lines)
			cand->exclusion = RT_NOT_COMPLETE;
		if (cand->exclusion != RT_NOT_NEEDED) {
			cand->score = INT64_MAX;
			continue;
		}
		n_eligible++;
		/* keep the `limit` best by (lines whole, standalone cost, index) */
		ranked r = {n, cand->lines_coverable, cand->score};
		uint32_t i = n_top < limit ? n_top++ : limit;
		if (i == limit && !ranks_before(&r, &top[limit - 1]))
			continue;
		if (i == limit)
			i = limit - 1;
		while (i > 0 && ranks_before(&r, &top[i - 1])) {
			top[i] = top[i - 1];
			i--;
		}
		top[i] = r;
	}

	/* The shortlist: every eligible node if few enough, else as documented. */
	sp.k = 0;
	if (n_eligible <= limit) {
		for (uint32_t n = 0; n < nn; n++)
			if (cands[n].exclusion == RT_NOT_NEEDED)
				sp.node[sp.k++] = n;
	} else {
		for (int round = 0; round < 2; round++)
			for (uint32_t l = 0; l < o->n_lines && sp.k < limit; l++) {
				uint32_t n = lb[l].whole[0] != RT_NO_NODE ? lb[l].whole[round]
				                                          : lb[l].most[round];
				if (n != RT_NO_NODE && !in_list(sp.node, sp.k, n))
					sp.node[sp.k++] = n;
			}
		for (uint32_t i = 0; i < n_top && sp.k < limit; i++)
			if (!in_list(sp.node, sp.k, top[i].node))
				sp.node[sp.k++] = top[i].node;
		for (uint32_t n = 0; n < nn; n++)
			if (cands[n].exclusion == RT_NOT_NEEDED && !in_list(sp.node, sp.k, n))
				cands[n].exclusion = RT_NOT_SHORTLISTED;
	}
	/* searched best first, so that good plans prune early; ties are settled
	 * by node index in better(), whatever the order */
	for (uint32_t k = 1; k < sp.k; k++)
		for (uint32_t i = k; i > 0 && cheaper(cands, sp.node[i], sp.node[i - 1]); i--) {
			uint32_t t = sp.node[i];
			sp.node[i] = sp.node[i - 1];
			sp.node[i - 1] = t;
		}
	for (uint32_t k = 0; k < sp.k; k++) {
		rt_candidate scratch;
		node_costs(&c, sp.node[k], &sp.val[k], &scratch);
	}
	for (uint32_t l = 0; l < o->n_lines; l++) {
		for (uint32_t k = 0; k < sp.k; k++) {
			uint32_t i = k;
			cell_at(&c, &sp.val[k], l, sp.node[k], &sp.cells[l][k]);
			while (i > 0 && unit_before(&sp, l, k, sp.by_unit[l][i - 1])) {
				sp.by_unit[l][i] = sp.by_unit[l][i - 1];
				i--;
			}
			sp.by_unit[l][i] = k;
		}
	}

	/* Pass 2: branch and bound; the empty plan is the first incumbent. */
	score best = {total_units(o), 0, 0, 0};
	chosen none = {.fixed = 0, .n = 0};
	for (uint32_t l = 0; l < o->n_lines; l++) {
		none.sum[l] = 0;
		none.min[l] = RT_INF;
	}
	suffixes(&c, &sp);
	search(&c, &sp, &none, 0, 0, &best);

	/* The plan of the best set. */
	memset(plan, 0, sizeof(*plan));
	plan->strategy = strategy;
	plan->exact = n_eligible <= limit;
	bool used[RT_SHORTLIST] = {false};
	int64_t takes[RT_MAX_LINES][RT_SHORTLIST];
	evaluate(&c, &sp, best.mask, takes, plan->short_qty);
	for (uint32_t l = 0; l < o->n_lines; l++) {
		int64_t *take = takes[l], left = plan->short_qty[l];
		if (c.complete && best.shortfall > 0) {
			left = o->lines[l].quantity;
			memset(take, 0, sizeof(takes[l]));
		}
		for (uint32_t i = 0; i < sp.k; i++) {
			uint32_t k = sp.by_unit[l][i];
			if (take[k] == 0)
				continue;
			if (plan->n_allocs == RT_MAX_ALLOCS) {
				left += take[k];
				continue;
			}
			rt_alloc *a = &plan->allocs[plan->n_allocs++];
			a->line = l;
			a->node = sp.node[k];
			a->quantity = take[k];
			a->promise_day = sp.cells[l][k].promise_day;
			a->made = sp.cells[l][k].made;
			a->transfer = o->fulfillment == RT_PICKUP_IN_STORE &&
			              sp.node[k] != (uint32_t)o->pickup_node;
			used[k] = true;
		}
		plan->short_qty[l] = left;
	}
	plan->complete = true;
	for (uint32_t l = 0; l < o->n_lines; l++)
		if (plan->short_qty[l] > 0)
			plan->complete = false;
	for (uint32_t k = 0; k < sp.k; k++)
		if (used[k]) {
			plan->n_nodes_used++;
			cands[sp.node[k]].exclusion = RT_INCLUDED;
		}
	plan->cost = plan->n_nodes_used > 0 ? best.cost - sat_mul(c.st->weights.package, 1000) : 0;
	return RT_OK;
}

rt_status rt_decide(const rt_rules *rules, const rt_order *order, const rt_snapshot *snap,
                    rt_plan *plan, rt_candidate *cands)
{
	return rt_decide_limited(rules, order, snap, RT_SHORTLIST, plan, cands);
}

/* ---- input digest ---------------------------------------------------- */

static void put(EVP_MD_CTX *h, int64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)v >> (8 * i));
	EVP_DigestUpdate(h, b, sizeof(b));
}

void rt_input_digest(const rt_order *o, const rt_snapshot *snap, char out[RT_HASH_HEX + 1])
{
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (h == NULL || !EVP_DigestInit_ex(h, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(h);
		return;
	}
	put(h, o->n_lines);
	put(h, o->channel);
	put(h, o->fulfillment);
	put(h, o->ship_lat_udeg);
	put(h, o->ship_lon_udeg);
	put(h, o->fulfillment == RT_PICKUP_IN_STORE ? o->pickup_node : -1);
	put(h, o->ship_complete);
	put(h, o->now_us);
	put(h, o->promise_by_us);
	put(h, snap->n_nodes);
	for (uint32_t l = 0; l < o->n_lines; l++) {
		const rt_order_line *line = &o->lines[l];
		put(h, line->line_no);
		put(h, line->quantity);
		put(h, line->weight_g);
		put(h, line->hazmat);
		put(h, line->n_bom);
		for (uint32_t b = 0; b < line->n_bom; b++) {
			put(h, line->bom[b].per_unit);
			for (uint32_t k = 0; k < snap->n_nodes; k++)
				put(h, line->bom[b].free[k]);
		}
	}
	for (uint32_t k = 0; k < snap->n_nodes; k++) {
		const rt_node *nd = &snap->nodes[k];
		EVP_DigestUpdate(h, nd->id, strlen(nd->id) + 1);
		put(h, nd->type);
		put(h, nd->caps);
		put(h, nd->lat_udeg);
		put(h, nd->lon_udeg);
		put(h, nd->online);
		put(h, nd->handling_cost);
		put(h, nd->cutoff_min);
		put(h, nd->processing_days);
		put(h, nd->cap_orders);
		put(h, nd->cap_lines);
		put(h, nd->used_orders);
		put(h, nd->used_lines);
		put(h, nd->make_capacity);
		put(h, nd->make_days);
		put(h, o->excluded != NULL ? o->excluded[k] : 0);
	}
	for (size_t i = 0; i < (size_t)o->n_lines * snap->n_nodes; i++) {
		const rt_stock *s = &snap->stock[i];
		put(h, s->on_hand);
		put(h, s->reserved);
		put(h, s->safety);
		put(h, s->channel_held);
		put(h, s->channel_mask);
		put(h, s->target);
	}
	if (EVP_DigestFinal_ex(h, md, &n))
		for (unsigned i = 0; i < n; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(h);
}
