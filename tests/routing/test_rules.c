/*
 * test_rules.c - rule sets (routing/rules.h): the demo file reads, strategies
 * are selected in order, the hash follows meaning and not layout, and every
 * mistake is refused with a sentence that says where, leaving nothing behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "schema.h"

static const char base[] = "name: t\n"
                           "version: 2\n"
                           "zones: [{max_km: 100, transit_days: 1, base_cost: 500, per_kg: 30}]\n"
                           "strategies:\n"
                           "  - name: pickup\n"
                           "    fulfillments: [pickup_in_store]\n"
                           "    filters: [online, capability]\n"
                           "  - name: b2b\n"
                           "    channels: [b2b]\n"
                           "    filters: [exclusions, hazmat]\n"
                           "    objective: {shipping: 2, package: 100}\n"
                           "    max_splits: 2\n"
                           "    ship_complete: true\n"
                           "  - name: rest\n"
                           "    objective: {distance: 1}\n";

static void parse_ok(const char *text, rt_rules *r)
{
	char err[256] = "";
	int rc = rt_rules_parse_text(text, strlen(text), r, err, sizeof(err));
	if (rc != 0)
		fail_msg("refused: %s", err);
}

static void test_demo_rules_read(void **state)
{
	char path[1024], err[256] = "";
	const char *src = getenv("OMO_SOURCE_DIR");
	rt_rules r;
	(void)state;
	snprintf(path, sizeof(path), "%s/simulators/scenarios/demo/rules.yaml", src ? src : ".");
	assert_int_equal(rt_rules_load(path, &r, err, sizeof(err)), 0);
	assert_string_equal(r.name, "demo");
	assert_true(r.n_strategies >= 3);
	assert_int_equal(strlen(r.hash), RT_HASH_HEX);
	assert_int_equal(r.n_nodes, 15);
	assert_non_null(rt_rules_node(&r, "DC-NJ"));
	assert_true(rt_rules_node(&r, "DC-NJ")->caps & RT_CAP_HAZMAT);
	assert_int_equal(rt_rules_node(&r, "DC-NJ")->cutoff_min, 17 * 60);
	assert_null(rt_rules_node(&r, "NOWHERE"));
	assert_int_equal(rt_rules_stock(&r, "ST-NYC", "SKU-0001")->target, 20);
	rt_rules_fini(&r);
}

static void test_select_in_order(void **state)
{
	rt_rules r;
	(void)state;
	parse_ok(base, &r);
	assert_string_equal(r.name, "t");
	assert_int_equal(r.version, 2);
	/* pick-up goes to the first strategy whatever the channel */
	assert_int_equal(rt_rules_select(&r, OMO_CHANNEL_B2B, OMO_PICKUP_IN_STORE), 0);
	assert_int_equal(rt_rules_select(&r, OMO_CHANNEL_B2B, OMO_SHIP_TO_HOME), 1);
	assert_int_equal(rt_rules_select(&r, OMO_CHANNEL_WEB, OMO_SHIP_TO_HOME), 2);
	assert_int_equal(rt_rules_select(&r, 40, OMO_SHIP_TO_HOME), -1);
	const rt_strategy *b2b = &r.strategies[1];
	assert_int_equal(b2b->filters, RT_FILTER_EXCLUSIONS | RT_FILTER_HAZMAT);
	assert_int_equal(b2b->weights.shipping, 2);
	assert_int_equal(b2b->weights.package, 100);
	assert_int_equal(b2b->weights.distance, 0);
	assert_int_equal(b2b->max_splits, 2);
	assert_true(b2b->ship_complete);
	assert_false(b2b->line_split);
	assert_int_equal(r.zones[0].max_km, 100);
	assert_int_equal(r.zones[0].per_kg, 30);
	rt_rules_fini(&r);
}

