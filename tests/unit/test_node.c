/*
 * test_node.c - the node agent's handlers (services/node), role store and
 * role warehouse, driven through one core on a fixed virtual clock: the
 * router's fulfillment_requested for its own nodes is accepted and moved
 * along at exactly the configured pick, transit and pick-up times (shipped
 * then delivered, or ready_for_pickup then picked_up); requests for other
 * nodes are ignored; reject_pct=100 declines; repeats add nothing; and
 * fulfillment_cancelled withdraws a part only before it has left the node.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "node.h"

#define NOW      1767225600000000LL /* 2026-01-01T00:00:00Z */
#define MAX_GOT  32
#define EPOCH_RT 8181
#define MS       1000LL
#define PICK     (100 * MS)
#define TRANSIT  (300 * MS)
#define PICKUP   (500 * MS)

/* ====================================================================== */
/* a service core under test                                              */

typedef struct svc {
	const omo_service_def *def;
	void *cfg, *app;
	omo_core *core;
	char dir[64];
	int64_t now;
} svc;

typedef struct stream {
	const char *producer;
	uint64_t epoch, seq;
} stream;

typedef struct got {
	omo_msg m[MAX_GOT];
	size_t n;
} got;

static const char *demo_dir(void)
{
	static char path[512];
	const char *src = getenv("OMO_SOURCE_DIR");
	snprintf(path, sizeof(path), "%s/simulators/scenarios/demo", src ? src : ".");
	return path;
}

static int64_t svc_clock(void *arg)
{
	return ((const svc *)arg)->now;
}

static void rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		while (d != NULL && (e = readdir(d)) != NULL) {
			char sub[512];
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			rm_rf(sub);
		}
		if (d != NULL)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static void svc_set(svc *s, const char *name, const char *value)
{
	if (omo_config_set(s->def->options, s->def->n_options, s->cfg, name, value) != 0)
		fail_msg("option %s=%s refused", name, value);
}

static void svc_open(svc *s, const omo_service_def *def, const char *const *opts)
{
	char err[300], data[128];
	omo_error_detail d = {0};
	memset(s, 0, sizeof(*s));
	s->def = def;
	s->now = NOW;
	s->cfg = calloc(1, def->config_size);
	s->app = calloc(1, def->app_size);
	assert_non_null(s->cfg);
	assert_non_null(s->app);
	snprintf(s->dir, sizeof(s->dir), "/tmp/omo-test-node-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	if (omo_config_load(def->options, def->n_options, s->cfg, "test", 0, NULL, err,
	                    sizeof(err)) != 0)
		fail_msg("config: %s", err);
	snprintf(data, sizeof(data), "%s/data", s->dir);
	svc_set(s, "network_dir", demo_dir());
	svc_set(s, "data_dir", data);
	svc_set(s, "sync", "0");
	for (const char *const *o = opts; o != NULL && *o != NULL; o++) {
		char name[64];
		const char *eq = strchr(*o, '=');
		assert_non_null(eq);
		snprintf(name, sizeof(name), "%.*s", (int)(eq - *o), *o);
		svc_set(s, name, eq + 1);
	}
	if (def->app_init(s->app, s->cfg, err, sizeof(err)) != 0)
		fail_msg("app_init: %s", err);
	omo_err e = omo_core_open(&s->core, omo_service_handlers(def, s->app), s->app, data,
	                          64u << 20, false, &d);
	if (e != OMO_E_OK)
		fail_msg("core_open: %s %s", omo_err_name(e), d.text);
	omo_core_set_clock(s->core, svc_clock, s);
}

static void svc_close(svc *s)
{
	omo_core_close(s->core);
	s->core = NULL;
	if (s->app != NULL)
		s->def->app_fini(s->app);
	free(s->app);
	free(s->cfg);
	s->app = s->cfg = NULL;
	rm_rf(s->dir);
}

