/*
 * config.h - options defined once per service, as rows of a table.
 *
 * Each service lists its options with an X-macro, X(T, TYPE, name, "default",
 * "doc") with TYPE STR or INT, which generates its config struct and its
 * table. Values come from, lowest first: the defaults, a file of
 * "name = value" lines (--config=FILE or OMO_CONFIG), the environment
 * (OMO_<NAME> in capitals), and flags (--name=value). --help prints the table.
 */
#ifndef OMO_CONFIG_H
#define OMO_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define OMO_CONFIG_STR_MAX 1024

typedef enum omo_opt_type { OMO_OPT_STR, OMO_OPT_INT } omo_opt_type;

typedef struct omo_option {
	const char *name;
	omo_opt_type type;
	const char *def; /* default, as text */
	const char *doc;
	size_t offset; /* in the config struct */
} omo_option;

#define OMO_CONFIG_FIELD_STR(name)                char name[OMO_CONFIG_STR_MAX];
#define OMO_CONFIG_FIELD_INT(name)                int64_t name;
#define OMO_CONFIG_FIELD(T, TYPE, name, def, doc) OMO_CONFIG_FIELD_##TYPE(name)
#define OMO_CONFIG_ROW(T, TYPE, name, def, doc)                                                    \
	{#name, OMO_OPT_##TYPE, def, doc, offsetof(T, name)},

/* Options every service has. */
#define OMO_COMMON_OPTIONS(X, T)                                                                   \
	X(T, STR, run_dir, "state/run", "directory of the ipc:// sockets of the local stack")      \
	X(T, STR, endpoints, "",                                                                   \
	  "addresses other than ipc://<run_dir>/<service>.<rep|pub>, as "                          \
	  "service.rep=tcp://host:port,service.pub=... (this service's own, and its peers')")      \
	X(T, STR, data_dir, "state/data", "directory of the service's LMDB environment")           \
	X(T, STR, log_level, "info", "error, warn, info or debug")                                 \
	X(T, INT, sync, "1",                                                                       \
	  "1: fsync every commit (durable); 0: leave it to the OS (faster, "                       \
	  "loses the last commits on power loss)")                                                 \
	X(T, INT, map_mb, "1024", "LMDB map size in MiB at start")                                 \
	X(T, INT, map_max_mb, "65536", "the map doubles when full, up to this; then STORE_FULL")   \
	X(T, INT, retain_events, "1000000", "events kept in the outbox for followers to fetch")    \
	X(T, INT, retain_replies_s, "86400", "how long a command's reply is kept for its retries") \
	X(T, STR, http, "127.0.0.1:0",                                                             \
	  "address of /metrics, /healthz and /readyz (port 0: any free one, written to "           \
	  "<run_dir>/<service>.http); empty: none")

/* Options of the programs that talk to a running local stack (omo, omo-sim). */
#define OMO_CLIENT_OPTIONS(X, T)                                                                   \
	X(T, STR, state, "state", "state directory: run/ (sockets, pids), data/, log/")            \
	X(T, STR, network, "simulators/scenarios/demo",                                            \
	  "network directory (nodes.csv, skus.csv, stock.csv)")                                    \
	X(T, INT, timeout_ms, "5000", "how long to wait for a service's reply")

/*
 * omo_config_load fills cfg from the layers above. On a bad option or value
 * it writes a sentence to err and returns -1; for --help it prints the table
 * to stdout and returns 1; otherwise 0.
 */
int omo_config_load(const omo_option *opts, size_t n, void *cfg, const char *service, int argc,
                    char **argv, char *err, size_t errlen);

/* omo_config_set sets one option by name from text; -1 if unknown or invalid. */
int omo_config_set(const omo_option *opts, size_t n, void *cfg, const char *name,
                   const char *value);

#endif
