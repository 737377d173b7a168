/*
 * scenario.c - reads a scenario's YAML into omo_scenario. See scenario.h.
 * Every refusal names the file and the field, and leaves nothing half-used.
 */
#include "scenario.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "yamldoc.h"

static const char *const policy_names[] = {
#define OMO_SCN_POLICY_NAME(name, text) text,
    OMO_SCN_POLICIES(OMO_SCN_POLICY_NAME)
#undef OMO_SCN_POLICY_NAME
};
static const char *const channel_names[] = {
#define OMO_SCN_CHANNEL_NAME(name, text) text,
    OMO_SCN_CHANNELS(OMO_SCN_CHANNEL_NAME)
#undef OMO_SCN_CHANNEL_NAME
};
static const char *const disruption_names[] = {
#define OMO_SCN_DISRUPTION_NAME(name, text) text,
    OMO_SCN_DISRUPTIONS(OMO_SCN_DISRUPTION_NAME)
#undef OMO_SCN_DISRUPTION_NAME
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

const char *omo_scn_policy_name(omo_scn_policy_kind kind)
{
	return (size_t)kind < N_OF(policy_names) ? policy_names[kind] : "?";
}

const char *omo_scn_channel_name(omo_scn_channel ch)
{
	return (size_t)ch < N_OF(channel_names) ? channel_names[ch] : "?";
}

/* ---- reading fields ------------------------------------------------------ */

/* What a reader needs to refuse with the place: the file and the field. */
typedef struct reader {
	const char *file;
	char *err;
	size_t errlen;
	omo_scenario *s;
} reader;

static int fail(reader *r, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(reader *r, const char *path, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "%s: %s: %s", r->file, path, why);
	return -1;
}

/* num reads obj.key as a number in [lo, hi], def when absent. */
static int num(reader *r, const json_t *obj, const char *path, const char *key, double def,
               double lo, double hi, double *out)
{
	const json_t *v = obj ? json_object_get(obj, key) : NULL;
	char where[160];

	snprintf(where, sizeof(where), "%s%s%s", path, *path ? "." : "", key);
	if (v == NULL || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_number(v))
		return fail(r, where, "expected a number");
	*out = json_number_value(v);
	if (!(*out >= lo && *out <= hi))
		return fail(r, where, "%g is outside [%g, %g]", *out, lo, hi);
	return 0;
}

static int whole(reader *r, const json_t *obj, const char *path, const char *key, double def,
                 double lo, double hi, int64_t *out)
{
	double d;

	if (num(r, obj, path, key, def, lo, hi, &d))
		return -1;
	if (d != floor(d))
		return fail(r, path, "%s must be a whole number", key);
	*out = (int64_t)d;
	return 0;
}

static int days(reader *r, const json_t *obj, const char *path, const char *key, double def,
                unsigned *out)
{
	int64_t v = 0;

	if (whole(r, obj, path, key, def, 0, 1e6, &v))
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* str returns obj.key as a string, def when absent, NULL (after failing)
 * when it is not a string. */
static const char *str(reader *r, const json_t *obj, const char *path, const char *key,
                       const char *def)
{
	const json_t *v = obj ? json_object_get(obj, key) : NULL;

	if (v == NULL)
		return def;
	if (!json_is_string(v)) {
		fail(r, path, "%s: expected a string", key);
		return NULL;
	}
	return json_string_value(v);
}

static int pick(reader *r, const char *path, const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	if (name)
		fail(r, path, "unknown kind \"%s\"", name);
	return -1;
}

static int node_ref(reader *r, const json_t *obj, const char *path, const char *key, int *out)
{
	const char *id = str(r, obj, path, key, NULL);

	if (id == NULL)
		return fail(r, path, "%s: expected a node id", key);
	if ((*out = omo_catalog_node_index(&r->s->catalog, id)) < 0)
		return fail(r, path, "%s: no node \"%s\" in nodes.csv", key, id);
	return 0;
}

static int sku_ref(reader *r, const char *path, const char *sku, int *out)
{
	const omo_sku_info *k = sku ? omo_catalog_sku(&r->s->catalog, sku) : NULL;

	if (k == NULL)
		return fail(r, path, "no SKU \"%s\" in skus.csv", sku ? sku : "(none)");
	*out = (int)(k - r->s->catalog.skus);
	return 0;
}

/* list checks that obj.key is absent or an array, and allocates room for
 * its entries. */
static int list(reader *r, const json_t *obj, const char *key, size_t size, void **items, size_t *n)
{
	const json_t *v = json_object_get(obj, key);

	*n = 0;
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return fail(r, key, "expected a list");
	if (json_array_size(v) == 0)
		return 0;
	if ((*items = calloc(json_array_size(v), size)) == NULL)
		return fail(r, key, "out of memory");
	*n = json_array_size(v);
	return 0;
}

static int dist(reader *r, const json_t *v, const char *path, omo_sim_dist *d)
{
	int kind;

	if (json_is_number(v)) {
		*d = (omo_sim_dist){.kind = OMO_SIM_DIST_CONSTANT, .a = json_number_value(v)};
	} else {
		if (!json_is_object(v))
			return fail(r, path, "expected a number or {dist: ..}");
		const char *name = str(r, v, path, "dist", "constant");
		if (name == NULL)
			return -1;
		if ((kind = omo_sim_dist_parse(name)) < 0)
			return fail(r, path, "unknown kind \"%s\"", name);
		if (kind == OMO_SIM_DIST_DISCRETE)
			return fail(r, path, "discrete lead times are not offered");
		*d = (omo_sim_dist){.kind = (omo_sim_dist_kind)kind};
		if (num(r, v, path, "a", 0, -1e9, 1e9, &d->a) ||
		    num(r, v, path, "b", 0, -1e9, 1e9, &d->b))
			return -1;
	}
	if (omo_sim_dist_check(d) != OMO_SIM_OK)
		return fail(r, path, "bad %s parameters", omo_sim_dist_name(d->kind));
	return 0;
}

/* under returns name as a path from dir: itself when absolute. */
static const char *under(const char *dir, const char *name, char *buf, size_t n)
{
	if (name[0] == '/')
		return name;
	snprintf(buf, n, "%s/%s", dir, name);
	return buf;
}

/* ---- sections ------------------------------------------------------------ */

static int read_policy(reader *r, const json_t *v, const char *path, omo_scn_policy *p)
{
	int kind = pick(r, path, str(r, v, path, "kind", NULL), policy_names, N_OF(policy_names));
	int64_t days_p;
	const char *unit = str(r, v, path, "unit", "days");

	if (kind < 0)
		return kind == -1 && r->err[0] ? -1 : fail(r, path, "kind: expected a policy");
	*p = (omo_scn_policy){.kind = (omo_scn_policy_kind)kind};
	if (unit == NULL || (strcmp(unit, "days") != 0 && strcmp(unit, "units") != 0))
		return fail(r, path, "unit: expected days or units");
	p->units = strcmp(unit, "units") == 0;
	if (num(r, v, path, "S", 0, 0, 1e12, &p->S) || num(r, v, path, "s", 0, 0, 1e12, &p->s) ||
	    num(r, v, path, "Q", 1, 1e-9, 1e12, &p->Q) ||
	    num(r, v, path, "alpha", 0.3, 1e-6, 1, &p->alpha) ||
	    whole(r, v, path, "p", 7, 1, 365, &days_p))
		return -1;
	p->p = (unsigned)days_p;
	if (p->kind == OMO_SCN_SS && p->s > p->S)
		return fail(r, path, "s > S");
	return 0;
}

static int read_policies(reader *r, const json_t *root)
{
	omo_scenario *s = r->s;
	const json_t *v;
	size_t i;

	if (list(r, root, "policies", sizeof(*s->policies), (void **)&s->policies, &s->n_policies))
		return -1;
	json_array_foreach(json_object_get(root, "policies"), i, v)
	{
		omo_scn_policy_rule *rule = &s->policies[i];
		char path[48];
		const char *type, *sku;
		const json_t *range = json_object_get(v, "skus");

		snprintf(path, sizeof(path), "policies[%zu]", i);
		type = str(r, v, path, "node_type", NULL);
		rule->node = rule->sku_lo = rule->sku_hi = -1;
		if (type) {
			int t = omo_enum_parse(&omo_enum_node_type, type, strlen(type));
			if (t < 0)
				return fail(r, path, "node_type: unknown \"%s\"", type);
			rule->node_type = t + 1;
		}
		if (json_object_get(v, "node") && node_ref(r, v, path, "node", &rule->node))
			return -1;
		if ((sku = str(r, v, path, "sku", NULL)) && sku_ref(r, path, sku, &rule->sku_lo))
			return -1;
		rule->sku_hi = rule->sku_lo;
		if (range && (sku_ref(r, path, str(r, range, path, "from", NULL), &rule->sku_lo) ||
		              sku_ref(r, path, str(r, range, path, "to", NULL), &rule->sku_hi)))
			return -1;
		if (read_policy(r, v, path, &rule->policy))
			return -1;
	}
	return 0;
}

static int read_suppliers(reader *r, const json_t *root)
{
	omo_scenario *s = r->s;
	const json_t *v;
	size_t i;

	if (list(r, root, "suppliers", sizeof(*s->suppliers), (void **)&s->suppliers,
	         &s->n_suppliers))
		return -1;
	json_array_foreach(json_object_get(root, "suppliers"), i, v)
	{
		omo_scn_supplier *sup = &s->suppliers[i];
		char path[48];
		const char *id;

		snprintf(path, sizeof(path), "suppliers[%zu]", i);
		if ((id = str(r, v, path, "id", NULL)) == NULL)
			return fail(r, path, "id: expected a name");
		snprintf(sup->id, sizeof(sup->id), "%s", id);
		if (dist(r, json_object_get(v, "lead_time"), path, &sup->lead_time) ||
		    whole(r, v, path, "capacity", 0, 0, 1e15, &sup->capacity) ||
		    num(r, v, path, "reliability", 1, 0, 1, &sup->reliability) ||
		    num(r, v, path, "loss_fraction", 0.5, 0, 1, &sup->loss_fraction) ||
		    num(r, v, path, "unit_cost", 1, 0, 1e9, &sup->unit_cost))
			return -1;
	}
	return 0;
}

static int supplier_ref(reader *r, const char *path, const char *id, int *out)
{
	for (size_t i = 0; id && i < r->s->n_suppliers; i++)
		if (strcmp(r->s->suppliers[i].id, id) == 0) {
			*out = (int)i;
			return 0;
		}
	return fail(r, path, "no supplier \"%s\"", id ? id : "(none)");
}

static int read_plants(reader *r, const json_t *root)
{
	omo_scenario *s = r->s;
	const json_t *v, *m;
	size_t i, j;

	if (list(r, root, "plants", sizeof(*s->plants), (void **)&s->plants, &s->n_plants))
		return -1;
	json_array_foreach(json_object_get(root, "plants"), i, v)
	{
		omo_scn_plant *pl = &s->plants[i];
		char path[48];
		const json_t *mp = json_object_get(v, "material_policy");

		snprintf(path, sizeof(path), "plants[%zu]", i);
		if (node_ref(r, v, path, "node", &pl->node))
			return -1;
		if (s->catalog.nodes[pl->node].type != OMO_NODE_MANUFACTURER)
			return fail(r, path, "node: %s is not a manufacturer",
			            s->catalog.nodes[pl->node].id);
		if (whole(r, v, path, "capacity", 0, 0, 1e15, &pl->capacity) ||
		    whole(r, v, path, "batch", 1, 1, 1e9, &pl->batch) ||
		    days(r, v, path, "days", 1, &pl->days) ||
		    num(r, v, path, "unit_cost", 0, 0, 1e9, &pl->unit_cost) ||
		    list(r, v, "bom", sizeof(*pl->bom), (void **)&pl->bom, &pl->n_bom))
			return -1;
		pl->material_policy = (omo_scn_policy){.kind = OMO_SCN_SS, .s = 7, .S = 21};
		if (mp && read_policy(r, mp, path, &pl->material_policy))
			return -1;
		json_array_foreach(json_object_get(v, "bom"), j, m)
		{
			omo_scn_material *mat = &pl->bom[j];
			const char *id = str(r, m, path, "material", NULL);
			if (id == NULL)
				return fail(r, path, "bom[%zu].material: expected a name", j);
			snprintf(mat->id, sizeof(mat->id), "%s", id);
			if (supplier_ref(r, path, str(r, m, path, "supplier", NULL),
			                 &mat->supplier) ||
			    num(r, m, path, "per_unit", 1, 1e-9, 1e6, &mat->per_unit))
				return -1;
		}
	}
	return 0;
}

static int read_carrier(reader *r, const json_t *v, const char *key, omo_scn_carrier *c)
{
	const json_t *z;
	size_t i;

	snprintf(c->id, sizeof(c->id), "%s", key);
	if (v == NULL) { /* a plain default: next day near, three days far */
		static const omo_scn_zone defaults[] = {{300, 1, 8, 0}, {1e9, 3, 14, 0}};
		if ((c->zones = malloc(sizeof(defaults))) == NULL)
			return fail(r, key, "out of memory");
		memcpy(c->zones, defaults, sizeof(defaults));
		c->n_zones = N_OF(defaults);
		return 0;
	}
	if (whole(r, v, key, "capacity", 0, 0, 1e12, &c->capacity) ||
	    list(r, v, "zones", sizeof(*c->zones), (void **)&c->zones, &c->n_zones))
		return -1;
	if (c->n_zones == 0)
		return fail(r, key, "zones: expected at least one");
	json_array_foreach(json_object_get(v, "zones"), i, z)
	{
		omo_scn_zone *zone = &c->zones[i];
		if (num(r, z, key, "up_to_km", 1e9, 0, 1e9, &zone->up_to_km) ||
		    days(r, z, key, "days", 1, &zone->days) ||
		    num(r, z, key, "cost", 0, 0, 1e9, &zone->cost) ||
		    num(r, z, key, "cost_per_unit", 0, 0, 1e9, &zone->cost_per_unit))
			return -1;
		if (i > 0 && zone->up_to_km <= c->zones[i - 1].up_to_km)
			return fail(r, key, "zones[%zu]: up_to_km must increase", i);
	}
	return 0;
}

static int read_regions(reader *r, const json_t *root)
{
	omo_scenario *s = r->s;
	const json_t *v;
	size_t i;

	if (list(r, root, "regions", sizeof(*s->regions), (void **)&s->regions, &s->n_regions))
		return -1;
	if (s->n_regions == 0)
		return fail(r, "regions", "expected at least one ship-to region");
	json_array_foreach(json_object_get(root, "regions"), i, v)
	{
		omo_scn_region *g = &s->regions[i];
		char path[48];
		const char *id;
		double lat, lon;

		snprintf(path, sizeof(path), "regions[%zu]", i);
		if ((id = str(r, v, path, "id", NULL)) == NULL)
			return fail(r, path, "id: expected a name");
		snprintf(g->id, sizeof(g->id), "%s", id);
		if (num(r, v, path, "lat", 0, -90, 90, &lat) ||
		    num(r, v, path, "lon", 0, -180, 180, &lon) ||
		    num(r, v, path, "weight", 1, 0, 1e9, &g->weight))
			return -1;
		g->lat_udeg = (int64_t)llround(lat * 1e6);
		g->lon_udeg = (int64_t)llround(lon * 1e6);
	}
	return 0;
}

static int region_ref(reader *r, const char *path, const char *id, int *out)
{
	for (size_t i = 0; id && i < r->s->n_regions; i++)
		if (strcmp(r->s->regions[i].id, id) == 0) {
			*out = (int)i;
			return 0;
		}
	return fail(r, path, "no region \"%s\"", id ? id : "(none)");
}

/* A trace row: day,channel,region,sku,quantity. */
typedef struct trace_read {
	reader *r;
	omo_scn_demand *d;
	size_t cap;
} trace_read;

static int trace_row(void *arg, char **f)
{
	trace_read *t = arg;
	omo_scn_trace_row row;
	char *end;
	long day = strtol(f[0], &end, 10);
	long long q;
	int ch;

	if (*end || day < 0 || day > 1000000 ||
	    (ch = pick(t->r, "trace", f[1], channel_names, N_OF(channel_names))) < 0 ||
	    region_ref(t->r, "trace", f[2], &row.region) || sku_ref(t->r, "trace", f[3], &row.sku))
		return -1;
	q = strtoll(f[4], &end, 10);
	if (*end || q < 1 || q > 1000000)
		return -1;
	row.day = (unsigned)day;
	row.channel = (omo_scn_channel)ch;
	row.quantity = q;
	if (t->d->n_trace == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		void *p = realloc(t->d->trace, cap * sizeof(row));
		if (p == NULL)
			return -1;
		t->d->trace = p;
		t->cap = cap;
	}
	t->d->trace[t->d->n_trace++] = row;
	return 0;
}

static int read_skus_list(reader *r, const json_t *v, const char *path, int **skus, size_t *n)
{
	const json_t *k;
	size_t i;

	*n = 0;
	if (v == NULL)
		return 0;
	if (!json_is_array(v) || (*skus = calloc(json_array_size(v) + 1, sizeof(int))) == NULL)
		return fail(r, path, "skus: expected a list");
	json_array_foreach(v, i, k)
	{
		if (sku_ref(r, path, json_string_value(k), &(*skus)[i]))
			return -1;
		(*n)++;
	}
	return 0;
}

static int read_demand(reader *r, const json_t *root)
{
	omo_scn_demand *d = &r->s->demand;
	const json_t *v = json_object_get(root, "demand"), *e, *ch = json_object_get(v, "channels");
	const json_t *week = json_object_get(v, "weekly");
	const char *process = str(r, v, "demand", "process", "poisson"), *trace;
	double sum = 0;
	size_t i;

	if (!json_is_object(v))
		return fail(r, "demand", "expected a section");
	if (process == NULL || (strcmp(process, "poisson") && strcmp(process, "normal")))
		return fail(r, "demand", "process: expected poisson or normal");
	d->normal = strcmp(process, "normal") == 0;
	if (num(r, v, "demand", "cv", 0.3, 0, 10, &d->cv) ||
	    num(r, v, "demand", "orders_per_day", 0, 0, 1e8, &d->orders_per_day) ||
	    num(r, v, "demand", "walk_in_per_store", 0, 0, 1e7, &d->walk_in_per_store) ||
	    num(r, v, "demand", "lines_mean", 1.5, 1, 50, &d->lines_mean) ||
	    num(r, v, "demand", "zipf", 1, 0, 5, &d->zipf) ||
	    days(r, v, "demand", "assortment", r->s->catalog.n_skus, &d->assortment) ||
	    num(r, v, "demand", "yearly_amplitude", 0, 0, 1, &d->yearly_amplitude) ||
	    days(r, v, "demand", "yearly_peak", 0, &d->yearly_peak) ||
	    num(r, v, "demand", "return_rate", 0, 0, 1, &d->return_rate) ||
	    days(r, v, "demand", "return_days", 14, &d->return_days))
		return -1;
	if (d->assortment == 0 || d->assortment > r->s->catalog.n_skus)
		d->assortment = r->s->catalog.n_skus;
	for (int c = 0; c < OMO_SCN_N_CHANNELS; c++) {
		static const double share[] = {0.7, 0.15, 0, 0.15};
		static const unsigned promise[] = {4, 2, 0, 5};
		char key[48];
		if (c != OMO_SCN_WALK_IN && num(r, ch, "demand.channels", channel_names[c],
		                                share[c], 0, 1e6, &d->channel_weight[c]))
			return -1;
		snprintf(key, sizeof(key), "%s_promise_days", channel_names[c]);
		if (days(r, v, "demand", key, promise[c], &d->promise_days[c]))
			return -1;
		sum += d->channel_weight[c];
	}
	if (sum <= 0)
		return fail(r, "demand.channels", "expected some weight on an online channel");
	for (i = 0; i < 7; i++)
		d->weekly[i] = 1;
	if (week && (!json_is_array(week) || json_array_size(week) != 7))
		return fail(r, "demand.weekly", "expected 7 multipliers, Monday first");
	json_array_foreach(week, i, e)
	{
		if (!json_is_number(e) || json_number_value(e) < 0)
			return fail(r, "demand.weekly", "expected numbers >= 0");
		d->weekly[i] = json_number_value(e);
	}
	if (list(r, v, "promotions", sizeof(*d->promotions), (void **)&d->promotions,
	         &d->n_promotions))
		return -1;
	json_array_foreach(json_object_get(v, "promotions"), i, e)
	{
		omo_scn_promotion *p = &d->promotions[i];
		if (days(r, e, "demand.promotions", "from", 0, &p->from) ||
		    days(r, e, "demand.promotions", "to", p->from, &p->to) ||
		    num(r, e, "demand.promotions", "lift", 1, 0, 1000, &p->lift) ||
		    read_skus_list(r, json_object_get(e, "skus"), "demand.promotions", &p->skus,
		                   &p->n_skus))
			return -1;
	}
	if (list(r, v, "social", sizeof(*d->social), (void **)&d->social, &d->n_social))
		return -1;
	json_array_foreach(json_object_get(v, "social"), i, e)
	{
		omo_scn_social *h = &d->social[i];
		if (sku_ref(r, "demand.social", str(r, e, "demand.social", "sku", NULL), &h->sku) ||
		    days(r, e, "demand.social", "start", 0, &h->start) ||
		    num(r, e, "demand.social", "seed", 20, 0, 1e7, &h->seed) ||
		    num(r, e, "demand.social", "base", 0, 0, 1e7, &h->base) ||
		    num(r, e, "demand.social", "excitation", 0.5, 0, 100, &h->excitation) ||
		    num(r, e, "demand.social", "decay", 0.5, 0, 0.999, &h->decay))
			return -1;
		if (h->excitation / (1 - h->decay) >= 1)
			return fail(r, "demand.social",
			            "excitation / (1 - decay) must be below 1, "
			            "or the spike never ends");
	}
	if ((trace = str(r, v, "demand", "trace", NULL)) != NULL) {
		char buf[2400];
		trace_read t = {.r = r, .d = d};
		if (omo_csv_read(under(r->s->dir, trace, buf, sizeof(buf)), 5,
		                 "day,channel,region,sku,quantity", trace_row, &t, r->err,
		                 r->errlen))
			return -1;
	}
	return 0;
}

static int read_disruptions(reader *r, const json_t *root)
{
	omo_scenario *s = r->s;
	const json_t *v;
	size_t i;

	if (list(r, root, "disruptions", sizeof(*s->disruptions), (void **)&s->disruptions,
	         &s->n_disruptions))
		return -1;
	json_array_foreach(json_object_get(root, "disruptions"), i, v)
	{
		omo_scn_disruption *d = &s->disruptions[i];
		char path[48];
		int kind;

		snprintf(path, sizeof(path), "disruptions[%zu]", i);
		if ((kind = pick(r, path, str(r, v, path, "kind", NULL), disruption_names,
		                 N_OF(disruption_names))) < 0)
			return r->err[0] ? -1 : fail(r, path, "kind: expected a disruption");
		d->kind = (omo_scn_disruption_kind)kind;
		d->node = d->to = d->supplier = -1;
		if ((d->kind == OMO_SCN_OUTAGE || d->kind == OMO_SCN_LINK_CUT) &&
		    node_ref(r, v, path, "node", &d->node))
			return -1;
		if (d->kind == OMO_SCN_LINK_CUT && node_ref(r, v, path, "to_node", &d->to))
			return -1;
		if ((d->kind == OMO_SCN_SUPPLIER_DELAY || d->kind == OMO_SCN_YIELD_LOSS) &&
		    supplier_ref(r, path, str(r, v, path, "supplier", NULL), &d->supplier))
			return -1;
		if (num(r, v, path, "size", d->kind == OMO_SCN_DEMAND_SHOCK ? 2 : 1, 0, 1e6,
		        &d->size) ||
		    days(r, v, path, "from", 0, &d->from) ||
		    days(r, v, path, "to", d->from, &d->to_day) ||
		    num(r, v, path, "mtbf", 0, 0, 1e9, &d->mtbf) ||
		    num(r, v, path, "mttr", 1, 1, 1e9, &d->mttr))
			return -1;
		if (d->kind == OMO_SCN_YIELD_LOSS && d->size > 1)
			return fail(r, path, "size: a yield loss is a fraction in [0, 1]");
	}
	return 0;
}

/* ---- network files --------------------------------------------------------- */

typedef struct stock_read {
	omo_scenario *s;
} stock_read;

static int stock_row(void *arg, char **f)
{
	omo_scenario *s = ((stock_read *)arg)->s;
	int node = omo_catalog_node_index(&s->catalog, f[0]);
	const omo_sku_info *k = omo_catalog_sku(&s->catalog, f[1]);
	char *end;
	long long q = strtoll(f[2], &end, 10);

	if (node < 0 || k == NULL || *end || q < 0 || q > INT32_MAX)
		return -1;
	s->stock[(size_t)node * s->catalog.n_skus + (size_t)(k - s->catalog.skus)] = q;
	return 0;
}

/* makers gives each SKU the plant that makes it: listed ones by the plant's
 * `makes`, the rest round-robin, so every SKU has a source. */
static int read_makers(reader *r, const json_t *root)
{
	omo_scenario *s = r->s;
	const json_t *mto = json_object_get(root, "made_to_order"), *v;
	size_t i;

	s->maker = calloc(s->catalog.n_skus, sizeof(int));
	s->to_order = calloc(s->catalog.n_skus, sizeof(bool));
	if (s->maker == NULL || s->to_order == NULL)
		return fail(r, "plants", "out of memory");
	if (s->n_plants == 0)
		return fail(r, "plants", "expected at least one plant");
	for (i = 0; i < s->catalog.n_skus; i++)
		s->maker[i] = (int)(i % s->n_plants);
	if (mto && !json_is_array(mto))
		return fail(r, "made_to_order", "expected a list of SKUs");
	json_array_foreach(mto, i, v)
	{
		int k;
		if (sku_ref(r, "made_to_order", json_string_value(v), &k))
			return -1;
		s->to_order[k] = true;
	}
	return 0;
}

/* ---- the whole file ---------------------------------------------------------- */

static int resolve(const char *where, const char *scenarios_dir, char *file, size_t n)
{
	struct stat st;

	if (stat(where, &st) == 0 && S_ISDIR(st.st_mode))
		return snprintf(file, n, "%s/scenario.yaml", where) >= (int)n ? -1 : 0;
	if (stat(where, &st) == 0)
		return snprintf(file, n, "%s", where) >= (int)n ? -1 : 0;
	return snprintf(file, n, "%s/%s/scenario.yaml", scenarios_dir ? scenarios_dir : ".",
	                where) >= (int)n
	           ? -1
	           : 0;
}

/* rebase makes a base scenario's relative file names (network.dir,
 * demand.trace) absolute, so they still name its files from the scenario
 * extending it. */
static void rebase(json_t *root, const char *file)
{
	static const char *const refs[][2] = {
	    {"network", "dir"}, {"demand", "trace"}, {"routing", "rules"}};
	char dir[PATH_MAX], path[PATH_MAX + 256];
	const char *slash = strrchr(file, '/');

	snprintf(path, sizeof(path), "%.*s", slash ? (int)(slash - file) : 1, slash ? file : ".");
	if (realpath(path, dir) == NULL)
		return; /* the base's own load would have failed first */
	for (size_t i = 0; i < N_OF(refs); i++) {
		json_t *sec = json_object_get(root, refs[i][0]);
		const json_t *v = json_object_get(sec, refs[i][1]);
		const char *name = json_is_string(v) ? json_string_value(v) : NULL;
		if (json_is_object(sec) && (name || i == 0) && !(name && name[0] == '/')) {
			snprintf(path, sizeof(path), "%s/%s", dir, name ? name : ".");
			json_object_set_new(sec, refs[i][1], json_string(path));
		}
	}
}

/* load_tree reads a file and, through `extends`, its bases (at most 8 deep):
 * the scenario's own top-level sections replace its base's. */
static json_t *load_tree(const char *file, const char *scenarios_dir, int depth, char *err,
                         size_t errlen)
{
	json_t *root = omo_yaml_load(file, err, errlen), *base;
	const json_t *ext;
	char base_file[1200];

	if (root == NULL || !json_is_object(root)) {
		if (root)
			snprintf(err, errlen, "%s: expected a mapping of sections", file);
		json_decref(root);
		return NULL;
	}
	if ((ext = json_object_get(root, "extends")) == NULL)
		return root;
	if (!json_is_string(ext) || depth >= 8 ||
	    resolve(json_string_value(ext), scenarios_dir, base_file, sizeof(base_file))) {
		snprintf(err, errlen, "%s: extends: expected the name of another scenario", file);
		json_decref(root);
		return NULL;
	}
	if ((base = load_tree(base_file, scenarios_dir, depth + 1, err, errlen)) == NULL) {
		json_decref(root);
		return NULL;
	}
	rebase(base, base_file);
	json_object_del(base, "name");
	json_object_update(base, root);
	json_decref(root);
	return base;
}

int omo_scenario_load(omo_scenario *s, const char *where, const char *scenarios_dir, char *err,
                      size_t errlen)
{
	char file[1200], path[1300];
	reader r = {.file = file, .err = err, .errlen = errlen, .s = s};
	json_t *root;
	const json_t *net;
	const char *name, *network, *stock;
	int64_t seed;
	int rc = -1;
	char *slash;

	memset(s, 0, sizeof(*s));
	err[0] = '\0';
	if (resolve(where, scenarios_dir, file, sizeof(file))) {
		snprintf(err, errlen, "%s: name too long", where);
		return -1;
	}
	if ((root = load_tree(file, scenarios_dir, 0, err, errlen)) == NULL)
		return -1;
	snprintf(s->dir, sizeof(s->dir), "%s", file);
	if ((slash = strrchr(s->dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(s->dir, sizeof(s->dir), ".");
	net = json_object_get(root, "network");
	if ((name = str(&r, root, "", "name", NULL)) == NULL) {
		fail(&r, "name", "expected the scenario's name");
		goto out;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	if (whole(&r, root, "", "seed", 1, 0, 9e15, &seed) ||
	    days(&r, root, "", "days", 365, &s->days) ||
	    days(&r, root, "", "warmup_days", 28, &s->warmup_days) ||
	    days(&r, root, "", "replications", 5, &s->replications))
		goto out;
	s->seed = (uint64_t)seed;
	if (s->days == 0 || s->replications == 0) {
		fail(&r, "days", "days and replications must be at least 1");
		goto out;
	}
	if ((network = str(&r, net, "network", "dir", ".")) == NULL)
		goto out;
	network = under(s->dir, network, path, sizeof(path));
	if (network != path)
		snprintf(path, sizeof(path), "%s", network);
	if (omo_catalog_load(&s->catalog, path, err, errlen))
		goto out;
	if (s->catalog.n_nodes == 0 || s->catalog.n_skus == 0) {
		fail(&r, "network", "no nodes or no SKUs");
		goto out;
	}
	if ((stock = str(&r, net, "network", "stock", NULL)) != NULL) {
		stock_read sr = {s};
		char spath[2400];
		s->stock = calloc((size_t)s->catalog.n_nodes * s->catalog.n_skus, sizeof(int64_t));
		snprintf(spath, sizeof(spath), "%s/%s", path, stock);
		if (s->stock == NULL ||
		    omo_csv_read(spath, 3, "node,sku,on_hand", stock_row, &sr, err, errlen))
			goto out;
	}
	{
		const json_t *ro = json_object_get(root, "routing");
		const json_t *fs = json_object_get(ro, "ship_from_store");
		const json_t *ls = json_object_get(ro, "allow_line_split");
		int64_t splits;
		const char *rules = str(&r, ro, "routing", "rules", NULL);
		if (whole(&r, ro, "routing", "max_splits", 0, 0, 1000, &splits))
			goto out;
		if (rules) {
			char buf[2400], why[600];
			if (rt_rules_load(under(s->dir, rules, buf, sizeof(buf)), &s->rules, why,
			                  sizeof(why))) {
				fail(&r, "routing.rules", "%s", why);
				goto out;
			}
			s->has_rules = true;
		}
		s->max_splits = (uint32_t)splits;
		s->ship_from_store = fs == NULL || json_is_true(fs);
		s->allow_line_split = json_is_true(ls);
	}
	{
		const json_t *c = json_object_get(root, "costs");
		omo_scn_costs *k = &s->costs;
		if (num(&r, c, "costs", "holding_rate", 0.25, 0, 10, &k->holding_rate) ||
		    num(&r, c, "costs", "backorder", 0.5, 0, 1e6, &k->backorder) ||
		    num(&r, c, "costs", "lost_sale", 0.3, 0, 10, &k->lost_sale) ||
		    num(&r, c, "costs", "order_fixed", 20, 0, 1e9, &k->order_fixed) ||
		    num(&r, c, "costs", "unit_value", 0.5, 0, 10, &k->unit_value))
			goto out;
	}
	if (read_suppliers(&r, root) || read_plants(&r, root) || read_makers(&r, root) ||
	    read_carrier(&r, json_object_get(root, "parcel"), "parcel", &s->parcel) ||
	    read_carrier(&r, json_object_get(root, "freight"), "freight", &s->freight) ||
	    read_regions(&r, root) || read_demand(&r, root) || read_policies(&r, root) ||
	    read_disruptions(&r, root))
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

void omo_scenario_fini(omo_scenario *s)
{
	omo_catalog_fini(&s->catalog);
	rt_rules_fini(&s->rules);
	free(s->stock);
	free(s->maker);
	free(s->to_order);
	free(s->suppliers);
	for (size_t i = 0; s->plants && i < s->n_plants; i++)
		free(s->plants[i].bom);
	free(s->plants);
	free(s->parcel.zones);
	free(s->freight.zones);
	free(s->regions);
	for (size_t i = 0; s->demand.promotions && i < s->demand.n_promotions; i++)
		free(s->demand.promotions[i].skus);
	free(s->demand.promotions);
	free(s->demand.social);
	free(s->demand.trace);
	free(s->policies);
	free(s->disruptions);
	memset(s, 0, sizeof(*s));
}

const omo_scn_policy *omo_scenario_policy(const omo_scenario *s, int node, int sku)
{
	const omo_scn_policy *p = NULL;
	int type = (int)s->catalog.nodes[node].type + 1;

	for (size_t i = 0; i < s->n_policies; i++) {
		const omo_scn_policy_rule *r = &s->policies[i];
		if ((r->node_type == 0 || r->node_type == type) &&
		    (r->node < 0 || r->node == node) &&
		    (r->sku_lo < 0 || (sku >= r->sku_lo && sku <= r->sku_hi)))
			p = &r->policy;
	}
	return p && p->kind != OMO_SCN_NONE ? p : NULL;
}
