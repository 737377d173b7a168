/*
 * test_sim_queue.c - the single-server queue on the engine (simulators/
 * engine/sim_queue.h) against ../shared/TESTING.md's M/M/1 row (arrival
 * 0.9, service 1.0: L = 9, W = 10), Pollaczek-Khinchine for M/D/1 and a
 * uniform M/G/1, a deterministic D/D/1, Little's law, and determinism.
 *
 * At utilisation 0.9 a queue forgets slowly: the waiting time's variance
 * constant is about 36,000 time units squared per customer, so 10^6
 * customers give a 95% interval of about +/-4%. The M/M/1 test runs
 * 2 x 10^7 customers (4 x 10^7 events) for an interval near +/-1%.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_check.h"
#include "sim_queue.h"
#include "sim_theory.h"

static omo_sim_queue_params mm1(uint64_t customers, uint64_t seed)
{
	return (omo_sim_queue_params){
	    .interarrival = {.kind = OMO_SIM_DIST_EXPONENTIAL, .a = 0.9},
	    .service = {.kind = OMO_SIM_DIST_EXPONENTIAL, .a = 1.0},
	    .warmup = 100000,
	    .customers = customers,
	    .seed = seed,
	};
}

/* little checks L = throughput x W on the run's own sample path (up to the
 * customers in the system at the window's two ends). */
static void little(const omo_sim_queue_result *r)
{
	double lw = (double)r->customers / r->elapsed * r->W;

	assert_true(fabs(r->L - lw) <= 1e-3 * r->L);
}

static void test_mm1_reference(void **state)
{
	omo_sim_queue_params p = mm1(20000000, 2024);
	omo_sim_queue_theory th;
	omo_sim_queue_result r;
	uint64_t events;

	(void)state;
	assert_int_equal(omo_sim_mm1(0.9, 1.0, &th), OMO_SIM_OK);
	assert_int_equal(omo_sim_queue_run(&p, &r, &events, NULL), OMO_SIM_OK);
	printf("  %llu customers, %llu events\n", (unsigned long long)r.customers,
	       (unsigned long long)events);
	assert_int_equal(r.customers, 20000000);
	sim_check("M/M/1 L", r.L_ci, th.L, 0.015);
	sim_check("M/M/1 W", r.W_ci, th.W, 0.015);
	sim_check("M/M/1 Lq", r.Lq_ci, th.Lq, 0.015);
	sim_check("M/M/1 Wq", r.Wq_ci, th.Wq, 0.015);
	sim_check("M/M/1 utilisation", (omo_sim_ci){.mean = r.utilisation}, th.rho, 0);
	little(&r);
}

static void test_mg1_pollaczek_khinchine(void **state)
{
	omo_sim_queue_params p = mm1(2000000, 77);
	omo_sim_queue_theory th;
	omo_sim_queue_result r;

	(void)state;
	/* M/D/1 at rho 0.5. */
	p.interarrival.a = 0.5;
	p.service = (omo_sim_dist){.kind = OMO_SIM_DIST_CONSTANT, .a = 1.0};
	assert_int_equal(omo_sim_mg1(0.5, 1.0, 0.0, &th), OMO_SIM_OK);
	assert_int_equal(omo_sim_queue_run(&p, &r, NULL, NULL), OMO_SIM_OK);
	sim_check("M/D/1 L", r.L_ci, th.L, 0.01);
	sim_check("M/D/1 Wq", r.Wq_ci, th.Wq, 0.01);
	little(&r);

	/* M/G/1, uniform service on [0.5, 1.5), rho 0.7. */
	p.interarrival.a = 0.7;
	p.service = (omo_sim_dist){.kind = OMO_SIM_DIST_UNIFORM, .a = 0.5, .b = 1.5};
	assert_int_equal(omo_sim_mg1(0.7, 1.0, 1.0 / 12, &th), OMO_SIM_OK);
	assert_int_equal(omo_sim_queue_run(&p, &r, NULL, NULL), OMO_SIM_OK);
	sim_check("M/U/1 L", r.L_ci, th.L, 0.01);
	sim_check("M/U/1 W", r.W_ci, th.W, 0.01);
	little(&r);
}

