/*
 * checkout.c - omo-sim demo: a simulated eCommerce checkout that drives a day
 * of orders through the running local stack (`omo up`) and says what became
 * of them.
 *
 * The orders are generated from the seed alone, before anything is sent, so
 * the same seed gives the same day whatever the thread timing: customers live
 * near the store cities; 70% want their goods shipped home, 30% collect them
 * at their local store (mostly lines that store has in stock.csv); a few
 * order bulky SKUs that only manufacturers hold (drop-ship), a few ask for
 * more than the whole network holds (back-orders). Mixed in are requests the
 * service must refuse (unknown SKU, quantity 0, no lines), repeats of orders
 * under the same idempotency key, and cancels sent right after acceptance.
 *
 * Each client thread has its own REQ socket to the orders service. After the
 * submissions, every accepted order is read back with GET_ORDER until it has
 * settled or --settle_s has passed; the summary goes to stdout and, as JSON,
 * to <state>/demo-summary.json. Exit status: 0 if every order settled and
 * every check passed, 1 if not (or the stack is not up), 2 for a usage error.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "catalog.h"
#include "config.h"
#include "plan.h"
#include "schema.h"

#define EXIT_OK     0
#define EXIT_FAILED 1
#define EXIT_USAGE  2

#define MAX_LINES   4
#define MAX_THREADS 64
#define N_CANCELS   5
#define N_RESUBMITS 5
#define N_TYPES     3     /* node types */
#define N_FF        8     /* fulfilment states */
#define QTY_MARKER  99991 /* see call_zero_quantity */

/* ---- options ---------------------------------------------------------- */

#define SIM_OPTIONS(X, T)                                                                          \
	OMO_CLIENT_OPTIONS(X, T)                                                                   \
	X(T, INT, orders, "1000", "orders to submit")                                              \
	X(T, INT, seed, "1", "seed of the generated orders")                                       \
	X(T, INT, rate, "400", "orders per second (0: as fast as the service answers)")            \
	X(T, INT, settle_s, "90", "how long to wait for the orders to settle, in seconds")         \
	X(T, INT, threads, "4", "client threads, each with its own REQ socket")

typedef struct sim_config {
	SIM_OPTIONS(OMO_CONFIG_FIELD, _)
} sim_config;

static const omo_option sim_options[] = {SIM_OPTIONS(OMO_CONFIG_ROW, sim_config)};
#define N_OPTIONS (sizeof(sim_options) / sizeof(sim_options[0]))

/* ---- small helpers ---------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d = t - now_s();
	if (d <= 0)
		return;
	struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void request_init(omo_msg *m, omo_msg_type type)
{
	struct timespec ts;
	omo_msg_init(m, type);
	omo_uuid_generate(&m->id);
	clock_gettime(CLOCK_REALTIME, &ts);
	m->ts_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* splitmix64: small, fast, and the same sequence everywhere for a seed. */
