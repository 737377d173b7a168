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
 */
#ifndef OMO_ROUTER_H
#define OMO_ROUTER_H

#include "catalog.h"
#include "config.h"
#include "core.h"
#include "service.h"
#include "routing.h"

#define ROUTER_OPTIONS(X, T)                                                                       \
	OMO_COMMON_OPTIONS(X, T)                                                                   \
	X(T, STR, network_dir, "simulators/scenarios/demo", "directory of nodes.csv and skus.csv") \
	X(T, INT, max_splits, "3", "most nodes one routing of an order may use (0: no limit)")     \
	X(T, INT, line_split, "1", "1: one line's units may come from several nodes")              \
	X(T, INT, max_declines, "6", "parts of one order declined by nodes before it is rejected") \
	X(T, INT, retry_ms, "1000", "wait before routing again when inventory did not answer")     \
	X(T, INT, backorder_retry_ms, "30000", "how often back-ordered units look for supply")

typedef struct router_config {
	ROUTER_OPTIONS(OMO_CONFIG_FIELD, _)
} router_config;

typedef struct router_app {
	omo_catalog catalog;
	rt_node *nodes; /* the catalog's nodes, same order, as routing sees them */
	uint32_t max_splits;
	bool line_split;
	int64_t max_declines;
	int64_t retry_us;
	int64_t backorder_retry_us;
} router_app;

extern const omo_service_def router_service;

/* router_fulfillment_id derives the id of the part of order at node in attempt. */
void router_fulfillment_id(const omo_uuid *order, int64_t attempt, const char *node, omo_uuid *out);

#endif
