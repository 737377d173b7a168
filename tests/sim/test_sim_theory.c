/*
 * test_sim_theory.c - the exact results (simulators/engine/sim_theory.h):
 * every exact row of ../shared/TESTING.md's reference table to 1e-6, the
 * normal functions they rest on, and the statistics helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "sim_stats.h"
#include "sim_theory.h"

#define EXACT 1e-6 /* TESTING.md: exact formulas to 1e-6 */

static void near(const char *what, double got, double want, double tol)
{
	printf("  %-34s %.9f (reference %.9g)\n", what, got, want);
	assert_true(fabs(got - want) <= tol);
}

/* The textbook case: h = 0.18, p = 0.70, demand N(50, 8^2). */
static omo_sim_normal_stage textbook(unsigned lead_time)
{
	return (omo_sim_normal_stage){
	    .holding = 0.18, .backorder = 0.70, .mean = 50, .sd = 8, .lead_time = lead_time};
}

static void test_newsvendor(void **state)
{
	omo_sim_normal_stage st = textbook(0);
	double S, cost;

	(void)state;
	assert_int_equal(omo_sim_base_stock_optimum(&st, &S, &cost), OMO_SIM_OK);
	near("newsvendor S*", S, 56.603956, EXACT);
	near("newsvendor cost at S*", cost, 1.9976052, EXACT);
	near("newsvendor cost(S*) by g(S)", omo_sim_base_stock_cost(&st, S), 1.9976052, EXACT);
	near("newsvendor cost at S=40", omo_sim_base_stock_cost(&st, 40), 7.3561316, EXACT);
	/* S* minimises g: nudging either way costs more. */
	assert_true(omo_sim_base_stock_cost(&st, S + 0.01) > cost);
	assert_true(omo_sim_base_stock_cost(&st, S - 0.01) > cost);
	near("newsvendor P(no stockout) at S*", omo_sim_base_stock_no_stockout(&st, S), 0.7 / 0.88,
	     1e-12);
}

static void test_base_stock_lead_time(void **state)
{
	omo_sim_normal_stage st = textbook(4);
	double S, cost;

	(void)state;
	assert_int_equal(omo_sim_base_stock_optimum(&st, &S, &cost), OMO_SIM_OK);
	near("L=4 S*", S, 264.766894, EXACT);
	near("L=4 cost at S*", cost, 4.466781, EXACT);
	near("L=4 cost(S*) by g(S)", omo_sim_base_stock_cost(&st, S), 4.466781, EXACT);
	near("L=4 P(no stockout) at S*", omo_sim_base_stock_no_stockout(&st, S), 0.795455, EXACT);
	near("L=4 fill rate at S*", omo_sim_base_stock_fill_rate(&st, S), 0.958894, EXACT);
	/* The common approximation 1 - E[B]/mu is 2e-6 off: the exact formula matters at 1e-6. */
	assert_true(fabs((1 - 8 * sqrt(5) * omo_sim_norm_loss((S - 250) / (8 * sqrt(5))) / 50) -
	                 0.958894) > EXACT);
}

static void test_fill_rate_lead_time_zero(void **state)
{
	omo_sim_normal_stage st = textbook(0);

	(void)state;
	/* With L = 0 nothing is carried in: 1 - sigma G(z) / mu. */
	near("L=0 fill rate at S=56.603956", omo_sim_base_stock_fill_rate(&st, 56.603956),
	     1 - 8 * omo_sim_norm_loss((56.603956 - 50) / 8) / 50, 1e-12);
}

static void test_eoq(void **state)
{
	double Q, cost;

	(void)state;
	assert_int_equal(omo_sim_eoq(8, 0.225, 1300, &Q, &cost), OMO_SIM_OK);
	near("EOQ Q*", Q, 304.04678, EXACT);
	near("EOQ cost", cost, 68.410526, EXACT);
	near("EOQ cost(Q*) by K D/Q + h Q/2", omo_sim_eoq_cost(8, 0.225, 1300, Q), 68.410526,
	     EXACT);
	assert_int_equal(omo_sim_eoq(0, 0.225, 1300, &Q, &cost), OMO_SIM_EINVAL);
}

static void test_mm1(void **state)
{
	omo_sim_queue_theory q;

	(void)state;
	assert_int_equal(omo_sim_mm1(0.9, 1.0, &q), OMO_SIM_OK);
	near("M/M/1 L", q.L, 9, EXACT);
	near("M/M/1 Lq", q.Lq, 8.1, EXACT);
	near("M/M/1 W", q.W, 10, EXACT);
	near("M/M/1 Wq", q.Wq, 9, EXACT);
	near("M/M/1 rho", q.rho, 0.9, EXACT);
	assert_int_equal(omo_sim_mm1(1.0, 1.0, &q), OMO_SIM_EUNSTABLE);
	assert_int_equal(omo_sim_mm1(-1.0, 1.0, &q), OMO_SIM_EINVAL);
	/* M/D/1 by Pollaczek-Khinchine: Wq = rho / (2 mu (1 - rho)). */
	assert_int_equal(omo_sim_mg1(0.5, 1.0, 0.0, &q), OMO_SIM_OK);
	near("M/D/1 Wq", q.Wq, 0.5, 1e-12);
}

