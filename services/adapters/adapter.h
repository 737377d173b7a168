/*
 * adapter.h - the partner adapter service ("adapters"): partners' files in,
 * omo messages out, and our documents back to them.
 *
 * Each tick it looks at every partner's watched folder (folder.h): files in
 * processing whose document is recorded as done are filed (acknowledgement
 * to outbox, file to archive or error, status.json rewritten); files in the
 * inbox are claimed; claimed files not yet done are read (X12 through
 * x12_flows.h, JSON through json_channels.h) and applied in the tick's
 * transaction: orders submitted to the orders service (idempotent on the
 * partner's document id), stock adjustments and returns sent to inventory,
 * fulfillment updates published as events; and the document is recorded
 * under its digest with its outcome and acknowledgement. A file is filed
 * only after that record is durable, so a crash at any moment loses and
 * duplicates nothing, and a document sent twice is applied once.
 *
 * Partners with a tls: listener in their mapping may also send documents
 * over tls+tcp:// (tls_link.h): a message that passes the handshake on the
 * partner's own listener and is no replay is written to that partner's
 * inbox, and goes the same way as a file.
 *
 * It follows the router: a fulfillment_requested for a node a partner
 * fulfils becomes an 850 (drop-ship manufacturer) or 940 (3PL) in the
 * partner's outbox, numbered from its persisted control numbers, and
 * remembered so the partner's 855, 856 and 945 can be matched to it.
 *
 * tables: controls (partner -> last control number), docs (partner/digest
 * -> outcome), pos (our PO number -> fulfillment_requested)
 */
#ifndef OMO_ADAPTER_H
#define OMO_ADAPTER_H

#include <pthread.h>
#include <stdatomic.h>

#include "catalog.h"
#include "config.h"
#include "partner.h"
#include "service.h"
#include "tls_link.h"

#define ADAPTER_OPTIONS(X, T)                                                                      \
	OMO_COMMON_OPTIONS(X, T)                                                                   \
	X(T, STR, network_dir, "simulators/scenarios/demo", "directory of nodes.csv and skus.csv") \
	X(T, STR, partners_dir, "simulators/scenarios/demo/partners",                              \
	  "one YAML mapping per partner")                                                          \
	X(T, STR, folders_dir, "state/partners", "each partner's watched folders")                 \
	X(T, INT, poll_ms, "200", "how often the folders are looked at")                           \
	X(T, STR, tls_cert, "",                                                                    \
	  "our certificate and key (one PEM file) for the partners' tls+tcp:// listeners; empty: " \
	  "none")

typedef struct adapter_config {
	ADAPTER_OPTIONS(OMO_CONFIG_FIELD, _)
} adapter_config;

typedef struct adapter_app {
	omo_catalog catalog;
	partner_set partners;
	char folders[1024];
	int64_t poll_us;
	/* the partners' tls+tcp:// listeners: each verified message becomes a file in
	 * the partner's inbox, read by a thread of their own */
	tls_link **links; /* by partner index, NULL where none */
	tls_seen *seen;   /* each partner's replay memory */
	pthread_t receiver;
	bool receiving;
	atomic_bool stop;
} adapter_app;

extern const omo_service_def adapter_service;

#endif
