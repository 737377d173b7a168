/*
 * x12_ack.h - acknowledgements of received interchanges: TA1 and 997.
 *
 * x12_ack_build answers one parsed interchange with one outbound
 * interchange addressed back to its sender:
 *   - a TA1 when the interchange envelope itself is bad (TA104 R, TA105 the
 *     code of the first interchange-level error, e.g. 001 when IEA02 is not
 *     ISA13), when the sender asked for one (ISA14 = 1: TA104 A, TA105 000),
 *     or when the caller always wants one;
 *   - unless the interchange is rejected, a functional group (GS01 FA)
 *     holding one 997 per received functional group: AK1 names the group,
 *     an AK2 for each of its sets with AK3 (segment, AK304 code) and AK4
 *     (element, AK403 code) for each segment and element error and AK5
 *     (A or R, and AK502.. codes naming the errors), then AK9 (A, P or R;
 *     sets included, received, accepted; AK905.. codes).
 * A rejected interchange is answered by its TA1 alone: none of its groups
 * is processed, so none is acknowledged. Received groups of functional
 * acknowledgements (GS01 FA: 997, 999) are not acknowledged unless asked,
 * so that two translators never acknowledge each other's acknowledgements.
 *
 * The acknowledgement's version is the received ISA12 (its GS08 that version
 * followed by 0, e.g. 004010); its delimiters are the received ones, or the
 * defaults (* > ^ ~) when those could not carry it. Values copied from the
 * received interchange lose any byte that is a delimiter or a control
 * character, so the acknowledgement is always well-formed X12.
 */
#ifndef OMO_X12_ACK_H
#define OMO_X12_ACK_H

#include <stdbool.h>
#include <stdint.h>

#include "x12.h"
#include "x12_write.h"

typedef struct x12_ack_opts {
	uint32_t isa13;       /* control number of the acknowledging interchange (1..999999999) */
	uint32_t gs06;        /* control number of its functional group, if one is written */
	uint32_t st02;        /* control number of its first 997; the next ones count up */
	int64_t now_us;       /* the clock: microseconds since the epoch, UTC */
	const char *our_qual; /* ISA05/ISA06 of the acknowledgement (we are its sender); */
	const char *our_id;   /* NULL: the received ISA07/ISA08 */
	x12_delims d;         /* zero: the received interchange's delimiters */
	bool newline;         /* a line feed after every segment terminator */
	bool ack_fa;          /* also acknowledge received functional acknowledgement groups */
	bool ta1_always;      /* a TA1 even for a clean interchange that did not ask for one */
} x12_ack_opts;

typedef struct x12_ack_result {
	bool empty;       /* nothing to send: out was left unchanged */
	bool ta1;         /* a TA1 was written */
	char ta1_status;  /* its TA104: 'A' or 'R' */
	char ta1_code[4]; /* its TA105, e.g. "001" */
	bool group;       /* a functional group was written, numbered opts->gs06 */
	uint32_t n997;    /* 997 sets written, numbered opts->st02 and up */
} x12_ack_result;

/*
 * x12_ack_build appends to out the acknowledgement of interchange ic of
 * doc, as described above, and fills r. The control numbers in o are the
 * caller's to keep unique per partner: isa13 is used unless r->empty, gs06
 * if r->group, st02 .. st02 + r->n997 - 1. Returns X12_E_OK, or W_* / NOMEM
 * / TOO_LARGE if it could not be written (out is then restored).
 */
x12_err x12_ack_build(const x12_doc *doc, uint32_t ic, const x12_ack_opts *o, x12_buf *out,
                      x12_ack_result *r);

#endif
