/*
 * test_schema.c - the msgpack and JSON codecs of schemas/ against the
 * contract in schema.h: every message type round-trips with every field set,
 * encode refuses what decode would refuse, each decode error has its own
 * code, and a seeded mutation run never crashes the decoder.
 *
 * Set OMO_FUZZ_SEED (a number) to rerun the mutation test from another seed;
 * the seed in use is printed either way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ====================================================================== */
/* sample values                                                          */

static omo_uuid uuid_of(uint8_t seed)
{
	omo_uuid u;
	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(seed * 17 + i * 5 + 1);
	return u;
}

static omo_address sample_address(void)
{
	return (omo_address){.name = "Ada Lovelace",
	                     .line1 = "12 St James's Square",
	                     .city = "London",
	                     .postal_code = "SW1Y 4JH",
	                     .country = "GB",
	                     .lat_udeg = 51507400,
	                     .lon_udeg = -127800};
}

static omo_order_line order_lines[3] = {
    {.line_no = 1, .sku = "SKU-0001", .quantity = 2, .unit_price = 611},
    {.line_no = 2, .sku = "SKU-0042", .quantity = 1, .unit_price = 1999},
    {.line_no = 1000, .sku = "SKU-0200", .quantity = 100000, .unit_price = 100000000000},
};

static omo_alloc_line alloc_a[2] = {
    {.line_no = 1, .sku = "SKU-0001", .quantity = 2},
    {.line_no = 2, .sku = "SKU-0042", .quantity = 1},
};

static omo_alloc_line alloc_b[3] = {
    {.line_no = 1000, .sku = "SKU-0200", .quantity = 99999},
    {.line_no = 7, .sku = "SKU-0007", .quantity = 3},
    {.line_no = 8, .sku = "SKU-0008", .quantity = 4},
};

static omo_fulfillment_info ff_infos[2];
static omo_history_entry history[3] = {
    {.ts_us = 1700000000000001, .event = "accepted", .node = "ST-NYC", .detail = "web"},
    {.ts_us = 1700000000500000, .event = "routed", .node = "DC-NJ", .detail = "attempt 1"},
    {.ts_us = 1700000009000000, .event = "shipped", .node = "DC-NJ", .detail = "1Z999"},
};
static omo_sku_ref sku_refs[2] = {{.sku = "SKU-0001"}, {.sku = "SKU-0200"}};
static omo_node_ref node_refs[3] = {{.node = "DC-NJ"}, {.node = "ST-NYC"}, {.node = "MFG-OH"}};
static omo_stock_row stock_rows[3] = {
    {.sku = "SKU-0001", .node = "DC-NJ", .on_hand = 120, .reserved = 20, .available = 100},
    {.sku = "SKU-0001", .node = "ST-NYC", .on_hand = 4, .reserved = 1, .available = 3},
    {.sku = "SKU-0200", .node = "MFG-OH", .on_hand = 2, .reserved = 5, .available = -3},
};
static omo_reserve_line reserve_lines[2];
static const uint8_t ev_bytes_a[] = {0x81, 0xa1, 'x', 0x01};
static const uint8_t ev_bytes_b[] = {0x00, 0xc1, 0xff, 0x10, 0x20};
static omo_event_bytes event_list[2];

static void init_samples(void)
{
	ff_infos[0] = (omo_fulfillment_info){.fulfillment_id = uuid_of(40),
	                                     .node = "DC-NJ",
	                                     .node_type = OMO_NODE_WAREHOUSE,
	                                     .status = OMO_FF_SHIPPED,
	                                     .lines = alloc_a,
	                                     .lines_count = N(alloc_a)};
	ff_infos[1] = (omo_fulfillment_info){.fulfillment_id = uuid_of(41),
	                                     .node = "ST-NYC",
	                                     .node_type = OMO_NODE_STORE,
	                                     .status = OMO_FF_READY_FOR_PICKUP,
	                                     .lines = alloc_b,
	                                     .lines_count = N(alloc_b)};
	reserve_lines[0] = (omo_reserve_line){
	    .fulfillment_id = uuid_of(50), .sku = "SKU-0001", .node = "DC-NJ", .quantity = 2};
	reserve_lines[1] = (omo_reserve_line){
	    .fulfillment_id = uuid_of(51), .sku = "SKU-0042", .node = "ST-NYC", .quantity = 100000};
	event_list[0] = (omo_event_bytes){.bytes = ev_bytes_a, .bytes_len = sizeof(ev_bytes_a)};
	event_list[1] = (omo_event_bytes){.bytes = ev_bytes_b, .bytes_len = sizeof(ev_bytes_b)};
}

static void sample_order_view(omo_order_view *o)
{
	memset(o, 0, sizeof(*o));
	o->order_id = uuid_of(1);
	strcpy(o->idempotency_key, "chk-7f3a-0001");
	o->channel = OMO_CHANNEL_MARKETPLACE;
	o->fulfillment = OMO_PICKUP_IN_STORE;
	strcpy(o->customer_id, "cust-889");
	strcpy(o->pickup_node, "ST-NYC");
	o->ship_to = sample_address();
	o->status = OMO_ORDER_READY_FOR_PICKUP;
	o->accepted_us = 1700000000000001;
	o->lines = order_lines;
	o->lines_count = N(order_lines);
	o->backordered = alloc_b;
	o->backordered_count = N(alloc_b);
	o->fulfillments = ff_infos;
	o->fulfillments_count = N(ff_infos);
	o->history = history;
	o->history_count = N(history);
}

static void sample_explanation(omo_explanation *x)
{
	static omo_decision_cell cells[2] = {{.line = 1,
	                                      .node = "DC-NJ",
	                                      .on_hand = 9,
	                                      .reserved = 2,
	                                      .safety = 1,
	                                      .held = 3,
	                                      .held_for = 16,
	                                      .target = 40},
	                                     {.line = 2,
	                                      .node = "ST-NYC",
	                                      .on_hand = -1,
	                                      .reserved = 7,
	                                      .safety = 2,
	                                      .held = 1,
	                                      .held_for = 1,
	                                      .target = 5}};
	static omo_decision_candidate cands[2] = {{.node = "DC-NJ",
	                                           .reason = "included",
	                                           .score = 123456,
	                                           .distance_m = 45000,
	                                           .zone = 1,
	                                           .promise_day = 20455,
	                                           .lines_whole = 2},
	                                          {.node = "ST-NYC",
	                                           .reason = "safety_stock",
	                                           .score = INT64_MAX,
	                                           .distance_m = 3,
	                                           .zone = 2,
	                                           .promise_day = 20456,
	                                           .lines_whole = 1}};
	static omo_decision_alloc plan[2] = {{.line_no = 1,
	                                      .sku = "SKU-0001",
	                                      .node = "DC-NJ",
	                                      .quantity = 2,
	                                      .promise_day = 20455,
	                                      .transfer = true,
	                                      .made = true},
	                                     {.line_no = 2,
	                                      .sku = "SKU-0002",
	                                      .node = "MFG-OH",
	                                      .quantity = 100000,
	                                      .promise_day = 20460,
	                                      .transfer = true,
	                                      .made = true}};
	static omo_decision d[2];
	for (int i = 0; i < 2; i++) {
		omo_decision *r = &d[i];
		memset(r, 0, sizeof(*r));
		r->order_id = uuid_of((uint8_t)(70 + i));
		r->attempt = 1 + i;
		r->at_us = 1700000000000000 + i;
		memset(r->rules_hash, 'a' + i, 64);
		strcpy(r->rules_name, "demo");
		r->rules_version = 3;
		strcpy(r->strategy, "ship-to-home");
		strcpy(r->search, "exact");
		memset(r->input_digest, '0' + i, 64);
		r->channel = OMO_CHANNEL_B2B;
		r->fulfillment = OMO_PICKUP_IN_STORE;
		strcpy(r->pickup_node, "ST-NYC");
		r->ship_to = sample_address();
		r->lines = alloc_b;
		r->lines_count = N(alloc_b);
		r->excluded = node_refs;
		r->excluded_count = N(node_refs);
		r->cells = cells;
		r->cells_count = N(cells);
		r->candidates = cands;
		r->candidates_count = N(cands);
		r->plan = plan;
		r->plan_count = N(plan);
		r->backordered = alloc_b;
		r->backordered_count = N(alloc_b);
		r->cost = -5;
		strcpy(r->replay, "same plan");
	}
	x->decisions = d;
	x->decisions_count = 2;
}

