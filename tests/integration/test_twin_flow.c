/*
 * test_twin_flow.c - whole order lifecycles through the real service cores,
 * wired in one process on a virtual clock (simulators/twin): split across
 * node types, pick-up in store, idempotent submit, cancellation, a node's
 * rejection re-sourced elsewhere, back-orders, and the race for a last unit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin.h"

#define SECOND 1000000LL

typedef struct fixture {
	char dir[64];
	omo_twin *twin;
} fixture;

static const char *network(void)
{
	static char path[512];
	const char *src = getenv("OMO_SOURCE_DIR");
	snprintf(path, sizeof(path), "%s/simulators/scenarios/demo", src ? src : ".");
	return path;
}

static fixture *open_twin(const char *const *overrides)
{
	fixture *f = calloc(1, sizeof(*f));
	omo_error_detail d = {0};
	snprintf(f->dir, sizeof(f->dir), "/tmp/omo-twin-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	omo_twin_options o = {.network_dir = network(), .data_dir = f->dir, .overrides = overrides};
	omo_err e = omo_twin_open(&f->twin, &o, &d);
	if (e != OMO_E_OK)
		fail_msg("twin: %s %s", omo_err_name(e), d.text);
	return f;
}

static void close_twin(fixture *f)
{
	char cmd[128];
	omo_twin_close(f->twin);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
}

/* submit sends a submit_order; lines are "SKU:qty" strings, NULL-ended. */
static omo_err submit(fixture *f, const char *key, omo_fulfillment how, const char *pickup,
                      omo_uuid *order_id, const char *const *lines)
{
	omo_msg req, reply;
	omo_order_line ls[8];
	omo_error_detail d;
	uint32_t n = 0;
	omo_msg_init(&req, OMO_MSG_SUBMIT_ORDER);
	omo_uuid_generate(&req.id);
	omo_submit_order *s = &req.body.submit_order;
	snprintf(s->idempotency_key, sizeof(s->idempotency_key), "%s", key);
	s->channel = OMO_CHANNEL_WEB;
	s->fulfillment = how;
	if (pickup)
		snprintf(s->pickup_node, sizeof(s->pickup_node), "%s", pickup);
	s->ship_to.lat_udeg = 40712800; /* New York */
	s->ship_to.lon_udeg = -74006000;
	snprintf(s->ship_to.country, sizeof(s->ship_to.country), "US");
	for (; lines[n]; n++) {
		memset(&ls[n], 0, sizeof(ls[n]));
		ls[n].line_no = n + 1;
		const char *colon = strchr(lines[n], ':');
		snprintf(ls[n].sku, sizeof(ls[n].sku), "%.*s", (int)(colon - lines[n]), lines[n]);
		ls[n].quantity = atoi(colon + 1);
	}
	s->lines = ls;
	s->lines_count = n;
	omo_err e = omo_twin_request(f->twin, "orders", &req, &reply, &d);
	if (e == OMO_E_OK && order_id)
		*order_id = reply.body.submit_order_reply.order_id;
	omo_msg_fini(&reply);
	return e;
}

static void get_order(fixture *f, const omo_uuid *id, omo_msg *view)
{
	omo_msg req;
	omo_error_detail d;
	omo_msg_init(&req, OMO_MSG_GET_ORDER);
	omo_uuid_generate(&req.id);
	req.body.get_order.order_id = *id;
	assert_int_equal(omo_twin_request(f->twin, "orders", &req, view, &d), OMO_E_OK);
}

static omo_stock_row stock(fixture *f, const char *sku, const char *node)
{
	omo_msg req, reply;
	omo_error_detail d;
	omo_sku_ref s;
	omo_node_ref n;
	omo_stock_row row = {0};
	omo_msg_init(&req, OMO_MSG_STOCK_QUERY);
	omo_uuid_generate(&req.id);
	snprintf(s.sku, sizeof(s.sku), "%s", sku);
	snprintf(n.node, sizeof(n.node), "%s", node);
	req.body.stock_query.skus = &s;
	req.body.stock_query.skus_count = 1;
	req.body.stock_query.nodes = &n;
	req.body.stock_query.nodes_count = 1;
	assert_int_equal(omo_twin_request(f->twin, "inventory", &req, &reply, &d), OMO_E_OK);
	if (reply.body.stock_reply.rows_count == 1)
		row = reply.body.stock_reply.rows[0];
	omo_msg_fini(&reply);
	return row;
}

