/*
 * network.c - one replication of a scenario's supply network. See
 * network.h for the model and the pinned sequence of events in a day.
 *
 * Layout: every stocked (node, SKU) and every (plant, material) is a
 * position, kept in review order (stores, warehouses, plants, materials)
 * so that a downstream position has ordered before its source reviews, and
 * an echelon position sees its downstream's position of the same day. What
 * moves between days - shipments, owed transfers, back-ordered lines,
 * production - lives in pools indexed by int, so the engine's payloads are
 * plain numbers.
 */
#include "network.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "routing.h"
#include "rules.h"
#include "schema.h"
#include "sim_stats.h"

#define HOUR ((omo_sim_time)3600 * 1000000)
#define DAY  (24 * HOUR)
#define NONE (-1)

/* Day 0 as a date, for the rule set's cutoffs and promise dates: Monday
 * 2026-01-05 00:00 UTC (demand.weekly starts on a Monday). */
#define DAY0_US ((int64_t)1767571200 * 1000000)

/* Streams of the run seed, one per purpose (common random numbers). */
enum { S_COUNT = 1, S_ORDER, S_WALK_IN, S_SOCIAL, S_SUPPLY, S_DISRUPT, S_RETURN, S_PROMO };

enum echelon { ECH_STORE, ECH_WAREHOUSE, ECH_PLANT, ECH_RAW, N_ECH };

/* The day's steps and the hour each fires at (network.h). */
#define STEPS(X)                                                                                   \
	X(STEP_DISRUPT, "disruptions", 0)                                                          \
	X(STEP_BACKORDERS, "backorders", 7)                                                        \
	X(STEP_DEMAND, "demand", 12)                                                               \
	X(STEP_REVIEW, "review", 18)                                                               \
	X(STEP_CLOSE, "close", 23)
#define RECEIPT_HOUR 6

enum step {
#define STEP_ENUM(name, text, hour) name,
	STEPS(STEP_ENUM)
#undef STEP_ENUM
	    N_STEPS
};

typedef struct position {
	int32_t node;      /* catalog index (the plant, for a material) */
	int32_t sku;       /* catalog index, or NONE for a material */
	int32_t material;  /* index into the plant's BOM, or NONE */
	int32_t plant;     /* scenario plant index (plants and materials) or NONE */
	int32_t up;        /* source position (stores, warehouses), or NONE */
	uint8_t echelon;   /* enum echelon */
	uint8_t kind;      /* omo_scn_policy_kind */
	int64_t S, s, Q;   /* units (forecast policies: S is days of cover) */
	int64_t pipeline;  /* ordered, not yet arrived (in transit, owed, in production) */
	int64_t owed;      /* units this position owes downstream positions */
	int64_t ech;       /* echelon position of the day (scratch of the review) */
	int64_t out_today; /* units asked of it today: the forecast's input */
	double forecast;   /* units per day */
	double mean;       /* planned units per day */
	double value;      /* per unit, for holding cost */
	int32_t ring;      /* moving-average history offset, or NONE */
	uint32_t p;        /* moving-average days */
	double alpha;      /* smoothing constant */
	double cover;      /* forecast policies: days of forecast the level covers */
	const rt_stock_rule *stock_rule; /* the rule set's safety, reservation, target */
} position;

/* A shipment, a production run or a return in flight, fired by one event. */
enum flow { FLOW_TRANSFER, FLOW_SUPPLY, FLOW_MADE, FLOW_PARCEL, FLOW_RETURN };

typedef struct shipment {
	uint8_t kind;  /* enum flow */
	int32_t pos;   /* receiving position; the shipping one for a parcel */
	int32_t node;  /* parcels: the node shipping */
	int32_t order; /* parcels and made-to-order runs, else NONE */
	int64_t qty;
	int64_t lost; /* supply: units that will not arrive (yield) */
	int32_t next; /* free list */
} shipment;

typedef struct order {
	int32_t day;
	uint8_t channel;
	bool measured;
	bool due;      /* measured, and its promise falls within the run */
	bool to_store; /* pick-up lines the store lacked: shipped to the store */
	int32_t region;
	int32_t store;    /* pick-up store node */
	int64_t lat, lon; /* ship-to */
	int64_t open;     /* units back-ordered */
	int64_t transit;  /* units shipped, not delivered */
	uint32_t shipments;
	int32_t next; /* free list */
} order;

typedef struct owed_transfer {
	int32_t from, to; /* positions */
	int64_t qty;
} owed_transfer;

typedef struct backorder {
	int32_t order, sku;
	int64_t qty;
} backorder;

typedef struct job {
	int32_t pos;   /* finished-goods position, or NONE when made to order */
	int32_t order; /* made to order, else NONE */
	int32_t sku;
	int64_t qty;
} job;

/* A growable array of one struct type. */
#define VEC(T)                                                                                     \
	struct {                                                                                   \
		T *v;                                                                              \
		size_t n, cap;                                                                     \
	}

static bool vec_grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 64;
	void *p = realloc(*v, c * size);
	if (p == NULL)
		return false;
	*v = p;
	*cap = c;
	return true;
}
#define VEC_PUSH(net, vec, item)                                                                   \
	do {                                                                                       \
		if (!vec_grow((void **)&(vec).v, &(vec).cap, (vec).n, sizeof(*(vec).v)))           \
			net_fail(net);                                                             \
		else                                                                               \
			(vec).v[(vec).n++] = (item);                                               \
	} while (0)

typedef struct net {
	const omo_scenario *s;
	omo_sim *sim;
	uint32_t kinds[N_STEPS], receipt_kind;
	uint32_t n_nodes, n_skus;
	int day;
	bool failed;
	omo_net_result *res;
	bool keep_series;
	omo_net_progress_cb progress;
	void *progress_arg;

	/* network */
	position *pos;
	size_t n_pos, cap_pos;
	int64_t *on_hand; /* per position, units there now: apart, as routing reads it most */
	size_t cap_on_hand;
	size_t raw_first;  /* positions from here on are raw materials */
	int32_t *pos_of;   /* [node * n_skus + sku] -> position, or NONE */
	int32_t *store_dc; /* per node: the warehouse node replenishing a store */
	int32_t *plant_of; /* per node: scenario plant index, or NONE */
	int32_t *sku_pos;  /* per SKU, the positions stocking it (CSR) */
	int32_t *sku_node; /* and their nodes */
	uint32_t *sku_first;
	rt_node *rt_nodes;
	int32_t (*region_stores)[4]; /* nearest stores per region, for pick-up */
	double *ma;                  /* moving-average histories */
	size_t n_ma, cap_ma;
	int64_t *cap_left;       /* per plant, production left today */
	int32_t *material_first; /* per plant, its first material position */
	int64_t *supplier_left;  /* per supplier, today */
	VEC(job) * queue;        /* per plant, production waiting */

	/* in flight */
	shipment *ships;
	size_t n_ships, cap_ships;
	int32_t free_ship;
	order *orders;
	size_t n_orders, cap_orders;
	int32_t free_order;
	VEC(owed_transfer) owed;
	VEC(backorder) back;
	int32_t *sold_out; /* per SKU: day + 1 when no node had any in the backorder step */
	int64_t parcels_today;
	int32_t *lane_shipped, *lane_ordered; /* [from * n_nodes + to]: last day + 1 */

	/* disruptions */
	bool *active;
	bool *offline; /* per node */
	double shock;

	/* demand */
	omo_sim_rng rng_count, rng_order, rng_walk, rng_social, rng_supply, rng_disrupt, rng_return,
	    rng_promo;
	omo_sim_discrete popularity, assortment, channel, region;
	double *sku_share;     /* of online units, by popularity */
	double *social_excite; /* per spike, E_t */
	uint32_t *trace_first; /* per day, first trace row (rows sorted by day) */
	uint32_t *trace_order;

	/* routing scratch */
	rt_node *cand_nodes;
	int32_t *cand_index; /* candidate -> node */
	int32_t *cand_of;    /* node -> candidate, where mark says so */
	uint32_t *mark;
	uint32_t stamp;
	int64_t *avail;
	rt_candidate *cands;
	rt_stock *cells;   /* rt_decide's snapshot: [line * candidates + candidate] */
	int32_t *cell_pos; /* the position behind each cell, or NONE */
	bool *hazmat;      /* per SKU, from the rule set */
	rt_plan plan;

	/* measures */
	double day_col[OMO_NET_N_COLS];
	double ech_orders[N_ECH];
	omo_sim_stat stat_demand, stat_orders[N_ECH];
	double sum[OMO_NET_N_KPIS];
	uint64_t measured_days, orders_all, orders_full, units_all, units_full, delivered, on_time,
	    due_orders, routed_orders, split_orders, sold;
	double inv_sum[N_ECH];
} net;

static const char *const kpi_names[] = {
#define KPI_NAME(name, doc) #name,
    OMO_NET_KPIS(KPI_NAME)
#undef KPI_NAME
};
static const char *const kpi_docs[] = {
#define KPI_DOC(name, doc) doc,
    OMO_NET_KPIS(KPI_DOC)
#undef KPI_DOC
};
static const char *const col_names[] = {
#define COL_NAME(name, doc) #name,
    OMO_NET_SERIES(COL_NAME)
#undef COL_NAME
};
static const char *const step_names[] = {
#define STEP_NAME(name, text, hour) text,
    STEPS(STEP_NAME)
#undef STEP_NAME
};
static const int step_hours[] = {
#define STEP_HOUR(name, text, hour) hour,
    STEPS(STEP_HOUR)
#undef STEP_HOUR
};