/* fill_msg gives msg of type t a body with every field set to a non-default value. */
static void fill_msg(omo_msg *m, omo_msg_type t)
{
	omo_msg_init(m, t);
	m->id = uuid_of(100 + (uint8_t)t);
	m->corr = uuid_of(200 + (uint8_t)t);
	strcpy(m->producer, "orders");
	m->epoch = (uint64_t)INT64_MAX - t;
	m->seq = 987654321u + t;
	m->ts_us = 1700000000000000 + t;

	switch (t) {
	case OMO_MSG_ERROR:
		strcpy(m->body.error.code, "OUT_OF_STOCK");
		strcpy(m->body.error.message, "lines[1]: only 3 left at DC-NJ");
		break;
	case OMO_MSG_ACK: strcpy(m->body.ack.detail, "released 3 units"); break;
	case OMO_MSG_SUBMIT_ORDER: {
		omo_submit_order *b = &m->body.submit_order;
		strcpy(b->idempotency_key, "chk-7f3a-0001");
		b->channel = OMO_CHANNEL_MARKETPLACE;
		b->fulfillment = OMO_PICKUP_IN_STORE;
		strcpy(b->customer_id, "cust-889");
		strcpy(b->pickup_node, "ST-NYC");
		b->ship_to = sample_address();
		b->lines = order_lines;
		b->lines_count = N(order_lines);
		break;
	}
	case OMO_MSG_SUBMIT_ORDER_REPLY:
		m->body.submit_order_reply.order_id = uuid_of(1);
		m->body.submit_order_reply.status = OMO_ORDER_BACKORDERED;
		m->body.submit_order_reply.accepted_us = 1700000000123456;
		break;
	case OMO_MSG_GET_ORDER: m->body.get_order.order_id = uuid_of(2); break;
	case OMO_MSG_CANCEL_ORDER:
		m->body.cancel_order.order_id = uuid_of(3);
		strcpy(m->body.cancel_order.reason, "customer changed their mind");
		break;
	case OMO_MSG_ORDER_VIEW: sample_order_view(&m->body.order_view); break;
	case OMO_MSG_STOCK_QUERY:
		m->body.stock_query.skus = sku_refs;
		m->body.stock_query.skus_count = N(sku_refs);
		m->body.stock_query.nodes = node_refs;
		m->body.stock_query.nodes_count = N(node_refs);
		break;
	case OMO_MSG_STOCK_REPLY:
		m->body.stock_reply.rows = stock_rows;
		m->body.stock_reply.rows_count = N(stock_rows);
		break;
	case OMO_MSG_RESERVE:
		m->body.reserve.order_id = uuid_of(4);
		m->body.reserve.attempt = 2;
		m->body.reserve.lines = reserve_lines;
		m->body.reserve.lines_count = N(reserve_lines);
		break;
	case OMO_MSG_RESERVE_MANY: {
		static omo_reserve groups[2];
		for (int i = 0; i < 2; i++)
			groups[i] = (omo_reserve){.order_id = uuid_of((uint8_t)(60 + i)),
			                          .attempt = 3 + i,
			                          .lines = reserve_lines,
			                          .lines_count = N(reserve_lines)};
		m->body.reserve_many.reservations = groups;
		m->body.reserve_many.reservations_count = 2;
		break;
	}
	case OMO_MSG_RESERVE_RESULTS: {
		static omo_reserve_result results[2] = {
		    {.attempt = 1, .code = "OUT_OF_STOCK", .detail = "SKU-0001 at DC-NJ short"},
		    {.attempt = 2, .code = "NONE", .detail = "held"}};
		results[0].order_id = uuid_of(62);
		results[1].order_id = uuid_of(63);
		m->body.reserve_results.results = results;
		m->body.reserve_results.results_count = 2;
		break;
	}
	case OMO_MSG_RELEASE: m->body.release.fulfillment_id = uuid_of(5); break;
	case OMO_MSG_RECEIVE_STOCK:
		strcpy(m->body.receive_stock.node, "DC-TX");
		strcpy(m->body.receive_stock.sku, "SKU-0007");
		m->body.receive_stock.quantity = 100000000;
		strcpy(m->body.receive_stock.reference, "ASN-2024-77");
		break;
	case OMO_MSG_ADJUST_STOCK:
		strcpy(m->body.adjust_stock.node, "ST-BOS");
		strcpy(m->body.adjust_stock.sku, "SKU-0100");
		m->body.adjust_stock.delta = -42;
		strcpy(m->body.adjust_stock.reason, "cycle count");
		break;
	case OMO_MSG_FETCH_EVENTS:
		m->body.fetch_events.epoch = 123456789;
		m->body.fetch_events.from_seq = 17;
		m->body.fetch_events.max = 10000;
		break;
	case OMO_MSG_EVENTS:
		m->body.events.epoch = 123456789;
		m->body.events.latest_seq = 99;
		m->body.events.events = event_list;
		m->body.events.events_count = N(event_list);
		break;
	case OMO_MSG_ORDER_ACCEPTED: {
		omo_order_accepted *b = &m->body.order_accepted;
		b->order_id = uuid_of(6);
		b->channel = OMO_CHANNEL_SOCIAL;
		b->fulfillment = OMO_PICKUP_IN_STORE;
		strcpy(b->pickup_node, "ST-BOS");
		b->ship_to = sample_address();
		b->lines = order_lines;
		b->lines_count = N(order_lines);
		break;
	}
	case OMO_MSG_ORDER_CANCELLED:
		m->body.order_cancelled.order_id = uuid_of(7);
		strcpy(m->body.order_cancelled.reason, "fraud check");
		break;
	case OMO_MSG_ORDER_STATUS_CHANGED:
		m->body.order_status_changed.order_id = uuid_of(8);
		m->body.order_status_changed.status = OMO_ORDER_COMPLETED;
		break;
	case OMO_MSG_ORDER_ROUTED:
		m->body.order_routed.order_id = uuid_of(9);
		m->body.order_routed.attempt = 3;
		m->body.order_routed.fulfillments = ff_infos;
		m->body.order_routed.fulfillments_count = N(ff_infos);
		m->body.order_routed.backordered = alloc_a;
		m->body.order_routed.backordered_count = N(alloc_a);
		break;
	case OMO_MSG_ORDER_UNROUTABLE:
		m->body.order_unroutable.order_id = uuid_of(10);
		strcpy(m->body.order_unroutable.reason, "no node stocks SKU-0042");
		break;
	case OMO_MSG_FULFILLMENT_REQUESTED: {
		omo_fulfillment_requested *b = &m->body.fulfillment_requested;
		b->fulfillment_id = uuid_of(11);
		b->order_id = uuid_of(12);
		strcpy(b->node, "ST-NYC");
		b->fulfillment = OMO_PICKUP_IN_STORE;
		b->ship_to = sample_address();
		b->lines = alloc_b;
		b->lines_count = N(alloc_b);
		break;
	}
	case OMO_MSG_FULFILLMENT_CANCELLED:
		m->body.fulfillment_cancelled.fulfillment_id = uuid_of(13);
		m->body.fulfillment_cancelled.order_id = uuid_of(14);
		strcpy(m->body.fulfillment_cancelled.node, "DC-CA");
		break;
	case OMO_MSG_FULFILLMENT_UPDATE:
		m->body.fulfillment_update.fulfillment_id = uuid_of(15);
		m->body.fulfillment_update.order_id = uuid_of(16);
		strcpy(m->body.fulfillment_update.node, "DC-NJ");
		m->body.fulfillment_update.status = OMO_FF_DELIVERED;
		strcpy(m->body.fulfillment_update.detail, "1Z999AA10123456784");
		m->body.fulfillment_update.lines = alloc_a;
		m->body.fulfillment_update.lines_count = N(alloc_a);
		break;
	case OMO_MSG_HEARTBEAT: m->body.heartbeat.latest_seq = 4242; break;
	case OMO_MSG_HOLD_CART: {
		static omo_cart_line cart[2] = {
		    {.sku = "SKU-0001", .node = "ST-NYC", .quantity = 2},
		    {.sku = "SKU-0002", .node = "DC-NJ", .quantity = 100000}};
		m->body.hold_cart.cart_id = uuid_of(8);
		m->body.hold_cart.lines = cart;
		m->body.hold_cart.lines_count = 2;
		m->body.hold_cart.ttl_ms = 900000;
		break;
	}
	case OMO_MSG_RELEASE_CART: m->body.release_cart.cart_id = uuid_of(9); break;
	case OMO_MSG_PROMISE: {
		static omo_promise_item items[2] = {{.sku = "SKU-0001", .quantity = 2},
		                                    {.sku = "SKU-0002", .quantity = 100000}};
		m->body.promise.channel = OMO_CHANNEL_MOBILE;
		m->body.promise.fulfillment = OMO_PICKUP_IN_STORE;
		strcpy(m->body.promise.pickup_node, "ST-NYC");
		m->body.promise.ship_to = sample_address();
		m->body.promise.items = items;
		m->body.promise.items_count = 2;
		break;
	}
	case OMO_MSG_PROMISE_REPLY: {
		static omo_promise_row rows[2] = {{.sku = "SKU-0001",
		                                   .quantity = 2,
		                                   .available = 2,
		                                   .node = "ST-NYC",
		                                   .nodes = 1,
		                                   .promise_day = 20455},
		                                  {.sku = "SKU-0002",
		                                   .quantity = 100000,
		                                   .available = 7,
		                                   .node = "DC-NJ",
		                                   .nodes = 2,
		                                   .promise_day = 20458}};
		memset(m->body.promise_reply.rules_hash, 'c', 64);
		m->body.promise_reply.rows = rows;
		m->body.promise_reply.rows_count = 2;
		break;
	}
	case OMO_MSG_EXPLAIN: m->body.explain.order_id = uuid_of(7); break;
	case OMO_MSG_EXPLANATION: sample_explanation(&m->body.explanation); break;
	case OMO_MSG_COUNT: fail_msg("OMO_MSG_COUNT is not a message type");
	}
}

/* ====================================================================== */
/* generic checks over the descriptors                                    */

#define AT(rec, f)    ((const char *)(rec) + (f)->offset)
#define COUNT(rec, f) (*(const uint32_t *)((const char *)(rec) + (f)->aux_offset))

/* assert_all_set fails if any field of rec holds its default: the samples
 * must exercise every field with a value the codec could get wrong. */
static void assert_all_set(const omo_rec_desc *desc, const void *rec, const char *where)
{
	for (uint32_t i = 0; i < desc->n_fields; i++) {
		const omo_field_desc *f = &desc->fields[i];
		const char *v = AT(rec, f);
		char sub[200];
		snprintf(sub, sizeof(sub), "%s.%s", where, f->name);
		switch (f->kind) {
		case OMO_K_I64:
			if (*(const int64_t *)v == 0)
				fail_msg("%s is 0", sub);
			break;
		case OMO_K_STR:
			if (v[0] == '\0')
				fail_msg("%s is empty", sub);
			break;
		case OMO_K_BOOL:
			if (!*(const bool *)v)
				fail_msg("%s is false", sub);
			break;
		case OMO_K_UUID:
			if (omo_uuid_is_nil((const omo_uuid *)v))
				fail_msg("%s is nil", sub);
			break;
		case OMO_K_ENUM:
			if (*(const int *)v == 0)
				fail_msg("%s is the first value of %s", sub, f->en->name);
			break;
		case OMO_K_BIN:
			if (COUNT(rec, f) == 0)
				fail_msg("%s is empty", sub);
			break;
		case OMO_K_REC: assert_all_set(f->rec, v, sub); break;
		case OMO_K_LIST: {
			if (COUNT(rec, f) < 2)
				fail_msg("%s has %u entries; want at least 2", sub, COUNT(rec, f));
			const char *items = *(const char *const *)v;
			for (uint32_t k = 0; k < COUNT(rec, f); k++) {
				char el[220];
				snprintf(el, sizeof(el), "%s[%u]", sub, k);
				assert_all_set(f->rec, items + (size_t)k * f->rec->size, el);
			}
			break;
		}
		}
	}
}

