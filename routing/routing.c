/*
 * routing.c - the sourcing algorithm behind rt_route().
 *
 * The plan is built in four passes over the request, all in the caller's
 * buffers (the candidate array doubles as the per-node working state, which
 * is how the library stays allocation-free for any number of nodes):
 *
 * 1. Eligibility. Each node gets the first reason that applies, in this
 *    order: excluded by the order, offline, not the pick-up node (pick-up
 *    orders), lacking the capability (ship-to-home needs RT_CAP_SHIP or
 *    RT_CAP_DROPSHIP, pick-up needs RT_CAP_PICKUP), no stock of any line.
 *    Nodes that pass are provisionally RT_NOT_NEEDED. lines_coverable counts
 *    the lines a node could fill completely (for every node, so the record
 *    also shows what an excluded node would have offered).
 *
 * 2. Distance. Haversine on a sphere of radius 6371008.8 m (the IUGG mean
 *    Earth radius) from the reference point to every node. The reference
 *    point is the ship-to for ship-to-home and the pick-up store itself for
 *    pick-up (ship_lat/lon mean nothing then), so the pick-up node is at 0.
 *    score = distance_m for eligible nodes and INT64_MAX for the others.
 *
 * 3. Fewest splits, then nearest. Repeatedly take the unused eligible node
 *    that can fill the most still-open lines completely; ties go to the
 *    smaller distance, then the lower index. Those lines are allocated in
 *    full. Stop when every line is allocated, no node fills any open line,
 *    or max_splits nodes are in use. Because this pass only ever allocates
 *    whole lines, an open line still needs its full quantity, and a node's
 *    coverage can only shrink from round to round; the initial
 *    lines_coverable is therefore an upper bound used to skip nodes early.
 *    One round costs O(lines * nodes), and there are at most n_lines rounds.
 *
 * 4. Line split (only if allow_line_split). Each line still open, in line
 *    order, takes min(free, still needed) from the nodes already in the plan,
 *    nearest first, then from new eligible nodes, nearest first, while the
 *    split limit allows. What a node has already given a line is summed from
 *    the plan's own allocations, so no (line, node) is ever over-allocated.
 *
 * Units left over stay in short_qty. If the plan fills all RT_MAX_ALLOCS
 * allocation slots, allocation stops there and the rest of every open line is
 * reported short: the plan is then valid but incomplete. Pass 3 never comes
 * near the limit (it makes at most one allocation per line).
 *
 * Finally nodes in the plan are RT_INCLUDED; eligible nodes given nothing stay
 * RT_NOT_NEEDED, whether or not the plan is complete.
 */
#include "routing.h"
#include "geo.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define RT_EARTH_RADIUS_M 6371008.8
#define RT_NONE           UINT32_MAX

static double rt_radians(int64_t udeg)
{
	return (double)udeg * (3.14159265358979323846 / 180e6);
}

rt_point rt_point_at(int64_t lat_udeg, int64_t lon_udeg)
{
	rt_point p;

	p.lat = rt_radians(lat_udeg);
	p.lon = rt_radians(lon_udeg);
	p.cos_lat = cos(p.lat);
	return p;
}

int64_t rt_distance_from(const rt_point *from, int64_t lat_udeg, int64_t lon_udeg)
{
	double lat = rt_radians(lat_udeg);
	double s_lat = sin((lat - from->lat) / 2);
	double s_lon = sin((rt_radians(lon_udeg) - from->lon) / 2);
	double a = s_lat * s_lat + from->cos_lat * cos(lat) * s_lon * s_lon;

	/* Rounding can leave a just above 1 for antipodal points. */
	if (a > 1)
		a = 1;
	return (int64_t)llround(2 * RT_EARTH_RADIUS_M * asin(sqrt(a)));
}

static int64_t rt_avail(const rt_request *req, uint32_t l, uint32_t n)
{
	int64_t a = req->available[(size_t)l * req->n_nodes + n];

	return a > 0 ? a : 0;
}

static bool rt_valid(const rt_request *req, const rt_plan *plan, const rt_candidate *cands)
{
	if (req == NULL || plan == NULL)
		return false;
	if (req->n_lines == 0 || req->n_lines > RT_MAX_LINES || req->lines == NULL)
		return false;
	if (req->fulfillment != RT_SHIP_TO_HOME && req->fulfillment != RT_PICKUP_IN_STORE)
		return false;
	if (req->n_nodes > 0 && (req->nodes == NULL || req->available == NULL || cands == NULL))
		return false;
	if (req->fulfillment == RT_PICKUP_IN_STORE &&
	    (req->pickup_node < 0 || (uint32_t)req->pickup_node >= req->n_nodes))
		return false;
	for (uint32_t l = 0; l < req->n_lines; l++) {
		if (req->lines[l].quantity <= 0)
			return false;
	}
	return true;
}

/*
 * Working state, kept in cands[n].exclusion while rt_route() runs:
 * RT_NOT_NEEDED is "eligible, not yet in the plan", RT_INCLUDED is "in the
 * plan", anything else is a final reason the node is out.
 */
