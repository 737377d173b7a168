/*
 * x12_util.c - GS1 check digits and exact X12 numbers.
 */
#include "x12_util.h"

int x12_gs1_check_digit(const char *s, size_t n)
{
	if (!s || n == 0 || n > 17)
		return -1;
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[n - 1 - i];
		if (c < '0' || c > '9')
			return -1;
		sum += (unsigned)(c - '0') * (i % 2 == 0 ? 3 : 1);
	}
	return (int)((10 - sum % 10) % 10);
}

bool x12_gs1_valid(const char *s, size_t n)
{
	if (!s || n < 2 || n > 18 || s[n - 1] < '0' || s[n - 1] > '9')
		return false;
	return x12_gs1_check_digit(s, n - 1) == s[n - 1] - '0';
}

bool x12_gtin_valid(const char *s, size_t n)
{
	return (n == 8 || n == 12 || n == 13 || n == 14) && x12_gs1_valid(s, n);
}

bool x12_gln_valid(const char *s, size_t n)
{
	return n == 13 && x12_gs1_valid(s, n);
}

bool x12_sscc_valid(const char *s, size_t n)
{
	if (s && n == 20 && s[0] == '0' && s[1] == '0')
		return x12_gs1_valid(s + 2, 18);
	return n == 18 && x12_gs1_valid(s, n);
}

x12_err x12_uint_parse(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	if (!s || n == 0 || n > 18)
		return s && n > 18 ? X12_E_NUM_RANGE : X12_E_NUM_SYNTAX;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return X12_E_NUM_SYNTAX;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return X12_E_NUM_RANGE;
	*out = v;
	return X12_E_OK;
}

x12_err x12_decimal_parse(const char *s, size_t n, unsigned implied, unsigned scale, int64_t *out)
{
	if (!s || n == 0)
		return X12_E_NUM_SYNTAX;
	if (scale > 18 || implied > 18)
		return X12_E_NUM_RANGE;
	const uint64_t limit = (uint64_t)INT64_MAX;
	size_t i = 0;
	bool neg = s[0] == '-';
	if (neg)
		i = 1;
	uint64_t mant = 0;
	unsigned frac = 0, digits = 0;
	bool point = false, range = false;
	for (; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (point)
				return X12_E_NUM_SYNTAX;
			point = true;
			continue;
		}
		if (c < '0' || c > '9')
			return X12_E_NUM_SYNTAX;
		digits++;
		if (point && frac >= scale) {
			/* finer than a unit: only zeros may stand here */
			if (c != '0')
				return X12_E_NUM_PRECISION;
			continue;
		}
		if (point)
			frac++;
		if (mant > (limit - (uint64_t)(c - '0')) / 10)
			range = true;
		else
			mant = mant * 10 + (uint64_t)(c - '0');
	}
	if (digits == 0)
		return X12_E_NUM_SYNTAX;
	if (range)
		return X12_E_NUM_RANGE;
	if (!point)
		frac = implied;
	if (frac > scale) {
		for (unsigned k = frac; k > scale; k--) {
			if (mant % 10 != 0)
				return X12_E_NUM_PRECISION;
			mant /= 10;
		}
	} else {
		for (unsigned k = frac; k < scale; k++) {
			if (mant > limit / 10)
				return X12_E_NUM_RANGE;
			mant *= 10;
		}
	}
	*out = neg ? -(int64_t)mant : (int64_t)mant;
	return X12_E_OK;
}