static void got_fini(got *g)
{
	for (size_t i = 0; i < g->n; i++)
		omo_msg_fini(&g->m[i]);
	g->n = 0;
}

static void got_take(svc *s, got *g)
{
	const omo_buf *evs;
	omo_error_detail d = {0};
	got_fini(g);
	size_t n = omo_core_published(s->core, &evs);
	assert_true(n <= MAX_GOT);
	for (size_t i = 0; i < n; i++) {
		if (omo_msg_decode(evs[i].data, evs[i].len, &g->m[i], &d) != OMO_E_OK)
			fail_msg("published event %zu does not decode: %s", i, d.text);
		g->n++;
	}
}

static omo_buf encode(const omo_msg *m)
{
	omo_buf b = {0};
	omo_error_detail d = {0};
	if (omo_msg_encode(m, &b, &d) != OMO_E_OK)
		fail_msg("encode %s: %s", omo_msg_name(m->type), d.text);
	return b;
}

/* ====================================================================== */
/* fixture                                                                */

typedef struct fx {
	svc s;
	got g;
	stream router;
	int64_t next;
} fx;

static void fx_open(fx *f, const char *role, const char *reject_pct)
{
	char r[64], p[64];
	snprintf(r, sizeof(r), "role=%s", role);
	snprintf(p, sizeof(p), "reject_pct=%s", reject_pct);
	const char *opts[] = {r, p, "pick_ms=100", "transit_ms=300", "pickup_ms=500", NULL};
	memset(f, 0, sizeof(*f));
	svc_open(&f->s, &node_service, opts);
	f->router = (stream){"router", EPOCH_RT, 0};
}

static void fx_close(fx *f)
{
	got_fini(&f->g);
	svc_close(&f->s);
}

static int setup_store(void **state)
{
	fx *f = malloc(sizeof(*f));
	if (f == NULL)
		return -1;
	omo_log_init("test_node", "error");
	fx_open(f, "store", "0");
	*state = f;
	return 0;
}

static int setup_warehouse(void **state)
{
	fx *f = malloc(sizeof(*f));
	if (f == NULL)
		return -1;
	omo_log_init("test_node", "error");
	fx_open(f, "warehouse", "0");
	*state = f;
	return 0;
}

static int setup_rejecting_store(void **state)
{
	fx *f = malloc(sizeof(*f));
	if (f == NULL)
		return -1;
	omo_log_init("test_node", "error");
	fx_open(f, "store", "100");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	fx_close(f);
	free(f);
	return 0;
}

/* feed_seq offers ev as event seq of the router's stream (0: the next), then
 * ticks, in one batch as the shell does. */
static omo_applied feed_seq(fx *f, omo_msg *ev, uint64_t seq)
{
	omo_gap g;
	snprintf(ev->producer, sizeof(ev->producer), "%s", f->router.producer);
	ev->epoch = f->router.epoch;
	ev->seq = seq ? seq : f->router.seq + 1;
	ev->ts_us = f->s.now;
	omo_uuid_generate(&ev->id);
	omo_buf b = encode(ev);
	assert_int_equal(omo_core_begin(f->s.core), OMO_E_OK);
	omo_applied a = omo_core_event(f->s.core, b.data, b.len, &g);
	f->next = omo_core_tick(f->s.core);
	assert_int_equal(omo_core_commit(f->s.core), OMO_E_OK);
	got_take(&f->s, &f->g);
	if (a == OMO_APPLIED && ev->seq > f->router.seq)
		f->router.seq = ev->seq;
	omo_buf_fini(&b);
	return a;
}

static void tick_at(fx *f, int64_t t)
{
	f->s.now = t;
	assert_int_equal(omo_core_begin(f->s.core), OMO_E_OK);
	f->next = omo_core_tick(f->s.core);
	assert_int_equal(omo_core_commit(f->s.core), OMO_E_OK);
	got_take(&f->s, &f->g);
}