static rt_exclusion rt_eligibility(const rt_request *req, uint32_t n)
{
	const rt_node *node = &req->nodes[n];

	if (req->excluded != NULL && req->excluded[n] != 0)
		return RT_EXCLUDED_BY_ORDER;
	if (!node->online)
		return RT_OFFLINE;
	if (req->fulfillment == RT_PICKUP_IN_STORE) {
		if (n != (uint32_t)req->pickup_node)
			return RT_NOT_PICKUP_NODE;
		if ((node->caps & RT_CAP_PICKUP) == 0)
			return RT_NOT_CAPABLE;
	} else if ((node->caps & (RT_CAP_SHIP | RT_CAP_DROPSHIP)) == 0) {
		return RT_NOT_CAPABLE;
	}
	for (uint32_t l = 0; l < req->n_lines; l++) {
		if (rt_avail(req, l, n) > 0)
			return RT_NOT_NEEDED;
	}
	return RT_NO_STOCK;
}

/* rt_closer: is node a preferred over node b (nearer, then lower index)? */
static bool rt_closer(const rt_candidate *cands, uint32_t a, uint32_t b)
{
	if (cands[a].distance_m != cands[b].distance_m)
		return cands[a].distance_m < cands[b].distance_m;
	return a < b;
}

static bool rt_may_add_node(const rt_request *req, uint32_t n_used)
{
	return req->max_splits == 0 || n_used < req->max_splits;
}

static void rt_push(rt_plan *plan, uint32_t l, uint32_t n, int64_t qty)
{
	plan->allocs[plan->n_allocs].line = l;
	plan->allocs[plan->n_allocs].node = n;
	plan->allocs[plan->n_allocs].quantity = qty;
	plan->n_allocs++;
}

/*
 * rt_use adds node n to the plan and to used[], which is kept sorted nearest
 * first. Every node in the plan holds at least one allocation, so used[] never
 * needs more than RT_MAX_ALLOCS rows.
 */
static void rt_use(rt_candidate *cands, uint32_t *used, uint32_t *n_used, uint32_t n)
{
	uint32_t i = *n_used;

	cands[n].exclusion = RT_INCLUDED;
	while (i > 0 && rt_closer(cands, n, used[i - 1])) {
		used[i] = used[i - 1];
		i--;
	}
	used[i] = n;
	(*n_used)++;
}

/* rt_greedy is pass 3: whole lines, fewest nodes first. */
static void rt_greedy(const rt_request *req, rt_plan *plan, rt_candidate *cands, int64_t *remaining,
                      uint32_t *used, uint32_t *n_used)
{
	uint32_t n_open = req->n_lines;

	while (n_open > 0 && rt_may_add_node(req, *n_used)) {
		uint32_t best = RT_NONE;
		uint32_t best_cover = 0;

		for (uint32_t n = 0; n < req->n_nodes; n++) {
			const rt_candidate *c = &cands[n];
			uint32_t cover = 0;

			if (c->exclusion != RT_NOT_NEEDED || c->lines_coverable < best_cover ||
			    c->lines_coverable == 0)
				continue;
			if (c->lines_coverable == best_cover &&
			    c->distance_m >= cands[best].distance_m)
				continue;
			for (uint32_t l = 0; l < req->n_lines; l++) {
				if (remaining[l] > 0 && rt_avail(req, l, n) >= remaining[l])
					cover++;
			}
			if (cover == 0 || cover < best_cover)
				continue;
			if (cover == best_cover && !rt_closer(cands, n, best))
				continue;
			best = n;
			best_cover = cover;
		}
		if (best == RT_NONE)
			break;
		for (uint32_t l = 0; l < req->n_lines; l++) {
			if (remaining[l] > 0 && rt_avail(req, l, best) >= remaining[l]) {
				rt_push(plan, l, best, remaining[l]);
				remaining[l] = 0;
				n_open--;
			}
		}
		rt_use(cands, used, n_used, best);
	}
}

/*
 * rt_taken sums what node n already gives line l. Only allocations from
 * index `from` on are read: pass 3 allocates a line completely or not at all,
 * so an open line's earlier allocations are all made while splitting it.
 */
static int64_t rt_taken(const rt_plan *plan, uint32_t from, uint32_t l, uint32_t n)
{
	int64_t sum = 0;

	for (uint32_t i = from; i < plan->n_allocs; i++) {
		if (plan->allocs[i].line == l && plan->allocs[i].node == n)
			sum += plan->allocs[i].quantity;
	}
	return sum;
}

/* rt_nearest_new returns the nearest unused eligible node with stock of l. */
static uint32_t rt_nearest_new(const rt_request *req, const rt_candidate *cands, uint32_t l)
{
	uint32_t best = RT_NONE;

	for (uint32_t n = 0; n < req->n_nodes; n++) {
		if (cands[n].exclusion != RT_NOT_NEEDED || rt_avail(req, l, n) == 0)
			continue;
		if (best == RT_NONE || cands[n].distance_m < cands[best].distance_m)
			best = n;
	}
	return best;
}

