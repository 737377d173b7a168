/*
 * test_store.c - the LMDB wrapper (services/runtime/store.h): put/get/del,
 * scans, nested transactions, durability across close and reopen, records,
 * big-endian keys, and a full map reported as STORE_FULL.
 *
 * Each test works in its own mkdtemp directory under /tmp, removed at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "testkit.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MiB  (1024u * 1024u)

enum { T_A, T_B };
static const char *const tables[] = {"a", "b"};

typedef struct fx {
	char dir[64];
	omo_store *s;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	omo_error_detail d = {0};
	if (f == NULL)
		return -1;
	if (tk_mkdtemp(f->dir, sizeof(f->dir), "store") == NULL) {
		free(f);
		return -1;
	}
	if (omo_store_open(&f->s, f->dir, tables, N(tables), 16 * MiB, true, &d) != OMO_E_OK) {
		fprintf(stderr, "open: %s\n", d.text);
		tk_rm_rf(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	omo_store_close(f->s);
	tk_rm_rf(f->dir);
	free(f);
	return 0;
}

static omo_txn *begin(omo_store *s, omo_txn *parent, bool write)
{
	omo_txn *t = NULL;
	assert_int_equal(omo_txn_begin(s, parent, write, &t), OMO_E_OK);
	assert_non_null(t);
	return t;
}

static void put_s(omo_txn *t, omo_table tb, const char *k, const char *v)
{
	assert_int_equal(omo_put(t, tb, k, strlen(k), v, strlen(v)), OMO_E_OK);
}

/* assert_get checks that k holds v (or is absent when v is NULL). */
static void assert_get(omo_txn *t, omo_table tb, const char *k, const char *v)
{
	omo_val got = {0};
	omo_err e = omo_get(t, tb, k, strlen(k), &got);
	if (v == NULL) {
		assert_int_equal(e, OMO_E_NOT_FOUND);
		return;
	}
	assert_int_equal(e, OMO_E_OK);
	assert_int_equal(got.len, strlen(v));
	assert_memory_equal(got.data, v, got.len);
}

/* ---- basic operations ------------------------------------------------- */

static void test_put_get_del(void **state)
{
	fx *f = *state;
	omo_txn *t = begin(f->s, NULL, true);
	put_s(t, T_A, "apple", "red");
	put_s(t, T_A, "banana", "yellow");
	put_s(t, T_B, "apple", "in table b");
	assert_get(t, T_A, "apple", "red");
	assert_get(t, T_B, "apple", "in table b");
	assert_get(t, T_B, "banana", NULL); /* tables are separate */
	put_s(t, T_A, "apple", "green");    /* overwrite */
	assert_get(t, T_A, "apple", "green");

	assert_int_equal(omo_del(t, T_A, "apple", 5), OMO_E_OK);
	assert_get(t, T_A, "apple", NULL);
	assert_int_equal(omo_del(t, T_A, "apple", 5), OMO_E_NOT_FOUND);
	assert_int_equal(omo_del(t, T_A, "cherry", 6), OMO_E_NOT_FOUND);

	/* Values are bytes: embedded NULs and empty values survive. */
	static const uint8_t bin[] = {0, 1, 0, 2};
	assert_int_equal(omo_put(t, T_A, "bin", 3, bin, sizeof(bin)), OMO_E_OK);
	assert_int_equal(omo_put(t, T_A, "empty", 5, "", 0), OMO_E_OK);
	omo_val v;
	assert_int_equal(omo_get(t, T_A, "bin", 3, &v), OMO_E_OK);
	assert_int_equal(v.len, 4);
	assert_memory_equal(v.data, bin, 4);
	assert_int_equal(omo_get(t, T_A, "empty", 5, &v), OMO_E_OK);
	assert_int_equal(v.len, 0);
	assert_int_equal(omo_txn_commit(t), OMO_E_OK);

	t = begin(f->s, NULL, false);
	assert_get(t, T_A, "banana", "yellow");
	assert_get(t, T_A, "apple", NULL);
	assert_get(t, T_B, "apple", "in table b");
	omo_txn_abort(t);
}

static void test_abort_drops_writes(void **state)
{
	fx *f = *state;
	omo_txn *t = begin(f->s, NULL, true);
	put_s(t, T_A, "kept", "1");
	assert_int_equal(omo_txn_commit(t), OMO_E_OK);

	t = begin(f->s, NULL, true);
	put_s(t, T_A, "dropped", "2");
	assert_int_equal(omo_del(t, T_A, "kept", 4), OMO_E_OK);
	omo_txn_abort(t);
	omo_txn_abort(NULL); /* fine */

	t = begin(f->s, NULL, false);
	assert_get(t, T_A, "kept", "1");
	assert_get(t, T_A, "dropped", NULL);
	omo_txn_abort(t);
}