const char *omo_net_kpi_name(omo_net_kpi k)
{
	return (size_t)k < OMO_NET_N_KPIS ? kpi_names[k] : "?";
}

const char *omo_net_kpi_doc(omo_net_kpi k)
{
	return (size_t)k < OMO_NET_N_KPIS ? kpi_docs[k] : "?";
}

const char *omo_net_col_name(omo_net_col c)
{
	return (size_t)c < OMO_NET_N_COLS ? col_names[c] : "?";
}

static void net_fail(net *n)
{
	n->failed = true;
	omo_sim_stop(n->sim);
}

static bool measuring(const net *n)
{
	return n->day >= (int)n->s->warmup_days;
}

/* ---- carriers ------------------------------------------------------------ */

static const omo_scn_zone *zone_for(const omo_scn_carrier *c, int64_t metres)
{
	size_t i = 0;

	while (i + 1 < c->n_zones && (double)metres / 1000.0 > c->zones[i].up_to_km)
		i++;
	return &c->zones[i];
}

static void charge(net *n, omo_net_kpi kind, double amount)
{
	n->day_col[OMO_NET_COL_cost] += amount;
	if (measuring(n))
		n->sum[kind] += amount;
}

/* ---- pools --------------------------------------------------------------- */

static int32_t ship_new(net *n)
{
	int32_t i = n->free_ship;

	if (i != NONE) {
		n->free_ship = n->ships[i].next;
		return i;
	}
	if (!vec_grow((void **)&n->ships, &n->cap_ships, n->n_ships, sizeof(shipment))) {
		net_fail(n);
		return NONE;
	}
	return (int32_t)n->n_ships++;
}

/* dispatch puts a shipment on the calendar for the receipt step of the day
 * `days` from today. */
static void dispatch(net *n, shipment sh, unsigned days)
{
	int32_t i = ship_new(n);
	omo_sim_time at = (omo_sim_time)(n->day + (int)days) * DAY + RECEIPT_HOUR * HOUR;

	if (i == NONE)
		return;
	if (days == 0) /* the receipt step has passed: arrive tomorrow's morning */
		at += DAY;
	sh.next = NONE;
	n->ships[i] = sh;
	if (omo_sim_schedule(n->sim, at, n->receipt_kind, (omo_sim_payload){.u64 = (uint64_t)i}))
		net_fail(n);
}

static int32_t order_new(net *n)
{
	int32_t i = n->free_order;

	if (i != NONE) {
		n->free_order = n->orders[i].next;
		return i;
	}
	if (!vec_grow((void **)&n->orders, &n->cap_orders, n->n_orders, sizeof(order))) {
		net_fail(n);
		return NONE;
	}
	return (int32_t)n->n_orders++;
}

/* order_check closes an order once nothing of it is open or in transit. */
static void order_check(net *n, int32_t oi)
{
	order *o = &n->orders[oi];
	int cycle = n->day - o->day;

	if (o->open > 0 || o->transit > 0)
		return;
	if (o->measured) {
		n->delivered++;
		n->on_time += o->due && cycle <= (int)n->s->demand.promise_days[o->channel];
		n->res->cycle_hist[cycle < OMO_NET_CYCLE_DAYS ? cycle : OMO_NET_CYCLE_DAYS - 1]++;
		n->split_orders += o->shipments > 1;
	}
	o->next = n->free_order;
	n->free_order = oi;
}

/* ---- moving stock -------------------------------------------------------- */

static bool link_cut(const net *n, int from_node, int to_node)
{
	for (size_t i = 0; i < n->s->n_disruptions; i++) {
		const omo_scn_disruption *d = &n->s->disruptions[i];
		if (n->active[i] && d->kind == OMO_SCN_LINK_CUT && d->node == from_node &&
		    d->to == to_node)
			return true;
	}
	return false;
}

/* lane_first_today reports whether (from, to) is used for the first time
 * today in stamps, and marks it: shipments and orders on one lane on one day
 * travel and are placed together. */
static bool lane_first_today(net *n, int32_t *stamps, int from, int to)
{
	int32_t *st = &stamps[(size_t)from * n->n_nodes + (size_t)to];

	if (*st == n->day + 1)
		return false;
	*st = n->day + 1;
	return true;
}

/* transfer ships up to qty from position `from` to `to` by freight; returns
 * the units shipped. */
static int64_t transfer(net *n, int32_t from, int32_t to, int64_t qty)
{
	position *f = &n->pos[from], *t = &n->pos[to];
	const rt_node *a = &n->rt_nodes[f->node], *b = &n->rt_nodes[t->node];
	int64_t q = qty < n->on_hand[from] ? qty : n->on_hand[from];
	const omo_scn_zone *z;

	if (q <= 0 || n->offline[f->node] || link_cut(n, f->node, t->node))
		return 0;
	z = zone_for(&n->s->freight,
	             rt_distance_m(a->lat_udeg, a->lon_udeg, b->lat_udeg, b->lon_udeg));
	n->on_hand[from] -= q;
	charge(n, OMO_NET_KPI_cost_shipping, z->cost_per_unit * (double)q);
	if (lane_first_today(n, n->lane_shipped, f->node, t->node))
		charge(n, OMO_NET_KPI_cost_shipping, z->cost); /* one truck a day per lane */
	dispatch(n, (shipment){.kind = FLOW_TRANSFER, .pos = to, .order = NONE, .qty = q}, z->days);
	return q;
}

/* request asks position `to`'s source for qty: shipped now as far as it
 * holds, owed for the rest. */
static void request(net *n, int32_t to, int64_t qty)
{
	int32_t from = n->pos[to].up;
	int64_t sent;

	n->pos[to].pipeline += qty;
	n->pos[from].out_today += qty;
	sent = transfer(n, from, to, qty);
	if (sent < qty) {
		n->pos[from].owed += qty - sent;
		VEC_PUSH(n, n->owed, ((owed_transfer){from, to, qty - sent}));
	}
}

/* parcel_days returns the transit days of a parcel from node to order oi's
 * home and charges it; 0 for a pick-up at the customer's own store. */
static unsigned parcel_days(net *n, int32_t oi, int node, int64_t qty)
{
	const order *o = &n->orders[oi];
	const rt_node *a = &n->rt_nodes[node];
	const omo_scn_zone *z;
	unsigned late = 0;

	if (o->channel == OMO_SCN_PICKUP && node == o->store)
		return 0;
	z = zone_for(&n->s->parcel, rt_distance_m(a->lat_udeg, a->lon_udeg, o->lat, o->lon));
	if (n->s->parcel.capacity > 0) /* over the day's capacity: a day later */
		late = (unsigned)(n->parcels_today++ / n->s->parcel.capacity);
	charge(n, OMO_NET_KPI_cost_shipping, z->cost + z->cost_per_unit * (double)qty);
	return z->days + late;
}

/* deliver sends qty units of order oi from position pi (at node) home,
 * days from now; 0 days is a hand-over at the counter. */
static void deliver(net *n, int32_t oi, int node, int32_t pi, int64_t qty, unsigned days)
{
	if (days == 0) {
		n->orders[oi].transit -= qty;
		return;
	}
	dispatch(n,
	         (shipment){.kind = FLOW_PARCEL, .pos = pi, .node = node, .order = oi, .qty = qty},
	         days);
}

/* ---- routing ------------------------------------------------------------- */

typedef struct want {
	int32_t sku;
	int64_t qty;
} want;

/* add_candidate puts node in the order's candidate list once. */
static void add_candidate(net *n, int node, uint32_t *c)
{
	if (n->mark[node] == n->stamp)
		return;
	n->mark[node] = n->stamp;
	n->cand_of[node] = (int32_t)*c;
	n->cand_index[*c] = node;
	n->cand_nodes[(*c)++] = n->rt_nodes[node];
}

/* candidates lists the nodes that could give any wanted line: the routing
 * library would exclude the others for want of stock anyway, so its answer
 * is the same, and the order costs what its lines do, not the network.
 * Then it fills the availability table: the shelf, or for a SKU made to
 * order, what its plant can still make today. */
static uint32_t candidates(net *n, const order *o, const want *w, uint32_t nw)
{
	uint32_t c = 0;

	if (++n->stamp == 0) {
		memset(n->mark, 0, n->n_nodes * sizeof(uint32_t));
		n->stamp = 1;
	}
	bool counter = o->channel == OMO_SCN_PICKUP && !o->to_store;

	if (counter) /* the pick-up store is candidate 0 */
		add_candidate(n, o->store, &c);
	/* a rule set may bring pick-up lines over from other nodes */
	for (uint32_t l = 0; l < nw && (!counter || n->s->has_rules); l++) {
		int32_t sku = w[l].sku;
		if (n->s->to_order[sku]) {
			add_candidate(n, n->s->plants[n->s->maker[sku]].node, &c);
			continue;
		}
		for (uint32_t i = n->sku_first[sku]; i < n->sku_first[sku + 1]; i++) {
			int node = n->sku_node[i];
			if (n->on_hand[n->sku_pos[i]] > 0 &&
			    (n->s->ship_from_store || n->rt_nodes[node].type != RT_STORE))
				add_candidate(n, node, &c);
		}
	}
	memset(n->avail, 0, (size_t)nw * c * sizeof(int64_t));
	memset(n->cell_pos, 0xff, (size_t)nw * c * sizeof(int32_t)); /* NONE */
	for (uint32_t l = 0; l < nw && c > 0; l++) {
		int32_t sku = w[l].sku, pl = n->s->maker[sku];
		if (n->s->to_order[sku]) {
			int node = n->s->plants[pl].node;
			if (n->mark[node] == n->stamp)
				n->avail[(size_t)l * c + (size_t)n->cand_of[node]] =
				    n->cap_left[pl];
			continue;
		}
		for (uint32_t i = n->sku_first[sku]; i < n->sku_first[sku + 1]; i++) {
			int node = n->sku_node[i];
			if (n->mark[node] == n->stamp) {
				size_t cell = (size_t)l * c + (size_t)n->cand_of[node];
				n->avail[cell] = n->on_hand[n->sku_pos[i]];
				n->cell_pos[cell] = n->sku_pos[i];
			}
		}
	}
	return c;
}