static omo_alloc_line the_lines[2] = {
    {.line_no = 1, .sku = "SKU-0001", .quantity = 2},
    {.line_no = 3, .sku = "SKU-0003", .quantity = 1},
};

/* A fulfilment as the router asks for it. */
typedef struct job {
	omo_uuid fid, order;
	const char *node;
	omo_fulfillment how;
} job;

static job job_make(const char *node, omo_fulfillment how)
{
	job j = {.node = node, .how = how};
	omo_uuid_generate(&j.fid);
	omo_uuid_generate(&j.order);
	return j;
}

static omo_applied request_seq(fx *f, const job *j, uint64_t seq)
{
	omo_msg m;
	omo_msg_init(&m, OMO_MSG_FULFILLMENT_REQUESTED);
	m.corr = j->order;
	omo_fulfillment_requested *r = &m.body.fulfillment_requested;
	r->fulfillment_id = j->fid;
	r->order_id = j->order;
	snprintf(r->node, sizeof(r->node), "%s", j->node);
	r->fulfillment = j->how;
	if (j->how == OMO_SHIP_TO_HOME) {
		r->ship_to.lat_udeg = 40712800;
		r->ship_to.lon_udeg = -74006000;
		snprintf(r->ship_to.country, sizeof(r->ship_to.country), "US");
	}
	r->lines = the_lines;
	r->lines_count = 2;
	return feed_seq(f, &m, seq);
}

static void request(fx *f, const job *j)
{
	assert_int_equal(request_seq(f, j, 0), OMO_APPLIED);
}

static void cancel(fx *f, const job *j)
{
	omo_msg m;
	omo_msg_init(&m, OMO_MSG_FULFILLMENT_CANCELLED);
	m.corr = j->order;
	m.body.fulfillment_cancelled.fulfillment_id = j->fid;
	m.body.fulfillment_cancelled.order_id = j->order;
	snprintf(m.body.fulfillment_cancelled.node, 33, "%s", j->node);
	assert_int_equal(feed_seq(f, &m, 0), OMO_APPLIED);
}

/* assert_update checks g holds exactly one update: j is now s, at the clock's time. */
static void assert_update(fx *f, const char *producer, const job *j, omo_fulfillment_status s,
                          const char *detail)
{
	if (f->g.n != 1)
		fail_msg("published %zu events, want one update to %s", f->g.n,
		         omo_enum_name(&omo_enum_fulfillment_status, (int)s));
	const omo_msg *m = &f->g.m[0];
	assert_int_equal(m->type, OMO_MSG_FULFILLMENT_UPDATE);
	assert_string_equal(m->producer, producer);
	assert_int_equal(m->ts_us, f->s.now);
	assert_memory_equal(m->corr.b, j->order.b, 16);
	const omo_fulfillment_update *u = &m->body.fulfillment_update;
	assert_memory_equal(u->fulfillment_id.b, j->fid.b, 16);
	assert_memory_equal(u->order_id.b, j->order.b, 16);
	assert_string_equal(u->node, j->node);
	if (u->status != s)
		fail_msg("update says %s, want %s",
		         omo_enum_name(&omo_enum_fulfillment_status, (int)u->status),
		         omo_enum_name(&omo_enum_fulfillment_status, (int)s));
	assert_string_equal(u->detail, detail);
}

static void tracking_of(const job *j, char *out, size_t len)
{
	const uint8_t *b = j->fid.b;
	snprintf(out, len, "tracking %02X%02X%02X%02X%02X%02X", b[10], b[11], b[12], b[13], b[14],
	         b[15]);
}

/* assert_quiet_until checks nothing happens just before t. */
static void assert_quiet_until(fx *f, int64_t t)
{
	tick_at(f, t - 1);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(f->next, t);
}

