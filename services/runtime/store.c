#include "store.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_TABLES 32

struct omo_store {
	MDB_env *env;
	size_t map_bytes;
	bool full; /* a write met MDB_MAP_FULL */
	MDB_dbi dbi[MAX_TABLES];
	unsigned n_tables;
};

struct omo_txn {
	omo_store *store;
	MDB_txn *txn;
};

static omo_err map_rc(int rc)
{
	switch (rc) {
	case MDB_SUCCESS: return OMO_E_OK;
	case MDB_NOTFOUND: return OMO_E_NOT_FOUND;
	case MDB_MAP_FULL: return OMO_E_STORE_FULL;
	case ENOMEM: return OMO_E_NOMEM;
	default: return OMO_E_IO;
	}
}

static int mkdirs(const char *dir)
{
	char path[512];
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(path, 0750) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(path, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

omo_err omo_store_open(omo_store **sp, const char *dir, const char *const *tables, unsigned n,
                       size_t map_bytes, bool sync, omo_error_detail *d)
{
	omo_store *s = calloc(1, sizeof(*s));
	MDB_txn *txn = NULL;
	int rc, dead = 0;

	*sp = NULL;
	if (s == NULL)
		return omo_fail(d, OMO_E_NOMEM, "out of memory");
	if (n > MAX_TABLES) {
		free(s);
		return omo_fail(d, OMO_E_INTERNAL, "%u tables; at most %d", n, MAX_TABLES);
	}
	if (mkdirs(dir) != 0) {
		free(s);
		return omo_fail(d, OMO_E_IO, "cannot create %s: %s", dir, strerror(errno));
	}
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, MAX_TABLES)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, map_bytes)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 126)) != 0 ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOTLS | (sync ? 0 : MDB_NOSYNC), 0640)) != 0)
		goto fail;
	/* Readers left by a process that was killed would pin old pages forever. */
	mdb_reader_check(s->env, &dead);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		goto fail;
	for (unsigned i = 0; i < n; i++)
		if ((rc = mdb_dbi_open(txn, tables[i], MDB_CREATE, &s->dbi[i])) != 0)
			goto fail;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	s->n_tables = n;
	s->map_bytes = map_bytes;
	*sp = s;
	return OMO_E_OK;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(s->env);
	free(s);
	return omo_fail(d, map_rc(rc) == OMO_E_OK ? OMO_E_IO : map_rc(rc), "LMDB at %s: %s", dir,
	                mdb_strerror(rc));
}

void omo_store_close(omo_store *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	free(s);
}

bool omo_store_filled(omo_store *s)
{
	bool full = s->full;
	s->full = false;
	return full;
}

omo_err omo_store_grow(omo_store *s, size_t max_bytes)
{
	size_t want = s->map_bytes * 2 < max_bytes ? s->map_bytes * 2 : max_bytes;
	if (want <= s->map_bytes)
		return OMO_E_STORE_FULL;
	int rc = mdb_env_set_mapsize(s->env, want);
	if (rc != 0)
		return map_rc(rc);
	s->map_bytes = want;
	return OMO_E_OK;
}

size_t omo_store_used_bytes(omo_store *s)
{
	MDB_envinfo info;
	MDB_stat st;
	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return 0;
	return (info.me_last_pgno + 1) * (size_t)st.ms_psize;
}

int omo_store_reader_check(omo_store *s)
{
	int dead = 0;
	mdb_reader_check(s->env, &dead);
	return dead;
}

omo_err omo_txn_begin(omo_store *s, omo_txn *parent, bool write, omo_txn **tp)
{
	omo_txn *t = malloc(sizeof(*t));
	if (t == NULL)
		return OMO_E_NOMEM;
	t->store = s;
	int rc =
	    mdb_txn_begin(s->env, parent ? parent->txn : NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc != 0) {
		free(t);
		return map_rc(rc);
	}
	*tp = t;
	return OMO_E_OK;
}

omo_err omo_txn_commit(omo_txn *t)
{
	int rc = mdb_txn_commit(t->txn);
	if (rc == MDB_MAP_FULL)
		t->store->full = true;
	free(t);
	return map_rc(rc);
}

void omo_txn_abort(omo_txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

static MDB_dbi dbi(omo_txn *t, omo_table tb)
{
	if (tb >= t->store->n_tables)
		abort(); /* a bug: the caller names a table it did not open */
	return t->store->dbi[tb];
}

omo_err omo_get(omo_txn *t, omo_table tb, const void *key, size_t klen, omo_val *v)
{
	MDB_val k = {klen, (void *)key}, val;
	int rc = mdb_get(t->txn, dbi(t, tb), &k, &val);
	if (rc == 0) {
		v->data = val.mv_data;
		v->len = val.mv_size;
	}
	return map_rc(rc);
}

omo_err omo_put(omo_txn *t, omo_table tb, const void *key, size_t klen, const void *val,
                size_t vlen)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc = mdb_put(t->txn, dbi(t, tb), &k, &v, 0);
	if (rc == MDB_MAP_FULL)
		t->store->full = true;
	return map_rc(rc);
}