/* decide sources with the scenario's rule set through rt_decide, as the
 * router service does: the snapshot holds the candidates' stock with the
 * rule set's safety stock, channel reservations and targets. */
static rt_status decide(net *n, const order *o, const want *w, uint32_t nw, uint32_t nc)
{
	rt_order_line lines[RT_MAX_LINES];
	int64_t now = DAY0_US + (int64_t)n->day * DAY + 12 * HOUR;
	bool counter = o->channel == OMO_SCN_PICKUP && !o->to_store;

	for (uint32_t l = 0; l < nw; l++) {
		lines[l] = (rt_order_line){.line_no = l + 1,
		                           .quantity = w[l].qty,
		                           .weight_g = n->s->catalog.skus[w[l].sku].weight_g,
		                           .hazmat = n->hazmat[w[l].sku]};
		for (uint32_t c = 0; c < nc; c++) {
			rt_stock *cell = &n->cells[(size_t)l * nc + c];
			int32_t pi = n->cell_pos[(size_t)l * nc + c];
			const rt_stock_rule *rule = pi == NONE ? NULL : n->pos[pi].stock_rule;
			*cell = (rt_stock){.on_hand = n->avail[(size_t)l * nc + c]};
			if (rule && cell->on_hand > 0) {
				cell->safety = rule->safety;
				cell->channel_held = rule->channel_held;
				cell->channel_mask = rule->channel_mask;
				cell->target = rule->target;
			}
		}
	}
	rt_order ord = {
	    .lines = lines,
	    .n_lines = nw,
	    .channel =
	        o->channel == OMO_SCN_MARKETPLACE ? OMO_CHANNEL_MARKETPLACE : OMO_CHANNEL_WEB,
	    .fulfillment = counter ? RT_PICKUP_IN_STORE : RT_SHIP_TO_HOME,
	    .ship_lat_udeg = o->lat,
	    .ship_lon_udeg = o->lon,
	    .pickup_node = counter ? 0 : -1,
	    .now_us = now,
	    .promise_by_us = now + (int64_t)n->s->demand.promise_days[o->channel] * DAY,
	};
	rt_snapshot snap = {.nodes = n->cand_nodes, .n_nodes = nc, .stock = n->cells};
	return rt_decide(&n->s->rules, &ord, &snap, &n->plan, n->cands);
}

/* route sources order oi's wanted lines with the routing library and ships
 * what it allocates; what stays short is written back into w (qty). Returns
 * the units allocated. */
static int64_t route(net *n, int32_t oi, want *w, uint32_t nw)
{
	order *o = &n->orders[oi];
	rt_line lines[RT_MAX_LINES];
	int64_t got = 0;
	int32_t node_of[RT_MAX_LINES];
	unsigned days[RT_MAX_LINES];
	uint32_t n_used = 0, nc, l, open = 0;

	for (l = 0; l < nw; l++) /* lines already filled go last, unrouted */
		if (w[l].qty > 0) {
			want t = w[open];
			w[open++] = w[l];
			w[l] = t;
		}
	if ((nw = open) == 0 || (nc = candidates(n, o, w, nw)) == 0)
		return 0;
	if (n->s->has_rules) {
		if (decide(n, o, w, nw, nc) != RT_OK) {
			net_fail(n);
			return 0;
		}
		goto ship;
	}
	for (l = 0; l < nw; l++)
		lines[l] = (rt_line){.line_no = l + 1, .quantity = w[l].qty};
	rt_request req = {
	    .lines = lines,
	    .n_lines = nw,
	    .nodes = n->cand_nodes,
	    .n_nodes = nc,
	    .available = n->avail,
	    .fulfillment =
	        o->channel == OMO_SCN_PICKUP && !o->to_store ? RT_PICKUP_IN_STORE : RT_SHIP_TO_HOME,
	    .ship_lat_udeg = o->lat,
	    .ship_lon_udeg = o->lon,
	    .pickup_node = 0,
	    .max_splits = n->s->max_splits,
	    .allow_line_split = n->s->allow_line_split,
	};
	if (rt_route(&req, &n->plan, n->cands) != RT_OK) {
		net_fail(n);
		return 0;
	}
ship:
	n->routed_orders += measuring(n);
	n->res->routed++;
	for (uint32_t a = 0; a < n->plan.n_allocs; a++) {
		const rt_alloc *al = &n->plan.allocs[a];
		int node = n->cand_index[al->node], sku = w[al->line].sku;
		int32_t pl = n->plant_of[node], pi;
		uint32_t u;

		w[al->line].qty -= al->quantity;
		got += al->quantity;
		n->sold += measuring(n) ? (uint64_t)al->quantity : 0;
		o->transit += al->quantity;
		for (u = 0; u < n_used && node_of[u] != node; u++)
			;
		n->rt_nodes[node].used_lines++;
		if (u == n_used) { /* one parcel per node: its cost, its transit */
			n->rt_nodes[node].used_orders++;
			node_of[n_used++] = node;
			o->shipments++;
			days[u] = n->s->to_order[sku] ? 0 : parcel_days(n, oi, node, al->quantity);
		}
		if (n->s->to_order[sku]) { /* made for this order, shipped when made */
			n->cap_left[pl] -= al->quantity;
			VEC_PUSH(n, n->queue[pl], ((job){NONE, oi, sku, al->quantity}));
			continue;
		}
		pi = n->pos_of[(size_t)node * n->n_skus + (size_t)sku];
		n->on_hand[pi] -= al->quantity;
		n->pos[pi].out_today += al->quantity;
		deliver(n, oi, node, pi, al->quantity, days[u]);
	}
	return got;
}

/* ---- demand -------------------------------------------------------------- */

static double demand_multiplier(const net *n)
{
	const omo_scn_demand *d = &n->s->demand;
	double m = d->weekly[n->day % 7] * n->shock;

	if (d->yearly_amplitude > 0)
		m *= 1 + d->yearly_amplitude * cos(2 * 3.14159265358979323846 *
		                                   (n->day - (int)d->yearly_peak) / 365.0);
	return m;
}

static uint64_t draw_count(net *n, double mean)
{
	const omo_scn_demand *d = &n->s->demand;

	if (mean <= 0)
		return 0;
	if (d->normal) {
		double x = omo_sim_rng_normal(&n->rng_count, mean, d->cv * mean);
		return x > 0 ? (uint64_t)llround(x) : 0;
	}
	return omo_sim_rng_poisson(&n->rng_count, mean);
}

/* place takes one online order: routed at once, the rest back-ordered. */
static void place(net *n, omo_scn_channel ch, int region, want *w, uint32_t nw)
{
	const omo_scn_region *g = &n->s->regions[region];
	int32_t oi = order_new(n);
	int64_t units = 0, got;
	order *o;

	if (oi == NONE)
		return;
	o = &n->orders[oi];
	*o = (order){.day = n->day,
	             .channel = (uint8_t)ch,
	             .measured = measuring(n),
	             .region = region,
	             .store = n->region_stores[region][0],
	             .lat = g->lat_udeg,
	             .lon = g->lon_udeg,
	             .next = NONE};
	if (ch == OMO_SCN_PICKUP && o->store == NONE) /* no stores at all */
		o->channel = OMO_SCN_SHIP_TO_HOME;
	if (o->channel == OMO_SCN_PICKUP) {
		o->store = n->region_stores[region][omo_sim_rng_below(&n->rng_order, 4)];
		o->lat = n->rt_nodes[o->store].lat_udeg;
		o->lon = n->rt_nodes[o->store].lon_udeg;
	}
	for (uint32_t l = 0; l < nw; l++)
		units += w[l].qty;
	got = route(n, oi, w, nw);
	if (got < units && o->channel == OMO_SCN_PICKUP) {
		o->to_store = true; /* what the counter lacks comes to the store */
		got += route(n, oi, w, nw);
	}
	n->day_col[OMO_NET_COL_demand] += (double)units;
	n->day_col[OMO_NET_COL_filled] += (double)got;
	o->due = o->measured && n->day + (int)n->s->demand.promise_days[ch] < (int)n->s->days;
	n->due_orders += o->due;
	if (o->measured) {
		n->orders_all++;
		n->orders_full += got == units;
		n->units_all += (uint64_t)units;
		n->units_full += (uint64_t)got;
		n->res->orders++;
	}
	for (uint32_t l = 0; l < nw; l++)
		if (w[l].qty > 0) {
			o->open += w[l].qty;
			VEC_PUSH(n, n->back, ((backorder){oi, w[l].sku, w[l].qty}));
		}
	order_check(n, oi);
}

