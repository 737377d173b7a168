/*
 * log.h - one key=value line per event on stderr (logfmt), for people and
 * for log shippers alike. The level is checked before any argument is
 * evaluated, so a disabled debug line costs one comparison.
 */
#ifndef OMO_LOG_H
#define OMO_LOG_H

typedef enum omo_log_level {
	OMO_LOG_ERROR = 0,
	OMO_LOG_WARN = 1,
	OMO_LOG_INFO = 2,
	OMO_LOG_DEBUG = 3,
} omo_log_level;

extern int omo_log_threshold;

/* omo_log_init names the service on every line and sets the level by name
 * ("error", "warn", "info", "debug"); returns -1 for an unknown name. */
int omo_log_init(const char *service, const char *level);

/* OMO_LOG(level, "event_name", "key=%s other=%d", ...) */
#define OMO_LOG(lvl, event, ...)                                                                   \
	do {                                                                                       \
		if ((int)(lvl) <= omo_log_threshold)                                               \
			omo_log_write((lvl), (event), __VA_ARGS__);                                \
	} while (0)
#define OMO_ERROR(event, ...) OMO_LOG(OMO_LOG_ERROR, event, __VA_ARGS__)
#define OMO_WARN(event, ...)  OMO_LOG(OMO_LOG_WARN, event, __VA_ARGS__)
#define OMO_INFO(event, ...)  OMO_LOG(OMO_LOG_INFO, event, __VA_ARGS__)
#define OMO_DEBUG(event, ...) OMO_LOG(OMO_LOG_DEBUG, event, __VA_ARGS__)

/* omo_log_write writes one line; use the macros, which check the level. */
void omo_log_write(omo_log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