/* ship_flow runs j (shipped to home) from request to delivered at exact times. */
static void ship_flow(fx *f, const char *producer, const job *j)
{
	char tracking[40];
	int64_t t0 = f->s.now;
	request(f, j);
	assert_update(f, producer, j, OMO_FF_ACCEPTED, "");
	assert_int_equal(f->next, t0 + PICK);

	assert_quiet_until(f, t0 + PICK);
	tick_at(f, t0 + PICK);
	tracking_of(j, tracking, sizeof(tracking));
	assert_update(f, producer, j, OMO_FF_SHIPPED, tracking);
	assert_int_equal(f->next, t0 + PICK + TRANSIT);

	assert_quiet_until(f, t0 + PICK + TRANSIT);
	tick_at(f, t0 + PICK + TRANSIT);
	assert_update(f, producer, j, OMO_FF_DELIVERED, "");
	assert_int_equal(f->next, INT64_MAX);

	tick_at(f, t0 + 100 * PICK);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(f->next, INT64_MAX);
}

/* ====================================================================== */
/* role store                                                             */

static void test_store_ships_on_time(void **state)
{
	fx *f = *state;
	job j = job_make("ST-NYC", OMO_SHIP_TO_HOME);
	ship_flow(f, "node-store", &j);
	assert_int_equal(f->g.n, 0);
	/* the events are numbered 1, 2, 3 by this producer */
	uint64_t epoch, seq;
	omo_core_latest(f->s.core, &epoch, &seq);
	assert_int_equal(seq, 3);
	assert_string_equal(omo_core_name(f->s.core), "node-store");
}

static void test_store_pickup_on_time(void **state)
{
	fx *f = *state;
	job j = job_make("ST-BOS", OMO_PICKUP_IN_STORE);
	request(f, &j);
	assert_update(f, "node-store", &j, OMO_FF_ACCEPTED, "");
	assert_int_equal(f->next, NOW + PICK);

	assert_quiet_until(f, NOW + PICK);
	tick_at(f, NOW + PICK);
	assert_update(f, "node-store", &j, OMO_FF_READY_FOR_PICKUP, "");
	assert_int_equal(f->next, NOW + PICK + PICKUP);

	assert_quiet_until(f, NOW + PICK + PICKUP);
	tick_at(f, NOW + PICK + PICKUP);
	assert_update(f, "node-store", &j, OMO_FF_PICKED_UP, "");
	assert_int_equal(f->next, INT64_MAX);
}

static void test_store_ignores_other_node_types(void **state)
{
	fx *f = *state;
	const char *others[] = {"DC-NJ", "MFG-OH", "XX-NOWHERE"};
	for (size_t i = 0; i < 3; i++) {
		job j = job_make(others[i], OMO_SHIP_TO_HOME);
		request(f, &j);
		assert_int_equal(f->g.n, 0);
		assert_int_equal(f->next, INT64_MAX);
	}
	tick_at(f, NOW + 10 * PICK);
	assert_int_equal(f->g.n, 0);
	/* and still does its own */
	job mine = job_make("ST-SEA", OMO_SHIP_TO_HOME);
	ship_flow(f, "node-store", &mine);
}

static void test_two_parts_keep_their_own_times(void **state)
{
	fx *f = *state;
	job a = job_make("ST-NYC", OMO_SHIP_TO_HOME);
	job b = job_make("ST-CHI", OMO_PICKUP_IN_STORE);
	request(f, &a);
	assert_update(f, "node-store", &a, OMO_FF_ACCEPTED, "");
	f->s.now = NOW + 50 * MS;
	request(f, &b);
	assert_update(f, "node-store", &b, OMO_FF_ACCEPTED, "");
	assert_int_equal(f->next, NOW + PICK); /* a's step comes first */

	tick_at(f, NOW + PICK);
	char tracking[40];
	tracking_of(&a, tracking, sizeof(tracking));
	assert_update(f, "node-store", &a, OMO_FF_SHIPPED, tracking);
	assert_int_equal(f->next, NOW + 50 * MS + PICK);
	tick_at(f, NOW + 50 * MS + PICK);
	assert_update(f, "node-store", &b, OMO_FF_READY_FOR_PICKUP, "");
	assert_int_equal(f->next, NOW + PICK + TRANSIT);
	tick_at(f, NOW + PICK + TRANSIT);
	assert_update(f, "node-store", &a, OMO_FF_DELIVERED, "");
	assert_int_equal(f->next, NOW + 50 * MS + PICK + PICKUP);
	/* late ticks catch up on everything due, once */
	tick_at(f, NOW + 10 * PICKUP);
	assert_update(f, "node-store", &b, OMO_FF_PICKED_UP, "");
	assert_int_equal(f->next, INT64_MAX);
}