static void generated_orders(net *n, double m)
{
	const omo_scn_demand *d = &n->s->demand;
	uint64_t count = draw_count(n, d->orders_per_day * m);
	want w[RT_MAX_LINES];

	for (uint64_t i = 0; i < count && !n->failed; i++) {
		omo_scn_channel ch =
		    (omo_scn_channel)(int)omo_sim_discrete_sample(&n->channel, &n->rng_order);
		int region = (int)omo_sim_discrete_sample(&n->region, &n->rng_order);
		uint32_t nw = 1;
		if (d->lines_mean > 1)
			nw += (uint32_t)omo_sim_rng_poisson(&n->rng_order, d->lines_mean - 1);
		if (nw > 20)
			nw = 20;
		for (uint32_t l = 0; l < nw; l++) {
			w[l].sku = (int32_t)omo_sim_discrete_sample(&n->popularity, &n->rng_order);
			w[l].qty = 1;
			for (uint32_t k = 0; k < l; k++)
				if (w[k].sku == w[l].sku) { /* same SKU again: one more unit */
					w[k].qty++;
					l--, nw--;
					break;
				}
		}
		place(n, ch, region, w, nw);
	}
}

/* promotions add orders for their SKUs: (lift - 1) times their base share. */
static void promotion_orders(net *n, double m)
{
	const omo_scn_demand *d = &n->s->demand;

	for (size_t i = 0; i < d->n_promotions; i++) {
		const omo_scn_promotion *p = &d->promotions[i];
		double share = 0;
		uint64_t count;
		if (n->day < (int)p->from || n->day > (int)p->to || p->lift <= 1)
			continue;
		for (size_t k = 0; k < p->n_skus; k++)
			share += n->sku_share[p->skus[k]];
		if (p->n_skus == 0)
			share = 1;
		count = omo_sim_rng_poisson(&n->rng_promo,
		                            (p->lift - 1) * share * d->orders_per_day * m);
		for (uint64_t c = 0; c < count && !n->failed; c++) {
			want w = {.qty = 1};
			int region = (int)omo_sim_discrete_sample(&n->region, &n->rng_promo);
			w.sku = p->n_skus ? p->skus[omo_sim_rng_below(&n->rng_promo, p->n_skus)]
			                  : (int32_t)omo_sim_discrete_sample(&n->popularity,
			                                                     &n->rng_promo);
			place(n, OMO_SCN_SHIP_TO_HOME, region, &w, 1);
		}
	}
}

/* social spikes: Poisson(base + excitation x E_t) orders for their SKU, each
 * day's orders raising the next days' rate (network.h's Hawkes process). */
static void social_orders(net *n)
{
	const omo_scn_demand *d = &n->s->demand;

	for (size_t i = 0; i < d->n_social; i++) {
		const omo_scn_social *h = &d->social[i];
		double rate;
		uint64_t count;
		if (n->day < (int)h->start)
			continue;
		rate = h->base + h->excitation * n->social_excite[i] +
		       (n->day == (int)h->start ? h->seed : 0);
		count = omo_sim_rng_poisson(&n->rng_social, rate);
		n->social_excite[i] = h->decay * (n->social_excite[i] + (double)count);
		for (uint64_t c = 0; c < count && !n->failed; c++) {
			want w = {.sku = h->sku, .qty = 1};
			int region = (int)omo_sim_discrete_sample(&n->region, &n->rng_social);
			place(n, OMO_SCN_MARKETPLACE, region, &w, 1);
		}
	}
}

static void trace_orders(net *n)
{
	const omo_scn_demand *d = &n->s->demand;

	if (n->day + 1 > (int)n->s->days)
		return;
	for (uint32_t i = n->trace_first[n->day]; i < n->trace_first[n->day + 1]; i++) {
		const omo_scn_trace_row *t = &d->trace[n->trace_order[i]];
		want w = {.sku = t->sku, .qty = t->quantity};
		if (t->channel == OMO_SCN_WALK_IN) {
			int store = n->region_stores[t->region][0];
			int32_t p = n->pos_of[(size_t)store * n->n_skus + (size_t)t->sku];
			for (int64_t u = 0; u < t->quantity; u++) {
				bool sold = p != NONE && !n->offline[store] && n->on_hand[p] > 0;
				n->day_col[OMO_NET_COL_demand]++;
				n->day_col[sold ? OMO_NET_COL_filled : OMO_NET_COL_lost]++;
				if (sold)
					n->on_hand[p]--;
				if (p != NONE)
					n->pos[p].out_today++;
			}
			continue;
		}
		place(n, t->channel, t->region, &w, 1);
	}
}

/* walk_ins: each store's shoppers take units of its assortment off the
 * shelf; a closed store or an empty shelf loses the sale. */
static void walk_ins(net *n, double m)
{
	const omo_scn_demand *d = &n->s->demand;
	double mean = d->walk_in_per_store * m;

	if (mean <= 0)
		return;
	for (uint32_t node = 0; node < n->n_nodes; node++) {
		uint64_t units;
		if (n->rt_nodes[node].type != RT_STORE)
			continue;
		units = omo_sim_rng_poisson(&n->rng_walk, mean);
		for (uint64_t u = 0; u < units; u++) {
			int sku = (int)omo_sim_discrete_sample(&n->assortment, &n->rng_walk);
			int32_t p = n->pos_of[(size_t)node * n->n_skus + (size_t)sku];
			bool sold = p != NONE && !n->offline[node] && n->on_hand[p] > 0;
			n->day_col[OMO_NET_COL_demand]++;
			if (p != NONE)
				n->pos[p].out_today++;
			if (sold) {
				n->on_hand[p]--;
				n->day_col[OMO_NET_COL_filled]++;
				n->sold += measuring(n);
			} else {
				n->day_col[OMO_NET_COL_lost]++;
				charge(n, OMO_NET_KPI_cost_lost_sales,
				       n->s->costs.lost_sale *
				           (double)n->s->catalog.skus[sku].price_minor / 100.0);
			}
			if (measuring(n)) {
				n->orders_all++;
				n->units_all++;
				n->orders_full += sold;
				n->units_full += sold;
			}
		}
	}
}

static void demand_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	net *n = arg;
	double m = demand_multiplier(n);

	(void)sim, (void)ev;
	if (n->s->demand.n_trace > 0)
		trace_orders(n);
	else
		generated_orders(n, m);
	promotion_orders(n, m);
	social_orders(n);
	walk_ins(n, m);
}

/* ---- backorders ---------------------------------------------------------- */

static void backorders_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	net *n = arg;
	size_t keep = 0;

	(void)sim, (void)ev;
	for (size_t i = 0; i < n->owed.n; i++) { /* oldest first */
		owed_transfer *t = &n->owed.v[i];
		int64_t sent = transfer(n, t->from, t->to, t->qty);
		n->pos[t->from].owed -= sent;
		t->qty -= sent;
		if (t->qty > 0)
			n->owed.v[keep++] = *t;
	}
	n->owed.n = keep;
	keep = 0;
	for (size_t i = 0; i < n->back.n && !n->failed; i++) {
		backorder b = n->back.v[i];
		want w = {.sku = b.sku, .qty = b.qty};
		bool pickup =
		    n->orders[b.order].channel == OMO_SCN_PICKUP && !n->orders[b.order].to_store;
		int64_t got = 0;
		if (pickup || n->sold_out[b.sku] != n->day + 1) {
			got = route(n, b.order, &w, 1);
			if (got == 0 && !pickup) /* stock only falls in this step */
				n->sold_out[b.sku] = n->day + 1;
		}
		n->orders[b.order].open -= got;
		if (w.qty > 0) {
			b.qty = w.qty;
			n->back.v[keep++] = b;
		} else {
			order_check(n, b.order);
		}
	}
	n->back.n = keep;
}

/* ---- review -------------------------------------------------------------- */

static int64_t policy_order(net *n, position *p, int64_t ip)
{
	int64_t level;

	switch ((omo_scn_policy_kind)p->kind) {
	case OMO_SCN_NONE: return 0;
	case OMO_SCN_BASE_STOCK:
	case OMO_SCN_ECHELON: return p->S - ip;
	case OMO_SCN_SS: return ip <= p->s ? p->S - ip : 0;
	case OMO_SCN_RQ: return ip <= p->s ? p->Q * ((p->s - ip) / p->Q + 1) : 0;
	case OMO_SCN_MOVING_AVERAGE:
	case OMO_SCN_SMOOTHING: level = (int64_t)llround(p->cover * p->forecast); return level - ip;
	}
	(void)n;
	return 0;
}

/* update_forecast feeds the day's outflow to the position's forecast. */
static void update_forecast(net *n, position *p)
{
	double x = (double)p->out_today;

	if (p->ring != NONE) {
		double *h = &n->ma[p->ring];
		p->forecast += (x - h[n->day % p->p]) / p->p;
		h[n->day % p->p] = x;
	} else {
		p->forecast += p->alpha * (x - p->forecast);
	}
	p->out_today = 0;
}

/* produce starts plant pl's waiting runs within today's capacity and
 * materials, oldest first. */
