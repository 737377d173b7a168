/*
 * test_sim_inventory.c - the periodic-review inventory model (simulators/
 * engine/sim_inventory.h) against ../shared/TESTING.md's reference results:
 * the base-stock cost with lead times 0 and 4, the type-1 and type-2
 * service levels, and the bullwhip ratio of a moving-average order-up-to
 * policy, each simulated over 10^6 periods; then the pinned sequence of
 * events, the other policies' mechanics, lost sales, common random numbers
 * and determinism.
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
#include "sim_inventory.h"
#include "sim_theory.h"

#define PERIODS 1000000
#define WARMUP  1000
#define SEED    20240601u

/* TESTING.md's stage: h = 0.18, p = 0.70, demand N(50, 8^2). */
static omo_sim_inventory_params textbook(unsigned lead_time, double S)
{
	return (omo_sim_inventory_params){
	    .demand = {.kind = OMO_SIM_DIST_NORMAL, .a = 50, .b = 8},
	    .policy = {.kind = OMO_SIM_POLICY_BASE_STOCK, .S = S},
	    .lead_time = lead_time,
	    .holding = 0.18,
	    .backorder = 0.70,
	    .warmup = WARMUP,
	    .periods = PERIODS,
	    .seed = SEED,
	};
}

static omo_sim_ci plain(double x)
{
	return (omo_sim_ci){.mean = x, .half = 0};
}

static void test_base_stock_lead_time_0(void **state)
{
	omo_sim_inventory_params p = textbook(0, 56.603956);
	omo_sim_inventory_result r;

	(void)state;
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_OK);
	assert_int_equal(r.periods, PERIODS);
	sim_check("L=0 cost at S*=56.603956", r.cost_ci, 1.9976052, 0.005);
	sim_check("L=0 P(no stockout)", r.no_stockout_ci, 0.7 / 0.88, 0.005);
	sim_check("L=0 fill rate", r.fill_rate_ci,
	          1 - 8 * omo_sim_norm_loss((56.603956 - 50) / 8) / 50, 0.005);

	p = textbook(0, 40);
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_OK);
	sim_check("L=0 cost at S=40", r.cost_ci, 7.3561316, 0.005);
}

static void test_base_stock_lead_time_4(void **state)
{
	omo_sim_inventory_params p = textbook(4, 264.766894);
	omo_sim_inventory_result r;

	(void)state;
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_OK);
	sim_check("L=4 cost at S*=264.766894", r.cost_ci, 4.466781, 0.005);
	sim_check("L=4 P(no stockout)", r.no_stockout_ci, 0.795455, 0.005);
	sim_check("L=4 fill rate", r.fill_rate_ci, 0.958894, 0.005);
	/* An order every period, of last period's demand. */
	assert_true(r.orders_placed > 0.999);
	assert_true(fabs(r.orders.mean - 50) < 0.1);
}

/* Chen et al. (2000): orders from k x (p-period moving average); k=2, p=5. */
static void test_bullwhip_moving_average(void **state)
{
	omo_sim_inventory_params p = textbook(1, 0);
	omo_sim_inventory_result r;

	(void)state;
	p.policy = (omo_sim_policy){
	    .kind = OMO_SIM_POLICY_MOVING_AVERAGE, .p = 5, .k = 2, .safety = 10, .negative = true};
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_OK);
	sim_check("bullwhip MA k=2 p=5", r.bullwhip_ci, 2.12, 0.005);
	/* The ratio depends on k and p, not on the lead time. */
	p.lead_time = 4;
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_OK);
	sim_check("bullwhip MA k=2 p=5, L=4", r.bullwhip_ci, 2.12, 0.005);
	/* k = 0 means the L+1 = 5 periods the lead time covers: 1 + 2 + 2. */
	p.policy.k = 0;
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_OK);
	sim_check("bullwhip MA k=L+1=5 p=5", r.bullwhip_ci, omo_sim_bullwhip_ma(5, 5), 0.005);
}

