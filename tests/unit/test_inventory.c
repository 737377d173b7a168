/*
 * test_inventory.c - the inventory service's handlers (services/inventory),
 * driven through one core seeded from the demo network's stock.csv: stock
 * queries and their filters, all-or-nothing and idempotent reservations,
 * release, the nodes' updates consuming or releasing reservations, receipts
 * and adjustments, and a seeded random sequence of operations after which
 * invariants I1, I2 and I3 (TESTING.md) are checked against the
 * service's own tables, read straight from its store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "log.h"
#include "testkit.h"

#define EPOCH_WH 4242

/* ====================================================================== */
/* a service core under test (testkit.h)                                  */

/* stock.csv as read by this test */
typedef struct seed_row {
	char node[33], sku[65];
	int64_t on_hand;
} seed_row;

typedef struct fx {
	tk_svc s;
	tk_got g;
	tk_stream wh;
	seed_row *seed;
	size_t n_seed;
} fx;

/* request runs req alone in a batch, under a new id, and decodes the reply into r. */
static void request(fx *f, omo_msg *req, omo_msg *r)
{
	omo_uuid_generate(&req->id);
	tk_request(&f->s, &f->g, req, r, NULL);
	assert_int_equal(f->g.n, 0); /* inventory publishes no events */
}

static omo_applied feed_seq(fx *f, tk_stream *st, omo_msg *ev, uint64_t seq)
{
	omo_applied a = tk_feed(&f->s, &f->g, st, ev, seq, NULL, NULL);
	assert_int_equal(f->g.n, 0);
	return a;
}

static int64_t tick(fx *f)
{
	return tk_tick(&f->s, NULL);
}

/* ====================================================================== */
/* fixture                                                                */

static void load_seed(fx *f, const char *path)
{
	char line[256];
	FILE *fp = fopen(path, "r");
	size_t cap = 0;
	assert_non_null(fp);
	for (int lineno = 1; fgets(line, sizeof(line), fp); lineno++) {
		char *a, *b, *c;
		if (lineno == 1 || line[0] == '\n')
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		a = line;
		b = strchr(a, ',');
		assert_non_null(b);
		*b++ = '\0';
		c = strchr(b, ',');
		assert_non_null(c);
		*c++ = '\0';
		if (f->n_seed == cap) {
			cap = cap ? 2 * cap : 1024;
			f->seed = realloc(f->seed, cap * sizeof(*f->seed));
			assert_non_null(f->seed);
		}
		seed_row *r = &f->seed[f->n_seed++];
		snprintf(r->node, sizeof(r->node), "%.32s", a);
		snprintf(r->sku, sizeof(r->sku), "%.64s", b);
		r->on_hand = atoll(c);
	}
	fclose(fp);
}

/* seed_of gives stock.csv's on_hand of (sku, node), 0 if it has no row. */
static int64_t seed_of(const fx *f, const char *sku, const char *node)
{
	for (size_t i = 0; i < f->n_seed; i++)
		if (strcmp(f->seed[i].sku, sku) == 0 && strcmp(f->seed[i].node, node) == 0)
			return f->seed[i].on_hand;
	return 0;
}

static bool seeded(const fx *f, const char *sku, const char *node)
{
	for (size_t i = 0; i < f->n_seed; i++)
		if (strcmp(f->seed[i].sku, sku) == 0 && strcmp(f->seed[i].node, node) == 0)
			return true;
	return false;
}

static int setup(void **state)
{
	char path[600], opt[620];
	fx *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	omo_log_init("test_inventory", "error");
	snprintf(path, sizeof(path), "%s/stock.csv", tk_demo_dir());
	snprintf(opt, sizeof(opt), "seed_stock=%s", path);
	const char *opts[] = {opt, NULL};
	load_seed(f, path);
	tk_svc_open(&f->s, &inventory_service, "inventory", opts);
	f->wh = (tk_stream){"node-warehouse", EPOCH_WH, 0};
	assert_int_equal(tick(f), INT64_MAX); /* the first tick seeds the store */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	tk_got_fini(&f->g);
	tk_svc_close(&f->s);
	free(f->seed);
	free(f);
	return 0;
}

/* ====================================================================== */
/* message makers                                                         */

static void assert_ack(const omo_msg *r)
{
	if (r->type != OMO_MSG_ACK)
		fail_msg("got %s %s %s, want ack", omo_msg_name(r->type),
		         r->type == OMO_MSG_ERROR ? r->body.error.code : "",
		         r->type == OMO_MSG_ERROR ? r->body.error.message : "");
}

/* query asks for stock of skus x nodes (either may be empty: all); caller fini's r. */
static void query(fx *f, const char *const *skus, const char *const *nodes, omo_msg *r)
{
	omo_msg req;
	omo_sku_ref s[16];
	omo_node_ref n[16];
	uint32_t ns = 0, nn = 0;
	omo_msg_init(&req, OMO_MSG_STOCK_QUERY);
	for (; skus != NULL && skus[ns] != NULL; ns++)
		snprintf(s[ns].sku, sizeof(s[ns].sku), "%s", skus[ns]);
	for (; nodes != NULL && nodes[nn] != NULL; nn++)
		snprintf(n[nn].node, sizeof(n[nn].node), "%s", nodes[nn]);
	req.body.stock_query.skus = s;
	req.body.stock_query.skus_count = ns;
	req.body.stock_query.nodes = n;
	req.body.stock_query.nodes_count = nn;
	request(f, &req, r);
	assert_int_equal(r->type, OMO_MSG_STOCK_REPLY);
}

typedef struct level {
	bool found;
	int64_t on_hand, reserved, available;
} level;

static level level_of(fx *f, const char *sku, const char *node)
{
	const char *s[] = {sku, NULL}, *n[] = {node, NULL};
	omo_msg r;
	level l = {0};
	query(f, s, n, &r);
	assert_true(r.body.stock_reply.rows_count <= 1);
	if (r.body.stock_reply.rows_count == 1) {
		const omo_stock_row *row = &r.body.stock_reply.rows[0];
		assert_string_equal(row->sku, sku);
		assert_string_equal(row->node, node);
		l = (level){true, row->on_hand, row->reserved, row->available};
		assert_int_equal(l.available, l.on_hand - l.reserved);
	}
	omo_msg_fini(&r);
	return l;
}

static void assert_level(fx *f, const char *sku, const char *node, int64_t on_hand,
                         int64_t reserved)
{
	level l = level_of(f, sku, node);
	if (!l.found || l.on_hand != on_hand || l.reserved != reserved)
		fail_msg("%s at %s: %s on_hand %lld reserved %lld, want %lld %lld", sku, node,
		         l.found ? "" : "(no row)", (long long)l.on_hand, (long long)l.reserved,
		         (long long)on_hand, (long long)reserved);
}

typedef struct rline {
	const omo_uuid *fid;
	const char *sku, *node;
	int64_t qty;
} rline;

