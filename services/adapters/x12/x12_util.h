/*
 * x12_util.h - checks and conversions partner documents need: GS1 check
 * digits (GTIN, GLN, SSCC) and X12 numbers as exact integers.
 *
 * Every function takes a pointer and a length (an x12_slice's p and n) and
 * reads nothing else; none allocates. Money is int64 minor units and never
 * passes through floating point.
 */
#ifndef OMO_X12_UTIL_H
#define OMO_X12_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x12.h"

/* x12_gs1_check_digit returns the GS1 mod-10 check digit (0-9) of the n
 * digits at s (weights 3, 1, 3, ... from the right), or -1 if n is 0 or more
 * than 17 or a byte is not a digit. */
int x12_gs1_check_digit(const char *s, size_t n);
/* x12_gs1_valid tells whether the last of the n digits at s is the check
 * digit of the others (n from 2 to 18). */
bool x12_gs1_valid(const char *s, size_t n);
/* x12_gtin_valid: a GTIN-8, -12 (UPC-A), -13 (EAN, ISBN-13) or -14 with a
 * correct check digit. */
bool x12_gtin_valid(const char *s, size_t n);
/* x12_gln_valid: a 13-digit GLN with a correct check digit. */
bool x12_gln_valid(const char *s, size_t n);
/* x12_sscc_valid: an 18-digit SSCC with a correct check digit, also as 20
 * digits led by its application identifier 00 (as in MAN*GM). */
bool x12_sscc_valid(const char *s, size_t n);

/*
 * x12_decimal_parse reads the X12 number at s (n bytes) into *out as an
 * integer count of 10^-scale units (scale 2: cents). An optional leading
 * minus, digits, and an optional decimal point (X12 type R); without a
 * point the number has `implied` decimal places (X12 type Nn: "255438" with
 * implied 2 is 2554.38). Returns X12_E_OK, NUM_SYNTAX (not a number),
 * NUM_RANGE (beyond int64 or scale > 18) or NUM_PRECISION (it has non-zero
 * digits smaller than one unit: no rounding is ever done). *out is written
 * only on success.
 */
x12_err x12_decimal_parse(const char *s, size_t n, unsigned implied, unsigned scale, int64_t *out);
/* x12_uint_parse reads 1 to 18 digits into *out if the value is at most max.
 * Returns X12_E_OK, NUM_SYNTAX or NUM_RANGE. */
x12_err x12_uint_parse(const char *s, size_t n, uint64_t max, uint64_t *out);

#endif