static void produce(net *n, int32_t pl)
{
	const omo_scn_plant *plant = &n->s->plants[pl];
	size_t keep = 0;

	for (size_t i = 0; i < n->queue[pl].n; i++) {
		job *j = &n->queue[pl].v[i];
		int64_t q = j->qty;
		if (j->order == NONE) /* made-to-order capacity was taken when routed */
			q = q < n->cap_left[pl] ? q : n->cap_left[pl];
		for (size_t b = 0; b < plant->n_bom && q > 0; b++) {
			int64_t have = n->on_hand[n->material_first[pl] + (int32_t)b];
			int64_t can = (int64_t)floor((double)have / plant->bom[b].per_unit);
			q = q < can ? q : can;
		}
		if (n->offline[plant->node])
			q = 0;
		if (q > 0) {
			for (size_t b = 0; b < plant->n_bom; b++) {
				int32_t mi = n->material_first[pl] + (int32_t)b;
				int64_t use = (int64_t)ceil((double)q * plant->bom[b].per_unit);
				n->on_hand[mi] -= use < n->on_hand[mi] ? use : n->on_hand[mi];
				n->pos[mi].out_today += use;
			}
			if (j->order == NONE)
				n->cap_left[pl] -= q;
			n->day_col[OMO_NET_COL_production] += (double)q;
			n->ech_orders[ECH_PLANT] += (double)q;
			charge(n, OMO_NET_KPI_cost_production, plant->unit_cost * (double)q);
			dispatch(n,
			         (shipment){.kind = FLOW_MADE,
			                    .pos = j->pos,
			                    .node = plant->node,
			                    .order = j->order,
			                    .qty = q},
			         plant->days);
			j->qty -= q;
		}
		if (j->qty > 0)
			n->queue[pl].v[keep++] = *j;
	}
	n->queue[pl].n = keep;
}

static int supplier_delay(const net *n, int supplier)
{
	double extra = 0;

	for (size_t i = 0; i < n->s->n_disruptions; i++) {
		const omo_scn_disruption *d = &n->s->disruptions[i];
		if (n->active[i] && d->kind == OMO_SCN_SUPPLIER_DELAY && d->supplier == supplier)
			extra += d->size;
	}
	return (int)ceil(extra);
}

/* purchase orders q units of material position pi from its supplier. */
static void purchase(net *n, int32_t pi, int64_t q)
{
	position *p = &n->pos[pi];
	const omo_scn_material *mat = &n->s->plants[p->plant].bom[p->material];
	const omo_scn_supplier *sup = &n->s->suppliers[mat->supplier];
	int64_t *left = &n->supplier_left[mat->supplier];
	double lead = omo_sim_dist_sample(&sup->lead_time, &n->rng_supply);
	bool short_shipped = omo_sim_rng_u01(&n->rng_supply) >= sup->reliability;
	int64_t lost;

	if (sup->capacity > 0)
		q = q < *left ? q : *left;
	if (q <= 0)
		return;
	*left -= q;
	lost = short_shipped ? (int64_t)floor((double)q * sup->loss_fraction) : 0;
	p->pipeline += q;
	n->day_col[OMO_NET_COL_purchases] += (double)q / mat->per_unit;
	n->ech_orders[ECH_RAW] += (double)q / mat->per_unit;
	charge(n, OMO_NET_KPI_cost_production, sup->unit_cost * (double)q);
	charge(n, OMO_NET_KPI_cost_ordering, n->s->costs.order_fixed);
	dispatch(
	    n, (shipment){.kind = FLOW_SUPPLY, .pos = pi, .order = NONE, .qty = q, .lost = lost},
	    (unsigned)(lead < 1 ? 1 : ceil(lead)) + (unsigned)supplier_delay(n, mat->supplier));
}

/* review_position applies position i's policy to its inventory position. */
static void review_position(net *n, size_t i)
{
	position *p = &n->pos[i];
	int64_t ip = n->on_hand[i] + p->pipeline - p->owed, q;

	p->ech += ip;
	q = policy_order(n, p, p->kind == OMO_SCN_ECHELON ? p->ech : ip);
	if (p->up != NONE) /* the source's echelon includes this position */
		n->pos[p->up].ech += p->ech;
	if (q <= 0)
		return;
	switch (p->echelon) {
	case ECH_STORE:
	case ECH_WAREHOUSE:
		if (p->up == NONE)
			return; /* no source stocks it: the position only sells down */
		n->ech_orders[p->echelon] += (double)q;
		n->day_col[p->echelon == ECH_STORE ? OMO_NET_COL_store_orders
		                                   : OMO_NET_COL_warehouse_orders] += (double)q;
		if (lane_first_today(n, n->lane_ordered, p->node, n->pos[p->up].node))
			charge(n, OMO_NET_KPI_cost_ordering, n->s->costs.order_fixed);
		request(n, (int32_t)i, q);
		break;
	case ECH_PLANT: {
		int64_t batch = n->s->plants[p->plant].batch;
		q = (q + batch - 1) / batch * batch;
		p->pipeline += q;
		VEC_PUSH(n, n->queue[p->plant], ((job){(int32_t)i, NONE, p->sku, q}));
		break;
	}
	case ECH_RAW: purchase(n, (int32_t)i, q); break;
	}
}

static void review_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	net *n = arg;
	size_t i;

	(void)sim, (void)ev;
	for (i = 0; i < n->n_pos; i++)
		n->pos[i].ech = 0;
	for (i = 0; i < n->raw_first && !n->failed; i++)
		review_position(n, i);
	for (size_t pl = 0; pl < n->s->n_plants; pl++)
		produce(n, (int32_t)pl);
	for (; i < n->n_pos && !n->failed; i++) /* materials see today's production */
		review_position(n, i);
}

/* ---- receipts ------------------------------------------------------------ */

static double yield_loss(const net *n, int32_t pi)
{
	const position *p = &n->pos[pi];
	int supplier = n->s->plants[p->plant].bom[p->material].supplier;
	double keep = 1;

	for (size_t i = 0; i < n->s->n_disruptions; i++) {
		const omo_scn_disruption *d = &n->s->disruptions[i];
		if (n->active[i] && d->kind == OMO_SCN_YIELD_LOSS && d->supplier == supplier)
			keep *= 1 - d->size;
	}
	return 1 - keep;
}

static void receipt_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	net *n = arg;
	int32_t i = (int32_t)ev->payload.u64;
	shipment sh = n->ships[i];
	position *p = sh.pos == NONE ? NULL : &n->pos[sh.pos];

	(void)sim;
	n->ships[i].next = n->free_ship;
	n->free_ship = i;
	if (sh.kind != FLOW_PARCEL && p && n->offline[p->node]) {
		dispatch(n, sh, 1); /* the receiver is down: try tomorrow */
		return;
	}
	switch ((enum flow)sh.kind) {
	case FLOW_SUPPLY:
		sh.lost += (int64_t)floor((double)(sh.qty - sh.lost) * yield_loss(n, sh.pos));
		n->on_hand[sh.pos] += sh.qty - sh.lost;
		p->pipeline -= sh.qty;
		break;
	case FLOW_TRANSFER:
		n->on_hand[sh.pos] += sh.qty;
		p->pipeline -= sh.qty;
		break;
	case FLOW_MADE:
		if (sh.order == NONE) {
			n->on_hand[sh.pos] += sh.qty;
			p->pipeline -= sh.qty;
		} else {
			deliver(n, sh.order, sh.node, NONE, sh.qty,
			        parcel_days(n, sh.order, sh.node, sh.qty));
		}
		break;
	case FLOW_PARCEL: {
		int64_t back = 0;
		n->orders[sh.order].transit -= sh.qty;
		for (int64_t u = 0; u < sh.qty && n->s->demand.return_rate > 0; u++)
			back += omo_sim_rng_u01(&n->rng_return) < n->s->demand.return_rate;
		if (back > 0 && sh.pos != NONE)
			dispatch(
			    n,
			    (shipment){
			        .kind = FLOW_RETURN, .pos = sh.pos, .order = NONE, .qty = back},
			    n->s->demand.return_days);
		order_check(n, sh.order);
		break;
	}
	case FLOW_RETURN:
		n->on_hand[sh.pos] += sh.qty; /* back where it shipped from, as policy says */
		break;
	}
}

/* ---- disruptions --------------------------------------------------------- */

static void disrupt_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	net *n = arg;

	(void)ev;
	n->day = (int)(omo_sim_now(sim) / DAY);
	n->parcels_today = 0;
	for (size_t pl = 0; pl < n->s->n_plants; pl++)
		n->cap_left[pl] =
		    n->s->plants[pl].capacity > 0 ? n->s->plants[pl].capacity : INT64_MAX / 4;
	for (size_t k = 0; k < n->s->n_suppliers; k++)
		n->supplier_left[k] = n->s->suppliers[k].capacity;
	memset(n->offline, 0, n->n_nodes * sizeof(bool));
	n->shock = 1;
	for (size_t i = 0; i < n->s->n_disruptions; i++) {
		const omo_scn_disruption *d = &n->s->disruptions[i];
		if (d->mtbf > 0) { /* one step of the on/off chain */
			double u = omo_sim_rng_u01(&n->rng_disrupt);
			n->active[i] = n->active[i] ? u >= 1 / d->mttr : u < 1 / d->mtbf;
		} else {
			n->active[i] = n->day >= (int)d->from && n->day <= (int)d->to_day;
		}
		if (n->active[i] && d->kind == OMO_SCN_OUTAGE)
			n->offline[d->node] = true;
		if (n->active[i] && d->kind == OMO_SCN_DEMAND_SHOCK)
			n->shock *= d->size;
	}
	for (uint32_t k = 0; k < n->n_nodes; k++) {
		n->rt_nodes[k].online = !n->offline[k];
		n->rt_nodes[k].used_orders = n->rt_nodes[k].used_lines = 0; /* a new day */
	}
}

