/*
 * orders.h - the orders service: the checkout's front door and the owner of
 * every order's state.
 *
 * Requests: submit_order (idempotent on the checkout's key), get_order,
 * cancel_order. Events followed: the router's (order_routed,
 * order_unroutable) and the node agents' (fulfillment_update). Events
 * published: order_accepted, order_cancelled, order_status_changed.
 *
 * An order's status is derived from its parts: see orders_derive_status.
 */
#ifndef OMO_ORDERS_H
#define OMO_ORDERS_H

#include "catalog.h"
#include "config.h"
#include "core.h"
#include "service.h"

#define ORDERS_OPTIONS(X, T)                                                                       \
	OMO_COMMON_OPTIONS(X, T)                                                                   \
	X(T, STR, network_dir, "simulators/scenarios/demo", "directory of nodes.csv and skus.csv")

typedef struct orders_config {
	ORDERS_OPTIONS(OMO_CONFIG_FIELD, _)
} orders_config;

typedef struct orders_app {
	omo_catalog catalog;
} orders_app;

extern const omo_service_def orders_service;

/* orders_derive_status computes an order's status from its parts and back-orders. */
omo_order_status orders_derive_status(const omo_order_view *o);

#endif
