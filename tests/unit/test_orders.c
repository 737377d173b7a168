/*
 * test_orders.c - the orders service's handlers (services/orders), driven
 * through one core on a fixed virtual clock: submit and its idempotency,
 * every validation error, get and cancel, and the order's status as the
 * router's and the nodes' events arrive (in order, early, twice, with a gap).
 * Every request and event is made by hand here; every reply, stored order
 * and emitted event is checked field by field.
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
#include "orders.h"
#include "testkit.h"

#define NOW      TK_NOW /* 2026-01-01T00:00:00Z */
#define EPOCH_RT 1111
#define EPOCH_WH 2222
#define EPOCH_ST 3333

/* ====================================================================== */
/* a service core under test (testkit.h)                                  */

typedef struct fx {
	tk_svc s;
	tk_got g; /* events the last batch published, decoded */
	tk_stream router, wh, store;
} fx;

/* request runs req alone in a batch, decodes the reply into r, keeps the
 * events published in g and, if raw is not NULL, the reply's bytes. */
static void request(fx *f, omo_msg *req, omo_msg *r, omo_buf *raw)
{
	tk_request(&f->s, &f->g, req, r, raw);
}

/* feed offers ev as the next event of stream st (seq given, or the next one
 * if seq is 0) in a batch of its own; the events published land in g. */
static omo_applied feed_seq(fx *f, tk_stream *st, omo_msg *ev, uint64_t seq, omo_gap *gap)
{
	return tk_feed(&f->s, &f->g, st, ev, seq, gap, NULL);
}

static void feed(fx *f, tk_stream *st, omo_msg *ev)
{
	assert_int_equal(feed_seq(f, st, ev, 0, NULL), OMO_APPLIED);
}

/* ====================================================================== */
/* fixture and message makers                                             */

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	omo_log_init("test_orders", "error");
	tk_svc_open(&f->s, &orders_service, "orders", NULL);
	f->router = (tk_stream){"router", EPOCH_RT, 0};
	f->wh = (tk_stream){"node-warehouse", EPOCH_WH, 0};
	f->store = (tk_stream){"node-store", EPOCH_ST, 0};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	tk_got_fini(&f->g);
	tk_svc_close(&f->s);
	free(f);
	return 0;
}

static omo_order_line std_lines[2] = {
    {.line_no = 1, .sku = "SKU-0001", .quantity = 2, .unit_price = 611},
    {.line_no = 2, .sku = "SKU-0002", .quantity = 1, .unit_price = 5014},
};

static const omo_address new_york = {.name = "Ada",
                                     .line1 = "1 Main St",
                                     .city = "New York",
                                     .postal_code = "10001",
                                     .country = "US",
                                     .lat_udeg = 40712800,
                                     .lon_udeg = -74006000};

/* submit_msg fills a ship-to-home submit_order of the two standard lines. */
static void submit_msg(omo_msg *m, const char *key)
{
	omo_msg_init(m, OMO_MSG_SUBMIT_ORDER);
	omo_submit_order *s = &m->body.submit_order;
	snprintf(s->idempotency_key, sizeof(s->idempotency_key), "%s", key);
	s->channel = OMO_CHANNEL_WEB;
	s->fulfillment = OMO_SHIP_TO_HOME;
	snprintf(s->customer_id, sizeof(s->customer_id), "cust-42");
	s->ship_to = new_york;
	s->lines = std_lines;
	s->lines_count = 2;
}

/* submit_ok submits the standard order under key and returns its id. */
static omo_uuid submit_ok(fx *f, const char *key)
{
	omo_msg req, r;
	submit_msg(&req, key);
	request(f, &req, &r, NULL);
	if (r.type != OMO_MSG_SUBMIT_ORDER_REPLY)
		fail_msg("submit %s: %s %s", key, r.body.error.code, r.body.error.message);
	omo_uuid id = r.body.submit_order_reply.order_id;
	omo_msg_fini(&r);
	return id;
}

/* get_view reads order id; the caller fini's v. */
static void get_view(fx *f, const omo_uuid *id, omo_msg *v)
{
	omo_msg req;
	omo_msg_init(&req, OMO_MSG_GET_ORDER);
	req.body.get_order.order_id = *id;
	request(f, &req, v, NULL);
	if (v->type != OMO_MSG_ORDER_VIEW)
		fail_msg("get_order: %s %s", v->body.error.code, v->body.error.message);
	assert_int_equal(f->g.n, 0); /* reading emits nothing */
}

static omo_order_status status_of(fx *f, const omo_uuid *id)
{
	omo_msg v;
	get_view(f, id, &v);
	omo_order_status s = v.body.order_view.status;
	omo_msg_fini(&v);
	return s;
}