static void test_dd1_exact(void **state)
{
	omo_sim_queue_params p = {
	    .interarrival = {.kind = OMO_SIM_DIST_CONSTANT, .a = 1.0},
	    .service = {.kind = OMO_SIM_DIST_CONSTANT, .a = 0.5},
	    .customers = 1000,
	    .batch = 100,
	};
	omo_sim_queue_result r;
	uint64_t events;

	(void)state;
	assert_int_equal(omo_sim_queue_run(&p, &r, &events, NULL), OMO_SIM_OK);
	assert_true(r.W == 0.5 && r.Wq == 0.0);
	/* From the first arrival to the 1000th departure: 999.5 time units, 500 busy. */
	assert_true(fabs(r.elapsed - 999.5) < 1e-12);
	assert_true(fabs(r.L - 500 / 999.5) < 1e-12);
	assert_true(r.Lq == 0.0);
	/* 1000 arrivals and 1000 departures; the run stops before the arrival at 1000. */
	assert_int_equal(events, 2000);
}

static char *trace_run(uint64_t seed, size_t *len, omo_sim_queue_result *r)
{
	omo_sim_queue_params p = mm1(20000, seed);
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	p.warmup = 0;
	assert_int_equal(omo_sim_queue_run(&p, r, NULL, f), OMO_SIM_OK);
	fclose(f);
	return buf;
}

static void test_determinism(void **state)
{
	omo_sim_queue_result ra, rb, rc;
	size_t la, lb, lc;
	char *a = trace_run(5, &la, &ra), *b = trace_run(5, &lb, &rb), *c = trace_run(6, &lc, &rc);

	(void)state;
	assert_true(la > 40000 * 20);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_true(ra.W == rb.W && ra.L == rb.L);
	assert_true(la != lc || memcmp(a, c, la) != 0);
	assert_true(ra.W != rc.W);
	free(a);
	free(b);
	free(c);
}

/* Common random numbers: a faster server, same seed, sees the same arrivals. */
static void test_common_arrivals(void **state)
{
	omo_sim_queue_params p = mm1(50000, 9);
	omo_sim_queue_result slow, fast;

	(void)state;
	p.warmup = 0;
	assert_int_equal(omo_sim_queue_run(&p, &slow, NULL, NULL), OMO_SIM_OK);
	p.service.a = 2.0;
	assert_int_equal(omo_sim_queue_run(&p, &fast, NULL, NULL), OMO_SIM_OK);
	/* Same arrivals: the 50,000th departure happens after the same 50,000th arrival. */
	assert_true(fast.W < slow.W);
	assert_true(fabs(fast.elapsed - slow.elapsed) < slow.W + fast.W + 100);
}

static void test_bad_parameters(void **state)
{
	omo_sim_queue_params p = mm1(10, 1);
	omo_sim_queue_result r;

	(void)state;
	p.service.a = 0;
	assert_int_equal(omo_sim_queue_run(&p, &r, NULL, NULL), OMO_SIM_EINVAL);
	p = mm1(0, 1);
	assert_int_equal(omo_sim_queue_run(&p, &r, NULL, NULL), OMO_SIM_EINVAL);
	p = mm1(10, 1);
	p.unit_us = -1;
	assert_int_equal(omo_sim_queue_run(&p, &r, NULL, NULL), OMO_SIM_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mm1_reference),   cmocka_unit_test(test_mg1_pollaczek_khinchine),
	    cmocka_unit_test(test_dd1_exact),       cmocka_unit_test(test_determinism),
	    cmocka_unit_test(test_common_arrivals), cmocka_unit_test(test_bad_parameters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