/* reserve asks to hold lines (n of them) for a made-up order; caller fini's r. */
static void reserve(fx *f, const rline *lines, uint32_t n, omo_msg *r)
{
	omo_msg req;
	omo_reserve_line ls[8];
	assert_true(n <= 8);
	omo_msg_init(&req, OMO_MSG_RESERVE);
	omo_uuid_generate(&req.body.reserve.order_id);
	req.body.reserve.attempt = 1;
	for (uint32_t i = 0; i < n; i++) {
		memset(&ls[i], 0, sizeof(ls[i]));
		ls[i].fulfillment_id = *lines[i].fid;
		snprintf(ls[i].sku, sizeof(ls[i].sku), "%s", lines[i].sku);
		snprintf(ls[i].node, sizeof(ls[i].node), "%s", lines[i].node);
		ls[i].quantity = lines[i].qty;
	}
	req.body.reserve.lines = ls;
	req.body.reserve.lines_count = n;
	request(f, &req, r);
}

static void reserve_ok(fx *f, const rline *lines, uint32_t n)
{
	omo_msg r;
	reserve(f, lines, n, &r);
	assert_ack(&r);
	omo_msg_fini(&r);
}

static void release(fx *f, const omo_uuid *fid)
{
	omo_msg req, r;
	omo_msg_init(&req, OMO_MSG_RELEASE);
	req.body.release.fulfillment_id = *fid;
	request(f, &req, &r);
	assert_ack(&r);
	omo_msg_fini(&r);
}

/* change sends receive_stock (adjust false) or adjust_stock; caller fini's r. */
static void change(fx *f, bool adjust, const char *sku, const char *node, int64_t qty, omo_msg *r)
{
	omo_msg req;
	if (adjust) {
		omo_msg_init(&req, OMO_MSG_ADJUST_STOCK);
		snprintf(req.body.adjust_stock.sku, 65, "%s", sku);
		snprintf(req.body.adjust_stock.node, 33, "%s", node);
		req.body.adjust_stock.delta = qty;
		snprintf(req.body.adjust_stock.reason, 65, "cycle count");
	} else {
		omo_msg_init(&req, OMO_MSG_RECEIVE_STOCK);
		snprintf(req.body.receive_stock.sku, 65, "%s", sku);
		snprintf(req.body.receive_stock.node, 33, "%s", node);
		req.body.receive_stock.quantity = qty;
		snprintf(req.body.receive_stock.reference, 65, "ASN-1");
	}
	request(f, &req, r);
}

static omo_applied node_update(fx *f, const omo_uuid *fid, const char *node,
                               omo_fulfillment_status s)
{
	omo_msg m;
	omo_msg_init(&m, OMO_MSG_FULFILLMENT_UPDATE);
	omo_uuid_generate(&m.body.fulfillment_update.order_id);
	m.corr = m.body.fulfillment_update.order_id;
	m.body.fulfillment_update.fulfillment_id = *fid;
	snprintf(m.body.fulfillment_update.node, 33, "%s", node);
	m.body.fulfillment_update.status = s;
	return feed_seq(f, &f->wh, &m, 0);
}

/* ====================================================================== */
/* reading the service's own tables                                       */

typedef struct stock_entry {
	char sku[65], node[33];
	int64_t on_hand, reserved;
} stock_entry;

typedef struct resv_entry {
	omo_reserve_line line;
	uint8_t key[16 + 64];
	size_t klen;
} resv_entry;

typedef struct tables {
	stock_entry *stock;
	size_t n_stock, cap_stock;
	resv_entry *resv;
	size_t n_resv, cap_resv;
	bool bad;
} tables;

static int read_stock(void *arg, const omo_val *key, const omo_val *val)
{
	tables *t = arg;
	const char *k = key->data;
	size_t a = strnlen(k, key->len);
	int64_t v[2];
	if (a >= key->len || val->len != sizeof(v)) {
		t->bad = true;
		return 0;
	}
	if (t->n_stock == t->cap_stock) {
		t->cap_stock = t->cap_stock ? 2 * t->cap_stock : 2048;
		t->stock = realloc(t->stock, t->cap_stock * sizeof(*t->stock));
	}
	stock_entry *e = &t->stock[t->n_stock++];
	memset(e, 0, sizeof(*e));
	memcpy(e->sku, k, a);
	memcpy(e->node, k + a + 1, key->len - a - 1);
	memcpy(v, val->data, sizeof(v));
	e->on_hand = v[0];
	e->reserved = v[1];
	return 0;
}

static int read_resv(void *arg, const omo_val *key, const omo_val *val)
{
	tables *t = arg;
	if (t->n_resv == t->cap_resv) {
		t->cap_resv = t->cap_resv ? 2 * t->cap_resv : 256;
		t->resv = realloc(t->resv, t->cap_resv * sizeof(*t->resv));
	}
	resv_entry *e = &t->resv[t->n_resv];
	if (key->len > sizeof(e->key) || omo_rec_decode(&omo_rec_reserve_line, val->data, val->len,
	                                                &e->line, NULL, NULL) != OMO_E_OK) {
		t->bad = true;
		return 0;
	}
	memcpy(e->key, key->data, key->len);
	e->klen = key->len;
	t->n_resv++;
	return 0;
}

/* read_tables closes the core, reads its "stock" and "resv" tables straight
 * from the store, and opens the core again. */
static void read_tables(fx *f, tables *t)
{
	static const char *const names[] = {"stock", "resv"};
	omo_store *st;
	omo_txn *txn;
	omo_error_detail d = {0};
	memset(t, 0, sizeof(*t));
	omo_core_close(f->s.core);
	f->s.core = NULL;
	assert_int_equal(omo_store_open(&st, f->s.data, names, 2, TK_MAP, false, &d), OMO_E_OK);
	assert_int_equal(omo_txn_begin(st, NULL, false, &txn), OMO_E_OK);
	assert_int_equal(omo_scan(txn, 0, NULL, 0, NULL, 0, read_stock, t), OMO_E_OK);
	assert_int_equal(omo_scan(txn, 1, NULL, 0, NULL, 0, read_resv, t), OMO_E_OK);
	omo_txn_abort(txn);
	omo_store_close(st);
	assert_false(t->bad);
	tk_core_open(&f->s);
}

static void tables_fini(tables *t)
{
	free(t->stock);
	free(t->resv);
}

static size_t resv_rows_of(const tables *t, const omo_uuid *fid)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n_resv; i++)
		n += memcmp(t->resv[i].key, fid->b, 16) == 0;
	return n;
}

/* violation says which of I2, I3 the tables break (NULL: none): 0 <= reserved
 * <= on_hand, and reserved is the sum of the live reservation rows of its
 * (sku, node); every row's key matches its record. */
