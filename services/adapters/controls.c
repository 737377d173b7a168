#include "controls.h"

#include <string.h>

omo_err controls_take(omo_txn *t, omo_table tb, const char *partner_id, uint32_t n, uint32_t *first)
{
	omo_val v;
	uint64_t last = 0;
	if (n == 0 || n > 1000)
		return OMO_E_OUT_OF_RANGE;
	omo_err e = omo_get(t, tb, partner_id, strlen(partner_id), &v);
	if (e == OMO_E_OK && v.len == 8)
		last = omo_be64_get(v.data);
	else if (e != OMO_E_NOT_FOUND && e != OMO_E_OK)
		return e;
	uint64_t from = last + n > CONTROLS_MAX ? 1 : last + 1;
	uint8_t buf[8];
	omo_be64_put(buf, from + n - 1);
	if ((e = omo_put(t, tb, partner_id, strlen(partner_id), buf, sizeof buf)) == OMO_E_OK)
		*first = (uint32_t)from;
	return e;
}
