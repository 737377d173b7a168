/*
 * reference.c - published cases as data, run on the engine's textbook
 * models. See reference.h.
 */
#include "reference.h"

#include <math.h>
#include <string.h>

#include "sim_inventory.h"
#include "sim_queue.h"
#include "yamldoc.h"

/* One measured value: its name in `expect`, where it sits in the result,
 * and where its interval sits (NULL: no interval, the 1% rule only). */
typedef struct measure {
	const char *name;
	size_t value, ci; /* offsets; ci == SIZE_MAX: none */
} measure;

#define NO_CI SIZE_MAX
#define INV(field, ci)                                                                             \
	{                                                                                          \
#field, offsetof(omo_sim_inventory_result, field), ci                              \
	}
#define QUE(field)                                                                                 \
	{                                                                                          \
#field, offsetof(omo_sim_queue_result, field),                                     \
		    offsetof(omo_sim_queue_result, field##_ci)                                     \
	}

static const measure inventory_measures[] = {
    INV(cost, offsetof(omo_sim_inventory_result, cost_ci)),
    INV(no_stockout, offsetof(omo_sim_inventory_result, no_stockout_ci)),
    INV(fill_rate, offsetof(omo_sim_inventory_result, fill_rate_ci)),
    INV(bullwhip, offsetof(omo_sim_inventory_result, bullwhip_ci)),
    INV(holding_cost, NO_CI),
    INV(backorder_cost, NO_CI),
    INV(ordering_cost, NO_CI),
    INV(on_hand, NO_CI),
    INV(backorders, NO_CI),
    INV(lost, NO_CI),
};
static const measure queue_measures[] = {
    QUE(L),
    QUE(Lq),
    QUE(W),
    QUE(Wq),
    {"utilisation", offsetof(omo_sim_queue_result, utilisation), NO_CI},
};

static double number(const json_t *obj, const char *key, double def)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_number(v) ? json_number_value(v) : def;
}

static int read_dist(const json_t *v, omo_sim_dist *d)
{
	int kind = omo_sim_dist_parse(json_string_value(json_object_get(v, "dist")));

	if (kind < 0 || kind == OMO_SIM_DIST_DISCRETE)
		return -1;
	*d = (omo_sim_dist){
	    .kind = (omo_sim_dist_kind)kind, .a = number(v, "a", 0), .b = number(v, "b", 0)};
	return omo_sim_dist_check(d) == OMO_SIM_OK ? 0 : -1;
}

static int run_inventory(const json_t *c, omo_sim_inventory_result *r, char *err, size_t errlen)
{
	const json_t *pol = json_object_get(c, "policy");
	int kind = omo_sim_policy_parse(json_string_value(json_object_get(pol, "kind")));
	omo_sim_inventory_params p = {
	    .lead_time = (unsigned)number(c, "lead_time", 0),
	    .holding = number(c, "holding", 0),
	    .backorder = number(c, "backorder", 0),
	    .order_fixed = number(c, "order_fixed", 0),
	    .order_unit = number(c, "order_unit", 0),
	    .lost_sales = json_is_true(json_object_get(c, "lost_sales")),
	    .warmup = (uint64_t)number(c, "warmup", 1000),
	    .periods = (uint64_t)number(c, "periods", 1000000),
	    .seed = (uint64_t)number(c, "seed", 1),
	};

	if (read_dist(json_object_get(c, "demand"), &p.demand) || kind < 0) {
		snprintf(err, errlen, "demand or policy: expected {dist: ...} and a policy kind");
		return -1;
	}
	p.policy = (omo_sim_policy){.kind = (omo_sim_policy_kind)kind,
	                            .S = number(pol, "S", 0),
	                            .s = number(pol, "s", 0),
	                            .Q = number(pol, "Q", 1),
	                            .p = (unsigned)number(pol, "p", 1),
	                            .alpha = number(pol, "alpha", 0.5),
	                            .k = number(pol, "k", 0),
	                            .safety = number(pol, "safety", 0),
	                            .negative = json_is_true(json_object_get(pol, "negative"))};
	if (omo_sim_inventory_run(&p, r) != OMO_SIM_OK) {
		snprintf(err, errlen, "the inventory model refused its parameters");
		return -1;
	}
	return 0;
}

