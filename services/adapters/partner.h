/*
 * partner.h - who a partner is, as data: one YAML file per partner.
 *
 * A mapping file says which of our nodes the partner fulfils for (a
 * drop-ship manufacturer, a 3PL warehouse) or through which channel it
 * orders from us (a B2B customer, a marketplace), how it is addressed in
 * X12 (its ISA qualifier and ID, ours as it writes them), which documents
 * it sends and receives, and how its codes translate into ours: item ids
 * (GTIN, the buyer's or the vendor's part number) to SKUs, and location
 * codes (GLN, DUNS, store numbers) to our nodes or to ship-to addresses.
 * GTINs and GLNs are refused unless their check digit is right, and with a
 * catalog every SKU and node must exist in it.
 *
 *   partner: dayton-mfg
 *   name: Dayton plant ERP
 *   node: MFG-OH                      # fulfils for this node (optional)
 *   channel: b2b                      # orders from us through it (optional)
 *   x12: {id: "ZZ:DAYTONMFG", our_id: "ZZ:OMORETAIL", version: "00401"}
 *   documents: {in: [855, 856, 810], out: [850]}
 *   json: shopify                     # or amazon, commercetools: a JSON channel
 *   tls: {listen: "tls+tcp://0.0.0.0:7443", ca: dayton-ca.pem}  # its own authority
 *   items:
 *     - {sku: SKU-0182, gtin: "00012345600012", vendor: "D-182"}
 *   locations:
 *     - {gln: "0614141000012", node: MFG-OH}
 *     - {duns: "0003947268292", ship_to: {name: XYZ, lat: 41.39, lon: -81.44}}
 *
 * Memory rule: a partner owns its arrays; partner_fini frees them. Lookups
 * return pointers into the partner, valid until partner_fini.
 */
#ifndef OMO_PARTNER_H
#define OMO_PARTNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "schema.h"

#define PARTNER_ID_MAX 32

/* The documents partners exchange with us, one bit each. */
#define PARTNER_DOC_LIST(D)                                                                        \
	D(180, "return merchandise authorization")                                                 \
	D(810, "invoice")                                                                          \
	D(846, "inventory inquiry and advice")                                                     \
	D(850, "purchase order")                                                                   \
	D(855, "purchase order acknowledgment")                                                    \
	D(856, "ship notice / manifest")                                                           \
	D(940, "warehouse shipping order")                                                         \
	D(945, "warehouse shipping advice")                                                        \
	D(997, "functional acknowledgment")

#define PARTNER_X_DOC_ENUM(num, doc) PARTNER_DOC_##num,
typedef enum partner_doc { PARTNER_DOC_LIST(PARTNER_X_DOC_ENUM) PARTNER_DOC_COUNT } partner_doc;
#undef PARTNER_X_DOC_ENUM

/* partner_doc_parse returns the document for a transaction set id ("850"),
 * or PARTNER_DOC_COUNT if omo does not exchange it. */
partner_doc partner_doc_parse(const char *st01, size_t len);
/* partner_doc_id returns "850" for PARTNER_DOC_850. */
const char *partner_doc_id(partner_doc d);

/* How a partner names an item. */
typedef enum partner_item_kind {
	PARTNER_ITEM_GTIN,    /* GTIN-8/12/13/14 (UPC, EAN, ISBN), kept as 14 digits */
	PARTNER_ITEM_BUYER,   /* the buyer's part or catalog number */
	PARTNER_ITEM_VENDOR,  /* the vendor's part or style number */
	PARTNER_ITEM_LISTING, /* what a JSON channel lists it under (seller SKU, variant SKU) */
} partner_item_kind;

/* The shape of a JSON channel's orders and shipment confirmations. */
typedef enum partner_json {
	PARTNER_JSON_NONE,
	PARTNER_JSON_SHOPIFY, /* Shopify order (the orders/create webhook body) */
	PARTNER_JSON_AMAZON,  /* Amazon SP-API getOrder with getOrderItems, merchant-fulfilled */
	PARTNER_JSON_COMMERCETOOLS, /* commercetools Order */
} partner_json;