/* rt_split is pass 4: the rest of each open line, node by node. */
static void rt_split(const rt_request *req, rt_plan *plan, rt_candidate *cands, int64_t *remaining,
                     uint32_t *used, uint32_t *n_used)
{
	for (uint32_t l = 0; l < req->n_lines; l++) {
		uint32_t from = plan->n_allocs;

		/* Nodes already in the plan first, then new ones; nearest first both times. */
		for (uint32_t i = 0; i < *n_used && remaining[l] > 0; i++) {
			uint32_t n = used[i];
			int64_t spare = rt_avail(req, l, n) - rt_taken(plan, from, l, n);
			int64_t take = spare < remaining[l] ? spare : remaining[l];

			if (take <= 0)
				continue;
			if (plan->n_allocs == RT_MAX_ALLOCS)
				return;
			rt_push(plan, l, n, take);
			remaining[l] -= take;
		}
		while (remaining[l] > 0 && rt_may_add_node(req, *n_used)) {
			uint32_t n = rt_nearest_new(req, cands, l);
			int64_t spare;
			int64_t take;

			if (n == RT_NONE)
				break;
			if (plan->n_allocs == RT_MAX_ALLOCS)
				return;
			spare = rt_avail(req, l, n) - rt_taken(plan, from, l, n);
			take = spare < remaining[l] ? spare : remaining[l];
			rt_push(plan, l, n, take);
			remaining[l] -= take;
			rt_use(cands, used, n_used, n);
		}
	}
}

rt_status rt_route(const rt_request *req, rt_plan *plan, rt_candidate *cands)
{
	int64_t remaining[RT_MAX_LINES];
	uint32_t used[RT_MAX_ALLOCS];
	uint32_t n_used = 0;
	rt_point ref;
	bool complete = true;

	if (!rt_valid(req, plan, cands))
		return RT_EINVAL;

	if (req->fulfillment == RT_PICKUP_IN_STORE)
		ref = rt_point_at(req->nodes[req->pickup_node].lat_udeg,
		                  req->nodes[req->pickup_node].lon_udeg);
	else
		ref = rt_point_at(req->ship_lat_udeg, req->ship_lon_udeg);
	for (uint32_t n = 0; n < req->n_nodes; n++) {
		rt_candidate *c = &cands[n];

		c->exclusion = rt_eligibility(req, n);
		c->lines_coverable = 0;
		for (uint32_t l = 0; l < req->n_lines; l++) {
			if (rt_avail(req, l, n) >= req->lines[l].quantity)
				c->lines_coverable++;
		}
		c->distance_m =
		    rt_distance_from(&ref, req->nodes[n].lat_udeg, req->nodes[n].lon_udeg);
		if (req->fulfillment == RT_PICKUP_IN_STORE && n == (uint32_t)req->pickup_node)
			c->distance_m = 0;
		c->score = c->exclusion == RT_NOT_NEEDED ? c->distance_m : INT64_MAX;
	}

	/* Zero all of it, padding and unused slots too, so equal plans memcmp equal. */
	memset(plan, 0, sizeof(*plan));
	for (uint32_t l = 0; l < req->n_lines; l++)
		remaining[l] = req->lines[l].quantity;

	rt_greedy(req, plan, cands, remaining, used, &n_used);
	if (req->allow_line_split)
		rt_split(req, plan, cands, remaining, used, &n_used);

	for (uint32_t l = 0; l < req->n_lines; l++) {
		plan->short_qty[l] = remaining[l];
		if (remaining[l] != 0)
			complete = false;
	}
	plan->n_nodes_used = n_used;
	plan->complete = complete;
	return RT_OK;
}

int64_t rt_distance_m(int64_t lat1_udeg, int64_t lon1_udeg, int64_t lat2_udeg, int64_t lon2_udeg)
{
	rt_point from = rt_point_at(lat1_udeg, lon1_udeg);

	return rt_distance_from(&from, lat2_udeg, lon2_udeg);
}

const char *rt_exclusion_name(rt_exclusion e)
{
	static const char *const names[] = {
	    [RT_INCLUDED] = "included",
	    [RT_EXCLUDED_BY_ORDER] = "excluded_by_order",
	    [RT_OFFLINE] = "offline",
	    [RT_NOT_CAPABLE] = "not_capable",
	    [RT_NOT_PICKUP_NODE] = "not_pickup_node",
	    [RT_NO_STOCK] = "no_stock",
	    [RT_NOT_NEEDED] = "not_needed",
	    [RT_NOT_HAZMAT] = "not_hazmat",
	    [RT_SAFETY_STOCK] = "safety_stock",
	    [RT_CHANNEL_RESERVED] = "channel_reserved",
	    [RT_AT_CAPACITY] = "at_capacity",
	    [RT_MISSES_PROMISE] = "misses_promise",
	    [RT_NOT_SHORTLISTED] = "not_shortlisted",
	    [RT_NOT_COMPLETE] = "not_complete",
	};

	if ((unsigned)e >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[e];
}