/* assert_rec_equal compares two records field by field, naming the first difference. */
static void assert_rec_equal(const omo_rec_desc *desc, const void *a, const void *b,
                             const char *where)
{
	for (uint32_t i = 0; i < desc->n_fields; i++) {
		const omo_field_desc *f = &desc->fields[i];
		const char *va = AT(a, f), *vb = AT(b, f);
		char sub[200];
		snprintf(sub, sizeof(sub), "%s.%s", where, f->name);
		switch (f->kind) {
		case OMO_K_I64:
			if (*(const int64_t *)va != *(const int64_t *)vb)
				fail_msg("%s: %lld != %lld", sub, (long long)*(const int64_t *)va,
				         (long long)*(const int64_t *)vb);
			break;
		case OMO_K_STR:
			if (strcmp(va, vb) != 0)
				fail_msg("%s: \"%s\" != \"%s\"", sub, va, vb);
			break;
		case OMO_K_BOOL:
			if (*(const bool *)va != *(const bool *)vb)
				fail_msg("%s differs", sub);
			break;
		case OMO_K_UUID:
			if (memcmp(va, vb, 16) != 0)
				fail_msg("%s differs", sub);
			break;
		case OMO_K_ENUM:
			if (*(const int *)va != *(const int *)vb)
				fail_msg("%s: %d != %d", sub, *(const int *)va, *(const int *)vb);
			break;
		case OMO_K_BIN:
			if (COUNT(a, f) != COUNT(b, f) ||
			    memcmp(*(const uint8_t *const *)va, *(const uint8_t *const *)vb,
			           COUNT(a, f)) != 0)
				fail_msg("%s differs", sub);
			break;
		case OMO_K_REC: assert_rec_equal(f->rec, va, vb, sub); break;
		case OMO_K_LIST: {
			if (COUNT(a, f) != COUNT(b, f))
				fail_msg("%s: %u entries != %u", sub, COUNT(a, f), COUNT(b, f));
			const char *ia = *(const char *const *)va, *ib = *(const char *const *)vb;
			for (uint32_t k = 0; k < COUNT(a, f); k++) {
				char el[220];
				snprintf(el, sizeof(el), "%s[%u]", sub, k);
				assert_rec_equal(f->rec, ia + (size_t)k * f->rec->size,
				                 ib + (size_t)k * f->rec->size, el);
			}
			break;
		}
		}
	}
}

static void assert_envelope_equal(const omo_msg *a, const omo_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->version, b->version);
	assert_memory_equal(a->id.b, b->id.b, 16);
	assert_memory_equal(a->corr.b, b->corr.b, 16);
	assert_string_equal(a->producer, b->producer);
	assert_true(a->epoch == b->epoch);
	assert_true(a->seq == b->seq);
	assert_true(a->ts_us == b->ts_us);
}

static bool contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!contains((hay), (needle)))                                                    \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

/* ====================================================================== */
/* round trips                                                            */

static void test_roundtrip_every_message_type(void **state)
{
	(void)state;
	init_samples();
	for (int t = 0; t < OMO_MSG_COUNT; t++) {
		omo_msg in, out;
		omo_buf buf = {0};
		omo_error_detail d = {0};

		fill_msg(&in, (omo_msg_type)t);
		assert_all_set(omo_msg_descs[t].body, &in.body, omo_msg_name((omo_msg_type)t));
		omo_err e = omo_msg_encode(&in, &buf, &d);
		if (e != OMO_E_OK)
			fail_msg("%s: encode: %s %s", omo_msg_name((omo_msg_type)t),
			         omo_err_name(e), d.text);
		assert_true(buf.len > 0 && buf.len < OMO_MAX_MESSAGE);
		e = omo_msg_decode(buf.data, buf.len, &out, &d);
		if (e != OMO_E_OK)
			fail_msg("%s: decode: %s %s", omo_msg_name((omo_msg_type)t),
			         omo_err_name(e), d.text);
		assert_envelope_equal(&in, &out);
		assert_rec_equal(omo_msg_descs[t].body, &in.body, &out.body,
		                 omo_msg_name((omo_msg_type)t));

		/* Encoding the decoded copy gives the very same bytes. */
		omo_buf again = {0};
		assert_int_equal(omo_msg_encode(&out, &again, &d), OMO_E_OK);
		assert_int_equal(again.len, buf.len);
		assert_memory_equal(again.data, buf.data, buf.len);
		omo_buf_fini(&again);
		omo_msg_fini(&out);
		omo_buf_fini(&buf);
	}
}

/* A few values spelled out, so the generic comparison cannot hide a shared mistake. */
static void test_roundtrip_explicit_values(void **state)
{
	omo_msg in, out;
	omo_buf buf = {0};
	omo_error_detail d = {0};
	(void)state;
	init_samples();

	fill_msg(&in, OMO_MSG_SUBMIT_ORDER);
	assert_int_equal(omo_msg_encode(&in, &buf, &d), OMO_E_OK);
	assert_int_equal(omo_msg_decode(buf.data, buf.len, &out, &d), OMO_E_OK);
	assert_int_equal(out.type, OMO_MSG_SUBMIT_ORDER);
	assert_int_equal(out.version, 1);
	assert_string_equal(out.producer, "orders");
	assert_true(out.epoch == (uint64_t)INT64_MAX - OMO_MSG_SUBMIT_ORDER);
	const omo_submit_order *so = &out.body.submit_order;
	assert_string_equal(so->idempotency_key, "chk-7f3a-0001");
	assert_int_equal(so->channel, OMO_CHANNEL_MARKETPLACE);
	assert_int_equal(so->fulfillment, OMO_PICKUP_IN_STORE);
	assert_string_equal(so->ship_to.city, "London");
	assert_string_equal(so->ship_to.country, "GB");
	assert_true(so->ship_to.lat_udeg == 51507400);
	assert_true(so->ship_to.lon_udeg == -127800);
	assert_int_equal(so->lines_count, 3);
	assert_ptr_not_equal(so->lines, order_lines); /* the decoded copy owns its lines */
	assert_true(so->lines[2].line_no == 1000);
	assert_string_equal(so->lines[2].sku, "SKU-0200");
	assert_true(so->lines[2].quantity == 100000);
	assert_true(so->lines[2].unit_price == 100000000000);
	omo_msg_fini(&out);
	buf.len = 0;

	fill_msg(&in, OMO_MSG_ORDER_VIEW);
	assert_int_equal(omo_msg_encode(&in, &buf, &d), OMO_E_OK);
	assert_int_equal(omo_msg_decode(buf.data, buf.len, &out, &d), OMO_E_OK);
	const omo_order_view *ov = &out.body.order_view;
	assert_int_equal(ov->status, OMO_ORDER_READY_FOR_PICKUP);
	assert_int_equal(ov->fulfillments_count, 2);
	assert_int_equal(ov->fulfillments[1].node_type, OMO_NODE_STORE);
	assert_int_equal(ov->fulfillments[1].status, OMO_FF_READY_FOR_PICKUP);
	assert_int_equal(ov->fulfillments[1].lines_count, 3);
	assert_string_equal(ov->fulfillments[1].lines[2].sku, "SKU-0008");
	assert_true(ov->fulfillments[1].lines[0].quantity == 99999);
	assert_int_equal(ov->history_count, 3);
	assert_string_equal(ov->history[2].detail, "1Z999");
	omo_msg_fini(&out);
	buf.len = 0;

	fill_msg(&in, OMO_MSG_STOCK_REPLY);
	assert_int_equal(omo_msg_encode(&in, &buf, &d), OMO_E_OK);
	assert_int_equal(omo_msg_decode(buf.data, buf.len, &out, &d), OMO_E_OK);
	assert_int_equal(out.body.stock_reply.rows_count, 3);
	assert_true(out.body.stock_reply.rows[2].available == -3);
	omo_msg_fini(&out);
	buf.len = 0;

	fill_msg(&in, OMO_MSG_EVENTS);
	assert_int_equal(omo_msg_encode(&in, &buf, &d), OMO_E_OK);
	assert_int_equal(omo_msg_decode(buf.data, buf.len, &out, &d), OMO_E_OK);
	assert_int_equal(out.body.events.events_count, 2);
	assert_int_equal(out.body.events.events[1].bytes_len, sizeof(ev_bytes_b));
	assert_memory_equal(out.body.events.events[1].bytes, ev_bytes_b, sizeof(ev_bytes_b));
	omo_msg_fini(&out);
	omo_buf_fini(&buf);
}

/* Optional fields left out, empty optional lists and a negative ts survive. */
static void test_roundtrip_minimal_message(void **state)
{
	omo_msg in, out;
	omo_buf buf = {0};
	omo_error_detail d = {0};
	(void)state;

	omo_msg_init(&in, OMO_MSG_ORDER_ROUTED);
	in.id = uuid_of(9);
	in.ts_us = -5;
	in.body.order_routed.order_id = uuid_of(3);
	in.body.order_routed.attempt = 1;
	assert_int_equal(omo_msg_encode(&in, &buf, &d), OMO_E_OK);
	assert_int_equal(omo_msg_decode(buf.data, buf.len, &out, &d), OMO_E_OK);
	assert_true(out.ts_us == -5);
	assert_true(out.seq == 0 && out.epoch == 0);
	assert_string_equal(out.producer, "");
	assert_int_equal(out.body.order_routed.fulfillments_count, 0);
	assert_int_equal(out.body.order_routed.backordered_count, 0);
	assert_true(omo_uuid_is_nil(&out.corr));
	omo_msg_fini(&out);
	omo_buf_fini(&buf);
}