static void assert_status(fx *f, const omo_uuid *id, omo_order_status want)
{
	omo_order_status s = status_of(f, id);
	if (s != want)
		fail_msg("order is %s, want %s", omo_enum_name(&omo_enum_order_status, (int)s),
		         omo_enum_name(&omo_enum_order_status, (int)want));
}

/* assert_status_event checks g holds exactly one event: order id's status is now s. */
static void assert_status_event(fx *f, const omo_uuid *id, omo_order_status s)
{
	assert_int_equal(f->g.n, 1);
	const omo_msg *m = &f->g.m[0];
	assert_int_equal(m->type, OMO_MSG_ORDER_STATUS_CHANGED);
	assert_string_equal(m->producer, "orders");
	assert_memory_equal(m->corr.b, id->b, 16);
	assert_memory_equal(m->body.order_status_changed.order_id.b, id->b, 16);
	assert_int_equal(m->body.order_status_changed.status, s);
}

/* A part of an order as the router announces it. */
typedef struct part {
	omo_uuid fid;
	const char *node;
	omo_node_type type;
	omo_alloc_line line;
} part;

static void part_make(part *p, const char *node, omo_node_type type, int64_t line_no,
                      const char *sku, int64_t qty)
{
	omo_uuid_generate(&p->fid);
	p->node = node;
	p->type = type;
	p->line = (omo_alloc_line){.line_no = line_no, .quantity = qty};
	snprintf(p->line.sku, sizeof(p->line.sku), "%s", sku);
}

/* routed_msg fills an order_routed announcing parts (all requested). */
static void routed_msg(omo_msg *m, const omo_uuid *order, int64_t attempt, part *parts, uint32_t n,
                       omo_fulfillment_info *buf)
{
	omo_msg_init(m, OMO_MSG_ORDER_ROUTED);
	m->corr = *order;
	m->body.order_routed.order_id = *order;
	m->body.order_routed.attempt = attempt;
	for (uint32_t i = 0; i < n; i++) {
		memset(&buf[i], 0, sizeof(buf[i]));
		buf[i].fulfillment_id = parts[i].fid;
		snprintf(buf[i].node, sizeof(buf[i].node), "%s", parts[i].node);
		buf[i].node_type = parts[i].type;
		buf[i].status = OMO_FF_REQUESTED;
		buf[i].lines = &parts[i].line;
		buf[i].lines_count = 1;
	}
	m->body.order_routed.fulfillments = buf;
	m->body.order_routed.fulfillments_count = n;
}

static void update_msg(omo_msg *m, const omo_uuid *order, const part *p, omo_fulfillment_status s,
                       const char *detail)
{
	omo_msg_init(m, OMO_MSG_FULFILLMENT_UPDATE);
	m->corr = *order;
	omo_fulfillment_update *u = &m->body.fulfillment_update;
	u->fulfillment_id = p->fid;
	u->order_id = *order;
	snprintf(u->node, sizeof(u->node), "%s", p->node);
	u->status = s;
	snprintf(u->detail, sizeof(u->detail), "%s", detail ? detail : "");
}

/* update sends a node's update for part p from the stream of its node type. */
static void update(fx *f, const omo_uuid *order, const part *p, omo_fulfillment_status s)
{
	omo_msg m;
	update_msg(&m, order, p, s, NULL);
	feed(f, p->type == OMO_NODE_STORE ? &f->store : &f->wh, &m);
}

static void route(fx *f, const omo_uuid *order, part *parts, uint32_t n)
{
	omo_msg m;
	omo_fulfillment_info buf[4];
	routed_msg(&m, order, 1, parts, n, buf);
	feed(f, &f->router, &m);
}

static const omo_fulfillment_info *find_part(const omo_order_view *o, const part *p)
{
	for (uint32_t i = 0; i < o->fulfillments_count; i++)
		if (memcmp(o->fulfillments[i].fulfillment_id.b, p->fid.b, 16) == 0)
			return &o->fulfillments[i];
	return NULL;
}

static void assert_part_status(fx *f, const omo_uuid *order, const part *p,
                               omo_fulfillment_status want)
{
	omo_msg v;
	get_view(f, order, &v);
	const omo_fulfillment_info *fi = find_part(&v.body.order_view, p);
	assert_non_null(fi);
	if (fi->status != want)
		fail_msg("part at %s is %s, want %s", p->node,
		         omo_enum_name(&omo_enum_fulfillment_status, (int)fi->status),
		         omo_enum_name(&omo_enum_fulfillment_status, (int)want));
	omo_msg_fini(&v);
}

/* ====================================================================== */
/* submit                                                                 */

