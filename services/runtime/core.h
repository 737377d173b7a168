/*
 * core.h - a service's functional core: its handlers, bound to its store,
 * its outbox and its inbox, with no sockets. The nng shell (service.h), the
 * simulator and the tests all drive a service through this interface, so
 * they run the very same code.
 *
 * A batch is one write transaction: omo_core_begin, any number of requests,
 * events and ticks, then omo_core_commit. Each request or event runs in a
 * nested transaction, so one that fails changes nothing while the rest of
 * the batch commits. Events a handler emits are written to the outbox in its
 * transaction and become publishable only once the batch has committed; a
 * reply, likewise, must not be sent before the commit (group commit).
 *
 * Exactly-once: each request's reply is stored under the request id and a
 * repeat gets it again; each event is applied once and in order per
 * producer, its (epoch, seq) recorded in the inbox with its effect.
 */
#ifndef OMO_CORE_H
#define OMO_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "schema.h"
#include "store.h"

typedef struct omo_core omo_core;

/* What a handler sees. */
typedef struct omo_ctx {
	omo_txn *txn;   /* the request's or event's own write transaction */
	int64_t now_us; /* the clock, injected */
	void *app;      /* the service's own data: its config, catalog, ... */
	omo_core *core;
} omo_ctx;

/*
 * A statistic a service keeps about its own state (orders by state, units
 * reserved, re-sourced lines): changed with omo_stat_add in the transaction
 * of the change it counts, so it is as durable and exact as the state, and
 * served on /metrics as omo_<name>{service="...",<label>="<value>"}.
 */
typedef struct omo_stat_def {
	const char *name;  /* without the omo_ prefix */
	const char *type;  /* "gauge" or "counter" */
	const char *label; /* the label that tells its series apart */
	const char *help;
} omo_stat_def;

/* A service's handlers and tables; app tables are numbered from 0 in order. */
typedef struct omo_handlers {
	const char *name; /* producer name, socket names */
	const char *const *tables;
	unsigned n_tables;
	/* on_request answers req in reply: it omo_msg_init()s it with its type and
	 * fills the body; the core stamps the envelope (id, corr, ts).
	 * An error return aborts the request's effects; d says why. */
	omo_err (*on_request)(omo_ctx *ctx, const omo_msg *req, omo_msg *reply,
	                      omo_error_detail *d);
	/* on_event applies one event from a producer this service follows. */
	omo_err (*on_event)(omo_ctx *ctx, const omo_msg *ev, omo_error_detail *d);
	/* on_tick does timed work that is due and sets *next_us to when it is next
	 * due (INT64_MAX: never). An error return drops what it did. */
	omo_err (*on_tick)(omo_ctx *ctx, int64_t *next_us);
	const omo_stat_def *stats; /* numbered from 0 in order, for omo_stat_add */
	unsigned n_stats;
} omo_handlers;

/* omo_stat_add adds delta to series value (a label value) of statistic stat. */
omo_err omo_stat_add(omo_ctx *ctx, unsigned stat, const char *value, int64_t delta);

/* A way to call another service: the nng shell sends a REQ, tests and the
 * simulator call the other core in process. */
typedef omo_err (*omo_caller_fn)(void *arg, const char *peer, const omo_msg *req, omo_msg *reply,
                                 omo_error_detail *d);
typedef int64_t (*omo_clock_fn)(void *arg);

/* omo_core_open opens the store in data_dir and binds handlers h and app. */
omo_err omo_core_open(omo_core **cp, const omo_handlers *h, void *app, const char *data_dir,
                      size_t map_bytes, bool sync, omo_error_detail *d);
void omo_core_close(omo_core *c);
void omo_core_set_caller(omo_core *c, omo_caller_fn fn, void *arg);
void omo_core_set_clock(omo_core *c, omo_clock_fn fn, void *arg);

/* What the core keeps and how far its store may grow (defaults: 1,000,000
 * events, replies for a day, map up to 64 GiB). */