static const char *violation(const tables *t, char *buf, size_t len)
{
	int64_t *sum = calloc(t->n_stock + 1, sizeof(int64_t));
	const char *bad = NULL;
	assert_non_null(sum);
	for (size_t i = 0; i < t->n_resv && bad == NULL; i++) {
		const omo_reserve_line *l = &t->resv[i].line;
		size_t sl = strlen(l->sku), j;
		if (t->resv[i].klen != 16 + sl ||
		    memcmp(t->resv[i].key, l->fulfillment_id.b, 16) != 0 ||
		    memcmp(t->resv[i].key + 16, l->sku, sl) != 0 || l->quantity <= 0) {
			snprintf(buf, len, "I3: reservation row %zu does not match its key", i);
			bad = buf;
			break;
		}
		for (j = 0; j < t->n_stock; j++)
			if (strcmp(t->stock[j].sku, l->sku) == 0 &&
			    strcmp(t->stock[j].node, l->node) == 0)
				break;
		if (j == t->n_stock) {
			snprintf(buf, len, "I3: reservation of %s at %s has no stock row", l->sku,
			         l->node);
			bad = buf;
		} else {
			sum[j] += l->quantity;
		}
	}
	for (size_t j = 0; j < t->n_stock && bad == NULL; j++) {
		const stock_entry *s = &t->stock[j];
		if (s->on_hand < 0 || s->reserved < 0 || s->reserved > s->on_hand) {
			snprintf(buf, len, "I2: %s at %s on_hand %lld reserved %lld", s->sku,
			         s->node, (long long)s->on_hand, (long long)s->reserved);
			bad = buf;
		} else if (s->reserved != sum[j]) {
			snprintf(buf, len,
			         "I3: %s at %s reserved %lld but its reservations sum to %lld",
			         s->sku, s->node, (long long)s->reserved, (long long)sum[j]);
			bad = buf;
		}
	}
	free(sum);
	return bad;
}

static void check_i2_i3(const tables *t)
{
	char buf[200];
	const char *bad = violation(t, buf, sizeof(buf));
	if (bad != NULL)
		fail_msg("%s", bad);
}

/* checker_catches_planted_faults: the checker is trusted only once it has
 * caught each kind of fault planted on purpose into good tables t. */
static void checker_catches_planted_faults(tables *t)
{
	char buf[200];
	size_t j, i;
	assert_true(t->n_resv > 0);
	for (j = 0; j < t->n_stock; j++)
		if (strcmp(t->stock[j].sku, t->resv[0].line.sku) == 0 &&
		    strcmp(t->stock[j].node, t->resv[0].line.node) == 0)
			break;
	assert_true(j < t->n_stock);
	assert_null(violation(t, buf, sizeof(buf)));
	t->stock[j].reserved++; /* a reservation counted twice */
	assert_non_null(violation(t, buf, sizeof(buf)));
	t->stock[j].reserved--;
	t->n_resv--; /* a row lost */
	tables shorter = *t;
	shorter.resv = t->resv + 1;
	assert_non_null(violation(&shorter, buf, sizeof(buf)));
	t->n_resv++;
	int64_t on_hand = t->stock[j].on_hand; /* oversold */
	t->stock[j].on_hand = t->stock[j].reserved - 1;
	assert_non_null(violation(t, buf, sizeof(buf)));
	t->stock[j].on_hand = on_hand;
	for (i = 0; i < t->n_stock && t->stock[i].reserved != 0; i++)
		;
	if (i < t->n_stock) { /* negative stock */
		int64_t keep = t->stock[i].on_hand;
		t->stock[i].on_hand = -1;
		assert_non_null(violation(t, buf, sizeof(buf)));
		t->stock[i].on_hand = keep;
	}
	assert_null(violation(t, buf, sizeof(buf)));
}

/* ====================================================================== */
/* seeding and queries                                                    */

static void test_seeded_from_stock_csv(void **state)
{
	fx *f = *state;
	omo_msg r;
	assert_int_equal(f->n_seed, 1279);
	query(f, NULL, NULL, &r);
	assert_int_equal(r.body.stock_reply.rows_count, f->n_seed);
	/* every row as the file says, nothing reserved */
	for (uint32_t i = 0; i < r.body.stock_reply.rows_count; i++) {
		const omo_stock_row *row = &r.body.stock_reply.rows[i];
		assert_int_equal(row->on_hand, seed_of(f, row->sku, row->node));
		assert_int_equal(row->reserved, 0);
		assert_int_equal(row->available, row->on_hand);
	}
	omo_msg_fini(&r);
	assert_level(f, "SKU-0001", "DC-NJ", 22, 0);
	assert_level(f, "SKU-0001", "DC-TX", 126, 0);

	/* seeding happens once per store: later ticks, or a restart, add nothing */
	assert_int_equal(tick(f), INT64_MAX);
	omo_core_close(f->s.core);
	tk_core_open(&f->s);
	assert_int_equal(tick(f), INT64_MAX);
	assert_level(f, "SKU-0001", "DC-NJ", 22, 0);
	query(f, NULL, NULL, &r);
	assert_int_equal(r.body.stock_reply.rows_count, f->n_seed);
	omo_msg_fini(&r);
}

static size_t count_seed(const fx *f, const char *const *skus, const char *const *nodes)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n_seed; i++) {
		bool s = skus == NULL, nd = nodes == NULL;
		for (size_t k = 0; skus && skus[k]; k++)
			s |= strcmp(skus[k], f->seed[i].sku) == 0;
		for (size_t k = 0; nodes && nodes[k]; k++)
			nd |= strcmp(nodes[k], f->seed[i].node) == 0;
		n += s && nd;
	}
	return n;
}

static void check_query(fx *f, const char *const *skus, const char *const *nodes)
{
	omo_msg r;
	query(f, skus, nodes, &r);
	size_t want = count_seed(f, skus, nodes);
	if (r.body.stock_reply.rows_count != want)
		fail_msg("query gave %u rows, want %zu", r.body.stock_reply.rows_count, want);
	for (uint32_t i = 0; i < r.body.stock_reply.rows_count; i++) {
		const omo_stock_row *row = &r.body.stock_reply.rows[i];
		bool s = skus == NULL, nd = nodes == NULL;
		for (size_t k = 0; skus && skus[k]; k++)
			s |= strcmp(skus[k], row->sku) == 0;
		for (size_t k = 0; nodes && nodes[k]; k++)
			nd |= strcmp(nodes[k], row->node) == 0;
		assert_true(s && nd);
		assert_int_equal(row->on_hand, seed_of(f, row->sku, row->node));
	}
	omo_msg_fini(&r);
}

