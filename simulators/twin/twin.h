/*
 * twin.h - the whole omo stack in one process: the same service cores and
 * handlers as the real processes, wired by a deterministic in-memory bus on
 * a virtual clock. Tests drive complete order flows through it without
 * sockets or sleeps, and the simulator's plan mode runs on it.
 *
 * Delivery rule: events are delivered in the order they were committed,
 * producer by producer, each to every service that follows its producer;
 * calls between services (router -> inventory) run the callee's own batch
 * at once. Time moves only when nothing is left to deliver: to the earliest
 * moment a service's timer is due.
 */
#ifndef OMO_TWIN_H
#define OMO_TWIN_H

#include <stdint.h>

#include "core.h"
#include "service.h"

typedef struct omo_twin omo_twin;

/* Option overrides, "service.option=value" (e.g. "node-store.reject_pct=50"), NULL-ended. */
typedef struct omo_twin_options {
	const char *network_dir; /* nodes.csv, skus.csv, stock.csv */
	const char *data_dir;    /* each service's store goes below it */
	const char *const *overrides;
	int64_t start_us; /* virtual time at the start */
} omo_twin_options;

/* omo_twin_open builds and seeds the stack; on failure says why in d. */
omo_err omo_twin_open(omo_twin **tp, const omo_twin_options *o, omo_error_detail *d);
void omo_twin_close(omo_twin *t);

/* omo_twin_request sends req to service and waits for the reply (as a client would). */
omo_err omo_twin_request(omo_twin *t, const char *service, const omo_msg *req, omo_msg *reply,
                         omo_error_detail *d);
/* omo_twin_raw sends encoded bytes to service; the encoded reply is appended to out. */
void omo_twin_raw(omo_twin *t, const char *service, const void *data, size_t len, omo_buf *out);

/* omo_twin_run delivers and ticks until nothing is due before until_us; returns events delivered.
 */
long omo_twin_run(omo_twin *t, int64_t until_us);
int64_t omo_twin_now(const omo_twin *t);
/* omo_twin_core gives a service's core, for reading its state in tests. */
omo_core *omo_twin_core(omo_twin *t, const char *service);

#endif