static void test_duplicate_request_adds_nothing(void **state)
{
	fx *f = *state;
	job j = job_make("ST-NYC", OMO_SHIP_TO_HOME);
	assert_int_equal(request_seq(f, &j, 1), OMO_APPLIED);
	assert_update(f, "node-store", &j, OMO_FF_ACCEPTED, "");
	/* the same event again */
	assert_int_equal(request_seq(f, &j, 1), OMO_DUPLICATE);
	assert_int_equal(f->g.n, 0);
	/* the same request as a new event (the router routed it again) */
	f->s.now = NOW + 30 * MS;
	assert_int_equal(request_seq(f, &j, 2), OMO_APPLIED);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(f->next, NOW + PICK); /* not pushed back */
	tick_at(f, NOW + PICK);
	assert_int_equal(f->g.n, 1); /* shipped once */
	assert_int_equal(f->g.m[0].body.fulfillment_update.status, OMO_FF_SHIPPED);
	tick_at(f, NOW + PICK + TRANSIT);
	assert_int_equal(f->g.n, 1);
	assert_int_equal(f->g.m[0].body.fulfillment_update.status, OMO_FF_DELIVERED);
	/* after it is done, a repeat is still nothing new */
	assert_int_equal(request_seq(f, &j, 3), OMO_APPLIED);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(f->next, INT64_MAX);
}

static void test_cancel_before_shipping(void **state)
{
	fx *f = *state;
	job j = job_make("ST-NYC", OMO_SHIP_TO_HOME);
	request(f, &j);
	f->s.now = NOW + PICK / 2;
	cancel(f, &j);
	assert_update(f, "node-store", &j, OMO_FF_CANCELLED, "order cancelled");
	assert_int_equal(f->next, INT64_MAX); /* its timer is gone */
	tick_at(f, NOW + PICK);
	assert_int_equal(f->g.n, 0);
	tick_at(f, NOW + PICK + TRANSIT);
	assert_int_equal(f->g.n, 0);
	/* cancelling again changes nothing */
	cancel(f, &j);
	assert_int_equal(f->g.n, 0);
	/* nor does cancelling what it never had */
	job nobody = job_make("ST-NYC", OMO_SHIP_TO_HOME);
	cancel(f, &nobody);
	assert_int_equal(f->g.n, 0);
	/* a request after its cancellation is not taken up again */
	request(f, &j);
	assert_int_equal(f->g.n, 0);
}

static void test_cancel_after_shipping_is_ignored(void **state)
{
	fx *f = *state;
	job j = job_make("ST-NYC", OMO_SHIP_TO_HOME);
	request(f, &j);
	tick_at(f, NOW + PICK);
	assert_int_equal(f->g.m[0].body.fulfillment_update.status, OMO_FF_SHIPPED);
	f->s.now = NOW + PICK + 1;
	cancel(f, &j);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(f->next, NOW + PICK + TRANSIT); /* still on its way */
	tick_at(f, NOW + PICK + TRANSIT);
	assert_update(f, "node-store", &j, OMO_FF_DELIVERED, "");

	/* nor once it waits at the counter */
	job p = job_make("ST-BOS", OMO_PICKUP_IN_STORE);
	f->s.now = NOW + 10 * PICK;
	request(f, &p);
	tick_at(f, NOW + 11 * PICK);
	assert_update(f, "node-store", &p, OMO_FF_READY_FOR_PICKUP, "");
	cancel(f, &p);
	assert_int_equal(f->g.n, 0);
	tick_at(f, NOW + 11 * PICK + PICKUP);
	assert_update(f, "node-store", &p, OMO_FF_PICKED_UP, "");
}

