/*
 * adapter_testkit.h - what the adapter tests share: where their data is,
 * and assertions on the messages the adapters produce.
 */
#ifndef OMO_ADAPTER_TESTKIT_H
#define OMO_ADAPTER_TESTKIT_H

#include <stddef.h>
#include <stdint.h>

#include "schema.h"

/* at_tests writes $OMO_SOURCE_DIR/tests/adapters/<rel> into out. */
const char *at_tests(char *out, size_t cap, const char *rel);

/* at_encodes fails the test unless m encodes: what an adapter hands on is
 * what omo itself would send. */
void at_encodes(const omo_msg *m);

void at_order_line(const omo_order_line *l, int64_t no, const char *sku, int64_t qty,
                   int64_t price);
void at_alloc_line(const omo_alloc_line *l, int64_t no, const char *sku, int64_t qty);

#endif