typedef struct rng {
	uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* rng_below returns a number in 0..n-1 (n > 0). */
static int rng_below(rng *r, int n)
{
	return (int)(rng_next(r) % (uint64_t)n);
}

static double rng_unit(rng *r)
{
	return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

/* ---- the network -------------------------------------------------------- */

typedef struct stock_item {
	int sku; /* index into the catalog's skus */
	int64_t on_hand;
} stock_item;

typedef struct network {
	omo_catalog cat;
	int64_t *total;    /* per SKU: units across the network */
	bool *at_mfg_only; /* per SKU: held by manufacturers alone (bulky, drop-shipped) */
	int stores[64];    /* catalog node indices of the stores */
	int n_stores;
	stock_item *store_stock[64]; /* per store: what stock.csv puts there */
	int store_n[64];
	int *regular, n_regular; /* SKUs the network holds that are not bulky */
	int *bulky, n_bulky;
} network;

static void network_fini(network *n)
{
	for (int i = 0; i < n->n_stores; i++)
		free(n->store_stock[i]);
	free(n->total);
	free(n->at_mfg_only);
	free(n->regular);
	free(n->bulky);
	omo_catalog_fini(&n->cat);
}

static int store_slot(const network *n, int node)
{
	for (int i = 0; i < n->n_stores; i++)
		if (n->stores[i] == node)
			return i;
	return -1;
}

/* load_stock reads stock.csv (node,sku,on_hand); -1 with a sentence in err. */
static int load_stock(network *n, const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX], line[256];
	bool *elsewhere = calloc(n->cat.n_skus, sizeof(bool));
	int lineno = 0;
	snprintf(path, sizeof(path), "%s/stock.csv", dir);
	FILE *f = fopen(path, "r");
	if (f == NULL || elsewhere == NULL) {
		snprintf(err, errlen, "%.200s: %s", path, f ? "out of memory" : strerror(errno));
		free(elsewhere);
		if (f)
			fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *fld[3];
		if (++lineno == 1 || line[0] == '\n' || line[0] == '#')
			continue;
		int k = omo_csv_split(line, fld, 3);
		const omo_sku_info *sku = k == 3 ? omo_catalog_sku(&n->cat, fld[1]) : NULL;
		int node = k == 3 ? omo_catalog_node_index(&n->cat, fld[0]) : -1;
		long long qty = k == 3 ? atoll(fld[2]) : -1;
		if (sku == NULL || node < 0 || qty < 0) {
			snprintf(err, errlen, "%.200s:%d: expected node,sku,on_hand of the catalog",
			         path, lineno);
			fclose(f);
			free(elsewhere);
			return -1;
		}
		int s = (int)(sku - n->cat.skus);
		n->total[s] += qty;
		n->at_mfg_only[s] = true;
		if (n->cat.nodes[node].type != OMO_NODE_MANUFACTURER)
			elsewhere[s] = true;
		int slot = store_slot(n, node);
		if (slot >= 0 && qty > 0) {
			stock_item *grown = realloc(
			    n->store_stock[slot], (size_t)(n->store_n[slot] + 1) * sizeof(*grown));
			if (grown == NULL)
				break;
			n->store_stock[slot] = grown;
			grown[n->store_n[slot]++] = (stock_item){s, qty};
		}
	}
	fclose(f);
	for (uint32_t s = 0; s < n->cat.n_skus; s++) {
		n->at_mfg_only[s] = n->at_mfg_only[s] && !elsewhere[s];
		if (n->total[s] <= 0)
			continue;
		if (n->at_mfg_only[s])
			n->bulky[n->n_bulky++] = (int)s;
		else
			n->regular[n->n_regular++] = (int)s;
	}
	free(elsewhere);
	return 0;
}

static int network_load(network *n, const char *dir, char *err, size_t errlen)
{
	memset(n, 0, sizeof(*n));
	if (omo_catalog_load(&n->cat, dir, err, errlen) != 0)
		return -1;
	for (uint32_t i = 0; i < n->cat.n_nodes && n->n_stores < 64; i++)
		if (n->cat.nodes[i].type == OMO_NODE_STORE)
			n->stores[n->n_stores++] = (int)i;
	n->total = calloc(n->cat.n_skus, sizeof(*n->total));
	n->at_mfg_only = calloc(n->cat.n_skus, sizeof(bool));
	n->regular = calloc(n->cat.n_skus, sizeof(int));
	n->bulky = calloc(n->cat.n_skus, sizeof(int));
	if (!n->total || !n->at_mfg_only || !n->regular || !n->bulky) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (load_stock(n, dir, err, errlen) != 0)
		return -1;
	if (n->n_stores == 0 || n->n_regular == 0) {
		snprintf(err, errlen, "%s: the network needs stores and stocked SKUs", dir);
		return -1;
	}
	return 0;
}

/* ---- the orders of the day ------------------------------------------- */

typedef enum order_kind {
	K_HOME,    /* ship to home */
	K_PICKUP,  /* pick up in the customer's store */
	K_BULKY,   /* ship to home with a drop-shipped bulky line */
	K_HUGE,    /* ship to home, more units than the network holds: back-order */
	K_BAD_SKU, /* refused: UNKNOWN_SKU */
	K_BAD_QTY, /* refused: OUT_OF_RANGE (quantity 0) */
	K_EMPTY,   /* refused: EMPTY_ORDER */
} order_kind;

static const char *const kind_names[] = {"home",    "pickup",   "bulky", "huge",
                                         "bad_sku", "zero_qty", "empty"};

static bool kind_invalid(order_kind k)
{
	return k >= K_BAD_SKU;
}

static omo_err kind_expected(order_kind k)
{
	switch (k) {
	case K_BAD_SKU: return OMO_E_UNKNOWN_SKU;
	case K_BAD_QTY: return OMO_E_OUT_OF_RANGE;
	case K_EMPTY: return OMO_E_EMPTY_ORDER;
	default: return OMO_E_OK;
	}
}

/* What the last GET_ORDER said about an order. */
typedef struct outcome {
	bool seen, settled, moving;
	omo_order_status status;
	int64_t backordered_units;
	int n_nodes;           /* distinct nodes among its parts (rejected parts aside) */
	unsigned type_mask;    /* node types among them, 1 << omo_node_type */
	bool local_pickup;     /* picked up, every part from the pickup store */
	int ff[N_TYPES][N_FF]; /* parts by node type and state */
} outcome;

typedef struct sim_order {
	order_kind kind;
	bool cancel; /* cancel right after acceptance */
	omo_submit_order body;
	omo_order_line line[MAX_LINES];
	/* the submission */
	omo_err code; /* OK: accepted; UNAVAILABLE: no answer; else refused */
	char detail[200];
	omo_uuid order_id;
	double latency_ms;
	omo_err cancel_code;
	outcome out;
} sim_order;

static bool has_sku(const sim_order *o, int sku, const network *n)
{
	for (uint32_t i = 0; i < o->body.lines_count; i++)
		if (strcmp(o->line[i].sku, n->cat.skus[sku].sku) == 0)
			return true;
	return false;
}

static void add_line(sim_order *o, const network *n, int sku, int64_t qty)
{
	omo_order_line *l = &o->line[o->body.lines_count];
	l->line_no = o->body.lines_count + 1;
	snprintf(l->sku, sizeof(l->sku), "%s", n->cat.skus[sku].sku);
	l->quantity = qty;
	l->unit_price = n->cat.skus[sku].price_minor;
	o->body.lines_count++;
}

/* add_regular adds a line of a SKU the network holds, not already in o. */
static void add_regular(sim_order *o, const network *n, rng *r)
{
	for (int tries = 0; tries < 20; tries++) {
		int sku = n->regular[rng_below(r, n->n_regular)];
		if (!has_sku(o, sku, n)) {
			add_line(o, n, sku, 1 + rng_below(r, 3));
			return;
		}
	}
}

/* add_from_store adds a line the store can serve from what the day left it. */
static bool add_from_store(sim_order *o, const network *n, stock_item *left, int n_left, rng *r)
{
	for (int tries = 0; tries < 20 && n_left > 0; tries++) {
		stock_item *it = &left[rng_below(r, n_left)];
		int64_t qty = 1 + rng_below(r, 3);
		if (it->on_hand >= qty && !has_sku(o, it->sku, n)) {
			it->on_hand -= qty;
			add_line(o, n, it->sku, qty);
			return true;
		}
	}
	return false;
}

static const omo_channel channel_mix[] = {
    OMO_CHANNEL_WEB,         OMO_CHANNEL_WEB,    OMO_CHANNEL_WEB,    OMO_CHANNEL_WEB,
    OMO_CHANNEL_MOBILE,      OMO_CHANNEL_MOBILE, OMO_CHANNEL_MOBILE, OMO_CHANNEL_MARKETPLACE,
    OMO_CHANNEL_MARKETPLACE, OMO_CHANNEL_SOCIAL,
};

/* generate fills orders[0..count) from the seed; left[] is what each store can
 * hand over to pick-ups, drawn down by the pick-ups generated so far. */
static void generate(sim_order *orders, int count, const network *n, const sim_config *cfg,
                     const char *run_tag, stock_item **left)
{
	rng r = {(uint64_t)cfg->seed * 0x2545f4914f6cdd1dull + 1};
	int huge[3];
	for (int k = 0; k < 3; k++)
		huge[k] = n->regular[rng_below(&r, n->n_regular)];
	for (int i = 0; i < count; i++) {
		sim_order *o = &orders[i];
		omo_submit_order *b = &o->body;
		int slot = rng_below(&r, n->n_stores);
		const omo_node_info *store = &n->cat.nodes[n->stores[slot]];
		double u = rng_unit(&r);

		o->kind = u < 0.30 ? K_PICKUP : u < 0.32 ? K_HUGE : u < 0.35 ? K_BULKY : K_HOME;
		b->lines = o->line;
		snprintf(b->idempotency_key, sizeof(b->idempotency_key), "demo-%s-%lld-%d", run_tag,
		         (long long)cfg->seed, i);
		b->channel = channel_mix[rng_below(&r, 10)];
		snprintf(b->customer_id, sizeof(b->customer_id), "C%05d", 1 + rng_below(&r, 20000));
		if (o->kind == K_PICKUP) {
			b->fulfillment = OMO_PICKUP_IN_STORE;
			snprintf(b->pickup_node, sizeof(b->pickup_node), "%s", store->id);
		} else {
			omo_address *a = &b->ship_to;
			b->fulfillment = OMO_SHIP_TO_HOME;
			snprintf(a->name, sizeof(a->name), "Customer %s", b->customer_id);
			snprintf(a->line1, sizeof(a->line1), "%d Main Street",
			         1 + rng_below(&r, 999));
			snprintf(a->city, sizeof(a->city), "%s", store->name);
			snprintf(a->postal_code, sizeof(a->postal_code), "%05d",
			         rng_below(&r, 100000));
			snprintf(a->country, sizeof(a->country), "US");
			/* within about 50 km of the store's city */
			a->lat_udeg = store->lat_udeg + rng_below(&r, 900001) - 450000;
			a->lon_udeg = store->lon_udeg + rng_below(&r, 1200001) - 600000;
		}
		int lines = 1 + rng_below(&r, MAX_LINES);
		switch (o->kind) {
		case K_PICKUP:
			for (int k = 0; k < lines; k++)
				if (!add_from_store(o, n, left[slot], n->store_n[slot], &r))
					add_regular(o, n, &r);
			break;
		case K_BULKY:
			if (n->n_bulky > 0)
				add_line(o, n, n->bulky[rng_below(&r, n->n_bulky)], 1);
			for (int k = 1; k < lines; k++)
				add_regular(o, n, &r);
			break;
		case K_HUGE: {
			/* Few SKUs, so that the day's other orders are hardly touched: the first
			 * such order empties its SKU everywhere, the next wait for supply. */
			int sku = huge[rng_below(&r, 3)];
			add_line(o, n, sku, n->total[sku] + 1 + rng_below(&r, 5));
			if (lines > 2)
				add_regular(o, n, &r);
			break;
		}
		default:
			for (int k = 0; k < lines; k++)
				add_regular(o, n, &r);
			break;
		}
		if (b->lines_count == 0)
			add_regular(o, n, &r);
	}
	/* the requests the service must refuse, spread over the day */
	if (count >= 8) {
		orders[count / 4].kind = K_BAD_SKU;
		snprintf(orders[count / 4].line[0].sku, sizeof(orders[0].line[0].sku), "SKU-NOPE");
		orders[count / 2].kind = K_BAD_QTY;
		orders[count / 2].line[0].quantity = QTY_MARKER;
		orders[3 * count / 4].kind = K_EMPTY;
		orders[3 * count / 4].body.lines_count = 0;
	}
	/* cancels: the first home deliveries after evenly spread points */
	for (int k = 0; k < N_CANCELS; k++)
		for (int i = (int)((int64_t)count * (2 * k + 1) / (2 * N_CANCELS)); i < count; i++)
			if (orders[i].kind == K_HOME && !orders[i].cancel) {
				orders[i].cancel = true;
				break;
			}
}

/* ---- talking to the stack ---------------------------------------------- */

typedef struct demo demo;

/* A client thread's connection. */
typedef struct worker {
	demo *d;
	omo_sock *sock;
	pthread_t thread;
} worker;

struct demo {
	sim_config cfg;
	char url[PATH_MAX + 32];
	network net;
	sim_order *orders;
	int n_orders;
	worker workers[MAX_THREADS];
	int n_workers;
	/* a parallel phase */
	void (*step)(worker *w, int i);
	int *todo; /* order indices */
	int n_todo;
	atomic_int next;
	double t0;
};

/*
 * call sends req until a reply comes or --timeout_ms has passed. A repeat
 * carries the same request id, so the service answers it from the reply it
 * stored: nothing is done twice.
 */
static omo_err call(const worker *w, const omo_msg *req, omo_msg *reply, omo_error_detail *d)
{
	double deadline = now_s() + (double)w->d->cfg.timeout_ms / 1e3;
	for (;;) {
		omo_err e = omo_call(w->sock, req, reply, d);
		if (e != OMO_E_UNAVAILABLE || now_s() >= deadline)
			return e;
		omo_msg_fini(reply);
		sleep_until(now_s() + 0.005);
	}
}

/* exchange_raw sends the encoded request b (whose id is id) once and waits for
 * its reply; UNAVAILABLE if it should be sent again. */
static omo_err exchange_raw(omo_sock *s, const omo_buf *b, const omo_uuid *id, omo_msg *reply,
                            omo_error_detail *d)
{
	omo_bus_msg *m;
	if (omo_sock_send(s, b->data, b->len) != OMO_E_OK) {
		sleep_until(now_s() + 0.01); /* a REQ socket takes a send only with a peer ready */
		return OMO_E_UNAVAILABLE;
	}
	for (;;) {
		if (omo_sock_recv(s, &m, true) != OMO_E_OK)
			return OMO_E_UNAVAILABLE;
		omo_err e = omo_msg_decode(omo_bus_msg_data(m), omo_bus_msg_len(m), reply, d);
		omo_bus_msg_free(m);
		if (e != OMO_E_OK || memcmp(&reply->corr, id, sizeof(*id)) == 0)
			return e;
		omo_msg_fini(reply); /* a late reply to an earlier request */
	}
}

/*
 * call_zero_quantity sends req with its first line's quantity 0 and returns
 * the service's answer. omo's encoder will not produce that message (omo never
 * sends what it would refuse), so req is encoded with QTY_MARKER there and the
 * marker's bytes are overwritten, as a client with a careless encoder would.
 */
static omo_err call_zero_quantity(const worker *w, const omo_msg *req, omo_msg *reply,
                                  omo_error_detail *d)
{
	static const uint8_t marker[5] = {0xce, 0x00, 0x01, 0x86, 0x97}; /* uint32 99991 */
	double deadline = now_s() + (double)w->d->cfg.timeout_ms / 1e3;
	omo_buf b = {0};
	omo_err e = omo_msg_encode(req, &b, d);
	uint8_t *p = NULL;
	memset(reply, 0, sizeof(*reply));
	for (size_t i = 0; e == OMO_E_OK && i + sizeof(marker) <= b.len && p == NULL; i++)
		if (memcmp(b.data + i, marker, sizeof(marker)) == 0)
			p = b.data + i;
	if (e == OMO_E_OK && p == NULL)
		e = omo_fail(d, OMO_E_INTERNAL, "quantity marker not found in the encoding");
	if (e == OMO_E_OK) {
		memset(p + 1, 0, 4);
		do
			e = exchange_raw(w->sock, &b, &req->id, reply, d);
		while (e == OMO_E_UNAVAILABLE && now_s() < deadline);
	}
	omo_buf_fini(&b);
	if (e == OMO_E_UNAVAILABLE)
		return omo_fail(d, e, "no reply to the zero-quantity order");
	if (e == OMO_E_OK && reply->type == OMO_MSG_ERROR) {
		e = omo_err_from_name(reply->body.error.code);
		return omo_fail(d, e == OMO_E_COUNT ? OMO_E_INTERNAL : e, "%s",
		                reply->body.error.message);
	}
	return e;
}

static omo_err submit(const worker *w, const sim_order *o, omo_uuid *order_id, omo_error_detail *d)
{
	omo_msg req, reply;
	request_init(&req, OMO_MSG_SUBMIT_ORDER);
	req.body.submit_order = o->body;
	omo_err e = o->kind == K_BAD_QTY ? call_zero_quantity(w, &req, &reply, d)
	                                 : call(w, &req, &reply, d);
	if (e == OMO_E_OK && reply.type != OMO_MSG_SUBMIT_ORDER_REPLY)
		e = omo_fail(d, OMO_E_INTERNAL, "answered with %s", omo_msg_name(reply.type));
	if (e == OMO_E_OK)
		*order_id = reply.body.submit_order_reply.order_id;
	omo_msg_fini(&reply);
	return e;
}

static omo_err cancel(const worker *w, const omo_uuid *order_id, omo_error_detail *d)
{
	omo_msg req, reply;
	request_init(&req, OMO_MSG_CANCEL_ORDER);
	req.body.cancel_order.order_id = *order_id;
	snprintf(req.body.cancel_order.reason, sizeof(req.body.cancel_order.reason),
	         "demo: the customer changed their mind");
	omo_err e = call(w, &req, &reply, d);
	omo_msg_fini(&reply);
	return e;
}

static bool ff_moving(omo_fulfillment_status s)
{
	return s == OMO_FF_REQUESTED || s == OMO_FF_ACCEPTED || s == OMO_FF_SHIPPED ||
	       s == OMO_FF_READY_FOR_PICKUP;
}

/* observe records what an order view says and whether the order has settled. */
static void observe(sim_order *o, const omo_order_view *v)
{
	outcome *out = &o->out;
	const char *nodes[100];
	memset(out, 0, sizeof(*out));
	out->seen = true;
	out->status = v->status;
	for (uint32_t i = 0; i < v->backordered_count; i++)
		out->backordered_units += v->backordered[i].quantity;
	out->local_pickup = v->fulfillment == OMO_PICKUP_IN_STORE && v->fulfillments_count > 0;
	for (uint32_t i = 0; i < v->fulfillments_count; i++) {
		const omo_fulfillment_info *f = &v->fulfillments[i];
		if ((unsigned)f->node_type < N_TYPES && (unsigned)f->status < N_FF)
			out->ff[f->node_type][f->status]++;
		out->moving |= ff_moving(f->status);
		if (f->status == OMO_FF_REJECTED)
			continue;
		if (f->status != OMO_FF_PICKED_UP || strcmp(f->node, v->pickup_node) != 0)
			out->local_pickup = false;
		out->type_mask |= 1u << f->node_type;
		int k = 0;
		while (k < out->n_nodes && strcmp(nodes[k], f->node) != 0)
			k++;
		if (k == out->n_nodes && out->n_nodes < 100)
			nodes[out->n_nodes++] = f->node;
	}
	out->settled =
	    v->status == OMO_ORDER_COMPLETED || v->status == OMO_ORDER_CANCELLED ||
	    v->status == OMO_ORDER_REJECTED ||
	    ((v->status == OMO_ORDER_BACKORDERED || out->backordered_units > 0) && !out->moving);
}

static omo_err get_order(const worker *w, sim_order *o, omo_error_detail *d)
{
	omo_msg req, reply;
	request_init(&req, OMO_MSG_GET_ORDER);
	req.body.get_order.order_id = o->order_id;
	omo_err e = call(w, &req, &reply, d);
	if (e == OMO_E_OK && reply.type == OMO_MSG_ORDER_VIEW)
		observe(o, &reply.body.order_view);
	omo_msg_fini(&reply);
	return e;
}

/* ---- phases ------------------------------------------------------------ */

static void *worker_main(void *arg)
{
	worker *w = arg;
	demo *d = w->d;
	for (;;) {
		int k = atomic_fetch_add(&d->next, 1);
		if (k >= d->n_todo)
			return NULL;
		d->step(w, d->todo[k]);
	}
}

/* run_phase runs step over todo[0..n) on every worker; false if a thread
 * could not start (the rest of the work is then done here). */
static void run_phase(demo *d, void (*step)(worker *w, int i), int *todo, int n)
{
	int started = 0;
	d->step = step;
	d->todo = todo;
	d->n_todo = n;
	atomic_store(&d->next, 0);
	for (; started < d->n_workers; started++)
		if (pthread_create(&d->workers[started].thread, NULL, worker_main,
		                   &d->workers[started]) != 0)
			break;
	if (started == 0)
		worker_main(&d->workers[0]);
	for (int i = 0; i < started; i++)
		pthread_join(d->workers[i].thread, NULL);
}

static void submit_step(worker *w, int i)
{
	demo *d = w->d;
	sim_order *o = &d->orders[i];
	omo_error_detail det = {0};
	if (d->cfg.rate > 0)
		sleep_until(d->t0 + (double)i / (double)d->cfg.rate);
	double t = now_s();
	o->code = submit(w, o, &o->order_id, &det);
	o->latency_ms = (now_s() - t) * 1e3;
	if (o->code != OMO_E_OK)
		snprintf(o->detail, sizeof(o->detail), "%s", det.text);
	else if (o->cancel)
		o->cancel_code = cancel(w, &o->order_id, &det);
}

static void poll_step(worker *w, int i)
{
	omo_error_detail det;
	get_order(w, &w->d->orders[i], &det);
}

/* resubmit sends five accepted orders again under their keys; returns how
 * many came back with the same order id. */
static int resubmit(demo *d, int *tried)
{
	int same = 0;
	*tried = 0;
	for (int i = 0; i < d->n_orders && *tried < N_RESUBMITS; i++) {
		sim_order *o = &d->orders[i];
		omo_error_detail det = {0};
		omo_uuid again;
		if (o->code != OMO_E_OK || o->cancel)
			continue;
		(*tried)++;
		omo_err e = submit(&d->workers[0], o, &again, &det);
		if (e == OMO_E_OK && memcmp(&again, &o->order_id, sizeof(again)) == 0)
			same++;
		else
			fprintf(stderr, "omo demo: resubmit of %s: %s %s\n",
			        o->body.idempotency_key, omo_err_name(e),
			        e == OMO_E_OK ? "a different order id" : det.text);
	}
	return same;
}

/* settle polls the accepted orders until all have settled or settle_s passes;
 * returns how many have not. */
static int settle(demo *d, double *took_s)
{
	int *todo = malloc((size_t)d->n_orders * sizeof(int));
	double start = now_s(), deadline = start + (double)d->cfg.settle_s, report = start + 5;
	int n = 0;
	bool polled = false;
	if (todo == NULL)
		return d->n_orders;
	for (;;) {
		n = 0;
		for (int i = 0; i < d->n_orders; i++)
			if (d->orders[i].code == OMO_E_OK && !d->orders[i].out.settled)
				todo[n++] = i;
		if (n == 0 || (polled && now_s() >= deadline))
			break;
		if (now_s() >= report) {
			fprintf(stderr, "omo demo: %d orders still moving after %.0f s\n", n,
			        now_s() - start);
			report += 5;
		}
		double round = now_s();
		run_phase(d, poll_step, todo, n);
		polled = true;
		sleep_until(round + 0.5);
	}
	*took_s = now_s() - start;
	free(todo);
	return n;
}

/* ---- the summary --------------------------------------------------------- */

typedef struct summary {
	int submitted, accepted, refused, failed, unexpected_refusals;
	double submit_s, rate, p50_ms, p99_ms, settle_s;
	int split, split_types, by_mask[8];
	int shipped, delivered, picked_up, backordered, unsettled;
	int by_status[8];
	int pickups, local_pickups;
	int ff[N_TYPES][N_FF], ff_total[N_TYPES];
	int invalid_tried, invalid_ok, resubmit_tried, resubmit_ok, cancel_tried, cancel_ok;
	int cancel_late; /* refused because the goods had already left: a fair race on a slow
	                    machine */
} summary;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void tally(const demo *d, summary *s)
{
	double *lat = malloc((size_t)d->n_orders * sizeof(double));
	int n_lat = 0;
	for (int i = 0; i < d->n_orders; i++) {
		const sim_order *o = &d->orders[i];
		const outcome *out = &o->out;
		s->submitted++;
		if (o->code != OMO_E_UNAVAILABLE && lat != NULL)
			lat[n_lat++] = o->latency_ms;
		if (kind_invalid(o->kind)) {
			s->invalid_tried++;
			s->invalid_ok += o->code == kind_expected(o->kind);
			if (o->code != kind_expected(o->kind))
				fprintf(stderr,
				        "omo demo: %s submission answered %s (want %s): %s\n",
				        kind_names[o->kind], omo_err_name(o->code),
				        omo_err_name(kind_expected(o->kind)), o->detail);
		}
		if (o->code == OMO_E_UNAVAILABLE) {
			s->failed++;
			continue;
		}
		if (o->code != OMO_E_OK) {
			s->refused++;
			if (!kind_invalid(o->kind) && s->unexpected_refusals++ < 5)
				fprintf(stderr, "omo demo: %s order %s refused: %s: %s\n",
				        kind_names[o->kind], o->body.idempotency_key,
				        omo_err_name(o->code), o->detail);
			continue;
		}
		s->accepted++;
		if (o->cancel) {
			s->cancel_tried++;
			s->cancel_ok +=
			    o->cancel_code == OMO_E_OK && out->status == OMO_ORDER_CANCELLED;
			s->cancel_late += o->cancel_code == OMO_E_BAD_STATE &&
			                  out->status != OMO_ORDER_CANCELLED &&
			                  out->status != OMO_ORDER_ACCEPTED &&
			                  out->status != OMO_ORDER_ROUTED;
		}
		if (!out->settled) {
			if (s->unsettled++ < 5) {
				char id[37];
				omo_uuid_format(&o->order_id, id);
				fprintf(stderr, "omo demo: order %s (%s) has not settled: %s\n", id,
				        kind_names[o->kind],
				        omo_enum_name(&omo_enum_order_status, (int)out->status));
			}
		}
		if ((unsigned)out->status < 8)
			s->by_status[out->status]++;
		s->split += out->n_nodes > 1;
		s->split_types += __builtin_popcount(out->type_mask) > 1;
		s->by_mask[out->type_mask & 7]++;
		s->backordered +=
		    out->status == OMO_ORDER_BACKORDERED || out->backordered_units > 0;
		if (o->kind == K_PICKUP) {
			s->pickups++;
			s->local_pickups += out->local_pickup;
		}
		int shipped = 0, delivered = 0, picked = 0;
		for (int t = 0; t < N_TYPES; t++) {
			for (int f = 0; f < N_FF; f++) {
				s->ff[t][f] += out->ff[t][f];
				s->ff_total[t] += out->ff[t][f];
			}
			shipped += out->ff[t][OMO_FF_SHIPPED] + out->ff[t][OMO_FF_DELIVERED];
			delivered += out->ff[t][OMO_FF_DELIVERED];
			picked += out->ff[t][OMO_FF_PICKED_UP];
		}
		s->shipped += shipped > 0;
		s->delivered += delivered > 0;
		s->picked_up += picked > 0;
	}
	if (lat != NULL && n_lat > 0) {
		qsort(lat, (size_t)n_lat, sizeof(double), cmp_double);
		s->p50_ms = lat[(n_lat - 1) / 2];
		s->p99_ms = lat[(99 * n_lat + 99) / 100 - 1];
	}
	free(lat);
}

static const char *type_name(int t)
{
	return omo_enum_name(&omo_enum_node_type, t);
}

static void print_summary(const summary *s)
{
	printf("omo demo: %d orders submitted in %.1f s (%.0f/s), submit latency p50 %.1f ms p99 "
	       "%.1f ms\n",
	       s->submitted, s->submit_s, s->rate, s->p50_ms, s->p99_ms);
	printf(
	    "orders   accepted %d  refused %d  no answer %d  split %d  shipped %d  delivered %d  "
	    "picked_up %d  backordered %d  rejected %d  cancelled %d  completed %d  unsettled "
	    "%d\n",
	    s->accepted, s->refused, s->failed, s->split, s->shipped, s->delivered, s->picked_up,
	    s->backordered, s->by_status[OMO_ORDER_REJECTED], s->by_status[OMO_ORDER_CANCELLED],
	    s->by_status[OMO_ORDER_COMPLETED], s->unsettled);
	printf("by node ");
	for (int t = 0; t < N_TYPES; t++)
		printf("%s%s: requested %d shipped %d delivered %d ready %d picked_up %d rejected "
		       "%d cancelled %d",
		       t ? " | " : " ", type_name(t), s->ff_total[t],
		       s->ff[t][OMO_FF_SHIPPED] + s->ff[t][OMO_FF_DELIVERED],
		       s->ff[t][OMO_FF_DELIVERED],
		       s->ff[t][OMO_FF_READY_FOR_PICKUP] + s->ff[t][OMO_FF_PICKED_UP],
		       s->ff[t][OMO_FF_PICKED_UP], s->ff[t][OMO_FF_REJECTED],
		       s->ff[t][OMO_FF_CANCELLED]);
	printf("\nsplit    %d orders across nodes, %d across node types (", s->split,
	       s->split_types);
	for (unsigned m = 3; m < 8; m++) {
		if (__builtin_popcount(m) < 2)
			continue;
		printf("%s", m == 3 ? "" : ", ");
		for (int t = 0, first = 1; t < N_TYPES; t++)
			if (m & (1u << t)) {
				printf("%s%s", first ? "" : "+", type_name(t));
				first = 0;
			}
		printf(" %d", s->by_mask[m]);
	}
	printf(")\npickups  %d orders, %d handed over entirely from the pickup store\n", s->pickups,
	       s->local_pickups);
	printf(
	    "checks   idempotent resubmits %d/%d same order, invalid submissions refused %d/%d "
	    "with the expected codes, cancels right after acceptance %d/%d cancelled (%d too late: "
	    "already shipped), unexpected refusals %d\n",
	    s->resubmit_ok, s->resubmit_tried, s->invalid_ok, s->invalid_tried, s->cancel_ok,
	    s->cancel_tried, s->cancel_late, s->unexpected_refusals);
	printf("settled  in %.1f s\n", s->settle_s);
}

static bool passed(const summary *s)
{
	return s->unsettled == 0 && s->failed == 0 && s->unexpected_refusals == 0 &&
	       s->invalid_ok == s->invalid_tried && s->resubmit_ok == s->resubmit_tried &&
	       s->cancel_ok + s->cancel_late == s->cancel_tried;
}

static int write_json(const demo *d, const summary *s, const char *path)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "{\n  \"orders\": %d, \"seed\": %lld, \"rate\": %lld,\n", s->submitted,
	        (long long)d->cfg.seed, (long long)d->cfg.rate);
	fprintf(f,
	        "  \"submit_s\": %.3f, \"submit_per_s\": %.1f, \"latency_p50_ms\": %.3f, "
	        "\"latency_p99_ms\": %.3f,\n",
	        s->submit_s, s->rate, s->p50_ms, s->p99_ms);
	fprintf(f,
	        "  \"accepted\": %d, \"refused\": %d, \"no_answer\": %d, \"split\": %d, "
	        "\"split_across_node_types\": %d,\n",
	        s->accepted, s->refused, s->failed, s->split, s->split_types);
	fprintf(f,
	        "  \"shipped\": %d, \"delivered\": %d, \"picked_up\": %d, \"backordered\": %d, "
	        "\"unsettled\": %d, \"settle_s\": %.3f,\n",
	        s->shipped, s->delivered, s->picked_up, s->backordered, s->unsettled, s->settle_s);
	fprintf(f, "  \"pickups\": %d, \"pickups_local\": %d,\n  \"status\": {", s->pickups,
	        s->local_pickups);
	for (int i = 0; i < 8; i++)
		fprintf(f, "%s\"%s\": %d", i ? ", " : "", omo_enum_name(&omo_enum_order_status, i),
		        s->by_status[i]);
	fprintf(f, "},\n  \"by_node_type\": {");
	for (int t = 0; t < N_TYPES; t++) {
		fprintf(f, "%s\n    \"%s\": {\"fulfillments\": %d", t ? "," : "", type_name(t),
		        s->ff_total[t]);
		for (int st = 0; st < N_FF; st++)
			fprintf(f, ", \"%s\": %d", omo_enum_name(&omo_enum_fulfillment_status, st),
			        s->ff[t][st]);
		fprintf(f, "}");
	}
	fprintf(f,
	        "\n  },\n  \"checks\": {\"resubmits_same_order\": [%d, %d], "
	        "\"invalid_refused\": [%d, %d], \"cancelled\": [%d, %d], "
	        "\"unexpected_refusals\": %d, \"passed\": %s}\n}\n",
	        s->resubmit_ok, s->resubmit_tried, s->invalid_ok, s->invalid_tried, s->cancel_ok,
	        s->cancel_tried, s->unexpected_refusals, passed(s) ? "true" : "false");
	return fclose(f);
}

