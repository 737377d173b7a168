/*
 * scenario.h - a planner's what-if, read from a human-edited YAML file
 * (simulators/scenarios/<name>/scenario.yaml) into plain structs the network
 * model runs.
 *
 * A scenario names the network the services load (nodes.csv and skus.csv
 * of a network directory, read with the services' catalog, and optionally
 * stock.csv for the opening on-hand), then adds what only planning needs:
 * raw-material suppliers, plants with bills of materials and capacity,
 * carriers with transit days and cost by distance zone, ship-to regions,
 * demand, stock policies, routing (a rule set file as the router service
 * reads it, or the plain settings of rt_route) and disruptions. `extends: NAME`
 * starts from another scenario's file and replaces the top-level sections
 * it restates (a rule-set variant is a few lines).
 *
 * Times are whole days (the model's period); money is in the currency's
 * major unit as a double (planning estimates, not ledger amounts);
 * quantities are whole units.
 *
 * Memory rule: omo_scenario_load fills a caller's struct that owns every
 * array in it; omo_scenario_fini frees them (a zeroed or half-loaded one
 * is fine).
 */
#ifndef OMO_SCENARIO_H
#define OMO_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "rules.h"
#include "sim_rng.h"

#define OMO_SCN_ID_MAX 64

/* Stock policies: one list gives the kinds and their names in scenarios.
 * Levels are in days of the position's mean daily demand (the planner's
 * unit: "cover 10 days"), or in units when a per-SKU override says so. */
#define OMO_SCN_POLICIES(X)                                                                        \
	X(OMO_SCN_NONE, "none")                       /* not stocked here */                       \
	X(OMO_SCN_BASE_STOCK, "base-stock")           /* order up to S every day */                \
	X(OMO_SCN_SS, "s-S")                          /* position <= s: order up to S */           \
	X(OMO_SCN_RQ, "r-Q")                          /* position <= r: order Q's until above r */ \
	X(OMO_SCN_ECHELON, "echelon-base-stock")      /* up to S counting stock downstream too */  \
	X(OMO_SCN_MOVING_AVERAGE, "moving-average")   /* up to cover x p-day average outflow */    \
	X(OMO_SCN_SMOOTHING, "exponential-smoothing") /* up to cover x smoothed outflow */

typedef enum omo_scn_policy_kind {
#define OMO_SCN_POLICY_ENUM(name, text) name,
	OMO_SCN_POLICIES(OMO_SCN_POLICY_ENUM)
#undef OMO_SCN_POLICY_ENUM
} omo_scn_policy_kind;

typedef struct omo_scn_policy {
	omo_scn_policy_kind kind;
	bool units;   /* S, s, Q are units; otherwise days of mean demand */
	double S;     /* base-stock, echelon and (s,S) level; forecast cover */
	double s;     /* reorder point of (s,S) and (r,Q) */
	double Q;     /* batch of (r,Q) */
	unsigned p;   /* moving-average days */
	double alpha; /* smoothing constant */
} omo_scn_policy;

/* A policy for the positions a selector picks: every node of a type, one
 * node, a SKU or a range of SKU ids (`sku`, or `skus: {from, to}`), or
 * both. Later rules override earlier ones. */
typedef struct omo_scn_policy_rule {
	int node_type;      /* OMO_NODE_* + 1, or 0 for any */
	int node;           /* catalog index, or -1 for any */
	int sku_lo, sku_hi; /* catalog indexes, inclusive, or -1 for any */
	omo_scn_policy policy;
} omo_scn_policy_rule;

typedef struct omo_scn_material {
	char id[OMO_SCN_ID_MAX + 1];
	int supplier;    /* index into suppliers */
	double per_unit; /* units of material per unit produced */
} omo_scn_material;

typedef struct omo_scn_supplier {
	char id[OMO_SCN_ID_MAX + 1];
	omo_sim_dist lead_time; /* days, rounded up to whole days */
	int64_t capacity;       /* units shipped per day over all orders; 0: unlimited */
	double reliability;     /* probability an order arrives in full; otherwise
	                           a yield loss takes loss_fraction of it */
	double loss_fraction;
	double unit_cost;
} omo_scn_supplier;

