/*
 * json.c - records as JSON, for people (the CLI) and for JSON partners.
 * Same descriptors and the same limits as the msgpack codec; keys are the
 * field names, UUIDs are their 36-character text, enumerations their names.
 */
#include "schema.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(rec, f)  ((char *)(rec) + (f)->offset)
#define CFIELD(rec, f) ((const char *)(rec) + (f)->offset)
#define COUNT(rec, f)  (*(const uint32_t *)((const char *)(rec) + (f)->aux_offset))

static json_t *rec_to_json(const omo_rec_desc *desc, const void *rec);

static json_t *field_to_json(const omo_field_desc *f, const void *rec)
{
	const char *v = CFIELD(rec, f);
	char id[37];
	switch (f->kind) {
	case OMO_K_I64: return json_integer(*(const int64_t *)v);
	case OMO_K_STR: return json_string(v);
	case OMO_K_BOOL: return json_boolean(*(const bool *)v);
	case OMO_K_UUID: omo_uuid_format((const omo_uuid *)v, id); return json_string(id);
	case OMO_K_ENUM: return json_string(omo_enum_name(f->en, *(const int *)v));
	case OMO_K_BIN:
		return json_integer(COUNT(rec, f)); /* bytes are not for people; say how many */
	case OMO_K_REC: return rec_to_json(f->rec, v);
	case OMO_K_LIST: {
		json_t *a = json_array();
		const char *items = *(const char *const *)v;
		for (uint32_t i = 0; i < COUNT(rec, f); i++)
			json_array_append_new(
			    a, rec_to_json(f->rec, items + (size_t)i * f->rec->size));
		return a;
	}
	}
	return json_null();
}

static json_t *rec_to_json(const omo_rec_desc *desc, const void *rec)
{
	json_t *o = json_object();
	for (uint32_t i = 0; i < desc->n_fields; i++)
		json_object_set_new(o, desc->fields[i].name, field_to_json(&desc->fields[i], rec));
	return o;
}

