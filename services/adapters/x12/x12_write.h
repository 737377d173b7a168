/*
 * x12_write.h - writing X12 interchanges with correct envelopes.
 *
 * A writer appends one interchange to a caller's buffer: x12_writer_init
 * writes the ISA (padded to its fixed width of 106 bytes), then groups (GS,
 * GE), sets (ST, SE) and segments follow in order, and x12_writer_finish
 * writes the IEA. The writer counts segments, sets and groups itself, so
 * SE01, GE01 and IEA01 are always right; the control numbers are the
 * caller's, who must store them so they never repeat for a partner.
 * Values are written as given, except that empty trailing elements are left
 * out as X12 requires; a value holding a delimiter or a control character is
 * an error, never escaped.
 *
 * Errors are sticky: after the first one every call does nothing, and
 * x12_writer_finish (or x12_writer_err) returns it. The bytes written so far
 * are then incomplete; the caller discards the buffer.
 *
 * Memory rule: the buffer's data is heap memory owned by the buffer; the
 * writer holds a pointer to it and owns nothing.
 */
#ifndef OMO_X12_WRITE_H
#define OMO_X12_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x12.h"

#define X12_MAX_OUTPUT ((size_t)1 << 30) /* bytes one buffer may hold */

/* A growable byte buffer. Zero-initialise it; x12_buf_fini frees it. */
typedef struct x12_buf {
	char *data;
	size_t len;
	size_t cap;
} x12_buf;

/* x12_buf_fini frees b's data and zeroes it; accepts a zeroed buffer. */
void x12_buf_fini(x12_buf *b);

/* What goes into the ISA, and the writer's conventions. */
typedef struct x12_envelope {
	const char *sender_qual;   /* ISA05, 2 characters, e.g. "ZZ" */
	const char *sender_id;     /* ISA06, 1 to 15 characters */
	const char *receiver_qual; /* ISA07 */
	const char *receiver_id;   /* ISA08 */
	uint32_t control;          /* ISA13, 1 to 999999999: never repeated per partner */
	unsigned version;          /* ISA12 as a number: 401 (00401) or 501 (00501); 0 = 401 */
	int64_t now_us;            /* microseconds since the epoch, UTC: ISA09/10, GS04/05 */
	char usage;                /* ISA15: 'P' production, 'T' test, 'I'; 0 = 'P' */
	bool ack_requested;        /* ISA14 */
	x12_delims d;              /* zero fields: '*', '>', '^' (from 00402, else none), '~' */
	bool newline;              /* a line feed after every segment terminator */
} x12_envelope;

/* A writer; the fields are internal. */
typedef struct x12_writer {
	x12_buf *out;
	x12_delims d;
	bool newline;
	x12_err err;
	unsigned version;
	int64_t now_us;
	int state;        /* interchange, group, set, done */
	bool in_seg;      /* a segment is open */
	unsigned nelem;   /* elements written in the open segment */
	size_t keep;      /* where the open segment ends without trailing empty elements */
	uint32_t ngroups; /* for IEA01 */
	uint32_t nsets;   /* of the open group, for GE01 */
	uint32_t nsegs;   /* of the open set, for SE01 */
	char isa13[10];
	char gs06[10];
	char st02[10];
} x12_writer;

/* x12_writer_init starts an interchange in out (appending) and writes its
 * ISA. Errors (W_VALUE: a bad envelope field or delimiter set) are kept in
 * w and returned by x12_writer_finish. */
void x12_writer_init(x12_writer *w, x12_buf *out, const x12_envelope *env);

/* x12_w_group_begin writes a GS: functional id (GS01, e.g. "PO"),
 * application sender and receiver codes (GS02, GS03), control number
 * (GS06, 1 to 999999999) and version (GS08, e.g. "004010VICS"; NULL: the
 * ISA12 version followed by 0, e.g. "004010"). */
void x12_w_group_begin(x12_writer *w, const char *func, const char *app_sender,
                       const char *app_receiver, uint32_t control, const char *version);
/* x12_w_group_end writes the GE with the number of sets written. */
void x12_w_group_end(x12_writer *w);

/* x12_w_set_begin writes ST: set id (ST01, e.g. "850"), control number
 * (ST02, written with at least 4 digits) and, if not NULL, the
 * implementation convention reference (ST03, 5010). */
void x12_w_set_begin(x12_writer *w, const char *id, uint32_t control, const char *impl);
/* x12_w_set_end writes SE with the segments counted from ST to SE. */
void x12_w_set_end(x12_writer *w);

/* x12_w_seg opens a segment with its ID; x12_w_seg_end closes it. Between
 * them: x12_w_elem* add an element, x12_w_comp adds a component to the
 * last element, x12_w_rep a repetition (5010 only). NULL is an empty value. */
void x12_w_seg(x12_writer *w, const char *id);
void x12_w_elem(x12_writer *w, const char *value);
void x12_w_elemn(x12_writer *w, const char *value, size_t n);
void x12_w_elem_uint(x12_writer *w, uint64_t v);
/* x12_w_elem_dec writes minor / 10^scale as an X12 R (decimal) value with an
 * explicit point and no trailing zeros, e.g. 925, 2 -> "9.25", 750, 2 -> "7.5". */
void x12_w_elem_dec(x12_writer *w, int64_t minor, unsigned scale);
void x12_w_comp(x12_writer *w, const char *value);
void x12_w_rep(x12_writer *w, const char *value);
void x12_w_seg_end(x12_writer *w);

/* x12_w_segv writes a whole segment of n simple elements (NULL = empty). */
void x12_w_segv(x12_writer *w, const char *id, const char *const *elems, size_t n);
/* x12_w_segl(w, "REF", "DP", "038") writes a whole segment from a list. */
#define x12_w_segl(w, id, ...)                                                                     \
	x12_w_segv((w), (id), (const char *const[]){__VA_ARGS__},                                  \
	           sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* x12_writer_finish writes the IEA and returns the first error (X12_E_OK:
 * out holds a complete interchange). */
x12_err x12_writer_finish(x12_writer *w);
/* x12_writer_err returns the first error so far. */
x12_err x12_writer_err(const x12_writer *w);

/* x12_utc_parts splits us (microseconds since the epoch) into UTC calendar
 * parts: year, month 1-12, day 1-31, hour, minute. */
void x12_utc_parts(int64_t us, int *year, int *month, int *day, int *hour, int *minute);

#endif
