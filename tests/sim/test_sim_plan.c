/*
 * test_sim_plan.c - plan mode (simulators/plan): scenarios load and refuse
 * bad input with a reason; a run is a pure function of scenario and seed
 * (same seed, same bytes; another seed, other samples); two scenarios face
 * the same consumers (common random numbers); demand, disruption and
 * policy mechanisms move the measures the way they must.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan.h"
#include "sim_rng.h"

static char scenarios[1024];

static int setup(void **state)
{
	const char *s = getenv("OMO_SOURCE_DIR");

	(void)state;
	snprintf(scenarios, sizeof(scenarios), "%s/simulators/scenarios", s && *s ? s : ".");
	return 0;
}

/* load reads a scenario given as YAML text (extending the demo when it
 * says `extends: demo`); returns omo_scenario_load's result, err filled. */
static int load_text(omo_scenario *s, const char *text, char *err, size_t errlen)
{
	char path[] = "/tmp/omo-scenario-XXXXXX.yaml";
	int fd = mkstemps(path, 5), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = omo_scenario_load(s, path, scenarios, err, errlen);
	unlink(path);
	return rc;
}

static void load_ok(omo_scenario *s, const char *text)
{
	char err[1024];

	if (load_text(s, text, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

static void test_demo_loads(void **state)
{
	omo_scenario s;
	char err[1024];
	const omo_scn_policy *p;
	int store = -1, dc, sku1, sku190;

	(void)state;
	assert_int_equal(omo_scenario_load(&s, "demo", scenarios, err, sizeof(err)), 0);
	assert_string_equal(s.name, "demo");
	assert_int_equal(s.catalog.n_nodes, 15);
	assert_int_equal(s.catalog.n_skus, 200);
	assert_int_equal(s.n_plants, 2);
	assert_int_equal(s.n_suppliers, 3);
	assert_int_equal(s.n_regions, 12);
	assert_int_equal(s.n_disruptions, 5);
	assert_int_equal(s.demand.assortment, 180);
	assert_true(s.has_rules); /* the router service's own rule set */
	assert_string_equal(s.rules.name, "demo");
	assert_non_null(s.stock);
	store = omo_catalog_node_index(&s.catalog, "ST-NYC");
	dc = omo_catalog_node_index(&s.catalog, "DC-NJ");
	sku1 = (int)(omo_catalog_sku(&s.catalog, "SKU-0001") - s.catalog.skus);
	sku190 = (int)(omo_catalog_sku(&s.catalog, "SKU-0190") - s.catalog.skus);
	assert_true(s.to_order[omo_catalog_sku(&s.catalog, "SKU-0200") - s.catalog.skus]);
	assert_false(s.to_order[sku190]);
	assert_non_null(p = omo_scenario_policy(&s, store, sku1));
	assert_int_equal(p->kind, OMO_SCN_SS);
	assert_true(p->s == 4 && p->S == 10 && !p->units);
	assert_null(omo_scenario_policy(&s, store, sku190)); /* bulky: not in stores */
	assert_null(omo_scenario_policy(&s, dc, sku190));
	assert_int_equal(omo_scenario_policy(&s, dc, sku1)->kind, OMO_SCN_BASE_STOCK);
	/* stock.csv is the services' opening stock */
	assert_int_equal(
	    s.stock[(size_t)omo_catalog_node_index(&s.catalog, "MFG-OH") * 200 +
	            (size_t)(omo_catalog_sku(&s.catalog, "SKU-0182") - s.catalog.skus)],
	    155);
	omo_scenario_fini(&s);

	assert_int_equal(omo_scenario_load(&s, "demo-no-split", scenarios, err, sizeof(err)), 0);
	assert_string_equal(s.name, "demo-no-split");
	assert_true(s.has_rules);
	assert_string_equal(s.rules.name, "demo-one-package");
	assert_int_equal(s.rules.strategies[1].max_splits, 1);
	assert_false(s.ship_from_store);
	assert_true(s.demand.orders_per_day == 300); /* the rest is the demo's */
	assert_int_equal(s.catalog.n_nodes, 15);
	omo_scenario_fini(&s);
}

/* Each refusal names the field; nothing is left allocated (ASan checks). */
static void test_bad_scenarios_refused(void **state)
{
	static const struct {
		const char *yaml, *says;
	} bad[] = {
	    {"name: x\nextends: demo\npolicies: [{node_type: store, kind: s-S, s: 10, S: 4}]\n",
	     "s > S"},
	    {"name: x\nextends: demo\npolicies: [{node_type: moon, kind: base-stock}]\n",
	     "node_type"},
	    {"name: x\nextends: demo\npolicies: [{kind: just-in-case}]\n", "just-in-case"},
	    {"name: x\nextends: demo\ndisruptions: [{kind: outage, node: NOWHERE}]\n", "NOWHERE"},
	    {"name: x\nextends: demo\ndisruptions: [{kind: yield_loss, supplier: SUP-RESIN, "
	     "size: 3}]\n",
	     "fraction"},
	    {"name: x\nextends: demo\nplants: [{node: DC-NJ}]\n", "not a manufacturer"},
	    {"name: x\nextends: demo\nregions: []\n", "at least one"},
	    {"name: x\nextends: demo\ndays: -5\n", "days"},
	    {"name: x\nextends: demo\ndemand: {orders_per_day: 10, social: [{sku: SKU-0001, "
	     "excitation: 0.9, decay: 0.5}]}\n",
	     "below 1"},
	    {"name: x\nextends: demo\ndemand: {orders_per_day: ten}\n", "orders_per_day"},
	    {"name: x\nextends: demo\nsuppliers: [{id: S, lead_time: {dist: gamma}}]\n", "gamma"},
	    {"name: x\nextends: nothing-by-that-name\n", "nothing-by-that-name"},
	    {"name: x\nextends: demo\nmade_to_order: [SKU-9999]\n", "SKU-9999"},
	    {"name: x\nextends: demo\nrouting: {rules: no-such-rules.yaml}\n", "routing.rules"},
	    {"name: [1\n", "line"},
	    {"- a\n- b\n", "mapping"},
	};
	omo_scenario s;
	char err[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(load_text(&s, bad[i].yaml, err, sizeof(err)), -1);
		if (strstr(err, bad[i].says) == NULL)
			fail_msg("case %zu: \"%s\" does not say %s", i, err, bad[i].says);
		omo_scenario_fini(&s);
	}
}

/* Mutated scenario bytes never crash the reader: each loads or is refused. */
static void test_mutated_scenarios(void **state)
{
	char path[1400], err[1024], dir[] = "/tmp/omo-mutant-XXXXXX", file[200];
	const char *seed_env = getenv("OMO_FUZZ_SEED");
	uint64_t seed = seed_env ? strtoull(seed_env, NULL, 10) : 20261124;
	char *raw, *text, *copy, *at, *rules;
	int loaded = 0, refused = 0;
	omo_sim_rng rng;
	size_t len;
	FILE *f;

	(void)state;
	printf("  mutation seed %llu (OMO_FUZZ_SEED)\n", (unsigned long long)seed);
	snprintf(path, sizeof(path), "%s/demo/scenario.yaml", scenarios);
	raw = slurp(path);
	/* the mutant lives elsewhere: point it at the demo's network and rules */
	assert_non_null(at = strstr(raw, "dir: ."));
	assert_non_null(rules = strstr(raw, "rules: rules.yaml"));
	assert_true(at < rules);
	len = strlen(raw) + 2 * strlen(scenarios) + 32;
	text = malloc(len);
	copy = malloc(len);
	snprintf(text, len, "%.*sdir: %s/demo%.*srules: %s/demo/rules.yaml%s", (int)(at - raw), raw,
	         scenarios, (int)(rules - at - 6), at + 6, scenarios, rules + 17);
	len = strlen(text);
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/scenario.yaml", dir);
	omo_sim_rng_init(&rng, seed, 0);
	for (int round = 0; round < 60; round++) {
		omo_scenario s;
		memcpy(copy, text, len + 1);
		for (int m = 0; m < round % 4; m++) /* round 0: the file as it is */
			copy[omo_sim_rng_below(&rng, len)] = (char)omo_sim_rng_below(&rng, 256);
		assert_non_null(f = fopen(file, "wb"));
		fwrite(copy, 1, len, f);
		fclose(f);
		err[0] = '\0';
		if (omo_scenario_load(&s, file, scenarios, err, sizeof(err)) == 0)
			loaded++;
		else
			refused++, assert_true(strlen(err) > 0);
		omo_scenario_fini(&s);
	}
	unlink(file);
	rmdir(dir);
	printf("  %d mutants loaded, %d refused with a reason\n", loaded, refused);
	assert_true(loaded > 0 && refused > 0);
	free(raw), free(text), free(copy);
}

/* A short demo: 90 days, 2 replications. */
static void short_demo(omo_scenario *s, const char *name, uint64_t seed)
{
	char err[1024];
	omo_plan_options o = {.replications = 2, .days = 90, .seed_set = true, .seed = seed};

	if (omo_scenario_load(s, name, scenarios, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	omo_plan_apply(s, &o);
}

/* plan_text runs s and returns the printed table (the caller frees it). */
static char *plan_text(const omo_scenario *s, omo_plan *p)
{
	omo_plan_options o = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(omo_plan_run(s, &o, p), OMO_SIM_OK);
	omo_plan_print(f, s, p);
	fclose(f);
	return buf;
}

static void test_same_seed_same_bytes(void **state)
{
	static const char *const files[] = {"timeseries.csv", "summary.json", "report.html"};
	omo_scenario s;
	omo_plan p1, p2;
	char *t1, *t2, d1[] = "/tmp/omo-plan-XXXXXX", d2[] = "/tmp/omo-plan-XXXXXX", err[512];

	(void)state;
	short_demo(&s, "demo", 7);
	t1 = plan_text(&s, &p1);
	t2 = plan_text(&s, &p2);
	assert_string_equal(t1, t2);
	assert_true(p1.routed > 10000); /* every online order went through the router */
	assert_non_null(mkdtemp(d1));
	assert_non_null(mkdtemp(d2));
	assert_int_equal(omo_plan_write(d1, &s, &p1, err, sizeof(err)), 0);
	assert_int_equal(omo_plan_write(d2, &s, &p2, err, sizeof(err)), 0);
	for (size_t i = 0; i < 3; i++) {
		char a[200], b[200];
		snprintf(a, sizeof(a), "%s/%s", d1, files[i]);
		snprintf(b, sizeof(b), "%s/%s", d2, files[i]);
		char *x = slurp(a), *y = slurp(b);
		assert_true(strlen(x) > 500);
		assert_string_equal(x, y);
		free(x), free(y);
		unlink(a), unlink(b);
	}
	rmdir(d1), rmdir(d2);
	free(t1), free(t2);
	omo_plan_fini(&p1), omo_plan_fini(&p2);
	omo_scenario_fini(&s);
}

static void test_different_seeds_differ(void **state)
{
	omo_scenario a, b;
	omo_plan pa, pb;
	char *ta, *tb;
	int differ = 0;

	(void)state;
	short_demo(&a, "demo", 7);
	short_demo(&b, "demo", 8);
	ta = plan_text(&a, &pa);
	tb = plan_text(&b, &pb);
	assert_string_not_equal(ta, tb);
	for (unsigned d = 0; d < a.days; d++)
		differ += pa.first.series[d * OMO_NET_N_COLS + OMO_NET_COL_demand] !=
		          pb.first.series[d * OMO_NET_N_COLS + OMO_NET_COL_demand];
	assert_true(differ > 80); /* daily demand is a sample, not a constant */
	/* replications of one run are other samples too */
	assert_true(pa.kpi[OMO_NET_KPI_fill_rate_2].m2 > 0);
	free(ta), free(tb);
	omo_plan_fini(&pa), omo_plan_fini(&pb);
	omo_scenario_fini(&a), omo_scenario_fini(&b);
}

/* Two rule sets face the same consumers, day by day; a scenario against
 * itself differs by exactly nothing. */
static void test_common_random_numbers(void **state)
{
	omo_scenario a, b;
	omo_plan_compare c;
	omo_plan_options o = {0};

	(void)state;
	short_demo(&a, "demo", 11);
	short_demo(&b, "demo-no-split", 999); /* compare imposes a's seed */
	assert_int_equal(omo_plan_compare_run(&a, &b, &o, &c), OMO_SIM_OK);
	for (unsigned d = 0; d < a.days; d++)
		assert_true(c.a.first.series[d * OMO_NET_N_COLS + OMO_NET_COL_demand] ==
		            c.b.first.series[d * OMO_NET_N_COLS + OMO_NET_COL_demand]);
	/* no ship-from-store keeps store stock for walk-ins: fewer lost sales */
	assert_true(c.diff[OMO_NET_KPI_lost_sales].mean < 0);
	assert_true(c.b.kpi[OMO_NET_KPI_split_rate].max <= 1e-12 ||
	            c.b.kpi[OMO_NET_KPI_split_rate].mean < c.a.kpi[OMO_NET_KPI_split_rate].mean);
	omo_plan_fini(&c.a), omo_plan_fini(&c.b);
	omo_scenario_fini(&b);

	short_demo(&b, "demo", 11);
	assert_int_equal(omo_plan_compare_run(&a, &b, &o, &c), OMO_SIM_OK);
	for (int k = 0; k < OMO_NET_N_KPIS; k++)
		assert_true(c.diff[k].mean == 0 && c.diff[k].m2 == 0);
	omo_plan_fini(&c.a), omo_plan_fini(&c.b);
	omo_scenario_fini(&a), omo_scenario_fini(&b);
}

static double series_sum(const omo_plan *p, unsigned from, unsigned to, omo_net_col col)
{
	double sum = 0;

	for (unsigned d = from; d <= to; d++)
		sum += p->first.series[d * OMO_NET_N_COLS + col];
	return sum;
}

/* The social spike is a Hawkes process: seed orders on its first day, each
 * raising later days' rate; its total mean is seed / (1 - m) with m =
 * excitation x decay / (1 - decay) children per order. Everything else is
 * drawn from other streams, so the difference is the spike alone. */
static void test_social_spike(void **state)
{
	omo_scenario a, b;
	omo_plan pa, pb;
	omo_plan_options o = {.replications = 1, .days = 120, .seed_set = true, .seed = 5};
	double m = 0.35 * 0.6 / 0.4, extra, expected = 2000 / (1 - m);
	char *ta, *tb;

	(void)state;
	load_ok(&a, "name: calm\nextends: demo\ndisruptions: []\n");
	load_ok(&b, "name: viral\nextends: demo\ndisruptions: []\n");
	b.demand.social[0].start = 30;
	b.demand.social[0].seed = 2000;
	a.demand.n_social = 0;
	omo_plan_apply(&a, &o), omo_plan_apply(&b, &o);
	ta = plan_text(&a, &pa);
	tb = plan_text(&b, &pb);
	assert_true(series_sum(&pa, 0, 29, OMO_NET_COL_demand) ==
	            series_sum(&pb, 0, 29, OMO_NET_COL_demand));
	extra = series_sum(&pb, 0, 119, OMO_NET_COL_demand) -
	        series_sum(&pa, 0, 119, OMO_NET_COL_demand);
	printf("  spike: %.0f extra units, expected %.0f\n", extra, expected);
	assert_true(fabs(extra - expected) < 0.1 * expected);
	/* most of it on the first days, decaying */
	assert_true(series_sum(&pb, 30, 30, OMO_NET_COL_demand) -
	                series_sum(&pa, 30, 30, OMO_NET_COL_demand) >
	            1500);
	free(ta), free(tb);
	omo_plan_fini(&pa), omo_plan_fini(&pb);
	omo_scenario_fini(&a), omo_scenario_fini(&b);
}

/* A demand shock multiplies demand on its days; an outage of every
 * warehouse for the whole run leaves warehouses unable to serve anyone. */
static void test_shock_and_outage(void **state)
{
	omo_scenario a, b;
	omo_plan pa, pb;
	omo_plan_options o = {.replications = 1, .days = 80, .seed_set = true, .seed = 3};
	char *ta, *tb;
	double ratio;

	(void)state;
	load_ok(&a, "name: base\nextends: demo\ndisruptions: []\n");
	load_ok(&b, "name: shock\nextends: demo\n"
	            "disruptions: [{kind: demand_shock, size: 2, from: 40, to: 49}]\n");
	omo_plan_apply(&a, &o), omo_plan_apply(&b, &o);
	ta = plan_text(&a, &pa);
	tb = plan_text(&b, &pb);
	ratio = series_sum(&pb, 40, 49, OMO_NET_COL_demand) /
	        series_sum(&pa, 40, 49, OMO_NET_COL_demand);
	printf("  demand x %.3f over the shock\n", ratio);
	assert_true(ratio > 1.9 && ratio < 2.1);
	assert_true(series_sum(&pa, 0, 39, OMO_NET_COL_demand) ==
	            series_sum(&pb, 0, 39, OMO_NET_COL_demand));
	free(ta), free(tb);
	omo_plan_fini(&pa), omo_plan_fini(&pb);
	omo_scenario_fini(&b);

	load_ok(&b, "name: dark\nextends: demo\ndisruptions:\n"
	            "  - {kind: outage, node: DC-NJ, from: 0, to: 999}\n"
	            "  - {kind: outage, node: DC-TX, from: 0, to: 999}\n"
	            "  - {kind: outage, node: DC-CA, from: 0, to: 999}\n");
	omo_plan_apply(&b, &o);
	ta = plan_text(&a, &pa);
	tb = plan_text(&b, &pb);
	/* warehouses neither ship nor receive: their stock never moves */
	for (unsigned d = 1; d < b.days; d++)
		assert_true(pb.first.series[d * OMO_NET_N_COLS + OMO_NET_COL_warehouse] ==
		            pb.first.series[OMO_NET_COL_warehouse]);
	assert_true(pb.kpi[OMO_NET_KPI_fill_rate_2].mean < pa.kpi[OMO_NET_KPI_fill_rate_2].mean);
	assert_true(pb.kpi[OMO_NET_KPI_lost_sales].mean > pa.kpi[OMO_NET_KPI_lost_sales].mean);
	free(ta), free(tb);
	omo_plan_fini(&pa), omo_plan_fini(&pb);
	omo_scenario_fini(&a), omo_scenario_fini(&b);
}

/* More stock at the stores loses fewer walk-ins, on the same consumers. */
static void test_policy_levels(void **state)
{
	omo_scenario a, b;
	omo_plan_compare c;
	omo_plan_options o = {.replications = 3, .days = 120, .seed_set = true, .seed = 9};

	(void)state;
	load_ok(&a, "name: lean\nextends: demo\ndisruptions: []\n"
	            "policies:\n"
	            "  - {node_type: store, kind: s-S, s: 1, S: 3}\n"
	            "  - {node_type: warehouse, kind: base-stock, S: 14}\n"
	            "  - {node_type: manufacturer, kind: r-Q, s: 8, Q: 7}\n");
	load_ok(&b, "name: deep\nextends: demo\ndisruptions: []\n"
	            "policies:\n"
	            "  - {node_type: store, kind: s-S, s: 6, S: 14}\n"
	            "  - {node_type: warehouse, kind: base-stock, S: 14}\n"
	            "  - {node_type: manufacturer, kind: r-Q, s: 8, Q: 7}\n");
	omo_plan_apply(&a, &o);
	assert_int_equal(omo_plan_compare_run(&a, &b, &o, &c), OMO_SIM_OK);
	omo_sim_ci lost = omo_sim_stat_ci95(&c.diff[OMO_NET_KPI_lost_sales]);
	omo_sim_ci inv = omo_sim_stat_ci95(&c.diff[OMO_NET_KPI_inv_store]);
	printf("  deep - lean: lost sales %+.2f +/- %.2f per day, store stock %+.0f +/- %.0f\n",
	       lost.mean, lost.half, inv.mean, inv.half);
	assert_true(lost.mean + lost.half < 0);
	assert_true(inv.mean - inv.half > 0);
	omo_plan_fini(&c.a), omo_plan_fini(&c.b);
	omo_scenario_fini(&a), omo_scenario_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demo_loads),
	    cmocka_unit_test(test_bad_scenarios_refused),
	    cmocka_unit_test(test_mutated_scenarios),
	    cmocka_unit_test(test_same_seed_same_bytes),
	    cmocka_unit_test(test_different_seeds_differ),
	    cmocka_unit_test(test_common_random_numbers),
	    cmocka_unit_test(test_social_spike),
	    cmocka_unit_test(test_shock_and_outage),
	    cmocka_unit_test(test_policy_levels),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
