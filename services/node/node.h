/*
 * node.h - a node agent: the fulfilment side of one or more nodes of one
 * type (manufacturer, warehouse or store), publishing as "node-<role>".
 *
 * It takes the router's fulfillment_requested for its nodes, accepts or
 * rejects each, and moves accepted ones along: shipped then delivered, or at
 * a store for pick-up, ready_for_pickup then picked_up. Until the partner
 * adapters connect real systems, the agent plays the node itself with the
 * delays and rejection rate it is configured with (the demo and tests use
 * this); every step is an event, with the same schema real nodes will use.
 */
#ifndef OMO_NODE_H
#define OMO_NODE_H

#include "catalog.h"
#include "config.h"
#include "core.h"
#include "service.h"

#define NODE_OPTIONS(X, T)                                                                         \
	OMO_COMMON_OPTIONS(X, T)                                                                   \
	X(T, STR, network_dir, "simulators/scenarios/demo", "directory of nodes.csv and skus.csv") \
	X(T, STR, role, "store", "which nodes: manufacturer, warehouse or store")                  \
	X(T, INT, reject_pct, "0", "percent of requests declined (simulated capacity limits)")     \
	X(T, INT, pick_ms, "200", "from accepted to shipped or ready for pick-up")                 \
	X(T, INT, transit_ms, "600", "from shipped to delivered")                                  \
	X(T, INT, pickup_ms, "900", "from ready for pick-up to picked up")

typedef struct node_config {
	NODE_OPTIONS(OMO_CONFIG_FIELD, _)
} node_config;

typedef struct node_app {
	omo_catalog catalog;
	omo_node_type role;
	char name[OMO_PRODUCER_MAX + 1]; /* "node-<role>" */
	omo_handlers handlers;           /* node_handlers named after the role */
	int64_t reject_pct;
	int64_t pick_us, transit_us, pickup_us;
} node_app;

extern const omo_service_def node_service;

#endif