static void test_rec_roundtrip_state_records(void **state)
{
	omo_route_state rs = {0}, rs2;
	omo_node_work nw = {0}, nw2;
	omo_buf buf = {0};
	omo_arena arena = {0};
	omo_error_detail d = {0};
	(void)state;
	init_samples();

	rs.order_id = uuid_of(1);
	rs.channel = OMO_CHANNEL_SOCIAL;
	rs.accepted_us = 1700000000000077;
	rs.fulfillment = OMO_PICKUP_IN_STORE;
	strcpy(rs.pickup_node, "ST-NYC");
	rs.ship_to = sample_address();
	rs.lines = order_lines;
	rs.lines_count = N(order_lines);
	rs.attempt = 1000;
	rs.rejections = 5;
	rs.cancelled = true;
	rs.retry_at_us = INT64_MAX;
	rs.pending = alloc_b;
	rs.pending_count = N(alloc_b);
	rs.excluded = node_refs;
	rs.excluded_count = N(node_refs);
	rs.parts = ff_infos;
	rs.parts_count = N(ff_infos);
	assert_all_set(&omo_rec_route_state, &rs, "route_state");
	assert_int_equal(omo_rec_encode(&omo_rec_route_state, &rs, &buf, &d), OMO_E_OK);
	assert_int_equal(omo_rec_decode(&omo_rec_route_state, buf.data, buf.len, &rs2, &arena, &d),
	                 OMO_E_OK);
	assert_rec_equal(&omo_rec_route_state, &rs, &rs2, "route_state");
	assert_true(rs2.cancelled);
	assert_true(rs2.retry_at_us == INT64_MAX);
	buf.len = 0;

	nw.fulfillment_id = uuid_of(2);
	nw.order_id = uuid_of(3);
	strcpy(nw.node, "ST-SEA");
	nw.fulfillment = OMO_PICKUP_IN_STORE;
	nw.status = OMO_FF_PICKED_UP;
	nw.due_us = 1700000000000000;
	nw.lines = alloc_a;
	nw.lines_count = N(alloc_a);
	assert_int_equal(omo_rec_encode(&omo_rec_node_work, &nw, &buf, &d), OMO_E_OK);
	assert_int_equal(omo_rec_decode(&omo_rec_node_work, buf.data, buf.len, &nw2, &arena, &d),
	                 OMO_E_OK);
	assert_rec_equal(&omo_rec_node_work, &nw, &nw2, "node_work");
	assert_int_equal(nw2.status, OMO_FF_PICKED_UP);

	omo_arena_fini(&arena);
	omo_buf_fini(&buf);
}

/* ====================================================================== */
/* encode refuses what decode would refuse                                */

static omo_err encode_fails(const omo_msg *m, omo_error_detail *d)
{
	omo_buf buf = {0};
	assert_int_equal(omo_buf_append(&buf, "abc", 3), 0);
	omo_err e = omo_msg_encode(m, &buf, d);
	assert_int_equal(buf.len, 3); /* nothing of a refused message is left behind */
	omo_buf_fini(&buf);
	return e;
}

static void test_encode_refuses_out_of_range(void **state)
{
	omo_msg m;
	omo_error_detail d = {0};
	omo_order_line lines[2];
	(void)state;
	init_samples();

	memcpy(lines, order_lines, sizeof(lines));
	fill_msg(&m, OMO_MSG_SUBMIT_ORDER);
	m.body.submit_order.lines = lines;
	m.body.submit_order.lines_count = 2;

	lines[1].quantity = 0;
	assert_int_equal(encode_fails(&m, &d), OMO_E_OUT_OF_RANGE);
	assert_int_equal(d.code, OMO_E_OUT_OF_RANGE);
	assert_contains(d.text, "lines[1].quantity");
	lines[1].quantity = 100001;
	assert_int_equal(encode_fails(&m, &d), OMO_E_OUT_OF_RANGE);
	assert_contains(d.text, "lines[1].quantity");
	lines[1].quantity = 1;

	m.body.submit_order.ship_to.lat_udeg = 90000001;
	assert_int_equal(encode_fails(&m, &d), OMO_E_OUT_OF_RANGE);
	assert_contains(d.text, "ship_to.lat_udeg");
	m.body.submit_order.ship_to.lat_udeg = 0;

	memset(m.body.submit_order.idempotency_key, 'k', 128);
	m.body.submit_order.idempotency_key[128] = '\0'; /* at the limit: fine */
	omo_buf ok = {0};
	assert_int_equal(omo_msg_encode(&m, &ok, &d), OMO_E_OK);
	omo_buf_fini(&ok);
	m.body.submit_order.idempotency_key[0] = '\0'; /* min is 1 */
	assert_int_equal(encode_fails(&m, &d), OMO_E_OUT_OF_RANGE);
	assert_contains(d.text, "idempotency_key");
	strcpy(m.body.submit_order.idempotency_key, "k");

	m.body.submit_order.channel = (omo_channel)99;
	assert_int_equal(encode_fails(&m, &d), OMO_E_OUT_OF_RANGE);
	assert_contains(d.text, "channel");
	m.body.submit_order.channel = OMO_CHANNEL_WEB;

	m.body.submit_order.lines_count = 101;
	assert_int_equal(encode_fails(&m, &d), OMO_E_OUT_OF_RANGE);
	assert_contains(d.text, "lines: 101 entries");

	/* Deep paths name every step. */
	omo_alloc_line al[2];
	omo_fulfillment_info ff[2];
	memcpy(al, alloc_a, sizeof(al));
	memcpy(ff, ff_infos, sizeof(ff));
	ff[1].lines = al;
	ff[1].lines_count = 2;
	al[1].quantity = -1;
	fill_msg(&m, OMO_MSG_ORDER_VIEW);
	m.body.order_view.fulfillments = ff;
	assert_int_equal(encode_fails(&m, &d), OMO_E_OUT_OF_RANGE);
	assert_contains(d.text, "fulfillments[1].lines[1].quantity");
	al[1].quantity = 1;
	m.body.order_view.lines_count = 0; /* an order view has at least one line */
	assert_int_equal(encode_fails(&m, &d), OMO_E_OUT_OF_RANGE);
	assert_contains(d.text, "lines: 0 entries");

	omo_msg_init(&m, OMO_MSG_FETCH_EVENTS);
	m.body.fetch_events.from_seq = 0;
	m.body.fetch_events.max = 1;
	assert_int_equal(encode_fails(&m, &d), OMO_E_OUT_OF_RANGE);
	assert_contains(d.text, "from_seq");

	omo_msg_init(&m, OMO_MSG_ACK);
	m.type = OMO_MSG_COUNT;
	assert_int_equal(encode_fails(&m, &d), OMO_E_UNKNOWN_TYPE);
}

/* schema.h: "omo never sends what it would itself refuse". The envelope's
 * epoch and seq go out as uint64 but come in only up to INT64_MAX. */
static void test_encode_refuses_envelope_decode_would_refuse(void **state)
{
	omo_msg m;
	omo_error_detail d = {0};
	omo_buf buf = {0};
	(void)state;

	omo_msg_init(&m, OMO_MSG_HEARTBEAT);
	m.id = uuid_of(1);
	m.epoch = (uint64_t)INT64_MAX + 1;
	omo_err e = omo_msg_encode(&m, &buf, &d);
	if (e == OMO_E_OK) {
		omo_msg out;
		omo_err de = omo_msg_decode(buf.data, buf.len, &out, &d);
		omo_msg_fini(&out);
		omo_buf_fini(&buf);
		if (de != OMO_E_OK) /* what was sent must be readable */
			fail_msg("epoch 2^63 was encoded, but decode refuses it: %s %s",
			         omo_err_name(de), d.text);
	} else {
		assert_int_equal(e, OMO_E_OUT_OF_RANGE);
		assert_contains(d.text, "epoch");
	}
	omo_buf_fini(&buf);
}

/* ====================================================================== */
/* hand-built bad messages                                                */

static void pk_s(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static void pk_uuid(msgpack_packer *pk, size_t n)
{
	uint8_t b[32];
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(0xa0 + i);
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, b, n);
}

/* The ways a submit_order body is spoiled. */
typedef struct so_opts {
	const char *qty2_str; /* line 2's quantity as this string, if set */
	int64_t qty2;         /* line 2's quantity (if qty2_str is NULL) */
	const char *channel;  /* channel name */
	size_t key_len;       /* idempotency key length */
	bool omit_channel;    /* leave out a required field */
	bool extra_field;     /* add "gift_wrap": true */
	bool dup_key;         /* "channel" twice */
	bool nul_in_key;      /* a NUL byte inside the idempotency key */
	int deep;             /* nest line 2 in this many extra arrays */
	int dup_env_key;      /* 1: "id" twice, 2: "type" twice in the envelope */
	bool extra_env_key;   /* "priority": 1 in the envelope */
	int64_t version;      /* "v" */
	const char *type;     /* "type" */
	size_t id_len;        /* bytes of the envelope "id" */
} so_opts;

static so_opts so_default(void)
{
	return (so_opts){.qty2 = 3,
	                 .channel = "web",
	                 .key_len = 12,
	                 .version = 1,
	                 .type = "submit_order",
	                 .id_len = 16};
}

static void pk_line(msgpack_packer *pk, int64_t no, const char *sku, const so_opts *o, bool second)
{
	msgpack_pack_map(pk, 3);
	pk_s(pk, "line_no");
	msgpack_pack_int64(pk, no);
	pk_s(pk, "sku");
	pk_s(pk, sku);
	pk_s(pk, "quantity");
	if (second && o->qty2_str != NULL)
		pk_s(pk, o->qty2_str);
	else
		msgpack_pack_int64(pk, second ? o->qty2 : 1);
}

