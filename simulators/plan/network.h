/*
 * network.h - the supply network from raw material to a consumer's home, in
 * plan mode: one replication of a scenario on the discrete-event engine, in
 * virtual time, with every consumer order sourced by the production routing
 * library: with the scenario's rule set through rt_decide (rules.h), as the
 * router service sources it - strategies, filters, objectives, safety stock,
 * reservations, daily capacities counted per simulated day - or, without
 * one, through rt_route with the scenario's split settings. The candidates
 * passed are the nodes holding any of the order's lines (and the pick-up
 * store): the library would exclude the rest for want of stock, so the
 * plan is the same and an order costs what its lines do, not the network.
 *
 * Echelons: raw-material suppliers -> plants (bills of materials, capacity,
 * batches; make-to-stock into finished goods, or make-to-order straight to
 * the home) -> warehouses -> stores; consumers order online (ship-to-home,
 * marketplace: routed over warehouses, stores and drop-shipping plants;
 * pick-up: routed to their store) or walk in (served from the shelf, or
 * lost). Each store is replenished from its nearest warehouse, each
 * warehouse from the plant that makes the SKU, each plant's materials from
 * their suppliers. Carriers take transit days and cost from distance zones.
 *
 * The sequence of events in day t is pinned; each step is an engine event at
 * a fixed time of day, so the engine's time order is the sequence:
 *
 *   00:00 disruptions - scheduled ones switch on or off, random ones take a
 *                       step of their on/off Markov chain.
 *   06:00 receipts    - shipments due today arrive (one engine event each):
 *                       transfers and supplier deliveries to nodes (held a
 *                       day by an outage at the receiver), production
 *                       completions, parcels at homes, returns.
 *   07:00 backorders  - owed transfers ship from what arrived, oldest
 *                       first; back-ordered consumer lines are routed again,
 *                       oldest first.
 *   12:00 demand      - the day's orders arrive in sequence; each online
 *                       order is routed and its allocations ship at once;
 *                       what no node can give is back-ordered; walk-in
 *                       units are sold from the shelf or lost.
 *   18:00 review      - every stocked position, stores first, then
 *                       warehouses, plants and raw materials, looks at its
 *                       inventory position (on hand + on order - owed; the
 *                       echelon policy adds its downstream positions) and
 *                       orders by its policy; the source ships at once what
 *                       it holds and owes the rest; plants start production
 *                       within the day's capacity and materials.
 *   23:00 close       - holding and backorder costs are charged on the
 *                       day's ending state; the day's measures are recorded
 *                       (after the warm-up) and day t+1 is scheduled.
 *
 * Random numbers: each purpose draws from its own stream of the run seed
 * (order counts, order contents, walk-ins, social spikes, supplier lead
 * times and yields, disruptions, returns), and demand never depends on the
 * network's state, so two scenarios run with the same seed face the same
 * consumers: common random numbers.
 *
 * Memory rule: omo_net_run allocates everything it needs and frees it
 * before returning; results are values in the caller's storage, and the
 * time series (if asked for) a heap array the caller frees.
 */
#ifndef OMO_NETWORK_H
#define OMO_NETWORK_H

#include <stdint.h>

#include "scenario.h"
#include "sim.h"

/* Key performance indicators; one list gives names, meanings and the order
 * of every output. */