/* ---- scans -------------------------------------------------------------- */

typedef struct seen {
	char keys[16][32];
	char vals[16][32];
	int n;
	int stop_after; /* 0: never */
} seen;

static int collect(void *arg, const omo_val *key, const omo_val *val)
{
	seen *s = arg;
	assert_true(s->n < 16);
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%.*s", (int)key->len, (const char *)key->data);
	snprintf(s->vals[s->n], sizeof(s->vals[0]), "%.*s", (int)val->len, (const char *)val->data);
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

static void fill_scan_table(omo_store *s)
{
	omo_txn *t = begin(s, NULL, true);
	static const char *const keys[] = {"order/3", "item/2", "order/1", "orders",
	                                   "order/2", "item/1", "order",   "p"};
	for (size_t i = 0; i < N(keys); i++)
		put_s(t, T_A, keys[i], keys[i]);
	put_s(t, T_B, "order/9", "other table");
	assert_int_equal(omo_txn_commit(t), OMO_E_OK);
}

static void test_scan_prefix(void **state)
{
	fx *f = *state;
	fill_scan_table(f->s);
	omo_txn *t = begin(f->s, NULL, false);

	seen s = {0};
	assert_int_equal(omo_scan(t, T_A, "order/", 6, NULL, 0, collect, &s), OMO_E_OK);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.keys[0], "order/1");
	assert_string_equal(s.keys[1], "order/2");
	assert_string_equal(s.keys[2], "order/3");
	assert_string_equal(s.vals[2], "order/3");

	memset(&s, 0, sizeof(s)); /* "order" also matches "order", "order/..." and "orders" */
	assert_int_equal(omo_scan(t, T_A, "order", 5, NULL, 0, collect, &s), OMO_E_OK);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.keys[0], "order");
	assert_string_equal(s.keys[4], "orders");

	memset(&s, 0, sizeof(s)); /* all, in key order */
	assert_int_equal(omo_scan(t, T_A, "", 0, NULL, 0, collect, &s), OMO_E_OK);
	assert_int_equal(s.n, 8);
	assert_string_equal(s.keys[0], "item/1");
	assert_string_equal(s.keys[1], "item/2");
	assert_string_equal(s.keys[2], "order");
	assert_string_equal(s.keys[7], "p");

	memset(&s, 0, sizeof(s)); /* nothing matches */
	assert_int_equal(omo_scan(t, T_A, "zzz", 3, NULL, 0, collect, &s), OMO_E_OK);
	assert_int_equal(s.n, 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(omo_scan(t, T_A, "nothing", 7, NULL, 0, collect, &s), OMO_E_OK);
	assert_int_equal(s.n, 0);
	omo_txn_abort(t);
}

static void test_scan_from_key_and_stop(void **state)
{
	fx *f = *state;
	fill_scan_table(f->s);
	omo_txn *t = begin(f->s, NULL, false);

	seen s = {0};
	assert_int_equal(omo_scan(t, T_A, "order/", 6, "order/2", 7, collect, &s), OMO_E_OK);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "order/2");
	assert_string_equal(s.keys[1], "order/3");

	memset(&s, 0, sizeof(s)); /* from a key that is absent: the next one on */
	assert_int_equal(omo_scan(t, T_A, "order/", 6, "order/15", 8, collect, &s), OMO_E_OK);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "order/2");

	memset(&s, 0, sizeof(s)); /* from past the prefix's last key */
	assert_int_equal(omo_scan(t, T_A, "order/", 6, "order/4", 7, collect, &s), OMO_E_OK);
	assert_int_equal(s.n, 0);

	memset(&s, 0, sizeof(s)); /* the callback stops the scan */
	s.stop_after = 2;
	assert_int_equal(omo_scan(t, T_A, "", 0, NULL, 0, collect, &s), OMO_E_OK);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[1], "item/2");

	memset(&s, 0, sizeof(s)); /* a whole table from a key */
	assert_int_equal(omo_scan(t, T_A, "", 0, "orders", 6, collect, &s), OMO_E_OK);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[0], "orders");
	assert_string_equal(s.keys[1], "p");
	omo_txn_abort(t);
}

