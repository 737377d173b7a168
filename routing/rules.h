/*
 * rules.h - sourcing by rule set: versioned strategies, filters and weighted
 * objectives, and the decision function that applies them.
 *
 * A rule set is data a person edits (YAML or JSON): an ordered list of
 * strategies, the first whose channels and fulfilments match an order being
 * the one used; each names the filters it applies, its objective weights
 * and its split policy. The file also carries the shipping zones and the
 * operating data the router adds to its snapshot (per node: handling cost,
 * cutoff, capacity; per SKU: hazmat, bill of materials; safety stock,
 * channel reservations and stock targets). Its hash is the SHA-256 of its
 * canonical JSON form (keys sorted, no spaces), so reformatting or comments
 * do not change it and any change of meaning does.
 *
 * rt_decide() is pure like rt_route(): no I/O, no allocation, no clock.
 *
 * Memory rule: an rt_rules owns its heap arrays; rt_rules_fini frees them.
 * Everything else is the caller's.
 */
#ifndef OMO_ROUTING_RULES_H
#define OMO_ROUTING_RULES_H

#include <jansson.h>
#include <stddef.h>

#include "routing.h"

#define RT_MAX_STRATEGIES 16
#define RT_MAX_ZONES      16
#define RT_MAX_BOM        8  /* components of one made-to-order SKU */
#define RT_NAME_MAX       32 /* strategy and rule set names, SKU ids are 64 */
#define RT_SKU_MAX        64
#define RT_HASH_HEX       64
#define RT_SHORTLIST      12 /* eligible nodes searched exhaustively; beyond, a shortlist */

/* Filters a strategy may apply (bit set). */
#define RT_FILTER_LIST(X)                                                                          \
	X(EXCLUSIONS, "exclusions", "nodes that rejected or timed out on this order")              \
	X(ONLINE, "online", "nodes that are offline or unhealthy")                                 \
	X(CAPABILITY, "capability", "nodes without the fulfilment's capability")                   \
	X(HAZMAT, "hazmat", "hazardous lines at nodes not allowed to handle them")                 \
	X(DAILY_CAPACITY, "daily_capacity", "nodes whose orders or lines for the day are used up") \
	X(SAFETY_STOCK, "safety_stock", "units below a node's safety stock")                       \
	X(CHANNEL_RESERVATION, "channel_reservation", "units set aside for other channels")        \
	X(PROMISE, "promise", "nodes that would deliver after the order's promise date")

#define RT_X_FILTER_BIT(id, name, doc) RT_FILTER_BIT_##id,
enum { RT_FILTER_LIST(RT_X_FILTER_BIT) RT_FILTER_COUNT };
#define RT_X_FILTER_FLAG(id, name, doc) RT_FILTER_##id = 1u << RT_FILTER_BIT_##id,
enum { RT_FILTER_LIST(RT_X_FILTER_FLAG) };

/* Objective terms; a strategy weighs each (integer weights, 0: ignored). */
#define RT_OBJECTIVE_LIST(X)                                                                       \
	X(distance, "per km from node to ship-to, per package")                                    \
	X(shipping,                                                                                \
	  "per minor unit of shipping cost: zone base per package plus zone rate per kg")          \
	X(handling, "per minor unit of the node's handling cost per package")                      \
	X(package, "per package beyond the first")                                                 \
	X(late, "per unit and day delivered after the promise date")                               \
	X(balance, "per unit taken from a node at or below its target (none at twice the target)")

#define RT_X_WEIGHT(name, doc) int64_t name;
typedef struct rt_weights {
	RT_OBJECTIVE_LIST(RT_X_WEIGHT)
} rt_weights;

/* A shipping zone: orders up to max_km from the node. */
typedef struct rt_zone {
	int64_t max_km;
	int32_t transit_days;
	int64_t base_cost; /* per package, minor units */
	int64_t per_kg;    /* minor units per kg */
} rt_zone;

typedef struct rt_strategy {
	char name[RT_NAME_MAX + 1];
	uint32_t channels;     /* bit (1 << omo_channel) per channel it serves */
	uint32_t fulfillments; /* bit (1 << omo_fulfillment) per fulfilment it serves */
	uint32_t filters;      /* RT_FILTER_* */
	rt_weights weights;
	uint32_t max_splits;  /* most packages (nodes); 0: no limit */
	bool ship_complete;   /* one node sends everything, or nothing is sent */
	bool line_split;      /* one line's units may come from several nodes */
	bool pickup_transfer; /* pick-up lines the store lacks may come from a transfer node */
} rt_strategy;

/* Operating data of one node, by id. */
typedef struct rt_node_rule {
	char node[RT_ID_MAX + 1];
	uint32_t caps; /* added to the network's capabilities */
	int64_t handling_cost;
	int32_t cutoff_min;
	int32_t processing_days;
	int64_t cap_orders, cap_lines;
	int64_t make_capacity;
	int32_t make_days;
} rt_node_rule;

typedef struct rt_bom_item {
	char sku[RT_SKU_MAX + 1];
	int64_t per_unit;
} rt_bom_item;

/* Attributes of one SKU, by id. */
typedef struct rt_sku_rule {
	char sku[RT_SKU_MAX + 1];
	bool hazmat;
	rt_bom_item bom[RT_MAX_BOM]; /* made to order from these, if n_bom > 0 */
	uint32_t n_bom;
} rt_sku_rule;

/* Stock policy for one (node, SKU); "*" in either matches any. */
typedef struct rt_stock_rule {
	char node[RT_ID_MAX + 1];
	char sku[RT_SKU_MAX + 1];
	int64_t safety;       /* units kept back */
	int64_t target;       /* units the node aims to hold (stock balance) */
	int64_t channel_held; /* units set aside for channel_mask */
	uint32_t channel_mask;
} rt_stock_rule;

