/*
 * router.h - the router service: turns an accepted order into fulfilment
 * requests, one per node (the split), using the routing/ library.
 *
 * Events followed: orders' order_accepted and order_cancelled; the node
 * agents' fulfillment_update (a rejection re-sources the part's lines with
 * that node excluded). Calls: inventory (stock_query, reserve). Events
 * published: order_routed, order_unroutable, fulfillment_requested,
 * fulfillment_cancelled.
 *
 * Fulfilment ids are derived from (order, attempt, node), and inventory
 * keeps one set of holds per (order, attempt) that each reserve replaces: a
 * routing retried after a lost reply or a crash holds exactly what its
 * final plan says. Back-ordered units look for supply again on a timer.
 *
 * Sourcing follows a rule set (routing/rules.h), reloaded when its file
 * changes (checked at every tick); each routing attempt stores a decision
 * record naming the rule set's hash, which the explain query returns with
 * the result of re-running its inputs. The promise query answers a
 * checkout: for many SKUs at once, how many units the rule set would source
 * for a ship-to (or pick-up store), from where, and on what day they would
 * arrive; nothing is held.
 */
#ifndef OMO_ROUTER_H
#define OMO_ROUTER_H

#include "catalog.h"
#include "config.h"
#include "core.h"
#include "service.h"
#include "routing.h"
#include "rules.h"

#define ROUTER_OPTIONS(X, T)                                                                       \
	OMO_COMMON_OPTIONS(X, T)                                                                   \
	X(T, STR, network_dir, "simulators/scenarios/demo", "directory of nodes.csv and skus.csv") \
	X(T, STR, rules, "",                                                                       \
	  "rule set file (YAML); empty: network_dir/rules.yaml, else fewest packages then "        \
	  "nearest")                                                                               \
	X(T, INT, max_declines, "6", "parts of one order declined by nodes before it is rejected") \
	X(T, INT, retry_ms, "1000", "wait before routing again when inventory did not answer")     \
	X(T, INT, backorder_retry_ms, "30000", "how often back-ordered units look for supply")     \
	X(T, INT, unfillable_after_ms, "0",                                                        \
	  "an order no node could fill at all is given up this long after it came (0: never)")

typedef struct router_config {
	ROUTER_OPTIONS(OMO_CONFIG_FIELD, _)
} router_config;

typedef struct router_app {
	omo_catalog catalog;
	rt_node *nodes; /* the catalog's nodes, same order, with the rule set's operating data */
	rt_rules rules;
	char rules_path[OMO_CONFIG_STR_MAX + 32]; /* empty: the built-in rule set */
	int64_t rules_mtime_ns;                   /* of the file last read */
	int64_t max_declines;
	int64_t retry_us;
	int64_t backorder_retry_us;
	int64_t unfillable_after_us;
} router_app;

extern const omo_service_def router_service;

/* router_fulfillment_id derives the id of the part of order at node in attempt. */
void router_fulfillment_id(const omo_uuid *order, int64_t attempt, const char *node, omo_uuid *out);

#endif
