/*
 * controls.h - X12 control numbers that never repeat for a partner.
 *
 * Every interchange, group and set we send a partner carries a control
 * number (ISA13, GS06, ST02) the partner uses to spot duplicates and to
 * acknowledge; one repeated makes it drop or misfile a document. The last
 * number given to each partner is kept in the adapter's store, in the same
 * transaction as the outbound document it numbers, so a restart carries on
 * after it.
 */
#ifndef OMO_CONTROLS_H
#define OMO_CONTROLS_H

#include <stdint.h>

#include "store.h"

#define CONTROLS_MAX 999999999u /* ISA13 has 9 digits */

/*
 * controls_take reserves n (1..1000) consecutive numbers for partner_id in
 * table tb, inside write transaction t, and puts the first in *first. They
 * count up from 1 and start again at 1 when the run would pass
 * CONTROLS_MAX. Returns OMO_E_OK or the store's error (nothing taken).
 */
omo_err controls_take(omo_txn *t, omo_table tb, const char *partner_id, uint32_t n,
                      uint32_t *first);

#endif
