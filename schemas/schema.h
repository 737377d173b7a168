/*
 * schema.h - omo's messages as C types, and their codecs.
 *
 * Every type here is generated from messages.def and errors.def; nothing is
 * restated by hand. A message on the wire is a msgpack map (the envelope)
 * whose "body" is a map keyed by field name (see REFERENCE.md).
 *
 * Memory rule: a decoded message owns everything it points to through its
 * arena, and omo_msg_fini() frees all of it at once; when encoding, the
 * caller owns whatever its lists point at.
 */
#ifndef OMO_SCHEMA_H
#define OMO_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.def"
#include "messages.def"

#define OMO_MAX_MESSAGE  (4u << 20) /* bytes; larger input is TOO_LARGE */
#define OMO_PRODUCER_MAX 32

/* ---- errors ---------------------------------------------------------- */

#define OMO_X_ERR_ENUM(NAME, retry, text) OMO_E_##NAME,
typedef enum omo_err { OMO_ERROR_LIST(OMO_X_ERR_ENUM) OMO_E_COUNT } omo_err;
#undef OMO_X_ERR_ENUM

/* omo_err_name returns the stable code, e.g. "OUT_OF_STOCK"; never NULL. */
const char *omo_err_name(omo_err e);
/* omo_strerror returns the human sentence for e; never NULL. */
const char *omo_strerror(omo_err e);
/* omo_err_retryable tells whether the same request may succeed later. */
bool omo_err_retryable(omo_err e);
/* omo_err_from_name maps a code back; returns OMO_E_COUNT if unknown. */
omo_err omo_err_from_name(const char *name);

/* An error with the place it concerns, e.g. "lines[2].quantity: 0 < 1". */
typedef struct omo_error_detail {
	omo_err code;
	char text[200];
} omo_error_detail;

/* omo_fail sets d (if not NULL) and returns code. printf-style text. */
omo_err omo_fail(omo_error_detail *d, omo_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- basic types ----------------------------------------------------- */

typedef struct omo_uuid {
	uint8_t b[16];
} omo_uuid;

/* A growable byte buffer; data is heap memory owned by the buffer. */
typedef struct omo_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
} omo_buf;

int omo_buf_append(omo_buf *b, const void *p, size_t n); /* 0 or -1 (no memory) */
void omo_buf_fini(omo_buf *b);
/* omo_buf_printf appends formatted text (no NUL); 0 or -1 (no memory). */
int omo_buf_printf(omo_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A bump allocator: many allocations, one free. */
typedef struct omo_arena {
	struct omo_arena_chunk *head;
} omo_arena;

void *omo_arena_alloc(omo_arena *a, size_t n); /* zeroed; NULL if out of memory */
void omo_arena_fini(omo_arena *a);
/* omo_arena_grow returns a copy of a list of count items of size bytes with
 * room for more after them (zeroed), in a; NULL if out of memory. */
void *omo_arena_grow(omo_arena *a, const void *items, uint32_t count, uint32_t more, size_t size);

/* ---- enumerations ---------------------------------------------------- */

#define OMO_X_ENUM_VALUE(ID, wire, doc) OMO_##ID,
#define OMO_X_ENUM_TYPE(name, doc)                                                                 \
	typedef enum omo_##name{OMO_ENUM_##name(OMO_X_ENUM_VALUE)} omo_##name;
OMO_ENUM_LIST(OMO_X_ENUM_TYPE)
#undef OMO_X_ENUM_TYPE
#undef OMO_X_ENUM_VALUE

typedef struct omo_enum_desc {
	const char *name;
	const char *doc;
	const char *const *wire; /* wire name of each value, by value */
	const char *const *docs;
	uint32_t count;
} omo_enum_desc;

#define OMO_X_ENUM_EXTERN(name, doc) extern const omo_enum_desc omo_enum_##name;
OMO_ENUM_LIST(OMO_X_ENUM_EXTERN)
#undef OMO_X_ENUM_EXTERN

/* omo_enum_name returns the wire name of value v, or "?" if out of range. */
const char *omo_enum_name(const omo_enum_desc *e, int v);
/* omo_enum_parse returns the value for a wire name, or -1. */
int omo_enum_parse(const omo_enum_desc *e, const char *wire, size_t len);

/* ---- records --------------------------------------------------------- */

#define OMO_X_DECL_I64(name, arg, max)  int64_t name;
#define OMO_X_DECL_STR(name, arg, max)  char name[(max) + 1];
#define OMO_X_DECL_BOOL(name, arg, max) bool name;
#define OMO_X_DECL_UUID(name, arg, max) omo_uuid name;
#define OMO_X_DECL_ENUM(name, arg, max) omo_##arg name;
#define OMO_X_DECL_LIST(name, arg, max)                                                            \
	struct omo_##arg *name;                                                                    \
	uint32_t name##_count;
#define OMO_X_DECL_REC(name, arg, max) struct omo_##arg name;
#define OMO_X_DECL_BIN(name, arg, max)                                                             \
	const uint8_t *name;                                                                       \
	uint32_t name##_len;
#define OMO_X_FIELD_DECL(R, KIND, name, arg, min, max, flags, doc) OMO_X_DECL_##KIND(name, arg, max)
#define OMO_X_REC_STRUCT(rname, doc)                                                               \
	typedef struct omo_##rname {                                                               \
		OMO_FIELDS_##rname(OMO_X_FIELD_DECL, rname)                                        \
	} omo_##rname;
