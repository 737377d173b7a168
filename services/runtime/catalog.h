/*
 * catalog.h - the network a service works over: nodes and SKUs, read from
 * the CSV files of a network directory (nodes.csv, skus.csv). Loaded once at
 * start; lookups are binary searches over sorted arrays.
 */
#ifndef OMO_CATALOG_H
#define OMO_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "routing.h"
#include "schema.h"

typedef struct omo_node_info {
	char id[RT_ID_MAX + 1];
	omo_node_type type;
	char name[65];
	int64_t lat_udeg, lon_udeg;
	uint32_t caps; /* RT_CAP_* */
} omo_node_info;

typedef struct omo_sku_info {
	char sku[65];
	char name[101];
	int64_t weight_g;
	int64_t price_minor;
} omo_sku_info;

typedef struct omo_catalog {
	omo_node_info *nodes; /* sorted by id */
	uint32_t n_nodes;
	omo_sku_info *skus; /* sorted by sku */
	uint32_t n_skus;
	uint32_t cap_nodes, cap_skus; /* while loading */
} omo_catalog;

/* omo_catalog_load reads dir/nodes.csv and dir/skus.csv; on error writes a
 * sentence naming file and line to err and returns -1. */
int omo_catalog_load(omo_catalog *c, const char *dir, char *err, size_t errlen);
void omo_catalog_fini(omo_catalog *c);

/* Lookups return NULL (or -1) when there is no such entry. */
const omo_node_info *omo_catalog_node(const omo_catalog *c, const char *id);
int omo_catalog_node_index(const omo_catalog *c, const char *id);
const omo_sku_info *omo_catalog_sku(const omo_catalog *c, const char *sku);

/*
 * omo_csv_read calls fn for each data row of a CSV file (after its header
 * line; blank lines and lines starting with # are skipped) with exactly
 * ncols fields. A row with another count, or that fn refuses (nonzero),
 * stops the read: err then says "FILE:LINE: expected <expect>" and -1 is
 * returned.
 */
typedef int (*omo_csv_row_fn)(void *arg, char **fields);
int omo_csv_read(const char *path, int ncols, const char *expect, omo_csv_row_fn fn, void *arg,
                 char *err, size_t errlen);

/* omo_csv_split splits line in place at commas into at most max fields
 * (no quoting: omo's data files never need it); returns the field count. */
int omo_csv_split(char *line, char **fields, int max);

#endif