typedef struct rt_rules {
	char name[RT_NAME_MAX + 1];
	int64_t version;
	char hash[RT_HASH_HEX + 1]; /* lowercase hex SHA-256 of the canonical form */
	rt_strategy strategies[RT_MAX_STRATEGIES];
	uint32_t n_strategies;
	rt_zone zones[RT_MAX_ZONES]; /* ascending max_km */
	uint32_t n_zones;
	rt_node_rule *nodes; /* sorted by id */
	uint32_t n_nodes;
	rt_sku_rule *skus; /* sorted by sku */
	uint32_t n_skus;
	rt_stock_rule *stock; /* in file order; the first match wins */
	uint32_t n_stock;
} rt_rules;

/*
 * rt_rules_parse fills r from a parsed document. Every strategy must name
 * known filters and objectives, and every (channel, fulfilment) must be
 * served by some strategy. On error returns -1, writes "where: what" to err
 * and leaves r zeroed (nothing to free). On success r owns its arrays.
 */
int rt_rules_parse(const json_t *doc, rt_rules *r, char *err, size_t errlen);

/* rt_rules_parse_text parses YAML or JSON text with rt_rules_parse. */
int rt_rules_parse_text(const char *text, size_t len, rt_rules *r, char *err, size_t errlen);

/* rt_rules_load reads a file with rt_rules_parse_text. */
int rt_rules_load(const char *path, rt_rules *r, char *err, size_t errlen);

/* rt_rules_fini frees what r owns and zeroes it; r may be zeroed already. */
void rt_rules_fini(rt_rules *r);

/* rt_rules_select returns the index of the first strategy serving
 * (channel, fulfillment), or -1. */
int rt_rules_select(const rt_rules *r, int channel, int fulfillment);

/* Lookups; NULL when the file says nothing of the node or SKU. */
const rt_node_rule *rt_rules_node(const rt_rules *r, const char *node);
const rt_sku_rule *rt_rules_sku(const rt_rules *r, const char *sku);
/* rt_rules_stock returns the first stock rule matching (node, sku), or NULL. */
const rt_stock_rule *rt_rules_stock(const rt_rules *r, const char *node, const char *sku);

/* rt_node_apply adds a node's operating data from the rule set to n. */
void rt_node_apply(rt_node *n, const rt_node_rule *rule);

/* rt_filter_name and rt_filter_parse map filters to their names; -1 if unknown. */
const char *rt_filter_name(unsigned bit);
int rt_filter_parse(const char *name);

/* ---- one order against a snapshot ------------------------------------ */

/* Units of one (line, node) cell of the snapshot. */
typedef struct rt_stock {
	int64_t on_hand;
	int64_t reserved;     /* held for other orders */
	int64_t safety;       /* kept back when the safety_stock filter applies */
	int64_t channel_held; /* set aside for channel_mask, when channel_reservation applies */
	uint32_t channel_mask;
	int64_t target; /* stock balance: what the node aims to hold; 0: none */
} rt_stock;

/* One component of a made-to-order line: free units per node. */
typedef struct rt_component {
	int64_t per_unit;
	const int64_t *free; /* [n_nodes] */
} rt_component;

typedef struct rt_order_line {
	uint32_t line_no;
	int64_t quantity; /* > 0 */
	int64_t weight_g; /* per unit */
	bool hazmat;
	const rt_component *bom; /* made to order (capable-to-promise) if n_bom > 0 */
	uint32_t n_bom;
} rt_order_line;

typedef struct rt_order {
	const rt_order_line *lines; /* 1..RT_MAX_LINES */
	uint32_t n_lines;
	int channel;     /* omo_channel */
	int fulfillment; /* omo_fulfillment: 0 ship to home, 1 pick up in store */
	int64_t ship_lat_udeg, ship_lon_udeg;
	int32_t pickup_node;     /* node index, for pick-up */
	bool ship_complete;      /* the customer asked for one package */
	int64_t now_us;          /* when the order is sourced: cutoffs and promise dates */
	int64_t promise_by_us;   /* latest delivery promised to the customer; 0: none */
	const uint8_t *excluded; /* [n_nodes], may be NULL: rejected or timed out before */
} rt_order;

typedef struct rt_snapshot {
	const rt_node *nodes;
	uint32_t n_nodes;
	const rt_stock *stock; /* [line * n_nodes + node] */
} rt_snapshot;

/*
 * rt_decide sources order against snap with rules: the first strategy
 * serving the order's channel and fulfilment applies its filters, then
 * chooses the set of nodes (at most max_splits) that first leaves the
 * fewest units short and then costs least under the strategy's weights;
 * equal plans go to fewer nodes, then to lower node indices. With at most
 * RT_SHORTLIST eligible nodes the search is exact (branch and bound over
 * node subsets); beyond, it runs on a shortlist (see rules.c). cands gets
 * one decision record row per node. Returns RT_EINVAL, writing nothing, for
 * a request that breaks a limit, or if no strategy serves the order.
 */
rt_status rt_decide(const rt_rules *rules, const rt_order *order, const rt_snapshot *snap,
                    rt_plan *plan, rt_candidate *cands);

/* rt_decide_limited is rt_decide with the exhaustive limit set to
 * shortlist (1..RT_SHORTLIST): the tests compare the heuristic with it. */
rt_status rt_decide_limited(const rt_rules *rules, const rt_order *order, const rt_snapshot *snap,
                            uint32_t shortlist, rt_plan *plan, rt_candidate *cands);

/* rt_input_digest writes the lowercase hex SHA-256 of everything rt_decide
 * reads of order and snap (not the rules: they have their own hash). */
void rt_input_digest(const rt_order *order, const rt_snapshot *snap, char out[RT_HASH_HEX + 1]);

#endif