static void test_submit_accepted(void **state)
{
	fx *f = *state;
	omo_msg req, r, v;
	submit_msg(&req, "key-1");
	request(f, &req, &r, NULL);
	assert_int_equal(r.type, OMO_MSG_SUBMIT_ORDER_REPLY);
	const omo_submit_order_reply *rep = &r.body.submit_order_reply;
	omo_uuid id = rep->order_id;
	assert_false(omo_uuid_is_nil(&id));
	assert_int_equal(rep->status, OMO_ORDER_ACCEPTED);
	assert_int_equal(rep->accepted_us, NOW);
	omo_msg_fini(&r);

	/* exactly one order_accepted, carrying the order as submitted */
	assert_int_equal(f->g.n, 1);
	const omo_msg *e = &f->g.m[0];
	assert_int_equal(e->type, OMO_MSG_ORDER_ACCEPTED);
	assert_string_equal(e->producer, "orders");
	assert_int_equal(e->seq, 1);
	assert_int_equal(e->ts_us, NOW);
	assert_memory_equal(e->corr.b, id.b, 16);
	const omo_order_accepted *a = &e->body.order_accepted;
	assert_memory_equal(a->order_id.b, id.b, 16);
	assert_int_equal(a->channel, OMO_CHANNEL_WEB);
	assert_int_equal(a->fulfillment, OMO_SHIP_TO_HOME);
	assert_string_equal(a->pickup_node, "");
	assert_int_equal(a->ship_to.lat_udeg, 40712800);
	assert_int_equal(a->ship_to.lon_udeg, -74006000);
	assert_string_equal(a->ship_to.country, "US");
	assert_string_equal(a->ship_to.city, "New York");
	assert_int_equal(a->lines_count, 2);
	for (uint32_t i = 0; i < 2; i++) {
		assert_int_equal(a->lines[i].line_no, std_lines[i].line_no);
		assert_string_equal(a->lines[i].sku, std_lines[i].sku);
		assert_int_equal(a->lines[i].quantity, std_lines[i].quantity);
		assert_int_equal(a->lines[i].unit_price, std_lines[i].unit_price);
	}

	/* stored as accepted, with its history */
	get_view(f, &id, &v);
	const omo_order_view *o = &v.body.order_view;
	assert_memory_equal(o->order_id.b, id.b, 16);
	assert_string_equal(o->idempotency_key, "key-1");
	assert_string_equal(o->customer_id, "cust-42");
	assert_int_equal(o->status, OMO_ORDER_ACCEPTED);
	assert_int_equal(o->accepted_us, NOW);
	assert_int_equal(o->lines_count, 2);
	assert_string_equal(o->lines[1].sku, "SKU-0002");
	assert_int_equal(o->fulfillments_count, 0);
	assert_int_equal(o->backordered_count, 0);
	assert_int_equal(o->history_count, 1);
	assert_string_equal(o->history[0].event, "accepted");
	assert_int_equal(o->history[0].ts_us, NOW);
	omo_msg_fini(&v);
}

static void test_submit_same_key_same_body(void **state)
{
	fx *f = *state;
	omo_msg req, r1, r2, r3;
	omo_buf raw1, raw3, b1 = {0}, b2 = {0};
	submit_msg(&req, "key-retry");
	request(f, &req, &r1, &raw1);
	assert_int_equal(r1.type, OMO_MSG_SUBMIT_ORDER_REPLY);
	assert_int_equal(f->g.n, 1);

	/* the checkout retries later with a new request id: same answer, nothing new */
	f->s.now += 5000000;
	omo_msg again;
	submit_msg(&again, "key-retry");
	request(f, &again, &r2, NULL);
	assert_int_equal(r2.type, OMO_MSG_SUBMIT_ORDER_REPLY);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(omo_rec_encode(&omo_rec_submit_order_reply, &r1.body, &b1, NULL),
	                 OMO_E_OK);
	assert_int_equal(omo_rec_encode(&omo_rec_submit_order_reply, &r2.body, &b2, NULL),
	                 OMO_E_OK);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.data, b2.data, b1.len);
	assert_int_equal(r2.body.submit_order_reply.accepted_us, NOW);

	/* the very same request again: the stored reply, byte for byte */
	request(f, &req, &r3, &raw3);
	assert_int_equal(f->g.n, 0);
	assert_int_equal(raw1.len, raw3.len);
	assert_memory_equal(raw1.data, raw3.data, raw1.len);

	/* the key used for another body: refused, nothing emitted, order unchanged */
	omo_order_line other[2] = {std_lines[0], std_lines[1]};
	other[0].quantity = 3;
	omo_msg diff, r4;
	submit_msg(&diff, "key-retry");
	diff.body.submit_order.lines = other;
	request(f, &diff, &r4, NULL);
	tk_assert_error(&r4, "CONFLICT");
	assert_int_equal(f->g.n, 0);
	omo_msg v;
	get_view(f, &r1.body.submit_order_reply.order_id, &v);
	assert_int_equal(v.body.order_view.lines[0].quantity, 2);
	omo_msg_fini(&v);

	omo_msg_fini(&r1);
	omo_msg_fini(&r2);
	omo_msg_fini(&r3);
	omo_msg_fini(&r4);
	omo_buf_fini(&raw1);
	omo_buf_fini(&raw3);
	omo_buf_fini(&b1);
	omo_buf_fini(&b2);
}