/* ---- close --------------------------------------------------------------- */

static omo_sim_err schedule_day(net *n, int day)
{
	for (int st = 0; st < N_STEPS; st++) {
		omo_sim_err err =
		    omo_sim_schedule(n->sim, (omo_sim_time)day * DAY + step_hours[st] * HOUR,
		                     n->kinds[st], (omo_sim_payload){.u64 = 0});
		if (err)
			return err;
	}
	return OMO_SIM_OK;
}

static void close_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	net *n = arg;
	double inv[N_ECH] = {0}, rate = n->s->costs.holding_rate / 365.0, holding = 0, owed = 0;

	(void)ev;
	for (size_t i = 0; i < n->n_pos; i++) {
		position *p = &n->pos[i];
		inv[p->echelon] += (double)n->on_hand[i];
		holding += (double)n->on_hand[i] * p->value;
		if (p->kind == OMO_SCN_MOVING_AVERAGE || p->kind == OMO_SCN_SMOOTHING)
			update_forecast(n, p);
		else
			p->out_today = 0;
	}
	for (size_t i = 0; i < n->back.n; i++)
		owed += (double)n->back.v[i].qty;
	charge(n, OMO_NET_KPI_cost_holding, holding * rate);
	charge(n, OMO_NET_KPI_cost_backorder, owed * n->s->costs.backorder);
	n->day_col[OMO_NET_COL_backordered] = owed;
	n->day_col[OMO_NET_COL_store] = inv[ECH_STORE];
	n->day_col[OMO_NET_COL_warehouse] = inv[ECH_WAREHOUSE];
	n->day_col[OMO_NET_COL_plant] = inv[ECH_PLANT];
	n->day_col[OMO_NET_COL_raw] = inv[ECH_RAW];
	if (n->res->series)
		memcpy(&n->res->series[(size_t)n->day * OMO_NET_N_COLS], n->day_col,
		       sizeof(n->day_col));
	if (measuring(n)) {
		n->measured_days++;
		n->sum[OMO_NET_KPI_lost_sales] += n->day_col[OMO_NET_COL_lost];
		omo_sim_stat_add(&n->stat_demand, n->day_col[OMO_NET_COL_demand]);
		for (int e = 0; e < N_ECH; e++) {
			omo_sim_stat_add(&n->stat_orders[e], n->ech_orders[e]);
			n->inv_sum[e] += inv[e];
		}
	}
	memset(n->day_col, 0, sizeof(n->day_col));
	memset(n->ech_orders, 0, sizeof(n->ech_orders));
	if (n->progress)
		n->progress(n->progress_arg, (unsigned)n->day + 1, n->s->days);
	if (n->day + 1 >= (int)n->s->days)
		omo_sim_stop(sim);
	else if (schedule_day(n, n->day + 1))
		net_fail(n);
}

/* ---- setup --------------------------------------------------------------- */

static int64_t nearest(const net *n, int64_t lat, int64_t lon, rt_node_type type, int skip)
{
	int64_t best = INT64_MAX;
	int found = NONE;

	for (uint32_t k = 0; k < n->n_nodes; k++) {
		int64_t d;
		if (n->rt_nodes[k].type != type || (int)k == skip)
			continue;
		d = rt_distance_m(lat, lon, n->rt_nodes[k].lat_udeg, n->rt_nodes[k].lon_udeg);
		if (d < best)
			best = d, found = (int)k;
	}
	return found;
}

/* Planned mean daily demand of every (node, SKU), from the demand model:
 * stores see their walk-ins and pick-ups, warehouses their stores and the
 * homes nearest to them, plants their warehouses. */
typedef struct plan_means {
	double *d; /* [node * n_skus + sku] */
} plan_means;

static bool stocks(const net *n, int node, int sku)
{
	return !n->s->to_order[sku] && omo_scenario_policy(n->s, node, sku) != NULL &&
	       (n->rt_nodes[node].type != RT_STORE || (unsigned)sku < n->s->demand.assortment);
}

static void plan_demand(net *n, double *d)
{
	const omo_scenario *s = n->s;
	const omo_scn_demand *dm = &s->demand;
	double ch = 0, wsum = 0, zipf_a = 0, online;
	size_t K = n->n_skus;

	for (int c = 0; c < OMO_SCN_N_CHANNELS; c++)
		ch += dm->channel_weight[c];
	for (size_t r = 0; r < s->n_regions; r++)
		wsum += s->regions[r].weight;
	for (unsigned k = 0; k < dm->assortment; k++)
		zipf_a += pow(k + 1.0, -dm->zipf);
	online = dm->orders_per_day * dm->lines_mean;
	for (uint32_t node = 0; node < n->n_nodes; node++) {
		if (n->rt_nodes[node].type != RT_STORE)
			continue;
		double pick = 0;
		for (size_t r = 0; r < s->n_regions; r++)
			for (int j = 0; j < 4; j++)
				pick += n->region_stores[r][j] == (int)node
				            ? s->regions[r].weight / wsum / 4
				            : 0;
		for (size_t k = 0; k < K; k++)
			d[node * K + k] = (k < dm->assortment ? dm->walk_in_per_store *
			                                            pow(k + 1.0, -dm->zipf) / zipf_a
			                                      : 0) +
			                  online * dm->channel_weight[OMO_SCN_PICKUP] / ch * pick *
			                      n->sku_share[k];
	}
	for (size_t r = 0; r < s->n_regions; r++) {
		int dc = (int)nearest(n, s->regions[r].lat_udeg, s->regions[r].lon_udeg,
		                      RT_WAREHOUSE, NONE);
		double share = s->regions[r].weight / wsum *
		               (dm->channel_weight[OMO_SCN_SHIP_TO_HOME] +
		                dm->channel_weight[OMO_SCN_MARKETPLACE]) /
		               ch;
		if (dc == NONE)
			continue;
		for (size_t k = 0; k < K; k++)
			d[(size_t)dc * K + k] += online * share * n->sku_share[k];
	}
	for (uint32_t node = 0; node < n->n_nodes; node++)
		if (n->rt_nodes[node].type == RT_STORE && n->store_dc[node] != NONE)
			for (size_t k = 0; k < K; k++)
				d[(size_t)n->store_dc[node] * K + k] += d[node * K + k];
	for (uint32_t node = 0; node < n->n_nodes; node++)
		if (n->rt_nodes[node].type == RT_WAREHOUSE)
			for (size_t k = 0; k < K; k++)
				d[(size_t)s->plants[s->maker[k]].node * K + k] += d[node * K + k];
}

static int64_t in_units(double x, bool units, double mean)
{
	return units ? (int64_t)llround(x) : (int64_t)ceil(x * mean - 1e-9);
}

static bool add_position(net *n, position p, const omo_scn_policy *pol, int64_t opening)
{
	if (!vec_grow((void **)&n->pos, &n->cap_pos, n->n_pos, sizeof(position)))
		return false;
	p.kind = (uint8_t)pol->kind;
	p.S = in_units(pol->S, pol->units, p.mean);
	p.s = in_units(pol->s, pol->units, p.mean);
	p.Q = in_units(pol->Q, pol->units, p.mean);
	if (p.Q < 1)
		p.Q = 1;
	p.cover = pol->S;
	p.alpha = pol->alpha;
	p.forecast = p.mean;
	p.ring = NONE;
	p.up = NONE;
	if (pol->kind == OMO_SCN_MOVING_AVERAGE) {
		size_t at = n->n_ma;
		p.p = pol->p;
		if (!vec_grow((void **)&n->ma, &n->cap_ma, n->n_ma + p.p, sizeof(double)))
			return false;
		for (uint32_t i = 0; i < p.p; i++)
			n->ma[at + i] = p.mean;
		n->n_ma += p.p;
		p.ring = (int32_t)at;
	}
	if (!vec_grow((void **)&n->on_hand, &n->cap_on_hand, n->n_pos, sizeof(int64_t)))
		return false;
	n->on_hand[n->n_pos] = opening >= 0           ? opening
	                       : p.kind == OMO_SCN_RQ ? p.s + p.Q
	                       : (p.kind == OMO_SCN_MOVING_AVERAGE || p.kind == OMO_SCN_SMOOTHING)
	                           ? (int64_t)ceil(p.cover * p.mean)
	                           : p.S;
	n->pos[n->n_pos++] = p;
	return true;
}

