/*
 * test_core.c - a service's functional core (services/runtime/core.h),
 * driven in process: replies, stored replies for repeated requests, nested
 * transactions per request, the outbox and what is published, FETCH_EVENTS,
 * and a second core applying the first one's events exactly once, in order.
 *
 * The service under test is a tiny one defined here: SUBMIT_ORDER stores the
 * order's key, emits ORDER_ACCEPTED and answers SUBMIT_ORDER_REPLY, or fails
 * with OUT_OF_STOCK when a line asks for more than 50 units (after it has
 * written and emitted, so a leak would show). STOCK_QUERY answers an ACK
 * whose detail counts the stored orders and the events applied.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "testkit.h"

#define MiB      (1024u * 1024u)
#define NOW      1700000000000000
#define MAX_SEEN 64

/* ====================================================================== */
/* the service under test                                                 */

enum { T_THINGS, T_COUNTS };
static const char *const svc_tables[] = {"things", "counts"};

typedef struct app {
	int requests;            /* on_request calls */
	int events;              /* on_event calls */
	uint64_t seen[MAX_SEEN]; /* seq of each event applied, in order */
	char producer[OMO_PRODUCER_MAX + 1];
} app;

static int count_cb(void *arg, const omo_val *key, const omo_val *val)
{
	(void)key;
	(void)val;
	(*(int *)arg)++;
	return 0;
}

static omo_err svc_submit(omo_ctx *ctx, const omo_submit_order *so, omo_msg *reply,
                          omo_error_detail *d)
{
	omo_uuid order_id;
	omo_msg ev;
	omo_err e;

	omo_uuid_generate(&order_id);
	e = omo_put(ctx->txn, T_THINGS, so->idempotency_key, strlen(so->idempotency_key),
	            order_id.b, 16);
	if (e != OMO_E_OK)
		return omo_fail(d, e, "cannot store");
	omo_msg_init(&ev, OMO_MSG_ORDER_ACCEPTED);
	ev.corr = order_id;
	ev.body.order_accepted.order_id = order_id;
	ev.body.order_accepted.channel = so->channel;
	ev.body.order_accepted.fulfillment = so->fulfillment;
	ev.body.order_accepted.lines = so->lines;
	ev.body.order_accepted.lines_count = so->lines_count;
	if ((e = omo_emit(ctx, &ev)) != OMO_E_OK)
		return omo_fail(d, e, "cannot emit");
	for (uint32_t i = 0; i < so->lines_count; i++)
		if (so->lines[i].quantity > 50)
			return omo_fail(d, OMO_E_OUT_OF_STOCK, "lines[%u]: only 50 left", i);
	omo_msg_init(reply, OMO_MSG_SUBMIT_ORDER_REPLY);
	reply->body.submit_order_reply.order_id = order_id;
	reply->body.submit_order_reply.status = OMO_ORDER_ACCEPTED;
	reply->body.submit_order_reply.accepted_us = ctx->now_us;
	if (strcmp(so->idempotency_key, "bad-reply") == 0)
		reply->body.submit_order_reply.accepted_us = -1; /* a reply the schema refuses */
	return OMO_E_OK;
}

static omo_err svc_request(omo_ctx *ctx, const omo_msg *req, omo_msg *reply, omo_error_detail *d)
{
	app *a = ctx->app;
	a->requests++;
	switch (req->type) {
	case OMO_MSG_SUBMIT_ORDER: return svc_submit(ctx, &req->body.submit_order, reply, d);
	case OMO_MSG_STOCK_QUERY: {
		int things = 0;
		uint64_t applied = 0;
		omo_val v;
		/* "" rather than NULL: test_store checks the NULL prefix on its own */
		omo_err e = omo_scan(ctx->txn, T_THINGS, "", 0, NULL, 0, count_cb, &things);
		if (e != OMO_E_OK)
			return omo_fail(d, e, "scan");
		if (omo_get(ctx->txn, T_COUNTS, "applied", 7, &v) == OMO_E_OK && v.len == 8)
			applied = omo_be64_get(v.data);
		omo_msg_init(reply, OMO_MSG_ACK);
		snprintf(reply->body.ack.detail, sizeof(reply->body.ack.detail),
		         "things=%d applied=%llu", things, (unsigned long long)applied);
		return OMO_E_OK;
	}
	default: return omo_fail(d, OMO_E_UNKNOWN_TYPE, "not for this service");
	}
}

static omo_err svc_event(omo_ctx *ctx, const omo_msg *ev, omo_error_detail *d)
{
	app *a = ctx->app;
	omo_val v;
	uint8_t b[8];
	uint64_t n = 0;
	if (omo_get(ctx->txn, T_COUNTS, "applied", 7, &v) == OMO_E_OK && v.len == 8)
		n = omo_be64_get(v.data);
	omo_be64_put(b, n + 1);
	omo_err e = omo_put(ctx->txn, T_COUNTS, "applied", 7, b, 8);
	if (e != OMO_E_OK)
		return omo_fail(d, e, "cannot count");
	if (a->events < MAX_SEEN)
		a->seen[a->events] = ev->seq;
	a->events++;
	snprintf(a->producer, sizeof(a->producer), "%s", ev->producer);
	return OMO_E_OK;
}

static const omo_handlers shop = {
    .name = "shop",
    .tables = svc_tables,
    .n_tables = 2,
    .on_request = svc_request,
    .on_event = svc_event,
};

static const omo_handlers ledger = {
    .name = "ledger",
    .tables = svc_tables,
    .n_tables = 2,
    .on_request = svc_request,
    .on_event = svc_event,
};

/* ====================================================================== */
/* fixture                                                                */