#define OMO_X_MSG_STRUCT(ID, rname, v, kind, doc) OMO_X_REC_STRUCT(rname, doc)
OMO_RECORD_LIST(OMO_X_REC_STRUCT)
OMO_MESSAGE_LIST(OMO_X_MSG_STRUCT)
#undef OMO_X_MSG_STRUCT

typedef enum omo_kind {
	OMO_K_I64,
	OMO_K_STR,
	OMO_K_BOOL,
	OMO_K_UUID,
	OMO_K_ENUM,
	OMO_K_LIST,
	OMO_K_REC,
	OMO_K_BIN,
} omo_kind;

typedef struct omo_field_desc {
	const char *name; /* msgpack and JSON key */
	uint32_t name_len;
	const char *doc;
	omo_kind kind;
	bool required;
	size_t offset;                  /* of the value, or of the list pointer */
	size_t aux_offset;              /* of the LIST count or BIN length */
	int64_t min, max;               /* value, length or count limits */
	const struct omo_rec_desc *rec; /* LIST and REC element */
	const omo_enum_desc *en;        /* ENUM */
} omo_field_desc;

typedef struct omo_rec_desc {
	const char *name;
	const char *doc;
	size_t size;
	const omo_field_desc *fields;
	uint32_t n_fields;
} omo_rec_desc;

#define OMO_X_REC_EXTERN(rname, doc)                  extern const omo_rec_desc omo_rec_##rname;
#define OMO_X_MSG_REC_EXTERN(ID, rname, v, kind, doc) OMO_X_REC_EXTERN(rname, doc)
OMO_RECORD_LIST(OMO_X_REC_EXTERN)
OMO_MESSAGE_LIST(OMO_X_MSG_REC_EXTERN)
#undef OMO_X_MSG_REC_EXTERN
#undef OMO_X_REC_EXTERN

/* ---- messages -------------------------------------------------------- */

#define OMO_X_MSG_ENUM(ID, rname, v, kind, doc) OMO_MSG_##ID,
typedef enum omo_msg_type { OMO_MESSAGE_LIST(OMO_X_MSG_ENUM) OMO_MSG_COUNT } omo_msg_type;
#undef OMO_X_MSG_ENUM

typedef struct omo_msg_desc {
	const char *name; /* the "type" on the wire */
	const char *kind; /* "command", "query", "reply" or "event" */
	const char *doc;
	uint32_t version;
	const omo_rec_desc *body;
} omo_msg_desc;

extern const omo_msg_desc omo_msg_descs[OMO_MSG_COUNT];

