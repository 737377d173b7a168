/*
 * rules.c - rule sets: reading, checking, hashing and looking up.
 *
 * A rule set file (YAML or JSON) reads:
 *
 *   name: demo                       # required, with version
 *   version: 3
 *   zones: [{max_km: 300, transit_days: 1, base_cost: 650, per_kg: 45}, ...]
 *   strategies:                      # in order; the first that serves an order is used
 *     - name: pickup
 *       channels: [web, mobile]      # omitted: every channel
 *       fulfillments: [pickup_in_store]
 *       filters: [exclusions, online, capability, ...]
 *       objective: {distance: 1, shipping: 2, package: 400}
 *       max_splits: 2                # 0 or omitted: no limit
 *       ship_complete: false
 *       line_split: true
 *       pickup_transfer: true
 *   nodes: {DC-NJ: {handling_cost: 150, cutoff: "15:00", processing_days: 1,
 *                   capacity_orders: 5000, capacity_lines: 20000, hazmat: true,
 *                   transfer: true, make_capacity: 0, make_days: 0}}
 *   skus: {SKU-0001: {hazmat: true, bom: {RAW-1: 2}}}
 *   stock: [{node: "*", sku: "*", safety: 2, target: 40, held: 3, for: [store]}]
 *
 * Every key is checked: an unknown one is an error, so a typo never turns a
 * filter off silently.
 */
#include "rules.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "yamldoc.h"

static const char *const rt_filter_names[] = {
#define RT_X_FILTER_NAME(id, name, doc) name,
    RT_FILTER_LIST(RT_X_FILTER_NAME)};

const char *rt_filter_name(unsigned bit)
{
	return bit < RT_FILTER_COUNT ? rt_filter_names[bit] : "unknown";
}

int rt_filter_parse(const char *name)
{
	for (int i = 0; i < RT_FILTER_COUNT; i++)
		if (strcmp(rt_filter_names[i], name) == 0)
			return i;
	return -1;
}

/* ---- reading helpers ------------------------------------------------- */

/* A parse in progress: where the error goes. */
typedef struct rd {
	char *err;
	size_t errlen;
} rd;

static int rd_fail(rd *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* rd_keys refuses any key of obj not in the NULL-terminated list. */
static int rd_keys(rd *r, const char *where, const json_t *obj, const char *const *keys)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return rd_fail(r, "%s: expected a mapping", where);
	json_object_foreach((json_t *)obj, k, v)
	{
		const char *const *p = keys;
		while (*p != NULL && strcmp(*p, k) != 0)
			p++;
		if (*p == NULL)
			return rd_fail(r, "%s: unknown key \"%s\"", where, k);
	}
	return 0;
}

static int rd_int(rd *r, const char *where, const json_t *obj, const char *key, int64_t min,
                  int64_t max, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return rd_fail(r, "%s: %s must be an integer from %lld to %lld", where, key,
		               (long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

static int rd_int32(rd *r, const char *where, const json_t *obj, const char *key, int32_t max,
                    int32_t *out)
{
	int64_t v = *out;

	if (rd_int(r, where, obj, key, 0, max, &v) != 0)
		return -1;
	*out = (int32_t)v;
	return 0;
}

static int rd_bool(rd *r, const char *where, const json_t *obj, const char *key, bool *out)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return rd_fail(r, "%s: %s must be true or false", where, key);
	*out = json_is_true(v);
	return 0;
}

static int rd_str(rd *r, const char *where, const json_t *obj, const char *key, char *out,
                  size_t cap, bool required)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return required ? rd_fail(r, "%s: %s is required", where, key) : 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap)
		return rd_fail(r, "%s: %s must be a string of 1 to %zu bytes", where, key, cap - 1);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* rd_enum_set reads a list of enumeration names into a bit set; absent: all. */
static int rd_enum_set(rd *r, const char *where, const json_t *obj, const char *key,
                       const omo_enum_desc *en, uint32_t *out)
{
	const json_t *list = json_object_get(obj, key);
	size_t i;
	json_t *v;

	*out = (1u << en->count) - 1;
	if (list == NULL)
		return 0;
	if (!json_is_array(list) || json_array_size(list) == 0)
		return rd_fail(r, "%s: %s must be a non-empty list", where, key);
	*out = 0;
	json_array_foreach(list, i, v)
	{
		int e = json_is_string(v)
		            ? omo_enum_parse(en, json_string_value(v), json_string_length(v))
		            : -1;
		if (e < 0)
			return rd_fail(r, "%s: %s[%zu] is not a known %s", where, key, i, en->name);
		*out |= 1u << e;
	}
	return 0;
}

/* rd_cutoff reads "HH:MM" into minutes of the day. */
static int rd_cutoff(rd *r, const char *where, const json_t *obj, int32_t *out)
{
	const json_t *v = json_object_get(obj, "cutoff");
	unsigned h, m;
	char tail;

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || sscanf(json_string_value(v), "%2u:%2u%c", &h, &m, &tail) != 2 ||
	    h > 23 || m > 59)
		return rd_fail(r, "%s: cutoff must be \"HH:MM\"", where);
	*out = (int32_t)(h * 60 + m);
	return 0;
}