typedef struct fx {
	char root[64];
	char pdir[128], cdir[128];
	omo_core *prod, *cons;
	app pa, ca;
	int64_t now;
} fx;

static omo_core *open_core(fx *f, const omo_handlers *h, app *a, const char *dir)
{
	omo_core *c = NULL;
	omo_error_detail d = {0};
	omo_err e = omo_core_open(&c, h, a, dir, 16 * MiB, true, &d);
	if (e != OMO_E_OK)
		fail_msg("open %s: %s %s", dir, omo_err_name(e), d.text);
	omo_core_set_clock(c, tk_clock, &f->now);
	return c;
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	omo_log_init("test_core", "error");
	if (tk_mkdtemp(f->root, sizeof(f->root), "core") == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->pdir, sizeof(f->pdir), "%s/shop", f->root);
	snprintf(f->cdir, sizeof(f->cdir), "%s/ledger", f->root);
	f->now = NOW;
	f->prod = open_core(f, &shop, &f->pa, f->pdir);
	f->cons = open_core(f, &ledger, &f->ca, f->cdir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	omo_core_close(f->prod);
	omo_core_close(f->cons);
	tk_rm_rf(f->root);
	free(f);
	return 0;
}

/* ====================================================================== */
/* helpers                                                                */

static omo_order_line two_lines[2];

/* submit encodes a SUBMIT_ORDER for key whose second line asks for qty units. */
static omo_buf submit(const char *key, int64_t qty, omo_uuid *id)
{
	omo_msg m;
	two_lines[0] = (omo_order_line){.line_no = 1, .sku = "SKU-0001", .quantity = 1};
	two_lines[1] = (omo_order_line){.line_no = 2, .sku = "SKU-0002", .quantity = qty};
	omo_msg_init(&m, OMO_MSG_SUBMIT_ORDER);
	omo_uuid_generate(&m.id);
	snprintf(m.body.submit_order.idempotency_key, sizeof(m.body.submit_order.idempotency_key),
	         "%s", key);
	m.body.submit_order.channel = OMO_CHANNEL_MOBILE;
	m.body.submit_order.fulfillment = OMO_SHIP_TO_HOME;
	m.body.submit_order.lines = two_lines;
	m.body.submit_order.lines_count = 2;
	omo_buf b = tk_encode(&m);
	if (id != NULL)
		*id = m.id;
	return b;
}

/* call runs one request (inside the open batch) and decodes its reply into r. */
static omo_buf call(omo_core *c, const omo_buf *req, omo_msg *r)
{
	omo_buf out = {0};
	omo_error_detail d = {0};
	omo_core_request(c, req->data, req->len, &out);
	assert_true(out.len > 0);
	if (r != NULL && omo_msg_decode(out.data, out.len, r, &d) != OMO_E_OK)
		fail_msg("reply does not decode: %s", d.text);
	return out;
}

static void begin(omo_core *c)
{
	assert_int_equal(omo_core_begin(c), OMO_E_OK);
}

static void commit(omo_core *c)
{
	assert_int_equal(omo_core_commit(c), OMO_E_OK);
}

/* counts asks the service, in a batch of its own, what it holds. */
static void assert_counts(omo_core *c, int things, int applied)
{
	omo_msg q, r;
	char want[64];
	omo_msg_init(&q, OMO_MSG_STOCK_QUERY);
	omo_uuid_generate(&q.id);
	omo_buf qb = tk_encode(&q);
	begin(c);
	omo_buf out = call(c, &qb, &r);
	commit(c);
	assert_int_equal(r.type, OMO_MSG_ACK);
	snprintf(want, sizeof(want), "things=%d applied=%d", things, applied);
	assert_string_equal(r.body.ack.detail, want);
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&qb);
}

static void assert_error_reply(const omo_msg *r, const char *code, const omo_uuid *corr)
{
	if (r->type != OMO_MSG_ERROR)
		fail_msg("got a %s reply, want an error %s", omo_msg_name(r->type), code);
	assert_string_equal(r->body.error.code, code);
	if (corr != NULL)
		assert_memory_equal(r->corr.b, corr->b, 16);
}

/* published copies the last batch's events out (they live until the next begin). */
typedef struct evs {
	omo_buf b[16];
	size_t n;
} evs;

static size_t n_published(omo_core *c)
{
	const omo_buf *p;
	return omo_core_published(c, &p);
}

static evs published(omo_core *c)
{
	evs e = {0};
	const omo_buf *p;
	e.n = omo_core_published(c, &p);
	assert_true(e.n <= 16);
	for (size_t i = 0; i < e.n; i++)
		assert_int_equal(omo_buf_append(&e.b[i], p[i].data, p[i].len), 0);
	return e;
}

static void evs_fini(evs *e)
{
	for (size_t i = 0; i < 16; i++)
		omo_buf_fini(&e->b[i]);
	e->n = 0;
}

static omo_msg decode_ev(const omo_buf *b)
{
	omo_msg m;
	omo_error_detail d = {0};
	if (omo_msg_decode(b->data, b->len, &m, &d) != OMO_E_OK)
		fail_msg("event does not decode: %s", d.text);
	return m;
}

/* produce commits n accepted orders in one batch of the producer and returns its events. */
static evs produce(fx *f, int n)
{
	static int serial;
	begin(f->prod);
	for (int i = 0; i < n; i++) {
		char key[32];
		snprintf(key, sizeof(key), "produce-%d", ++serial);
		omo_buf req = submit(key, 1, NULL);
		omo_buf out = call(f->prod, &req, NULL);
		omo_buf_fini(&out);
		omo_buf_fini(&req);
	}
	commit(f->prod);
	evs e = published(f->prod);
	assert_int_equal(e.n, (size_t)n);
	return e;
}