/* ---- the demo ------------------------------------------------------------ */

static void demo_fini(demo *d)
{
	for (int i = 0; i < d->n_workers; i++)
		omo_sock_close(d->workers[i].sock);
	free(d->orders);
	network_fini(&d->net);
}

/* connect opens the workers' sockets and checks that the orders service answers. */
static int connect_workers(demo *d)
{
	char run_dir[PATH_MAX + 8];
	const char *urls[1] = {d->url};
	omo_error_detail det = {0};
	snprintf(run_dir, sizeof(run_dir), "%s/run", d->cfg.state);
	omo_endpoint(d->url, sizeof(d->url), getenv("OMO_ENDPOINTS"), run_dir, "orders", "rep");
	for (; d->n_workers < d->cfg.threads; d->n_workers++) {
		worker *w = &d->workers[d->n_workers];
		w->d = d;
		if (omo_sock_dial(&w->sock, OMO_REQ, urls, 1, (int)d->cfg.timeout_ms, &det) !=
		    OMO_E_OK)
			break;
		omo_msg req, reply;
		request_init(&req, OMO_MSG_FETCH_EVENTS);
		req.body.fetch_events.from_seq = 1;
		req.body.fetch_events.max = 1;
		omo_err e = call(w, &req, &reply, &det);
		/* any answer will do: an error reply still says the service is there */
		bool answered =
		    e == OMO_E_OK || (e != OMO_E_UNAVAILABLE && reply.type == OMO_MSG_ERROR &&
		                      reply.body.error.code[0] != '\0');
		omo_msg_fini(&reply);
		if (!answered) {
			omo_sock_close(w->sock);
			break;
		}
	}
	if (d->n_workers == d->cfg.threads)
		return 0;
	fprintf(stderr,
	        "omo-sim: the orders service does not answer at %s: %s (start the stack: "
	        "omo up --state=%s)\n",
	        d->url, det.text, d->cfg.state);
	return -1;
}

