/*
 * bench_engine.c - how fast the simulator's engine runs, on one core.
 *
 *   omo-bench-sim-engine [customers [seed]]
 *
 * Prints events fired, wall time and events per second for:
 *   - the M/M/1 model (arrival rate 0.9, service rate 1.0) on the engine,
 *     two events per customer - the figure issue 6 sets a target for
 *     (20 million events/s; SimPy manages about 0.25 million);
 *   - the raw limit: the same random draws and waiting-time arithmetic in a
 *     plain loop (Lindley's recursion) with no engine, per "event" counted
 *     the same way, so the engine's own cost is the difference;
 *   - the "hold" model (each event reschedules itself an exponential time
 *     ahead) with 1,000 and 100,000 events pending: the calendar's cost as
 *     it grows, which the M/M/1 model (two events pending) hides.
 *
 * A benchmark, not a test: it asserts nothing about speed.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim.h"
#include "sim_queue.h"
#include "sim_rng.h"
#include "sim_theory.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void report(const char *what, uint64_t events, double secs)
{
	printf("  %-28s %12" PRIu64 " events  %8.3f s  %8.2f M events/s\n", what, events, secs,
	       (double)events / secs / 1e6);
}

static int bench_mm1(uint64_t customers, uint64_t seed)
{
	omo_sim_queue_params p = {
	    .interarrival = {.kind = OMO_SIM_DIST_EXPONENTIAL, .a = 0.9},
	    .service = {.kind = OMO_SIM_DIST_EXPONENTIAL, .a = 1.0},
	    .customers = customers,
	    .seed = seed,
	};
	omo_sim_queue_theory th;
	omo_sim_queue_result r;
	omo_sim *sim = NULL;
	omo_sim_queue *q = NULL;
	uint64_t events;
	double t0, secs;
	omo_sim_err err;

	err = omo_sim_alloc(&sim, 0);
	if (err == OMO_SIM_OK)
		err = omo_sim_queue_alloc(&q, sim, &p);
	if (err == OMO_SIM_OK)
		err = omo_sim_queue_start(q);
	if (err != OMO_SIM_OK) {
		fprintf(stderr, "setup: %s\n", omo_sim_strerror(err));
		return 1;
	}
	t0 = now_s();
	events = omo_sim_run(sim, OMO_SIM_FOREVER, 0);
	secs = now_s() - t0;
	omo_sim_queue_report(q, &r);
	omo_sim_mm1(0.9, 1.0, &th);
	report("M/M/1 on the engine", events, secs);
	printf("  %-28s L %.4f (exact %.4f)  W %.4f (exact %.4f)\n", "", r.L, th.L, r.W, th.W);
	omo_sim_queue_free(q);
	omo_sim_free(sim);
	return 0;
}

/* The same draws without the engine: the floor the engine's M/M/1 is measured against. */
static void bench_lindley(uint64_t customers, uint64_t seed)
{
	omo_sim_rng ra, rs;
	double wq = 0.0, sum = 0.0, prev_service = 0.0, t0, secs;

	omo_sim_rng_init(&ra, seed, 0);
	omo_sim_rng_init(&rs, seed, 1);
	t0 = now_s();
	for (uint64_t i = 0; i < customers; i++) {
		double gap = omo_sim_rng_exponential(&ra, 0.9);
		double s;

		/* Same rounding to microseconds as the model. */
		gap = (double)llround(gap * 1e6);
		wq = wq + prev_service - gap;
		if (wq < 0.0)
			wq = 0.0;
		s = (double)llround(omo_sim_rng_exponential(&rs, 1.0) * 1e6);
		sum += wq + s;
		prev_service = s;
	}
	secs = now_s() - t0;
	report("raw limit (no engine)", 2 * customers, secs);
	printf("  %-28s W %.4f\n", "", sum / (double)customers / 1e6);
}

typedef struct hold {
	omo_sim_rng rng;
	uint32_t kind;
} hold;

static void hold_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	hold *h = arg;
	omo_sim_time d = llround(omo_sim_rng_exponential(&h->rng, 1.0) * 1e6);

	if (omo_sim_schedule_in(sim, d, h->kind, ev->payload) != OMO_SIM_OK)
		abort();
}

static int bench_hold(uint64_t pending, uint64_t events, uint64_t seed)
{
	omo_sim *sim = NULL;
	hold h;
	double t0, secs;
	char what[64];
	uint64_t fired;

	omo_sim_rng_init(&h.rng, seed, 2);
	if (omo_sim_alloc(&sim, 0) != OMO_SIM_OK ||
	    omo_sim_register(sim, "hold", hold_cb, &h, &h.kind) != OMO_SIM_OK)
		return 1;
	for (uint64_t i = 0; i < pending; i++) {
		omo_sim_time at = llround(omo_sim_rng_exponential(&h.rng, 1.0) * 1e6);

		if (omo_sim_schedule(sim, at, h.kind, (omo_sim_payload){.u64 = i}) != OMO_SIM_OK)
			return 1;
	}
	t0 = now_s();
	fired = omo_sim_run(sim, OMO_SIM_FOREVER, events);
	secs = now_s() - t0;
	snprintf(what, sizeof(what), "hold, %" PRIu64 " pending", pending);
	report(what, fired, secs);
	omo_sim_free(sim);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t customers = argc > 1 ? strtoull(argv[1], NULL, 10) : 25000000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;

	if (customers == 0) {
		fprintf(stderr, "usage: %s [customers [seed]]\n", argv[0]);
		return 2;
	}
	printf("omo simulator engine, one core, seed %" PRIu64 "\n", seed);
	if (bench_mm1(customers, seed) != 0)
		return 1;
	bench_lindley(customers, seed);
	if (bench_hold(1000, 2 * customers, seed) != 0 ||
	    bench_hold(100000, 2 * customers, seed) != 0)
		return 1;
	return 0;
}