/* I2 over every stock row: nothing negative, nothing reserved beyond what is there. */
static void check_stock_invariants(fixture *f)
{
	omo_msg req, reply;
	omo_error_detail d;
	omo_msg_init(&req, OMO_MSG_STOCK_QUERY);
	omo_uuid_generate(&req.id);
	assert_int_equal(omo_twin_request(f->twin, "inventory", &req, &reply, &d), OMO_E_OK);
	assert_true(reply.body.stock_reply.rows_count > 1000);
	for (uint32_t i = 0; i < reply.body.stock_reply.rows_count; i++) {
		const omo_stock_row *r = &reply.body.stock_reply.rows[i];
		assert_true(r->on_hand >= 0);
		assert_true(r->reserved >= 0);
		assert_true(r->reserved <= r->on_hand);
	}
	omo_msg_fini(&reply);
}

static void settle(fixture *f)
{
	omo_twin_run(f->twin, omo_twin_now(f->twin) + 60 * SECOND);
}

static void test_split_across_node_types_to_delivery(void **state)
{
	(void)state;
	fixture *f = open_twin(NULL);
	omo_uuid id;
	omo_msg v;
	/* SKU-0190 is made only by a manufacturer (drop-ship); SKU-0001 is everywhere. */
	omo_stock_row before = stock(f, "SKU-0190", "MFG-OH");
	assert_int_equal(submit(f, "split-1", OMO_SHIP_TO_HOME, NULL, &id,
	                        (const char *const[]){"SKU-0001:1", "SKU-0190:1", NULL}),
	                 OMO_E_OK);
	settle(f);
	get_order(f, &id, &v);
	const omo_order_view *o = &v.body.order_view;
	assert_int_equal(o->status, OMO_ORDER_COMPLETED);
	assert_int_equal(o->fulfillments_count, 2);
	bool saw_mfg = false, saw_other = false;
	for (uint32_t i = 0; i < o->fulfillments_count; i++) {
		assert_int_equal(o->fulfillments[i].status, OMO_FF_DELIVERED);
		if (o->fulfillments[i].node_type == OMO_NODE_MANUFACTURER) {
			saw_mfg = true;
			assert_string_equal(o->fulfillments[i].lines[0].sku, "SKU-0190");
			assert_string_equal(o->fulfillments[i].node, "MFG-OH");
		} else
			saw_other = true;
	}
	assert_true(saw_mfg && saw_other);
	omo_stock_row after = stock(f, "SKU-0190", "MFG-OH");
	assert_int_equal(after.on_hand, before.on_hand - 1); /* I1: shipped units left */
	assert_int_equal(after.reserved, 0);
	omo_msg_fini(&v);
	check_stock_invariants(f);
	close_twin(f);
}

static void test_pickup_in_store(void **state)
{
	(void)state;
	fixture *f = open_twin(NULL);
	omo_uuid id;
	omo_msg v;
	omo_stock_row s = stock(f, "SKU-0006", "ST-NYC");
	if (s.available < 1) /* the demo network decides; find a SKU the store has */
		fail_msg("demo network changed: ST-NYC lacks SKU-0006");
	assert_int_equal(submit(f, "pickup-1", OMO_PICKUP_IN_STORE, "ST-NYC", &id,
	                        (const char *const[]){"SKU-0006:1", NULL}),
	                 OMO_E_OK);
	settle(f);
	get_order(f, &id, &v);
	const omo_order_view *o = &v.body.order_view;
	assert_int_equal(o->status, OMO_ORDER_COMPLETED);
	assert_int_equal(o->fulfillments_count, 1);
	assert_string_equal(o->fulfillments[0].node, "ST-NYC");
	assert_int_equal(o->fulfillments[0].status, OMO_FF_PICKED_UP);
	bool ready = false;
	for (uint32_t i = 0; i < o->history_count; i++)
		ready |= strcmp(o->history[i].event, "ready_for_pickup") == 0;
	assert_true(ready);
	assert_int_equal(stock(f, "SKU-0006", "ST-NYC").on_hand, s.on_hand - 1);
	omo_msg_fini(&v);
	close_twin(f);
}