static void test_bullwhip(void **state)
{
	(void)state;
	near("bullwhip MA k=2 p=5", omo_sim_bullwhip_ma(2, 5), 2.12, EXACT);
	near("bullwhip ES k=2 alpha=0.3", omo_sim_bullwhip_es(2, 0.3), 1 + 1.2 + 8 * 0.09 / 1.7,
	     1e-12);
}

static void test_normal_functions(void **state)
{
	(void)state;
	near("Phi^-1(0.975)", omo_sim_norm_inv(0.975), 1.959963984540054, 1e-14);
	near("Phi^-1(0.7/0.88)", omo_sim_norm_inv(0.7 / 0.88), 0.8254944909292357, 1e-13);
	assert_true(omo_sim_norm_inv(0.5) == 0.0);
	assert_true(isinf(omo_sim_norm_inv(0.0)) && omo_sim_norm_inv(0.0) < 0);
	assert_true(isinf(omo_sim_norm_inv(1.0)) && omo_sim_norm_inv(1.0) > 0);
	assert_true(isnan(omo_sim_norm_inv(1.5)));
	/* Phi(Phi^-1(p)) = p across the range, tails to 1e-300 included: to within what
	 * a few ulps of x move Phi by, a relative 1e-15 x^2 in the tails. */
	for (double p = 1e-300; p < 0.5; p *= 3.7) {
		double x = omo_sim_norm_inv(p), y = omo_sim_norm_inv(1 - p);

		assert_true(fabs(omo_sim_norm_cdf(x) - p) <= 1e-15 * (1 + x * x) * p);
		if (p > 1e-16) /* 1 - p is exact only to 1e-16 absolute */
			assert_true(fabs(omo_sim_norm_sf(y) - p) <=
			            1e-15 * (1 + y * y) * p + 2e-16);
		/* AS241 alone is already within ~1e-15 relative. */
		assert_true(fabs(omo_sim_norm_as241(p) - x) <= 1e-14 * fabs(x));
	}
	near("Phi(1.2815515655446004)", omo_sim_norm_cdf(1.2815515655446004), 0.9, 1e-15);
	near("G(0)", omo_sim_norm_loss(0), 0.3989422804014327, 1e-15);
	/* G(z) - G(-z) = -z */
	near("G(1.3) - G(-1.3)", omo_sim_norm_loss(1.3) - omo_sim_norm_loss(-1.3), -1.3, 1e-14);
}

static void test_statistics(void **state)
{
	omo_sim_stat s = {0};
	omo_sim_batch b;
	omo_sim_ci ci;

	(void)state;
	for (int i = 1; i <= 10; i++)
		omo_sim_stat_add(&s, i);
	assert_true(fabs(s.mean - 5.5) < 1e-12);
	assert_true(fabs(omo_sim_stat_variance(&s) - 55.0 / 6.0) < 1e-12);
	assert_true(s.min == 1 && s.max == 10);
	ci = omo_sim_stat_ci95(&s);
	assert_true(fabs(ci.half - 2.262157163 * sqrt(55.0 / 60.0)) < 1e-9);
	assert_true(omo_sim_ci_contains(&ci, 5.5 + ci.half * 0.999));
	assert_false(omo_sim_ci_contains(&ci, 5.5 + ci.half * 1.001));
	near("t975(30)", omo_sim_t975(30), 2.042272456, 1e-9);
	near("t975(31) expansion", omo_sim_t975(31), 2.039513446, 1e-5);
	near("t975(60) expansion", omo_sim_t975(60), 2.000297822, 1e-6);
	near("t975(1e9) expansion", omo_sim_t975(1000000000), 1.959963985, 1e-8);
	omo_sim_batch_init(&b, 3);
	for (int i = 1; i <= 10; i++)
		omo_sim_batch_add(&b, i);
	assert_int_equal(b.batches.n, 3); /* 1-3, 4-6, 7-9; 10 is in the open batch */
	assert_true(fabs(b.batches.mean - 5.0) < 1e-12);
	ci = omo_sim_batch_ci95(&b);
	assert_true(fabs(ci.mean - 5.5) < 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_newsvendor),
	    cmocka_unit_test(test_base_stock_lead_time),
	    cmocka_unit_test(test_fill_rate_lead_time_zero),
	    cmocka_unit_test(test_eoq),
	    cmocka_unit_test(test_mm1),
	    cmocka_unit_test(test_bullwhip),
	    cmocka_unit_test(test_normal_functions),
	    cmocka_unit_test(test_statistics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