/* The envelope and body of one message. */
typedef struct omo_msg {
	omo_msg_type type;
	uint32_t version;
	omo_uuid id;                         /* unique per message */
	omo_uuid corr;                       /* request id a reply answers; order id for events */
	char producer[OMO_PRODUCER_MAX + 1]; /* service that emitted an event */
	uint64_t epoch;                      /* producer history; changes if it restarts afresh */
	uint64_t seq;                        /* producer sequence, 1.. within an epoch; 0 if none */
	int64_t ts_us;                       /* microseconds since the epoch */
	union {
#define OMO_X_MSG_MEMBER(ID, rname, v, kind, doc) omo_##rname rname;
		OMO_MESSAGE_LIST(OMO_X_MSG_MEMBER)
#undef OMO_X_MSG_MEMBER
	} body;
	omo_arena arena; /* owns the lists of a decoded message */
} omo_msg;

/* omo_msg_init zeroes msg and sets its type and current version. */
void omo_msg_init(omo_msg *msg, omo_msg_type type);
/* omo_msg_fini frees what msg owns; msg may be zeroed or half-decoded. */
void omo_msg_fini(omo_msg *msg);
/* omo_msg_name returns the wire type name of t. */
const char *omo_msg_name(omo_msg_type t);

/*
 * omo_msg_encode appends msg's msgpack form to out. Fails with OUT_OF_RANGE
 * (and says where in d) if a field breaks its limits: omo never sends what
 * it would itself refuse. Returns OMO_E_OK, OMO_E_NOMEM or the error.
 */
omo_err omo_msg_encode(const omo_msg *msg, omo_buf *out, omo_error_detail *d);

/*
 * omo_msg_decode parses len bytes into msg (which it initialises). Sizes are
 * checked before anything is allocated. On failure msg holds nothing to free
 * (beyond a plain omo_msg_fini), its type, id and version are set as far as
 * they were read (so an error reply can name the request), and d says why.
 */
omo_err omo_msg_decode(const void *data, size_t len, omo_msg *msg, omo_error_detail *d);

/*
 * omo_msg_decode_reply decodes the reply to req: OMO_E_OK for a reply of
 * its own, the error's code (with its sentence in d) for an error reply.
 * If it answers another request, *ours is false and reply is left empty.
 */
omo_err omo_msg_decode_reply(const void *data, size_t len, const omo_msg *req, omo_msg *reply,
                             bool *ours, omo_error_detail *d);

/* omo_rec_encode / omo_rec_decode: one record alone, for stored state. */
omo_err omo_rec_encode(const omo_rec_desc *desc, const void *rec, omo_buf *out,
                       omo_error_detail *d);
omo_err omo_rec_decode(const omo_rec_desc *desc, const void *data, size_t len, void *rec,
                       omo_arena *arena, omo_error_detail *d);

/*
 * omo_msg_size returns how many bytes the first msgpack value in data takes
 * (checked as omo_msg_decode checks), or 0 if data does not start with one.
 * A PUB message carries one or more events back to back; this splits them.
 */
size_t omo_msg_size(const void *data, size_t len);

/* omo_msg_error fills msg as an error reply to request id corr. */
void omo_msg_error(omo_msg *msg, const omo_uuid *corr, omo_err code, const char *text);

/* ---- JSON (for people and JSON partners) ------------------------------- */

/* omo_rec_to_json returns a malloc'd JSON text of rec (UUIDs as strings, enums by name). */
char *omo_rec_to_json(const omo_rec_desc *desc, const void *rec, bool pretty);
/* omo_rec_from_json parses JSON text into rec, with the same checks as msgpack. */
omo_err omo_rec_from_json(const omo_rec_desc *desc, const char *text, size_t len, void *rec,
                          omo_arena *arena, omo_error_detail *d);

/* ---- ids ------------------------------------------------------------- */

void omo_uuid_generate(omo_uuid *u);
bool omo_uuid_is_nil(const omo_uuid *u);
/* omo_uuid_format writes 36 chars plus NUL into out. */
void omo_uuid_format(const omo_uuid *u, char out[37]);
/* omo_uuid_parse reads the 36-char form; returns false if it is not one. */
bool omo_uuid_parse(const char *s, omo_uuid *u);

#endif
