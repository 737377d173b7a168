/*
 * test_yaml.c - schemas/yamldoc.h: the YAML subset people write by hand read
 * into the same tree as JSON, and every refusal named by line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "yamldoc.h"

static json_t *parse(const char *text, char *err, size_t errlen)
{
	return omo_yaml_parse(text, strlen(text), err, errlen);
}

static void scalars_follow_the_core_schema(void **state)
{
	(void)state;
	char err[128];
	json_t *d = parse("# a comment\n"
	                  "n: 42\nneg: -7\nhex: 0x1F\noct: 0o17\nf: 2.5\nexp: 1e3\n"
	                  "t: true\nF: False\nnul: ~\nempty:\nword: hello world\n"
	                  "quoted: \"42\"\nsingle: 'true'\nbig: 9223372036854775807\n",
	                  err, sizeof err);
	assert_non_null(d);
	assert_int_equal(json_integer_value(json_object_get(d, "n")), 42);
	assert_int_equal(json_integer_value(json_object_get(d, "neg")), -7);
	assert_int_equal(json_integer_value(json_object_get(d, "hex")), 31);
	assert_int_equal(json_integer_value(json_object_get(d, "oct")), 15);
	assert_true(json_is_real(json_object_get(d, "f")));
	assert_true(json_real_value(json_object_get(d, "f")) == 2.5);
	assert_true(json_real_value(json_object_get(d, "exp")) == 1000.0);
	assert_true(json_is_true(json_object_get(d, "t")));
	assert_true(json_is_false(json_object_get(d, "F")));
	assert_true(json_is_null(json_object_get(d, "nul")));
	assert_true(json_is_null(json_object_get(d, "empty")));
	assert_string_equal(json_string_value(json_object_get(d, "word")), "hello world");
	assert_string_equal(json_string_value(json_object_get(d, "quoted")), "42");
	assert_string_equal(json_string_value(json_object_get(d, "single")), "true");
	assert_int_equal(json_integer_value(json_object_get(d, "big")), INT64_MAX);
	json_decref(d);
}

static void nesting_and_flow_style(void **state)
{
	(void)state;
	char err[128];
	json_t *d = parse("strategies:\n"
	                  "  - name: ship\n"
	                  "    filters: [online, capacity]\n"
	                  "    weights: {distance: 1, cost: 2.5}\n"
	                  "  - name: pickup\n",
	                  err, sizeof err);
	assert_non_null(d);
	json_t *s = json_object_get(d, "strategies");
	assert_int_equal(json_array_size(s), 2);
	json_t *first = json_array_get(s, 0);
	assert_string_equal(json_string_value(json_object_get(first, "name")), "ship");
	assert_string_equal(json_string_value(json_array_get(json_object_get(first, "filters"), 1)),
	                    "capacity");
	assert_true(json_real_value(json_object_get(json_object_get(first, "weights"), "cost")) ==
	            2.5);
	json_decref(d);

	/* JSON is YAML */
	d = parse("{\"a\": [1, 2, {\"b\": null}]}", err, sizeof err);
	assert_non_null(d);
	assert_int_equal(json_array_size(json_object_get(d, "a")), 3);
	json_decref(d);
}

static void refuse(const char *text, const char *want)
{
	char err[256];
	json_t *d = parse(text, err, sizeof err);
	if (d)
		fail_msg("accepted: %s", text);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not say \"%s\"", err, want);
}

static void bad_documents_are_refused_by_line(void **state)
{
	(void)state;
	refuse("a: 1\na: 2\n", "line 2: key \"a\" appears twice");
	refuse("a: &x 1\nb: *x\n", "line 2: aliases");
	refuse("a: !!str 1\n", "line 1: tags");
	refuse("? [1, 2]\n: 3\n", "line 1: a mapping key");
	refuse("a: 99999999999999999999\n", "out of range");
	refuse("a: .inf\n", "not a finite number");
	refuse("a: [1, 2\n", "line");
	refuse("a: 1\n---\nb: 2\n", "only one document");
	refuse("a: \"x\\0y\"\n", "NUL");
	char deep[400] = "";
	for (int i = 0; i < 70; i++)
		strcat(deep, "[");
	refuse(deep, "nested deeper");
}

static void missing_file_is_named(void **state)
{
	(void)state;
	char err[256];
	assert_null(omo_yaml_load("/nonexistent/rules.yaml", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/rules.yaml: No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(scalars_follow_the_core_schema),
	    cmocka_unit_test(nesting_and_flow_style),
	    cmocka_unit_test(bad_documents_are_refused_by_line),
	    cmocka_unit_test(missing_file_is_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