static void build_submit_order(msgpack_sbuffer *sb, const so_opts *o)
{
	msgpack_packer pk;
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);

	msgpack_pack_map(&pk, 4 + (o->dup_env_key ? 1 : 0) + (o->extra_env_key ? 1 : 0));
	pk_s(&pk, "type");
	pk_s(&pk, o->type);
	if (o->dup_env_key == 1) {
		pk_s(&pk, "id");
		pk_uuid(&pk, 16);
	} else if (o->dup_env_key == 2) {
		pk_s(&pk, "type");
		pk_s(&pk, "cancel_order");
	}
	pk_s(&pk, "v");
	msgpack_pack_int64(&pk, o->version);
	pk_s(&pk, "id");
	pk_uuid(&pk, o->id_len);
	if (o->extra_env_key) {
		pk_s(&pk, "priority");
		msgpack_pack_int(&pk, 1);
	}
	pk_s(&pk, "body");

	msgpack_pack_map(&pk, 4 - o->omit_channel + o->extra_field + o->dup_key);
	pk_s(&pk, "idempotency_key");
	char key[300];
	memset(key, 'k', sizeof(key));
	if (o->nul_in_key)
		key[o->key_len / 2] = '\0';
	msgpack_pack_str(&pk, o->key_len);
	msgpack_pack_str_body(&pk, key, o->key_len);
	if (!o->omit_channel) {
		pk_s(&pk, "channel");
		pk_s(&pk, o->channel);
	}
	if (o->dup_key) {
		pk_s(&pk, "channel");
		pk_s(&pk, "mobile");
	}
	pk_s(&pk, "fulfillment");
	pk_s(&pk, "ship_to_home");
	if (o->extra_field) {
		pk_s(&pk, "gift_wrap");
		msgpack_pack_true(&pk);
	}
	pk_s(&pk, "lines");
	msgpack_pack_array(&pk, 2);
	pk_line(&pk, 1, "SKU-0001", o, false);
	for (int i = 0; i < o->deep; i++)
		msgpack_pack_array(&pk, 1);
	pk_line(&pk, 2, "SKU-0002", o, true);
}

static omo_err decode_so(const so_opts *o, omo_msg *m, omo_error_detail *d)
{
	msgpack_sbuffer sb;
	build_submit_order(&sb, o);
	memset(d, 0, sizeof(*d));
	omo_err e = omo_msg_decode(sb.data, sb.size, m, d);
	msgpack_sbuffer_destroy(&sb);
	if (e != OMO_E_OK)
		assert_int_equal(d->code, e);
	return e;
}

/* expect_so decodes the spoiled message and checks its code and where it points. */
static void expect_so(const so_opts *o, omo_err want, const char *where)
{
	omo_msg m;
	omo_error_detail d;
	omo_err e = decode_so(o, &m, &d);
	omo_msg_fini(&m);
	if (e != want)
		fail_msg("got %s (%s), want %s", omo_err_name(e), d.text, omo_err_name(want));
	if (where != NULL)
		assert_contains(d.text, where);
}

static void test_builder_baseline_is_valid(void **state)
{
	so_opts o = so_default();
	omo_msg m;
	omo_error_detail d;
	(void)state;
	assert_int_equal(decode_so(&o, &m, &d), OMO_E_OK);
	assert_int_equal(m.type, OMO_MSG_SUBMIT_ORDER);
	assert_int_equal(m.body.submit_order.lines_count, 2);
	assert_true(m.body.submit_order.lines[1].quantity == 3);
	assert_int_equal(m.body.submit_order.channel, OMO_CHANNEL_WEB);
	assert_int_equal(strlen(m.body.submit_order.idempotency_key), 12);
	assert_int_equal(m.body.submit_order.customer_id[0], '\0');
	omo_msg_fini(&m);
}

static omo_err decode_raw(const void *p, size_t n, omo_error_detail *d)
{
	omo_msg m;
	memset(d, 0, sizeof(*d));
	omo_err e = omo_msg_decode(p, n, &m, d);
	omo_msg_fini(&m);
	if (e != OMO_E_OK)
		assert_int_equal(d->code, e);
	return e;
}

static omo_buf valid_bytes(omo_msg_type t)
{
	omo_msg m;
	omo_buf b = {0};
	init_samples();
	fill_msg(&m, t);
	assert_int_equal(omo_msg_encode(&m, &b, NULL), OMO_E_OK);
	return b;
}

static void test_decode_not_msgpack(void **state)
{
	omo_error_detail d;
	static const uint8_t never_used[] = {0xc1};
	static const char text[] = "{\"type\":\"ack\"}";
	(void)state;
	assert_int_equal(decode_raw(never_used, sizeof(never_used), &d), OMO_E_MALFORMED);
	assert_int_equal(decode_raw(text, strlen(text), &d), OMO_E_MALFORMED);
	assert_int_equal(decode_raw("", 0, &d), OMO_E_MALFORMED);
}

static void test_decode_trailing_bytes(void **state)
{
	omo_error_detail d;
	(void)state;
	omo_buf b = valid_bytes(OMO_MSG_SUBMIT_ORDER);
	assert_int_equal(decode_raw(b.data, b.len, &d), OMO_E_OK);
	uint8_t nil = 0xc0;
	assert_int_equal(omo_buf_append(&b, &nil, 1), 0);
	assert_int_equal(decode_raw(b.data, b.len, &d), OMO_E_MALFORMED);
	omo_buf_fini(&b);
}

