/*
 * test_sim_reference.c - every published case under
 * simulators/scenarios/reference/ (reference.h) is reproduced within
 * TESTING.md's rule; and a case file that is wrong is refused, not passed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reference.h"

static const char *source_dir(void)
{
	const char *s = getenv("OMO_SOURCE_DIR");
	return s && *s ? s : ".";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_every_case_reproduced(void **state)
{
	char dir[1024], path[1400], err[512], *names[256];
	size_t n = 0;
	DIR *d;
	struct dirent *e;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/simulators/scenarios/reference", source_dir());
	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL && n < 256)
		if (strlen(e->d_name) > 5 &&
		    strcmp(e->d_name + strlen(e->d_name) - 5, ".yaml") == 0)
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	assert_true(n >= 7);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		int missed = omo_reference_check(path, stdout, err, sizeof(err));
		if (missed < 0)
			printf("  %s\n", err);
		assert_int_equal(missed, 0);
		free(names[i]);
	}
}

static char *write_case(const char *text)
{
	static char path[] = "/tmp/omo-reference-XXXXXX";
	int fd;

	strcpy(path, "/tmp/omo-reference-XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* A wrong expectation is a miss; a malformed case is refused with a reason. */
static void test_wrong_and_malformed_cases(void **state)
{
	static const char *const bad[] = {
	    "model: inventory\nexpect: {cost: 1}\n", /* no demand or policy */
	    "model: barrel\ndemand: {dist: normal, a: 50, b: 8}\nexpect: {cost: 1}\n",
	    "model: queue\ninterarrival: {dist: exponential, a: 0.5}\n"
	    "service: {dist: exponential, a: 1}\nexpect: {cost: 1}\n", /* not a queue measure */
	    "model: queue\ninterarrival: {dist: exponential, a: -1}\n"
	    "service: {dist: exponential, a: 1}\nexpect: {L: 1}\n",
	    "model: inventory\n", /* nothing expected: a case that cannot fail */
	    "[1, 2",
	};
	char err[512], *path;

	(void)state;
	path = write_case("model: queue\ninterarrival: {dist: exponential, a: 0.5}\n"
	                  "service: {dist: exponential, a: 1.0}\ncustomers: 200000\n"
	                  "max_half: 0.05\nexpect: {L: 1.2, W: 2}\n");
	assert_int_equal(omo_reference_check(path, NULL, err, sizeof(err)),
	                 1); /* L is 1, not 1.2 */
	unlink(path);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = write_case(bad[i]);
		err[0] = '\0';
		assert_int_equal(omo_reference_check(path, NULL, err, sizeof(err)), -1);
		assert_true(strlen(err) > 0);
		unlink(path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_case_reproduced),
	    cmocka_unit_test(test_wrong_and_malformed_cases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