static void test_bullwhip_smoothing(void **state)
{
	omo_sim_inventory_params p = textbook(1, 0);
	omo_sim_inventory_result r;

	(void)state;
	p.policy = (omo_sim_policy){
	    .kind = OMO_SIM_POLICY_SMOOTHING, .alpha = 0.3, .k = 2, .negative = true};
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_OK);
	sim_check("bullwhip ES k=2 alpha=0.3", r.bullwhip_ci, omo_sim_bullwhip_es(2, 0.3), 0.005);
}

/* The four steps of each period fire in the pinned order, and the level covers L+1 periods. */
static void test_sequence_pinned(void **state)
{
	omo_sim_inventory_params p = {
	    .demand = {.kind = OMO_SIM_DIST_CONSTANT, .a = 10},
	    .policy = {.kind = OMO_SIM_POLICY_BASE_STOCK, .S = 100},
	    .lead_time = 2,
	    .holding = 1,
	    .backorder = 4,
	    .period_us = 1000,
	    .warmup = 5,
	    .periods = 20,
	};
	omo_sim *sim;
	omo_sim_inventory *inv;
	omo_sim_inventory_result r;
	char *buf = NULL, *csv = NULL;
	size_t len = 0, csv_len = 0;
	FILE *f = open_memstream(&buf, &len), *g = open_memstream(&csv, &csv_len);

	(void)state;
	assert_non_null(f);
	assert_non_null(g);
	p.trace = g;
	assert_int_equal(omo_sim_alloc(&sim, 0), OMO_SIM_OK);
	assert_int_equal(omo_sim_inventory_alloc(&inv, sim, &p), OMO_SIM_OK);
	omo_sim_trace(sim, f);
	assert_int_equal(omo_sim_inventory_start(inv), OMO_SIM_OK);
	assert_int_equal(omo_sim_run(sim, OMO_SIM_FOREVER, 0), 4 * 25);
	fclose(f);
	fclose(g);
	assert_true(strncmp(buf,
	                    "0 0 order 0000000000000000\n"
	                    "0 1 receive 0000000000000000\n"
	                    "0 2 demand 0000000000000000\n"
	                    "0 3 cost 0000000000000000\n"
	                    "1000 4 order 0000000000000001\n"
	                    "1000 5 receive 0000000000000001\n",
	                    strlen("0 0 order 0000000000000000\n"
	                           "0 1 receive 0000000000000000\n"
	                           "0 2 demand 0000000000000000\n"
	                           "0 3 cost 0000000000000000\n"
	                           "1000 4 order 0000000000000001\n"
	                           "1000 5 receive 0000000000000001\n")) == 0);
	/* Period 0 orders nothing (position = S); period 1 orders 10, received in period 3. */
	assert_true(strncmp(csv,
	                    "period,demand,order,received,level,lost,cost\n"
	                    "0,10,0,0,90,0,90\n"
	                    "1,10,10,0,80,0,80\n"
	                    "2,10,10,0,70,0,70\n"
	                    "3,10,10,10,70,0,70\n",
	                    strlen("period,demand,order,received,level,lost,cost\n"
	                           "0,10,0,0,90,0,90\n"
	                           "1,10,10,0,80,0,80\n"
	                           "2,10,10,0,70,0,70\n"
	                           "3,10,10,10,70,0,70\n")) == 0);
	omo_sim_inventory_report(inv, &r);
	/* S - (L+1) D = 100 - 30. */
	assert_true(r.on_hand == 70 && r.backorders == 0 && r.cost == 70);
	assert_true(r.fill_rate == 1 && r.no_stockout == 1);
	omo_sim_inventory_free(inv);
	omo_sim_free(sim);
	free(buf);
	free(csv);
}

/* (r,Q) with constant demand D per period: an order of Q every Q/D periods,
 * ending levels Q-D, ..., 0, so the cost is K D/Q + h (Q-D)/2 exactly. */