static void test_last(void **state)
{
	fx *f = *state;
	omo_val k, v;
	omo_txn *t = begin(f->s, NULL, true);
	assert_int_equal(omo_last(t, T_A, &k, &v), OMO_E_NOT_FOUND);
	put_s(t, T_A, "m", "middle");
	put_s(t, T_A, "z", "last");
	put_s(t, T_A, "a", "first");
	put_s(t, T_B, "zz", "other table");
	assert_int_equal(omo_last(t, T_A, &k, &v), OMO_E_OK);
	assert_int_equal(k.len, 1);
	assert_memory_equal(k.data, "z", 1);
	assert_int_equal(v.len, 4);
	assert_memory_equal(v.data, "last", 4);
	assert_int_equal(omo_del(t, T_A, "z", 1), OMO_E_OK);
	assert_int_equal(omo_last(t, T_A, &k, &v), OMO_E_OK);
	assert_memory_equal(k.data, "m", 1);
	omo_txn_abort(t);
}

/* ---- nesting and durability ------------------------------------------- */

static void test_nested_abort_keeps_parent(void **state)
{
	fx *f = *state;
	omo_txn *parent = begin(f->s, NULL, true);
	put_s(parent, T_A, "parent", "p");

	omo_txn *child = begin(f->s, parent, true);
	assert_get(child, T_A, "parent", "p"); /* the child sees its parent's writes */
	put_s(child, T_A, "child", "c");
	put_s(child, T_A, "parent", "overwritten by the child");
	assert_int_equal(omo_del(child, T_B, "nothing", 7), OMO_E_NOT_FOUND);
	omo_txn_abort(child);

	assert_get(parent, T_A, "parent", "p");
	assert_get(parent, T_A, "child", NULL);

	child = begin(f->s, parent, true); /* a committed child's writes join the parent */
	put_s(child, T_A, "child2", "c2");
	omo_txn *grandchild = begin(f->s, child, true);
	put_s(grandchild, T_A, "grandchild", "g");
	omo_txn_abort(grandchild);
	assert_int_equal(omo_txn_commit(child), OMO_E_OK);
	assert_get(parent, T_A, "child2", "c2");
	assert_get(parent, T_A, "grandchild", NULL);
	assert_int_equal(omo_txn_commit(parent), OMO_E_OK);

	omo_txn *t = begin(f->s, NULL, false);
	assert_get(t, T_A, "parent", "p");
	assert_get(t, T_A, "child", NULL);
	assert_get(t, T_A, "child2", "c2");
	assert_get(t, T_A, "grandchild", NULL);
	omo_txn_abort(t);
}

static void test_child_commit_then_parent_abort(void **state)
{
	fx *f = *state;
	omo_txn *parent = begin(f->s, NULL, true);
	omo_txn *child = begin(f->s, parent, true);
	put_s(child, T_A, "k", "v");
	assert_int_equal(omo_txn_commit(child), OMO_E_OK);
	omo_txn_abort(parent); /* the child's commit was only into its parent */

	omo_txn *t = begin(f->s, NULL, false);
	assert_get(t, T_A, "k", NULL);
	omo_txn_abort(t);
}

static void test_reopen_keeps_committed(void **state)
{
	fx *f = *state;
	omo_error_detail d = {0};
	omo_txn *t = begin(f->s, NULL, true);
	put_s(t, T_A, "durable", "yes");
	put_s(t, T_B, "other", "table");
	assert_int_equal(omo_txn_commit(t), OMO_E_OK);
	t = begin(f->s, NULL, true);
	put_s(t, T_A, "lost", "aborted");
	omo_txn_abort(t);
	omo_store_close(f->s);
	f->s = NULL;

	assert_int_equal(omo_store_open(&f->s, f->dir, tables, N(tables), 16 * MiB, true, &d),
	                 OMO_E_OK);
	t = begin(f->s, NULL, false);
	assert_get(t, T_A, "durable", "yes");
	assert_get(t, T_B, "other", "table");
	assert_get(t, T_A, "lost", NULL);
	omo_txn_abort(t);

	/* Reopened without sync, and with one table more: data and tables stay. */
	static const char *const more[] = {"a", "b", "c"};
	omo_store_close(f->s);
	assert_int_equal(omo_store_open(&f->s, f->dir, more, N(more), 16 * MiB, false, &d),
	                 OMO_E_OK);
	t = begin(f->s, NULL, true);
	assert_get(t, 0, "durable", "yes");
	assert_get(t, 2, "durable", NULL);
	put_s(t, 2, "new", "table");
	assert_int_equal(omo_txn_commit(t), OMO_E_OK);
}