static void test_hash_follows_meaning(void **state)
{
	rt_rules a, b, c;
	(void)state;
	parse_ok(base, &a);
	/* the same rules as JSON, keys in another order, with a comment-free layout */
	parse_ok(
	    "{\"version\": 2, \"name\": \"t\","
	    " \"zones\": [{\"per_kg\": 30, \"max_km\": 100, \"transit_days\": 1, \"base_cost\": "
	    "500}],"
	    " \"strategies\": [{\"name\": \"pickup\", \"fulfillments\": [\"pickup_in_store\"],"
	    " \"filters\": [\"online\", \"capability\"]},"
	    " {\"name\": \"b2b\", \"channels\": [\"b2b\"], \"filters\": [\"exclusions\", "
	    "\"hazmat\"],"
	    " \"objective\": {\"package\": 100, \"shipping\": 2}, \"max_splits\": 2,"
	    " \"ship_complete\": true}, {\"name\": \"rest\", \"objective\": {\"distance\": 1}}]}",
	    &b);
	assert_string_equal(a.hash, b.hash);
	char text[sizeof(base)]; /* one weight changed: another hash */
	memcpy(text, base, sizeof(base));
	strstr(text, "shipping: 2")[10] = '3';
	parse_ok(text, &c);
	assert_string_not_equal(a.hash, c.hash);
	for (int i = 0; i < RT_HASH_HEX; i++)
		assert_non_null(strchr("0123456789abcdef", a.hash[i]));
	rt_rules_fini(&a);
	rt_rules_fini(&b);
	rt_rules_fini(&c);
}

/* refused checks text is refused with an error containing want, r zeroed. */
static void refused(const char *text, const char *want)
{
	char err[256] = "";
	rt_rules r, zero;
	memset(&r, 0x5a, sizeof(r));
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(rt_rules_parse_text(text, strlen(text), &r, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, want);
	assert_memory_equal(&r, &zero, sizeof(r));
}

static void test_mistakes_refused(void **state)
{
	(void)state;
	refused("version: 1\nstrategies: [{name: a}]\n", "name is required");
	refused("name: a\nstrategies: [{name: a}]\n", "version is required");
	refused("name: a\nversion: 1\n", "strategies: must be a list");
	refused("name: a\nversion: 1\nstrategies: [{name: a, filter: [online]}]\n",
	        "strategies[0]: unknown key \"filter\"");
	refused("name: a\nversion: 1\nstrategies: [{name: a, filters: [onlne]}]\n",
	        "filters[0] is not a known filter");
	refused("name: a\nversion: 1\nstrategies: [{name: a, objective: {speed: 1}}]\n",
	        "unknown key \"speed\"");
	refused("name: a\nversion: 1\nstrategies: [{name: a, objective: {late: -1}}]\n",
	        "late must be an integer");
	refused("name: a\nversion: 1\nstrategies: [{name: a, channels: [web]}]\n",
	        "none serves channel mobile with ship_to_home");
	refused("name: a\nversion: 1\nstrategies: [{name: a, channels: [fax]}]\n",
	        "channels[0] is not a known channel");
	refused("name: a\nversion: 1\nzones: [{max_km: 9}, {max_km: 5}]\nstrategies: [{name: a}]\n",
	        "zones[1]: zones must be in ascending max_km");
	refused("name: a\nversion: 1\nstrategies: [{name: a}]\nnodes: {N1: {cutoff: \"25:00\"}}\n",
	        "nodes.N1: cutoff must be \"HH:MM\"");
	refused("name: a\nversion: 1\nstrategies: [{name: a}]\nskus: {S: {bom: {C: 0}}}\n",
	        "skus.S: bom.C must be 1 to 100000 units");
	refused("name: a\nversion: 1\nstrategies: [{name: a}]\nstock: [{node: N}]\n",
	        "stock[0]: sku is required");
	refused("name: a\nversion: 1\nstrategies: [{name: a}]\nshards: 3\n",
	        "rule set: unknown key \"shards\"");
	refused("- just\n- a list\n", "rule set: expected a mapping");
	refused("name: [unclosed\n", "line");
}

/* Seeded mutations of a valid file: refused or read, never a crash. */
static void test_mutations_never_crash(void **state)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;
	const char *env = getenv("OMO_ROUTING_SEED");
	(void)state;
	if (env != NULL)
		s = strtoull(env, NULL, 0);
	printf("test_mutations_never_crash: seed 0x%llx\n", (unsigned long long)s);
	for (int i = 0; i < 3000; i++) {
		char text[sizeof(base)], err[256];
		rt_rules r;
		memcpy(text, base, sizeof(base));
		for (int k = 0; k < 1 + i % 4; k++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			text[s % (sizeof(base) - 1)] = (char)(s >> 32);
		}
		if (rt_rules_parse_text(text, sizeof(base) - 1, &r, err, sizeof(err)) == 0) {
			assert_true(r.n_strategies >= 1);
			assert_int_equal(strlen(r.hash), RT_HASH_HEX);
		} else {
			assert_true(err[0] != '\0');
		}
		rt_rules_fini(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demo_rules_read),       cmocka_unit_test(test_select_in_order),
	    cmocka_unit_test(test_hash_follows_meaning),  cmocka_unit_test(test_mistakes_refused),
	    cmocka_unit_test(test_mutations_never_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
