#include "adapter_testkit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>

#include <cmocka.h>

#include "testkit.h"

const char *at_tests(char *out, size_t cap, const char *rel)
{
	snprintf(out, cap, "%s/../../../tests/adapters/%s", tk_demo_dir(), rel);
	return out;
}

void at_encodes(const omo_msg *m)
{
	omo_buf b = {0};
	omo_error_detail d = {0};
	if (omo_msg_encode(m, &b, &d) != OMO_E_OK)
		fail_msg("%s does not encode: %s", omo_msg_name(m->type), d.text);
	omo_buf_fini(&b);
}

void at_order_line(const omo_order_line *l, int64_t no, const char *sku, int64_t qty, int64_t price)
{
	assert_int_equal(l->line_no, no);
	assert_string_equal(l->sku, sku);
	assert_int_equal(l->quantity, qty);
	assert_int_equal(l->unit_price, price);
}

void at_alloc_line(const omo_alloc_line *l, int64_t no, const char *sku, int64_t qty)
{
	assert_int_equal(l->line_no, no);
	assert_string_equal(l->sku, sku);
	assert_int_equal(l->quantity, qty);
}
