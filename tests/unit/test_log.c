/*
 * test_log.c - log lines are logfmt, one per event, and a disabled level
 * costs no evaluation of its arguments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int evaluations;

static int expensive(void)
{
	return ++evaluations;
}

/* capture runs fn with stderr sent to a file and returns what was written. */
static char *capture(void (*fn)(void))
{
	static char text[4096];
	char path[] = "/tmp/omo-log-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, text, sizeof(text) - 1);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return text;
}

static void log_debug_and_info(void)
{
	OMO_DEBUG("hidden", "n=%d", expensive());
	OMO_INFO("order_accepted", "order=%s lines=%d", "o-1", 3);
}

static void test_disabled_level_does_not_evaluate(void **state)
{
	(void)state;
	assert_int_equal(omo_log_init("orders", "info"), 0);
	evaluations = 0;
	char *out = capture(log_debug_and_info);
	assert_int_equal(evaluations, 0);
	assert_null(strstr(out, "hidden"));
	assert_non_null(
	    strstr(out, " level=info svc=orders event=order_accepted order=o-1 lines=3\n"));
	assert_int_equal(strncmp(out, "ts=", 3), 0);
	assert_int_equal(strchr(out, '\n')[1], '\0'); /* exactly one line */
}

static void test_debug_level_evaluates(void **state)
{
	(void)state;
	assert_int_equal(omo_log_init("router", "debug"), 0);
	evaluations = 0;
	char *out = capture(log_debug_and_info);
	assert_int_equal(evaluations, 1);
	assert_non_null(strstr(out, "level=debug svc=router event=hidden n=1\n"));
}

static void test_unknown_level_refused(void **state)
{
	(void)state;
	assert_int_equal(omo_log_init("orders", "verbose"), -1);
	assert_int_equal(omo_log_init("orders", "error"), 0);
	assert_int_equal(omo_log_threshold, OMO_LOG_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_disabled_level_does_not_evaluate),
	    cmocka_unit_test(test_debug_level_evaluates),
	    cmocka_unit_test(test_unknown_level_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