static omo_applied apply(omo_core *c, const omo_buf *ev, omo_gap *gap)
{
	omo_gap g;
	memset(&g, 0xee, sizeof(g));
	omo_applied a = omo_core_event(c, ev->data, ev->len, gap ? gap : &g);
	return a;
}

static uint64_t epoch_of(omo_core *c)
{
	uint64_t epoch, seq;
	omo_core_latest(c, &epoch, &seq);
	return epoch;
}

static uint64_t seq_of(omo_core *c)
{
	uint64_t epoch, seq;
	omo_core_latest(c, &epoch, &seq);
	return seq;
}

/* ====================================================================== */
/* requests                                                               */

static void test_request_gets_reply(void **state)
{
	fx *f = *state;
	omo_uuid id;
	omo_msg r;
	omo_buf req = submit("k1", 2, &id);

	assert_string_equal(omo_core_name(f->prod), "shop");
	assert_true(omo_core_now(f->prod) == NOW);
	begin(f->prod);
	omo_buf out = call(f->prod, &req, &r);
	commit(f->prod);

	assert_int_equal(r.type, OMO_MSG_SUBMIT_ORDER_REPLY);
	assert_memory_equal(r.corr.b, id.b, 16);
	assert_false(omo_uuid_is_nil(&r.id));
	assert_memory_not_equal(r.id.b, id.b, 16);
	assert_true(r.ts_us == NOW);
	assert_int_equal(r.body.submit_order_reply.status, OMO_ORDER_ACCEPTED);
	assert_true(r.body.submit_order_reply.accepted_us == NOW);
	assert_false(omo_uuid_is_nil(&r.body.submit_order_reply.order_id));
	assert_int_equal(f->pa.requests, 1);
	assert_counts(f->prod, 1, 0);
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);
}

static void test_repeated_request_gets_same_reply(void **state)
{
	fx *f = *state;
	omo_buf req = submit("k1", 2, NULL);

	begin(f->prod);
	omo_buf first = call(f->prod, &req, NULL);
	commit(f->prod);
	assert_int_equal(n_published(f->prod), 1);

	f->now += 5000000; /* a later retry */
	begin(f->prod);
	omo_buf again = call(f->prod, &req, NULL);
	omo_buf third = call(f->prod, &req, NULL); /* and within one batch */
	commit(f->prod);
	assert_int_equal(n_published(f->prod), 0);

	assert_int_equal(again.len, first.len);
	assert_memory_equal(again.data, first.data, first.len);
	assert_int_equal(third.len, first.len);
	assert_memory_equal(third.data, first.data, first.len);
	assert_int_equal(f->pa.requests, 1);
	assert_true(seq_of(f->prod) == 1);
	assert_counts(f->prod, 1, 0);

	/* The stored reply outlives a restart. */
	omo_core_close(f->prod);
	f->prod = open_core(f, &shop, &f->pa, f->pdir);
	begin(f->prod);
	omo_buf after = call(f->prod, &req, NULL);
	commit(f->prod);
	assert_int_equal(after.len, first.len);
	assert_memory_equal(after.data, first.data, first.len);
	assert_int_equal(f->pa.requests, 2); /* only the count query ran */

	omo_buf_fini(&after);
	omo_buf_fini(&third);
	omo_buf_fini(&again);
	omo_buf_fini(&first);
	omo_buf_fini(&req);
}

static void test_repeat_in_same_batch_applies_once(void **state)
{
	fx *f = *state;
	omo_buf req = submit("k-same", 2, NULL);
	begin(f->prod);
	omo_buf a = call(f->prod, &req, NULL);
	omo_buf b = call(f->prod, &req, NULL);
	commit(f->prod);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_int_equal(f->pa.requests, 1);
	evs e = published(f->prod);
	assert_int_equal(e.n, 1);
	evs_fini(&e);
	omo_buf_fini(&a);
	omo_buf_fini(&b);
	omo_buf_fini(&req);
}

static void test_failed_request_in_batch_leaves_no_trace(void **state)
{
	fx *f = *state;
	omo_uuid ida, idb, idc;
	omo_msg ra, rb, rc;
	omo_buf qa = submit("A", 1, &ida), qb = submit("B", 60, &idb), qc = submit("C", 50, &idc);

	begin(f->prod);
	omo_buf oa = call(f->prod, &qa, &ra);
	omo_buf ob = call(f->prod, &qb, &rb);
	omo_buf oc = call(f->prod, &qc, &rc);
	commit(f->prod);

	assert_int_equal(ra.type, OMO_MSG_SUBMIT_ORDER_REPLY);
	assert_error_reply(&rb, "OUT_OF_STOCK", &idb);
	assert_string_equal(rb.body.error.message, "lines[1]: only 50 left");
	assert_int_equal(rc.type, OMO_MSG_SUBMIT_ORDER_REPLY);
	assert_int_equal(f->pa.requests, 3);

	/* B's emitted event is gone: A's and C's are seq 1 and 2. */
	evs e = published(f->prod);
	assert_int_equal(e.n, 2);
	omo_msg e1 = decode_ev(&e.b[0]), e2 = decode_ev(&e.b[1]);
	assert_true(e1.seq == 1);
	assert_true(e2.seq == 2);
	assert_memory_equal(e1.body.order_accepted.order_id.b,
	                    ra.body.submit_order_reply.order_id.b, 16);
	assert_memory_equal(e2.body.order_accepted.order_id.b,
	                    rc.body.submit_order_reply.order_id.b, 16);
	assert_true(seq_of(f->prod) == 2);
	/* B's stored row is gone too. */
	assert_counts(f->prod, 2, 0);

	/* An error is not stored: a retry of B runs again (OUT_OF_STOCK is retryable). */
	omo_msg rb2;
	begin(f->prod);
	omo_buf ob2 = call(f->prod, &qb, &rb2);
	commit(f->prod);
	assert_error_reply(&rb2, "OUT_OF_STOCK", &idb);
	assert_int_equal(f->pa.requests, 5);
	assert_int_equal(n_published(f->prod), 0);

	omo_msg_fini(&e1);
	omo_msg_fini(&e2);
	omo_msg_fini(&ra);
	omo_msg_fini(&rb);
	omo_msg_fini(&rb2);
	omo_msg_fini(&rc);
	evs_fini(&e);
	omo_buf_fini(&oa);
	omo_buf_fini(&ob);
	omo_buf_fini(&ob2);
	omo_buf_fini(&oc);
	omo_buf_fini(&qa);
	omo_buf_fini(&qb);
	omo_buf_fini(&qc);
}

