#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const omo_option *find(const omo_option *opts, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

static int set(const omo_option *o, void *cfg, const char *value)
{
	char *dst = (char *)cfg + o->offset;
	if (o->type == OMO_OPT_STR) {
		if (strlen(value) >= OMO_CONFIG_STR_MAX)
			return -1;
		strcpy(dst, value);
		return 0;
	}
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0')
		return -1;
	*(int64_t *)dst = v;
	return 0;
}

int omo_config_set(const omo_option *opts, size_t n, void *cfg, const char *name, const char *value)
{
	const omo_option *o = find(opts, n, name, strlen(name));
	return o == NULL ? -1 : set(o, cfg, value);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(const omo_option *opts, size_t n, void *cfg, const char *path, char *err,
                     size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int lineno = 0;
	if (f == NULL) {
		snprintf(err, errlen, "config file %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		char *s = trim(line), *eq;
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected name = value", path, lineno);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		char *name = trim(s), *value = trim(eq + 1);
		const omo_option *o = find(opts, n, name, strlen(name));
		if (o == NULL || set(o, cfg, value) != 0) {
			snprintf(err, errlen, "%s:%d: %s option %s", path, lineno,
			         o == NULL ? "unknown" : "bad value for", name);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static void help(const omo_option *opts, size_t n, const char *service)
{
	printf("usage: %s [--config=FILE] [--name=value ...]\n\noptions (env OMO_<NAME>):\n",
	       service);
	for (size_t i = 0; i < n; i++)
		printf("  --%-20s %s (default: %s)\n", opts[i].name, opts[i].doc, opts[i].def);
}

int omo_config_load(const omo_option *opts, size_t n, void *cfg, const char *service, int argc,
                    char **argv, char *err, size_t errlen)
{
	const char *file = getenv("OMO_CONFIG");
	for (size_t i = 0; i < n; i++)
		if (set(&opts[i], cfg, opts[i].def) != 0) {
			snprintf(err, errlen, "bad default for %s", opts[i].name);
			return -1;
		}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			help(opts, n, service);
			return 1;
		}
		if (strncmp(argv[i], "--config=", 9) == 0)
			file = argv[i] + 9;
	}
	if (file != NULL && file[0] != '\0' && load_file(opts, n, cfg, file, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char env[80] = "OMO_";
		size_t k = 4;
		for (const char *p = opts[i].name; *p && k < sizeof(env) - 1; p++)
			env[k++] = (char)toupper((unsigned char)*p);
		env[k] = '\0';
		const char *v = getenv(env);
		if (v != NULL && set(&opts[i], cfg, v) != 0) {
			snprintf(err, errlen, "bad value in %s", env);
			return -1;
		}
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;
		if (strncmp(a, "--config=", 9) == 0)
			continue;
		if (strncmp(a, "--", 2) != 0 || (eq = strchr(a, '=')) == NULL) {
			snprintf(err, errlen, "unexpected argument %s (options are --name=value)",
			         a);
			return -1;
		}
		const omo_option *o = find(opts, n, a + 2, (size_t)(eq - a - 2));
		if (o == NULL || set(o, cfg, eq + 1) != 0) {
			snprintf(err, errlen, "%s option %.*s",
			         o == NULL ? "unknown" : "bad value for", (int)(eq - a), a);
			return -1;
		}
	}
	return 0;
}
