/*
 * sim_inventory.h - a periodic-review, single-stage inventory on the
 * engine: i.i.d. demand per period, a deterministic lead time of L periods,
 * holding, backorder (or lost-sales) and ordering costs, and a replenishment
 * policy: base-stock, (s,S), (r,Q), or order-up-to from a moving-average or
 * exponential-smoothing forecast.
 *
 * The sequence of events in period t is pinned; each step is an engine
 * event at the period's start time t * period_us, scheduled in this order
 * so the engine's tie-break fires them in this order:
 *
 *   1. order    - the policy looks at the inventory position (level plus
 *                 pipeline) and orders q; the order is due in period t+L.
 *   2. receive  - the order placed in period t-L arrives (with L = 0, the
 *                 one just placed).
 *   3. demand   - the period's demand is drawn and met from stock; what
 *                 stock cannot meet is backordered (or lost).
 *   4. cost     - holding and backorder costs are charged on the ending
 *                 inventory level; ordering costs were charged at step 1.
 *                 This step schedules the next period's four events.
 *
 * So a base-stock level S covers L+1 periods of demand: the ending level of
 * period t+L is S minus the demand of periods t..t+L, which is what the
 * formulas in sim_theory.h assume (the newsvendor when L = 0). Receipts are
 * kept in a pipeline indexed by period rather than scheduled as separate
 * events, so the order of the steps never depends on when an order was
 * placed. (stockpyl-style sequencing, which receives before ordering, shifts
 * the effective lead time by one period.)
 *
 * Quantities are doubles: the textbook cases have continuous demand. A
 * demand draw is used as drawn; a negative one (a normal with a small
 * mean) is a customer return.
 *
 * Demand draws from stream `stream` of the seed, so two scenarios run with
 * the same seed and stream face the same demand (common random numbers).
 */
#ifndef OMO_SIM_INVENTORY_H
#define OMO_SIM_INVENTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim.h"
#include "sim_rng.h"
#include "sim_stats.h"

/* IP is the inventory position: on hand - backorders + on order. */
#define OMO_SIM_POLICIES(X)                                                                        \
	X(OMO_SIM_POLICY_BASE_STOCK, "base-stock") /* order up to S each period */                 \
	X(OMO_SIM_POLICY_SS, "s-S")                /* IP <= s: order up to S */                    \
	X(OMO_SIM_POLICY_RQ, "r-Q")                /* IP <= r: fewest Q's lifting IP > r */        \
	X(OMO_SIM_POLICY_MOVING_AVERAGE, "moving-average")   /* up to k x p-period average */      \
	X(OMO_SIM_POLICY_SMOOTHING, "exponential-smoothing") /* up to k x smoothed demand */

typedef enum omo_sim_policy_kind {
#define OMO_SIM_POLICY_ENUM(name, text) name,
	OMO_SIM_POLICIES(OMO_SIM_POLICY_ENUM)
#undef OMO_SIM_POLICY_ENUM
} omo_sim_policy_kind;

typedef struct omo_sim_policy {
	omo_sim_policy_kind kind;
	double S;      /* base-stock level; order-up-to level of (s,S) */
	double s;      /* reorder point of (s,S), and r of (r,Q) */
	double Q;      /* batch of (r,Q), > 0 */
	unsigned p;    /* periods in the moving average, >= 1 */
	double alpha;  /* smoothing constant, in (0, 1] */
	double k;      /* periods of forecast demand the forecast policies cover;
	                  0 means L+1 */
	double safety; /* added to k x forecast by the forecast policies */
	bool negative; /* base-stock and forecast policies may order negative
	                  quantities (returns to the supplier), as the bullwhip
	                  formulas assume; otherwise orders stop at zero */
} omo_sim_policy;