static void test_published_events_are_contiguous(void **state)
{
	fx *f = *state;
	uint64_t epoch = epoch_of(f->prod);
	assert_true(epoch != 0);
	assert_true(epoch <= (uint64_t)INT64_MAX);
	assert_true(seq_of(f->prod) == 0);

	/* Nothing is published while the batch is open. */
	begin(f->prod);
	omo_buf req = submit("open", 1, NULL);
	omo_buf out = call(f->prod, &req, NULL);
	assert_int_equal(n_published(f->prod), 0);
	assert_true(seq_of(f->prod) == 0);
	commit(f->prod);
	omo_buf_fini(&out);
	omo_buf_fini(&req);

	evs b1 = published(f->prod);
	evs b2 = produce(f, 3);
	evs b3 = produce(f, 2);
	assert_int_equal(b1.n, 1);
	uint64_t want = 1;
	evs *all[] = {&b1, &b2, &b3};
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; i < all[k]->n; i++, want++) {
			omo_msg m = decode_ev(&all[k]->b[i]);
			assert_int_equal(m.type, OMO_MSG_ORDER_ACCEPTED);
			assert_true(m.seq == want);
			assert_true(m.epoch == epoch);
			assert_string_equal(m.producer, "shop");
			assert_true(m.ts_us == NOW);
			assert_false(omo_uuid_is_nil(&m.id));
			assert_memory_equal(m.corr.b, m.body.order_accepted.order_id.b, 16);
			omo_msg_fini(&m);
		}
	assert_true(seq_of(f->prod) == 6);
	assert_true(epoch_of(f->prod) == epoch);
	evs_fini(&b1);
	evs_fini(&b2);
	evs_fini(&b3);
}

static void test_abort_publishes_nothing(void **state)
{
	fx *f = *state;
	evs e = produce(f, 1);
	evs_fini(&e);

	omo_buf req = submit("aborted", 1, NULL);
	begin(f->prod);
	omo_buf first = call(f->prod, &req, NULL);
	omo_core_abort(f->prod);
	assert_int_equal(n_published(f->prod), 0);
	assert_true(seq_of(f->prod) == 1);
	assert_counts(f->prod, 1, 0);
	int before = f->pa.requests;

	/* The aborted request left no stored reply: it runs again, and its event takes seq 2. */
	begin(f->prod);
	omo_buf second = call(f->prod, &req, NULL);
	commit(f->prod);
	assert_int_equal(f->pa.requests, before + 1);
	e = published(f->prod);
	assert_int_equal(e.n, 1);
	omo_msg m = decode_ev(&e.b[0]);
	assert_true(m.seq == 2);
	omo_msg_fini(&m);
	evs_fini(&e);
	omo_core_abort(f->prod); /* no batch open: nothing to do */
	assert_true(seq_of(f->prod) == 2);
	omo_buf_fini(&first);
	omo_buf_fini(&second);
	omo_buf_fini(&req);
}

static void test_unknown_type_request(void **state)
{
	fx *f = *state;
	omo_msg ev, r;
	omo_order_line line = {.line_no = 1, .sku = "S", .quantity = 1};

	omo_msg_init(&ev, OMO_MSG_ORDER_ACCEPTED); /* an event is no request */
	omo_uuid_generate(&ev.id);
	ev.body.order_accepted.lines = &line;
	ev.body.order_accepted.lines_count = 1;
	omo_buf req = tk_encode(&ev);
	begin(f->prod);
	omo_buf out = call(f->prod, &req, &r);
	assert_error_reply(&r, "UNKNOWN_TYPE", &ev.id);
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);

	omo_msg_init(&ev, OMO_MSG_ACK); /* nor is a reply */
	omo_uuid_generate(&ev.id);
	req = tk_encode(&ev);
	out = call(f->prod, &req, &r);
	assert_error_reply(&r, "UNKNOWN_TYPE", &ev.id);
	commit(f->prod);
	assert_int_equal(f->pa.requests, 0);
	assert_int_equal(n_published(f->prod), 0);
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);
}

static void test_malformed_request(void **state)
{
	fx *f = *state;
	omo_msg r;
	omo_buf junk = {0};
	assert_int_equal(omo_buf_append(&junk, "\xc1", 1), 0);

	begin(f->prod);
	omo_buf out = call(f->prod, &junk, &r);
	assert_error_reply(&r, "MALFORMED", NULL);
	assert_true(omo_uuid_is_nil(&r.corr));
	omo_msg_fini(&r);
	omo_buf_fini(&out);

	/* A truncated request is malformed too. */
	omo_buf req = submit("cut", 1, NULL);
	req.len -= 3;
	out = call(f->prod, &req, &r);
	assert_error_reply(&r, "MALFORMED", NULL);
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);

	/* A refused request that got as far as its id is answered by it. */
	omo_uuid id;
	omo_msg m;
	omo_msg_init(&m, OMO_MSG_SUBMIT_ORDER);
	omo_uuid_generate(&m.id);
	id = m.id;
	strcpy(m.body.submit_order.idempotency_key, "v2");
	m.body.submit_order.lines = two_lines;
	m.body.submit_order.lines_count = 2;
	m.version = 2;
	req = tk_encode(&m);
	out = call(f->prod, &req, &r);
	assert_error_reply(&r, "BAD_VERSION", &id);
	commit(f->prod);
	assert_int_equal(f->pa.requests, 0);
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);
	omo_buf_fini(&junk);
}