/* How a partner names a place. */
typedef enum partner_loc_kind {
	PARTNER_LOC_GLN,   /* 13-digit GS1 location number */
	PARTNER_LOC_DUNS,  /* 9-digit D-U-N-S, or 13 with a 4-digit suffix */
	PARTNER_LOC_STORE, /* the partner's own store or location number */
} partner_loc_kind;

typedef struct partner_item {
	partner_item_kind kind;
	char code[49];
	char sku[65];
} partner_item;

typedef struct partner_location {
	partner_loc_kind kind;
	char code[36];
	char node[RT_ID_MAX + 1]; /* one of our nodes, or "" when it is a ship-to of theirs */
	bool has_ship_to;
	omo_address ship_to;
} partner_location;

typedef struct partner {
	char id[PARTNER_ID_MAX + 1]; /* file name without .yaml; folders and logs use it */
	char name[65];
	char node[RT_ID_MAX + 1]; /* our node it fulfils for, or "" */
	bool has_channel;         /* it orders from us */
	omo_channel channel;
	partner_json json;            /* the shape of its orders, if it sends JSON */
	char isa_qual[3], isa_id[16]; /* how it identifies itself (ISA05/06, GS02) */
	char our_qual[3], our_id[16]; /* how it addresses us (ISA07/08, GS03) */
	unsigned version;             /* ISA12 of what we send, e.g. 401 */
	uint32_t docs_in, docs_out;   /* bits 1 << partner_doc */
	partner_item *items;          /* sorted by (kind, code) */
	uint32_t n_items;
	partner_location *locations; /* sorted by (kind, code) */
	uint32_t n_locations;
	char tls_listen[128];     /* its tls+tcp:// listener, or "" */
	char tls_ca[1024];        /* the only authority its client certificates may come from */
	bool has_default_ship_to; /* where orders ship that name no known place */
	omo_address default_ship_to;
} partner;

/*
 * partner_load reads one mapping file into p (caller's storage). The
 * partner's id is the file name without its directory and .yaml. If cat is
 * not NULL every SKU and node must be in it. On error p holds nothing,
 * err says "FILE: place: what" and -1 is returned.
 */
int partner_load(partner *p, const char *path, const omo_catalog *cat, char *err, size_t errlen);
void partner_fini(partner *p);

/* partner_handles tells whether p sends (in) or receives (!in) document d. */
bool partner_handles(const partner *p, partner_doc d, bool in);

/* partner_sku returns our SKU for the partner's item id, or NULL. A GTIN
 * is looked up whatever its length (UPC-A and its GTIN-14 are one item). */
const char *partner_sku(const partner *p, partner_item_kind kind, const char *code, size_t len);
/* partner_item_code returns the partner's id of our SKU of that kind, or NULL. */
const char *partner_item_code(const partner *p, partner_item_kind kind, const char *sku);
/* partner_location_find returns the partner's place with that code, or NULL. */
const partner_location *partner_location_find(const partner *p, partner_loc_kind kind,
                                              const char *code, size_t len);
/* partner_location_of_node returns the partner's code for our node, or NULL. */
const partner_location *partner_location_of_node(const partner *p, const char *node);

/* A folder of mapping files: every *.yaml in it, sorted by partner id. */
typedef struct partner_set {
	partner *partners;
	uint32_t n;
} partner_set;

/* partner_set_load reads every *.yaml of dir (none is fine); stops at the
 * first bad file with its sentence in err and returns -1 (set then empty). */
int partner_set_load(partner_set *s, const char *dir, const omo_catalog *cat, char *err,
                     size_t errlen);
void partner_set_fini(partner_set *s);
/* partner_set_find returns the partner with that id, or NULL. */
const partner *partner_set_find(const partner_set *s, const char *id);
/* partner_set_for_node returns the partner that fulfils for our node, or NULL. */
const partner *partner_set_for_node(const partner_set *s, const char *node);

#endif
