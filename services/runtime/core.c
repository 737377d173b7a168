#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

#define MAX_APP_TABLES      24
#define MAX_PRODUCERS       16         /* followed producers whose catch-up is tracked */
#define CATCH_UP_BACKOFF_US 1000000    /* wait after a producer did not answer */
#define FETCH_MAX_BYTES     (1u << 20) /* of events per fetch reply */
#define FETCH_MAX           1000       /* events asked for per fetch */

/* Tables of the core itself, after the service's own. */
/* replies_by_time is a timer table (time stored + request id) for pruning replies. */
/* stats holds the service's omo_stat_def series: stat number byte + label value -> int64. */
enum { T_OUTBOX, T_INBOX, T_REPLIES, T_META, T_REPLY_TIMES, T_STATS, N_CORE_TABLES };
static const char *const core_tables[] = {"omo.outbox", "omo.inbox",       "omo.replies",
                                          "omo.meta",   "omo.reply_times", "omo.stats"};

#define HOUSEKEEPING_US 1000000 /* how often old events and replies are pruned */
#define PRUNE_MAX       20000   /* rows deleted per housekeeping, so no batch stalls */
#define BATCH_TIMED     4096    /* requests of one batch whose latency is measured */
#define N_BOUNDS        11
#define STAT_VALUE_MAX  64 /* bytes of a statistic's label value */
#define MAX_ASK_BACKOFF_US                                                                         \
	30000000 /* a producer that does not answer is asked at least this often */

typedef struct timed_request {
	omo_msg_type type;
	double start;
} timed_request;

struct omo_core {
	const omo_handlers *h;
	bool plant_skip_dedupe; /* a bug planted on purpose: see omo_core_open */
	void *app;
	omo_store *store;
	unsigned base; /* index of the first core table */
	omo_txn *batch;
	uint64_t epoch;
	uint64_t seq;           /* last sequence written (committed or in the batch) */
	uint64_t committed_seq; /* last sequence committed */
	omo_buf *pending;       /* encoded events of the open batch */
	size_t n_pending, cap_pending;
	size_t n_published; /* events of the last committed batch, from pending[0] */
	omo_caller_fn caller;
	void *caller_arg;
	omo_clock_fn clock;
	void *clock_arg;
	omo_core_limits limits;
	int64_t next_housekeeping;
	struct {
		char producer[OMO_PRODUCER_MAX + 1];
		int64_t retry_at_us;
	} catch_up[MAX_PRODUCERS]; /* producers that did not answer a catch-up */
	struct {
		char producer[OMO_PRODUCER_MAX + 1];
		uint64_t epoch, latest;
		int64_t heard_at_us;      /* when it last spoke to us: event, heartbeat or answer */
		int64_t ask_backoff_us;   /* how long to wait before asking again, once it failed */
		bool beyond_retention;    /* what we miss is no longer in its outbox */
	} heard[MAX_PRODUCERS];           /* the latest sequence each producer announced */
	timed_request timed[BATCH_TIMED]; /* requests of the open batch, answered when it commits */
	size_t n_timed;
	struct {
		uint64_t requests[OMO_MSG_COUNT + 1]; /* the last: undecodable */
		uint64_t errors[OMO_E_COUNT];
		uint64_t applied, duplicates, gaps, invalid, batches, published;
		uint64_t commit_le[N_BOUNDS]; /* commits at or under each bound of bounds */
		double commit_seconds;
		/* request latency, receipt to durable answer, by message type */
		uint64_t latency_le[OMO_MSG_COUNT][N_BOUNDS], latency_n[OMO_MSG_COUNT];
		double latency_seconds[OMO_MSG_COUNT];
	} stats;
};

static const double bounds[N_BOUNDS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1.0};

static double monotonic_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct inbox_row {
	uint8_t epoch[8];
	uint8_t seq[8];
} inbox_row;