/* core.h: "An error return aborts the request's effects"; an error reply says
 * "nothing was changed". A reply the schema refuses turns into INTERNAL, so
 * the request's effects must go too. */
static void test_invalid_reply_changes_nothing(void **state)
{
	fx *f = *state;
	omo_msg r;
	omo_buf req = submit("bad-reply", 1, NULL);
	begin(f->prod);
	omo_buf out = call(f->prod, &req, &r);
	commit(f->prod);
	assert_error_reply(&r, "INTERNAL", NULL);
	size_t n = n_published(f->prod);
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);
	if (n != 0 || seq_of(f->prod) != 0)
		fail_msg(
		    "the reply was replaced by INTERNAL, yet the request's event was published "
		    "(%zu events, latest seq %llu)",
		    n, (unsigned long long)seq_of(f->prod));
	assert_counts(f->prod, 0, 0);
}

/* ====================================================================== */
/* the outbox                                                             */

static omo_buf fetch(uint64_t epoch, int64_t from, int64_t max)
{
	omo_msg m;
	omo_msg_init(&m, OMO_MSG_FETCH_EVENTS);
	omo_uuid_generate(&m.id);
	m.body.fetch_events.epoch = (int64_t)epoch;
	m.body.fetch_events.from_seq = from;
	m.body.fetch_events.max = max;
	return tk_encode(&m);
}

static void test_fetch_events(void **state)
{
	fx *f = *state;
	evs e = produce(f, 3);
	uint64_t epoch = epoch_of(f->prod);
	int requests = f->pa.requests;
	omo_msg r;

	begin(f->prod);
	omo_buf req = fetch(epoch, 2, 10);
	omo_buf out = call(f->prod, &req, &r);
	if (r.type != OMO_MSG_EVENTS) {
		char why[600];
		snprintf(why, sizeof(why), "FETCH_EVENTS answered %s %s: %s", omo_msg_name(r.type),
		         r.type == OMO_MSG_ERROR ? r.body.error.code : "",
		         r.type == OMO_MSG_ERROR ? r.body.error.message : "");
		omo_msg_fini(&r);
		omo_buf_fini(&out);
		omo_buf_fini(&req);
		evs_fini(&e);
		omo_core_abort(f->prod);
		fail_msg("%s", why);
	}
	assert_true(r.body.events.epoch == (int64_t)epoch);
	assert_true(r.body.events.latest_seq == 3);
	assert_int_equal(r.body.events.events_count, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(r.body.events.events[i].bytes_len, e.b[i + 1].len);
		assert_memory_equal(r.body.events.events[i].bytes, e.b[i + 1].data, e.b[i + 1].len);
	}
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);

	req = fetch(epoch, 1, 1); /* at most max */
	out = call(f->prod, &req, &r);
	assert_int_equal(r.type, OMO_MSG_EVENTS);
	assert_int_equal(r.body.events.events_count, 1);
	assert_memory_equal(r.body.events.events[0].bytes, e.b[0].data, e.b[0].len);
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);

	req = fetch(0, 3, 10); /* epoch 0: whatever the producer's is */
	out = call(f->prod, &req, &r);
	assert_int_equal(r.type, OMO_MSG_EVENTS);
	assert_int_equal(r.body.events.events_count, 1);
	assert_memory_equal(r.body.events.events[0].bytes, e.b[2].data, e.b[2].len);
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);

	req = fetch(epoch, 4, 10); /* nothing new */
	out = call(f->prod, &req, &r);
	assert_int_equal(r.type, OMO_MSG_EVENTS);
	assert_int_equal(r.body.events.events_count, 0);
	assert_true(r.body.events.latest_seq == 3);
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);

	req = fetch(epoch ^ 1, 1, 10); /* another history: none of it here */
	out = call(f->prod, &req, &r);
	assert_int_equal(r.type, OMO_MSG_EVENTS);
	assert_int_equal(r.body.events.events_count, 0);
	assert_true(r.body.events.epoch == (int64_t)epoch);
	commit(f->prod);
	assert_int_equal(f->pa.requests, requests); /* served by the core, not the handler */
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);
	evs_fini(&e);
}

static void test_epoch_persists_and_seq_continues(void **state)
{
	fx *f = *state;
	uint64_t epoch = epoch_of(f->prod);
	evs e = produce(f, 2);
	evs_fini(&e);
	omo_core_close(f->prod);

	f->prod = open_core(f, &shop, &f->pa, f->pdir);
	assert_true(epoch_of(f->prod) == epoch);
	assert_true(seq_of(f->prod) == 2);
	e = produce(f, 1);
	omo_msg m = decode_ev(&e.b[0]);
	assert_true(m.seq == 3);
	assert_true(m.epoch == epoch);
	omo_msg_fini(&m);
	evs_fini(&e);

	/* The heartbeat says the same. */
	omo_buf hb = {0};
	assert_int_equal(omo_core_heartbeat_msg(f->prod, &hb), OMO_E_OK);
	m = decode_ev(&hb);
	assert_int_equal(m.type, OMO_MSG_HEARTBEAT);
	assert_true(m.epoch == epoch);
	assert_true(m.seq == 0);
	assert_string_equal(m.producer, "shop");
	assert_true(m.body.heartbeat.latest_seq == 3);
	omo_msg_fini(&m);
	omo_buf_fini(&hb);

	/* A store made afresh is another history. */
	char dir[160];
	app other = {0};
	snprintf(dir, sizeof(dir), "%s/fresh", f->root);
	omo_core *c = open_core(f, &shop, &other, dir);
	assert_true(epoch_of(c) != epoch);
	assert_true(seq_of(c) == 0);
	omo_core_close(c);
}

