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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "node.h"
#include "testkit.h"

#define NOW      TK_NOW /* 2026-01-01T00:00:00Z */
#define EPOCH_RT 8181
#define MS       1000LL
#define PICK     (100 * MS)
#define TRANSIT  (300 * MS)
#define PICKUP   (500 * MS)

/* ====================================================================== */
/* fixture                                                                */

typedef struct fx {
	tk_svc s;
	tk_got g;
	tk_stream router;
	int64_t next;
} fx;

static void fx_open(fx *f, const char *role, const char *reject_pct)
{
	char r[64], p[64];
	snprintf(r, sizeof(r), "role=%s", role);
	snprintf(p, sizeof(p), "reject_pct=%s", reject_pct);
	const char *opts[] = {r, p, "pick_ms=100", "transit_ms=300", "pickup_ms=500", NULL};
	memset(f, 0, sizeof(*f));
	tk_svc_open(&f->s, &node_service, "node", opts);
	f->router = (tk_stream){"router", EPOCH_RT, 0};
}

static void fx_close(fx *f)
{
	tk_got_fini(&f->g);
	tk_svc_close(&f->s);
}

static int setup_node(void **state, const char *role, const char *reject_pct)
{
	fx *f = malloc(sizeof(*f));
	if (f == NULL)
		return -1;
	omo_log_init("test_node", "error");
	fx_open(f, role, reject_pct);
	*state = f;
	return 0;
}

static int setup_store(void **state)
{
	return setup_node(state, "store", "0");
}

static int setup_warehouse(void **state)
{
	return setup_node(state, "warehouse", "0");
}

static int setup_rejecting_store(void **state)
{
	return setup_node(state, "store", "100");
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
	return tk_feed(&f->s, &f->g, &f->router, ev, seq, NULL, &f->next);
}

static void tick_at(fx *f, int64_t t)
{
	f->s.now = t;
	f->next = tk_tick(&f->s, &f->g);
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