static void test_rq_cycle(void **state)
{
	omo_sim_inventory_params p = {
	    .demand = {.kind = OMO_SIM_DIST_CONSTANT, .a = 10},
	    .policy = {.kind = OMO_SIM_POLICY_RQ, .s = 0, .Q = 30},
	    .holding = 0.225,
	    .backorder = 5,
	    .order_fixed = 8,
	    .warmup = 3,
	    .periods = 3000,
	};
	omo_sim_inventory_result r;

	(void)state;
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_OK);
	assert_true(fabs(r.cost - (8.0 * 10 / 30 + 0.225 * (30 - 10) / 2)) < 1e-9);
	assert_true(fabs(r.orders_placed - 1.0 / 3) < 1e-9);
	assert_true(r.backorders == 0);
	/* A reorder point a batch lower gives the same cycle, one batch less stock. */
	p.policy.s = -30;
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_OK);
	assert_true(fabs(r.backorder_cost - 5.0 * 20) < 1e-9); /* levels -10, -20, -30 */
	assert_true(r.on_hand == 0);
}

/* (s,S) with s just below S orders every period: it is the base-stock policy. */
static void test_s_S_limit_is_base_stock(void **state)
{
	omo_sim_inventory_params p = textbook(2, 160);
	omo_sim_inventory_result base, ss;

	(void)state;
	p.periods = 100000;
	assert_int_equal(omo_sim_inventory_run(&p, &base), OMO_SIM_OK);
	p.policy = (omo_sim_policy){.kind = OMO_SIM_POLICY_SS, .s = 160 - 1e-9, .S = 160};
	assert_int_equal(omo_sim_inventory_run(&p, &ss), OMO_SIM_OK);
	assert_true(base.cost == ss.cost);
	assert_true(base.fill_rate == ss.fill_rate);
	/* A real (s,S) gap orders less often. */
	p.policy.s = 50;
	p.order_fixed = 10;
	assert_int_equal(omo_sim_inventory_run(&p, &ss), OMO_SIM_OK);
	assert_true(ss.orders_placed > 0.3 && ss.orders_placed < 0.45);
}

/* With L = 0 and lost sales, the base-stock stage is again the newsvendor. */
static void test_lost_sales_newsvendor(void **state)
{
	omo_sim_inventory_params p = textbook(0, 56.603956);
	omo_sim_inventory_result r;

	(void)state;
	p.lost_sales = true;
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_OK);
	sim_check("lost sales L=0 cost", r.cost_ci, 1.9976052, 0.005);
	sim_check("lost sales L=0 lost/period", plain(r.lost), 8 * omo_sim_norm_loss(6.603956 / 8),
	          0);
	assert_true(r.backorders == 0);
	assert_true(fabs(r.fill_rate - (1 - r.lost / r.demand.mean)) < 1e-9);
}

/* compare runs 20 paired replications (common random numbers: each pair
 * shares a seed) and 20 independent ones of base-stock levels Sa and Sb,
 * checks the paired estimate of the cost difference against the exact one,
 * and returns the two intervals' half-widths. */
static void compare(double Sa, double Sb, double *paired_half, double *independent_half)
{
	omo_sim_normal_stage st = {
	    .holding = 0.18, .backorder = 0.70, .mean = 50, .sd = 8, .lead_time = 0};
	double exact = omo_sim_base_stock_cost(&st, Sb) - omo_sim_base_stock_cost(&st, Sa);
	omo_sim_stat paired = {0}, independent = {0};
	omo_sim_ci cp, ci;

	for (uint64_t rep = 0; rep < 20; rep++) {
		omo_sim_inventory_params a = textbook(0, Sa), b = textbook(0, Sb);
		omo_sim_inventory_result ra, rb, rc;

		a.periods = b.periods = 10000;
		a.seed = b.seed = 1000 + rep;
		assert_int_equal(omo_sim_inventory_run(&a, &ra), OMO_SIM_OK);
		assert_int_equal(omo_sim_inventory_run(&b, &rb), OMO_SIM_OK);
		assert_true(ra.demand.mean == rb.demand.mean); /* the same demand, draw for draw */
		omo_sim_stat_add(&paired, rb.cost - ra.cost);
		b.seed = 5000 + rep;
		assert_int_equal(omo_sim_inventory_run(&b, &rc), OMO_SIM_OK);
		omo_sim_stat_add(&independent, rc.cost - ra.cost);
	}
	cp = omo_sim_stat_ci95(&paired);
	ci = omo_sim_stat_ci95(&independent);
	printf("  cost(S=%g) - cost(S=%g): paired %.4f +/- %.4f, independent %.4f +/- %.4f, "
	       "exact %.4f\n",
	       Sb, Sa, cp.mean, cp.half, ci.mean, ci.half, exact);
	/* Two half-widths of a 20-replication interval is a 99.9% band: not a reference row, so
	 * the check is only that the paired estimate is not biased. */
	assert_true(fabs(cp.mean - exact) <= 2 * cp.half);
	*paired_half = cp.half;
	*independent_half = ci.half;
}