/* ====================================================================== */
/* a consumer                                                             */

static void test_consumer_applies_once_in_order(void **state)
{
	fx *f = *state;
	evs e = produce(f, 3);
	uint64_t epoch = epoch_of(f->prod);
	omo_gap gap;

	begin(f->cons);
	assert_int_equal(apply(f->cons, &e.b[0], NULL), OMO_APPLIED);
	assert_int_equal(apply(f->cons, &e.b[0], NULL), OMO_DUPLICATE);

	memset(&gap, 0, sizeof(gap));
	assert_int_equal(apply(f->cons, &e.b[2], &gap), OMO_GAP);
	assert_string_equal(gap.producer, "shop");
	assert_true(gap.epoch == epoch);
	assert_true(gap.from_seq == 2);

	assert_int_equal(apply(f->cons, &e.b[1], NULL), OMO_APPLIED);
	assert_int_equal(apply(f->cons, &e.b[2], NULL), OMO_APPLIED);
	assert_int_equal(apply(f->cons, &e.b[1], NULL), OMO_DUPLICATE);
	commit(f->cons);

	assert_int_equal(f->ca.events, 3);
	assert_true(f->ca.seen[0] == 1 && f->ca.seen[1] == 2 && f->ca.seen[2] == 3);
	assert_string_equal(f->ca.producer, "shop");
	assert_counts(f->cons, 0, 3);
	/* A consumer publishes nothing of its own for applying events. */
	assert_true(seq_of(f->cons) == 0);

	/* Its inbox is durable: duplicates stay duplicates after a restart. */
	omo_core_close(f->cons);
	f->cons = open_core(f, &ledger, &f->ca, f->cdir);
	begin(f->cons);
	for (int i = 0; i < 3; i++)
		assert_int_equal(apply(f->cons, &e.b[i], NULL), OMO_DUPLICATE);
	commit(f->cons);
	assert_int_equal(f->ca.events, 3);
	evs_fini(&e);
}

static void test_consumer_gap_reports_resume_point(void **state)
{
	fx *f = *state;
	evs e = produce(f, 5);
	omo_gap gap;

	begin(f->cons);
	assert_int_equal(apply(f->cons, &e.b[0], NULL), OMO_APPLIED);
	assert_int_equal(apply(f->cons, &e.b[1], NULL), OMO_APPLIED);
	memset(&gap, 0, sizeof(gap));
	assert_int_equal(apply(f->cons, &e.b[4], &gap), OMO_GAP); /* seq 5 after 2 */
	assert_string_equal(gap.producer, "shop");
	assert_true(gap.epoch == epoch_of(f->prod));
	assert_true(gap.from_seq == 3);
	commit(f->cons);
	assert_int_equal(f->ca.events, 2);

	/* From the very start: a first event that is not seq 1 is a gap from 1. */
	evs_fini(&e);
	omo_core_close(f->cons);
	tk_rm_rf(f->cdir);
	memset(&f->ca, 0, sizeof(f->ca));
	f->cons = open_core(f, &ledger, &f->ca, f->cdir);
	e = produce(f, 1); /* seq 6 */
	begin(f->cons);
	memset(&gap, 0, sizeof(gap));
	assert_int_equal(apply(f->cons, &e.b[0], &gap), OMO_GAP);
	assert_true(gap.from_seq == 1);
	commit(f->cons);
	assert_int_equal(f->ca.events, 0);
	evs_fini(&e);
}

static void test_consumer_abort_forgets_applied(void **state)
{
	fx *f = *state;
	evs e = produce(f, 2);

	begin(f->cons);
	assert_int_equal(apply(f->cons, &e.b[0], NULL), OMO_APPLIED);
	commit(f->cons);
	begin(f->cons);
	assert_int_equal(apply(f->cons, &e.b[1], NULL), OMO_APPLIED);
	omo_core_abort(f->cons);

	begin(f->cons);
	assert_int_equal(apply(f->cons, &e.b[1], NULL), OMO_APPLIED); /* not a duplicate */
	commit(f->cons);
	assert_counts(f->cons, 0, 2);
	evs_fini(&e);
}

static void test_heartbeat_reveals_missed_events(void **state)
{
	fx *f = *state;
	omo_buf hb = {0};
	omo_gap gap;

	/* A producer with nothing published: its heartbeat is no news. */
	assert_int_equal(omo_core_heartbeat_msg(f->prod, &hb), OMO_E_OK);
	begin(f->cons);
	assert_int_equal(apply(f->cons, &hb, NULL), OMO_DUPLICATE);
	commit(f->cons);
	omo_buf_fini(&hb);

	evs e = produce(f, 2);
	begin(f->cons);
	assert_int_equal(apply(f->cons, &e.b[0], NULL), OMO_APPLIED);
	assert_int_equal(omo_core_heartbeat_msg(f->prod, &hb), OMO_E_OK);
	memset(&gap, 0, sizeof(gap));
	assert_int_equal(apply(f->cons, &hb, &gap), OMO_GAP);
	assert_string_equal(gap.producer, "shop");
	assert_true(gap.epoch == epoch_of(f->prod));
	assert_true(gap.from_seq == 2);
	assert_int_equal(apply(f->cons, &e.b[1], NULL), OMO_APPLIED);
	assert_int_equal(apply(f->cons, &hb, NULL), OMO_DUPLICATE);
	commit(f->cons);
	assert_int_equal(f->ca.events, 2); /* a heartbeat is never applied */
	omo_buf_fini(&hb);
	evs_fini(&e);
}

