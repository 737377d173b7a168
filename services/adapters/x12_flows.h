/*
 * x12_flows.h - what partner X12 documents mean in omo's messages, and back.
 *
 * A pure translation layer: no sockets, no store, no clock of its own.
 * Reading, flow_read takes an interchange already parsed (x12_parse) from a
 * partner whose identity the transport established, and turns each
 * accepted transaction set into the omo messages it stands for:
 *
 *   850 purchase order (a B2B customer's)  -> submit_order (its channel)
 *   940 shipping order (a depositor's)     -> submit_order
 *   855 PO acknowledgment (a supplier's)   -> fulfillment_update accepted, or
 *                                             rejected with the declined lines
 *   856 ship notice                        -> fulfillment_update shipped (SSCCs checked)
 *   945 shipping advice (a 3PL's)          -> fulfillment_update shipped, and
 *                                             rejected for units short-shipped
 *   846 inventory advice                   -> adjust_stock for the partner's node
 *   180 return authorization               -> receive_stock at the return node
 *   810 invoice                            -> nothing: matched to what shipped
 *   997 acknowledgment                     -> nothing: noted
 *
 * What a set cannot mean (an unknown item or place, a PO we never sent, a
 * quantity that is not one, a set the partner is not set up to send, an
 * interchange whose ISA names another sender) is recorded in the doc with
 * x12_report, so the set (or interchange) is rejected, its 997 (or TA1)
 * names the defect, and none of its messages is returned: a set is applied
 * whole or not at all.
 *
 * Writing, flow_write_* produce the interchanges we send: 850 to a drop-ship
 * manufacturer and 940 to a 3PL for a fulfillment_requested, 855 and 856 to
 * a customer for its order. Control numbers are the caller's, taken from a
 * per-partner counter it persists.
 *
 * Memory rule: a flow_result owns its messages (each with its own arena)
 * and flow_result_fini frees them all.
 */
#ifndef OMO_X12_FLOWS_H
#define OMO_X12_FLOWS_H

#include <stdbool.h>
#include <stdint.h>

#include "partner.h"
#include "schema.h"
#include "x12.h"
#include "x12_write.h"

#define FLOW_MAX_LINES 100
#define FLOW_REF_MAX   30 /* BEG03, BAK03, W0502 ... hold at most 22 to 30 characters */

/* One of our purchase or shipping orders, as the partner's replies name it. */
typedef struct flow_po {
	omo_uuid fulfillment_id, order_id;
	char node[RT_ID_MAX + 1];
	omo_alloc_line lines[FLOW_MAX_LINES]; /* what we asked for */
	uint32_t n_lines;
	int64_t shipped[FLOW_MAX_LINES]; /* units shipped so far, by line (810 matching) */
} flow_po;

/* What the translation may look up; any callback may be NULL (then nothing
 * is known: a reply to an unknown PO is rejected, an 846 gives no deltas). */
typedef struct flow_env {
	/* find_po fills po for our document number ref sent to this partner; 0 if found. */
	int (*find_po)(void *arg, const char *ref, flow_po *po);
	/* on_hand returns the units of sku at node as we know them, or -1. */
	int64_t (*on_hand)(void *arg, const char *node, const char *sku);
	void *arg;
	int64_t now_us; /* stamps the messages */
} flow_env;

/* What one transaction set became. */
typedef struct flow_set {
	uint32_t set;               /* index in doc->sets */
	partner_doc doc;            /* PARTNER_DOC_COUNT if omo does not exchange it */
	char ref[FLOW_REF_MAX + 1]; /* the partner's document number (BEG03, BSN02, ...) */
	bool accepted;              /* false: rejected, nothing of it returned */
	bool held;                  /* accepted, but an operator must look (an invoice that does
	                               not match what shipped) */
	char note[400];             /* what it became, or why not */
	uint32_t first_msg, n_msgs; /* its messages: r->msgs[first_msg ..] */
} flow_set;

typedef struct flow_result {
	omo_msg *msgs;
	uint32_t n_msgs, cap_msgs;
	flow_set *sets;
	uint32_t n_sets, cap_sets;
} flow_result;

/*
 * flow_read translates every set of doc (parsed from bytes partner p sent)
 * into r (zero it first), recording in doc what it rejects (so build the
 * acknowledgement after this call). Returns 0, or -1 if out of memory (r
 * then holds what was done; free it).
 */
int flow_read(const partner *p, x12_doc *doc, const flow_env *env, flow_result *r);
/* flow_result_fini frees r's messages and sets; accepts a zeroed result. */
void flow_result_fini(flow_result *r);

/* Control numbers of an outbound interchange: ISA13, GS06, ST02. */
typedef struct flow_controls {
	uint32_t isa13, gs06, st02;
	int64_t now_us;
} flow_controls;

/* flow_write_850 appends the purchase order numbered po for fr (sourced to
 * the drop-ship manufacturer p) to out; flow_write_940 the warehouse shipping
 * order for a 3PL. Items are named by GTIN and the vendor's number.
 * Returns X12_E_OK, or the error (an item the mapping lacks: W_VALUE). */
x12_err flow_write_850(const partner *p, const omo_fulfillment_requested *fr, const char *po,
                       const flow_controls *c, x12_buf *out);
x12_err flow_write_940(const partner *p, const omo_fulfillment_requested *fr, const char *po,
                       const flow_controls *c, x12_buf *out);

/* flow_write_855 answers customer p's purchase order their_po: every line
 * of order accepted (IA) if accepted, else rejected (IR) with the reason. */
x12_err flow_write_855(const partner *p, const char *their_po, const omo_submit_order *order,
                       bool accepted, const char *reason, const flow_controls *c, x12_buf *out);
/* flow_write_856 tells customer p that lines of their_po left as shipment
 * shipment_id with tracking number tracking (may be ""). */
x12_err flow_write_856(const partner *p, const char *their_po, const char *shipment_id,
                       const omo_alloc_line *lines, uint32_t n, const char *tracking,
                       const flow_controls *c, x12_buf *out);

#endif
