#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

int omo_log_threshold = OMO_LOG_INFO;
static char log_service[32] = "omo";
static const char *const level_names[] = {"error", "warn", "info", "debug"};

int omo_log_init(const char *service, const char *level)
{
	snprintf(log_service, sizeof(log_service), "%s", service);
	for (int i = 0; i < 4; i++)
		if (strcmp(level, level_names[i]) == 0) {
			omo_log_threshold = i;
			return 0;
		}
	return -1;
}

void omo_log_write(omo_log_level lvl, const char *event, const char *fmt, ...)
{
	char line[1024];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	int n = snprintf(line, sizeof(line),
	                 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ level=%s svc=%s event=%s ",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, (long)tv.tv_usec, level_names[lvl], log_service, event);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line so lines from concurrent processes do not interleave. */
	fprintf(stderr, "%s\n", line);
}
