/*
 * routing.h - the sourcing library: which nodes fulfil which order lines.
 *
 * routing/ is a pure library. It sees a snapshot (order lines, candidate
 * nodes, availability per line and node, exclusions) and returns a plan plus
 * a decision record that says why. It does no I/O, allocates nothing, keeps
 * no global state and reads no clock, so the router service, the simulator
 * and the tests get the same answer from the same inputs, on any thread.
 *
 * Memory rule: the caller owns every buffer; rt_route() only writes into the
 * plan and the candidate array it is given.
 */
#ifndef OMO_ROUTING_H
#define OMO_ROUTING_H

#include <stdbool.h>
#include <stdint.h>

#define RT_MAX_LINES  100 /* lines in one order */
#define RT_MAX_ALLOCS 400 /* (line, node) allocations in one plan */
#define RT_ID_MAX     32  /* node id length, without the NUL */

typedef enum rt_node_type {
	RT_MANUFACTURER = 0,
	RT_WAREHOUSE = 1,
	RT_STORE = 2,
} rt_node_type;

/* Capabilities a node offers (bit set). */
enum {
	RT_CAP_SHIP = 1u << 0,     /* ships parcels to a consumer's home */
	RT_CAP_PICKUP = 1u << 1,   /* hands orders over at its counter */
	RT_CAP_DROPSHIP = 1u << 2, /* a manufacturer shipping on our behalf */
	RT_CAP_HAZMAT = 1u << 3,   /* may handle hazardous goods */
	RT_CAP_TRANSFER = 1u << 4, /* sends stock to a store for a pick-up */
};

typedef enum rt_fulfillment {
	RT_SHIP_TO_HOME = 0,
	RT_PICKUP_IN_STORE = 1,
} rt_fulfillment;

/* Why a node took no part in a plan. */
typedef enum rt_exclusion {
	RT_INCLUDED = 0,
	RT_EXCLUDED_BY_ORDER, /* rejected or timed out earlier for this order */
	RT_OFFLINE,           /* node is not online */
	RT_NOT_CAPABLE,       /* lacks the capability the fulfillment needs */
	RT_NOT_PICKUP_NODE,   /* pick-up orders use the customer's store (and transfers to it) */
	RT_NO_STOCK,          /* has none of the order's lines available */
	RT_NOT_NEEDED,        /* eligible, but not used (plan complete, or a limit reached) */
	RT_NOT_HAZMAT,        /* the lines it stocks are hazardous and it may not handle them */
	RT_SAFETY_STOCK,      /* what it has is its safety stock */
	RT_CHANNEL_RESERVED,  /* what it has is set aside for other channels */
	RT_AT_CAPACITY,       /* its daily capacity (orders or lines) is used up */
	RT_MISSES_PROMISE,    /* it cannot deliver by the order's promise date */
	RT_NOT_SHORTLISTED,   /* eligible, but beyond the heuristic's shortlist */
	RT_NOT_COMPLETE,      /* ship-complete order, and it cannot send every line */
} rt_exclusion;

typedef struct rt_node {
	char id[RT_ID_MAX + 1];
	rt_node_type type;
	uint32_t caps;    /* RT_CAP_* */
	int64_t lat_udeg; /* latitude, micro-degrees */
	int64_t lon_udeg; /* longitude, micro-degrees */
	bool online;
	/* Operating data read by rt_decide() only (zero: none, no limit). */
	int64_t handling_cost;   /* per package, minor currency units */
	int32_t cutoff_min;      /* orders after this minute of the (UTC) day ship a day later */
	int32_t processing_days; /* days from order to leaving the node */
	int64_t cap_orders;      /* orders it can take per day (0: no limit) */
	int64_t cap_lines;       /* order lines it can take per day (0: no limit) */
	int64_t used_orders;     /* taken so far today */
	int64_t used_lines;
	int64_t make_capacity; /* made-to-order units it can still make (0: makes none) */
	int32_t make_days;     /* days to make one */
} rt_node;

