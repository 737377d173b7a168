/*
 * x12_test_util.h - what the X12 tests share: loading samples, finding
 * segments, building acknowledgements with fixed control numbers and clock,
 * and the invariants every parse of any bytes must keep (used by the
 * mutation test and the libFuzzer target).
 */
#ifndef OMO_X12_TEST_UTIL_H
#define OMO_X12_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "x12.h"
#include "x12_ack.h"

/* 2024-03-05 14:30 UTC: acknowledgements carry 240305 / 20240305 and 1430. */
#define X12_TEST_NOW_US (1709649000LL * 1000000)

/* x12t_load reads tests/x12/samples/<name> (from $OMO_SOURCE_DIR or the
 * compiled-in samples folder) into a heap buffer; aborts if it cannot. */
char *x12t_load(const char *name, size_t *len);

/* x12t_find returns the first segment with ID id in [from, to], or X12_NONE. */
uint32_t x12t_find(const x12_doc *doc, uint32_t from, uint32_t to, const char *id);

/* x12t_elem copies element pos of segment seg into a static buffer. */
const char *x12t_elem(const x12_doc *doc, uint32_t seg, unsigned pos);

/* x12t_ack builds interchange ic's acknowledgement with control numbers
 * 900 (ISA13), 901 (GS06), 902.. (ST02), the test clock and a line feed
 * after every terminator; returns it as a heap string ("" if there is none)
 * and fills r. Aborts if it cannot be built. */
char *x12t_ack(const x12_doc *doc, uint32_t ic, bool ack_fa, x12_ack_result *r);

/* x12t_check parses any bytes and aborts (with a message) unless the doc
 * keeps its invariants and every acknowledgement built from it parses back
 * without error. Returns the parse result. */
x12_err x12t_check(const uint8_t *data, size_t size);

#endif
