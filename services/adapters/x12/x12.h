/*
 * x12.h - reading ASC X12 interchanges (4010, 5010 and their neighbours).
 *
 * x12_parse turns bytes into a tree: interchanges (ISA..IEA) hold functional
 * groups (GS..GE) which hold transaction sets (ST..SE) which are runs of
 * segments; a segment's elements, repetitions and components are read on
 * demand with x12_elem and x12_elem_part. Each interchange declares its own
 * delimiters in its ISA. The parser checks the envelopes (control numbers,
 * counts, trailers) and the syntax every segment must obey without knowing
 * its transaction set's dictionary; every problem is recorded as an x12_diag
 * with a stable code and a sentence that names the place, and marks what it
 * rejects (interchange, group or set), which is what x12_ack.h turns into
 * TA1 and 997 acknowledgements. No input crashes the parser; memory grows
 * only in checked steps bounded by the input size.
 *
 * Memory rule: a doc never copies the input; every x12_slice points into the
 * caller's bytes, which must outlive the doc. x12_doc_fini frees what the
 * doc allocated. A doc is read-only after x12_parse and may be read from any
 * number of threads.
 */
#ifndef OMO_X12_H
#define OMO_X12_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x12_errors.def"

/* ---- errors ----------------------------------------------------------- */

#define X12_X_ERR_ENUM(NAME, level, code, since, text) X12_E_##NAME,
typedef enum x12_err { X12_ERROR_LIST(X12_X_ERR_ENUM) X12_E_COUNT } x12_err;
#undef X12_X_ERR_ENUM

/* What an error rejects, and so which acknowledgement reports it. */
typedef enum x12_level {
	X12_LEVEL_NONE,        /* nothing acknowledgeable */
	X12_LEVEL_INTERCHANGE, /* TA1, interchange rejected */
	X12_LEVEL_GROUP,       /* 997 AK9, group rejected */
	X12_LEVEL_SET,         /* 997 AK5, set rejected */
	X12_LEVEL_SEGMENT,     /* 997 AK3, its set rejected */
	X12_LEVEL_ELEMENT,     /* 997 AK4, its set rejected */
} x12_level;

/* x12_err_name returns the stable code, e.g. "SE_COUNT"; never NULL. */
const char *x12_err_name(x12_err e);
/* x12_strerror returns the human sentence for e; never NULL. */
const char *x12_strerror(x12_err e);
/* x12_err_level returns what e rejects. */
x12_level x12_err_level(x12_err e);
/* x12_err_ack_code returns e's code in the X12 list of its level ("001" for
 * TA105, "4" for AK502, ...), or "" when the acknowledgement of ISA12
 * version `version` (e.g. 401) has no such code or e has no level. */
const char *x12_err_ack_code(x12_err e, unsigned version);

/* ---- the parsed tree -------------------------------------------------- */

#define X12_NONE UINT32_MAX

/* Bytes inside the input. p == NULL: absent; p != NULL, n == 0: empty. */
typedef struct x12_slice {
	const char *p;
	size_t n;
} x12_slice;

/* An interchange's delimiters. */
typedef struct x12_delims {
	char elem; /* data element separator: the byte after "ISA" */
	char comp; /* component element separator: ISA16 */
	char rep;  /* repetition separator: ISA11 from version 00402, else 0 (none) */
	char seg;  /* segment terminator: the byte after ISA16 */
} x12_delims;

typedef struct x12_seg {
	uint32_t off;   /* byte offset of the segment ID in the input */
	uint32_t len;   /* length up to, not including, the terminator */
	uint16_t nelem; /* data elements after the ID (saturates at 65535) */
	uint16_t ic;    /* its interchange in doc->ics */
	char id[4];     /* the segment ID, "" if it is not 1 to 3 bytes */
} x12_seg;

