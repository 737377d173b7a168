/*
 * yamldoc.c - YAML documents as jansson trees, with libyaml's event parser.
 * Only the data subset people write by hand: mappings, sequences, scalars.
 */
#include "yamldoc.h"

#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

enum { MAX_DEPTH = 64 };

typedef struct {
	yaml_parser_t parser;
	char *err;
	size_t errlen;
	bool failed;
} reader;

static void fail(reader *r, size_t line, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = true;
	int n = snprintf(r->err, r->errlen, "line %zu: ", line + 1);
	if (n < 0 || (size_t)n >= r->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static bool next(reader *r, yaml_event_t *ev)
{
	if (yaml_parser_parse(&r->parser, ev))
		return true;
	fail(r, r->parser.problem_mark.line, "%s",
	     r->parser.problem ? r->parser.problem : "bad YAML");
	return false;
}

static bool matches(const char *pattern, const char *s)
{
	regex_t re;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	bool ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* YAML 1.2 core schema resolution of a plain scalar. */
static json_t *plain_scalar(reader *r, const char *s, size_t line)
{
	if (matches("^(|~|null|Null|NULL)$", s))
		return json_null();
	if (matches("^(true|True|TRUE)$", s))
		return json_true();
	if (matches("^(false|False|FALSE)$", s))
		return json_false();
	int base = matches("^[-+]?[0-9]+$", s)      ? 10
	           : matches("^0x[0-9a-fA-F]+$", s) ? 16
	           : matches("^0o[0-7]+$", s)       ? 8
	                                            : 0;
	if (base) {
		errno = 0;
		char *end;
		long long v = strtoll(base == 8 ? s + 2 : s, &end, base);
		if (errno == ERANGE) {
			fail(r, line, "integer %s is out of range", s);
			return NULL;
		}
		return json_integer((json_int_t)v);
	}
	if (matches("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$", s))
		return json_real(strtod(s, NULL));
	if (matches("^[-+]?\\.(inf|Inf|INF)$|^\\.(nan|NaN|NAN)$", s)) {
		fail(r, line, "%s is not a finite number", s);
		return NULL;
	}
	return json_string(s);
}

static json_t *node(reader *r, yaml_event_t *ev, int depth);

/* Reads items until the closing event; ev is the opening event. */
static json_t *collection(reader *r, yaml_event_t *ev, int depth)
{
	bool is_map = ev->type == YAML_MAPPING_START_EVENT;
	yaml_event_type_t end = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	json_t *out = is_map ? json_object() : json_array();
	for (;;) {
		yaml_event_t key;
		if (!next(r, &key))
			break;
		if (key.type == end) {
			yaml_event_delete(&key);
			return out;
		}
		size_t line = key.start_mark.line;
		if (!is_map) {
			json_t *item = node(r, &key, depth + 1);
			yaml_event_delete(&key);
			if (!item)
				break;
			json_array_append_new(out, item);
			continue;
		}
		if (key.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&key);
			fail(r, line, "a mapping key must be a plain word or string");
			break;
		}
		char *name = strdup((const char *)key.data.scalar.value);
		yaml_event_delete(&key);
		yaml_event_t val;
		json_t *value = NULL;
		if (next(r, &val)) {
			value = node(r, &val, depth + 1);
			yaml_event_delete(&val);
		}
		if (value && json_object_get(out, name)) {
			fail(r, line, "key \"%s\" appears twice", name);
			json_decref(value);
			value = NULL;
		}
		if (value)
			json_object_set_new(out, name, value);
		free(name);
		if (!value)
			break;
	}
	json_decref(out);
	return NULL;
}

static json_t *node(reader *r, yaml_event_t *ev, int depth)
{
	size_t line = ev->start_mark.line;
	if (depth > MAX_DEPTH) {
		fail(r, line, "nested deeper than %d", MAX_DEPTH);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.tag) {
			fail(r, line, "tags such as %s are not supported", ev->data.scalar.tag);
			return NULL;
		}
		if (strlen((const char *)ev->data.scalar.value) != ev->data.scalar.length) {
			fail(r, line, "a NUL character inside a value");
			return NULL;
		}
		if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			return json_string((const char *)ev->data.scalar.value);
		return plain_scalar(r, (const char *)ev->data.scalar.value, line);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if ((ev->type == YAML_SEQUENCE_START_EVENT && ev->data.sequence_start.tag) ||
		    (ev->type == YAML_MAPPING_START_EVENT && ev->data.mapping_start.tag)) {
			fail(r, line, "tags are not supported");
			return NULL;
		}
		return collection(r, ev, depth);
	case YAML_ALIAS_EVENT: fail(r, line, "aliases (*name) are not supported"); return NULL;
	default: fail(r, line, "unexpected YAML structure"); return NULL;
	}
}

json_t *omo_yaml_parse(const char *text, size_t len, char *err, size_t errlen)
{
	reader r = {.err = err, .errlen = errlen};
	if (errlen)
		err[0] = '\0';
	if (!yaml_parser_initialize(&r.parser)) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
	json_t *doc = NULL;
	yaml_event_t ev;
	/* stream start, document start, the root node, document end, stream end */
	while (!r.failed && next(&r, &ev)) {
		yaml_event_type_t type = ev.type;
		if (type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (type == YAML_STREAM_START_EVENT || type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if (type == YAML_DOCUMENT_START_EVENT) {
			if (doc)
				fail(&r, ev.start_mark.line, "only one document per file");
			yaml_event_delete(&ev);
			continue;
		}
		json_t *root = node(&r, &ev, 0);
		yaml_event_delete(&ev);
		if (root)
			doc = root;
	}
	yaml_parser_delete(&r.parser);
	if (r.failed) {
		json_decref(doc);
		return NULL;
	}
	return doc ? doc : json_null();
}

json_t *omo_yaml_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[65536];
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + n > cap) {
			cap = (len + n) * 2;
			char *grown = realloc(text, cap);
			if (!grown) {
				free(text);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory", path);
				return NULL;
			}
			text = grown;
		}
		memcpy(text + len, chunk, n);
		len += n;
	}
	fclose(f);
	char msg[256];
	json_t *doc = omo_yaml_parse(text ? text : "", len, msg, sizeof msg);
	free(text);
	if (!doc)
		snprintf(err, errlen, "%s: %s", path, msg);
	return doc;
}
