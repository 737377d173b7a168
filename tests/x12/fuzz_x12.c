/*
 * fuzz_x12.c - libFuzzer target for the X12 codec: any bytes are parsed,
 * the doc's invariants checked, and every acknowledgement built from it must
 * parse back cleanly (x12t_check aborts otherwise). See
 * services/adapters/x12/README.md for the short and the long run.
 */
#include <stddef.h>
#include <stdint.h>

#include "x12_test_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	x12t_check(data, size);
	return 0;
}