static omo_sim_err build_positions(net *n)
{
	const omo_scenario *s = n->s;
	size_t K = n->n_skus;
	double *d = calloc((size_t)n->n_nodes * K, sizeof(double));
	static const rt_node_type by_echelon[] = {RT_STORE, RT_WAREHOUSE, RT_MANUFACTURER};
	omo_sim_err err = OMO_SIM_ENOMEM;

	if (d == NULL)
		return err;
	plan_demand(n, d);
	for (size_t i = 0; i < (size_t)n->n_nodes * K; i++)
		n->pos_of[i] = NONE;
	/* Within an echelon, a SKU's positions sit together: routing an order
	 * reads all of them. */
	for (int e = 0; e < 3; e++)
		for (size_t k = 0; k < K; k++) {
			for (uint32_t node = 0; node < n->n_nodes; node++) {
				const omo_scn_policy *pol;
				if (n->rt_nodes[node].type != by_echelon[e])
					continue;
				if (!stocks(n, (int)node, (int)k) ||
				    (by_echelon[e] == RT_MANUFACTURER &&
				     s->plants[s->maker[k]].node != (int)node))
					continue;
				pol = omo_scenario_policy(s, (int)node, (int)k);
				position p = {.node = (int32_t)node,
				              .sku = (int32_t)k,
				              .material = NONE,
				              .plant = n->plant_of[node],
				              .echelon = (uint8_t)e,
				              .mean = d[node * K + k],
				              .value = (double)s->catalog.skus[k].price_minor /
				                       100.0 * s->costs.unit_value};
				n->pos_of[node * K + k] = (int32_t)n->n_pos;
				if (s->has_rules)
					p.stock_rule =
					    rt_rules_stock(&s->rules, s->catalog.nodes[node].id,
					                   s->catalog.skus[k].sku);
				if (!add_position(n, p, pol,
				                  s->stock ? s->stock[node * K + k] : -1))
					goto out;
			}
		}
	n->raw_first = n->n_pos;
	for (size_t pl = 0; pl < s->n_plants; pl++) {
		const omo_scn_plant *plant = &s->plants[pl];
		n->material_first[pl] = (int32_t)n->n_pos;
		for (size_t b = 0; b < plant->n_bom; b++) {
			double use = 0;
			for (size_t k = 0; k < K; k++)
				if (s->maker[k] == (int)pl)
					use +=
					    d[(size_t)plant->node * K + k] * plant->bom[b].per_unit;
			position p = {.node = plant->node,
			              .sku = NONE,
			              .material = (int32_t)b,
			              .plant = (int32_t)pl,
			              .echelon = ECH_RAW,
			              .mean = use,
			              .value = s->suppliers[plant->bom[b].supplier].unit_cost};
			if (!add_position(n, p, &plant->material_policy, -1))
				goto out;
		}
	}
	/* Sources: a store's warehouse, a warehouse's plant, where they stock it. */
	for (size_t i = 0; i < n->n_pos; i++) {
		position *p = &n->pos[i];
		int src = p->echelon == ECH_STORE       ? n->store_dc[p->node]
		          : p->echelon == ECH_WAREHOUSE ? s->plants[s->maker[p->sku]].node
		                                        : NONE;
		if (src != NONE)
			p->up = n->pos_of[(size_t)src * K + (size_t)p->sku];
	}
	err = OMO_SIM_OK;
out:
	free(d);
	return err;
}

/* sku_pos lists, per SKU, the positions that stock it, raw materials aside
 * (consumers' candidates). */
static omo_sim_err index_skus(net *n)
{
	size_t K = n->n_skus, at = 0;

	n->sku_first = calloc(K + 1, sizeof(uint32_t));
	n->sku_pos = malloc((n->n_pos + 1) * sizeof(int32_t));
	n->sku_node = malloc((n->n_pos + 1) * sizeof(int32_t));
	if (n->sku_first == NULL || n->sku_pos == NULL || n->sku_node == NULL)
		return OMO_SIM_ENOMEM;
	for (size_t k = 0; k < K; k++) {
		n->sku_first[k] = (uint32_t)at;
		for (uint32_t node = 0; node < n->n_nodes; node++)
			if (n->pos_of[(size_t)node * K + k] != NONE) {
				n->sku_node[at] = (int32_t)node;
				n->sku_pos[at++] = n->pos_of[(size_t)node * K + k];
			}
	}
	n->sku_first[K] = (uint32_t)at;
	return OMO_SIM_OK;
}

static omo_sim_err build_demand(net *n, uint64_t seed)
{
	const omo_scenario *s = n->s;
	const omo_scn_demand *dm = &s->demand;
	size_t K = n->n_skus, A = dm->assortment;
	double *w = malloc((K > s->n_regions ? K : s->n_regions) * sizeof(double)), total = 0;
	double chw[OMO_SCN_N_CHANNELS], idx[OMO_SCN_N_CHANNELS];
	double *values = malloc((K > s->n_regions ? K : s->n_regions) * sizeof(double));
	omo_sim_err err = OMO_SIM_ENOMEM;

	n->sku_share = malloc(K * sizeof(double));
	n->sold_out = calloc(K, sizeof(int32_t));
	n->social_excite = calloc(dm->n_social + 1, sizeof(double));
	n->trace_first = calloc((size_t)s->days + 2, sizeof(uint32_t));
	n->trace_order = malloc((dm->n_trace + 1) * sizeof(uint32_t));
	if (!w || !values || !n->sku_share || !n->sold_out || !n->social_excite ||
	    !n->trace_first || !n->trace_order)
		goto out;
	for (size_t k = 0; k < K; k++) {
		values[k] = (double)k;
		w[k] = pow((double)k + 1, -dm->zipf);
		total += w[k];
	}
	for (size_t k = 0; k < K; k++)
		n->sku_share[k] = w[k] / total;
	if ((err = omo_sim_discrete_init(&n->popularity, values, w, K)) ||
	    (err = omo_sim_discrete_init(&n->assortment, values, w, A)))
		goto out;
	for (int c = 0; c < OMO_SCN_N_CHANNELS; c++)
		chw[c] = dm->channel_weight[c], idx[c] = c;
	if ((err = omo_sim_discrete_init(&n->channel, idx, chw, OMO_SCN_N_CHANNELS)))
		goto out;
	for (size_t r = 0; r < s->n_regions; r++)
		values[r] = (double)r, w[r] = s->regions[r].weight;
	if ((err = omo_sim_discrete_init(&n->region, values, w, s->n_regions)))
		goto out;
	for (size_t i = 0; i < dm->n_trace; i++) /* counting sort of the trace by day */
		if (dm->trace[i].day < s->days)
			n->trace_first[dm->trace[i].day + 1]++;
	for (unsigned t = 0; t < s->days; t++)
		n->trace_first[t + 1] += n->trace_first[t];
	{
		uint32_t *fill = calloc((size_t)s->days + 1, sizeof(uint32_t));
		if (fill == NULL) {
			err = OMO_SIM_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < dm->n_trace; i++)
			if (dm->trace[i].day < s->days)
				n->trace_order[n->trace_first[dm->trace[i].day] +
				               fill[dm->trace[i].day]++] = (uint32_t)i;
		free(fill);
	}
	omo_sim_rng_init(&n->rng_count, seed, S_COUNT);
	omo_sim_rng_init(&n->rng_order, seed, S_ORDER);
	omo_sim_rng_init(&n->rng_walk, seed, S_WALK_IN);
	omo_sim_rng_init(&n->rng_social, seed, S_SOCIAL);
	omo_sim_rng_init(&n->rng_supply, seed, S_SUPPLY);
	omo_sim_rng_init(&n->rng_disrupt, seed, S_DISRUPT);
	omo_sim_rng_init(&n->rng_return, seed, S_RETURN);
	omo_sim_rng_init(&n->rng_promo, seed, S_PROMO);
	err = OMO_SIM_OK;
out:
	free(w);
	free(values);
	return err;
}