typedef struct omo_core_limits {
	int64_t retain_events;     /* newest events kept in the outbox */
	int64_t retain_replies_us; /* age after which a stored reply is dropped */
	size_t map_max_bytes;
} omo_core_limits;
void omo_core_set_limits(omo_core *c, const omo_core_limits *l);
int64_t omo_core_now(omo_core *c);
const char *omo_core_name(const omo_core *c);

omo_err omo_core_begin(omo_core *c);
/* omo_core_request handles one encoded request and appends the encoded reply
 * (its answer, or an error) to reply. It never fails: bad input is an error reply. */
void omo_core_request(omo_core *c, const void *data, size_t len, omo_buf *reply);

/* What omo_core_event did with an event. */
typedef enum omo_applied {
	OMO_APPLIED,   /* applied now */
	OMO_DUPLICATE, /* applied before (or a heartbeat with nothing new); ignored */
	OMO_GAP,       /* events before it are missing: fetch *gap, then offer it again */
	OMO_INVALID,   /* not a decodable event; ignored */
} omo_applied;

/* Where to resume a producer's stream. */
typedef struct omo_gap {
	char producer[OMO_PRODUCER_MAX + 1];
	uint64_t epoch;
	uint64_t from_seq;
} omo_gap;

/* omo_core_event applies one encoded event (or heartbeat) once and in order. */
omo_applied omo_core_event(omo_core *c, const void *data, size_t len, omo_gap *gap);
/*
 * omo_core_catch_up fetches what gap says is missing from the producer's
 * outbox through the core's caller and applies it in order, inside the open
 * batch. Returns the number of events applied, or -1 if the producer did not
 * answer.
 */
int omo_core_catch_up(omo_core *c, const omo_gap *gap);

/* omo_core_take_event applies an event, catching up first if it finds a gap
 * (not more than once a second from a producer that does not answer). */
void omo_core_take_event(omo_core *c, const void *data, size_t len);

/*
 * omo_core_check_silence asks a followed producer for what it published
 * since we last applied, when nothing (no event, no heartbeat, no answer)
 * has come from it for silence_us: a subscription that nng lost without a
 * word (a dialer that never reconnects after the producer restarted) would
 * otherwise leave this consumer behind for good. Call it in a batch.
 */
void omo_core_check_silence(omo_core *c, const char *producer, int64_t silence_us);

/* omo_core_tick runs on_tick; returns when it is next due. */
int64_t omo_core_tick(omo_core *c);
/* omo_core_commit makes the batch durable; on failure nothing of it happened. */
omo_err omo_core_commit(omo_core *c);
/* omo_core_abort drops the batch. */
void omo_core_abort(omo_core *c);

/* Events committed by the last batch, in order, to publish; cleared by the next begin. */
size_t omo_core_published(omo_core *c, const omo_buf **events);

/*
 * omo_core_metrics appends this service's metrics in the Prometheus text
 * format: requests by type, errors by code, events applied, duplicates,
 * gaps, batches and their commit time, the outbox's sequence, each followed
 * producer's applied sequence, and the store's size. Inside a batch only.
 */
void omo_core_metrics(omo_core *c, omo_buf *out);

/* omo_core_heartbeat_msg encodes this producer's heartbeat into out. */
omo_err omo_core_heartbeat_msg(omo_core *c, omo_buf *out);
/* omo_core_latest returns (epoch, latest seq) of this producer. */
void omo_core_latest(omo_core *c, uint64_t *epoch, uint64_t *seq);

/* ---- for handlers ---------------------------------------------------- */

/* omo_emit stamps ev (producer, epoch, seq, id, ts) and writes it to the
 * outbox in ctx's transaction. ev stays the caller's. */
omo_err omo_emit(omo_ctx *ctx, omo_msg *ev);
/* omo_ctx_call calls service peer and waits for its reply (see omo_call). */
omo_err omo_ctx_call(omo_ctx *ctx, const char *peer, const omo_msg *req, omo_msg *reply,
                     omo_error_detail *d);

#endif
