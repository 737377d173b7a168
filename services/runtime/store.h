/*
 * store.h - the service's own state, in one LMDB environment. The only code
 * in omo that includes lmdb.h is store.c.
 *
 * A service opens its store once with the names of its tables, then works in
 * transactions: one write transaction per batch of requests (group commit),
 * with a nested transaction per request so a failed request changes nothing
 * while its neighbours in the batch still commit.
 *
 * Lifetimes: a value returned by omo_get or given to an omo_scan callback
 * points into the map and is valid only until the transaction ends or writes.
 */
#ifndef OMO_STORE_H
#define OMO_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "schema.h"

typedef struct omo_store omo_store;
typedef struct omo_txn omo_txn;
typedef unsigned omo_table; /* index into the table names given to omo_store_open */

typedef struct omo_val {
	const void *data;
	size_t len;
} omo_val;

/*
 * omo_store_open opens (creating if need be) the environment in dir with the
 * given tables. sync false trades the last commits on power loss for speed.
 * Returns OMO_E_IO with a sentence in d when it cannot.
 */
omo_err omo_store_open(omo_store **sp, const char *dir, const char *const *tables, unsigned n,
                       size_t map_bytes, bool sync, omo_error_detail *d);
/* omo_store_close closes s; every transaction must have ended. NULL is fine. */
void omo_store_close(omo_store *s);

/* omo_store_filled tells whether a write found the map full since the last call. */
bool omo_store_filled(omo_store *s);
/* omo_store_grow doubles the map, up to max_bytes; no transaction may be open.
 * Returns OMO_E_STORE_FULL if it is at max_bytes already. */
omo_err omo_store_grow(omo_store *s, size_t max_bytes);
/* omo_store_used_bytes returns how much of the map holds data. */
size_t omo_store_used_bytes(omo_store *s);
/* omo_store_reader_check clears reader slots of dead processes; returns how many. */
int omo_store_reader_check(omo_store *s);

/* omo_txn_begin starts a transaction, nested in parent if not NULL. */
omo_err omo_txn_begin(omo_store *s, omo_txn *parent, bool write, omo_txn **tp);
/* omo_txn_commit ends t, keeping its writes; t is freed either way. STORE_FULL if the map is full.
 */
omo_err omo_txn_commit(omo_txn *t);
/* omo_txn_abort ends t, dropping its writes. NULL is fine. */
void omo_txn_abort(omo_txn *t);

/* omo_get: OMO_E_OK with v set, or OMO_E_NOT_FOUND. */
omo_err omo_get(omo_txn *t, omo_table tb, const void *key, size_t klen, omo_val *v);
omo_err omo_put(omo_txn *t, omo_table tb, const void *key, size_t klen, const void *val,
                size_t vlen);
/* omo_del: OMO_E_OK, or OMO_E_NOT_FOUND if there was nothing to delete. */
omo_err omo_del(omo_txn *t, omo_table tb, const void *key, size_t klen);

/* omo_scan calls fn for each key that starts with prefix (all if plen is 0), in
 * key order from 'from' (or the prefix if from is NULL), until fn returns nonzero. */
typedef int (*omo_scan_cb)(void *arg, const omo_val *key, const omo_val *val);
omo_err omo_scan(omo_txn *t, omo_table tb, const void *prefix, size_t plen, const void *from,
                 size_t flen, omo_scan_cb fn, void *arg);
/* omo_first finds the least key of a table. OMO_E_NOT_FOUND if empty. */
omo_err omo_first(omo_txn *t, omo_table tb, omo_val *key, omo_val *val);
/* omo_last finds the greatest key of a table. OMO_E_NOT_FOUND if empty. */
omo_err omo_last(omo_txn *t, omo_table tb, omo_val *key, omo_val *val);

/*
 * Timer tables: one row per (time, id), keyed by a be64 time then the 16-byte
 * id, so the earliest is first. A service's on_tick takes what is due and
 * reports omo_timer_next as when it is next due.
 */
omo_err omo_timer_set(omo_txn *t, omo_table tb, int64_t at, const omo_uuid *id);
/* omo_timer_clear removes a timer; OMO_E_OK also if there was none. */
omo_err omo_timer_clear(omo_txn *t, omo_table tb, int64_t at, const omo_uuid *id);
/* omo_timer_take removes up to max timers due at or before now, giving their
 * ids in time order; returns how many, or -1 on a store error. */
int omo_timer_take(omo_txn *t, omo_table tb, int64_t now, omo_uuid *ids, int max);
/* omo_timer_next returns the earliest time in the table, or INT64_MAX. */
int64_t omo_timer_next(omo_txn *t, omo_table tb);

/* Records stored with the schema codec. */
omo_err omo_put_rec(omo_txn *t, omo_table tb, const void *key, size_t klen,
                    const omo_rec_desc *desc, const void *rec);
omo_err omo_get_rec(omo_txn *t, omo_table tb, const void *key, size_t klen,
                    const omo_rec_desc *desc, void *rec, omo_arena *arena);

/* Big-endian u64 keys sort in numeric order. */
void omo_be64_put(void *p, uint64_t v);
uint64_t omo_be64_get(const void *p);

#endif