/* ---- sections -------------------------------------------------------- */

static int rd_zones(rd *r, const json_t *list, rt_rules *out)
{
	static const char *const keys[] = {"max_km", "transit_days", "base_cost", "per_kg", NULL};
	char where[48];
	size_t i;
	json_t *z;

	if (list == NULL)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > RT_MAX_ZONES)
		return rd_fail(r, "zones: must be a list of at most %d zones", RT_MAX_ZONES);
	json_array_foreach(list, i, z)
	{
		rt_zone *zone = &out->zones[i];
		snprintf(where, sizeof(where), "zones[%zu]", i);
		if (rd_keys(r, where, z, keys) != 0 ||
		    rd_int(r, where, z, "max_km", 1, 100000, &zone->max_km) != 0 ||
		    rd_int32(r, where, z, "transit_days", 365, &zone->transit_days) != 0 ||
		    rd_int(r, where, z, "base_cost", 0, 100000000, &zone->base_cost) != 0 ||
		    rd_int(r, where, z, "per_kg", 0, 100000000, &zone->per_kg) != 0)
			return -1;
		if (zone->max_km == 0)
			return rd_fail(r, "%s: max_km is required", where);
		if (i > 0 && zone->max_km <= out->zones[i - 1].max_km)
			return rd_fail(r, "%s: zones must be in ascending max_km", where);
		out->n_zones++;
	}
	return 0;
}

static int rd_filters(rd *r, const char *where, const json_t *list, uint32_t *out)
{
	size_t i;
	json_t *v;

	if (list == NULL)
		return 0;
	if (!json_is_array(list))
		return rd_fail(r, "%s: filters must be a list", where);
	json_array_foreach(list, i, v)
	{
		int f = json_is_string(v) ? rt_filter_parse(json_string_value(v)) : -1;
		if (f < 0)
			return rd_fail(r, "%s: filters[%zu] is not a known filter", where, i);
		*out |= 1u << f;
	}
	return 0;
}