omo_err omo_del(omo_txn *t, omo_table tb, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)key};
	return map_rc(mdb_del(t->txn, dbi(t, tb), &k, NULL));
}

omo_err omo_scan(omo_txn *t, omo_table tb, const void *prefix, size_t plen, const void *from,
                 size_t flen, omo_scan_cb fn, void *arg)
{
	MDB_cursor *c;
	MDB_val k = {from ? flen : plen, (void *)(from ? from : prefix)}, v;
	int rc = mdb_cursor_open(t->txn, dbi(t, tb), &c);
	if (rc != 0)
		return map_rc(rc);
	rc = k.mv_size ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)
	               : mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (plen > 0 && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break;
		omo_val key = {k.mv_data, k.mv_size}, val = {v.mv_data, v.mv_size};
		if (fn(arg, &key, &val) != 0)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? OMO_E_OK : map_rc(rc);
}

static omo_err edge(omo_txn *t, omo_table tb, omo_val *key, omo_val *val, MDB_cursor_op op)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(t->txn, dbi(t, tb), &c);
	if (rc != 0)
		return map_rc(rc);
	rc = mdb_cursor_get(c, &k, &v, op);
	if (rc == 0) {
		key->data = k.mv_data;
		key->len = k.mv_size;
		val->data = v.mv_data;
		val->len = v.mv_size;
	}
	mdb_cursor_close(c);
	return map_rc(rc);
}

omo_err omo_first(omo_txn *t, omo_table tb, omo_val *key, omo_val *val)
{
	return edge(t, tb, key, val, MDB_FIRST);
}

omo_err omo_last(omo_txn *t, omo_table tb, omo_val *key, omo_val *val)
{
	return edge(t, tb, key, val, MDB_LAST);
}

static void timer_key(uint8_t k[24], int64_t at, const omo_uuid *id)
{
	omo_be64_put(k, (uint64_t)at);
	memcpy(k + 8, id->b, 16);
}

omo_err omo_timer_set(omo_txn *t, omo_table tb, int64_t at, const omo_uuid *id)
{
	uint8_t k[24];
	timer_key(k, at, id);
	return omo_put(t, tb, k, 24, "", 0);
}

omo_err omo_timer_clear(omo_txn *t, omo_table tb, int64_t at, const omo_uuid *id)
{
	uint8_t k[24];
	timer_key(k, at, id);
	omo_err e = omo_del(t, tb, k, 24);
	return e == OMO_E_NOT_FOUND ? OMO_E_OK : e;
}

typedef struct due_scan {
	int64_t now;
	omo_uuid *ids;
	int64_t *times;
	int n, max;
} due_scan;

static int collect_due(void *arg, const omo_val *key, const omo_val *val)
{
	due_scan *s = arg;
	(void)val;
	if (key->len != 24)
		return 0;
	int64_t at = (int64_t)omo_be64_get(key->data);
	if (at > s->now || s->n == s->max)
		return 1;
	memcpy(s->ids[s->n].b, (const uint8_t *)key->data + 8, 16);
	s->times[s->n++] = at;
	return 0;
}

int omo_timer_take(omo_txn *t, omo_table tb, int64_t now, omo_uuid *ids, int max)
{
	int64_t *times = calloc(max > 0 ? (size_t)max : 1, sizeof(*times));
	due_scan s = {.now = now, .ids = ids, .times = times, .max = max};
	if (times == NULL || omo_scan(t, tb, NULL, 0, NULL, 0, collect_due, &s) != OMO_E_OK)
		s.n = -1;
	for (int i = 0; i < s.n; i++)
		if (omo_timer_clear(t, tb, times[i], &ids[i]) != OMO_E_OK) {
			s.n = -1;
			break;
		}
	free(times);
	return s.n;
}

static int first_key_time(void *arg, const omo_val *key, const omo_val *val)
{
	(void)val;
	if (key->len >= 8)
		*(int64_t *)arg = (int64_t)omo_be64_get(key->data);
	return 1;
}

int64_t omo_timer_next(omo_txn *t, omo_table tb)
{
	int64_t at = INT64_MAX;
	omo_scan(t, tb, NULL, 0, NULL, 0, first_key_time, &at);
	return at;
}

omo_err omo_put_rec(omo_txn *t, omo_table tb, const void *key, size_t klen,
                    const omo_rec_desc *desc, const void *rec)
{
	omo_buf b = {0};
	omo_err e = omo_rec_encode(desc, rec, &b, NULL);
	if (e == OMO_E_OK)
		e = omo_put(t, tb, key, klen, b.data, b.len);
	omo_buf_fini(&b);
	return e;
}

omo_err omo_get_rec(omo_txn *t, omo_table tb, const void *key, size_t klen,
                    const omo_rec_desc *desc, void *rec, omo_arena *arena)
{
	omo_val v;
	omo_err e = omo_get(t, tb, key, klen, &v);
	if (e != OMO_E_OK)
		return e;
	return omo_rec_decode(desc, v.data, v.len, rec, arena, NULL);
}

void omo_be64_put(void *p, uint64_t v)
{
	uint8_t *b = p;
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

uint64_t omo_be64_get(const void *p)
{
	const uint8_t *b = p;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}