typedef struct bad_case {
	const char *name;
	const char *code;
} bad_case;

static void test_submit_validation(void **state)
{
	fx *f = *state;
	static const bad_case cases[] = {
	    {"no lines", "EMPTY_ORDER"},
	    {"unknown sku", "UNKNOWN_SKU"},
	    {"same line_no twice", "DUPLICATE_LINE"},
	    {"same sku twice", "DUPLICATE_LINE"},
	    {"pickup without pickup_node", "MISSING_FIELD"},
	    {"pickup at a warehouse", "UNKNOWN_NODE"},
	    {"pickup at no such node", "UNKNOWN_NODE"},
	    {"ship_to_home without ship_to", "MISSING_FIELD"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		omo_msg req, r;
		omo_order_line ls[2] = {std_lines[0], std_lines[1]};
		char key[32];
		snprintf(key, sizeof(key), "bad-%zu", i);
		submit_msg(&req, key);
		omo_submit_order *s = &req.body.submit_order;
		s->lines = ls;
		switch (i) {
		case 0: s->lines_count = 0; break;
		case 1: snprintf(ls[1].sku, sizeof(ls[1].sku), "SKU-9999"); break;
		case 2: ls[1].line_no = 1; break;
		case 3: snprintf(ls[1].sku, sizeof(ls[1].sku), "SKU-0001"); break;
		case 4: s->fulfillment = OMO_PICKUP_IN_STORE; break;
		case 5:
			s->fulfillment = OMO_PICKUP_IN_STORE;
			snprintf(s->pickup_node, sizeof(s->pickup_node), "DC-NJ");
			break;
		case 6:
			s->fulfillment = OMO_PICKUP_IN_STORE;
			snprintf(s->pickup_node, sizeof(s->pickup_node), "ST-NOWHERE");
			break;
		case 7: memset(&s->ship_to, 0, sizeof(s->ship_to)); break;
		}
		request(f, &req, &r, NULL);
		if (r.type != OMO_MSG_ERROR || strcmp(r.body.error.code, cases[i].code) != 0)
			fail_msg("%s: got %s %s, want %s", cases[i].name, omo_msg_name(r.type),
			         r.type == OMO_MSG_ERROR ? r.body.error.code : "", cases[i].code);
		assert_int_equal(f->g.n, 0);
		omo_msg_fini(&r);
		/* a refused request leaves its key unused: the corrected order goes through */
		omo_uuid id = submit_ok(f, key);
		assert_int_equal(f->g.n, 1);
		assert_int_equal(f->g.m[0].type, OMO_MSG_ORDER_ACCEPTED);
		assert_status(f, &id, OMO_ORDER_ACCEPTED);
	}
	/* a valid pick-up order names its store */
	omo_msg req, r;
	submit_msg(&req, "pickup-ok");
	req.body.submit_order.fulfillment = OMO_PICKUP_IN_STORE;
	memset(&req.body.submit_order.ship_to, 0, sizeof(omo_address));
	snprintf(req.body.submit_order.pickup_node, 33, "ST-NYC");
	request(f, &req, &r, NULL);
	assert_int_equal(r.type, OMO_MSG_SUBMIT_ORDER_REPLY);
	assert_int_equal(f->g.n, 1);
	assert_int_equal(f->g.m[0].body.order_accepted.fulfillment, OMO_PICKUP_IN_STORE);
	assert_string_equal(f->g.m[0].body.order_accepted.pickup_node, "ST-NYC");
	omo_msg_fini(&r);
}

static void test_unknown_order(void **state)
{
	fx *f = *state;
	omo_msg req, r;
	omo_uuid nobody;
	omo_uuid_generate(&nobody);
	omo_msg_init(&req, OMO_MSG_GET_ORDER);
	req.body.get_order.order_id = nobody;
	request(f, &req, &r, NULL);
	tk_assert_error(&r, "NOT_FOUND");
	omo_msg_fini(&r);
	omo_msg_init(&req, OMO_MSG_CANCEL_ORDER);
	req.body.cancel_order.order_id = nobody;
	request(f, &req, &r, NULL);
	tk_assert_error(&r, "NOT_FOUND");
	assert_int_equal(f->g.n, 0);
	omo_msg_fini(&r);
}

/* ====================================================================== */
/* status from the router's and the nodes' events                          */

static void test_routed_shipped_completed(void **state)
{
	fx *f = *state;
	omo_uuid id = submit_ok(f, "flow");
	part p[2];
	part_make(&p[0], "DC-NJ", OMO_NODE_WAREHOUSE, 1, "SKU-0001", 2);
	part_make(&p[1], "ST-NYC", OMO_NODE_STORE, 2, "SKU-0002", 1);

	f->s.now = NOW + 1000;
	route(f, &id, p, 2);
	assert_status_event(f, &id, OMO_ORDER_ROUTED);
	assert_int_equal(f->g.m[0].seq, 2);
	assert_int_equal(f->g.m[0].ts_us, NOW + 1000);

	omo_msg v;
	get_view(f, &id, &v);
	const omo_order_view *o = &v.body.order_view;
	assert_int_equal(o->status, OMO_ORDER_ROUTED);
	assert_int_equal(o->fulfillments_count, 2);
	assert_string_equal(o->fulfillments[0].node, "DC-NJ");
	assert_int_equal(o->fulfillments[0].node_type, OMO_NODE_WAREHOUSE);
	assert_int_equal(o->fulfillments[0].status, OMO_FF_REQUESTED);
	assert_int_equal(o->fulfillments[0].lines_count, 1);
	assert_int_equal(o->fulfillments[0].lines[0].quantity, 2);
	assert_string_equal(o->fulfillments[1].node, "ST-NYC");
	assert_int_equal(o->history_count, 2);
	assert_string_equal(o->history[1].event, "routed");
	assert_string_equal(o->history[1].detail, "DC-NJ ST-NYC");
	assert_int_equal(o->history[1].ts_us, NOW + 1000);
	omo_msg_fini(&v);

	/* accepted by both: still routed, nothing said */
	update(f, &id, &p[0], OMO_FF_ACCEPTED);
	assert_int_equal(f->g.n, 0);
	update(f, &id, &p[1], OMO_FF_ACCEPTED);
	assert_int_equal(f->g.n, 0);
	assert_part_status(f, &id, &p[0], OMO_FF_ACCEPTED);
	assert_status(f, &id, OMO_ORDER_ROUTED);

	/* one part shipped: not yet shipped as a whole */
	update(f, &id, &p[0], OMO_FF_SHIPPED);
	assert_int_equal(f->g.n, 0);
	assert_status(f, &id, OMO_ORDER_ROUTED);
	update(f, &id, &p[1], OMO_FF_SHIPPED);
	assert_status_event(f, &id, OMO_ORDER_SHIPPED);
	assert_status(f, &id, OMO_ORDER_SHIPPED);

	update(f, &id, &p[1], OMO_FF_DELIVERED);
	assert_int_equal(f->g.n, 0);
	assert_status(f, &id, OMO_ORDER_SHIPPED);
	update(f, &id, &p[0], OMO_FF_DELIVERED);
	assert_status_event(f, &id, OMO_ORDER_COMPLETED);

	get_view(f, &id, &v);
	o = &v.body.order_view;
	assert_int_equal(o->status, OMO_ORDER_COMPLETED);
	assert_int_equal(o->fulfillments[0].status, OMO_FF_DELIVERED);
	assert_int_equal(o->fulfillments[1].status, OMO_FF_DELIVERED);
	assert_int_equal(o->history_count, 8); /* accepted, routed, 6 updates */
	assert_string_equal(o->history[7].event, "delivered");
	assert_string_equal(o->history[7].node, "DC-NJ");
	omo_msg_fini(&v);
}

static void test_pickup_ready_then_completed(void **state)
{
	fx *f = *state;
	omo_msg req, r;
	submit_msg(&req, "pickup");
	req.body.submit_order.fulfillment = OMO_PICKUP_IN_STORE;
	snprintf(req.body.submit_order.pickup_node, 33, "ST-BOS");
	request(f, &req, &r, NULL);
	omo_uuid id = r.body.submit_order_reply.order_id;
	omo_msg_fini(&r);
	part p;
	part_make(&p, "ST-BOS", OMO_NODE_STORE, 1, "SKU-0001", 2);
	route(f, &id, &p, 1);
	assert_status_event(f, &id, OMO_ORDER_ROUTED);
	update(f, &id, &p, OMO_FF_ACCEPTED);
	assert_int_equal(f->g.n, 0);
	update(f, &id, &p, OMO_FF_READY_FOR_PICKUP);
	assert_status_event(f, &id, OMO_ORDER_READY_FOR_PICKUP);
	update(f, &id, &p, OMO_FF_PICKED_UP);
	assert_status_event(f, &id, OMO_ORDER_COMPLETED);
}

static void test_update_before_routed(void **state)
{
	fx *f = *state;
	omo_uuid id = submit_ok(f, "early");
	part p[2];
	part_make(&p[0], "DC-TX", OMO_NODE_WAREHOUSE, 1, "SKU-0001", 2);
	part_make(&p[1], "ST-NYC", OMO_NODE_STORE, 2, "SKU-0002", 1);

	/* The nodes' streams overtake the router's: their updates wait. */
	update(f, &id, &p[0], OMO_FF_ACCEPTED);
	assert_int_equal(f->g.n, 0);
	update(f, &id, &p[0], OMO_FF_SHIPPED);
	assert_int_equal(f->g.n, 0);
	update(f, &id, &p[1], OMO_FF_ACCEPTED);
	assert_int_equal(f->g.n, 0);
	omo_msg v;
	get_view(f, &id, &v);
	assert_int_equal(v.body.order_view.status, OMO_ORDER_ACCEPTED);
	assert_int_equal(v.body.order_view.fulfillments_count, 0);
	assert_int_equal(v.body.order_view.history_count, 1);
	omo_msg_fini(&v);

	/* The announcement brings them in: one part shipped, one accepted. */
	route(f, &id, p, 2);
	assert_status_event(f, &id, OMO_ORDER_ROUTED);
	assert_part_status(f, &id, &p[0], OMO_FF_SHIPPED);
	assert_part_status(f, &id, &p[1], OMO_FF_ACCEPTED);

	/* the second part's shipping completes the picture */
	update(f, &id, &p[1], OMO_FF_SHIPPED);
	assert_status_event(f, &id, OMO_ORDER_SHIPPED);
	update(f, &id, &p[1], OMO_FF_DELIVERED);
	assert_int_equal(f->g.n, 0);
	update(f, &id, &p[0], OMO_FF_DELIVERED);
	assert_status_event(f, &id, OMO_ORDER_COMPLETED);

	/* An order whose only part shipped and arrived before it was announced
	 * goes straight to completed, in one status change. */
	omo_uuid id2 = submit_ok(f, "early-2");
	part q;
	part_make(&q, "DC-CA", OMO_NODE_WAREHOUSE, 1, "SKU-0001", 2);
	update(f, &id2, &q, OMO_FF_ACCEPTED);
	update(f, &id2, &q, OMO_FF_SHIPPED);
	update(f, &id2, &q, OMO_FF_DELIVERED);
	assert_int_equal(f->g.n, 0);
	route(f, &id2, &q, 1);
	assert_status_event(f, &id2, OMO_ORDER_COMPLETED);
	assert_part_status(f, &id2, &q, OMO_FF_DELIVERED);
}

static void test_rejected_part_and_backorder(void **state)
{
	fx *f = *state;
	omo_uuid id = submit_ok(f, "rerouted");
	part a, b;
	part_make(&a, "DC-NJ", OMO_NODE_WAREHOUSE, 1, "SKU-0001", 2);
	part_make(&b, "DC-TX", OMO_NODE_WAREHOUSE, 1, "SKU-0001", 2);
	omo_msg m;
	omo_fulfillment_info buf[2];
	omo_alloc_line short_line = {.line_no = 2, .sku = "SKU-0002", .quantity = 1};

	/* line 2 waits for supply: backordered */
	routed_msg(&m, &id, 1, &a, 1, buf);
	m.body.order_routed.backordered = &short_line;
	m.body.order_routed.backordered_count = 1;
	feed(f, &f->router, &m);
	assert_status_event(f, &id, OMO_ORDER_BACKORDERED);
	omo_msg v;
	get_view(f, &id, &v);
	assert_int_equal(v.body.order_view.backordered_count, 1);
	assert_string_equal(v.body.order_view.backordered[0].sku, "SKU-0002");
	assert_string_equal(v.body.order_view.history[1].event, "backordered");
	omo_msg_fini(&v);

	/* the node declines; the router sources line 1 again and line 2 is found */
	update(f, &id, &a, OMO_FF_REJECTED);
	assert_int_equal(f->g.n, 0); /* still backordered */
	routed_msg(&m, &id, 2, &b, 1, buf);
	feed(f, &f->router, &m);
	assert_status_event(f, &id, OMO_ORDER_ROUTED);
	get_view(f, &id, &v);
	assert_int_equal(v.body.order_view.fulfillments_count, 2);
	assert_int_equal(v.body.order_view.fulfillments[0].status, OMO_FF_REJECTED);
	assert_int_equal(v.body.order_view.fulfillments[1].status, OMO_FF_REQUESTED);
	assert_int_equal(v.body.order_view.backordered_count, 0);
	omo_msg_fini(&v);

	/* the rejected part does not hold the order back */
	update(f, &id, &b, OMO_FF_ACCEPTED);
	update(f, &id, &b, OMO_FF_SHIPPED);
	assert_status_event(f, &id, OMO_ORDER_SHIPPED);
	update(f, &id, &b, OMO_FF_DELIVERED);
	assert_status_event(f, &id, OMO_ORDER_COMPLETED);
}

static void test_unroutable_rejects(void **state)
{
	fx *f = *state;
	omo_uuid id = submit_ok(f, "unroutable");
	omo_msg m;
	omo_msg_init(&m, OMO_MSG_ORDER_UNROUTABLE);
	m.corr = id;
	m.body.order_unroutable.order_id = id;
	snprintf(m.body.order_unroutable.reason, 129, "every node asked has declined");
	feed(f, &f->router, &m);
	assert_status_event(f, &id, OMO_ORDER_REJECTED);

	omo_msg v;
	get_view(f, &id, &v);
	assert_int_equal(v.body.order_view.status, OMO_ORDER_REJECTED);
	assert_int_equal(v.body.order_view.history_count, 2);
	assert_string_equal(v.body.order_view.history[1].event, "rejected");
	assert_string_equal(v.body.order_view.history[1].detail, "every node asked has declined");
	omo_msg_fini(&v);

	/* a rejected order cannot be cancelled */
	omo_msg req, r;
	omo_msg_init(&req, OMO_MSG_CANCEL_ORDER);
	req.body.cancel_order.order_id = id;
	request(f, &req, &r, NULL);
	tk_assert_error(&r, "BAD_STATE");
	assert_int_equal(f->g.n, 0);
	omo_msg_fini(&r);
}

/* cancel asks to cancel order id; returns the reply (caller fini's it). */
static void cancel(fx *f, const omo_uuid *id, omo_msg *r)
{
	omo_msg req;
	omo_msg_init(&req, OMO_MSG_CANCEL_ORDER);
	req.body.cancel_order.order_id = *id;
	snprintf(req.body.cancel_order.reason, 129, "customer changed mind");
	request(f, &req, r, NULL);
}

static size_t count_type(const tk_got *g, omo_msg_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n; i++)
		n += g->m[i].type == t;
	return n;
}