typedef struct x12_set {
	uint32_t st;        /* index of its ST in doc->segs */
	uint32_t se;        /* index of its SE, X12_NONE if it has none */
	uint32_t group;     /* its group in doc->groups */
	uint32_t nseg;      /* segments read from ST to SE inclusive */
	char id[4];         /* ST01, e.g. "850" ("" if invalid) */
	char control[10];   /* ST02 ("" if invalid) */
	uint8_t nerrs;      /* set-level errors kept in errs, at most 5 */
	x12_err errs[5];    /* in the order found: what AK502..AK506 report */
	uint32_t nseg_errs; /* segment- and element-level errors in the set */
} x12_set;

typedef struct x12_group {
	uint32_t gs;        /* index of its GS in doc->segs */
	uint32_t ge;        /* index of its GE, X12_NONE if it has none */
	uint32_t ic;        /* its interchange in doc->ics */
	uint32_t set_first; /* its sets are doc->sets[set_first .. set_first + nsets) */
	uint32_t nsets;
	char func[3];     /* GS01, e.g. "PO" */
	char control[10]; /* GS06 as received ("" if invalid) */
	char version[13]; /* GS08, e.g. "004010VICS" */
	uint8_t nerrs;    /* group-level errors kept in errs, at most 5 */
	x12_err errs[5];  /* in the order found: what AK905..AK909 report */
} x12_group;

typedef struct x12_interchange {
	uint32_t isa;         /* index of its ISA in doc->segs */
	uint32_t iea;         /* index of its IEA, X12_NONE if it has none */
	uint32_t group_first; /* its groups are doc->groups[group_first .. + ngroups) */
	uint32_t ngroups;
	x12_delims d;
	unsigned version;   /* ISA12 as a number, e.g. 401 for 00401; 0 if invalid */
	char control[10];   /* ISA13 as received (up to 9 bytes) */
	char usage;         /* ISA15: 'P', 'T' or 'I' (0 if invalid) */
	bool ack_requested; /* ISA14 is 1 */
	bool padded;        /* the ISA has the fixed width of 106 bytes */
	x12_err err;        /* first interchange-level error (the TA1's reason), or X12_E_OK */
	uint32_t nerrs;     /* interchange-level errors */
} x12_interchange;

/* One problem found, with where it is. */
typedef struct x12_diag {
	x12_err code;
	uint32_t ic;     /* interchange, X12_NONE if before any */
	uint32_t group;  /* group, X12_NONE if outside one */
	uint32_t set;    /* transaction set, X12_NONE if outside one */
	uint32_t seg;    /* segment in doc->segs, X12_NONE if none */
	uint32_t pos;    /* position of the segment in its set (ST = 1), 0 outside sets */
	uint16_t elem;   /* element position (1-based), 0 if not about one element */
	uint16_t comp;   /* component position (1-based), 0 if none */
	uint32_t line;   /* 1-based line of the segment (or place) in the input */
	size_t offset;   /* byte offset in the input */
	x12_slice value; /* the offending element's bytes, if any */
	char text[320];  /* e.g. "line 18, SE, segment 16 of transaction set 0001, ..." */
} x12_diag;

typedef struct x12_doc {
	const char *data; /* the input (not owned) */
	size_t len;
	bool bom;      /* the input began with a UTF-8 byte order mark */
	x12_err err;   /* the first error found, X12_E_OK if none at all */
	x12_seg *segs; /* every segment read, envelopes included, in order */
	uint32_t nsegs;
	x12_interchange *ics;
	uint32_t nics;
	x12_group *groups;
	uint32_t ngroups;
	x12_set *sets;
	uint32_t nsets;
	x12_diag *diags; /* the first max_diags problems, in the order found */
	uint32_t ndiags;
	uint32_t ndiags_lost; /* problems found beyond max_diags */
	uint32_t cap_segs, cap_ics, cap_groups, cap_sets, cap_diags; /* internal */
} x12_doc;