static void test_open_errors(void **state)
{
	omo_store *s = (omo_store *)1;
	omo_error_detail d = {0};
	char path[96];
	fx *f = *state;

	/* A file where the directory should be. */
	snprintf(path, sizeof(path), "%s/plainfile", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("x", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/plainfile/db", f->dir);
	assert_int_equal(omo_store_open(&s, path, tables, N(tables), 16 * MiB, true, &d), OMO_E_IO);
	assert_null(s);
	assert_int_equal(d.code, OMO_E_IO);
	assert_non_null(strstr(d.text, "plainfile"));

	/* Nested directories are created. */
	snprintf(path, sizeof(path), "%s/x/y/z", f->dir);
	assert_int_equal(omo_store_open(&s, path, tables, N(tables), 16 * MiB, true, &d), OMO_E_OK);
	omo_store_close(s);
	omo_store_close(NULL);
	snprintf(path, sizeof(path), "%s/x/y/z/data.mdb", f->dir);
	assert_int_equal(access(path, F_OK), 0);
}

/* ---- records and keys -------------------------------------------------- */

static void test_put_get_rec(void **state)
{
	fx *f = *state;
	omo_alloc_line lines[2] = {{.line_no = 1, .sku = "SKU-0001", .quantity = 4},
	                           {.line_no = 2, .sku = "SKU-0002", .quantity = 9}};
	omo_node_work in = {.node = "ST-NYC",
	                    .fulfillment = OMO_PICKUP_IN_STORE,
	                    .status = OMO_FF_READY_FOR_PICKUP,
	                    .due_us = 1700000000000000,
	                    .lines = lines,
	                    .lines_count = 2},
	              out;
	omo_arena arena = {0};
	for (int i = 0; i < 16; i++) {
		in.fulfillment_id.b[i] = (uint8_t)i;
		in.order_id.b[i] = (uint8_t)(0xf0 | i);
	}

	omo_txn *t = begin(f->s, NULL, true);
	assert_int_equal(omo_put_rec(t, T_A, in.fulfillment_id.b, 16, &omo_rec_node_work, &in),
	                 OMO_E_OK);
	assert_int_equal(omo_txn_commit(t), OMO_E_OK);

	t = begin(f->s, NULL, false);
	assert_int_equal(
	    omo_get_rec(t, T_A, in.fulfillment_id.b, 16, &omo_rec_node_work, &out, &arena),
	    OMO_E_OK);
	omo_txn_abort(t); /* the decoded record does not point into the map */
	assert_memory_equal(out.fulfillment_id.b, in.fulfillment_id.b, 16);
	assert_memory_equal(out.order_id.b, in.order_id.b, 16);
	assert_string_equal(out.node, "ST-NYC");
	assert_int_equal(out.fulfillment, OMO_PICKUP_IN_STORE);
	assert_int_equal(out.status, OMO_FF_READY_FOR_PICKUP);
	assert_true(out.due_us == 1700000000000000);
	assert_int_equal(out.lines_count, 2);
	assert_string_equal(out.lines[1].sku, "SKU-0002");
	assert_true(out.lines[1].quantity == 9);
	assert_true(out.lines[0].line_no == 1);

	t = begin(f->s, NULL, true);
	assert_int_equal(omo_get_rec(t, T_A, "absent", 6, &omo_rec_node_work, &out, &arena),
	                 OMO_E_NOT_FOUND);
	/* A record that breaks its limits is not stored. */
	lines[0].quantity = 0;
	assert_int_equal(omo_put_rec(t, T_A, "bad", 3, &omo_rec_node_work, &in),
	                 OMO_E_OUT_OF_RANGE);
	assert_get(t, T_A, "bad", NULL);
	/* Bytes that are not the record decode to an error, not garbage. */
	put_s(t, T_A, "junk", "\xc1");
	assert_int_equal(omo_get_rec(t, T_A, "junk", 4, &omo_rec_node_work, &out, &arena),
	                 OMO_E_MALFORMED);
	omo_txn_abort(t);
	omo_arena_fini(&arena);
}

typedef struct u64s {
	uint64_t v[16];
	int n;
} u64s;

static int collect_u64(void *arg, const omo_val *key, const omo_val *val)
{
	u64s *s = arg;
	(void)val;
	assert_int_equal(key->len, 8);
	s->v[s->n++] = omo_be64_get(key->data);
	return 0;
}

static void test_be64_order(void **state)
{
	fx *f = *state;
	uint8_t b[8];
	static const uint64_t vals[] = {256, 1, UINT64_MAX, 255, 0, 1ull << 40, 65536, 2};
	static const uint64_t sorted[] = {0, 1, 2, 255, 256, 65536, 1ull << 40, UINT64_MAX};

	omo_be64_put(b, 0x0102030405060708ull);
	assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_true(omo_be64_get(b) == 0x0102030405060708ull);
	omo_be64_put(b, UINT64_MAX);
	assert_true(omo_be64_get(b) == UINT64_MAX);

	omo_txn *t = begin(f->s, NULL, true);
	for (size_t i = 0; i < N(vals); i++) {
		omo_be64_put(b, vals[i]);
		assert_int_equal(omo_put(t, T_B, b, 8, "", 0), OMO_E_OK);
	}
	u64s s = {0};
	assert_int_equal(omo_scan(t, T_B, "", 0, NULL, 0, collect_u64, &s), OMO_E_OK);
	assert_int_equal(s.n, N(sorted));
	for (size_t i = 0; i < N(sorted); i++)
		assert_true(s.v[i] == sorted[i]);

	omo_val k, v;
	assert_int_equal(omo_last(t, T_B, &k, &v), OMO_E_OK);
	assert_true(omo_be64_get(k.data) == UINT64_MAX);

	memset(&s, 0, sizeof(s)); /* from 256 on */
	omo_be64_put(b, 256);
	assert_int_equal(omo_scan(t, T_B, "", 0, b, 8, collect_u64, &s), OMO_E_OK);
	assert_int_equal(s.n, 4);
	assert_true(s.v[0] == 256);
	omo_txn_abort(t);
}

/* in_child runs fn in a forked process and fails the test unless it exits 0:
 * a sanitizer abort in fn is reported here, and the tests after it still run. */
static void in_child(int (*fn)(void *), void *arg, const char *what)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d", what, WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s: exit status %d (see its stderr above)", what, WEXITSTATUS(status));
}