static int64_t wall_clock(void *arg)
{
	struct timeval tv;
	(void)arg;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

omo_err omo_core_open(omo_core **cp, const omo_handlers *h, void *app, const char *data_dir,
                      size_t map_bytes, bool sync, omo_error_detail *d)
{
	const char *names[MAX_APP_TABLES + N_CORE_TABLES];
	omo_core *c;
	omo_txn *t;
	omo_val k, v;
	omo_err e;

	*cp = NULL;
	if (h->n_tables > MAX_APP_TABLES)
		return omo_fail(d, OMO_E_INTERNAL, "%s: too many tables", h->name);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return omo_fail(d, OMO_E_NOMEM, "out of memory");
	c->h = h;
	c->app = app;
	/* OMO_PLANT=skip_dedupe plants a bug (events applied again when repeated)
	 * that the fault harness must catch before its verdicts are trusted. */
	c->plant_skip_dedupe =
	    getenv("OMO_PLANT") && strcmp(getenv("OMO_PLANT"), "skip_dedupe") == 0;
	c->base = h->n_tables;
	c->clock = wall_clock;
	c->limits = (omo_core_limits){.retain_events = 1000000,
	                              .retain_replies_us = 86400LL * 1000000,
	                              .map_max_bytes = (size_t)64 << 30};
	for (unsigned i = 0; i < h->n_tables; i++)
		names[i] = h->tables[i];
	for (unsigned i = 0; i < N_CORE_TABLES; i++)
		names[h->n_tables + i] = core_tables[i];
	e = omo_store_open(&c->store, data_dir, names, h->n_tables + N_CORE_TABLES, map_bytes, sync,
	                   d);
	if (e != OMO_E_OK) {
		free(c);
		return e;
	}
	/* The epoch names this store's history; a store made afresh gets a new one. */
	if ((e = omo_txn_begin(c->store, NULL, true, &t)) != OMO_E_OK)
		goto fail;
	if (omo_get(t, c->base + T_META, "epoch", 5, &v) == OMO_E_OK && v.len == 8)
		c->epoch = omo_be64_get(v.data);
	else {
		uint8_t b[8];
		omo_uuid u;
		omo_uuid_generate(&u);
		memcpy(b, u.b, 8);
		b[0] &= 0x7f; /* epochs are positive int64 on the wire */
		c->epoch = omo_be64_get(b);
		omo_put(t, c->base + T_META, "epoch", 5, b, 8);
	}
	if (omo_last(t, c->base + T_OUTBOX, &k, &v) == OMO_E_OK && k.len == 8)
		c->seq = omo_be64_get(k.data);
	else if (omo_get(t, c->base + T_META, "seq", 3, &v) == OMO_E_OK && v.len == 8)
		c->seq = omo_be64_get(v.data);
	c->committed_seq = c->seq;
	if ((e = omo_txn_commit(t)) != OMO_E_OK)
		goto fail;
	*cp = c;
	return OMO_E_OK;
fail:
	omo_store_close(c->store);
	free(c);
	return omo_fail(d, e, "%s: cannot initialise its store", h->name);
}

void omo_core_close(omo_core *c)
{
	if (c == NULL)
		return;
	omo_core_abort(c);
	for (size_t i = 0; i < c->cap_pending; i++)
		omo_buf_fini(&c->pending[i]);
	free(c->pending);
	omo_store_close(c->store);
	free(c);
}

void omo_core_set_caller(omo_core *c, omo_caller_fn fn, void *arg)
{
	c->caller = fn;
	c->caller_arg = arg;
}

void omo_core_set_limits(omo_core *c, const omo_core_limits *l)
{
	c->limits = *l;
}

void omo_core_set_clock(omo_core *c, omo_clock_fn fn, void *arg)
{
	c->clock = fn;
	c->clock_arg = arg;
}

int64_t omo_core_now(omo_core *c)
{
	return c->clock(c->clock_arg);
}

const char *omo_core_name(const omo_core *c)
{
	return c->h->name;
}

void omo_core_latest(omo_core *c, uint64_t *epoch, uint64_t *seq)
{
	*epoch = c->epoch;
	*seq = c->committed_seq;
}

/* grow_if_full doubles the map after a batch that found it full: the
 * requests refused with STORE_FULL (retryable) succeed when tried again. */
static void grow_if_full(omo_core *c)
{
	if (!omo_store_filled(c->store))
		return;
	omo_err e = omo_store_grow(c->store, c->limits.map_max_bytes);
	if (e == OMO_E_OK)
		OMO_WARN("store_grown", "service=%s", c->h->name);
	else
		OMO_ERROR("store_full", "service=%s max_bytes=%zu", c->h->name,
		          c->limits.map_max_bytes);
}

omo_err omo_core_begin(omo_core *c)
{
	if (c->batch != NULL)
		abort(); /* a bug: batches do not nest */
	c->n_pending = 0;
	c->n_published = 0;
	c->n_timed = 0;
	return omo_txn_begin(c->store, NULL, true, &c->batch);
}

omo_err omo_core_commit(omo_core *c)
{
	uint8_t b[8];
	omo_be64_put(b, c->seq);
	/* Written only when it moved: a batch that changed nothing costs no fsync. */
	omo_err e = c->seq == c->committed_seq
	                ? OMO_E_OK
	                : omo_put(c->batch, c->base + T_META, "seq", 3, b, 8);
	if (e != OMO_E_OK) {
		omo_core_abort(c);
		return e;
	}
	double t0 = monotonic_s();
	e = omo_txn_commit(c->batch);
	double took = monotonic_s() - t0;
	c->batch = NULL;
	c->stats.batches++;
	c->stats.commit_seconds += took;
	for (int i = 0; i < N_BOUNDS; i++)
		c->stats.commit_le[i] += took <= bounds[i];
	double done = t0 + took;
	for (size_t r = 0; r < c->n_timed && e == OMO_E_OK; r++) {
		omo_msg_type type = c->timed[r].type;
		double waited = done - c->timed[r].start;
		c->stats.latency_n[type]++;
		c->stats.latency_seconds[type] += waited;
		for (int i = 0; i < N_BOUNDS; i++)
			c->stats.latency_le[type][i] += waited <= bounds[i];
	}
	c->n_timed = 0;
	grow_if_full(c);
	if (e != OMO_E_OK) {
		c->seq = c->committed_seq;
		c->n_pending = 0;
		return e;
	}
	c->committed_seq = c->seq;
	c->n_published = c->n_pending;
	c->stats.published += c->n_pending;
	return OMO_E_OK;
}

void omo_core_abort(omo_core *c)
{
	if (c->batch == NULL)
		return;
	omo_txn_abort(c->batch);
	c->batch = NULL;
	grow_if_full(c);
	c->seq = c->committed_seq;
	c->n_pending = 0;
}

size_t omo_core_published(omo_core *c, const omo_buf **events)
{
	*events = c->pending;
	return c->n_published;
}

/* ---- running a handler in its own nested transaction ------------------- */

typedef struct step {
	omo_ctx ctx;
	uint64_t seq;
	size_t n_pending;
} step;

static omo_err step_begin(omo_core *c, step *s)
{
	s->seq = c->seq;
	s->n_pending = c->n_pending;
	s->ctx = (omo_ctx){.now_us = omo_core_now(c), .app = c->app, .core = c};
	return omo_txn_begin(c->store, c->batch, true, &s->ctx.txn);
}

static omo_err step_end(omo_core *c, step *s)
{
	omo_err e = omo_txn_commit(s->ctx.txn); /* frees the transaction either way */
	if (e != OMO_E_OK) {
		c->seq = s->seq;
		c->n_pending = s->n_pending;
	}
	return e;
}

static void step_abort(omo_core *c, step *s)
{
	omo_txn_abort(s->ctx.txn);
	c->seq = s->seq;
	c->n_pending = s->n_pending;
}

omo_err omo_emit(omo_ctx *ctx, omo_msg *ev)
{
	omo_core *c = ctx->core;
	uint8_t key[8];
	omo_err e;

	if (c->n_pending == c->cap_pending) {
		size_t cap = c->cap_pending ? 2 * c->cap_pending : 64;
		omo_buf *p = realloc(c->pending, cap * sizeof(*p));
		if (p == NULL)
			return OMO_E_NOMEM;
		memset(p + c->cap_pending, 0, (cap - c->cap_pending) * sizeof(*p));
		c->pending = p;
		c->cap_pending = cap;
	}
	snprintf(ev->producer, sizeof(ev->producer), "%s", c->h->name);
	ev->epoch = c->epoch;
	ev->seq = c->seq + 1;
	ev->ts_us = ctx->now_us;
	omo_uuid_generate(&ev->id);
	omo_buf *b = &c->pending[c->n_pending];
	b->len = 0;
	if ((e = omo_msg_encode(ev, b, NULL)) != OMO_E_OK)
		return e;
	omo_be64_put(key, ev->seq);
	if ((e = omo_put(ctx->txn, c->base + T_OUTBOX, key, 8, b->data, b->len)) != OMO_E_OK)
		return e;
	c->seq++;
	c->n_pending++;
	return OMO_E_OK;
}

omo_err omo_ctx_call(omo_ctx *ctx, const char *peer, const omo_msg *req, omo_msg *reply,
                     omo_error_detail *d)
{
	omo_core *c = ctx->core;
	memset(reply, 0, sizeof(*reply));
	if (c->caller == NULL)
		return omo_fail(d, OMO_E_UNAVAILABLE, "%s: no way to reach %s", c->h->name, peer);
	return c->caller(c->caller_arg, peer, req, reply, d);
}

/* ---- requests --------------------------------------------------------- */

static void encode_reply(omo_core *c, omo_msg *reply, const omo_uuid *corr, omo_buf *out)
{
	omo_error_detail d;
	size_t start = out->len;
	omo_uuid_generate(&reply->id);
	reply->corr = *corr;
	reply->ts_us = omo_core_now(c);
	if (omo_msg_encode(reply, out, &d) != OMO_E_OK) {
		/* A handler built a reply its own schema refuses: a bug, reported as such. */
		OMO_ERROR("reply_invalid", "type=%s detail=\"%s\"", omo_msg_name(reply->type),
		          d.text);
		omo_msg err;
		out->len = start;
		omo_msg_error(&err, corr, OMO_E_INTERNAL, d.text);
		omo_msg_encode(&err, out, NULL);
	}
}

static void error_reply(omo_core *c, const omo_uuid *corr, const omo_error_detail *d, omo_buf *out)
{
	omo_msg err;
	if ((unsigned)d->code < OMO_E_COUNT)
		c->stats.errors[d->code]++;
	omo_msg_error(&err, corr, d->code, d->text);
	encode_reply(c, &err, corr, out);
}

static omo_err fetch_events(omo_core *c, const omo_fetch_events *f, omo_msg *reply,
                            omo_error_detail *d)
{
	omo_msg_init(reply, OMO_MSG_EVENTS);
	omo_events *r = &reply->body.events;
	r->epoch = (int64_t)c->epoch;
	r->latest_seq = (int64_t)c->committed_seq;
	if ((uint64_t)f->epoch != c->epoch && f->epoch != 0)
		return OMO_E_OK; /* another history: no events of it here; epoch tells the caller */
	uint64_t from = (uint64_t)f->from_seq, to = c->committed_seq;
	if (to >= from && to - from + 1 > (uint64_t)f->max)
		to = from + (uint64_t)f->max - 1;
	if (to < from)
		return OMO_E_OK;
	r->events = omo_arena_alloc(&reply->arena, (to - from + 1) * sizeof(*r->events));
	if (r->events == NULL)
		return omo_fail(d, OMO_E_NOMEM, "out of memory");
	omo_txn *t = c->batch; /* sees no more than committed_seq: the bound above */
	size_t bytes = 0;
	for (uint64_t s = from; s <= to && bytes < FETCH_MAX_BYTES; s++) {
		uint8_t key[8];
		omo_val v;
		omo_be64_put(key, s);
		if (omo_get(t, c->base + T_OUTBOX, key, 8, &v) != OMO_E_OK)
			break; /* beyond retention: the caller sees fewer than asked */
		uint8_t *copy = omo_arena_alloc(&reply->arena, v.len);
		if (copy == NULL)
			break;
		memcpy(copy, v.data, v.len);
		r->events[r->events_count].bytes = copy;
		r->events[r->events_count].bytes_len = (uint32_t)v.len;
		r->events_count++;
		bytes += v.len;
	}
	return OMO_E_OK;
}

void omo_core_request(omo_core *c, const void *data, size_t len, omo_buf *out)
{
	omo_error_detail d = {0};
	omo_msg req, reply;
	omo_val v;
	step s;

	memset(&reply, 0, sizeof(reply));
	double received = monotonic_s();
	omo_err decoded = omo_msg_decode(data, len, &req, &d);
	c->stats.requests[(unsigned)req.type < OMO_MSG_COUNT ? req.type : OMO_MSG_COUNT]++;
	if ((unsigned)req.type < OMO_MSG_COUNT && c->n_timed < BATCH_TIMED)
		c->timed[c->n_timed++] = (timed_request){req.type, received};
	if (decoded != OMO_E_OK) {
		OMO_INFO("request_refused", "type=%s code=%s detail=\"%s\"", omo_msg_name(req.type),
		         omo_err_name(d.code), d.text);
		error_reply(c, &req.id, &d, out);
		omo_msg_fini(&req);
		return;
	}
	/* A repeat of a request already answered gets the same answer. */
	if (omo_get(c->batch, c->base + T_REPLIES, req.id.b, 16, &v) == OMO_E_OK) {
		omo_buf_append(out, v.data, v.len);
		omo_msg_fini(&req);
		return;
	}
	if (req.type == OMO_MSG_FETCH_EVENTS) {
		if (fetch_events(c, &req.body.fetch_events, &reply, &d) == OMO_E_OK)
			encode_reply(c, &reply, &req.id, out);
		else
			error_reply(c, &req.id, &d, out);
		omo_msg_fini(&reply);
		omo_msg_fini(&req);
		return;
	}
	bool command = strcmp(omo_msg_descs[req.type].kind, "command") == 0;
	if (c->h->on_request == NULL ||
	    (!command && strcmp(omo_msg_descs[req.type].kind, "query"))) {
		omo_fail(&d, OMO_E_UNKNOWN_TYPE, "%s does not take %s requests", c->h->name,
		         omo_msg_name(req.type));
		error_reply(c, &req.id, &d, out);
		omo_msg_fini(&req);
		return;
	}
	size_t start = out->len;
	omo_err e = step_begin(c, &s);
	if (e == OMO_E_OK) {
		e = c->h->on_request(&s.ctx, &req, &reply, &d);
		if (e == OMO_E_OK) {
			/* The reply must be sendable before its effects may commit. */
			omo_uuid_generate(&reply.id);
			reply.corr = req.id;
			reply.ts_us = s.ctx.now_us;
			if ((e = omo_msg_encode(&reply, out, &d)) != OMO_E_OK) {
				OMO_ERROR("reply_invalid", "type=%s detail=\"%s\"",
				          omo_msg_name(reply.type), d.text);
				omo_fail(&d, OMO_E_INTERNAL, "reply refused by its schema: %s",
				         d.text);
				e = OMO_E_INTERNAL;
			}
		}
		if (e != OMO_E_OK) {
			step_abort(c, &s);
			if (d.code != e)
				omo_fail(&d, e, "%s", omo_strerror(e));
		} else if ((e = step_end(c, &s)) != OMO_E_OK)
			omo_fail(&d, e, "%s", omo_strerror(e));
	} else
		omo_fail(&d, e, "%s", omo_strerror(e));
	if (e != OMO_E_OK) {
		out->len = start;
		error_reply(c, &req.id, &d, out);
	} else if (command) {
		/* Stored with the effect, in the same batch: a retry finds it. */
		omo_put(c->batch, c->base + T_REPLIES, req.id.b, 16, out->data + start,
		        out->len - start);
		omo_timer_set(c->batch, c->base + T_REPLY_TIMES, s.ctx.now_us, &req.id);
	}
	omo_msg_fini(&reply);
	omo_msg_fini(&req);
}

/* ---- events ----------------------------------------------------------- */

static bool inbox_get(omo_core *c, omo_txn *t, const char *producer, uint64_t *epoch, uint64_t *seq)
{
	omo_val v;
	if (omo_get(t, c->base + T_INBOX, producer, strlen(producer), &v) != OMO_E_OK ||
	    v.len != sizeof(inbox_row)) {
		*epoch = 0;
		*seq = 0;
		return false;
	}
	*epoch = omo_be64_get(((const inbox_row *)v.data)->epoch);
	*seq = omo_be64_get(((const inbox_row *)v.data)->seq);
	return true;
}

static omo_err inbox_put(omo_core *c, omo_txn *t, const char *producer, uint64_t epoch,
                         uint64_t seq)
{
	inbox_row r;
	omo_be64_put(r.epoch, epoch);
	omo_be64_put(r.seq, seq);
	return omo_put(t, c->base + T_INBOX, producer, strlen(producer), &r, sizeof(r));
}

/* heard_slot finds producer's slot in c->heard, or takes a free one if asked. */
static int heard_slot(omo_core *c, const void *producer, size_t n, bool take)
{
	for (int i = 0; i < MAX_PRODUCERS; i++) {
		if (strlen(c->heard[i].producer) == n &&
		    memcmp(c->heard[i].producer, producer, n) == 0)
			return i;
		if (take && c->heard[i].producer[0] == '\0') {
			memcpy(c->heard[i].producer, producer, n);
			c->heard[i].producer[n] = '\0';
			return i;
		}
	}
	return -1;
}

/* heard remembers the latest sequence a producer announced, for the lag metric. */
static void heard(omo_core *c, const char *producer, uint64_t epoch, uint64_t seq)
{
	int i = heard_slot(c, producer, strlen(producer), true);
	if (i < 0)
		return;
	c->heard[i].heard_at_us = omo_core_now(c);
	c->heard[i].ask_backoff_us = 0;
	if (c->heard[i].epoch != epoch)
		c->heard[i].epoch = epoch, c->heard[i].latest = 0;
	if (seq > c->heard[i].latest)
		c->heard[i].latest = seq;
}

omo_applied omo_core_event(omo_core *c, const void *data, size_t len, omo_gap *gap)
{
	omo_error_detail d = {0};
	omo_msg ev;
	uint64_t epoch, last;
	omo_applied result = OMO_APPLIED;
	step s;

	if (omo_msg_decode(data, len, &ev, &d) != OMO_E_OK || ev.producer[0] == '\0' ||
	    (ev.seq == 0 && ev.type != OMO_MSG_HEARTBEAT)) {
		OMO_WARN("event_refused", "code=%s detail=\"%s\"", omo_err_name(d.code), d.text);
		omo_msg_fini(&ev);
		c->stats.invalid++;
		return OMO_INVALID;
	}
	heard(c, ev.producer, ev.epoch,
	      ev.type == OMO_MSG_HEARTBEAT ? (uint64_t)ev.body.heartbeat.latest_seq : ev.seq);
	inbox_get(c, c->batch, ev.producer, &epoch, &last);
	if (epoch != ev.epoch) {
		if (epoch != 0)
			OMO_WARN("producer_new_epoch", "producer=%s old=%llu new=%llu", ev.producer,
			         (unsigned long long)epoch, (unsigned long long)ev.epoch);
		last = 0; /* a history we have not seen: follow it from its start */
	}
	snprintf(gap->producer, sizeof(gap->producer), "%s", ev.producer);
	gap->epoch = ev.epoch;
	gap->from_seq = last + 1;
	if (ev.type == OMO_MSG_HEARTBEAT) {
		/* A heartbeat carries no effect, only news of events we may have missed. */
		result = (uint64_t)ev.body.heartbeat.latest_seq > last ? OMO_GAP : OMO_DUPLICATE;
	} else if (ev.seq <= last && !(c->plant_skip_dedupe && ev.seq == last)) {
		result = OMO_DUPLICATE;
	} else if (ev.seq > last + 1) {
		result = OMO_GAP;
	} else if (step_begin(c, &s) == OMO_E_OK) {
		omo_err e = c->h->on_event ? c->h->on_event(&s.ctx, &ev, &d) : OMO_E_OK;
		if (e != OMO_E_OK) {
			/* Applying it again would fail again: record it as seen, loudly. */
			OMO_ERROR("event_failed",
			          "producer=%s seq=%llu type=%s code=%s detail=\"%s\"", ev.producer,
			          (unsigned long long)ev.seq, omo_msg_name(ev.type),
			          omo_err_name(e), d.text);
			step_abort(c, &s);
			inbox_put(c, c->batch, ev.producer, ev.epoch, ev.seq);
		} else if (inbox_put(c, s.ctx.txn, ev.producer, ev.epoch, ev.seq) != OMO_E_OK ||
		           step_end(c, &s) != OMO_E_OK) {
			result = OMO_GAP; /* could not record it: ask for it again later */
		}
	}
	omo_msg_fini(&ev);
	c->stats.applied += result == OMO_APPLIED;
	c->stats.duplicates += result == OMO_DUPLICATE && ev.type != OMO_MSG_HEARTBEAT;
	c->stats.gaps += result == OMO_GAP;
	return result;
}

int omo_core_catch_up(omo_core *c, const omo_gap *gap)
{
	omo_error_detail d = {0};
	omo_msg req, reply;
	int applied = 0;
	omo_msg_init(&req, OMO_MSG_FETCH_EVENTS);
	omo_uuid_generate(&req.id);
	req.body.fetch_events.epoch = (int64_t)gap->epoch;
	req.body.fetch_events.from_seq = (int64_t)gap->from_seq;
	req.body.fetch_events.max = FETCH_MAX;
	omo_err e = c->caller ? c->caller(c->caller_arg, gap->producer, &req, &reply, &d)
	                      : omo_fail(&d, OMO_E_UNAVAILABLE, "no caller");
	if (e != OMO_E_OK) {
		OMO_WARN("catch_up_failed", "producer=%s from=%llu detail=\"%s\"", gap->producer,
		         (unsigned long long)gap->from_seq, d.text);
		omo_msg_fini(&reply);
		return -1;
	}
	const omo_events *ev = &reply.body.events;
	for (uint32_t i = 0; i < ev->events_count; i++) {
		omo_gap again;
		omo_applied a =
		    omo_core_event(c, ev->events[i].bytes, ev->events[i].bytes_len, &again);
		if (a == OMO_GAP)
			break;
		applied += a == OMO_APPLIED;
	}
	/* Loud, and a gauge an operator can alert on: this consumer cannot go on alone. */
	bool beyond = ev->events_count == 0 && (uint64_t)ev->latest_seq >= gap->from_seq &&
	              (uint64_t)ev->epoch == gap->epoch;
	if (beyond)
		OMO_ERROR("gap_beyond_retention", "producer=%s from=%llu latest=%lld",
		          gap->producer, (unsigned long long)gap->from_seq,
		          (long long)ev->latest_seq);
	int slot = heard_slot(c, gap->producer, strlen(gap->producer), true);
	if (slot >= 0) {
		c->heard[slot].beyond_retention = beyond;
		c->heard[slot].heard_at_us = omo_core_now(c); /* it answered */
	}
	/* It began a new history (its store made afresh): follow that one from its
	 * start, as omo_core_event does for an event of it. */
	omo_gap fresh = {.epoch = (uint64_t)ev->epoch, .from_seq = 1};
	bool new_history = ev->events_count == 0 && gap->epoch != 0 && fresh.epoch != 0 &&
	                   fresh.epoch != gap->epoch;
	omo_msg_fini(&reply);
	if (!new_history)
		return applied;
	snprintf(fresh.producer, sizeof(fresh.producer), "%s", gap->producer);
	int more = omo_core_catch_up(c, &fresh);
	return more < 0 ? applied : applied + more;
}

/* catch_up_due tells whether a producer may be asked for missed events now:
 * after a failed attempt, not for CATCH_UP_BACKOFF_US, so a producer that is
 * down costs a consumer one timeout a second, not its whole loop. */
static bool catch_up_due(omo_core *c, const char *producer, int64_t now, bool failed)
{
	int free_slot = -1;
	for (int i = 0; i < MAX_PRODUCERS; i++) {
		if (strcmp(c->catch_up[i].producer, producer) == 0) {
			if (failed)
				c->catch_up[i].retry_at_us = now + CATCH_UP_BACKOFF_US;
			return now >= c->catch_up[i].retry_at_us;
		}
		if (free_slot < 0 && c->catch_up[i].producer[0] == '\0')
			free_slot = i;
	}
	if (failed && free_slot >= 0) {
		snprintf(c->catch_up[free_slot].producer, sizeof(c->catch_up[0].producer), "%s",
		         producer);
		c->catch_up[free_slot].retry_at_us = now + CATCH_UP_BACKOFF_US;
	}
	return !failed;
}

void omo_core_take_event(omo_core *c, const void *data, size_t len)
{
	omo_gap gap;
	int64_t now = omo_core_now(c);
	if (omo_core_event(c, data, len, &gap) != OMO_GAP ||
	    !catch_up_due(c, gap.producer, now, false))
		return;
	int applied = omo_core_catch_up(c, &gap);
	if (applied < 0)
		catch_up_due(c, gap.producer, now, true);
	else if (applied > 0)
		omo_core_event(c, data, len, &gap);
}

void omo_core_check_silence(omo_core *c, const char *producer, int64_t silence_us)
{
	int64_t now = omo_core_now(c);
	int i = heard_slot(c, producer, strlen(producer), true);
	if (i < 0)
		return;
	int64_t wait =
	    c->heard[i].ask_backoff_us > silence_us ? c->heard[i].ask_backoff_us : silence_us;
	if (now - c->heard[i].heard_at_us < wait || !catch_up_due(c, producer, now, false))
		return;
	omo_gap gap;
	uint64_t epoch, last;
	inbox_get(c, c->batch, producer, &epoch, &last);
	snprintf(gap.producer, sizeof(gap.producer), "%s", producer);
	gap.epoch = epoch; /* 0 if never heard of: the producer's current history */
	gap.from_seq = last + 1;
	if (omo_core_catch_up(c, &gap) < 0) {
		/* Down, not just quiet: each call costs this loop a timeout, so ask
		 * less and less often (up to every 30 s); its heartbeats, if they
		 * come back, end the wait at once. */
		catch_up_due(c, producer, now, true);
		c->heard[i].heard_at_us = now;
		int64_t next =
		    2 * (c->heard[i].ask_backoff_us ? c->heard[i].ask_backoff_us : silence_us);
		c->heard[i].ask_backoff_us = next < MAX_ASK_BACKOFF_US ? next : MAX_ASK_BACKOFF_US;
	} else {
		c->heard[i].ask_backoff_us = 0;
	}
}

/* prune drops events beyond retention and replies older than it. */
static void prune(omo_core *c, int64_t now)
{
	omo_val k, v;
	int n = 0;
	uint64_t keep_from = c->committed_seq > (uint64_t)c->limits.retain_events
	                         ? c->committed_seq - (uint64_t)c->limits.retain_events + 1
	                         : 1;
	while (n < PRUNE_MAX && omo_first(c->batch, c->base + T_OUTBOX, &k, &v) == OMO_E_OK &&
	       k.len == 8 && omo_be64_get(k.data) < keep_from) {
		uint8_t key[8];
		memcpy(key, k.data, 8);
		if (omo_del(c->batch, c->base + T_OUTBOX, key, 8) != OMO_E_OK)
			break;
		n++;
	}
	omo_uuid ids[256];
	int taken;
	while (n < PRUNE_MAX &&
	       (taken = omo_timer_take(c->batch, c->base + T_REPLY_TIMES,
	                               now - c->limits.retain_replies_us, ids, 256)) > 0) {
		for (int i = 0; i < taken; i++)
			omo_del(c->batch, c->base + T_REPLIES, ids[i].b, 16);
		n += taken;
	}
	int dead = omo_store_reader_check(c->store);
	if (dead > 0)
		OMO_WARN("stale_readers_cleared", "count=%d", dead);
}

int64_t omo_core_tick(omo_core *c)
{
	int64_t now = omo_core_now(c);
	if (now >= c->next_housekeeping) {
		prune(c, now);
		c->next_housekeeping = now + HOUSEKEEPING_US;
	}
	step s;
	int64_t next = INT64_MAX;
	if (c->h->on_tick == NULL || step_begin(c, &s) != OMO_E_OK)
		return next;
	omo_err e = c->h->on_tick(&s.ctx, &next);
	if (e != OMO_E_OK) {
		OMO_ERROR("tick_failed", "code=%s", omo_err_name(e));
		step_abort(c, &s);
	} else if ((e = step_end(c, &s)) == OMO_E_OK)
		return next;
	return omo_core_now(c) + 1000000; /* try again in a second */
}

omo_err omo_core_heartbeat_msg(omo_core *c, omo_buf *out)
{
	omo_msg hb;
	omo_msg_init(&hb, OMO_MSG_HEARTBEAT);
	omo_uuid_generate(&hb.id);
	snprintf(hb.producer, sizeof(hb.producer), "%s", c->h->name);
	hb.epoch = c->epoch;
	hb.ts_us = omo_core_now(c);
	hb.body.heartbeat.latest_seq = (int64_t)c->committed_seq;
	return omo_msg_encode(&hb, out, NULL);
}

/* ---- metrics ----------------------------------------------------------- */

typedef struct render {
	omo_core *c;
	omo_buf *out;
	const char *name; /* metric name */
	int what;         /* inbox: 0 sequence, 1 lag; stats: the statistic */
} render;

static int render_inbox(void *arg, const omo_val *key, const omo_val *val)
{
	render *r = arg;
	if (val->len != sizeof(inbox_row) || key->len > OMO_PRODUCER_MAX)
		return 0;
	uint64_t epoch = omo_be64_get(((const inbox_row *)val->data)->epoch);
	uint64_t seq = omo_be64_get(((const inbox_row *)val->data)->seq), value = seq;
	if (r->what == 1) { /* lag: only against what this producer announced in this history */
		int i = heard_slot(r->c, key->data, key->len, false);
		if (i < 0 || r->c->heard[i].epoch != epoch)
			return 0;
		value = r->c->heard[i].latest > seq ? r->c->heard[i].latest - seq : 0;
	}
	omo_buf_printf(r->out, "%s{service=\"%s\",producer=\"%.*s\"} %llu\n", r->name,
	               r->c->h->name, (int)key->len, (const char *)key->data,
	               (unsigned long long)value);
	return 0;
}

static int render_stat(void *arg, const omo_val *key, const omo_val *val)
{
	render *r = arg;
	const omo_stat_def *st = &r->c->h->stats[r->what];
	if (val->len == 8)
		omo_buf_printf(r->out, "omo_%s{service=\"%s\",%s=\"%.*s\"} %lld\n", st->name,
		               r->c->h->name, st->label, (int)key->len - 1,
		               (const char *)key->data + 1, (long long)omo_be64_get(val->data));
	return 0;
}

omo_err omo_stat_add(omo_ctx *ctx, unsigned stat, const char *value, int64_t delta)
{
	omo_core *c = ctx->core;
	uint8_t key[1 + STAT_VALUE_MAX], now[8];
	size_t n = strlen(value);
	omo_val v;
	/* Label values are names of ours (states, nodes); anything else is a bug. */
	if (stat >= c->h->n_stats || n == 0 || n > STAT_VALUE_MAX ||
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-") !=
	        n)
		return OMO_E_INTERNAL;
	key[0] = (uint8_t)stat;
	memcpy(key + 1, value, n);
	int64_t total = delta;
	if (omo_get(ctx->txn, c->base + T_STATS, key, 1 + n, &v) == OMO_E_OK && v.len == 8)
		total += (int64_t)omo_be64_get(v.data);
	omo_be64_put(now, (uint64_t)total);
	return omo_put(ctx->txn, c->base + T_STATS, key, 1 + n, now, 8);
}

static void metric_head(omo_buf *out, const char *name, const char *type, const char *help)
{
	omo_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram(omo_buf *out, const char *name, const char *labels, const uint64_t *le,
                      uint64_t count, double sum)
{
	for (int i = 0; i < N_BOUNDS; i++)
		omo_buf_printf(out, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, bounds[i],
		               (unsigned long long)le[i]);
	omo_buf_printf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
	               (unsigned long long)count);
	omo_buf_printf(out, "%s_sum{%s} %.6f\n", name, labels, sum);
	omo_buf_printf(out, "%s_count{%s} %llu\n", name, labels, (unsigned long long)count);
}

void omo_core_metrics(omo_core *c, omo_buf *out)
{
	const char *svc = c->h->name;
	metric_head(out, "omo_requests_total", "counter", "Requests received, by message type.");
	for (int t = 0; t <= OMO_MSG_COUNT; t++)
		if (c->stats.requests[t] > 0)
			omo_buf_printf(
			    out, "omo_requests_total{service=\"%s\",type=\"%s\"} %llu\n", svc,
			    t < OMO_MSG_COUNT ? omo_msg_name((omo_msg_type)t) : "undecodable",
			    (unsigned long long)c->stats.requests[t]);
	metric_head(out, "omo_request_errors_total", "counter", "Error replies, by error code.");
	for (int e = 0; e < OMO_E_COUNT; e++)
		if (c->stats.errors[e] > 0)
			omo_buf_printf(
			    out, "omo_request_errors_total{service=\"%s\",code=\"%s\"} %llu\n", svc,
			    omo_err_name((omo_err)e), (unsigned long long)c->stats.errors[e]);
	static const struct {
		const char *name, *help;
		size_t offset;
	} counters[] = {
	    {"omo_events_applied_total", "Events applied, each once.",
	     offsetof(omo_core, stats.applied)},
	    {"omo_events_duplicate_total", "Events received again and ignored.",
	     offsetof(omo_core, stats.duplicates)},
	    {"omo_event_gaps_total", "Times a gap in a producer's stream was found.",
	     offsetof(omo_core, stats.gaps)},
	    {"omo_events_invalid_total", "Undecodable events ignored.",
	     offsetof(omo_core, stats.invalid)},
	    {"omo_events_published_total", "Events this service published.",
	     offsetof(omo_core, stats.published)},
	};
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		metric_head(out, counters[i].name, "counter", counters[i].help);
		omo_buf_printf(out, "%s{service=\"%s\"} %llu\n", counters[i].name, svc,
		               *(const unsigned long long *)((const char *)c + counters[i].offset));
	}
	metric_head(out, "omo_commit_seconds", "histogram",
	            "Time to commit a batch (one durable write for all of it).");
	char labels[160];
	snprintf(labels, sizeof(labels), "service=\"%s\"", svc);
	histogram(out, "omo_commit_seconds", labels, c->stats.commit_le, c->stats.batches,
	          c->stats.commit_seconds);
	metric_head(out, "omo_request_seconds", "histogram",
	            "Time from a request's receipt to its durable answer, by message type.");
	for (int t = 0; t < OMO_MSG_COUNT; t++)
		if (c->stats.latency_n[t] > 0) {
			snprintf(labels, sizeof(labels), "service=\"%s\",type=\"%s\"", svc,
			         omo_msg_name((omo_msg_type)t));
			histogram(out, "omo_request_seconds", labels, c->stats.latency_le[t],
			          c->stats.latency_n[t], c->stats.latency_seconds[t]);
		}
	metric_head(out, "omo_outbox_seq", "gauge", "Last event sequence this service committed.");
	omo_buf_printf(out, "omo_outbox_seq{service=\"%s\"} %llu\n", svc,
	               (unsigned long long)c->committed_seq);
	metric_head(out, "omo_inbox_seq", "gauge", "Last sequence applied, per followed producer.");
	render r = {c, out, "omo_inbox_seq", 0};
	omo_scan(c->batch, c->base + T_INBOX, NULL, 0, NULL, 0, render_inbox, &r);
	metric_head(out, "omo_inbox_lag", "gauge",
	            "Events a followed producer announced that are not applied here yet.");
	r = (render){c, out, "omo_inbox_lag", 1};
	omo_scan(c->batch, c->base + T_INBOX, NULL, 0, NULL, 0, render_inbox, &r);
	metric_head(out, "omo_inbox_beyond_retention", "gauge",
	            "1 if a followed producer no longer holds the events this service misses.");
	for (int i = 0; i < MAX_PRODUCERS; i++)
		if (c->heard[i].producer[0] != '\0')
			omo_buf_printf(
			    out, "omo_inbox_beyond_retention{service=\"%s\",producer=\"%s\"} %d\n",
			    svc, c->heard[i].producer, c->heard[i].beyond_retention);
	for (unsigned i = 0; i < c->h->n_stats; i++) {
		const omo_stat_def *st = &c->h->stats[i];
		char name[96];
		uint8_t prefix = (uint8_t)i;
		snprintf(name, sizeof(name), "omo_%s", st->name);
		metric_head(out, name, st->type, st->help);
		r = (render){c, out, name, (int)i};
		omo_scan(c->batch, c->base + T_STATS, &prefix, 1, NULL, 0, render_stat, &r);
	}
	metric_head(out, "omo_store_bytes", "gauge", "Bytes of the LMDB map in use.");
	omo_buf_printf(out, "omo_store_bytes{service=\"%s\"} %zu\n", svc,
	               omo_store_used_bytes(c->store));
}
