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

/* Everything that makes a service, whatever binds it (process or twin). */
typedef struct omo_service_def {
	const omo_handlers *handlers;
	const char *const *follows; /* producers whose events this service applies */
	unsigned n_follows;
	const char *const *calls; /* services it sends requests to */
	unsigned n_calls;
	const omo_option *options; /* its option table; its config starts with the common ones */
	size_t n_options;
	size_t config_size;
	size_t app_size;
	/* app_init builds the service's data from its config; -1 with a sentence in err. */
	int (*app_init)(void *app, const void *cfg, char *err, size_t errlen);
	/* app_fini frees what app_init built; app may be half-built or zeroed. */
	void (*app_fini)(void *app);
	/* app_handlers, if set, gives the handlers once app is built (a name from options). */
	const omo_handlers *(*app_handlers)(const void *app);
} omo_service_def;

/* omo_service_handlers returns def's handlers for a built app. */
const omo_handlers *omo_service_handlers(const omo_service_def *def, const void *app);

/*
 * omo_service_run opens the core in cfg->data_dir, listens on
 * ipc://<run_dir>/<name>.rep and .pub, follows and calls its peers, and
 * serves until SIGTERM or SIGINT. Returns 0 after a clean stop, 1 if it
 * could not start.
 */
int omo_service_run(const omo_service_def *def, const omo_common_config *cfg, void *app);

/*
 * omo_service_main is a whole main(): loads the options, builds the app,
 * sets up logging, then runs the service. Returns the exit status.
 */
int omo_service_main(const omo_service_def *def, int argc, char **argv);

#endif