#define OMO_NET_KPIS(X)                                                                            \
	X(fill_rate_1, "share of orders filled completely from stock when placed")                 \
	X(fill_rate_2, "share of units filled from stock when ordered")                            \
	X(otif, "share of online orders delivered in full by their promise")                       \
	X(cycle_mean, "days from order to last delivery (online orders)")                          \
	X(cycle_p50, "median of the order cycle time, days")                                       \
	X(cycle_p90, "90th percentile of the order cycle time, days")                              \
	X(cycle_p99, "99th percentile of the order cycle time, days")                              \
	X(split_rate, "share of routed orders sent from more than one node")                       \
	X(lost_sales, "units lost per day (walk-ins finding an empty shelf)")                      \
	X(cost_total, "cost per day, all kinds")                                                   \
	X(cost_holding, "holding cost per day")                                                    \
	X(cost_backorder, "backorder cost per day (units owed to consumers)")                      \
	X(cost_shipping, "carrier cost per day, parcels and freight")                              \
	X(cost_production, "production and raw-material cost per day")                             \
	X(cost_ordering, "fixed cost of replenishment orders per day")                             \
	X(cost_lost_sales, "margin lost per day")                                                  \
	X(inv_store, "mean units on hand in stores")                                               \
	X(inv_warehouse, "mean units on hand in warehouses")                                       \
	X(inv_plant, "mean finished units on hand at plants")                                      \
	X(inv_raw, "mean raw-material units on hand at plants")                                    \
	X(turns, "inventory turns per year: units sold / mean finished units on hand")             \
	X(bullwhip_store, "Var(store orders) / Var(consumer demand), daily totals")                \
	X(bullwhip_warehouse, "Var(warehouse orders) / Var(consumer demand)")                      \
	X(bullwhip_plant, "Var(production started) / Var(consumer demand)")                        \
	X(bullwhip_raw, "Var(material orders, in product units) / Var(consumer demand)")

typedef enum omo_net_kpi {
#define OMO_NET_KPI_ENUM(name, doc) OMO_NET_KPI_##name,
	OMO_NET_KPIS(OMO_NET_KPI_ENUM)
#undef OMO_NET_KPI_ENUM
	    OMO_NET_N_KPIS
} omo_net_kpi;

/* The daily time series: one row per day (warm-up included), these columns. */
#define OMO_NET_SERIES(X)                                                                          \
	X(demand, "units consumers asked for")                                                     \
	X(filled, "units filled from stock when asked for")                                        \
	X(lost, "units lost")                                                                      \
	X(backordered, "units owed to consumers at the end of the day")                            \
	X(store, "units on hand in stores")                                                        \
	X(warehouse, "units on hand in warehouses")                                                \
	X(plant, "finished units on hand at plants")                                               \
	X(raw, "raw-material units on hand")                                                       \
	X(store_orders, "units stores ordered")                                                    \
	X(warehouse_orders, "units warehouses ordered")                                            \
	X(production, "units plants started")                                                      \
	X(purchases, "raw-material units ordered, in product units")                               \
	X(cost, "cost of the day")

typedef enum omo_net_col {
#define OMO_NET_COL_ENUM(name, doc) OMO_NET_COL_##name,
	OMO_NET_SERIES(OMO_NET_COL_ENUM)
#undef OMO_NET_COL_ENUM
	    OMO_NET_N_COLS
} omo_net_col;

#define OMO_NET_CYCLE_DAYS 64 /* cycle-time histogram: 0..62 days, and 63+ */

typedef struct omo_net_result {
	double kpi[OMO_NET_N_KPIS];
	uint64_t cycle_hist[OMO_NET_CYCLE_DAYS]; /* delivered online orders by days taken */
	uint64_t orders;                         /* online orders placed (measured days) */
	uint64_t routed;                         /* calls of the routing library */
	uint64_t events;                         /* engine events fired */
	double *series; /* days x OMO_NET_N_COLS, or NULL; the caller frees it */
} omo_net_result;

/* omo_net_kpi_name returns the KPI's name ("fill_rate_1"); _doc its meaning. */
const char *omo_net_kpi_name(omo_net_kpi k);
const char *omo_net_kpi_doc(omo_net_kpi k);
const char *omo_net_col_name(omo_net_col c);

/* Reports progress: days done of days, from the running thread. */
typedef void (*omo_net_progress_cb)(void *arg, unsigned done, unsigned days);

/* omo_net_run runs replication `rep` of s (seed derived from s->seed and
 * rep) and fills *r; with series, also the daily time series. progress may
 * be NULL. Returns OMO_SIM_ENOMEM if memory runs out (r is then zeroed). */
omo_sim_err omo_net_run(const omo_scenario *s, unsigned rep, bool series, omo_net_result *r,
                        omo_net_progress_cb progress, void *progress_arg);

#endif