typedef struct x12_opts {
	size_t max_input;   /* bytes; larger input is TOO_LARGE (default and maximum 1 GiB) */
	uint32_t max_diags; /* diagnostics kept (default 200); the rest are counted */
} x12_opts;

/*
 * x12_parse reads len bytes at data into doc (caller's storage; its old
 * contents are ignored). opts may be NULL for the defaults. Returns
 * X12_E_OK when every interchange, group and set is free of errors;
 * otherwise doc->err, the first error found, and doc holds everything that
 * could be read (which sets are accepted: x12_set_accepted). NOMEM and
 * TOO_LARGE leave what was read so far. In every case the caller must call
 * x12_doc_fini.
 */
x12_err x12_parse(x12_doc *doc, const void *data, size_t len, const x12_opts *opts);
/* x12_doc_fini frees what the doc allocated; accepts a zeroed doc. */
void x12_doc_fini(x12_doc *doc);

/* x12_set_accepted tells whether set i and its group and interchange are
 * free of errors, i.e. whether its content may be applied. */
bool x12_set_accepted(const x12_doc *doc, uint32_t i);
/* x12_group_accepted: group i and its interchange are free of own errors. */
bool x12_group_accepted(const x12_doc *doc, uint32_t i);

/* ---- reading segments ------------------------------------------------- */

/* x12_seg_raw returns segment i's bytes without its terminator. */
x12_slice x12_seg_raw(const x12_doc *doc, uint32_t i);
/* x12_elem returns element pos of segment i (1 = the first after the ID, 0 =
 * the ID), whole, with any repetition and component separators in it;
 * absent ({NULL, 0}) beyond the last element. */
x12_slice x12_elem(const x12_doc *doc, uint32_t i, unsigned pos);
/* x12_elem_part narrows element pos to repetition rep (1-based; 0 = all)
 * and then to component comp (1-based; 0 = all) with the interchange's
 * delimiters. Where the interchange has no repetition separator the element
 * is its only repetition. Absent parts are {NULL, 0}. */
x12_slice x12_elem_part(const x12_doc *doc, uint32_t i, unsigned pos, unsigned rep, unsigned comp);
/* x12_split stores up to max slices of segment i in out (out[0] = the ID,
 * out[k] = element k) and returns how many the segment has (may exceed max). */
unsigned x12_split(const x12_doc *doc, uint32_t i, x12_slice *out, unsigned max);
/* x12_part returns part k (1-based) of s split at sep; absent if none. */
x12_slice x12_part(x12_slice s, char sep, unsigned k);
/* x12_slice_eq tells whether s holds exactly the string z. */
bool x12_slice_eq(x12_slice s, const char *z);
/* x12_slice_copy copies s into dst (size cap, cap > 0) as a string,
 * truncating; returns dst. */
char *x12_slice_copy(char *dst, size_t cap, x12_slice s);

/*
 * x12_report records a finding of the caller's, made while reading what a
 * set means (an unknown item, a missing element, a partner not set up for
 * the set, a sender that is not the connection's partner), exactly as the
 * parser records its own: a diag with the place and a sentence ending in
 * fmt's text, and the mark on what code's level rejects, so x12_set_accepted
 * and the TA1/997 of x12_ack.h report it. SET, SEGMENT and ELEMENT findings
 * name set (an index in doc->sets) and, below SET, the segment seg in it and
 * the element elem (1-based; 0: none); INTERCHANGE findings name a segment
 * of the interchange (its ISA) and ignore set. Returns false if the finding
 * cannot be placed (GROUP or NONE level, indexes out of range) or there was
 * no memory for it.
 */
bool x12_report(x12_doc *doc, uint32_t set, uint32_t seg, unsigned elem, x12_err code,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* x12_begin_segment returns the segment that must follow ST in the known
 * transaction set st01 (e.g. "BEG" for "850"), or NULL if st01 is not one
 * the parser knows; the parser reports SEG_BEGIN when it is missing. */
const char *x12_begin_segment(const char *st01);

#endif