/* Two policies compared on common random numbers: paired replications pin
 * the difference more tightly than independent ones, and by more when the
 * policies are close (the usual question: is the new rule better?) - about
 * 2.4 times here, since the two levels' costs still part on every period
 * whose demand falls above them. */
static void test_common_random_numbers(void **state)
{
	double paired, independent;

	(void)state;
	compare(56.603956, 40, &paired, &independent);
	assert_true(paired < independent);
	compare(56.603956, 60, &paired, &independent);
	assert_true(paired < independent / 2);
}

static char *trace_csv(uint64_t seed, size_t *len, omo_sim_inventory_result *r)
{
	omo_sim_inventory_params p = textbook(3, 210);
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	p.periods = 5000;
	p.seed = seed;
	p.trace = f;
	assert_int_equal(omo_sim_inventory_run(&p, r), OMO_SIM_OK);
	fclose(f);
	return buf;
}

static void test_determinism(void **state)
{
	omo_sim_inventory_result ra, rb, rc;
	size_t la, lb, lc;
	char *a = trace_csv(7, &la, &ra), *b = trace_csv(7, &lb, &rb), *c = trace_csv(8, &lc, &rc);

	(void)state;
	assert_true(la > 5000 * 20);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_true(ra.cost == rb.cost && ra.fill_rate == rb.fill_rate);
	assert_true(la != lc || memcmp(a, c, la) != 0);
	assert_true(ra.demand.mean != rc.demand.mean);
	free(a);
	free(b);
	free(c);
}

static void test_bad_parameters(void **state)
{
	omo_sim_inventory_params p = textbook(0, 50);
	omo_sim_inventory_result r;
	omo_sim *sim;
	omo_sim_inventory *inv = (omo_sim_inventory *)(void *)&p; /* not NULL */

	(void)state;
	p.periods = 0;
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_EINVAL);
	p = textbook(0, 50);
	p.holding = -1;
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_EINVAL);
	p = textbook(0, 50);
	p.policy = (omo_sim_policy){.kind = OMO_SIM_POLICY_RQ, .s = 10, .Q = 0};
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_EINVAL);
	p.policy = (omo_sim_policy){.kind = OMO_SIM_POLICY_SS, .s = 10, .S = 5};
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_EINVAL);
	p.policy = (omo_sim_policy){.kind = OMO_SIM_POLICY_MOVING_AVERAGE, .p = 0};
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_EINVAL);
	p.policy = (omo_sim_policy){.kind = OMO_SIM_POLICY_SMOOTHING, .alpha = 1.5};
	assert_int_equal(omo_sim_inventory_run(&p, &r), OMO_SIM_EINVAL);
	p = textbook(0, 50);
	p.demand.b = -1;
	assert_int_equal(omo_sim_alloc(&sim, 0), OMO_SIM_OK);
	assert_int_equal(omo_sim_inventory_alloc(&inv, sim, &p), OMO_SIM_EINVAL);
	assert_null(inv);
	omo_sim_free(sim);
	assert_string_equal(omo_sim_policy_name(OMO_SIM_POLICY_SS), "s-S");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base_stock_lead_time_0),
	    cmocka_unit_test(test_base_stock_lead_time_4),
	    cmocka_unit_test(test_bullwhip_moving_average),
	    cmocka_unit_test(test_bullwhip_smoothing),
	    cmocka_unit_test(test_sequence_pinned),
	    cmocka_unit_test(test_rq_cycle),
	    cmocka_unit_test(test_s_S_limit_is_base_stock),
	    cmocka_unit_test(test_lost_sales_newsvendor),
	    cmocka_unit_test(test_common_random_numbers),
	    cmocka_unit_test(test_determinism),
	    cmocka_unit_test(test_bad_parameters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