char *omo_rec_to_json(const omo_rec_desc *desc, const void *rec, bool pretty)
{
	json_t *o = rec_to_json(desc, rec);
	char *s = json_dumps(o, (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

/* ---- parsing ---------------------------------------------------------- */

static omo_err rec_from_json(json_t *o, const omo_rec_desc *desc, void *rec, omo_arena *a,
                             const char *where, omo_error_detail *d);

static omo_err field_from_json(json_t *j, const omo_field_desc *f, void *rec, omo_arena *a,
                               const char *where, omo_error_detail *d)
{
	char *v = FIELD(rec, f);
	switch (f->kind) {
	case OMO_K_I64: {
		if (!json_is_integer(j))
			return omo_fail(d, OMO_E_WRONG_TYPE, "%s: expected an integer", where);
		int64_t x = json_integer_value(j);
		if (x < f->min || x > f->max)
			return omo_fail(d, OMO_E_OUT_OF_RANGE, "%s: %lld is outside %lld..%lld",
			                where, (long long)x, (long long)f->min, (long long)f->max);
		*(int64_t *)v = x;
		return OMO_E_OK;
	}
	case OMO_K_STR: {
		if (!json_is_string(j))
			return omo_fail(d, OMO_E_WRONG_TYPE, "%s: expected a string", where);
		size_t n = json_string_length(j);
		if ((int64_t)n < f->min || (int64_t)n > f->max)
			return omo_fail(d, OMO_E_OUT_OF_RANGE, "%s: %zu bytes, allowed %lld..%lld",
			                where, n, (long long)f->min, (long long)f->max);
		if (memchr(json_string_value(j), '\0', n) != NULL)
			return omo_fail(d, OMO_E_WRONG_TYPE, "%s: text contains a NUL byte", where);
		memcpy(v, json_string_value(j), n + 1);
		return OMO_E_OK;
	}
	case OMO_K_BOOL:
		if (!json_is_boolean(j))
			return omo_fail(d, OMO_E_WRONG_TYPE, "%s: expected true or false", where);
		*(bool *)v = json_is_true(j);
		return OMO_E_OK;
	case OMO_K_UUID:
		if (!json_is_string(j) || !omo_uuid_parse(json_string_value(j), (omo_uuid *)v))
			return omo_fail(d, OMO_E_WRONG_TYPE, "%s: expected a UUID", where);
		return OMO_E_OK;
	case OMO_K_ENUM: {
		int e = json_is_string(j)
		            ? omo_enum_parse(f->en, json_string_value(j), json_string_length(j))
		            : -1;
		if (e < 0)
			return omo_fail(d, OMO_E_BAD_ENUM, "%s: not a %s", where, f->en->name);
		*(int *)v = e;
		return OMO_E_OK;
	}
	case OMO_K_BIN:
		return omo_fail(d, OMO_E_WRONG_TYPE, "%s: bytes cannot come from JSON", where);
	case OMO_K_REC: return rec_from_json(j, f->rec, v, a, where, d);
	case OMO_K_LIST: {
		if (!json_is_array(j))
			return omo_fail(d, OMO_E_WRONG_TYPE, "%s: expected an array", where);
		size_t n = json_array_size(j);
		if ((int64_t)n < f->min || (int64_t)n > f->max)
			return omo_fail(d, OMO_E_OUT_OF_RANGE,
			                "%s: %zu entries, allowed %lld..%lld", where, n,
			                (long long)f->min, (long long)f->max);
		char *items = n ? omo_arena_alloc(a, n * f->rec->size) : NULL;
		if (n && items == NULL)
			return omo_fail(d, OMO_E_NOMEM, "%s: out of memory", where);
		*(char **)v = items;
		*(uint32_t *)((char *)rec + f->aux_offset) = (uint32_t)n;
		for (size_t i = 0; i < n; i++) {
			char sub[160];
			snprintf(sub, sizeof(sub), "%.100s[%zu]", where, i);
			omo_err e = rec_from_json(json_array_get(j, i), f->rec,
			                          items + i * f->rec->size, a, sub, d);
			if (e != OMO_E_OK)
				return e;
		}
		return OMO_E_OK;
	}
	}
	return omo_fail(d, OMO_E_INTERNAL, "%s: unknown kind", where);
}

static omo_err rec_from_json(json_t *o, const omo_rec_desc *desc, void *rec, omo_arena *a,
                             const char *where, omo_error_detail *d)
{
	const char *key;
	json_t *val;
	if (!json_is_object(o))
		return omo_fail(d, OMO_E_WRONG_TYPE, "%s: expected an object", where);
	json_object_foreach(o, key, val)
	{
		uint32_t i;
		for (i = 0; i < desc->n_fields; i++)
			if (strcmp(desc->fields[i].name, key) == 0)
				break;
		if (i == desc->n_fields)
			return omo_fail(d, OMO_E_UNKNOWN_FIELD,
			                "%s: \"%.40s\" is not a field of %s", where, key,
			                desc->name);
	}
	for (uint32_t i = 0; i < desc->n_fields; i++) {
		const omo_field_desc *f = &desc->fields[i];
		char sub[160];
		snprintf(sub, sizeof(sub), "%.100s%s%s", where, where[0] ? "." : "", f->name);
		json_t *j = json_object_get(o, f->name);
		if (j == NULL) {
			if (f->required)
				return omo_fail(d, OMO_E_MISSING_FIELD, "%s: required", sub);
			continue;
		}
		omo_err e = field_from_json(j, f, rec, a, sub, d);
		if (e != OMO_E_OK)
			return e;
	}
	return OMO_E_OK;
}

omo_err omo_rec_from_json(const omo_rec_desc *desc, const char *text, size_t len, void *rec,
                          omo_arena *arena, omo_error_detail *d)
{
	json_error_t jerr;
	if (len > OMO_MAX_MESSAGE)
		return omo_fail(d, OMO_E_TOO_LARGE, "%zu bytes; the limit is %u", len,
		                OMO_MAX_MESSAGE);
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return omo_fail(d, OMO_E_MALFORMED, "JSON line %d column %d: %s", jerr.line,
		                jerr.column, jerr.text);
	memset(rec, 0, desc->size);
	omo_err e = rec_from_json(o, desc, rec, arena, "", d);
	json_decref(o);
	return e;
}