static int scan_null_prefix(void *arg)
{
	fx *f = arg;
	omo_store *s;
	omo_txn *t;
	seen a = {0}, b = {0};
	if (omo_store_open(&s, f->dir, tables, N(tables), 16 * MiB, true, NULL) != OMO_E_OK ||
	    omo_txn_begin(s, NULL, false, &t) != OMO_E_OK)
		return 10;
	if (omo_scan(t, T_A, NULL, 0, NULL, 0, collect, &a) != OMO_E_OK || a.n != 8 ||
	    strcmp(a.keys[0], "item/1") != 0 || strcmp(a.keys[7], "p") != 0)
		return 11;
	if (omo_scan(t, T_A, NULL, 0, "orders", 6, collect, &b) != OMO_E_OK || b.n != 2 ||
	    strcmp(b.keys[0], "orders") != 0)
		return 12;
	omo_txn_abort(t);
	omo_store_close(s);
	return 0;
}

/* store.h: "all if plen is 0" - with no prefix at all. Under UBSan this must
 * not pass NULL to memcmp; the other scan tests use "" so they run regardless. */
static void test_scan_null_prefix(void **state)
{
	fx *f = *state;
	fill_scan_table(f->s);
	omo_store_close(f->s); /* an LMDB environment must not cross a fork */
	f->s = NULL;
	in_child(scan_null_prefix, f, "omo_scan with a NULL prefix");
}

/* ---- a full map ---------------------------------------------------------- */