static void test_decode_truncated(void **state)
{
	omo_error_detail d;
	(void)state;
	omo_buf b = valid_bytes(OMO_MSG_ORDER_VIEW);
	assert_int_equal(decode_raw(b.data, b.len - 1, &d), OMO_E_MALFORMED);
	assert_int_equal(decode_raw(b.data, b.len / 2, &d), OMO_E_MALFORMED);
	assert_int_equal(decode_raw(b.data, 1, &d), OMO_E_MALFORMED);
	omo_buf_fini(&b);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_decode_huge_count_claims(void **state)
{
	omo_error_detail d;
	static const uint8_t array32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t map32[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t str32[] = {0xdb, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t bin32[] = {0xc6, 0xff, 0xff, 0xff, 0xff};
	(void)state;

	double t0 = now_s();
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(decode_raw(array32, sizeof(array32), &d), OMO_E_MALFORMED);
		assert_int_equal(decode_raw(map32, sizeof(map32), &d), OMO_E_MALFORMED);
		assert_int_equal(decode_raw(str32, sizeof(str32), &d), OMO_E_MALFORMED);
		assert_int_equal(decode_raw(bin32, sizeof(bin32), &d), OMO_E_MALFORMED);
	}
	/* 4000 refusals; a decoder that allocated 2^32 entries would take far longer. */
	double dt = now_s() - t0;
	if (dt > 2.0)
		fail_msg("4000 refusals took %.2f s", dt);

	/* The same claim inside an otherwise valid message. */
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	pk_s(&pk, "type");
	pk_s(&pk, "stock_reply");
	pk_s(&pk, "v");
	msgpack_pack_int(&pk, 1);
	pk_s(&pk, "id");
	pk_uuid(&pk, 16);
	pk_s(&pk, "body");
	msgpack_pack_map(&pk, 1);
	pk_s(&pk, "rows");
	msgpack_sbuffer_write(&sb, (const char *)array32, sizeof(array32));
	t0 = now_s();
	assert_int_equal(decode_raw(sb.data, sb.size, &d), OMO_E_MALFORMED);
	assert_true(now_s() - t0 < 1.0);
	msgpack_sbuffer_destroy(&sb);
}

static void test_decode_nesting_too_deep(void **state)
{
	so_opts o = so_default();
	(void)state;
	o.deep = 20;
	expect_so(&o, OMO_E_MALFORMED, NULL);
	o.deep = 200;
	expect_so(&o, OMO_E_MALFORMED, NULL);
}

/* Values at depth 16 are well-formed; at depth 17 they are not. */
static void test_decode_nesting_limit_is_16(void **state)
{
	uint8_t b[40];
	omo_error_detail d;
	(void)state;
	memset(b, 0x91, sizeof(b)); /* fixarray of one */
	b[16] = 0x01;               /* 16 arrays, then an int at depth 16 */
	assert_int_equal(decode_raw(b, 17, &d), OMO_E_WRONG_TYPE); /* well-formed, not a map */
	b[16] = 0x91;
	b[17] = 0x01; /* 17 arrays, an int at depth 17 */
	assert_int_equal(decode_raw(b, 18, &d), OMO_E_MALFORMED);
}

static void test_decode_too_large(void **state)
{
	omo_error_detail d;
	(void)state;
	uint8_t *big = calloc(1, (size_t)OMO_MAX_MESSAGE + 1);
	assert_non_null(big);
	assert_int_equal(decode_raw(big, (size_t)OMO_MAX_MESSAGE + 1, &d), OMO_E_TOO_LARGE);
	free(big);
}

static void test_decode_unknown_type(void **state)
{
	so_opts o = so_default();
	omo_msg m;
	omo_error_detail d;
	(void)state;
	o.type = "launch_rockets";
	assert_int_equal(decode_so(&o, &m, &d), OMO_E_UNKNOWN_TYPE);
	assert_int_equal(m.type, OMO_MSG_COUNT);
	assert_contains(d.text, "launch_rockets");
	omo_msg_fini(&m);
}

static void test_decode_wrong_version(void **state)
{
	so_opts o = so_default();
	omo_msg m;
	omo_error_detail d;
	(void)state;
	o.version = 2;
	assert_int_equal(decode_so(&o, &m, &d), OMO_E_BAD_VERSION);
	/* Set as far as read, so an error reply can name the request. */
	assert_int_equal(m.type, OMO_MSG_SUBMIT_ORDER);
	assert_int_equal(m.version, 2);
	omo_msg_fini(&m);
	o.version = 0;
	expect_so(&o, OMO_E_BAD_VERSION, NULL);
}

static void test_decode_missing_body_field(void **state)
{
	so_opts o = so_default();
	omo_msg m;
	omo_error_detail d;
	(void)state;
	o.omit_channel = true;
	assert_int_equal(decode_so(&o, &m, &d), OMO_E_MISSING_FIELD);
	assert_contains(d.text, "channel");
	assert_int_equal(m.type, OMO_MSG_SUBMIT_ORDER);
	assert_memory_equal(m.id.b, "\xa0\xa1\xa2\xa3", 4); /* the id was read */
	omo_msg_fini(&m);
}

static void test_decode_missing_envelope_fields(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	omo_error_detail d;
	(void)state;

	/* no id */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	pk_s(&pk, "type");
	pk_s(&pk, "heartbeat");
	pk_s(&pk, "v");
	msgpack_pack_int(&pk, 1);
	pk_s(&pk, "body");
	msgpack_pack_map(&pk, 1);
	pk_s(&pk, "latest_seq");
	msgpack_pack_int(&pk, 1);
	assert_int_equal(decode_raw(sb.data, sb.size, &d), OMO_E_MISSING_FIELD);
	assert_contains(d.text, "id");
	msgpack_sbuffer_destroy(&sb);

	/* no body */
	msgpack_sbuffer_init(&sb);
	msgpack_pack_map(&pk, 3);
	pk_s(&pk, "type");
	pk_s(&pk, "heartbeat");
	pk_s(&pk, "v");
	msgpack_pack_int(&pk, 1);
	pk_s(&pk, "id");
	pk_uuid(&pk, 16);
	assert_int_equal(decode_raw(sb.data, sb.size, &d), OMO_E_MISSING_FIELD);
	assert_contains(d.text, "body");
	msgpack_sbuffer_destroy(&sb);
}

static void test_decode_extra_body_field(void **state)
{
	so_opts o = so_default();
	(void)state;
	o.extra_field = true;
	expect_so(&o, OMO_E_UNKNOWN_FIELD, "gift_wrap");
}

static void test_decode_extra_envelope_key(void **state)
{
	so_opts o = so_default();
	(void)state;
	o.extra_env_key = true;
	expect_so(&o, OMO_E_UNKNOWN_FIELD, "priority");
}

static void test_decode_wrong_field_type(void **state)
{
	so_opts o = so_default();
	(void)state;
	o.qty2_str = "3";
	expect_so(&o, OMO_E_WRONG_TYPE, "lines[1].quantity");
}

static void test_decode_quantity_zero(void **state)
{
	so_opts o = so_default();
	(void)state;
	o.qty2 = 0;
	expect_so(&o, OMO_E_OUT_OF_RANGE, "lines[1].quantity");
}

static void test_decode_quantity_negative(void **state)
{
	so_opts o = so_default();
	(void)state;
	o.qty2 = -1;
	expect_so(&o, OMO_E_OUT_OF_RANGE, "lines[1].quantity");
}

static void test_decode_quantity_too_big(void **state)
{
	so_opts o = so_default();
	(void)state;
	o.qty2 = 100001;
	expect_so(&o, OMO_E_OUT_OF_RANGE, "lines[1].quantity");
	o.qty2 = 100000;
	expect_so(&o, OMO_E_OK, NULL);
}

static void test_decode_string_too_long(void **state)
{
	so_opts o = so_default();
	(void)state;
	o.key_len = 128;
	expect_so(&o, OMO_E_OK, NULL);
	o.key_len = 129;
	expect_so(&o, OMO_E_OUT_OF_RANGE, "idempotency_key");
	o.key_len = 0; /* below its minimum of 1 */
	expect_so(&o, OMO_E_OUT_OF_RANGE, "idempotency_key");
}

static void test_decode_bad_enum(void **state)
{
	so_opts o = so_default();
	(void)state;
	o.channel = "telepathy";
	expect_so(&o, OMO_E_BAD_ENUM, "channel");
	o.channel = "WEB"; /* names are case-sensitive */
	expect_so(&o, OMO_E_BAD_ENUM, "channel");
	o.channel = "we";
	expect_so(&o, OMO_E_BAD_ENUM, "channel");
}

static void test_decode_duplicate_body_key(void **state)
{
	so_opts o = so_default();
	(void)state;
	o.dup_key = true;
	expect_so(&o, OMO_E_MALFORMED, "channel");
}

/* Which "type" would win is a parser's whim: a duplicate envelope key is as
 * ambiguous as a duplicate body key. */
static void test_decode_duplicate_envelope_key(void **state)
{
	so_opts o = so_default();
	(void)state;
	o.dup_env_key = 1;
	expect_so(&o, OMO_E_MALFORMED, "id");
	o.dup_env_key = 2;
	expect_so(&o, OMO_E_MALFORMED, "type");
}

static void test_decode_uuid_15_bytes(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	omo_error_detail d;
	so_opts o = so_default();
	(void)state;

	o.id_len = 15; /* envelope id */
	expect_so(&o, OMO_E_WRONG_TYPE, "id");

	msgpack_sbuffer_init(&sb); /* body uuid */
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	pk_s(&pk, "type");
	pk_s(&pk, "get_order");
	pk_s(&pk, "v");
	msgpack_pack_int(&pk, 1);
	pk_s(&pk, "id");
	pk_uuid(&pk, 16);
	pk_s(&pk, "body");
	msgpack_pack_map(&pk, 1);
	pk_s(&pk, "order_id");
	pk_uuid(&pk, 15);
	assert_int_equal(decode_raw(sb.data, sb.size, &d), OMO_E_WRONG_TYPE);
	assert_contains(d.text, "order_id");
	msgpack_sbuffer_destroy(&sb);
}

static void test_decode_nul_in_string(void **state)
{
	so_opts o = so_default();
	(void)state;
	o.nul_in_key = true;
	expect_so(&o, OMO_E_WRONG_TYPE, "idempotency_key");
}

/* The producer names a stream in every consumer's inbox; "orders\0x" must not pass for "orders". */
static void test_decode_nul_in_producer(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	omo_error_detail d;
	(void)state;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	pk_s(&pk, "type");
	pk_s(&pk, "heartbeat");
	pk_s(&pk, "v");
	msgpack_pack_int(&pk, 1);
	pk_s(&pk, "id");
	pk_uuid(&pk, 16);
	pk_s(&pk, "producer");
	msgpack_pack_str(&pk, 8);
	msgpack_pack_str_body(&pk, "orders\0x", 8);
	pk_s(&pk, "body");
	msgpack_pack_map(&pk, 1);
	pk_s(&pk, "latest_seq");
	msgpack_pack_int(&pk, 1);
	omo_err e = decode_raw(sb.data, sb.size, &d);
	msgpack_sbuffer_destroy(&sb);
	if (e != OMO_E_WRONG_TYPE)
		fail_msg("producer \"orders\\0x\" decoded as %s, want WRONG_TYPE", omo_err_name(e));
	assert_contains(d.text, "producer");
}

/* ====================================================================== */
/* JSON                                                                   */

static void test_json_roundtrip_order_view(void **state)
{
	omo_order_view in, out;
	omo_arena arena = {0};
	omo_error_detail d = {0};
	char id[37];
	(void)state;
	init_samples();

	sample_order_view(&in);
	char *json = omo_rec_to_json(&omo_rec_order_view, &in, false);
	assert_non_null(json);
	omo_uuid_format(&in.order_id, id);
	char want[64];
	snprintf(want, sizeof(want), "\"order_id\":\"%s\"", id);
	assert_contains(json, want);
	assert_contains(json, "\"channel\":\"marketplace\"");
	assert_contains(json, "\"status\":\"ready_for_pickup\"");
	assert_contains(json, "\"lon_udeg\":-127800");
	assert_contains(json, "\"unit_price\":100000000000");

	assert_int_equal(
	    omo_rec_from_json(&omo_rec_order_view, json, strlen(json), &out, &arena, &d), OMO_E_OK);
	assert_rec_equal(&omo_rec_order_view, &in, &out, "order_view");
	free(json);

	json = omo_rec_to_json(&omo_rec_order_view, &in, true); /* pretty parses the same */
	assert_non_null(json);
	assert_non_null(strchr(json, '\n'));
	assert_int_equal(
	    omo_rec_from_json(&omo_rec_order_view, json, strlen(json), &out, &arena, &d), OMO_E_OK);
	assert_rec_equal(&omo_rec_order_view, &in, &out, "order_view");
	free(json);
	omo_arena_fini(&arena);
}

static omo_err json_decode(const char *text, omo_error_detail *d)
{
	omo_order_line line;
	omo_arena arena = {0};
	memset(d, 0, sizeof(*d));
	omo_err e = omo_rec_from_json(&omo_rec_order_line, text, strlen(text), &line, &arena, d);
	omo_arena_fini(&arena);
	if (e != OMO_E_OK)
		assert_int_equal(d->code, e);
	return e;
}

static void test_json_errors(void **state)
{
	omo_error_detail d;
	(void)state;
	assert_int_equal(json_decode("{\"line_no\":1,\"sku\":\"A\",\"quantity\":2}", &d), OMO_E_OK);
	assert_int_equal(
	    json_decode("{\"line_no\":1,\"sku\":\"A\",\"quantity\":2,\"colour\":\"red\"}", &d),
	    OMO_E_UNKNOWN_FIELD);
	assert_contains(d.text, "colour");
	assert_int_equal(json_decode("{\"line_no\":1,\"sku\":\"A\"}", &d), OMO_E_MISSING_FIELD);
	assert_contains(d.text, "quantity");
	assert_int_equal(json_decode("{\"line_no\":1,\"sku\":\"A\",\"quantity\":", &d),
	                 OMO_E_MALFORMED);
	assert_int_equal(json_decode("not json", &d), OMO_E_MALFORMED);
	assert_int_equal(
	    json_decode("{\"line_no\":1,\"line_no\":2,\"sku\":\"A\",\"quantity\":2}", &d),
	    OMO_E_MALFORMED);
	assert_int_equal(json_decode("{\"line_no\":1,\"sku\":\"A\",\"quantity\":\"2\"}", &d),
	                 OMO_E_WRONG_TYPE);
	assert_int_equal(json_decode("{\"line_no\":1,\"sku\":\"A\",\"quantity\":0}", &d),
	                 OMO_E_OUT_OF_RANGE);
	assert_contains(d.text, "quantity");
	assert_int_equal(json_decode("{\"line_no\":1,\"sku\":\"\",\"quantity\":1}", &d),
	                 OMO_E_OUT_OF_RANGE);
	/* jansson refuses \u0000 itself (no JSON_ALLOW_NUL), so it never reaches a record. */
	assert_int_equal(json_decode("{\"line_no\":1,\"sku\":\"A\\u0000B\",\"quantity\":1}", &d),
	                 OMO_E_MALFORMED);
	assert_int_equal(json_decode("[1,2]", &d), OMO_E_WRONG_TYPE);
}

static void test_json_nested_errors_name_the_path(void **state)
{
	omo_order_view in, out;
	omo_arena arena = {0};
	omo_error_detail d = {0};
	(void)state;
	init_samples();

	sample_order_view(&in);
	char *json = omo_rec_to_json(&omo_rec_order_view, &in, false);
	assert_non_null(json);
	/* Break the second order line's quantity (100000 only appears there... in lines[2]). */
	char *q = strstr(json, "\"quantity\":100000,");
	assert_non_null(q);
	memcpy(q, "\"quantity\":     0,", 18);
	assert_int_equal(
	    omo_rec_from_json(&omo_rec_order_view, json, strlen(json), &out, &arena, &d),
	    OMO_E_OUT_OF_RANGE);
	assert_contains(d.text, "lines[2].quantity");
	free(json);

	json = omo_rec_to_json(&omo_rec_order_view, &in, false);
	q = strstr(json, "\"marketplace\"");
	assert_non_null(q);
	memcpy(q, "\"marketpIace\"", 13);
	assert_int_equal(
	    omo_rec_from_json(&omo_rec_order_view, json, strlen(json), &out, &arena, &d),
	    OMO_E_BAD_ENUM);
	assert_contains(d.text, "channel");
	free(json);
	omo_arena_fini(&arena);
}

/* ====================================================================== */
/* errors, enumerations, ids                                              */

static void test_error_names(void **state)
{
	static const struct {
		omo_err code;
		const char *name;
		bool retry;
	} want[] = {
	    {OMO_E_OK, "OK", false},
	    {OMO_E_MALFORMED, "MALFORMED", false},
	    {OMO_E_TOO_LARGE, "TOO_LARGE", false},
	    {OMO_E_UNKNOWN_TYPE, "UNKNOWN_TYPE", false},
	    {OMO_E_BAD_VERSION, "BAD_VERSION", false},
	    {OMO_E_MISSING_FIELD, "MISSING_FIELD", false},
	    {OMO_E_UNKNOWN_FIELD, "UNKNOWN_FIELD", false},
	    {OMO_E_WRONG_TYPE, "WRONG_TYPE", false},
	    {OMO_E_OUT_OF_RANGE, "OUT_OF_RANGE", false},
	    {OMO_E_BAD_ENUM, "BAD_ENUM", false},
	    {OMO_E_EMPTY_ORDER, "EMPTY_ORDER", false},
	    {OMO_E_DUPLICATE_LINE, "DUPLICATE_LINE", false},
	    {OMO_E_UNKNOWN_SKU, "UNKNOWN_SKU", false},
	    {OMO_E_UNKNOWN_NODE, "UNKNOWN_NODE", false},
	    {OMO_E_NOT_FOUND, "NOT_FOUND", false},
	    {OMO_E_BAD_STATE, "BAD_STATE", false},
	    {OMO_E_OUT_OF_STOCK, "OUT_OF_STOCK", true},
	    {OMO_E_CONFLICT, "CONFLICT", false},
	    {OMO_E_UNAVAILABLE, "UNAVAILABLE", true},
	    {OMO_E_STORE_FULL, "STORE_FULL", true},
	    {OMO_E_IO, "IO", true},
	    {OMO_E_NOMEM, "NOMEM", true},
	    {OMO_E_CONFIG, "CONFIG", false},
	    {OMO_E_INTERNAL, "INTERNAL", true},
	};
	(void)state;
	/* The codes are stable wire values: this list is deliberately written out by hand. */
	assert_int_equal(N(want), OMO_E_COUNT);
	for (size_t i = 0; i < N(want); i++) {
		assert_int_equal(want[i].code, (omo_err)i);
		assert_string_equal(omo_err_name(want[i].code), want[i].name);
		assert_int_equal(omo_err_from_name(want[i].name), want[i].code);
		assert_int_equal(omo_err_retryable(want[i].code), want[i].retry);
		assert_true(strlen(omo_strerror(want[i].code)) > 0);
	}
	assert_int_equal(omo_err_from_name("NO_SUCH_CODE"), OMO_E_COUNT);
	assert_int_equal(omo_err_from_name("out_of_stock"), OMO_E_COUNT);
	assert_int_equal(omo_err_from_name(""), OMO_E_COUNT);
	assert_string_equal(omo_err_name(OMO_E_COUNT), "INTERNAL");
	assert_string_equal(omo_strerror(OMO_E_OUT_OF_STOCK), "not enough stock is available");
	assert_false(omo_err_retryable(OMO_E_COUNT));

	omo_error_detail d = {0};
	assert_int_equal(omo_fail(&d, OMO_E_CONFLICT, "key %s", "k1"), OMO_E_CONFLICT);
	assert_int_equal(d.code, OMO_E_CONFLICT);
	assert_string_equal(d.text, "key k1");
	assert_int_equal(omo_fail(NULL, OMO_E_IO, "x"), OMO_E_IO);
}

static void test_error_reply(void **state)
{
	omo_msg m;
	omo_uuid corr = uuid_of(77);
	(void)state;
	omo_msg_error(&m, &corr, OMO_E_NOT_FOUND, "order 12 is unknown");
	assert_int_equal(m.type, OMO_MSG_ERROR);
	assert_memory_equal(m.corr.b, corr.b, 16);
	assert_false(omo_uuid_is_nil(&m.id));
	assert_string_equal(m.body.error.code, "NOT_FOUND");
	assert_string_equal(m.body.error.message, "order 12 is unknown");
	omo_msg_error(&m, NULL, OMO_E_IO, NULL);
	assert_string_equal(m.body.error.code, "IO");
	assert_string_equal(m.body.error.message, omo_strerror(OMO_E_IO));
	assert_true(omo_uuid_is_nil(&m.corr));
}

static void test_enums(void **state)
{
	(void)state;
	assert_int_equal(omo_enum_channel.count, 6);
	assert_int_equal(omo_enum_order_status.count, 8);
	assert_int_equal(omo_enum_fulfillment_status.count, 8);
	assert_int_equal(omo_enum_node_type.count, 3);
	assert_int_equal(omo_enum_fulfillment.count, 2);
	assert_string_equal(omo_enum_channel.name, "channel");

	assert_string_equal(omo_enum_name(&omo_enum_channel, OMO_CHANNEL_B2B), "b2b");
	assert_string_equal(omo_enum_name(&omo_enum_order_status, OMO_ORDER_READY_FOR_PICKUP),
	                    "ready_for_pickup");
	assert_string_equal(omo_enum_name(&omo_enum_fulfillment_status, OMO_FF_PICKED_UP),
	                    "picked_up");
	assert_string_equal(omo_enum_name(&omo_enum_node_type, OMO_NODE_MANUFACTURER),
	                    "manufacturer");
	assert_string_equal(omo_enum_name(&omo_enum_channel, -1), "?");
	assert_string_equal(omo_enum_name(&omo_enum_channel, 6), "?");

	assert_int_equal(omo_enum_parse(&omo_enum_fulfillment, "pickup_in_store", 15),
	                 OMO_PICKUP_IN_STORE);
	assert_int_equal(omo_enum_parse(&omo_enum_channel, "mobile", 6), OMO_CHANNEL_MOBILE);
	assert_int_equal(omo_enum_parse(&omo_enum_channel, "mobilex", 6), OMO_CHANNEL_MOBILE);
	assert_int_equal(omo_enum_parse(&omo_enum_channel, "mobile", 5), -1);
	assert_int_equal(omo_enum_parse(&omo_enum_channel, "Mobile", 6), -1);
	assert_int_equal(omo_enum_parse(&omo_enum_channel, "", 0), -1);
	for (int i = 0; i < (int)omo_enum_order_status.count; i++) {
		const char *w = omo_enum_name(&omo_enum_order_status, i);
		assert_int_equal(omo_enum_parse(&omo_enum_order_status, w, strlen(w)), i);
	}
}

static void test_message_descriptors(void **state)
{
	(void)state;
	assert_int_equal(OMO_MSG_COUNT, 32);
	assert_string_equal(omo_msg_name(OMO_MSG_SUBMIT_ORDER), "submit_order");
	assert_string_equal(omo_msg_name(OMO_MSG_FULFILLMENT_UPDATE), "fulfillment_update");
	assert_string_equal(omo_msg_name(OMO_MSG_COUNT), "?");
	assert_string_equal(omo_msg_descs[OMO_MSG_SUBMIT_ORDER].kind, "command");
	assert_string_equal(omo_msg_descs[OMO_MSG_EVENTS].kind, "reply");
	assert_string_equal(omo_msg_descs[OMO_MSG_GET_ORDER].kind, "query");
	assert_string_equal(omo_msg_descs[OMO_MSG_HEARTBEAT].kind, "event");
	assert_ptr_equal(omo_msg_descs[OMO_MSG_ORDER_VIEW].body, &omo_rec_order_view);
	for (int t = 0; t < OMO_MSG_COUNT; t++) {
		omo_msg m;
		omo_msg_init(&m, (omo_msg_type)t);
		assert_int_equal(m.type, t);
		assert_int_equal(m.version, omo_msg_descs[t].version);
		assert_int_equal(m.version, 1);
	}
}

static void test_uuid(void **state)
{
	omo_uuid u = uuid_of(0), v, w;
	char s[37];
	(void)state;

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(i * 16 + i); /* 00 11 22 ... ff */
	omo_uuid_format(&u, s);
	assert_string_equal(s, "00112233-4455-6677-8899-aabbccddeeff");
	assert_true(omo_uuid_parse(s, &v));
	assert_memory_equal(u.b, v.b, 16);
	assert_true(omo_uuid_parse("00112233-4455-6677-8899-AABBCCDDEEFF", &v));
	assert_memory_equal(u.b, v.b, 16);

	assert_false(omo_uuid_parse("00112233-4455-6677-8899-aabbccddeef", &v));   /* 35 */
	assert_false(omo_uuid_parse("00112233-4455-6677-8899-aabbccddeeff0", &v)); /* 37 */
	assert_false(omo_uuid_parse("0011223304455-6677-8899-aabbccddeeff", &v));
	assert_false(omo_uuid_parse("00112233-4455-6677-8899-aabbccddeefg", &v));
	assert_false(omo_uuid_parse("", &v));

	omo_uuid nil = {{0}};
	assert_true(omo_uuid_is_nil(&nil));
	assert_false(omo_uuid_is_nil(&u));
	omo_uuid_generate(&v);
	omo_uuid_generate(&w);
	assert_false(omo_uuid_is_nil(&v));
	assert_memory_not_equal(v.b, w.b, 16);
	assert_int_equal(v.b[6] >> 4, 7); /* time-ordered (version 7) */
	assert_int_equal(v.b[8] >> 6, 2); /* RFC 9562 variant */
	/* Later ids sort after earlier ones (milliseconds first), and none repeats. */
	omo_uuid prev = w;
	for (int i = 0; i < 100000; i++) {
		omo_uuid next;
		omo_uuid_generate(&next);
		assert_true(memcmp(next.b, prev.b, 6) >= 0);
		assert_memory_not_equal(next.b, prev.b, 16);
		prev = next;
	}
}

static void test_buf_and_arena(void **state)
{
	omo_buf b = {0};
	omo_arena a = {0};
	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(omo_buf_append(&b, "0123456789", 10), 0);
	assert_int_equal(b.len, 10000);
	assert_true(b.cap >= b.len);
	assert_memory_equal(b.data + 9990, "0123456789", 10);
	assert_int_equal(omo_buf_append(&b, NULL, 0), 0);
	assert_int_equal(b.len, 10000);
	omo_buf_fini(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);

	uint8_t *p = omo_arena_alloc(&a, 100);
	assert_non_null(p);
	for (int i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
	assert_non_null(omo_arena_alloc(&a, 0));
	omo_arena_fini(&a);
	assert_null(a.head);
	omo_arena_fini(&a); /* twice is fine */
}

/* ====================================================================== */
/* mutation run                                                           */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: the same stream on every platform for a given seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static size_t rng_below(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
                                      0xbf, 0xc0, 0xc1, 0xc4, 0xc6, 0xcc, 0xcf, 0xd3,
                                      0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};

static void test_fuzz_decode_mutations(void **state)
{
	uint64_t seed = 0x5eedf00dcafe1234ull;
	const char *env = getenv("OMO_FUZZ_SEED");
	omo_buf corpus[OMO_MSG_COUNT];
	int counts[OMO_E_COUNT + 1] = {0}; /* +1: the compiler cannot see fail_msg() end the test */
	(void)state;

	if (env != NULL && env[0] != '\0')
		seed = strtoull(env, NULL, 0);
	printf("test_fuzz_decode_mutations: seed %llu (set OMO_FUZZ_SEED to change)\n",
	       (unsigned long long)seed);
	rng_state = seed ? seed : 1;
	for (int t = 0; t < OMO_MSG_COUNT; t++)
		corpus[t] = valid_bytes((omo_msg_type)t);

	uint8_t *work = malloc(1 << 16);
	assert_non_null(work);
	for (int iter = 0; iter < 20000; iter++) {
		const omo_buf *src = &corpus[rng_below(OMO_MSG_COUNT)];
		size_t len = src->len;
		memcpy(work, src->data, len);
		int n_mut = 1 + (int)rng_below(4);
		for (int k = 0; k < n_mut; k++) {
			switch (rng_below(6)) {
			case 0: /* bit flip */
				if (len)
					work[rng_below(len)] ^= (uint8_t)(1u << rng_below(8));
				break;
			case 1: /* truncate */ len = rng_below(len + 1); break;
			case 2: /* random byte */
				if (len)
					work[rng_below(len)] = (uint8_t)rng();
				break;
			case 3: /* interesting byte */
				if (len)
					work[rng_below(len)] =
					    interesting[rng_below(N(interesting))];
				break;
			case 4: { /* insert random bytes */
				size_t at = rng_below(len + 1), n = 1 + rng_below(8);
				if (len + n <= (1 << 16)) {
					memmove(work + at + n, work + at, len - at);
					for (size_t i = 0; i < n; i++)
						work[at + i] = (uint8_t)rng();
					len += n;
				}
				break;
			}
			case 5: { /* delete a run */
				if (len) {
					size_t at = rng_below(len), n = 1 + rng_below(8);
					if (n > len - at)
						n = len - at;
					memmove(work + at, work + at + n, len - at - n);
					len -= n;
				}
				break;
			}
			}
		}
		omo_msg m;
		omo_error_detail d = {.code = OMO_E_COUNT};
		/* A copy of exactly len bytes, so ASan sees any read past the end. */
		uint8_t *exact = malloc(len ? len : 1);
		assert_non_null(exact);
		memcpy(exact, work, len);
		omo_err e = omo_msg_decode(exact, len, &m, &d);
		if ((unsigned)e >= OMO_E_COUNT)
			fail_msg("seed %llu iteration %d: decode returned %d",
			         (unsigned long long)seed, iter, (int)e);
		counts[e]++;
		if (e != OMO_E_OK) {
			if (d.code != e)
				fail_msg("seed %llu iteration %d: returned %s, detail says %s",
				         (unsigned long long)seed, iter, omo_err_name(e),
				         omo_err_name(d.code));
		} else {
			omo_buf out = {0};
			omo_err re = omo_msg_encode(&m, &out, &d);
			if (re != OMO_E_OK)
				fail_msg(
				    "seed %llu iteration %d: decoded %s does not re-encode: %s %s",
				    (unsigned long long)seed, iter, omo_msg_name(m.type),
				    omo_err_name(re), d.text);
			omo_msg m2;
			assert_int_equal(omo_msg_decode(out.data, out.len, &m2, &d), OMO_E_OK);
			omo_msg_fini(&m2);
			omo_buf_fini(&out);
		}
		omo_msg_fini(&m);
		free(exact);
	}
	printf("test_fuzz_decode_mutations: outcomes:");
	for (int e = 0; e < OMO_E_COUNT; e++)
		if (counts[e])
			printf(" %s=%d", omo_err_name((omo_err)e), counts[e]);
	printf("\n");
	/* The mutations must reach past the first check, or the run proves little. */
	assert_true(counts[OMO_E_MALFORMED] > 0);
	assert_true(counts[OMO_E_OK] > 0);
	assert_true(counts[OMO_E_OUT_OF_RANGE] + counts[OMO_E_WRONG_TYPE] + counts[OMO_E_BAD_ENUM] +
	                counts[OMO_E_UNKNOWN_FIELD] >
	            0);
	free(work);
	for (int t = 0; t < OMO_MSG_COUNT; t++)
		omo_buf_fini(&corpus[t]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_every_message_type),
	    cmocka_unit_test(test_roundtrip_explicit_values),
	    cmocka_unit_test(test_roundtrip_minimal_message),
	    cmocka_unit_test(test_rec_roundtrip_state_records),
	    cmocka_unit_test(test_encode_refuses_out_of_range),
	    cmocka_unit_test(test_encode_refuses_envelope_decode_would_refuse),
	    cmocka_unit_test(test_builder_baseline_is_valid),
	    cmocka_unit_test(test_decode_not_msgpack),
	    cmocka_unit_test(test_decode_trailing_bytes),
	    cmocka_unit_test(test_decode_truncated),
	    cmocka_unit_test(test_decode_huge_count_claims),
	    cmocka_unit_test(test_decode_nesting_too_deep),
	    cmocka_unit_test(test_decode_nesting_limit_is_16),
	    cmocka_unit_test(test_decode_too_large),
	    cmocka_unit_test(test_decode_unknown_type),
	    cmocka_unit_test(test_decode_wrong_version),
	    cmocka_unit_test(test_decode_missing_body_field),
	    cmocka_unit_test(test_decode_missing_envelope_fields),
	    cmocka_unit_test(test_decode_extra_body_field),
	    cmocka_unit_test(test_decode_extra_envelope_key),
	    cmocka_unit_test(test_decode_wrong_field_type),
	    cmocka_unit_test(test_decode_quantity_zero),
	    cmocka_unit_test(test_decode_quantity_negative),
	    cmocka_unit_test(test_decode_quantity_too_big),
	    cmocka_unit_test(test_decode_string_too_long),
	    cmocka_unit_test(test_decode_bad_enum),
	    cmocka_unit_test(test_decode_duplicate_body_key),
	    cmocka_unit_test(test_decode_duplicate_envelope_key),
	    cmocka_unit_test(test_decode_uuid_15_bytes),
	    cmocka_unit_test(test_decode_nul_in_string),
	    cmocka_unit_test(test_decode_nul_in_producer),
	    cmocka_unit_test(test_json_roundtrip_order_view),
	    cmocka_unit_test(test_json_errors),
	    cmocka_unit_test(test_json_nested_errors_name_the_path),
	    cmocka_unit_test(test_error_names),
	    cmocka_unit_test(test_error_reply),
	    cmocka_unit_test(test_enums),
	    cmocka_unit_test(test_message_descriptors),
	    cmocka_unit_test(test_uuid),
	    cmocka_unit_test(test_buf_and_arena),
	    cmocka_unit_test(test_fuzz_decode_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
