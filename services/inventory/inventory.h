/*
 * inventory.h - the inventory service: on-hand and reserved units per (SKU,
 * node), and the reservations behind them.
 *
 * Requests: stock_query, reserve (all lines or none; idempotent per
 * fulfilment and SKU), release, hold_cart and release_cart (a checkout's
 * cart holds its units, all or none, until it expires: the tick frees it),
 * receive_stock, adjust_stock. Events followed:
 * the node agents' fulfillment_update: shipped or picked_up consumes the
 * fulfilment's reservation (the units leave on_hand), rejected or cancelled
 * releases it.
 *
 * Invariants kept by every handler: 0 <= reserved <= on_hand, and reserved
 * equals the sum of the reservation rows of that (SKU, node).
 */
#ifndef OMO_INVENTORY_H
#define OMO_INVENTORY_H

#include "catalog.h"
#include "config.h"
#include "core.h"
#include "service.h"

#define INVENTORY_OPTIONS(X, T)                                                                    \
	OMO_COMMON_OPTIONS(X, T)                                                                   \
	X(T, STR, network_dir, "simulators/scenarios/demo", "directory of nodes.csv and skus.csv") \
	X(T, STR, seed_stock, "", "CSV node,sku,on_hand loaded once into an empty store")

typedef struct inventory_config {
	INVENTORY_OPTIONS(OMO_CONFIG_FIELD, _)
} inventory_config;

typedef struct inventory_app {
	omo_catalog catalog;
	char seed_stock[OMO_CONFIG_STR_MAX];
} inventory_app;

extern const omo_service_def inventory_service;

/* inventory_seed loads a node,sku,on_hand CSV as receipts, once per store;
 * returns 1 if it did, 0 if seeded before, -1 on a bad file (nothing kept:
 * the caller aborts the transaction). */
int inventory_seed(omo_ctx *ctx, const char *path);

#endif
