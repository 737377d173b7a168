/*
 * service.h - the shell that binds a service's core to nng: one thread, one
 * poll loop. Each turn takes every request and event that is waiting, runs
 * them in one write transaction (group commit), commits, then answers the
 * requests and publishes the events. Missing events are fetched from their
 * producer's outbox over REQ/REP; a heartbeat every half second tells
 * followers what this service last published.
 */
#ifndef OMO_SERVICE_H
#define OMO_SERVICE_H

#include "config.h"
#include "core.h"

/* The options every service has, as a struct (a service's own config starts with these). */
typedef struct omo_common_config {
	OMO_COMMON_OPTIONS(OMO_CONFIG_FIELD, _)
} omo_common_config;

typedef struct omo_service_def {
	const omo_handlers *handlers;
	const char *const *follows; /* producers whose events this service applies */
	unsigned n_follows;
	const char *const *calls; /* services it sends requests to */
	unsigned n_calls;
} omo_service_def;

/*
 * omo_service_run opens the core in cfg->data_dir, listens on
 * ipc://<run_dir>/<name>.rep and .pub, follows and calls its peers, and
 * serves until SIGTERM or SIGINT. Returns 0 after a clean stop, 1 if it
 * could not start.
 */
int omo_service_run(const omo_service_def *def, const omo_common_config *cfg, void *app);

/*
 * omo_service_main is a whole main(): loads the options (opts, into cfg,
 * which starts with the common options), sets up logging, calls init (may be
 * NULL) to build app, then runs the service.
 */
int omo_service_main(const omo_service_def *def, const omo_option *opts, size_t n_opts, void *cfg,
		     int (*init)(void *cfg, void **app), int argc, char **argv);

#endif