static void test_same_key_same_order(void **state)
{
	(void)state;
	fixture *f = open_twin(NULL);
	omo_uuid a, b;
	const char *const lines[] = {"SKU-0002:2", NULL};
	assert_int_equal(submit(f, "idem-1", OMO_SHIP_TO_HOME, NULL, &a, lines), OMO_E_OK);
	assert_int_equal(submit(f, "idem-1", OMO_SHIP_TO_HOME, NULL, &b, lines), OMO_E_OK);
	assert_memory_equal(&a, &b, 16);
	/* The same key for a different request is refused, not merged. */
	assert_int_equal(submit(f, "idem-1", OMO_SHIP_TO_HOME, NULL, &b,
	                        (const char *const[]){"SKU-0002:3", NULL}),
	                 OMO_E_CONFLICT);
	close_twin(f);
}

static void test_cancel_releases_reservation(void **state)
{
	(void)state;
	fixture *f = open_twin(NULL);
	omo_uuid id;
	omo_msg req, v;
	omo_error_detail d;
	omo_stock_row before = stock(f, "SKU-0190", "MFG-OH");
	assert_int_equal(submit(f, "cancel-1", OMO_SHIP_TO_HOME, NULL, &id,
	                        (const char *const[]){"SKU-0190:2", NULL}),
	                 OMO_E_OK);
	/* Deliver events but let no timer fire: routed and reserved, not yet shipped. */
	omo_twin_run(f->twin, omo_twin_now(f->twin));
	assert_int_equal(stock(f, "SKU-0190", "MFG-OH").reserved, before.reserved + 2);
	omo_msg_init(&req, OMO_MSG_CANCEL_ORDER);
	omo_uuid_generate(&req.id);
	req.body.cancel_order.order_id = id;
	assert_int_equal(omo_twin_request(f->twin, "orders", &req, &v, &d), OMO_E_OK);
	assert_int_equal(v.body.order_view.status, OMO_ORDER_CANCELLED);
	omo_msg_fini(&v);
	settle(f);
	omo_stock_row after = stock(f, "SKU-0190", "MFG-OH");
	assert_int_equal(after.reserved, before.reserved);
	assert_int_equal(after.on_hand, before.on_hand);
	get_order(f, &id, &v);
	assert_int_equal(v.body.order_view.status, OMO_ORDER_CANCELLED);
	assert_int_equal(v.body.order_view.fulfillments[0].status, OMO_FF_CANCELLED);
	omo_msg_fini(&v);
	close_twin(f);
}

static void test_rejection_is_resourced_elsewhere(void **state)
{
	(void)state;
	/* Every store declines: the order must end up at a warehouse, the store excluded. */
	fixture *f = open_twin((const char *const[]){"node-store.reject_pct=100", NULL});
	omo_uuid id;
	omo_msg v;
	assert_int_equal(submit(f, "reject-1", OMO_SHIP_TO_HOME, NULL, &id,
	                        (const char *const[]){"SKU-0001:1", NULL}),
	                 OMO_E_OK);
	settle(f);
	get_order(f, &id, &v);
	const omo_order_view *o = &v.body.order_view;
	assert_int_equal(o->status, OMO_ORDER_COMPLETED);
	assert_true(o->fulfillments_count >= 2);
	assert_int_equal(o->fulfillments[0].node_type, OMO_NODE_STORE);
	assert_int_equal(o->fulfillments[0].status, OMO_FF_REJECTED);
	const omo_fulfillment_info *last = &o->fulfillments[o->fulfillments_count - 1];
	assert_int_not_equal(last->node_type, OMO_NODE_STORE);
	assert_int_equal(last->status, OMO_FF_DELIVERED);
	omo_msg_fini(&v);
	check_stock_invariants(f);
	close_twin(f);
}

