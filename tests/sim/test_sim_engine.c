/*
 * test_sim_engine.c - the event engine (simulators/engine/sim.h): events
 * fire in (time, insertion) order however they were scheduled, including
 * from handlers; run limits, stop and the clock behave as documented; and
 * the same seed gives the same trace bytes while another seed does not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_rng.h"

/* What a recording handler saw. */
typedef struct recorder {
	omo_sim_event *seen;
	size_t n, cap;
	uint32_t kind;
	omo_sim_rng rng;
	uint64_t spawn_left; /* events handlers may still schedule */
	uint64_t scheduled;  /* events scheduled so far, initial ones included */
	uint64_t stop_at;    /* call omo_sim_stop at this many events (0: never) */
} recorder;

static void record(recorder *r, const omo_sim_event *ev)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->seen = realloc(r->seen, r->cap * sizeof(*r->seen));
		assert_non_null(r->seen);
	}
	r->seen[r->n++] = *ev;
}

static void record_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	recorder *r = arg;

	record(r, ev);
	if (r->stop_at != 0 && r->n == r->stop_at)
		omo_sim_stop(sim);
}

/* spawn_cb records, then schedules 0..3 events at now + 0..9: many ties, some at now itself. */
static void spawn_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	recorder *r = arg;
	uint64_t k = omo_sim_rng_below(&r->rng, 4);

	record(r, ev);
	for (uint64_t i = 0; i < k && r->spawn_left > 0; i++, r->spawn_left--) {
		omo_sim_time d = (omo_sim_time)omo_sim_rng_below(&r->rng, 10);

		assert_int_equal(
		    omo_sim_schedule_in(sim, d, r->kind, (omo_sim_payload){.u64 = r->scheduled++}),
		    OMO_SIM_OK);
	}
}

/* check_order asserts the recorded events are sorted by (time, seq) and that seq
 * (insertion order) matches the payload numbering given at scheduling time. */
static void check_order(const recorder *r)
{
	for (size_t i = 0; i < r->n; i++) {
		assert_int_equal(r->seen[i].seq, r->seen[i].payload.u64);
		if (i == 0)
			continue;
		assert_true(r->seen[i - 1].time <= r->seen[i].time);
		if (r->seen[i - 1].time == r->seen[i].time)
			assert_true(r->seen[i - 1].seq < r->seen[i].seq);
	}
}

static void test_order_and_ties(void **state)
{
	recorder r = {0};
	omo_sim *sim;
	const size_t n = 100000;

	(void)state;
	assert_int_equal(omo_sim_alloc(&sim, 0), OMO_SIM_OK);
	assert_int_equal(omo_sim_register(sim, "rec", record_cb, &r, &r.kind), OMO_SIM_OK);
	omo_sim_rng_init(&r.rng, 7, 0);
	/* 100,000 events over only 500 distinct times: ~200 ties per time. */
	for (size_t i = 0; i < n; i++) {
		omo_sim_time at = (omo_sim_time)omo_sim_rng_below(&r.rng, 500);

		assert_int_equal(omo_sim_schedule(sim, at, r.kind, (omo_sim_payload){.u64 = i}),
		                 OMO_SIM_OK);
	}
	assert_int_equal(omo_sim_pending(sim), n);
	assert_int_equal(omo_sim_run(sim, OMO_SIM_FOREVER, 0), n);
	assert_int_equal(r.n, n);
	check_order(&r);
	assert_int_equal(omo_sim_pending(sim), 0);
	assert_int_equal(omo_sim_fired(sim), n);
	free(r.seen);
	omo_sim_free(sim);
}

static void test_schedule_from_handlers(void **state)
{
	recorder r = {0};
	omo_sim *sim;

	(void)state;
	assert_int_equal(omo_sim_alloc(&sim, 1000), OMO_SIM_OK);
	assert_int_equal(omo_sim_register(sim, "spawn", spawn_cb, &r, &r.kind), OMO_SIM_OK);
	omo_sim_rng_init(&r.rng, 11, 0);
	r.spawn_left = 200000;
	for (int i = 0; i < 50; i++)
		assert_int_equal(omo_sim_schedule(sim, 1000 + i % 5, r.kind,
		                                  (omo_sim_payload){.u64 = r.scheduled++}),
		                 OMO_SIM_OK);
	omo_sim_run(sim, OMO_SIM_FOREVER, 0);
	assert_int_equal(r.n, r.scheduled);
	assert_true(r.n > 100000);
	check_order(&r);
	free(r.seen);
	omo_sim_free(sim);
}