static void test_new_epoch_is_followed_from_its_start(void **state)
{
	fx *f = *state;
	evs e = produce(f, 2);
	begin(f->cons);
	assert_int_equal(apply(f->cons, &e.b[0], NULL), OMO_APPLIED);
	assert_int_equal(apply(f->cons, &e.b[1], NULL), OMO_APPLIED);
	commit(f->cons);
	evs_fini(&e);

	/* The producer lost its store and starts a new history. */
	omo_core_close(f->prod);
	tk_rm_rf(f->pdir);
	f->prod = open_core(f, &shop, &f->pa, f->pdir);
	e = produce(f, 2);
	omo_gap gap;
	begin(f->cons);
	memset(&gap, 0, sizeof(gap));
	assert_int_equal(apply(f->cons, &e.b[1], &gap), OMO_GAP);
	assert_true(gap.epoch == epoch_of(f->prod));
	assert_true(gap.from_seq == 1);
	assert_int_equal(apply(f->cons, &e.b[0], NULL), OMO_APPLIED);
	assert_int_equal(apply(f->cons, &e.b[1], NULL), OMO_APPLIED);
	commit(f->cons);
	assert_int_equal(f->ca.events, 4);
	evs_fini(&e);
}

static void test_invalid_events_are_ignored(void **state)
{
	fx *f = *state;
	omo_buf junk = {0};
	assert_int_equal(omo_buf_append(&junk, "\xc1", 1), 0);

	begin(f->cons);
	assert_int_equal(apply(f->cons, &junk, NULL), OMO_INVALID);
	/* A message without producer or seq is not an event of any stream. */
	omo_buf req = submit("not-an-event", 1, NULL);
	assert_int_equal(apply(f->cons, &req, NULL), OMO_INVALID);
	omo_buf_fini(&req);
	omo_msg m;
	omo_order_line line = {.line_no = 1, .sku = "S", .quantity = 1};
	omo_msg_init(&m, OMO_MSG_ORDER_ACCEPTED);
	omo_uuid_generate(&m.id);
	strcpy(m.producer, "shop");
	m.epoch = 7;
	m.seq = 0;
	m.body.order_accepted.lines = &line;
	m.body.order_accepted.lines_count = 1;
	omo_buf b = tk_encode(&m);
	assert_int_equal(apply(f->cons, &b, NULL), OMO_INVALID);
	commit(f->cons);
	assert_int_equal(f->ca.events, 0);
	omo_buf_fini(&b);
	omo_buf_fini(&junk);
}

/* housekeeping runs the core's tick (pruning) in a batch of its own. */
static void housekeeping(omo_core *c)
{
	begin(c);
	omo_core_tick(c);
	commit(c);
}

static void test_outbox_keeps_only_retained_events(void **state)
{
	fx *f = *state;
	omo_core_set_limits(f->prod, &(omo_core_limits){.retain_events = 5,
	                                                .retain_replies_us = 1000000000,
	                                                .map_max_bytes = 1u << 30});
	for (int i = 0; i < 4; i++) {
		evs e = produce(f, 5);
		evs_fini(&e);
	}
	f->now += 2000000; /* housekeeping is due */
	housekeeping(f->prod);
	omo_msg r;
	begin(f->prod);
	omo_buf req = fetch(epoch_of(f->prod), 1, 100);
	omo_buf out = call(f->prod, &req, &r);
	commit(f->prod);
	/* 1..15 are gone: a follower that far behind hears so (no events, latest 20). */
	assert_int_equal(r.type, OMO_MSG_EVENTS);
	assert_int_equal(r.body.events.events_count, 0);
	assert_true(r.body.events.latest_seq == 20);
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);
	begin(f->prod);
	req = fetch(epoch_of(f->prod), 16, 100);
	out = call(f->prod, &req, &r);
	commit(f->prod);
	assert_int_equal(r.body.events.events_count, 5);
	omo_msg_fini(&r);
	omo_buf_fini(&out);
	omo_buf_fini(&req);
	/* the sequence goes on from 20 after a restart, with the old events gone */
	omo_core_close(f->prod);
	f->prod = open_core(f, &shop, &f->pa, f->pdir);
	assert_true(seq_of(f->prod) == 20);
}

/* call_prod answers a consumer's request from the producer core, as a peer would. */
static omo_err call_prod(void *arg, const char *peer, const omo_msg *req, omo_msg *reply,
                         omo_error_detail *d)
{
	fx *f = arg;
	(void)peer;
	omo_buf in = tk_encode(req), out = {0};
	begin(f->prod);
	omo_core_request(f->prod, in.data, in.len, &out);
	commit(f->prod);
	omo_err e = omo_msg_decode(out.data, out.len, reply, d);
	omo_buf_fini(&in);
	omo_buf_fini(&out);
	return e;
}