typedef struct omo_scn_plant {
	int node;              /* catalog index (a manufacturer) */
	int64_t capacity;      /* units produced per day, all SKUs together */
	int64_t batch;         /* production runs are multiples of this */
	unsigned days;         /* production lead time */
	double unit_cost;      /* per unit produced */
	omo_scn_material *bom; /* per unit of every SKU it makes */
	size_t n_bom;
	omo_scn_policy material_policy; /* raw materials, days of usage */
} omo_scn_plant;

typedef struct omo_scn_zone {
	double up_to_km;
	unsigned days;
	double cost; /* per shipment */
	double cost_per_unit;
} omo_scn_zone;

/* A carrier mode: parcel to homes, or freight between nodes. */
typedef struct omo_scn_carrier {
	char id[OMO_SCN_ID_MAX + 1];
	omo_scn_zone *zones; /* by increasing distance; the last covers the rest */
	size_t n_zones;
	int64_t capacity; /* shipments per day; 0: unlimited; over it, a day later */
} omo_scn_carrier;

typedef struct omo_scn_region {
	char id[OMO_SCN_ID_MAX + 1];
	int64_t lat_udeg, lon_udeg;
	double weight; /* share of consumers */
} omo_scn_region;

/* Channels consumers buy through. */
#define OMO_SCN_CHANNELS(X)                                                                        \
	X(OMO_SCN_SHIP_TO_HOME, "ship_to_home")                                                    \
	X(OMO_SCN_PICKUP, "pickup")                                                                \
	X(OMO_SCN_WALK_IN, "walk_in")                                                              \
	X(OMO_SCN_MARKETPLACE, "marketplace")

typedef enum omo_scn_channel {
#define OMO_SCN_CHANNEL_ENUM(name, text) name,
	OMO_SCN_CHANNELS(OMO_SCN_CHANNEL_ENUM)
#undef OMO_SCN_CHANNEL_ENUM
	    OMO_SCN_N_CHANNELS
} omo_scn_channel;

typedef struct omo_scn_promotion {
	unsigned from, to; /* days, inclusive */
	double lift;       /* demand multiplier for the SKUs */
	int *skus;         /* catalog indexes; none: every SKU */
	size_t n_skus;
} omo_scn_promotion;

/* A social-commerce spike: a discrete-time Hawkes process. Orders for sku
 * on day t are Poisson(base + excitation x E_t), E_t = decay x (E_{t-1} +
 * N_{t-1}), started by `seed` orders on day `start`; excitation / (1 -
 * decay) < 1 keeps it finite. */
typedef struct omo_scn_social {
	int sku;
	unsigned start;
	double seed, base, excitation, decay;
} omo_scn_social;

typedef struct omo_scn_trace_row {
	unsigned day;
	omo_scn_channel channel;
	int region, sku;
	int64_t quantity;
} omo_scn_trace_row;

typedef struct omo_scn_demand {
	bool normal; /* order counts N(mean, (cv mean)^2) instead of Poisson */
	double cv;
	double orders_per_day;    /* online orders (ship-to-home, pick-up, marketplace) */
	double walk_in_per_store; /* units per store per day */
	double channel_weight[OMO_SCN_N_CHANNELS]; /* of online orders; walk_in unused */
	double lines_mean;                         /* lines per order, >= 1 */
	double zipf;                               /* SKU popularity exponent */
	unsigned assortment;                       /* SKUs a store carries: the most popular */
	double weekly[7];                          /* multipliers, day 0 is a Monday */
	double yearly_amplitude;                   /* 1 + a cos(2 pi (day - peak) / 365) */
	unsigned yearly_peak;
	double return_rate; /* share of delivered units sent back */
	unsigned return_days;
	unsigned promise_days[OMO_SCN_N_CHANNELS]; /* on time if delivered by then */
	omo_scn_promotion *promotions;
	size_t n_promotions;
	omo_scn_social *social;
	size_t n_social;
	omo_scn_trace_row *trace; /* replaces generated online orders when present */
	size_t n_trace;
} omo_scn_demand;