static void test_run_limits_and_clock(void **state)
{
	recorder r = {0};
	omo_sim *sim;

	(void)state;
	assert_int_equal(omo_sim_alloc(&sim, 100), OMO_SIM_OK);
	assert_int_equal(omo_sim_register(sim, "rec", record_cb, &r, &r.kind), OMO_SIM_OK);
	assert_int_equal(omo_sim_now(sim), 100);
	/* The past is refused and leaves the calendar alone. */
	assert_int_equal(omo_sim_schedule(sim, 99, r.kind, (omo_sim_payload){.u64 = 0}),
	                 OMO_SIM_EPAST);
	assert_int_equal(omo_sim_schedule_in(sim, -1, r.kind, (omo_sim_payload){.u64 = 0}),
	                 OMO_SIM_EPAST);
	assert_int_equal(omo_sim_pending(sim), 0);
	for (uint64_t i = 0; i < 10; i++)
		assert_int_equal(omo_sim_schedule(sim, 100 + 10 * (omo_sim_time)i, r.kind,
		                                  (omo_sim_payload){.u64 = i}),
		                 OMO_SIM_OK);
	/* until: fires 100..130, then the clock moves on to until. */
	assert_int_equal(omo_sim_run(sim, 135, 0), 4);
	assert_int_equal(omo_sim_now(sim), 135);
	/* An event exactly at until fires. */
	assert_int_equal(omo_sim_run(sim, 140, 0), 1);
	assert_int_equal(omo_sim_now(sim), 140);
	/* max_events: the clock stays at the last event. */
	assert_int_equal(omo_sim_run(sim, OMO_SIM_FOREVER, 2), 2);
	assert_int_equal(omo_sim_now(sim), 160);
	/* stop from a handler: after the 8th event in all. */
	r.stop_at = 8;
	assert_int_equal(omo_sim_run(sim, OMO_SIM_FOREVER, 0), 1);
	assert_int_equal(omo_sim_now(sim), 170);
	assert_int_equal(omo_sim_pending(sim), 2);
	/* The rest; with no time limit the clock stays at the last event. */
	assert_int_equal(omo_sim_run(sim, OMO_SIM_FOREVER, 0), 2);
	assert_int_equal(omo_sim_now(sim), 190);
	assert_int_equal(omo_sim_fired(sim), 10);
	/* An empty calendar still moves the clock to until. */
	assert_int_equal(omo_sim_run(sim, 500, 0), 0);
	assert_int_equal(omo_sim_now(sim), 500);
	assert_int_equal(omo_sim_schedule_in(sim, INT64_MAX, r.kind, (omo_sim_payload){.u64 = 0}),
	                 OMO_SIM_EINVAL);
	free(r.seen);
	omo_sim_free(sim);
}

static void test_register_and_errors(void **state)
{
	omo_sim *sim;
	uint32_t kinds[40];

	(void)state;
	assert_int_equal(omo_sim_alloc(&sim, 0), OMO_SIM_OK);
	assert_int_equal(omo_sim_register(sim, NULL, record_cb, NULL, &kinds[0]), OMO_SIM_EINVAL);
	assert_int_equal(omo_sim_register(sim, "x", NULL, NULL, &kinds[0]), OMO_SIM_EINVAL);
	for (uint32_t i = 0; i < 40; i++) {
		assert_int_equal(omo_sim_register(sim, "k", record_cb, NULL, &kinds[i]),
		                 OMO_SIM_OK);
		assert_int_equal(kinds[i], i);
	}
	assert_string_equal(omo_sim_strerror(OMO_SIM_OK), "success");
	assert_string_equal(omo_sim_strerror(OMO_SIM_EPAST),
	                    "event scheduled before the current virtual time");
	assert_string_equal(omo_sim_strerror((omo_sim_err)999), "unknown error");
	omo_sim_free(sim);
	omo_sim_free(NULL);
}

/* trace_run runs the spawning workload from seed and returns the trace (caller frees). */
static char *trace_run(uint64_t seed, size_t *len)
{
	recorder r = {0};
	omo_sim *sim;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(omo_sim_alloc(&sim, 0), OMO_SIM_OK);
	assert_int_equal(omo_sim_register(sim, "spawn", spawn_cb, &r, &r.kind), OMO_SIM_OK);
	omo_sim_trace(sim, f);
	omo_sim_rng_init(&r.rng, seed, 0);
	r.spawn_left = 20000;
	for (int i = 0; i < 20; i++)
		assert_int_equal(
		    omo_sim_schedule(sim, i, r.kind, (omo_sim_payload){.u64 = r.scheduled++}),
		    OMO_SIM_OK);
	omo_sim_run(sim, OMO_SIM_FOREVER, 0);
	omo_sim_free(sim);
	free(r.seen);
	fclose(f);
	return buf;
}

static void test_trace_determinism(void **state)
{
	size_t la, lb, lc;
	char *a = trace_run(42, &la), *b = trace_run(42, &lb), *c = trace_run(43, &lc);

	(void)state;
	assert_true(la > 100000);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_true(la != lc || memcmp(a, c, la) != 0);
	free(a);
	free(b);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_ties),
	    cmocka_unit_test(test_schedule_from_handlers),
	    cmocka_unit_test(test_run_limits_and_clock),
	    cmocka_unit_test(test_register_and_errors),
	    cmocka_unit_test(test_trace_determinism),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
