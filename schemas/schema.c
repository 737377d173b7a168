/*
 * schema.c - descriptor tables generated from messages.def, and the one
 * table-driven codec that every message and stored record goes through.
 */
#include "schema.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <uuid/uuid.h>

/* ====================================================================== */
/* errors                                                                 */

#define X_NAME(NAME, retry, text)  #NAME,
#define X_TEXT(NAME, retry, text)  text,
#define X_RETRY(NAME, retry, text) retry,
static const char *const err_names[] = {OMO_ERROR_LIST(X_NAME)};
static const char *const err_texts[] = {OMO_ERROR_LIST(X_TEXT)};
static const bool err_retry[] = {OMO_ERROR_LIST(X_RETRY)};
#undef X_NAME
#undef X_TEXT
#undef X_RETRY

const char *omo_err_name(omo_err e)
{
	return (unsigned)e < OMO_E_COUNT ? err_names[e] : "INTERNAL";
}

const char *omo_strerror(omo_err e)
{
	return (unsigned)e < OMO_E_COUNT ? err_texts[e] : "unknown error";
}

bool omo_err_retryable(omo_err e)
{
	return (unsigned)e < OMO_E_COUNT && err_retry[e];
}

omo_err omo_err_from_name(const char *name)
{
	for (int i = 0; i < OMO_E_COUNT; i++)
		if (strcmp(err_names[i], name) == 0)
			return (omo_err)i;
	return OMO_E_COUNT;
}

