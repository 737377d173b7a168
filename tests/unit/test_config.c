/*
 * test_config.c - option tables (services/runtime/config.h): defaults, then a
 * file, then the environment, then flags, each overriding the one before;
 * and the errors for unknown options and bad values.
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

#include "config.h"

#define TEST_OPTIONS(X, T)                                                                         \
	OMO_COMMON_OPTIONS(X, T)                                                                   \
	X(T, INT, workers, "4", "worker threads")                                                  \
	X(T, STR, greeting, "hello", "what to say")

typedef struct tcfg {
	TEST_OPTIONS(OMO_CONFIG_FIELD, _)
} tcfg;

static const omo_option opts[] = {TEST_OPTIONS(OMO_CONFIG_ROW, tcfg)};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static const char *const env_names[] = {
    "OMO_CONFIG", "OMO_RUN_DIR", "OMO_ENDPOINTS",  "OMO_DATA_DIR",      "OMO_LOG_LEVEL",
    "OMO_SYNC",   "OMO_MAP_MB",  "OMO_MAP_MAX_MB", "OMO_RETAIN_EVENTS", "OMO_RETAIN_REPLIES_S",
    "OMO_HTTP",   "OMO_WORKERS", "OMO_GREETING"};

typedef struct fx {
	char dir[64];
	char file[128];
	tcfg cfg;
	char err[256];
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
	strcpy(f->dir, "/tmp/omo-test-config-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->file, sizeof(f->file), "%s/omo.conf", f->dir);
	memset(&f->cfg, 0x55, sizeof(f->cfg)); /* garbage the loader must overwrite */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
	unlink(f->file);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void write_file(const fx *f, const char *text)
{
	FILE *fp = fopen(f->file, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* load runs omo_config_load with argv = {"svc", args..., NULL}. */
static int load(fx *f, int argc, const char *const *args)
{
	char *argv[16];
	assert_true(argc < 15);
	argv[0] = (char *)"svc";
	for (int i = 0; i < argc; i++)
		argv[i + 1] = (char *)args[i];
	argv[argc + 1] = NULL;
	f->err[0] = '\0';
	return omo_config_load(opts, N_OPTS, &f->cfg, "svc", argc + 1, argv, f->err,
	                       sizeof(f->err));
}

#define LOAD(f, ...)                                                                               \
	load((f), (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)),        \
	     (const char *const[]){__VA_ARGS__})

static void test_table(void **state)
{
	(void)state;
	assert_int_equal(N_OPTS, 12); /* the 10 common options and the test's 2 */
	assert_string_equal(opts[0].name, "run_dir");
	assert_int_equal(opts[4].type, OMO_OPT_INT);
	assert_string_equal(opts[4].name, "sync");
	assert_string_equal(opts[N_OPTS - 2].name, "workers");
	assert_int_equal(opts[N_OPTS - 2].offset, offsetof(tcfg, workers));
	assert_int_equal(opts[N_OPTS - 1].type, OMO_OPT_STR);
	assert_string_equal(opts[N_OPTS - 1].def, "hello");
}

static void test_defaults(void **state)
{
	fx *f = *state;
	assert_int_equal(load(f, 0, NULL), 0);
	assert_string_equal(f->cfg.run_dir, "state/run");
	assert_string_equal(f->cfg.data_dir, "state/data");
	assert_string_equal(f->cfg.log_level, "info");
	assert_true(f->cfg.sync == 1);
	assert_true(f->cfg.map_mb == 1024);
	assert_true(f->cfg.workers == 4);
	assert_string_equal(f->cfg.greeting, "hello");
}

static void test_file_overrides_default(void **state)
{
	fx *f = *state;
	char arg[160];
	write_file(f, "# a comment\n"
	              "\n"
	              "workers = 12\n"
	              "  greeting=  good day  \n"
	              "data_dir = /var/lib/omo\n");
	snprintf(arg, sizeof(arg), "--config=%s", f->file);
	assert_int_equal(LOAD(f, arg), 0);
	assert_true(f->cfg.workers == 12);
	assert_string_equal(f->cfg.greeting, "good day"); /* trimmed, inner space kept */
	assert_string_equal(f->cfg.data_dir, "/var/lib/omo");
	assert_string_equal(f->cfg.run_dir, "state/run"); /* untouched: default */

	/* OMO_CONFIG names the file too. */
	memset(&f->cfg, 0, sizeof(f->cfg));
	setenv("OMO_CONFIG", f->file, 1);
	assert_int_equal(load(f, 0, NULL), 0);
	assert_true(f->cfg.workers == 12);
}

static void test_env_overrides_file(void **state)
{
	fx *f = *state;
	char arg[160];
	write_file(f, "workers = 12\ngreeting = from file\nmap_mb = 64\n");
	snprintf(arg, sizeof(arg), "--config=%s", f->file);
	setenv("OMO_WORKERS", "-3", 1);
	setenv("OMO_LOG_LEVEL", "debug", 1);
	assert_int_equal(LOAD(f, arg), 0);
	assert_true(f->cfg.workers == -3);
	assert_string_equal(f->cfg.log_level, "debug");
	assert_string_equal(f->cfg.greeting, "from file");
	assert_true(f->cfg.map_mb == 64);
}

static void test_flag_overrides_env(void **state)
{
	fx *f = *state;
	char arg[160];
	write_file(f, "workers = 12\ngreeting = from file\nsync = 0\n");
	snprintf(arg, sizeof(arg), "--config=%s", f->file);
	setenv("OMO_WORKERS", "20", 1);
	setenv("OMO_GREETING", "from env", 1);
	/* The flag comes before --config= on the command line, and still wins. */
	assert_int_equal(LOAD(f, "--workers=30", arg, "--greeting=a=b"), 0);
	assert_true(f->cfg.workers == 30);
	assert_string_equal(f->cfg.greeting, "a=b"); /* split at the first '=' */
	assert_true(f->cfg.sync == 0);
	assert_int_equal(LOAD(f, "--greeting="), 0); /* an empty string is a value */
	assert_string_equal(f->cfg.greeting, "");
	assert_true(f->cfg.workers == 20);
}

static void test_unknown_option(void **state)
{
	fx *f = *state;
	assert_int_equal(LOAD(f, "--colour=blue"), -1);
	assert_non_null(strstr(f->err, "unknown option --colour"));
	assert_int_equal(LOAD(f, "--work=1"), -1); /* no prefix matching */
	assert_non_null(strstr(f->err, "unknown"));
	assert_int_equal(LOAD(f, "workers=1"), -1);
	assert_non_null(strstr(f->err, "unexpected argument workers=1"));
	assert_int_equal(LOAD(f, "--workers"), -1);
	assert_non_null(strstr(f->err, "unexpected argument --workers"));

	write_file(f, "workers = 1\ncolour = blue\n");
	setenv("OMO_CONFIG", f->file, 1);
	assert_int_equal(load(f, 0, NULL), -1);
	char want[160];
	snprintf(want, sizeof(want), "%s:2: unknown option colour", f->file);
	assert_string_equal(f->err, want);

	write_file(f, "workers 1\n");
	assert_int_equal(load(f, 0, NULL), -1);
	snprintf(want, sizeof(want), "%s:1: expected name = value", f->file);
	assert_string_equal(f->err, want);

	unlink(f->file);
	assert_int_equal(load(f, 0, NULL), -1);
	assert_non_null(strstr(f->err, f->file));
}

static void test_bad_int_value(void **state)
{
	fx *f = *state;
	assert_int_equal(LOAD(f, "--workers=12x"), -1);
	assert_non_null(strstr(f->err, "bad value for option --workers"));
	assert_int_equal(LOAD(f, "--workers="), -1);
	assert_int_equal(LOAD(f, "--map_mb=99999999999999999999"), -1); /* overflows int64 */
	assert_int_equal(LOAD(f, "--map_mb=9223372036854775807"), 0);
	assert_true(f->cfg.map_mb == INT64_MAX);

	setenv("OMO_SYNC", "yes", 1);
	assert_int_equal(load(f, 0, NULL), -1);
	assert_string_equal(f->err, "bad value in OMO_SYNC");
	unsetenv("OMO_SYNC");

	write_file(f, "\nworkers = four\n");
	setenv("OMO_CONFIG", f->file, 1);
	assert_int_equal(load(f, 0, NULL), -1);
	char want[160];
	snprintf(want, sizeof(want), "%s:2: bad value for option workers", f->file);
	assert_string_equal(f->err, want);
}

static void test_string_too_long(void **state)
{
	fx *f = *state;
	char arg[OMO_CONFIG_STR_MAX + 32];
	snprintf(arg, sizeof(arg), "--greeting=%0*d", OMO_CONFIG_STR_MAX - 1, 0);
	assert_int_equal(LOAD(f, arg), 0); /* 255 characters fit */
	assert_int_equal(strlen(f->cfg.greeting), OMO_CONFIG_STR_MAX - 1);
	snprintf(arg, sizeof(arg), "--greeting=%0*d", OMO_CONFIG_STR_MAX, 0);
	assert_int_equal(LOAD(f, arg), -1);
}

static void test_help(void **state)
{
	fx *f = *state;
	fflush(stdout);
	assert_int_equal(LOAD(f, "--workers=1", "--help"), 1);
	assert_int_equal(LOAD(f, "-h"), 1);
	/* --help wins even over a bad option after it. */
	assert_int_equal(LOAD(f, "--help", "--nonsense=1"), 1);
}

static void test_config_set(void **state)
{
	fx *f = *state;
	assert_int_equal(load(f, 0, NULL), 0);
	assert_int_equal(omo_config_set(opts, N_OPTS, &f->cfg, "workers", "99"), 0);
	assert_true(f->cfg.workers == 99);
	assert_int_equal(omo_config_set(opts, N_OPTS, &f->cfg, "greeting", "hi"), 0);
	assert_string_equal(f->cfg.greeting, "hi");
	assert_int_equal(omo_config_set(opts, N_OPTS, &f->cfg, "nope", "1"), -1);
	assert_int_equal(omo_config_set(opts, N_OPTS, &f->cfg, "workers", "x"), -1);
	assert_true(f->cfg.workers == 99); /* a refused value changes nothing */
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    T(test_defaults),
	    T(test_file_overrides_default),
	    T(test_env_overrides_file),
	    T(test_flag_overrides_env),
	    T(test_unknown_option),
	    T(test_bad_int_value),
	    T(test_string_too_long),
	    T(test_help),
	    T(test_config_set),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