static void test_cancel_before_shipping(void **state)
{
	fx *f = *state;
	omo_uuid id = submit_ok(f, "cancel-me");
	part p[2];
	part_make(&p[0], "DC-NJ", OMO_NODE_WAREHOUSE, 1, "SKU-0001", 2);
	part_make(&p[1], "ST-NYC", OMO_NODE_STORE, 2, "SKU-0002", 1);
	route(f, &id, p, 2);
	update(f, &id, &p[0], OMO_FF_ACCEPTED);

	omo_msg r;
	cancel(f, &id, &r);
	assert_int_equal(r.type, OMO_MSG_ORDER_VIEW);
	assert_int_equal(r.body.order_view.status, OMO_ORDER_CANCELLED);
	omo_msg_fini(&r);
	assert_int_equal(count_type(&f->g, OMO_MSG_ORDER_CANCELLED), 1);
	const omo_msg *c = NULL;
	for (size_t i = 0; i < f->g.n; i++)
		if (f->g.m[i].type == OMO_MSG_ORDER_CANCELLED)
			c = &f->g.m[i];
	assert_non_null(c);
	assert_memory_equal(c->body.order_cancelled.order_id.b, id.b, 16);
	assert_string_equal(c->body.order_cancelled.reason, "customer changed mind");
	/* besides it, at most a status change to cancelled */
	for (size_t i = 0; i < f->g.n; i++)
		if (f->g.m[i].type != OMO_MSG_ORDER_CANCELLED) {
			assert_int_equal(f->g.m[i].type, OMO_MSG_ORDER_STATUS_CHANGED);
			assert_int_equal(f->g.m[i].body.order_status_changed.status,
			                 OMO_ORDER_CANCELLED);
		}
	omo_msg v;
	get_view(f, &id, &v);
	assert_int_equal(v.body.order_view.status, OMO_ORDER_CANCELLED);
	uint32_t h = v.body.order_view.history_count;
	assert_string_equal(v.body.order_view.history[h - 1].event, "cancelled");
	assert_string_equal(v.body.order_view.history[h - 1].detail, "customer changed mind");
	omo_msg_fini(&v);

	/* cancelling twice is cancelling once */
	cancel(f, &id, &r);
	assert_int_equal(r.type, OMO_MSG_ORDER_VIEW);
	assert_int_equal(r.body.order_view.status, OMO_ORDER_CANCELLED);
	assert_int_equal(f->g.n, 0);
	omo_msg_fini(&r);

	/* the nodes confirming the withdrawal changes nothing more */
	update(f, &id, &p[0], OMO_FF_CANCELLED);
	assert_int_equal(f->g.n, 0);
	assert_status(f, &id, OMO_ORDER_CANCELLED);

	/* an order not yet routed can be cancelled too */
	omo_uuid id2 = submit_ok(f, "cancel-early");
	cancel(f, &id2, &r);
	assert_int_equal(r.type, OMO_MSG_ORDER_VIEW);
	assert_int_equal(count_type(&f->g, OMO_MSG_ORDER_CANCELLED), 1);
	omo_msg_fini(&r);
	assert_status(f, &id2, OMO_ORDER_CANCELLED);
}