static int cmd_demo(sim_config *cfg)
{
	static demo d;
	char err[400], tag[37], path[PATH_MAX + 32];
	omo_uuid u;
	summary s = {0};
	int n = (int)cfg->orders;

	d.cfg = *cfg;
	if (network_load(&d.net, cfg->network, err, sizeof(err)) != 0) {
		fprintf(stderr, "omo-sim: %s\n", err);
		network_fini(&d.net);
		return EXIT_FAILED;
	}
	stock_item *left[64] = {0};
	d.orders = calloc((size_t)n, sizeof(sim_order));
	int *all = malloc((size_t)n * sizeof(int));
	for (int i = 0; i < d.net.n_stores; i++) {
		left[i] = malloc((size_t)(d.net.store_n[i] + 1) * sizeof(stock_item));
		/* Pick-ups may count on a third of a store's units: the router ships
		 * nearby home deliveries from stores too. */
		for (int k = 0; left[i] != NULL && k < d.net.store_n[i]; k++)
			left[i][k] = (stock_item){d.net.store_stock[i][k].sku,
			                          d.net.store_stock[i][k].on_hand / 3};
	}
	bool oom = d.orders == NULL || all == NULL;
	for (int i = 0; i < d.net.n_stores; i++)
		oom |= left[i] == NULL;
	/* The orders are the seed's; the keys are this run's, so that a second run
	 * against the same stack makes new orders rather than repeats. */
	omo_uuid_generate(&u);
	omo_uuid_format(&u, tag);
	tag[8] = '\0';
	if (!oom)
		generate(d.orders, n, &d.net, cfg, tag, left);
	for (int i = 0; i < d.net.n_stores; i++)
		free(left[i]);
	d.n_orders = n;
	if (oom || connect_workers(&d) != 0) {
		if (oom)
			fprintf(stderr, "omo-sim: out of memory\n");
		free(all);
		demo_fini(&d);
		return EXIT_FAILED;
	}

	for (int i = 0; i < n; i++)
		all[i] = i;
	d.t0 = now_s();
	run_phase(&d, submit_step, all, n);
	s.submit_s = now_s() - d.t0;
	s.rate = s.submit_s > 0 ? n / s.submit_s : 0;
	s.resubmit_ok = resubmit(&d, &s.resubmit_tried);
	s.unsettled = settle(&d, &s.settle_s);
	free(all);

	double submit_s = s.submit_s, rate = s.rate, settle_s = s.settle_s;
	int resubmit_ok = s.resubmit_ok, resubmit_tried = s.resubmit_tried;
	memset(&s, 0, sizeof(s));
	tally(&d, &s);
	s.submit_s = submit_s;
	s.rate = rate;
	s.settle_s = settle_s;
	s.resubmit_ok = resubmit_ok;
	s.resubmit_tried = resubmit_tried;
	print_summary(&s);
	snprintf(path, sizeof(path), "%s/demo-summary.json", cfg->state);
	if (write_json(&d, &s, path) != 0)
		fprintf(stderr, "omo-sim: cannot write %s: %s\n", path, strerror(errno));
	demo_fini(&d);
	return passed(&s) ? EXIT_OK : EXIT_FAILED;
}