static int run_queue(const json_t *c, omo_sim_queue_result *r, char *err, size_t errlen)
{
	omo_sim_queue_params p = {
	    .warmup = (uint64_t)number(c, "warmup", 100000),
	    .customers = (uint64_t)number(c, "customers", 1000000),
	    .seed = (uint64_t)number(c, "seed", 1),
	};

	if (read_dist(json_object_get(c, "interarrival"), &p.interarrival) ||
	    read_dist(json_object_get(c, "service"), &p.service) ||
	    omo_sim_queue_run(&p, r, NULL, NULL) != OMO_SIM_OK) {
		snprintf(err, errlen, "interarrival or service: expected valid {dist: ...}");
		return -1;
	}
	return 0;
}

int omo_reference_check(const char *file, FILE *out, char *err, size_t errlen)
{
	json_t *c = omo_yaml_load(file, err, errlen);
	const json_t *expect, *v;
	const char *model, *key;
	omo_sim_inventory_result inv;
	omo_sim_queue_result que;
	const measure *ms;
	size_t n_ms;
	const void *res;
	double max_half;
	int missed = 0;

	if (c == NULL)
		return -1;
	model = json_string_value(json_object_get(c, "model"));
	expect = json_object_get(c, "expect");
	max_half = number(c, "max_half", 0.005);
	if (model == NULL || !json_is_object(expect) || json_object_size(expect) == 0) {
		snprintf(err, errlen, "%s: expected model and expect", file);
		missed = -1;
	} else if (strcmp(model, "inventory") == 0) {
		ms = inventory_measures, n_ms = sizeof(inventory_measures) / sizeof(*ms),
		res = &inv;
		if (run_inventory(c, &inv, err, errlen))
			missed = -1;
	} else if (strcmp(model, "queue") == 0) {
		ms = queue_measures, n_ms = sizeof(queue_measures) / sizeof(*ms), res = &que;
		if (run_queue(c, &que, err, errlen))
			missed = -1;
	} else {
		snprintf(err, errlen, "%s: model: expected inventory or queue", file);
		missed = -1;
	}
	if (missed < 0) {
		json_decref(c);
		return -1;
	}
	if (out)
		fprintf(out, "%s (%s)\n", json_string_value(json_object_get(c, "name")), file);
	json_object_foreach((json_t *)expect, key, v)
	{
		const measure *m = NULL;
		omo_sim_ci ci;
		double want = json_number_value(v), err_rel;
		bool ok;
		for (size_t i = 0; i < n_ms; i++)
			if (strcmp(ms[i].name, key) == 0)
				m = &ms[i];
		if (m == NULL || !json_is_number(v)) {
			snprintf(err, errlen, "%s: expect.%s: not a measure of this model", file,
			         key);
			json_decref(c);
			return -1;
		}
		ci = m->ci == NO_CI
		         ? (omo_sim_ci){.mean = *(const double *)((const char *)res + m->value)}
		         : *(const omo_sim_ci *)((const char *)res + m->ci);
		err_rel = (ci.mean - want) / want;
		ok = fabs(ci.half / want) <= max_half &&
		     (fabs(err_rel) <= OMO_REF_TOLERANCE || omo_sim_ci_contains(&ci, want));
		missed += !ok;
		if (out)
			fprintf(
			    out,
			    "  %-14s %12.6f  expected %12.6f  error %+7.3f%%  CI +/-%.3f%%  %s\n",
			    key, ci.mean, want, 100 * err_rel, 100 * fabs(ci.half / want),
			    ok ? "ok" : "MISSED");
	}
	json_decref(c);
	return missed;
}