typedef struct rt_line {
	uint32_t line_no; /* the order's own line number */
	int64_t quantity; /* > 0 */
} rt_line;

typedef struct rt_request {
	const rt_line *lines; /* n_lines entries, 1..RT_MAX_LINES */
	uint32_t n_lines;
	const rt_node *nodes; /* candidate nodes */
	uint32_t n_nodes;
	/* available[l * n_nodes + n]: units of line l's SKU free at node n
	 * (on hand minus reserved minus safety stock); negative counts as 0. */
	const int64_t *available;
	/* excluded[n] != 0: node n may not be used for this order (may be NULL) */
	const uint8_t *excluded;
	rt_fulfillment fulfillment;
	int64_t ship_lat_udeg; /* ship-to, for RT_SHIP_TO_HOME */
	int64_t ship_lon_udeg;
	int32_t pickup_node;   /* node index, for RT_PICKUP_IN_STORE */
	uint32_t max_splits;   /* most nodes in one plan; 0 means no limit */
	bool allow_line_split; /* may one line's units come from two nodes */
} rt_request;

typedef struct rt_alloc {
	uint32_t line; /* index into request lines */
	uint32_t node; /* index into request nodes */
	int64_t quantity;
	int64_t promise_day; /* rt_decide(): day (since the epoch) the units reach the consumer */
	bool transfer;       /* rt_decide(): sent to the pick-up store, which hands them over */
	bool made;           /* rt_decide(): made to order from components */
} rt_alloc;

/* One row of the decision record per candidate node. */
typedef struct rt_candidate {
	rt_exclusion exclusion;   /* RT_INCLUDED if it is in the plan */
	uint32_t lines_coverable; /* lines it could fill completely */
	int64_t distance_m;       /* great-circle distance to the ship-to, metres */
	int64_t score;            /* lower is better; only meaningful if eligible */
	uint32_t zone;            /* rt_decide(): shipping zone (1-based; 0: no zones) */
	int64_t promise_day;      /* rt_decide(): earliest day its goods reach the consumer */
} rt_candidate;

typedef struct rt_plan {
	rt_alloc allocs[RT_MAX_ALLOCS];
	uint32_t n_allocs;
	int64_t short_qty[RT_MAX_LINES]; /* units per line that no node could give */
	uint32_t n_nodes_used;
	bool complete; /* every unit of every line is allocated */
	/* rt_decide() only: */
	int64_t cost;     /* the objective of the plan (thousandths of a point), lower is better */
	int32_t strategy; /* index of the rule set's strategy used */
	bool exact;       /* found by exhaustive branch and bound (else the shortlist heuristic) */
} rt_plan;

typedef enum rt_status {
	RT_OK = 0,
	RT_EINVAL, /* request breaks a limit above; plan untouched */
} rt_status;

/*
 * rt_route computes a plan for req: fewest nodes first, then nearest to the
 * ship-to (for pick-up, the customer's store only, at distance 0). "Fewest"
 * comes from a greedy rule (the node covering most remaining lines first),
 * not an exhaustive search. Ties break on the lower node index, so the
 * answer is a pure function of the inputs. cands must have room for
 * req->n_nodes rows; it receives the decision record (an ineligible node
 * scores INT64_MAX). Units no node can give are left in plan->short_qty (the
 * caller back-orders them); so are units beyond RT_MAX_ALLOCS allocations,
 * still with RT_OK. Returns RT_EINVAL, writing nothing, if the request
 * breaks a limit.
 */
rt_status rt_route(const rt_request *req, rt_plan *plan, rt_candidate *cands);

/* rt_distance_m returns the great-circle distance between two points in metres. */
int64_t rt_distance_m(int64_t lat1_udeg, int64_t lon1_udeg, int64_t lat2_udeg, int64_t lon2_udeg);

/* rt_exclusion_name returns a stable lowercase name, e.g. "offline". */
const char *rt_exclusion_name(rt_exclusion e);

#endif