static void test_stock_query_filters(void **state)
{
	fx *f = *state;
	const char *sku1[] = {"SKU-0001", NULL};
	const char *skus2[] = {"SKU-0001", "SKU-0002", NULL};
	const char *nj[] = {"DC-NJ", NULL};
	const char *tx[] = {"DC-TX", NULL};
	const char *two[] = {"DC-NJ", "ST-NYC", NULL};
	const char *none[] = {"SKU-9999", NULL};

	assert_int_equal(count_seed(f, sku1, NULL), 7);
	check_query(f, sku1, NULL);
	assert_int_equal(count_seed(f, NULL, nj), 145);
	check_query(f, NULL, nj);
	check_query(f, sku1, tx);
	check_query(f, skus2, two);
	check_query(f, skus2, NULL);
	check_query(f, none, NULL);

	omo_msg r;
	query(f, sku1, tx, &r);
	assert_int_equal(r.body.stock_reply.rows_count, 1);
	assert_string_equal(r.body.stock_reply.rows[0].sku, "SKU-0001");
	assert_string_equal(r.body.stock_reply.rows[0].node, "DC-TX");
	assert_int_equal(r.body.stock_reply.rows[0].on_hand, 126);
	omo_msg_fini(&r);
	query(f, sku1, NULL, &r);
	for (uint32_t i = 0; i < r.body.stock_reply.rows_count; i++)
		assert_string_equal(r.body.stock_reply.rows[i].sku, "SKU-0001");
	omo_msg_fini(&r);
	query(f, NULL, nj, &r);
	for (uint32_t i = 0; i < r.body.stock_reply.rows_count; i++)
		assert_string_equal(r.body.stock_reply.rows[i].node, "DC-NJ");
	omo_msg_fini(&r);
}

/* two_at finds two SKUs stock.csv has at node with at least min on hand. */
static void two_at(const fx *f, const char *node, int64_t min, const char **a, const char **b)
{
	*a = *b = NULL;
	for (size_t i = 0; i < f->n_seed && *b == NULL; i++)
		if (strcmp(f->seed[i].node, node) == 0 && f->seed[i].on_hand >= min) {
			if (*a == NULL)
				*a = f->seed[i].sku;
			else
				*b = f->seed[i].sku;
		}
	assert_non_null(*b);
}

/* ====================================================================== */
/* reservations                                                           */

static void test_reserve_all_or_nothing(void **state)
{
	fx *f = *state;
	const char *x, *y;
	two_at(f, "DC-NJ", 5, &x, &y);
	int64_t hx = seed_of(f, x, "DC-NJ"), hy = seed_of(f, y, "DC-NJ");
	omo_uuid fid;
	omo_uuid_generate(&fid);
	omo_msg r;

	/* the second line is one unit short: neither is held */
	rline short_one[] = {{&fid, x, "DC-NJ", 2}, {&fid, y, "DC-NJ", hy + 1}};
	reserve(f, short_one, 2, &r);
	tk_assert_error(&r, "OUT_OF_STOCK");
	omo_msg_fini(&r);
	assert_level(f, x, "DC-NJ", hx, 0);
	assert_level(f, y, "DC-NJ", hy, 0);

	/* an unknown SKU or node anywhere refuses the whole request */
	rline unknown_sku[] = {{&fid, x, "DC-NJ", 1}, {&fid, "SKU-9999", "DC-NJ", 1}};
	reserve(f, unknown_sku, 2, &r);
	tk_assert_error(&r, "UNKNOWN_SKU");
	omo_msg_fini(&r);
	rline unknown_node[] = {{&fid, x, "DC-NJ", 1}, {&fid, y, "DC-XX", 1}};
	reserve(f, unknown_node, 2, &r);
	tk_assert_error(&r, "UNKNOWN_NODE");
	omo_msg_fini(&r);
	/* the same fulfilment and SKU twice in one request */
	rline dup[] = {{&fid, x, "DC-NJ", 1}, {&fid, x, "DC-NJ", 1}};
	reserve(f, dup, 2, &r);
	tk_assert_error(&r, "DUPLICATE_LINE");
	omo_msg_fini(&r);
	assert_level(f, x, "DC-NJ", hx, 0);
	assert_level(f, y, "DC-NJ", hy, 0);

	/* exactly what is there: both held */
	rline exact[] = {{&fid, x, "DC-NJ", 2}, {&fid, y, "DC-NJ", hy}};
	reserve_ok(f, exact, 2);
	assert_level(f, x, "DC-NJ", hx, 2);
	assert_level(f, y, "DC-NJ", hy, hy);

	/* another fulfilment wanting one unit of y finds none */
	omo_uuid other;
	omo_uuid_generate(&other);
	rline one_more[] = {{&other, y, "DC-NJ", 1}};
	reserve(f, one_more, 1, &r);
	tk_assert_error(&r, "OUT_OF_STOCK");
	omo_msg_fini(&r);
	assert_level(f, y, "DC-NJ", hy, hy);

	/* two fulfilments in one request share a SKU's availability at a node */
	omo_uuid f1, f2;
	omo_uuid_generate(&f1);
	omo_uuid_generate(&f2);
	rline together[] = {{&f1, x, "DC-NJ", hx - 2}, {&f2, x, "DC-NJ", 1}};
	reserve(f, together, 2, &r);
	tk_assert_error(&r, "OUT_OF_STOCK");
	omo_msg_fini(&r);
	assert_level(f, x, "DC-NJ", hx, 2);
}

static void test_reserve_retry_holds_once(void **state)
{
	fx *f = *state;
	const char *x, *y;
	two_at(f, "DC-TX", 3, &x, &y);
	int64_t hx = seed_of(f, x, "DC-TX"), hy = seed_of(f, y, "DC-TX");
	omo_uuid fid;
	omo_uuid_generate(&fid);
	rline lines[] = {{&fid, x, "DC-TX", hx}, {&fid, y, "DC-TX", 3}};
	reserve_ok(f, lines, 2);
	assert_level(f, x, "DC-TX", hx, hx);
	assert_level(f, y, "DC-TX", hy, 3);
	/* the router asks again (its reply was lost): held already, nothing more */
	reserve_ok(f, lines, 2);
	reserve_ok(f, lines, 2);
	assert_level(f, x, "DC-TX", hx, hx);
	assert_level(f, y, "DC-TX", hy, 3);
	tables t;
	read_tables(f, &t);
	assert_int_equal(t.n_resv, 2);
	assert_int_equal(resv_rows_of(&t, &fid), 2);
	check_i2_i3(&t);
	tables_fini(&t);
}

/*
 * A request that repeats a held line (same fulfilment and SKU) next to a new
 * fulfilment of the same SKU at the same node: the held line is a retry and
 * takes nothing more, so the new one fits in what is left.
 */
static void test_reserve_retry_beside_new_fulfilment(void **state)
{
	fx *f = *state;
	int64_t h = seed_of(f, "SKU-0001", "DC-TX"); /* 126 */
	omo_uuid f1, f2;
	omo_uuid_generate(&f1);
	omo_uuid_generate(&f2);
	rline first[] = {{&f1, "SKU-0001", "DC-TX", 100}};
	reserve_ok(f, first, 1);
	assert_level(f, "SKU-0001", "DC-TX", h, 100);
	rline both[] = {{&f1, "SKU-0001", "DC-TX", 100}, {&f2, "SKU-0001", "DC-TX", h - 100}};
	omo_msg r;
	reserve(f, both, 2, &r);
	if (r.type == OMO_MSG_ERROR)
		fail_msg("want ack: f1 is held already and %lld units are free for f2; got %s: %s",
		         (long long)(h - 100), r.body.error.code, r.body.error.message);
	omo_msg_fini(&r);
	assert_level(f, "SKU-0001", "DC-TX", h, h);
}