static void test_consumer_beyond_retention_says_so(void **state)
{
	fx *f = *state;
	omo_core_set_limits(f->prod, &(omo_core_limits){.retain_events = 5,
	                                                .retain_replies_us = 1000000000,
	                                                .map_max_bytes = 1u << 30});
	omo_core_set_caller(f->cons, call_prod, f);
	evs e;
	for (int i = 0; i < 4; i++) {
		e = produce(f, 5);
		if (i < 3)
			evs_fini(&e);
	}
	f->now += 2000000;
	housekeeping(f->prod);
	/* The consumer hears seq 20 first: 1..15 are gone from the producer. */
	omo_gap gap;
	begin(f->cons);
	assert_int_equal(apply(f->cons, &e.b[4], &gap), OMO_GAP);
	assert_int_equal(omo_core_catch_up(f->cons, &gap), 0);
	omo_buf m = {0};
	omo_core_metrics(f->cons, &m);
	commit(f->cons);
	omo_buf_append(&m, "", 1);
	assert_non_null(strstr(
	    (char *)m.data, "omo_inbox_beyond_retention{service=\"ledger\",producer=\"shop\"} 1"));
	assert_int_equal(f->ca.events, 0); /* nothing applied out of order */
	omo_buf_fini(&m);
	evs_fini(&e);
}

static void test_silent_producer_is_asked(void **state)
{
	fx *f = *state;
	omo_core_set_caller(f->cons, call_prod, f);
	evs e = produce(f, 3); /* published, but the subscription lost them all */
	evs_fini(&e);
	begin(f->cons);
	omo_core_check_silence(f->cons, "shop", 2000000); /* never heard of: asked at once */
	commit(f->cons);
	assert_int_equal(f->ca.events, 3);

	e = produce(f, 2);
	evs_fini(&e);
	f->now += 1000000; /* it answered a second ago: not asked again yet */
	begin(f->cons);
	omo_core_check_silence(f->cons, "shop", 2000000);
	commit(f->cons);
	assert_int_equal(f->ca.events, 3);

	f->now += 1500000; /* silent for 2.5 s */
	begin(f->cons);
	omo_core_check_silence(f->cons, "shop", 2000000);
	commit(f->cons);
	assert_int_equal(f->ca.events, 5);
	assert_counts(f->cons, 0, 5);

	/* The producer comes back with a new history (its store made afresh):
	 * asked with the old epoch, it says so, and its new history is followed. */
	omo_core_close(f->prod);
	tk_rm_rf(f->pdir);
	f->prod = open_core(f, &shop, &f->pa, f->pdir);
	e = produce(f, 2);
	evs_fini(&e);
	f->now += 2500000;
	begin(f->cons);
	omo_core_check_silence(f->cons, "shop", 2000000);
	commit(f->cons);
	assert_int_equal(f->ca.events, 7);
}

static int down_calls;

static omo_err call_down(void *arg, const char *peer, const omo_msg *req, omo_msg *reply,
                         omo_error_detail *d)
{
	(void)arg;
	(void)req;
	memset(reply, 0, sizeof(*reply));
	down_calls++;
	return omo_fail(d, OMO_E_UNAVAILABLE, "%s is down", peer);
}

static void test_producer_down_is_asked_less_often(void **state)
{
	fx *f = *state;
	omo_core_set_caller(f->cons, call_down, NULL);
	down_calls = 0;
	/* every 100 ms for 40 s: asked at 0, then after 4, 8, 16 s... (each call
	 * to a dead producer costs the consumer's loop a timeout) */
	for (int i = 0; i < 400; i++) {
		begin(f->cons);
		omo_core_check_silence(f->cons, "shop", 2000000);
		commit(f->cons);
		f->now += 100000;
	}
	assert_int_equal(down_calls, 4); /* at 0, 4, 12 and 28 s */
}

static void test_replies_dropped_after_retention(void **state)
{
	fx *f = *state;
	omo_core_set_limits(f->prod, &(omo_core_limits){.retain_events = 1000,
	                                                .retain_replies_us = 60000000,
	                                                .map_max_bytes = 1u << 30});
	omo_buf req = submit("kept-a-minute", 1, NULL);
	begin(f->prod);
	omo_buf first = call(f->prod, &req, NULL);
	commit(f->prod);
	f->now += 30000000; /* within retention: the stored reply answers */
	housekeeping(f->prod);
	begin(f->prod);
	omo_buf again = call(f->prod, &req, NULL);
	commit(f->prod);
	assert_int_equal(again.len, first.len);
	assert_memory_equal(again.data, first.data, first.len);
	assert_int_equal(f->pa.requests, 1);
	f->now += 61000000; /* beyond it: pruned, so the handler sees the request again */
	housekeeping(f->prod);
	begin(f->prod);
	omo_buf late = call(f->prod, &req, NULL);
	commit(f->prod);
	assert_int_equal(f->pa.requests, 2);
	omo_buf_fini(&late);
	omo_buf_fini(&again);
	omo_buf_fini(&first);
	omo_buf_fini(&req);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_request_gets_reply),
	    T(test_repeated_request_gets_same_reply),
	    T(test_repeat_in_same_batch_applies_once),
	    T(test_failed_request_in_batch_leaves_no_trace),
	    T(test_published_events_are_contiguous),
	    T(test_abort_publishes_nothing),
	    T(test_unknown_type_request),
	    T(test_malformed_request),
	    T(test_invalid_reply_changes_nothing),
	    T(test_fetch_events),
	    T(test_epoch_persists_and_seq_continues),
	    T(test_consumer_applies_once_in_order),
	    T(test_consumer_gap_reports_resume_point),
	    T(test_consumer_abort_forgets_applied),
	    T(test_heartbeat_reveals_missed_events),
	    T(test_new_epoch_is_followed_from_its_start),
	    T(test_invalid_events_are_ignored),
	    T(test_outbox_keeps_only_retained_events),
	    T(test_replies_dropped_after_retention),
	    T(test_consumer_beyond_retention_says_so),
	    T(test_silent_producer_is_asked),
	    T(test_producer_down_is_asked_less_often),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