typedef struct omo_sim_inventory_params {
	omo_sim_dist demand; /* per period */
	omo_sim_policy policy;
	unsigned lead_time;     /* L, in periods */
	double holding;         /* per unit on hand at the end of a period */
	double backorder;       /* per unit backordered at the end of a period; with
	                           lost_sales, per unit of demand lost */
	double order_fixed;     /* per order placed (q > 0) */
	double order_unit;      /* per unit ordered */
	bool lost_sales;        /* demand stock cannot meet is lost, not backordered */
	omo_sim_time period_us; /* length of a period; 0 means one day */
	uint64_t warmup;        /* periods run before measuring */
	uint64_t periods;       /* periods measured; then the model stops the engine */
	uint64_t batch;         /* periods per batch; 0 means periods / 20 */
	uint64_t seed;          /* run seed */
	uint64_t stream;        /* demand stream */
	FILE *trace;            /* one CSV row per period (all periods), or NULL; the
	                           caller's */
} omo_sim_inventory_params;

typedef struct omo_sim_inventory_result {
	uint64_t periods;      /* measured */
	double cost;           /* per period: holding + backorder (or lost) + ordering */
	omo_sim_ci cost_ci;    /* batch means */
	double holding_cost;   /* per period */
	double backorder_cost; /* per period (lost-sales penalties with lost_sales) */
	double ordering_cost;  /* per period */
	double no_stockout;    /* type 1: fraction of periods ending with no backorders
	                          (with lost_sales: losing no demand) */
	omo_sim_ci no_stockout_ci;
	double fill_rate;        /* type 2: fraction of demand met from stock in its period */
	omo_sim_ci fill_rate_ci; /* batch ratios */
	double on_hand;          /* mean at the end of a period */
	double backorders;       /* mean at the end of a period */
	double lost;             /* demand lost per period */
	double orders_placed;    /* fraction of periods with an order q > 0 */
	omo_sim_stat demand;     /* per-period demand */
	omo_sim_stat orders;     /* per-period order quantity */
	double bullwhip;         /* Var(orders) / Var(demand) */
	omo_sim_ci bullwhip_ci;  /* batch ratios */
} omo_sim_inventory_result;

typedef struct omo_sim_inventory omo_sim_inventory;

/* omo_sim_policy_name returns the policy's name in scenario files. */
const char *omo_sim_policy_name(omo_sim_policy_kind kind);

/* omo_sim_policy_parse returns the kind named name, or -1. */
int omo_sim_policy_parse(const char *name);

/* omo_sim_inventory_alloc attaches an inventory to sim, registering its
 * four event kinds. It starts with its inventory level at the policy's
 * target (S, r+Q, or k x mean demand + safety) and an empty pipeline;
 * nothing happens until omo_sim_inventory_start. *ip belongs to the caller
 * (omo_sim_inventory_free, before omo_sim_free). Returns OMO_SIM_EINVAL for
 * bad parameters, OMO_SIM_ENOMEM on allocation failure (*ip is then NULL). */
omo_sim_err omo_sim_inventory_alloc(omo_sim_inventory **ip, omo_sim *sim,
                                    const omo_sim_inventory_params *p);

/* omo_sim_inventory_free frees the model (NULL is fine). */
void omo_sim_inventory_free(omo_sim_inventory *inv);

/* omo_sim_inventory_start schedules period 0 at the current time. */
omo_sim_err omo_sim_inventory_start(omo_sim_inventory *inv);

/* omo_sim_inventory_error returns the first error met inside a handler;
 * the model stops the engine when that happens. */
omo_sim_err omo_sim_inventory_error(const omo_sim_inventory *inv);

/* omo_sim_inventory_report fills *r with the measures so far. */
void omo_sim_inventory_report(const omo_sim_inventory *inv, omo_sim_inventory_result *r);

/* omo_sim_inventory_run runs the model on its own engine for p->warmup +
 * p->periods (> 0) periods and fills *r. Returns an error from the calls
 * above. */
omo_sim_err omo_sim_inventory_run(const omo_sim_inventory_params *p, omo_sim_inventory_result *r);

#endif