static void test_release(void **state)
{
	fx *f = *state;
	const char *x, *y;
	two_at(f, "ST-NYC", 2, &x, &y);
	int64_t hx = seed_of(f, x, "ST-NYC"), hy = seed_of(f, y, "ST-NYC");
	omo_uuid fid, keep, nobody;
	omo_uuid_generate(&fid);
	omo_uuid_generate(&keep);
	omo_uuid_generate(&nobody);
	rline lines[] = {{&fid, x, "ST-NYC", 2}, {&fid, y, "ST-NYC", 1}};
	rline kept[] = {{&keep, x, "ST-NYC", 1}};
	reserve_ok(f, lines, 2);
	reserve_ok(f, kept, 1);
	assert_level(f, x, "ST-NYC", hx, 3);
	release(f, &fid);
	assert_level(f, x, "ST-NYC", hx, 1);
	assert_level(f, y, "ST-NYC", hy, 0);
	/* releasing again, or what was never held, is fine and changes nothing */
	release(f, &fid);
	release(f, &nobody);
	assert_level(f, x, "ST-NYC", hx, 1);
	tables t;
	read_tables(f, &t);
	assert_int_equal(resv_rows_of(&t, &fid), 0);
	assert_int_equal(resv_rows_of(&t, &keep), 1);
	check_i2_i3(&t);
	tables_fini(&t);
	/* released, the fulfilment id can hold again */
	reserve_ok(f, lines, 2);
	assert_level(f, x, "ST-NYC", hx, 3);
	assert_level(f, y, "ST-NYC", hy, 1);
}

static void test_shipped_consumes(void **state)
{
	fx *f = *state;
	const char *x, *y;
	two_at(f, "DC-CA", 5, &x, &y);
	int64_t hx = seed_of(f, x, "DC-CA"), hy = seed_of(f, y, "DC-CA");
	omo_uuid fid, other;
	omo_uuid_generate(&fid);
	omo_uuid_generate(&other);
	rline lines[] = {{&fid, x, "DC-CA", 3}, {&fid, y, "DC-CA", 2}};
	rline others[] = {{&other, x, "DC-CA", 1}};
	reserve_ok(f, lines, 2);
	reserve_ok(f, others, 1);
	assert_level(f, x, "DC-CA", hx, 4);

	/* accepted changes nothing; shipped takes the units off the shelf */
	assert_int_equal(node_update(f, &fid, "DC-CA", OMO_FF_ACCEPTED), OMO_APPLIED);
	assert_level(f, x, "DC-CA", hx, 4);
	assert_int_equal(node_update(f, &fid, "DC-CA", OMO_FF_SHIPPED), OMO_APPLIED);
	assert_level(f, x, "DC-CA", hx - 3, 1);
	assert_level(f, y, "DC-CA", hy - 2, 0);
	tables t;
	read_tables(f, &t);
	assert_int_equal(resv_rows_of(&t, &fid), 0);
	assert_int_equal(resv_rows_of(&t, &other), 1);
	check_i2_i3(&t);
	tables_fini(&t);

	/* a second shipped (a new event), or delivered, changes nothing */
	assert_int_equal(node_update(f, &fid, "DC-CA", OMO_FF_SHIPPED), OMO_APPLIED);
	assert_int_equal(node_update(f, &fid, "DC-CA", OMO_FF_DELIVERED), OMO_APPLIED);
	assert_level(f, x, "DC-CA", hx - 3, 1);
	assert_level(f, y, "DC-CA", hy - 2, 0);
	/* the same event again is a duplicate */
	omo_msg m;
	omo_msg_init(&m, OMO_MSG_FULFILLMENT_UPDATE);
	m.body.fulfillment_update.fulfillment_id = other;
	omo_uuid_generate(&m.body.fulfillment_update.order_id);
	snprintf(m.body.fulfillment_update.node, 33, "DC-CA");
	m.body.fulfillment_update.status = OMO_FF_SHIPPED;
	assert_int_equal(feed_seq(f, &f->wh, &m, f->wh.seq), OMO_DUPLICATE);
	assert_level(f, x, "DC-CA", hx - 3, 1);

	/* picked up at a store consumes too */
	const char *s1, *s2;
	two_at(f, "ST-BOS", 1, &s1, &s2);
	int64_t hs = seed_of(f, s1, "ST-BOS");
	omo_uuid pick;
	omo_uuid_generate(&pick);
	rline pl[] = {{&pick, s1, "ST-BOS", 1}};
	reserve_ok(f, pl, 1);
	assert_int_equal(node_update(f, &pick, "ST-BOS", OMO_FF_READY_FOR_PICKUP), OMO_APPLIED);
	assert_level(f, s1, "ST-BOS", hs, 1);
	assert_int_equal(node_update(f, &pick, "ST-BOS", OMO_FF_PICKED_UP), OMO_APPLIED);
	assert_level(f, s1, "ST-BOS", hs - 1, 0);
}

static void test_rejected_or_cancelled_releases(void **state)
{
	fx *f = *state;
	const char *x, *y;
	two_at(f, "DC-NJ", 4, &x, &y);
	int64_t hx = seed_of(f, x, "DC-NJ");
	omo_uuid a, b;
	omo_uuid_generate(&a);
	omo_uuid_generate(&b);
	rline la[] = {{&a, x, "DC-NJ", 2}};
	rline lb[] = {{&b, x, "DC-NJ", 1}};
	reserve_ok(f, la, 1);
	reserve_ok(f, lb, 1);
	assert_level(f, x, "DC-NJ", hx, 3);
	assert_int_equal(node_update(f, &a, "DC-NJ", OMO_FF_REJECTED), OMO_APPLIED);
	assert_level(f, x, "DC-NJ", hx, 1);
	assert_int_equal(node_update(f, &b, "DC-NJ", OMO_FF_ACCEPTED), OMO_APPLIED);
	assert_int_equal(node_update(f, &b, "DC-NJ", OMO_FF_CANCELLED), OMO_APPLIED);
	assert_level(f, x, "DC-NJ", hx, 0);
	tables t;
	read_tables(f, &t);
	assert_int_equal(t.n_resv, 0);
	check_i2_i3(&t);
	tables_fini(&t);
}