omo_err omo_fail(omo_error_detail *d, omo_err code, const char *fmt, ...)
{
	if (d != NULL) {
		va_list ap;
		d->code = code;
		va_start(ap, fmt);
		vsnprintf(d->text, sizeof(d->text), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* ====================================================================== */
/* buffers and arenas                                                     */

int omo_buf_append(omo_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *data = realloc(b->data, cap);
		if (data == NULL)
			return -1;
		b->data = data;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int omo_buf_printf(omo_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return omo_buf_append(b, small, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (big == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = omo_buf_append(b, big, (size_t)n);
	free(big);
	return rc;
}

void omo_buf_fini(omo_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

struct omo_arena_chunk {
	struct omo_arena_chunk *next;
	max_align_t data[];
};

void *omo_arena_alloc(omo_arena *a, size_t n)
{
	struct omo_arena_chunk *c = calloc(1, sizeof(*c) + n);
	if (c == NULL)
		return NULL;
	c->next = a->head;
	a->head = c;
	return c->data;
}

void *omo_arena_grow(omo_arena *a, const void *items, uint32_t count, uint32_t more, size_t size)
{
	char *p = omo_arena_alloc(a, ((size_t)count + more) * size);
	if (p != NULL && count > 0)
		memcpy(p, items, (size_t)count * size);
	return p;
}

void omo_arena_fini(omo_arena *a)
{
	while (a->head != NULL) {
		struct omo_arena_chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
}

/* ====================================================================== */
/* descriptor tables                                                      */

#define X_ENUM_WIRE(ID, wire, doc) wire,
#define X_ENUM_DOC(ID, wire, doc)  doc,
#define X_ENUM_DESC(ename, edoc)                                                                   \
	static const char *const ename##_wire[] = {OMO_ENUM_##ename(X_ENUM_WIRE)};                 \
	static const char *const ename##_docs[] = {OMO_ENUM_##ename(X_ENUM_DOC)};                  \
	const omo_enum_desc omo_enum_##ename = {#ename, edoc, ename##_wire, ename##_docs,          \
	                                        sizeof(ename##_wire) / sizeof(ename##_wire[0])};
OMO_ENUM_LIST(X_ENUM_DESC)

#define X_REQ_REQ        true
#define X_REQ_OPT        false
#define X_AUX_I64(R, f)  0
#define X_AUX_STR(R, f)  0
#define X_AUX_BOOL(R, f) 0
#define X_AUX_UUID(R, f) 0
#define X_AUX_ENUM(R, f) 0
#define X_AUX_REC(R, f)  0
#define X_AUX_LIST(R, f) offsetof(omo_##R, f##_count)
#define X_AUX_BIN(R, f)  offsetof(omo_##R, f##_len)
#define X_SUB_I64(a)     NULL
#define X_SUB_STR(a)     NULL
#define X_SUB_BOOL(a)    NULL
#define X_SUB_UUID(a)    NULL
#define X_SUB_ENUM(a)    NULL
#define X_SUB_BIN(a)     NULL
#define X_SUB_LIST(a)    &omo_rec_##a
#define X_SUB_REC(a)     &omo_rec_##a
#define X_EN_I64(a)      NULL
#define X_EN_STR(a)      NULL
#define X_EN_BOOL(a)     NULL
#define X_EN_UUID(a)     NULL
#define X_EN_LIST(a)     NULL
#define X_EN_REC(a)      NULL
#define X_EN_BIN(a)      NULL
#define X_EN_ENUM(a)     &omo_enum_##a

#define X_FIELD_DESC(R, KIND, f, arg, mn, mx, flags, fdoc)                                         \
	{.name = #f,                                                                               \
	 .name_len = sizeof(#f) - 1,                                                               \
	 .doc = fdoc,                                                                              \
	 .kind = OMO_K_##KIND,                                                                     \
	 .required = X_REQ_##flags,                                                                \
	 .offset = offsetof(omo_##R, f),                                                           \
	 .aux_offset = X_AUX_##KIND(R, f),                                                         \
	 .min = (mn),                                                                              \
	 .max = (mx),                                                                              \
	 .rec = X_SUB_##KIND(arg),                                                                 \
	 .en = X_EN_##KIND(arg)},
#define X_REC_DESC(rname, rdoc)                                                                    \
	static const omo_field_desc rname##_fields[] = {OMO_FIELDS_##rname(X_FIELD_DESC, rname)};  \
	const omo_rec_desc omo_rec_##rname = {#rname, rdoc, sizeof(omo_##rname), rname##_fields,   \
	                                      sizeof(rname##_fields) / sizeof(rname##_fields[0])};
#define X_MSG_REC_DESC(ID, rname, v, kind, doc) X_REC_DESC(rname, doc)
OMO_RECORD_LIST(X_REC_DESC)
OMO_MESSAGE_LIST(X_MSG_REC_DESC)

#define X_MSG_DESC(ID, rname, v, mkind, mdoc)                                                      \
	[OMO_MSG_##ID] = {                                                                         \
	    .name = #rname, .kind = mkind, .doc = mdoc, .version = v, .body = &omo_rec_##rname},
const omo_msg_desc omo_msg_descs[OMO_MSG_COUNT] = {OMO_MESSAGE_LIST(X_MSG_DESC)};

const char *omo_enum_name(const omo_enum_desc *e, int v)
{
	return v >= 0 && (uint32_t)v < e->count ? e->wire[v] : "?";
}

int omo_enum_parse(const omo_enum_desc *e, const char *wire, size_t len)
{
	for (uint32_t i = 0; i < e->count; i++)
		if (strlen(e->wire[i]) == len && memcmp(e->wire[i], wire, len) == 0)
			return (int)i;
	return -1;
}

const char *omo_msg_name(omo_msg_type t)
{
	return (unsigned)t < OMO_MSG_COUNT ? omo_msg_descs[t].name : "?";
}

void omo_msg_init(omo_msg *msg, omo_msg_type type)
{
	memset(msg, 0, sizeof(*msg));
	msg->type = type;
	msg->version = omo_msg_descs[type].version;
}

void omo_msg_fini(omo_msg *msg)
{
	omo_arena_fini(&msg->arena);
}

void omo_msg_error(omo_msg *msg, const omo_uuid *corr, omo_err code, const char *text)
{
	omo_msg_init(msg, OMO_MSG_ERROR);
	omo_uuid_generate(&msg->id);
	if (corr != NULL)
		msg->corr = *corr;
	snprintf(msg->body.error.code, sizeof(msg->body.error.code), "%s", omo_err_name(code));
	snprintf(msg->body.error.message, sizeof(msg->body.error.message), "%s",
	         text != NULL && text[0] != '\0' ? text : omo_strerror(code));
}

/* ====================================================================== */
/* field access and checks shared by the msgpack and JSON codecs          */

#define FIELD(rec, f)  ((char *)(rec) + (f)->offset)
#define CFIELD(rec, f) ((const char *)(rec) + (f)->offset)

/*
 * Where in a record the codec is, e.g. "lines[2].quantity", for error texts.
 * Kept as a stack of field names and list indexes and formatted only when
 * an error needs it: the happy path pays one store per level.
 */
#define PATH_DEPTH 24

typedef struct path {
	const char *name[PATH_DEPTH]; /* field name, or NULL for a list index */
	uint32_t idx[PATH_DEPTH];
	int depth;
	char s[96]; /* the text, made by path_str */
} path;

static int path_field(path *p, const omo_field_desc *f)
{
	if (p->depth < PATH_DEPTH) {
		p->name[p->depth] = f->name;
		p->idx[p->depth] = 0;
	}
	return p->depth++;
}

static int path_index(path *p, uint32_t i)
{
	if (p->depth < PATH_DEPTH) {
		p->name[p->depth] = NULL;
		p->idx[p->depth] = i;
	}
	return p->depth++;
}

static void path_pop(path *p, int mark)
{
	p->depth = mark;
}

/* path_str formats the path (the text lives in the path, hence the cast). */
static const char *path_str(const path *cp)
{
	path *p = (path *)cp;
	size_t len = 0;
	p->s[0] = '\0';
	for (int i = 0; i < p->depth && i < PATH_DEPTH && len < sizeof(p->s) - 1; i++) {
		int n = p->name[i] ? snprintf(p->s + len, sizeof(p->s) - len, "%s%s",
		                              len ? "." : "", p->name[i])
		                   : snprintf(p->s + len, sizeof(p->s) - len, "[%u]", p->idx[i]);
		len = n > 0 && len + (size_t)n < sizeof(p->s) ? len + (size_t)n : sizeof(p->s) - 1;
	}
	return p->s;
}

static omo_err check_i64(const omo_field_desc *f, int64_t v, const path *p, omo_error_detail *d)
{
	if (v < f->min || v > f->max)
		return omo_fail(d, OMO_E_OUT_OF_RANGE, "%s: %lld is outside %lld..%lld",
		                path_str(p), (long long)v, (long long)f->min, (long long)f->max);
	return OMO_E_OK;
}

static omo_err check_len(const omo_field_desc *f, size_t n, const char *what, const path *p,
                         omo_error_detail *d)
{
	if ((int64_t)n < f->min || (int64_t)n > f->max)
		return omo_fail(d, OMO_E_OUT_OF_RANGE, "%s: %zu %s, allowed %lld..%lld",
		                path_str(p), n, what, (long long)f->min, (long long)f->max);
	return OMO_E_OK;
}

static omo_err check_enum(const omo_field_desc *f, int v, const path *p, omo_error_detail *d)
{
	if (v < 0 || (uint32_t)v >= f->en->count)
		return omo_fail(d, OMO_E_OUT_OF_RANGE, "%s: %d is not a %s", path_str(p), v,
		                f->en->name);
	return OMO_E_OK;
}

static omo_err set_str(const omo_field_desc *f, void *rec, const char *s, size_t n, const path *p,
                       omo_error_detail *d)
{
	omo_err e = check_len(f, n, "bytes", p, d);
	if (e != OMO_E_OK)
		return e;
	if (memchr(s, '\0', n) != NULL)
		return omo_fail(d, OMO_E_WRONG_TYPE, "%s: text contains a NUL byte", path_str(p));
	memcpy(FIELD(rec, f), s, n);
	FIELD(rec, f)[n] = '\0';
	return OMO_E_OK;
}

static omo_err set_enum(const omo_field_desc *f, void *rec, const char *s, size_t n, const path *p,
                        omo_error_detail *d)
{
	int v = omo_enum_parse(f->en, s, n);
	if (v < 0)
		return omo_fail(d, OMO_E_BAD_ENUM, "%s: \"%.*s\" is not a %s", path_str(p),
		                (int)(n > 40 ? 40 : n), s, f->en->name);
	*(int *)FIELD(rec, f) = v;
	return OMO_E_OK;
}

/* alloc_list checks a list's count and gives it zeroed storage. */
static omo_err alloc_list(const omo_field_desc *f, void *rec, size_t n, omo_arena *a, const path *p,
                          omo_error_detail *d, void **items)
{
	omo_err e = check_len(f, n, "entries", p, d);
	if (e != OMO_E_OK)
		return e;
	*items = NULL;
	if (n > 0 && (*items = omo_arena_alloc(a, n * f->rec->size)) == NULL)
		return omo_fail(d, OMO_E_NOMEM, "%s: out of memory", path_str(p));
	*(void **)FIELD(rec, f) = *items;
	*(uint32_t *)((char *)rec + f->aux_offset) = (uint32_t)n;
	return OMO_E_OK;
}

/* ====================================================================== */
/* msgpack encoding                                                       */

static int pk_write(void *data, const char *buf, size_t len)
{
	return omo_buf_append(data, buf, len);
}

static void pk_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static omo_err enc_rec(msgpack_packer *pk, const omo_rec_desc *desc, const void *rec, path *p,
                       omo_error_detail *d);

static omo_err enc_field(msgpack_packer *pk, const omo_field_desc *f, const void *rec, path *p,
                         omo_error_detail *d)
{
	const char *v = CFIELD(rec, f);
	omo_err e = OMO_E_OK;

	switch (f->kind) {
	case OMO_K_I64:
		if ((e = check_i64(f, *(const int64_t *)v, p, d)) == OMO_E_OK)
			msgpack_pack_int64(pk, *(const int64_t *)v);
		break;
	case OMO_K_STR:
		if ((e = check_len(f, strlen(v), "bytes", p, d)) == OMO_E_OK)
			pk_str(pk, v);
		break;
	case OMO_K_BOOL:
		if (*(const bool *)v)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case OMO_K_UUID:
		msgpack_pack_bin(pk, 16);
		msgpack_pack_bin_body(pk, v, 16);
		break;
	case OMO_K_ENUM:
		if ((e = check_enum(f, *(const int *)v, p, d)) == OMO_E_OK)
			pk_str(pk, f->en->wire[*(const int *)v]);
		break;
	case OMO_K_BIN: {
		uint32_t n = *(const uint32_t *)((const char *)rec + f->aux_offset);
		if ((e = check_len(f, n, "bytes", p, d)) == OMO_E_OK) {
			msgpack_pack_bin(pk, n);
			msgpack_pack_bin_body(pk, *(const uint8_t *const *)v, n);
		}
		break;
	}
	case OMO_K_REC: e = enc_rec(pk, f->rec, v, p, d); break;
	case OMO_K_LIST: {
		uint32_t n = *(const uint32_t *)((const char *)rec + f->aux_offset);
		const char *items = *(const char *const *)v;
		if ((e = check_len(f, n, "entries", p, d)) != OMO_E_OK)
			break;
		msgpack_pack_array(pk, n);
		for (uint32_t i = 0; i < n && e == OMO_E_OK; i++) {
			int old = path_index(p, i);
			e = enc_rec(pk, f->rec, items + (size_t)i * f->rec->size, p, d);
			path_pop(p, old);
		}
		break;
	}
	}
	return e;
}

static omo_err enc_rec(msgpack_packer *pk, const omo_rec_desc *desc, const void *rec, path *p,
                       omo_error_detail *d)
{
	msgpack_pack_map(pk, desc->n_fields);
	for (uint32_t i = 0; i < desc->n_fields; i++) {
		const omo_field_desc *f = &desc->fields[i];
		int old = path_field(p, f);
		msgpack_pack_str(pk, f->name_len);
		msgpack_pack_str_body(pk, f->name, f->name_len);
		omo_err e = enc_field(pk, f, rec, p, d);
		path_pop(p, old);
		if (e != OMO_E_OK)
			return e;
	}
	return OMO_E_OK;
}

omo_err omo_rec_encode(const omo_rec_desc *desc, const void *rec, omo_buf *out, omo_error_detail *d)
{
	msgpack_packer pk;
	path p = {.depth = 0};
	size_t start = out->len;
	msgpack_packer_init(&pk, out, pk_write);
	omo_err e = enc_rec(&pk, desc, rec, &p, d);
	if (e != OMO_E_OK)
		out->len = start;
	return e;
}

omo_err omo_msg_encode(const omo_msg *msg, omo_buf *out, omo_error_detail *d)
{
	msgpack_packer pk;
	path p = {.depth = 0};
	size_t start = out->len;

	if ((unsigned)msg->type >= OMO_MSG_COUNT)
		return omo_fail(d, OMO_E_UNKNOWN_TYPE, "message type %d", (int)msg->type);
	if (msg->epoch > INT64_MAX || msg->seq > INT64_MAX)
		return omo_fail(d, OMO_E_OUT_OF_RANGE, "%s: beyond 2^63 - 1",
		                msg->epoch > INT64_MAX ? "epoch" : "seq");
	const omo_msg_desc *md = &omo_msg_descs[msg->type];
	msgpack_packer_init(&pk, out, pk_write);
	msgpack_pack_map(&pk, 9);
	pk_str(&pk, "type");
	pk_str(&pk, md->name);
	pk_str(&pk, "v");
	msgpack_pack_uint32(&pk, msg->version);
	pk_str(&pk, "id");
	msgpack_pack_bin(&pk, 16);
	msgpack_pack_bin_body(&pk, msg->id.b, 16);
	pk_str(&pk, "corr");
	msgpack_pack_bin(&pk, 16);
	msgpack_pack_bin_body(&pk, msg->corr.b, 16);
	pk_str(&pk, "producer");
	pk_str(&pk, msg->producer);
	pk_str(&pk, "epoch");
	msgpack_pack_uint64(&pk, msg->epoch);
	pk_str(&pk, "seq");
	msgpack_pack_uint64(&pk, msg->seq);
	pk_str(&pk, "ts");
	msgpack_pack_int64(&pk, msg->ts_us);
	pk_str(&pk, "body");
	omo_err e = enc_rec(&pk, md->body, &msg->body, &p, d);
	if (e == OMO_E_OK && out->len == start)
		e = omo_fail(d, OMO_E_NOMEM, "out of memory");
	if (e != OMO_E_OK)
		out->len = start;
	return e;
}

/* ====================================================================== */
/* msgpack decoding                                                       */

/*
 * scan walks raw msgpack without allocating and fails if any length or count
 * claims more than the bytes that follow, or nesting exceeds 16. msgpack-c
 * sizes its allocations from those claims, so nothing reaches it unscanned.
 */
static bool scan(const uint8_t *p, size_t len, size_t *pos, int depth)
{
	if (depth > 16 || *pos >= len)
		return false;
	uint8_t b = p[(*pos)++];
	size_t left = len - *pos;
	uint64_t n = 0, skip = 0, items = 0;
	int nb = 0;

#define BE(k) /* big-endian k-byte length at p[*pos] */                                            \
	do {                                                                                       \
		if (left < (k))                                                                    \
			return false;                                                              \
		for (int i_ = 0; i_ < (k); i_++)                                                   \
			n = (n << 8) | p[*pos + i_];                                               \
		*pos += (k);                                                                       \
		left -= (k);                                                                       \
	} while (0)

	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return true;
	if (b >= 0x80 && b <= 0x8f)
		items = 2u * (b & 0x0f);
	else if (b >= 0x90 && b <= 0x9f)
		items = b & 0x0f;
	else if (b >= 0xa0 && b <= 0xbf)
		skip = b & 0x1f;
	else {
		switch (b) {
		case 0xc4:
		case 0xd9:
			nb = 1;
			BE(1);
			skip = n;
			break;
		case 0xc5:
		case 0xda:
			nb = 2;
			BE(2);
			skip = n;
			break;
		case 0xc6:
		case 0xdb:
			nb = 4;
			BE(4);
			skip = n;
			break;
		case 0xc7:
			BE(1);
			skip = n + 1;
			break;
		case 0xc8:
			BE(2);
			skip = n + 1;
			break;
		case 0xc9:
			BE(4);
			skip = n + 1;
			break;
		case 0xca: skip = 4; break;
		case 0xcb: skip = 8; break;
		case 0xcc:
		case 0xd0: skip = 1; break;
		case 0xcd:
		case 0xd1: skip = 2; break;
		case 0xce:
		case 0xd2: skip = 4; break;
		case 0xcf:
		case 0xd3: skip = 8; break;
		case 0xd4: skip = 2; break;
		case 0xd5: skip = 3; break;
		case 0xd6: skip = 5; break;
		case 0xd7: skip = 9; break;
		case 0xd8: skip = 17; break;
		case 0xdc:
			BE(2);
			items = n;
			break;
		case 0xdd:
			BE(4);
			items = n;
			break;
		case 0xde:
			BE(2);
			items = 2 * n;
			break;
		case 0xdf:
			BE(4);
			items = 2 * n;
			break;
		default: return false; /* 0xc1 is never used */
		}
	}
#undef BE
	(void)nb;
	if (skip > left || items > left)
		return false;
	*pos += skip;
	for (uint64_t i = 0; i < items; i++)
		if (!scan(p, len, pos, depth + 1))
			return false;
	return true;
}

size_t omo_msg_size(const void *data, size_t len)
{
	size_t pos = 0;
	return len <= 2 * (size_t)OMO_MAX_MESSAGE && scan(data, len, &pos, 0) ? pos : 0;
}

static bool key_is(const msgpack_object *k, const char *name)
{
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(name) &&
	       memcmp(k->via.str.ptr, name, k->via.str.size) == 0;
}

static omo_err wrong_type(const path *p, const char *want, omo_error_detail *d)
{
	return omo_fail(d, OMO_E_WRONG_TYPE, "%s: expected %s", p->depth ? path_str(p) : "message",
	                want);
}

static bool obj_i64(const msgpack_object *o, int64_t *v)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
		*v = (int64_t)o->via.u64;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return true;
	}
	return false;
}

static omo_err dec_rec(const msgpack_object *o, const omo_rec_desc *desc, void *rec, omo_arena *a,
                       path *p, omo_error_detail *d);

static omo_err dec_field(const msgpack_object *o, const omo_field_desc *f, void *rec, omo_arena *a,
                         path *p, omo_error_detail *d)
{
	char *v = FIELD(rec, f);
	switch (f->kind) {
	case OMO_K_I64: {
		int64_t x;
		if (!obj_i64(o, &x))
			return wrong_type(p, "an integer", d);
		omo_err e = check_i64(f, x, p, d);
		if (e == OMO_E_OK)
			*(int64_t *)v = x;
		return e;
	}
	case OMO_K_STR:
		if (o->type != MSGPACK_OBJECT_STR)
			return wrong_type(p, "a string", d);
		return set_str(f, rec, o->via.str.ptr, o->via.str.size, p, d);
	case OMO_K_BOOL:
		if (o->type != MSGPACK_OBJECT_BOOLEAN)
			return wrong_type(p, "a boolean", d);
		*(bool *)v = o->via.boolean;
		return OMO_E_OK;
	case OMO_K_UUID:
		if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != 16)
			return wrong_type(p, "a 16-byte bin (UUID)", d);
		memcpy(v, o->via.bin.ptr, 16);
		return OMO_E_OK;
	case OMO_K_ENUM:
		if (o->type != MSGPACK_OBJECT_STR)
			return wrong_type(p, "a string (enumeration)", d);
		return set_enum(f, rec, o->via.str.ptr, o->via.str.size, p, d);
	case OMO_K_BIN: {
		if (o->type != MSGPACK_OBJECT_BIN)
			return wrong_type(p, "a bin", d);
		omo_err e = check_len(f, o->via.bin.size, "bytes", p, d);
		if (e != OMO_E_OK)
			return e;
		uint8_t *copy = omo_arena_alloc(a, o->via.bin.size);
		if (copy == NULL)
			return omo_fail(d, OMO_E_NOMEM, "%s: out of memory", path_str(p));
		memcpy(copy, o->via.bin.ptr, o->via.bin.size);
		*(uint8_t **)v = copy;
		*(uint32_t *)((char *)rec + f->aux_offset) = o->via.bin.size;
		return OMO_E_OK;
	}
	case OMO_K_REC: return dec_rec(o, f->rec, v, a, p, d);
	case OMO_K_LIST: {
		if (o->type != MSGPACK_OBJECT_ARRAY)
			return wrong_type(p, "an array", d);
		void *items;
		omo_err e = alloc_list(f, rec, o->via.array.size, a, p, d, &items);
		for (uint32_t i = 0; i < o->via.array.size && e == OMO_E_OK; i++) {
			int old = path_index(p, i);
			e = dec_rec(&o->via.array.ptr[i], f->rec,
			            (char *)items + (size_t)i * f->rec->size, a, p, d);
			path_pop(p, old);
		}
		return e;
	}
	}
	return omo_fail(d, OMO_E_INTERNAL, "%s: unknown kind", path_str(p));
}

static omo_err dec_rec(const msgpack_object *o, const omo_rec_desc *desc, void *rec, omo_arena *a,
                       path *p, omo_error_detail *d)
{
	uint64_t seen = 0;
	if (o->type != MSGPACK_OBJECT_MAP)
		return wrong_type(p, "a map", d);
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		const omo_field_desc *f = NULL;
		uint32_t j;
		if (kv->key.type != MSGPACK_OBJECT_STR)
			return omo_fail(d, OMO_E_WRONG_TYPE, "%s: a key is not a string",
			                p->depth ? path_str(p) : desc->name);
		for (j = 0; j < desc->n_fields && f == NULL; j++)
			if (kv->key.via.str.size == desc->fields[j].name_len &&
			    memcmp(kv->key.via.str.ptr, desc->fields[j].name,
			           desc->fields[j].name_len) == 0)
				f = &desc->fields[j];
		if (f == NULL)
			return omo_fail(
			    d, OMO_E_UNKNOWN_FIELD, "%s%s\"%.*s\" is not a field of %s",
			    path_str(p), p->depth ? ": " : "",
			    (int)(kv->key.via.str.size > 40 ? 40 : kv->key.via.str.size),
			    kv->key.via.str.ptr, desc->name);
		j--;
		if (seen & (1ull << j))
			return omo_fail(d, OMO_E_MALFORMED, "%s: field \"%s\" appears twice",
			                p->depth ? path_str(p) : desc->name, f->name);
		seen |= 1ull << j;
		int old = path_field(p, f);
		omo_err e = dec_field(&kv->val, f, rec, a, p, d);
		path_pop(p, old);
		if (e != OMO_E_OK)
			return e;
	}
	for (uint32_t j = 0; j < desc->n_fields; j++)
		if (desc->fields[j].required && !(seen & (1ull << j))) {
			int old = path_field(p, &desc->fields[j]);
			omo_err e = omo_fail(d, OMO_E_MISSING_FIELD, "%s: required", path_str(p));
			path_pop(p, old);
			return e;
		}
	return OMO_E_OK;
}

/* unpack scans then unpacks exactly one msgpack object filling all of data. */
static omo_err unpack(const void *data, size_t len, msgpack_unpacked *u, omo_error_detail *d)
{
	size_t pos = 0, off = 0;
	if (len > OMO_MAX_MESSAGE)
		return omo_fail(d, OMO_E_TOO_LARGE, "%zu bytes; the limit is %u", len,
		                OMO_MAX_MESSAGE);
	if (!scan(data, len, &pos, 0) || pos != len)
		return omo_fail(d, OMO_E_MALFORMED, "not one well-formed msgpack value");
	msgpack_unpacked_init(u);
	if (msgpack_unpack_next(u, data, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
		msgpack_unpacked_destroy(u);
		return omo_fail(d, OMO_E_MALFORMED, "msgpack could not be unpacked");
	}
	return OMO_E_OK;
}

omo_err omo_rec_decode(const omo_rec_desc *desc, const void *data, size_t len, void *rec,
                       omo_arena *arena, omo_error_detail *d)
{
	msgpack_unpacked u;
	path p = {.depth = 0};
	omo_err e = unpack(data, len, &u, d);
	if (e != OMO_E_OK)
		return e;
	memset(rec, 0, desc->size);
	e = dec_rec(&u.data, desc, rec, arena, &p, d);
	msgpack_unpacked_destroy(&u);
	return e;
}

static omo_err dec_envelope(const msgpack_object *o, omo_msg *msg, omo_error_detail *d)
{
	static const char *const keys[] = {"type",  "v",   "id", "corr", "producer",
	                                   "epoch", "seq", "ts", "body"};
	const msgpack_object *type = NULL, *body = NULL, *v = NULL;
	bool have_id = false;
	unsigned seen = 0;

	if (o->type != MSGPACK_OBJECT_MAP)
		return omo_fail(d, OMO_E_WRONG_TYPE, "message: expected a map (the envelope)");
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key, *val = &o->via.map.ptr[i].val;
		int64_t x = 0;
		for (unsigned j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
			if (key_is(k, keys[j])) {
				if (seen & (1u << j))
					return omo_fail(d, OMO_E_MALFORMED,
					                "envelope: \"%s\" appears twice", keys[j]);
				seen |= 1u << j;
			}
		if (key_is(k, "type"))
			type = val;
		else if (key_is(k, "v"))
			v = val;
		else if (key_is(k, "body"))
			body = val;
		else if (key_is(k, "id") || key_is(k, "corr")) {
			if (val->type != MSGPACK_OBJECT_BIN || val->via.bin.size != 16)
				return omo_fail(d, OMO_E_WRONG_TYPE,
				                "%.*s: expected a 16-byte bin (UUID)",
				                (int)k->via.str.size, k->via.str.ptr);
			bool is_id = key_is(k, "id");
			memcpy(is_id ? msg->id.b : msg->corr.b, val->via.bin.ptr, 16);
			have_id |= is_id;
		} else if (key_is(k, "producer")) {
			if (val->type != MSGPACK_OBJECT_STR ||
			    val->via.str.size > OMO_PRODUCER_MAX ||
			    memchr(val->via.str.ptr, '\0', val->via.str.size) != NULL)
				return omo_fail(d, OMO_E_WRONG_TYPE,
				                "producer: expected a string of at most %d bytes",
				                OMO_PRODUCER_MAX);
			memcpy(msg->producer, val->via.str.ptr, val->via.str.size);
			msg->producer[val->via.str.size] = '\0';
		} else if (key_is(k, "epoch") || key_is(k, "seq") || key_is(k, "ts")) {
			if (!obj_i64(val, &x) || (x < 0 && !key_is(k, "ts")))
				return omo_fail(d, OMO_E_WRONG_TYPE, "%.*s: expected an integer",
				                (int)k->via.str.size, k->via.str.ptr);
			if (key_is(k, "epoch"))
				msg->epoch = (uint64_t)x;
			else if (key_is(k, "seq"))
				msg->seq = (uint64_t)x;
			else
				msg->ts_us = x;
		} else if (k->type == MSGPACK_OBJECT_STR)
			return omo_fail(d, OMO_E_UNKNOWN_FIELD, "\"%.*s\" is not an envelope field",
			                (int)(k->via.str.size > 40 ? 40 : k->via.str.size),
			                k->via.str.ptr);
		else
			return omo_fail(d, OMO_E_WRONG_TYPE, "message: a key is not a string");
	}
	if (type == NULL)
		return omo_fail(d, OMO_E_MISSING_FIELD, "type: required");
	if (type->type != MSGPACK_OBJECT_STR)
		return omo_fail(d, OMO_E_WRONG_TYPE, "type: expected a string");
	msg->type = OMO_MSG_COUNT;
	for (int t = 0; t < OMO_MSG_COUNT; t++)
		if (key_is(type, omo_msg_descs[t].name))
			msg->type = (omo_msg_type)t;
	if (msg->type == OMO_MSG_COUNT)
		return omo_fail(d, OMO_E_UNKNOWN_TYPE, "type: \"%.*s\" is not a message type",
		                (int)(type->via.str.size > 40 ? 40 : type->via.str.size),
		                type->via.str.ptr);
	if (v == NULL)
		return omo_fail(d, OMO_E_MISSING_FIELD, "v: required");
	int64_t ver;
	if (!obj_i64(v, &ver))
		return omo_fail(d, OMO_E_WRONG_TYPE, "v: expected an integer");
	msg->version = ver >= 0 && ver <= UINT32_MAX ? (uint32_t)ver : 0;
	if (ver != (int64_t)omo_msg_descs[msg->type].version)
		return omo_fail(d, OMO_E_BAD_VERSION, "%s: version %lld, this service speaks %u",
		                omo_msg_descs[msg->type].name, (long long)ver,
		                omo_msg_descs[msg->type].version);
	if (!have_id)
		return omo_fail(d, OMO_E_MISSING_FIELD, "id: required");
	if (body == NULL)
		return omo_fail(d, OMO_E_MISSING_FIELD, "body: required");
	path p = {.depth = 0};
	return dec_rec(body, omo_msg_descs[msg->type].body, &msg->body, &msg->arena, &p, d);
}

omo_err omo_msg_decode(const void *data, size_t len, omo_msg *msg, omo_error_detail *d)
{
	msgpack_unpacked u;
	memset(msg, 0, sizeof(*msg));
	msg->type = OMO_MSG_COUNT;
	omo_err e = unpack(data, len, &u, d);
	if (e != OMO_E_OK)
		return e;
	e = dec_envelope(&u.data, msg, d);
	msgpack_unpacked_destroy(&u);
	if (e != OMO_E_OK)
		omo_arena_fini(&msg->arena);
	return e;
}

omo_err omo_msg_decode_reply(const void *data, size_t len, const omo_msg *req, omo_msg *reply,
                             bool *ours, omo_error_detail *d)
{
	omo_err e = omo_msg_decode(data, len, reply, d);
	*ours = true;
	if (e != OMO_E_OK)
		return e;
	if (memcmp(&reply->corr, &req->id, sizeof(req->id)) != 0) {
		omo_msg_fini(reply);
		memset(reply, 0, sizeof(*reply));
		*ours = false;
		return OMO_E_OK;
	}
	if (reply->type != OMO_MSG_ERROR)
		return OMO_E_OK;
	omo_err code = omo_err_from_name(reply->body.error.code);
	if (code == OMO_E_COUNT || code == OMO_E_OK)
		code = OMO_E_INTERNAL;
	return omo_fail(d, code, "%s", reply->body.error.message);
}

/* ====================================================================== */
/* ids                                                                    */

/*
 * Ids are UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 bits from
 * a per-thread generator seeded once from the system's random source (a
 * counter run through a mixing function: unique, random-looking, and no
 * system call per id). Time order matters for the stores: records keyed by
 * id are appended near the right edge of the B-tree, so a batch dirties a
 * few pages instead of one leaf per record.
 */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void put_be64(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

void omo_uuid_generate(omo_uuid *u)
{
	static _Thread_local uint64_t seed[2], counter;
	static _Thread_local bool seeded;
	struct timeval tv;
	if (!seeded) {
		uuid_t r;
		uuid_generate_random(r);
		memcpy(seed, r, sizeof(seed));
		seeded = true;
	}
	gettimeofday(&tv, NULL);
	uint64_t ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	counter++;
	uint64_t hi = mix64(seed[0] + counter), lo = mix64(seed[1] ^ hi) ^ counter;
	put_be64(u->b, ms << 16 | (hi & 0xffff));
	put_be64(u->b + 8, lo);
	u->b[6] = (uint8_t)((u->b[6] & 0x0f) | 0x70); /* version 7: time-ordered */
	u->b[8] = (uint8_t)((u->b[8] & 0x3f) | 0x80); /* RFC 9562 variant */
}

bool omo_uuid_is_nil(const omo_uuid *u)
{
	static const omo_uuid nil;
	return memcmp(u, &nil, sizeof(nil)) == 0;
}

void omo_uuid_format(const omo_uuid *u, char out[37])
{
	uuid_unparse_lower(u->b, out);
}

bool omo_uuid_parse(const char *s, omo_uuid *u)
{
	return strlen(s) == 36 && uuid_parse(s, u->b) == 0;
}