static void test_reject_pct_100_rejects(void **state)
{
	fx *f = *state;
	for (int i = 0; i < 5; i++) {
		job j = job_make(i % 2 ? "ST-NYC" : "ST-DEN",
		                 i % 2 ? OMO_SHIP_TO_HOME : OMO_PICKUP_IN_STORE);
		request(f, &j);
		assert_update(f, "node-store", &j, OMO_FF_REJECTED, "declined: no capacity today");
		assert_int_equal(f->next, INT64_MAX);
		/* a rejected part is done: a repeat or a cancellation says nothing */
		request(f, &j);
		assert_int_equal(f->g.n, 0);
		cancel(f, &j);
		assert_int_equal(f->g.n, 0);
	}
	tick_at(f, NOW + 100 * PICK);
	assert_int_equal(f->g.n, 0);
	/* still ignores what is not its own */
	job dc = job_make("DC-NJ", OMO_SHIP_TO_HOME);
	request(f, &dc);
	assert_int_equal(f->g.n, 0);
}

/* ====================================================================== */
/* role warehouse                                                         */

static void test_warehouse_ships_on_time(void **state)
{
	fx *f = *state;
	assert_string_equal(omo_core_name(f->s.core), "node-warehouse");
	job j = job_make("DC-TX", OMO_SHIP_TO_HOME);
	ship_flow(f, "node-warehouse", &j);
}

static void test_warehouse_ignores_stores_and_plants(void **state)
{
	fx *f = *state;
	const char *others[] = {"ST-NYC", "MFG-NC", "XX-NOWHERE"};
	for (size_t i = 0; i < 3; i++) {
		job j = job_make(others[i], i == 0 ? OMO_PICKUP_IN_STORE : OMO_SHIP_TO_HOME);
		request(f, &j);
		assert_int_equal(f->g.n, 0);
		assert_int_equal(f->next, INT64_MAX);
		cancel(f, &j);
		assert_int_equal(f->g.n, 0);
	}
	job mine = job_make("DC-CA", OMO_SHIP_TO_HOME);
	ship_flow(f, "node-warehouse", &mine);
}

static void test_warehouse_cancel(void **state)
{
	fx *f = *state;
	job j = job_make("DC-NJ", OMO_SHIP_TO_HOME);
	request(f, &j);
	assert_update(f, "node-warehouse", &j, OMO_FF_ACCEPTED, "");
	f->s.now = NOW + PICK - 1;
	cancel(f, &j);
	assert_update(f, "node-warehouse", &j, OMO_FF_CANCELLED, "order cancelled");
	tick_at(f, NOW + PICK);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(f->next, INT64_MAX);
}

int main(void)
{
#define S(fn) cmocka_unit_test_setup_teardown(fn, setup_store, teardown)
#define W(fn) cmocka_unit_test_setup_teardown(fn, setup_warehouse, teardown)
#define R(fn) cmocka_unit_test_setup_teardown(fn, setup_rejecting_store, teardown)
	const struct CMUnitTest tests[] = {
	    S(test_store_ships_on_time),
	    S(test_store_pickup_on_time),
	    S(test_store_ignores_other_node_types),
	    S(test_two_parts_keep_their_own_times),
	    S(test_duplicate_request_adds_nothing),
	    S(test_cancel_before_shipping),
	    S(test_cancel_after_shipping_is_ignored),
	    R(test_reject_pct_100_rejects),
	    W(test_warehouse_ships_on_time),
	    W(test_warehouse_ignores_stores_and_plants),
	    W(test_warehouse_cancel),
	};
#undef S
#undef W
#undef R
	return cmocka_run_group_tests(tests, NULL, NULL);
}