static void test_store_full(void **state)
{
	char dir[64];
	omo_store *s;
	omo_error_detail d = {0};
	static uint8_t value[4000];
	uint32_t key = 0, committed = 0;
	omo_err failed = OMO_E_OK;
	(void)state;

	assert_non_null(tk_mkdtemp(dir, sizeof(dir), "full"));
	memset(value, 0x5a, sizeof(value));
	assert_int_equal(omo_store_open(&s, dir, tables, N(tables), 1 * MiB, true, &d), OMO_E_OK);

	/* Batches of 8 pages until the 256-page map is full: must fail cleanly. */
	for (int batch = 0; batch < 1000 && failed == OMO_E_OK; batch++) {
		omo_txn *t = begin(s, NULL, true);
		for (int i = 0; i < 8 && failed == OMO_E_OK; i++, key++) {
			uint8_t k[8];
			omo_be64_put(k, key);
			failed = omo_put(t, T_A, k, 8, value, sizeof(value));
		}
		if (failed != OMO_E_OK) {
			omo_txn_abort(t);
			break;
		}
		failed = omo_txn_commit(t);
		if (failed == OMO_E_OK)
			committed = key;
	}
	assert_int_equal(failed, OMO_E_STORE_FULL);
	assert_true(committed > 0);
	assert_true(committed < 1000 * 8);

	/* The store still works: what was committed is there, and a delete commits. */
	omo_txn *t = begin(s, NULL, true);
	uint8_t k[8];
	omo_val v;
	omo_be64_put(k, committed - 1);
	assert_int_equal(omo_get(t, T_A, k, 8, &v), OMO_E_OK);
	assert_int_equal(v.len, sizeof(value));
	omo_be64_put(k, committed);
	assert_int_equal(omo_get(t, T_A, k, 8, &v), OMO_E_NOT_FOUND);
	omo_be64_put(k, 0);
	assert_int_equal(omo_del(t, T_A, k, 8), OMO_E_OK);
	assert_int_equal(omo_txn_commit(t), OMO_E_OK);
	omo_store_close(s);

	/* And it reopens with its data. */
	assert_int_equal(omo_store_open(&s, dir, tables, N(tables), 1 * MiB, true, &d), OMO_E_OK);
	t = begin(s, NULL, false);
	omo_be64_put(k, committed - 1);
	assert_int_equal(omo_get(t, T_A, k, 8, &v), OMO_E_OK);
	omo_txn_abort(t);
	omo_store_close(s);
	tk_rm_rf(dir);
}

/* One value bigger than the whole map. */
static void test_store_full_single_put(void **state)
{
	char dir[64];
	omo_store *s;
	omo_error_detail d = {0};
	(void)state;

	assert_non_null(tk_mkdtemp(dir, sizeof(dir), "full"));
	assert_int_equal(omo_store_open(&s, dir, tables, N(tables), 1 * MiB, true, &d), OMO_E_OK);
	size_t n = 2 * MiB;
	uint8_t *big = calloc(1, n);
	assert_non_null(big);
	omo_txn *t = begin(s, NULL, true);
	omo_err e = omo_put(t, T_A, "big", 3, big, n);
	if (e == OMO_E_OK) {
		e = omo_txn_commit(t);
	} else {
		omo_txn_abort(t);
	}
	assert_int_equal(e, OMO_E_STORE_FULL);
	free(big);
	omo_store_close(s);
	tk_rm_rf(dir);
}

/* A full map grows (doubling, up to a bound) and the refused write then fits. */
static void test_full_map_grows(void **state)
{
	char dir[64];
	omo_store *s;
	omo_error_detail d = {0};
	static uint8_t value[4000];
	(void)state;
	assert_non_null(tk_mkdtemp(dir, sizeof(dir), "grow"));
	assert_int_equal(omo_store_open(&s, dir, tables, N(tables), 1 * MiB, true, &d), OMO_E_OK);
	assert_false(omo_store_filled(s));
	uint32_t key = 0;
	omo_err e = OMO_E_OK;
	while (e == OMO_E_OK && key < 10000) {
		omo_txn *t = begin(s, NULL, true);
		uint8_t k[8];
		omo_be64_put(k, key);
		if ((e = omo_put(t, T_A, k, 8, value, sizeof(value))) == OMO_E_OK)
			e = omo_txn_commit(t);
		else
			omo_txn_abort(t);
		key += e == OMO_E_OK;
	}
	assert_int_equal(e, OMO_E_STORE_FULL);
	assert_true(omo_store_filled(s));
	assert_false(omo_store_filled(s)); /* reported once */
	assert_int_equal(omo_store_grow(s, 2 * MiB), OMO_E_OK);
	assert_int_equal(omo_store_grow(s, 2 * MiB), OMO_E_STORE_FULL); /* at its bound */
	omo_txn *t = begin(s, NULL, true);
	uint8_t k[8];
	omo_be64_put(k, key);
	assert_int_equal(omo_put(t, T_A, k, 8, value, sizeof(value)), OMO_E_OK);
	assert_int_equal(omo_txn_commit(t), OMO_E_OK);
	assert_int_equal(omo_store_reader_check(s), 0);
	omo_store_close(s);
	tk_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_map_grows),
	    cmocka_unit_test_setup_teardown(test_put_get_del, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort_drops_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_from_key_and_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_last, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nested_abort_keeps_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_child_commit_then_parent_abort, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_keeps_committed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_get_rec, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_be64_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_null_prefix, setup, teardown),
	    cmocka_unit_test(test_store_full),
	    cmocka_unit_test(test_store_full_single_put),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