static void test_receive_and_adjust(void **state)
{
	fx *f = *state;
	omo_msg r;
	int64_t h = seed_of(f, "SKU-0001", "DC-NJ"); /* 22 */
	change(f, false, "SKU-0001", "DC-NJ", 7, &r);
	assert_ack(&r);
	omo_msg_fini(&r);
	assert_level(f, "SKU-0001", "DC-NJ", h + 7, 0);

	/* a pair the file had no row for gets one */
	const char *sku = NULL;
	for (int i = 1; i <= 200 && sku == NULL; i++) {
		static char s[16];
		snprintf(s, sizeof(s), "SKU-%04d", i);
		if (count_seed(f, (const char *const[]){s, NULL},
		               (const char *const[]){"ST-MIA", NULL}) == 0)
			sku = s;
	}
	assert_non_null(sku);
	assert_false(level_of(f, sku, "ST-MIA").found);
	change(f, false, sku, "ST-MIA", 5, &r);
	assert_ack(&r);
	omo_msg_fini(&r);
	assert_level(f, sku, "ST-MIA", 5, 0);
	omo_msg q;
	query(f, NULL, NULL, &q);
	assert_int_equal(q.body.stock_reply.rows_count, f->n_seed + 1);
	omo_msg_fini(&q);

	/* adjustments may not take on_hand below what is reserved */
	omo_uuid fid;
	omo_uuid_generate(&fid);
	rline l[] = {{&fid, sku, "ST-MIA", 4}};
	reserve_ok(f, l, 1);
	change(f, true, sku, "ST-MIA", -2, &r);
	tk_assert_error(&r, "BAD_STATE");
	omo_msg_fini(&r);
	assert_level(f, sku, "ST-MIA", 5, 4);
	change(f, true, sku, "ST-MIA", -1, &r);
	assert_ack(&r);
	omo_msg_fini(&r);
	assert_level(f, sku, "ST-MIA", 4, 4);
	change(f, true, sku, "ST-MIA", 3, &r);
	assert_ack(&r);
	omo_msg_fini(&r);
	assert_level(f, sku, "ST-MIA", 7, 4);
	/* nor below zero */
	release(f, &fid);
	change(f, true, sku, "ST-MIA", -8, &r);
	tk_assert_error(&r, "BAD_STATE");
	omo_msg_fini(&r);
	assert_level(f, sku, "ST-MIA", 7, 0);

	/* unknown SKU or node */
	change(f, false, "SKU-9999", "DC-NJ", 1, &r);
	tk_assert_error(&r, "UNKNOWN_SKU");
	omo_msg_fini(&r);
	change(f, false, "SKU-0001", "DC-XX", 1, &r);
	tk_assert_error(&r, "UNKNOWN_NODE");
	omo_msg_fini(&r);
	change(f, true, "SKU-9999", "DC-NJ", 1, &r);
	tk_assert_error(&r, "UNKNOWN_SKU");
	omo_msg_fini(&r);
	change(f, true, "SKU-0001", "DC-XX", -1, &r);
	tk_assert_error(&r, "UNKNOWN_NODE");
	omo_msg_fini(&r);
	assert_level(f, "SKU-0001", "DC-NJ", h + 7, 0);
	assert_false(level_of(f, "SKU-0001", "DC-XX").found);
}

/* ====================================================================== */
/* random operations, then I1, I2, I3                                     */

#define N_OPS   2000
#define N_SKUS  4
#define N_NODES 3
#define MAX_FF  (N_OPS + 1)

static const char *const r_skus[N_SKUS] = {"SKU-0001", "SKU-0002", "SKU-0003", "SKU-0004"};
static const char *const r_nodes[N_NODES] = {"DC-NJ", "ST-NYC", "ST-BOS"};

typedef struct model_pair {
	int64_t seed, received, shipped, adjusted, on_hand, reserved;
} model_pair;

typedef struct model_ff {
	omo_uuid fid;
	int node;
	int n;
	int sku[N_SKUS];
	int64_t qty[N_SKUS];
	enum { FF_NEW, FF_HELD, FF_DONE } state;
} model_ff;

typedef struct model {
	model_pair p[N_SKUS][N_NODES];
	model_ff *ff;
	int n_ff;
	int held, refused, shipped, released, received, adjusted, adjust_refused;
} model;

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static void model_check_pair(fx *f, const model *m, int s, int n, int op)
{
	const model_pair *p = &m->p[s][n];
	level l = level_of(f, r_skus[s], r_nodes[n]);
	if (l.on_hand != p->on_hand || l.reserved != p->reserved)
		fail_msg("op %d: %s at %s is %lld/%lld, model says %lld/%lld (seed %llu)", op,
		         r_skus[s], r_nodes[n], (long long)l.on_hand, (long long)l.reserved,
		         (long long)p->on_hand, (long long)p->reserved,
		         (unsigned long long)rng_state);
}

static void model_settle(model *m, model_ff *ff, bool consumed)
{
	for (int i = 0; i < ff->n; i++) {
		model_pair *p = &m->p[ff->sku[i]][ff->node];
		p->reserved -= ff->qty[i];
		if (consumed) {
			p->on_hand -= ff->qty[i];
			p->shipped += ff->qty[i];
		}
	}
	ff->state = FF_DONE;
}

static model_ff *pick_held(model *m)
{
	int start = m->n_ff ? (int)rnd((uint32_t)m->n_ff) : 0;
	for (int i = 0; i < m->n_ff; i++) {
		model_ff *ff = &m->ff[(start + i) % m->n_ff];
		if (ff->state == FF_HELD)
			return ff;
	}
	return NULL;
}

static void op_reserve(fx *f, model *m, model_ff *ff)
{
	rline ls[N_SKUS] = {{0}};
	omo_msg r;
	bool fits = true;
	for (int i = 0; i < ff->n; i++) {
		const model_pair *p = &m->p[ff->sku[i]][ff->node];
		ls[i] = (rline){&ff->fid, r_skus[ff->sku[i]], r_nodes[ff->node], ff->qty[i]};
		if (ff->state != FF_HELD && p->on_hand - p->reserved < ff->qty[i])
			fits = false;
	}
	reserve(f, ls, (uint32_t)ff->n, &r);
	if (fits) {
		assert_ack(&r);
		if (ff->state != FF_HELD) {
			for (int i = 0; i < ff->n; i++)
				m->p[ff->sku[i]][ff->node].reserved += ff->qty[i];
			ff->state = FF_HELD;
			m->held++;
		}
	} else {
		tk_assert_error(&r, "OUT_OF_STOCK");
		m->refused++;
	}
	omo_msg_fini(&r);
}