static void test_cancel_after_shipping(void **state)
{
	fx *f = *state;
	omo_uuid id = submit_ok(f, "too-late");
	part p[2];
	part_make(&p[0], "DC-NJ", OMO_NODE_WAREHOUSE, 1, "SKU-0001", 2);
	part_make(&p[1], "ST-NYC", OMO_NODE_STORE, 2, "SKU-0002", 1);
	route(f, &id, p, 2);
	update(f, &id, &p[0], OMO_FF_ACCEPTED);
	update(f, &id, &p[0], OMO_FF_SHIPPED);
	assert_status(f, &id, OMO_ORDER_ROUTED);

	omo_msg r;
	cancel(f, &id, &r);
	tk_assert_error(&r, "BAD_STATE");
	assert_int_equal(f->g.n, 0);
	omo_msg_fini(&r);
	assert_status(f, &id, OMO_ORDER_ROUTED);
	assert_part_status(f, &id, &p[0], OMO_FF_SHIPPED);

	/* nor once completed */
	update(f, &id, &p[1], OMO_FF_SHIPPED);
	update(f, &id, &p[0], OMO_FF_DELIVERED);
	update(f, &id, &p[1], OMO_FF_DELIVERED);
	assert_status(f, &id, OMO_ORDER_COMPLETED);
	cancel(f, &id, &r);
	tk_assert_error(&r, "BAD_STATE");
	assert_int_equal(f->g.n, 0);
	omo_msg_fini(&r);
}