static void test_backorder_when_network_lacks_units(void **state)
{
	(void)state;
	fixture *f = open_twin(NULL);
	omo_uuid id;
	omo_msg v;
	assert_int_equal(submit(f, "bo-1", OMO_SHIP_TO_HOME, NULL, &id,
	                        (const char *const[]){"SKU-0005:100000", NULL}),
	                 OMO_E_OK);
	settle(f);
	get_order(f, &id, &v);
	const omo_order_view *o = &v.body.order_view;
	assert_int_equal(o->status, OMO_ORDER_BACKORDERED);
	assert_int_equal(o->backordered_count, 1);
	int64_t given = 0;
	for (uint32_t i = 0; i < o->fulfillments_count; i++)
		given += o->fulfillments[i].lines[0].quantity;
	assert_int_equal(given + o->backordered[0].quantity, 100000);
	omo_msg_fini(&v);
	check_stock_invariants(f);
	close_twin(f);
}

static void test_race_for_the_last_unit(void **state)
{
	(void)state;
	fixture *f = open_twin(NULL);
	omo_uuid a, b;
	omo_msg va, vb;
	/* Take all of SKU-0181 but one unit, then let two checkouts race for it. */
	int64_t total = 0;
	const char *nodes[] = {"MFG-OH", "MFG-NC"};
	for (int i = 0; i < 2; i++)
		total += stock(f, "SKU-0181", nodes[i]).available;
	assert_true(total > 1);
	char big[32];
	snprintf(big, sizeof(big), "SKU-0181:%lld", (long long)(total - 1));
	assert_int_equal(
	    submit(f, "race-0", OMO_SHIP_TO_HOME, NULL, NULL, (const char *const[]){big, NULL}),
	    OMO_E_OK);
	omo_twin_run(f->twin, omo_twin_now(f->twin));
	assert_int_equal(submit(f, "race-a", OMO_SHIP_TO_HOME, NULL, &a,
	                        (const char *const[]){"SKU-0181:1", NULL}),
	                 OMO_E_OK);
	assert_int_equal(submit(f, "race-b", OMO_SHIP_TO_HOME, NULL, &b,
	                        (const char *const[]){"SKU-0181:1", NULL}),
	                 OMO_E_OK);
	settle(f);
	get_order(f, &a, &va);
	get_order(f, &b, &vb);
	/* Exactly one gets the unit; the other waits for supply. Nothing oversold. */
	int completed = (va.body.order_view.status == OMO_ORDER_COMPLETED) +
	                (vb.body.order_view.status == OMO_ORDER_COMPLETED);
	int waiting = (va.body.order_view.status == OMO_ORDER_BACKORDERED) +
	              (vb.body.order_view.status == OMO_ORDER_BACKORDERED);
	assert_int_equal(completed, 1);
	assert_int_equal(waiting, 1);
	for (int i = 0; i < 2; i++)
		assert_true(stock(f, "SKU-0181", nodes[i]).available == 0);
	omo_msg_fini(&va);
	omo_msg_fini(&vb);
	check_stock_invariants(f);
	close_twin(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_across_node_types_to_delivery),
	    cmocka_unit_test(test_pickup_in_store),
	    cmocka_unit_test(test_same_key_same_order),
	    cmocka_unit_test(test_cancel_releases_reservation),
	    cmocka_unit_test(test_rejection_is_resourced_elsewhere),
	    cmocka_unit_test(test_backorder_when_network_lacks_units),
	    cmocka_unit_test(test_race_for_the_last_unit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