static void test_random_operations_keep_invariants(void **state)
{
	fx *f = *state;
	const char *env = getenv("OMO_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 20260101;
	model *m = calloc(1, sizeof(*m));
	assert_non_null(m);
	m->ff = calloc(MAX_FF, sizeof(*m->ff));
	assert_non_null(m->ff);
	print_message("random operations: seed %llu (set OMO_TEST_SEED to replay another)\n",
	              (unsigned long long)seed);
	rng_state = seed ? seed : 1;
	for (int s = 0; s < N_SKUS; s++)
		for (int n = 0; n < N_NODES; n++) {
			model_pair *p = &m->p[s][n];
			p->seed = p->on_hand = seed_of(f, r_skus[s], r_nodes[n]);
		}

	for (int op = 0; op < N_OPS; op++) {
		uint32_t kind = rnd(100);
		model_ff *ff = NULL;
		omo_msg r;
		if (kind < 35 || (kind < 45 && (ff = pick_held(m)) == NULL)) {
			/* a new fulfilment: one node, 1 to 3 distinct SKUs */
			ff = &m->ff[m->n_ff++];
			omo_uuid_generate(&ff->fid);
			ff->node = (int)rnd(N_NODES);
			ff->n = 1 + (int)rnd(3);
			int first = (int)rnd(N_SKUS);
			for (int i = 0; i < ff->n; i++) {
				ff->sku[i] = (first + i) % N_SKUS;
				ff->qty[i] = 1 + rnd(12);
			}
			op_reserve(f, m, ff);
			if (ff->state != FF_HELD)
				ff->state = FF_DONE; /* refused: never used again */
		} else if (kind < 45) {
			op_reserve(f, m, ff); /* a retry of a held one: holds nothing more */
		} else if (kind < 55) {
			ff = m->n_ff ? &m->ff[rnd((uint32_t)m->n_ff)] : NULL;
			if (ff != NULL) {
				release(f, &ff->fid);
				if (ff->state == FF_HELD) {
					model_settle(m, ff, false);
					m->released++;
				}
			}
		} else if (kind < 70) {
			ff = rnd(5) == 0 && m->n_ff ? &m->ff[rnd((uint32_t)m->n_ff)] : pick_held(m);
			if (ff != NULL) {
				omo_fulfillment_status st = r_nodes[ff->node][0] == 'S' && rnd(2)
				                                ? OMO_FF_PICKED_UP
				                                : OMO_FF_SHIPPED;
				assert_int_equal(node_update(f, &ff->fid, r_nodes[ff->node], st),
				                 OMO_APPLIED);
				if (ff->state == FF_HELD) {
					model_settle(m, ff, true);
					m->shipped++;
				}
			}
		} else if (kind < 80) {
			ff = pick_held(m);
			if (ff != NULL) {
				omo_fulfillment_status st =
				    rnd(2) ? OMO_FF_REJECTED : OMO_FF_CANCELLED;
				assert_int_equal(node_update(f, &ff->fid, r_nodes[ff->node], st),
				                 OMO_APPLIED);
				model_settle(m, ff, false);
				m->released++;
			}
		} else if (kind < 92) {
			int s = (int)rnd(N_SKUS), n = (int)rnd(N_NODES);
			int64_t q = 1 + rnd(20);
			change(f, false, r_skus[s], r_nodes[n], q, &r);
			assert_ack(&r);
			omo_msg_fini(&r);
			m->p[s][n].on_hand += q;
			m->p[s][n].received += q;
			m->received++;
		} else {
			int s = (int)rnd(N_SKUS), n = (int)rnd(N_NODES);
			int64_t q = (int64_t)rnd(26) - 15;
			model_pair *p = &m->p[s][n];
			if (q == 0)
				q = 1;
			change(f, true, r_skus[s], r_nodes[n], q, &r);
			if (p->on_hand + q >= p->reserved) {
				assert_ack(&r);
				p->on_hand += q;
				p->adjusted += q;
				m->adjusted++;
			} else {
				tk_assert_error(&r, "BAD_STATE");
				m->adjust_refused++;
			}
			omo_msg_fini(&r);
		}
		if (op % 50 == 49)
			for (int s = 0; s < N_SKUS; s++)
				for (int n = 0; n < N_NODES; n++)
					model_check_pair(f, m, s, n, op);
	}
	print_message("held %d refused %d shipped %d released %d received %d adjusted %d "
	              "adjust_refused %d\n",
	              m->held, m->refused, m->shipped, m->released, m->received, m->adjusted,
	              m->adjust_refused);
	/* the sequence exercised every path */
	assert_true(m->held > 100 && m->refused > 10 && m->shipped > 50 && m->released > 50 &&
	            m->adjust_refused > 0);

	if (pick_held(m) == NULL) { /* the fault planting below needs a live reservation */
		omo_msg r;
		change(f, false, r_skus[0], r_nodes[0], 1, &r);
		assert_ack(&r);
		omo_msg_fini(&r);
		m->p[0][0].on_hand++;
		m->p[0][0].received++;
		model_ff *ff = &m->ff[m->n_ff++];
		omo_uuid_generate(&ff->fid);
		ff->n = 1;
		ff->qty[0] = 1;
		op_reserve(f, m, ff);
		assert_int_equal(ff->state, FF_HELD);
	}

	/* I1, I2, I3 over every row of the service's own tables */
	tables t;
	read_tables(f, &t);
	check_i2_i3(&t);
	checker_catches_planted_faults(&t);
	size_t live = 0;
	for (int i = 0; i < m->n_ff; i++)
		if (m->ff[i].state == FF_HELD)
			live += (size_t)m->ff[i].n;
	assert_int_equal(t.n_resv, live);
	size_t rows = f->n_seed; /* plus the pairs the file lacks that got stock */
	for (int s = 0; s < N_SKUS; s++)
		for (int n = 0; n < N_NODES; n++) {
			const model_pair *p = &m->p[s][n];
			rows += p->seed == 0 && !seeded(f, r_skus[s], r_nodes[n]) &&
			        (p->received > 0 || p->adjusted != 0 || p->reserved > 0);
		}
	assert_int_equal(t.n_stock, rows);
	for (size_t j = 0; j < t.n_stock; j++) {
		const stock_entry *e = &t.stock[j];
		int64_t want = seed_of(f, e->sku, e->node), reserved = 0;
		for (int s = 0; s < N_SKUS; s++)
			for (int n = 0; n < N_NODES; n++)
				if (strcmp(r_skus[s], e->sku) == 0 &&
				    strcmp(r_nodes[n], e->node) == 0) {
					const model_pair *p = &m->p[s][n];
					assert_int_equal(p->seed, want);
					want = p->seed + p->received - p->shipped + p->adjusted;
					reserved = p->reserved;
				}
		if (e->on_hand != want || e->reserved != reserved)
			fail_msg("I1: %s at %s on_hand %lld reserved %lld, want %lld %lld", e->sku,
			         e->node, (long long)e->on_hand, (long long)e->reserved,
			         (long long)want, (long long)reserved);
	}
	/* every live reservation row is one the model holds */
	for (size_t i = 0; i < t.n_resv; i++) {
		const omo_reserve_line *l = &t.resv[i].line;
		bool found = false;
		for (int k = 0; k < m->n_ff && !found; k++) {
			const model_ff *ff = &m->ff[k];
			if (ff->state != FF_HELD || memcmp(ff->fid.b, l->fulfillment_id.b, 16) != 0)
				continue;
			for (int s = 0; s < ff->n; s++)
				found |= strcmp(r_skus[ff->sku[s]], l->sku) == 0 &&
				         strcmp(r_nodes[ff->node], l->node) == 0 &&
				         ff->qty[s] == l->quantity;
		}
		if (!found)
			fail_msg("I3: reservation of %s at %s is not one the test holds", l->sku,
			         l->node);
	}
	tables_fini(&t);
	free(m->ff);
	free(m);
}

/* ====================================================================== */
/* checkout carts                                                         */

static void cart_msg(omo_msg *req, const omo_uuid *cart, const char *sku, const char *node,
                     int64_t qty, omo_cart_line *line)
{
	omo_msg_init(req, OMO_MSG_HOLD_CART);
	omo_uuid_generate(&req->id);
	req->body.hold_cart.cart_id = *cart;
	snprintf(line->sku, sizeof(line->sku), "%s", sku);
	snprintf(line->node, sizeof(line->node), "%s", node);
	line->quantity = qty;
	req->body.hold_cart.lines = line;
	req->body.hold_cart.lines_count = 1;
	req->body.hold_cart.ttl_ms = 60000;
}

static void hold(fx *f, const omo_uuid *cart, const char *sku, const char *node, int64_t qty,
                 omo_msg *r)
{
	omo_msg req;
	omo_cart_line line;
	cart_msg(&req, cart, sku, node, qty, &line);
	request(f, &req, r);
}

/* set_available makes exactly n units of sku at node free. */
static void set_available(fx *f, const char *sku, const char *node, int64_t n)
{
	omo_msg r;
	level l = level_of(f, sku, node);
	change(f, true, sku, node, n - l.available, &r);
	assert_ack(&r);
	omo_msg_fini(&r);
	assert_int_equal(level_of(f, sku, node).available, n);
}

static void test_cart_race_for_last_unit(void **state)
{
	fx *f = *state;
	const char *sku = "SKU-0001", *node = "ST-NYC";
	omo_uuid a, b;
	omo_msg req[2], got[2];
	omo_cart_line line[2];
	omo_error_detail d = {0};
	omo_uuid_generate(&a);
	omo_uuid_generate(&b);
	set_available(f, sku, node, 1);
	int64_t on_hand = level_of(f, sku, node).on_hand;

	/* two checkouts ask for the last unit at the same moment: one batch */
	cart_msg(&req[0], &a, sku, node, 1, &line[0]);
	cart_msg(&req[1], &b, sku, node, 1, &line[1]);
	assert_int_equal(omo_core_begin(f->s.core), OMO_E_OK);
	for (int i = 0; i < 2; i++) {
		omo_buf in = tk_encode(&req[i]), out = {0};
		omo_core_request(f->s.core, in.data, in.len, &out);
		assert_int_equal(omo_msg_decode(out.data, out.len, &got[i], &d), OMO_E_OK);
		omo_buf_fini(&in);
		omo_buf_fini(&out);
	}
	assert_int_equal(omo_core_commit(f->s.core), OMO_E_OK);
	/* one wins; the other is told plainly that the unit is gone */
	assert_ack(&got[0]);
	tk_assert_error(&got[1], "OUT_OF_STOCK");
	assert_non_null(strstr(got[1].body.error.message, "SKU-0001 at ST-NYC has 0 available"));
	omo_msg_fini(&got[0]);
	omo_msg_fini(&got[1]);
	/* nothing oversold: one unit on hand is held once */
	assert_level(f, sku, node, on_hand, on_hand);

	/* the winner's retry holds nothing more; the loser's retry still fails */
	hold(f, &a, sku, node, 1, &got[0]);
	assert_ack(&got[0]);
	omo_msg_fini(&got[0]);
	hold(f, &b, sku, node, 1, &got[1]);
	tk_assert_error(&got[1], "OUT_OF_STOCK");
	omo_msg_fini(&got[1]);
	assert_level(f, sku, node, on_hand, on_hand);

	/* the hold frees itself when it expires (60 s), not before */
	int64_t start = f->s.now;
	assert_int_equal(tick(f), start + 60000000);
	f->s.now = start + 59999999;
	tick(f);
	assert_level(f, sku, node, on_hand, on_hand);
	f->s.now = start + 60000000;
	assert_int_equal(tick(f), INT64_MAX);
	assert_level(f, sku, node, on_hand, on_hand - 1);

	/* now the other checkout gets it, and gives it back */
	hold(f, &b, sku, node, 1, &got[1]);
	assert_ack(&got[1]);
	omo_msg_fini(&got[1]);
	assert_level(f, sku, node, on_hand, on_hand);
	omo_msg rel;
	omo_msg_init(&req[0], OMO_MSG_RELEASE_CART);
	req[0].body.release_cart.cart_id = b;
	request(f, &req[0], &rel);
	assert_ack(&rel);
	omo_msg_fini(&rel);
	assert_level(f, sku, node, on_hand, on_hand - 1);
	/* its timer, when it comes, frees nothing twice */
	f->s.now += 60000000;
	tick(f);
	assert_level(f, sku, node, on_hand, on_hand - 1);
}

static void test_cart_hold_replaces_and_refuses(void **state)
{
	fx *f = *state;
	const char *sku = "SKU-0002", *node = "DC-NJ";
	omo_uuid cart;
	omo_msg r;
	omo_uuid_generate(&cart);
	set_available(f, sku, node, 3);
	level before = level_of(f, sku, node);

	hold(f, &cart, sku, node, 2, &r);
	assert_ack(&r);
	omo_msg_fini(&r);
	assert_level(f, sku, node, before.on_hand, before.reserved + 2);
	/* the cart changes: its new hold replaces the old one */
	hold(f, &cart, sku, node, 1, &r);
	assert_ack(&r);
	omo_msg_fini(&r);
	assert_level(f, sku, node, before.on_hand, before.reserved + 1);
	/* more than there is: refused, the old hold stays as it was */
	hold(f, &cart, sku, node, 4, &r);
	tk_assert_error(&r, "OUT_OF_STOCK");
	omo_msg_fini(&r);
	assert_level(f, sku, node, before.on_hand, before.reserved + 1);
	/* an unknown SKU or node: refused by name, nothing changed */
	hold(f, &cart, "SKU-NOPE", node, 1, &r);
	tk_assert_error(&r, "UNKNOWN_SKU");
	omo_msg_fini(&r);
	hold(f, &cart, sku, "NOWHERE", 1, &r);
	tk_assert_error(&r, "UNKNOWN_NODE");
	omo_msg_fini(&r);
	assert_level(f, sku, node, before.on_hand, before.reserved + 1);
	/* the router sees held units as reserved: it cannot take them */
	omo_uuid fid;
	omo_uuid_generate(&fid);
	const rline want[] = {{&fid, sku, node, 3}};
	reserve(f, want, 1, &r);
	tk_assert_error(&r, "OUT_OF_STOCK");
	omo_msg_fini(&r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_seeded_from_stock_csv),
	    T(test_stock_query_filters),
	    T(test_reserve_all_or_nothing),
	    T(test_reserve_retry_holds_once),
	    T(test_reserve_retry_beside_new_fulfilment),
	    T(test_release),
	    T(test_shipped_consumes),
	    T(test_rejected_or_cancelled_releases),
	    T(test_receive_and_adjust),
	    T(test_random_operations_keep_invariants),
	    T(test_cart_race_for_last_unit),
	    T(test_cart_hold_replaces_and_refuses),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