#define OMO_SCN_DISRUPTIONS(X)                                                                     \
	X(OMO_SCN_OUTAGE, "outage")                 /* a node neither ships nor receives */        \
	X(OMO_SCN_LINK_CUT, "link_cut")             /* no freight from `node` to `to_node` */      \
	X(OMO_SCN_SUPPLIER_DELAY, "supplier_delay") /* + days on new orders */                     \
	X(OMO_SCN_YIELD_LOSS, "yield_loss")         /* orders arrive short by `size` */            \
	X(OMO_SCN_DEMAND_SHOCK, "demand_shock")     /* demand x size */

typedef enum omo_scn_disruption_kind {
#define OMO_SCN_DISRUPTION_ENUM(name, text) name,
	OMO_SCN_DISRUPTIONS(OMO_SCN_DISRUPTION_ENUM)
#undef OMO_SCN_DISRUPTION_ENUM
} omo_scn_disruption_kind;

/* Active on days [from, to], or, with mtbf > 0, switching on and off as a
 * Markov chain: a day up turns down with probability 1/mtbf, a day down
 * comes back with probability 1/mttr. */
typedef struct omo_scn_disruption {
	omo_scn_disruption_kind kind;
	int node, to; /* catalog indexes (outage, link_cut), or -1 */
	int supplier; /* supplier_delay, yield_loss */
	double size;  /* extra days, lost fraction, or demand multiplier */
	unsigned from, to_day;
	double mtbf, mttr; /* days */
} omo_scn_disruption;

typedef struct omo_scn_costs {
	double holding_rate; /* per year, of a unit's value */
	double backorder;    /* per unit per day a consumer waits */
	double lost_sale;    /* per unit lost, as a share of its price */
	double order_fixed;  /* per replenishment order */
	double unit_value;   /* share of price a unit is worth on the shelf */
} omo_scn_costs;

typedef struct omo_scenario {
	char name[OMO_SCN_ID_MAX + 1];
	char dir[1200];
	uint64_t seed;
	unsigned days, warmup_days, replications;
	omo_catalog catalog;
	int64_t *stock; /* opening on-hand [node * n_skus + sku], or NULL: policy levels */
	int *maker;     /* per SKU, the plant index that makes it */
	bool *to_order; /* per SKU: made to order (drop-shipped), not stocked */
	omo_scn_supplier *suppliers;
	size_t n_suppliers;
	omo_scn_plant *plants;
	size_t n_plants;
	omo_scn_carrier parcel, freight;
	omo_scn_region *regions;
	size_t n_regions;
	omo_scn_demand demand;
	omo_scn_policy_rule *policies;
	size_t n_policies;
	bool has_rules;      /* routing.rules names a rule set: orders go through
	                        rt_decide as in the router service */
	rt_rules rules;      /* routing.rules, read with the routing library */
	uint32_t max_splits; /* without a rule set: rt_route's settings */
	bool allow_line_split;
	bool ship_from_store; /* stores may ship consumers' orders (both ways) */
	omo_scn_disruption *disruptions;
	size_t n_disruptions;
	omo_scn_costs costs;
} omo_scenario;

/* omo_scenario_load reads `where`: a directory holding scenario.yaml, a
 * YAML file, or a bare name looked up under scenarios_dir. On error writes
 * "file: section.field: reason" to err, returns -1 and leaves s safe to
 * omo_scenario_fini. */
int omo_scenario_load(omo_scenario *s, const char *where, const char *scenarios_dir, char *err,
                      size_t errlen);

/* omo_scenario_fini frees what s owns. */
void omo_scenario_fini(omo_scenario *s);

/* omo_scenario_policy returns the policy of (node, sku): the last rule that
 * matches, or NULL if none does or it says none (the position is not
 * stocked). */
const omo_scn_policy *omo_scenario_policy(const omo_scenario *s, int node, int sku);

const char *omo_scn_policy_name(omo_scn_policy_kind kind);
const char *omo_scn_channel_name(omo_scn_channel ch);

#endif