/* ---- main ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f, "usage: omo-sim demo [--name=value ...]\n"
	           "       omo-sim plan SCENARIO [options]     (omo-sim plan --help)\n"
	           "       omo-sim compare A B [options]\n\n"
	           "demo: drive a day of generated orders through the running stack (omo up)\n"
	           "      and check what became of them\n\noptions:\n");
	for (size_t i = 0; i < N_OPTIONS; i++)
		fprintf(f, "  --%-12s %s (default: %s)\n", sim_options[i].name, sim_options[i].doc,
		        sim_options[i].def);
	fprintf(f, "\nexit status: 0 all settled and every check passed, 1 not, 2 usage error\n");
}

int main(int argc, char **argv)
{
	static sim_config cfg;
	const char *command = NULL;
	if (argc > 1 && (strcmp(argv[1], "plan") == 0 || strcmp(argv[1], "compare") == 0))
		return omo_sim_plan_main(argc - 1, argv + 1); /* plan mode: no stack needed */
	for (size_t i = 0; i < N_OPTIONS; i++)
		omo_config_set(sim_options, N_OPTIONS, &cfg, sim_options[i].name,
		               sim_options[i].def);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		char name[64];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0) {
			usage(stdout);
			return EXIT_OK;
		}
		if (strncmp(a, "--", 2) != 0 && command == NULL) {
			command = a;
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || eq == NULL || eq - a - 2 >= (long)sizeof(name)) {
			fprintf(stderr,
			        "omo-sim: unexpected argument %s (options are --name=value)\n", a);
			return EXIT_USAGE;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(eq - a - 2), a + 2);
		if (omo_config_set(sim_options, N_OPTIONS, &cfg, name, eq + 1) != 0) {
			fprintf(stderr, "omo-sim: unknown option or bad value: %s\n", a);
			return EXIT_USAGE;
		}
	}
	if (command == NULL || strcmp(command, "demo") != 0) {
		if (command != NULL)
			fprintf(stderr, "omo-sim: unknown command \"%s\"\n", command);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cfg.orders < 1 || cfg.orders > 10000000 || cfg.rate < 0 || cfg.settle_s < 0 ||
	    cfg.threads < 1 || cfg.threads > MAX_THREADS || cfg.timeout_ms < 1) {
		fprintf(stderr,
		        "omo-sim: --orders must be 1.., --rate and --settle_s 0.., "
		        "--threads 1..%d, --timeout_ms 1..\n",
		        MAX_THREADS);
		return EXIT_USAGE;
	}
	return cmd_demo(&cfg);
}