static omo_sim_err build_nodes(net *n)
{
	const omo_scenario *s = n->s;
	static const rt_node_type types[] = {RT_MANUFACTURER, RT_WAREHOUSE, RT_STORE};
	size_t N = n->n_nodes;

	n->rt_nodes = calloc(N, sizeof(rt_node));
	n->cand_nodes = calloc(N, sizeof(rt_node));
	n->cand_index = calloc(N, sizeof(int32_t));
	n->cand_of = calloc(N, sizeof(int32_t));
	n->cells = calloc(N * RT_MAX_LINES, sizeof(rt_stock));
	n->cell_pos = calloc(N * RT_MAX_LINES, sizeof(int32_t));
	n->hazmat = calloc(n->n_skus, sizeof(bool));
	n->mark = calloc(N, sizeof(uint32_t));
	n->cands = calloc(N, sizeof(rt_candidate));
	n->avail = calloc(N * RT_MAX_LINES, sizeof(int64_t));
	n->store_dc = calloc(N, sizeof(int32_t));
	n->plant_of = calloc(N, sizeof(int32_t));
	n->offline = calloc(N, sizeof(bool));
	n->pos_of = malloc(N * n->n_skus * sizeof(int32_t));
	n->region_stores = calloc(s->n_regions, sizeof(*n->region_stores));
	n->cap_left = calloc(s->n_plants, sizeof(int64_t));
	n->material_first = calloc(s->n_plants, sizeof(int32_t));
	n->queue = calloc(s->n_plants, sizeof(*n->queue));
	n->supplier_left = calloc(s->n_suppliers + 1, sizeof(int64_t));
	n->active = calloc(s->n_disruptions + 1, sizeof(bool));
	n->lane_shipped = calloc(N * N, sizeof(int32_t));
	n->lane_ordered = calloc(N * N, sizeof(int32_t));
	if (!n->rt_nodes || !n->cand_nodes || !n->cand_index || !n->cand_of || !n->cells ||
	    !n->cell_pos || !n->hazmat || !n->mark || !n->cands || !n->avail || !n->store_dc ||
	    !n->plant_of || !n->offline || !n->pos_of || !n->region_stores || !n->cap_left ||
	    !n->material_first || !n->queue || !n->supplier_left || !n->active ||
	    !n->lane_shipped || !n->lane_ordered)
		return OMO_SIM_ENOMEM;
	for (size_t k = 0; k < N; k++) {
		const omo_node_info *c = &s->catalog.nodes[k];
		rt_node *r = &n->rt_nodes[k];
		snprintf(r->id, sizeof(r->id), "%s", c->id);
		r->type = types[c->type];
		r->caps = c->caps;
		r->lat_udeg = c->lat_udeg;
		r->lon_udeg = c->lon_udeg;
		r->online = true;
		n->plant_of[k] = NONE;
		if (s->has_rules && rt_rules_node(&s->rules, c->id))
			rt_node_apply(r, rt_rules_node(&s->rules, c->id));
	}
	for (size_t pl = 0; pl < s->n_plants; pl++)
		n->plant_of[s->plants[pl].node] = (int32_t)pl;
	for (uint32_t k = 0; s->has_rules && k < n->n_skus; k++) {
		const rt_sku_rule *rule = rt_rules_sku(&s->rules, s->catalog.skus[k].sku);
		n->hazmat[k] = rule != NULL && rule->hazmat;
	}
	for (size_t k = 0; k < N; k++)
		n->store_dc[k] = n->rt_nodes[k].type == RT_STORE
		                     ? (int32_t)nearest(n, n->rt_nodes[k].lat_udeg,
		                                        n->rt_nodes[k].lon_udeg, RT_WAREHOUSE, NONE)
		                     : NONE;
	for (size_t r = 0; r < s->n_regions; r++) { /* the four nearest stores */
		for (int j = 0; j < 4; j++) {
			int skip[4] = {NONE, NONE, NONE, NONE}, best = NONE;
			int64_t bd = INT64_MAX;
			for (int q = 0; q < j; q++)
				skip[q] = n->region_stores[r][q];
			for (size_t k = 0; k < N; k++) {
				int64_t d;
				if (n->rt_nodes[k].type != RT_STORE || (int)k == skip[0] ||
				    (int)k == skip[1] || (int)k == skip[2])
					continue;
				d = rt_distance_m(s->regions[r].lat_udeg, s->regions[r].lon_udeg,
				                  n->rt_nodes[k].lat_udeg, n->rt_nodes[k].lon_udeg);
				if (d < bd)
					bd = d, best = (int)k;
			}
			n->region_stores[r][j] =
			    best != NONE ? best : (j ? n->region_stores[r][0] : NONE);
		}
	}
	return OMO_SIM_OK;
}

static void net_free(net *n)
{
	free(n->pos);
	free(n->pos_of);
	free(n->store_dc);
	free(n->plant_of);
	free(n->sku_pos);
	free(n->sku_node);
	free(n->on_hand);
	free(n->sku_first);
	free(n->rt_nodes);
	free(n->region_stores);
	free(n->ma);
	free(n->cap_left);
	free(n->material_first);
	free(n->supplier_left);
	for (size_t pl = 0; n->queue && pl < n->s->n_plants; pl++)
		free(n->queue[pl].v);
	free(n->queue);
	free(n->ships);
	free(n->orders);
	free(n->owed.v);
	free(n->back.v);
	free(n->active);
	free(n->offline);
	free(n->lane_shipped);
	free(n->lane_ordered);
	omo_sim_discrete_fini(&n->popularity);
	omo_sim_discrete_fini(&n->assortment);
	omo_sim_discrete_fini(&n->channel);
	omo_sim_discrete_fini(&n->region);
	free(n->sku_share);
	free(n->sold_out);
	free(n->social_excite);
	free(n->trace_first);
	free(n->trace_order);
	free(n->cand_nodes);
	free(n->cand_index);
	free(n->cand_of);
	free(n->cells);
	free(n->cell_pos);
	free(n->hazmat);
	free(n->mark);
	free(n->avail);
	free(n->cands);
	omo_sim_free(n->sim);
}

/* ---- results ------------------------------------------------------------- */

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static double percentile(const omo_net_result *r, double q)
{
	uint64_t total = 0, seen = 0;

	for (int d = 0; d < OMO_NET_CYCLE_DAYS; d++)
		total += r->cycle_hist[d];
	for (int d = 0; d < OMO_NET_CYCLE_DAYS; d++) {
		seen += r->cycle_hist[d];
		if (total > 0 && (double)seen >= q * (double)total)
			return d;
	}
	return 0;
}

static void finish(net *n, omo_net_result *r)
{
	double days = (double)n->measured_days, var = omo_sim_stat_variance(&n->stat_demand);
	double cycle = 0, finished;
	uint64_t total = 0;
	static const omo_net_kpi bullwhip[N_ECH] = {
	    OMO_NET_KPI_bullwhip_store, OMO_NET_KPI_bullwhip_warehouse, OMO_NET_KPI_bullwhip_plant,
	    OMO_NET_KPI_bullwhip_raw};
	static const omo_net_kpi inv[N_ECH] = {OMO_NET_KPI_inv_store, OMO_NET_KPI_inv_warehouse,
	                                       OMO_NET_KPI_inv_plant, OMO_NET_KPI_inv_raw};

	for (int d = 0; d < OMO_NET_CYCLE_DAYS; d++) {
		cycle += (double)d * (double)r->cycle_hist[d];
		total += r->cycle_hist[d];
	}
	r->kpi[OMO_NET_KPI_fill_rate_1] = ratio((double)n->orders_full, (double)n->orders_all);
	r->kpi[OMO_NET_KPI_fill_rate_2] = ratio((double)n->units_full, (double)n->units_all);
	r->kpi[OMO_NET_KPI_otif] = ratio((double)n->on_time, (double)n->due_orders);
	r->kpi[OMO_NET_KPI_cycle_mean] = ratio(cycle, (double)total);
	r->kpi[OMO_NET_KPI_cycle_p50] = percentile(r, 0.5);
	r->kpi[OMO_NET_KPI_cycle_p90] = percentile(r, 0.9);
	r->kpi[OMO_NET_KPI_cycle_p99] = percentile(r, 0.99);
	r->kpi[OMO_NET_KPI_split_rate] = ratio((double)n->split_orders, (double)n->delivered);
	for (int k = OMO_NET_KPI_lost_sales; k <= OMO_NET_KPI_cost_lost_sales; k++)
		r->kpi[k] = ratio(n->sum[k], days);
	for (int k = OMO_NET_KPI_cost_holding; k <= OMO_NET_KPI_cost_lost_sales; k++)
		r->kpi[OMO_NET_KPI_cost_total] += r->kpi[k];
	for (int e = 0; e < N_ECH; e++) {
		r->kpi[inv[e]] = ratio(n->inv_sum[e], days);
		r->kpi[bullwhip[e]] = ratio(omo_sim_stat_variance(&n->stat_orders[e]), var);
	}
	finished = r->kpi[OMO_NET_KPI_inv_store] + r->kpi[OMO_NET_KPI_inv_warehouse] +
	           r->kpi[OMO_NET_KPI_inv_plant];
	r->kpi[OMO_NET_KPI_turns] = ratio((double)n->sold / days * 365.0, finished);
}

omo_sim_err omo_net_run(const omo_scenario *s, unsigned rep, bool series, omo_net_result *r,
                        omo_net_progress_cb progress, void *progress_arg)
{
	static const omo_sim_handler_cb steps[N_STEPS] = {disrupt_cb, backorders_cb, demand_cb,
	                                                  review_cb, close_cb};
	net n = {.s = s,
	         .n_nodes = s->catalog.n_nodes,
	         .n_skus = s->catalog.n_skus,
	         .res = r,
	         .progress = progress,
	         .progress_arg = progress_arg,
	         .free_ship = NONE,
	         .free_order = NONE};
	uint64_t mix = s->seed ^ (0x9E3779B97F4A7C15ull * (rep + 1));
	uint64_t seed = omo_sim_splitmix64(&mix);
	omo_sim_err err;

	memset(r, 0, sizeof(*r));
	if (series &&
	    (r->series = calloc((size_t)s->days * OMO_NET_N_COLS, sizeof(double))) == NULL)
		return OMO_SIM_ENOMEM;
	if ((err = omo_sim_alloc(&n.sim, 0)) || (err = build_nodes(&n)) ||
	    (err = build_demand(&n, seed)) || (err = build_positions(&n)) || (err = index_skus(&n)))
		goto out;
	for (int st = 0; st < N_STEPS; st++)
		if ((err = omo_sim_register(n.sim, step_names[st], steps[st], &n, &n.kinds[st])))
			goto out;
	if ((err = omo_sim_register(n.sim, "receipt", receipt_cb, &n, &n.receipt_kind)) ||
	    (err = schedule_day(&n, 0)))
		goto out;
	omo_sim_run(n.sim, OMO_SIM_FOREVER, 0);
	if (n.failed) {
		err = OMO_SIM_ENOMEM;
		goto out;
	}
	r->events = omo_sim_fired(n.sim);
	finish(&n, r);
out:
	net_free(&n);
	if (err) {
		free(r->series);
		memset(r, 0, sizeof(*r));
	}
	return err;
}