static void test_duplicate_and_gap(void **state)
{
	fx *f = *state;
	omo_uuid x = submit_ok(f, "dup-x");
	omo_uuid y = submit_ok(f, "dup-y");
	omo_uuid z = submit_ok(f, "dup-z");
	part p;
	part_make(&p, "DC-NJ", OMO_NODE_WAREHOUSE, 1, "SKU-0001", 2);
	omo_msg m, v;
	omo_fulfillment_info buf[1];
	omo_gap gap;

	routed_msg(&m, &x, 1, &p, 1, buf);
	assert_int_equal(feed_seq(f, &f->router, &m, 1, &gap), OMO_APPLIED);
	assert_status_event(f, &x, OMO_ORDER_ROUTED);

	/* the same (producer, epoch, seq) again: ignored, however it looks */
	routed_msg(&m, &x, 1, &p, 1, buf);
	assert_int_equal(feed_seq(f, &f->router, &m, 1, &gap), OMO_DUPLICATE);
	assert_int_equal(f->g.n, 0);
	get_view(f, &x, &v);
	assert_int_equal(v.body.order_view.fulfillments_count, 1);
	assert_int_equal(v.body.order_view.history_count, 2);
	omo_msg_fini(&v);

	/* seq 3 after 1: the core asks for 2 first and applies nothing */
	omo_msg u;
	omo_msg_init(&u, OMO_MSG_ORDER_UNROUTABLE);
	u.body.order_unroutable.order_id = y;
	snprintf(u.body.order_unroutable.reason, 129, "no stock");
	assert_int_equal(feed_seq(f, &f->router, &u, 3, &gap), OMO_GAP);
	assert_string_equal(gap.producer, "router");
	assert_int_equal(gap.epoch, EPOCH_RT);
	assert_int_equal(gap.from_seq, 2);
	assert_int_equal(f->g.n, 0);
	assert_status(f, &y, OMO_ORDER_ACCEPTED);

	/* 2 then 3 apply in order */
	omo_msg u2;
	omo_msg_init(&u2, OMO_MSG_ORDER_UNROUTABLE);
	u2.body.order_unroutable.order_id = z;
	snprintf(u2.body.order_unroutable.reason, 129, "no stock");
	assert_int_equal(feed_seq(f, &f->router, &u2, 2, &gap), OMO_APPLIED);
	assert_status_event(f, &z, OMO_ORDER_REJECTED);
	assert_int_equal(feed_seq(f, &f->router, &u, 3, &gap), OMO_APPLIED);
	assert_status_event(f, &y, OMO_ORDER_REJECTED);

	/* a node's stream is its own: seq 1 of node-warehouse is new */
	omo_msg up;
	update_msg(&up, &x, &p, OMO_FF_ACCEPTED, NULL);
	assert_int_equal(feed_seq(f, &f->wh, &up, 1, &gap), OMO_APPLIED);
	assert_int_equal(feed_seq(f, &f->wh, &up, 1, &gap), OMO_DUPLICATE);
	assert_part_status(f, &x, &p, OMO_FF_ACCEPTED);
	get_view(f, &x, &v);
	assert_int_equal(v.body.order_view.history_count, 3);
	omo_msg_fini(&v);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_submit_accepted),          T(test_submit_same_key_same_body),
	    T(test_submit_validation),        T(test_unknown_order),
	    T(test_routed_shipped_completed), T(test_pickup_ready_then_completed),
	    T(test_update_before_routed),     T(test_rejected_part_and_backorder),
	    T(test_unroutable_rejects),       T(test_cancel_before_shipping),
	    T(test_cancel_after_shipping),    T(test_duplicate_and_gap),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
