/*
 * testkit.h - the fixture code the unit tests share: scratch directories
 * under /tmp, a fixed virtual clock, a service's core opened from its
 * omo_service_def with option overrides, and batches run through it: a
 * request and its decoded reply, an event stamped as the next of a
 * producer's stream, a tick, and the events each batch published, decoded.
 *
 * Every helper fails the running cmocka test (fail_msg or an assert) when
 * something it does goes wrong, so callers need not check.
 */
#ifndef OMO_TESTKIT_H
#define OMO_TESTKIT_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "service.h"

#define TK_NOW     1767225600000000LL /* 2026-01-01T00:00:00Z, where a tk_svc's clock starts */
#define TK_MAX_GOT 32
#define TK_MAP     (64u << 20) /* a tk_svc's map size */

/* tk_rm_rf removes path and, if it is a directory, everything below it. */
void tk_rm_rf(const char *path);

/* tk_mkdtemp makes a fresh directory /tmp/omo-test-<tag>-XXXXXX, its name in
 * dir (size bytes); it returns dir, or NULL with errno set. */
char *tk_mkdtemp(char *dir, size_t size, const char *tag);

/* tk_demo_dir is the demo network, simulators/scenarios/demo under
 * $OMO_SOURCE_DIR (or "." when unset). */
const char *tk_demo_dir(void);

/* tk_clock is a fixed virtual clock for omo_core_set_clock: arg points to an
 * int64_t holding the time in microseconds, which the test moves itself. */
int64_t tk_clock(void *arg);

/* tk_encode encodes m; the caller omo_buf_fini's the result. */
omo_buf tk_encode(const omo_msg *m);

/* ---- a service core under test ----------------------------------------- */

typedef struct tk_svc {
	const omo_service_def *def;
	void *cfg, *app;
	omo_core *core;
	char dir[64], data[128]; /* its scratch directory; the store in dir/data */
	int64_t now;             /* its clock (tk_clock), TK_NOW at first */
} tk_svc;

/* A producer's stream as a test plays it. */
typedef struct tk_stream {
	const char *producer;
	uint64_t epoch, seq; /* seq: the last one applied */
} tk_stream;

/* Events a batch published, decoded. */
typedef struct tk_got {
	omo_msg m[TK_MAX_GOT];
	size_t n;
} tk_got;

/* tk_svc_open builds def's service from its defaults, the demo network, a
 * fresh data directory /tmp/omo-test-<tag>-XXXXXX/data, sync=0 and the
 * "name=value" settings of opts (NULL-ended, may be NULL), then opens its
 * core on s->now. */
void tk_svc_open(tk_svc *s, const omo_service_def *def, const char *tag, const char *const *opts);

/* tk_core_open (re)opens s's core over s->data, after tk_svc_open built it. */
void tk_core_open(tk_svc *s);

/* tk_svc_close closes the core, frees the service and removes its directory. */
void tk_svc_close(tk_svc *s);

/* tk_got_take decodes what c's last committed batch published into g. */
void tk_got_take(omo_core *c, tk_got *g);
void tk_got_fini(tk_got *g);

/* tk_request runs req alone in a batch (giving it an id if it has none),
 * decodes the reply into r (checking its corr), keeps the events published
 * in g and, if raw is not NULL, the reply's bytes (the caller fini's them). */
void tk_request(tk_svc *s, tk_got *g, omo_msg *req, omo_msg *r, omo_buf *raw);

/* tk_feed offers ev as event seq of stream st (0: the next one) in a batch of
 * its own, stamped with st's producer and epoch, s's clock and a new id; the
 * events published land in g, and st->seq follows an applied event. With
 * next not NULL the batch also ticks (as the shell does) and *next says when
 * the tick is next due. gap may be NULL. */
omo_applied tk_feed(tk_svc *s, tk_got *g, tk_stream *st, omo_msg *ev, uint64_t seq, omo_gap *gap,
                    int64_t *next);

/* tk_tick runs a tick alone in a batch and returns when it is next due; the
 * events published land in g unless g is NULL. */
int64_t tk_tick(tk_svc *s, tk_got *g);

/* tk_assert_error fails unless r is an error reply of the given code. */
void tk_assert_error(const omo_msg *r, const char *code);

#endif