static int rd_objective(rd *r, const char *where, const json_t *obj, rt_weights *w)
{
	static const char *const keys[] = {
#define RT_X_OBJ_KEY(name, doc) #name,
	    RT_OBJECTIVE_LIST(RT_X_OBJ_KEY) NULL};
	char at[64];

	if (obj == NULL)
		return 0;
	snprintf(at, sizeof(at), "%s.objective", where);
	if (rd_keys(r, at, obj, keys) != 0)
		return -1;
#define RT_X_OBJ_READ(name, doc)                                                                   \
	if (rd_int(r, at, obj, #name, 0, 1000000, &w->name) != 0)                                  \
		return -1;
	RT_OBJECTIVE_LIST(RT_X_OBJ_READ)
	return 0;
}

static int rd_strategies(rd *r, const json_t *list, rt_rules *out)
{
	static const char *const keys[] = {
	    "name",       "channels",      "fulfillments", "filters",         "objective",
	    "max_splits", "ship_complete", "line_split",   "pickup_transfer", NULL};
	char where[48];
	size_t i;
	json_t *s;

	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > RT_MAX_STRATEGIES)
		return rd_fail(r, "strategies: must be a list of 1 to %d strategies",
		               RT_MAX_STRATEGIES);
	json_array_foreach(list, i, s)
	{
		rt_strategy *st = &out->strategies[i];
		int64_t splits = 0;
		snprintf(where, sizeof(where), "strategies[%zu]", i);
		if (rd_keys(r, where, s, keys) != 0 ||
		    rd_str(r, where, s, "name", st->name, sizeof(st->name), true) != 0 ||
		    rd_enum_set(r, where, s, "channels", &omo_enum_channel, &st->channels) != 0 ||
		    rd_enum_set(r, where, s, "fulfillments", &omo_enum_fulfillment,
		                &st->fulfillments) != 0 ||
		    rd_filters(r, where, json_object_get(s, "filters"), &st->filters) != 0 ||
		    rd_objective(r, where, json_object_get(s, "objective"), &st->weights) != 0 ||
		    rd_int(r, where, s, "max_splits", 0, RT_MAX_ALLOCS, &splits) != 0 ||
		    rd_bool(r, where, s, "ship_complete", &st->ship_complete) != 0 ||
		    rd_bool(r, where, s, "line_split", &st->line_split) != 0 ||
		    rd_bool(r, where, s, "pickup_transfer", &st->pickup_transfer) != 0)
			return -1;
		st->max_splits = (uint32_t)splits;
		out->n_strategies++;
	}
	/* Every order must find a strategy: a gap is a mistake in the file. */
	for (unsigned c = 0; c < omo_enum_channel.count; c++)
		for (unsigned f = 0; f < omo_enum_fulfillment.count; f++)
			if (rt_rules_select(out, (int)c, (int)f) < 0)
				return rd_fail(r, "strategies: none serves channel %s with %s",
				               omo_enum_name(&omo_enum_channel, (int)c),
				               omo_enum_name(&omo_enum_fulfillment, (int)f));
	return 0;
}

static int cmp_node_rule(const void *a, const void *b)
{
	return strcmp(((const rt_node_rule *)a)->node, ((const rt_node_rule *)b)->node);
}

static int cmp_sku_rule(const void *a, const void *b)
{
	return strcmp(((const rt_sku_rule *)a)->sku, ((const rt_sku_rule *)b)->sku);
}

static int rd_nodes(rd *r, const json_t *map, rt_rules *out)
{
	static const char *const keys[] = {
	    "handling_cost", "cutoff",   "processing_days", "capacity_orders", "capacity_lines",
	    "hazmat",        "transfer", "make_capacity",   "make_days",       NULL};
	char where[64];
	const char *id;
	json_t *v;

	if (map == NULL)
		return 0;
	if (!json_is_object(map))
		return rd_fail(r, "nodes: expected a mapping of node ids");
	out->nodes = calloc(json_object_size(map) + 1, sizeof(*out->nodes));
	if (out->nodes == NULL)
		return rd_fail(r, "nodes: out of memory");
	json_object_foreach((json_t *)map, id, v)
	{
		rt_node_rule *n = &out->nodes[out->n_nodes];
		bool hazmat = false, transfer = false;
		snprintf(where, sizeof(where), "nodes.%.40s", id);
		if (strlen(id) == 0 || strlen(id) > RT_ID_MAX)
			return rd_fail(r, "%s: node id must be 1 to %d bytes", where, RT_ID_MAX);
		memcpy(n->node, id, strlen(id) + 1);
		if (rd_keys(r, where, v, keys) != 0 ||
		    rd_int(r, where, v, "handling_cost", 0, 100000000, &n->handling_cost) != 0 ||
		    rd_cutoff(r, where, v, &n->cutoff_min) != 0 ||
		    rd_int32(r, where, v, "processing_days", 365, &n->processing_days) != 0 ||
		    rd_int(r, where, v, "capacity_orders", 0, INT32_MAX, &n->cap_orders) != 0 ||
		    rd_int(r, where, v, "capacity_lines", 0, INT32_MAX, &n->cap_lines) != 0 ||
		    rd_bool(r, where, v, "hazmat", &hazmat) != 0 ||
		    rd_bool(r, where, v, "transfer", &transfer) != 0 ||
		    rd_int(r, where, v, "make_capacity", 0, INT32_MAX, &n->make_capacity) != 0 ||
		    rd_int32(r, where, v, "make_days", 365, &n->make_days) != 0)
			return -1;
		n->caps = (hazmat ? RT_CAP_HAZMAT : 0) | (transfer ? RT_CAP_TRANSFER : 0);
		out->n_nodes++;
	}
	qsort(out->nodes, out->n_nodes, sizeof(*out->nodes), cmp_node_rule);
	return 0;
}

static int rd_bom(rd *r, const char *where, const json_t *map, rt_sku_rule *s)
{
	const char *k;
	json_t *v;

	if (map == NULL)
		return 0;
	if (!json_is_object(map) || json_object_size(map) == 0 ||
	    json_object_size(map) > RT_MAX_BOM)
		return rd_fail(r, "%s: bom must map 1 to %d component SKUs to units", where,
		               RT_MAX_BOM);
	json_object_foreach((json_t *)map, k, v)
	{
		rt_bom_item *b = &s->bom[s->n_bom];
		if (strlen(k) == 0 || strlen(k) > RT_SKU_MAX || !json_is_integer(v) ||
		    json_integer_value(v) < 1 || json_integer_value(v) > 100000)
			return rd_fail(r, "%s: bom.%.40s must be 1 to 100000 units", where, k);
		memcpy(b->sku, k, strlen(k) + 1);
		b->per_unit = json_integer_value(v);
		s->n_bom++;
	}
	return 0;
}

static int rd_skus(rd *r, const json_t *map, rt_rules *out)
{
	static const char *const keys[] = {"hazmat", "bom", NULL};
	char where[80];
	const char *id;
	json_t *v;

	if (map == NULL)
		return 0;
	if (!json_is_object(map))
		return rd_fail(r, "skus: expected a mapping of SKUs");
	out->skus = calloc(json_object_size(map) + 1, sizeof(*out->skus));
	if (out->skus == NULL)
		return rd_fail(r, "skus: out of memory");
	json_object_foreach((json_t *)map, id, v)
	{
		rt_sku_rule *s = &out->skus[out->n_skus];
		snprintf(where, sizeof(where), "skus.%.64s", id);
		if (strlen(id) == 0 || strlen(id) > RT_SKU_MAX)
			return rd_fail(r, "%s: SKU must be 1 to %d bytes", where, RT_SKU_MAX);
		memcpy(s->sku, id, strlen(id) + 1);
		if (rd_keys(r, where, v, keys) != 0 ||
		    rd_bool(r, where, v, "hazmat", &s->hazmat) != 0 ||
		    rd_bom(r, where, json_object_get(v, "bom"), s) != 0)
			return -1;
		out->n_skus++;
	}
	qsort(out->skus, out->n_skus, sizeof(*out->skus), cmp_sku_rule);
	return 0;
}

static int rd_stock(rd *r, const json_t *list, rt_rules *out)
{
	static const char *const keys[] = {"node", "sku", "safety", "target", "held", "for", NULL};
	char where[48];
	size_t i;
	json_t *v;

	if (list == NULL)
		return 0;
	if (!json_is_array(list))
		return rd_fail(r, "stock: expected a list");
	out->stock = calloc(json_array_size(list) + 1, sizeof(*out->stock));
	if (out->stock == NULL)
		return rd_fail(r, "stock: out of memory");
	json_array_foreach(list, i, v)
	{
		rt_stock_rule *s = &out->stock[i];
		snprintf(where, sizeof(where), "stock[%zu]", i);
		if (rd_keys(r, where, v, keys) != 0 ||
		    rd_str(r, where, v, "node", s->node, sizeof(s->node), true) != 0 ||
		    rd_str(r, where, v, "sku", s->sku, sizeof(s->sku), true) != 0 ||
		    rd_int(r, where, v, "safety", 0, INT32_MAX, &s->safety) != 0 ||
		    rd_int(r, where, v, "target", 0, INT32_MAX, &s->target) != 0 ||
		    rd_int(r, where, v, "held", 0, INT32_MAX, &s->channel_held) != 0)
			return -1;
		if (s->channel_held > 0 &&
		    rd_enum_set(r, where, v, "for", &omo_enum_channel, &s->channel_mask) != 0)
			return -1;
		out->n_stock++;
	}
	return 0;
}

/* rules_hash writes the SHA-256 of doc's canonical JSON in hex. */
static int rules_hash(const json_t *doc, char *hex)
{
	char *text = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int ok;

	if (text == NULL)
		return -1;
	ok = EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL);
	free(text);
	for (unsigned i = 0; ok && i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return ok ? 0 : -1;
}

int rt_rules_parse(const json_t *doc, rt_rules *out, char *err, size_t errlen)
{
	static const char *const keys[] = {"name",  "version", "zones", "strategies",
	                                   "nodes", "skus",    "stock", NULL};
	rd r = {err, errlen};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rd_keys(&r, "rule set", doc, keys);
	if (rc == 0)
		rc = rd_str(&r, "rule set", doc, "name", out->name, sizeof(out->name), true);
	if (rc == 0 && json_object_get(doc, "version") == NULL)
		rc = rd_fail(&r, "rule set: version is required");
	if (rc == 0)
		rc = rd_int(&r, "rule set", doc, "version", 1, INT64_MAX, &out->version);
	if (rc == 0)
		rc = rd_zones(&r, json_object_get(doc, "zones"), out);
	if (rc == 0)
		rc = rd_strategies(&r, json_object_get(doc, "strategies"), out);
	if (rc == 0)
		rc = rd_nodes(&r, json_object_get(doc, "nodes"), out);
	if (rc == 0)
		rc = rd_skus(&r, json_object_get(doc, "skus"), out);
	if (rc == 0)
		rc = rd_stock(&r, json_object_get(doc, "stock"), out);
	if (rc == 0 && rules_hash(doc, out->hash) != 0)
		rc = rd_fail(&r, "rule set: cannot hash");
	if (rc != 0)
		rt_rules_fini(out);
	return rc;
}

int rt_rules_parse_text(const char *text, size_t len, rt_rules *r, char *err, size_t errlen)
{
	json_t *doc = omo_yaml_parse(text, len, err, errlen);
	int rc;

	if (doc == NULL) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	rc = rt_rules_parse(doc, r, err, errlen);
	json_decref(doc);
	return rc;
}

int rt_rules_load(const char *path, rt_rules *r, char *err, size_t errlen)
{
	char why[200];
	json_t *doc = omo_yaml_load(path, why, sizeof(why));
	int rc;

	memset(r, 0, sizeof(*r));
	if (doc == NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	rc = rt_rules_parse(doc, r, why, sizeof(why));
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, why);
	json_decref(doc);
	return rc;
}

void rt_rules_fini(rt_rules *r)
{
	free(r->nodes);
	free(r->skus);
	free(r->stock);
	memset(r, 0, sizeof(*r));
}

int rt_rules_select(const rt_rules *r, int channel, int fulfillment)
{
	for (uint32_t i = 0; i < r->n_strategies; i++) {
		const rt_strategy *s = &r->strategies[i];
		if (channel >= 0 && channel < 32 && fulfillment >= 0 && fulfillment < 32 &&
		    (s->channels & (1u << channel)) != 0 &&
		    (s->fulfillments & (1u << fulfillment)) != 0)
			return (int)i;
	}
	return -1;
}

const rt_node_rule *rt_rules_node(const rt_rules *r, const char *node)
{
	rt_node_rule key;

	if (r->n_nodes == 0 ||
	    snprintf(key.node, sizeof(key.node), "%s", node) >= (int)sizeof(key.node))
		return NULL;
	return bsearch(&key, r->nodes, r->n_nodes, sizeof(key), cmp_node_rule);
}

const rt_sku_rule *rt_rules_sku(const rt_rules *r, const char *sku)
{
	rt_sku_rule key;

	if (r->n_skus == 0 || snprintf(key.sku, sizeof(key.sku), "%s", sku) >= (int)sizeof(key.sku))
		return NULL;
	return bsearch(&key, r->skus, r->n_skus, sizeof(key), cmp_sku_rule);
}

void rt_node_apply(rt_node *n, const rt_node_rule *rule)
{
	n->caps |= rule->caps;
	n->handling_cost = rule->handling_cost;
	n->cutoff_min = rule->cutoff_min;
	n->processing_days = rule->processing_days;
	n->cap_orders = rule->cap_orders;
	n->cap_lines = rule->cap_lines;
	n->make_capacity = rule->make_capacity;
	n->make_days = rule->make_days;
}

const rt_stock_rule *rt_rules_stock(const rt_rules *r, const char *node, const char *sku)
{
	for (uint32_t i = 0; i < r->n_stock; i++) {
		const rt_stock_rule *s = &r->stock[i];
		if ((strcmp(s->node, "*") == 0 || strcmp(s->node, node) == 0) &&
		    (strcmp(s->sku, "*") == 0 || strcmp(s->sku, sku) == 0))
			return s;
	}
	return NULL;
}
