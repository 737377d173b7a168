/*
 * test_sim_rng.c - the simulator's random numbers (simulators/engine/
 * sim_rng.h): the generators against their published outputs, streams and
 * seeds that differ, and every distribution's moments and frequencies
 * against theory on a fixed seed.
 *
 * Tolerances are about four standard errors of the estimate, so a correct
 * sampler passes for any seed; the seed is fixed so a run always replays.
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

#include "sim_rng.h"
#include "sim_stats.h"
#include "sim_theory.h"

static void test_splitmix_known_values(void **state)
{
	uint64_t s = 0;

	(void)state;
	/* The reference splitmix64.c from seed 0. */
	assert_int_equal(omo_sim_splitmix64(&s), 0xe220a8397b1dcdafu);
	assert_int_equal(omo_sim_splitmix64(&s), 0x6e789e6aa1b965f4u);
}

static void test_xoshiro_known_values(void **state)
{
	/* xoshiro256** from state {1, 2, 3, 4} (the reference implementation's output). */
	static const uint64_t want[4] = {11520u, 0u, 1509978240u, 1215971899390074240u};
	omo_sim_rng r = {{1, 2, 3, 4}};

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(omo_sim_rng_next(&r), want[i]);
}

static void test_seeds_and_streams(void **state)
{
	omo_sim_rng a, b, c, d, j;
	int same_ab = 1, diff_ac = 0, diff_ad = 0;

	(void)state;
	omo_sim_rng_init(&a, 1, 0);
	omo_sim_rng_init(&b, 1, 0);
	omo_sim_rng_init(&c, 2, 0);
	omo_sim_rng_init(&d, 1, 1);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = omo_sim_rng_next(&a);

		same_ab &= x == omo_sim_rng_next(&b);
		diff_ac += x != omo_sim_rng_next(&c);
		diff_ad += x != omo_sim_rng_next(&d);
	}
	assert_true(same_ab);
	assert_int_equal(diff_ac, 1000);
	assert_int_equal(diff_ad, 1000);

	/* Neighbouring streams are uncorrelated: |r| within 4/sqrt(n). */
	{
		const int n = 200000;
		double sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0, rho;

		omo_sim_rng_init(&a, 5, 10);
		omo_sim_rng_init(&b, 5, 11);
		for (int i = 0; i < n; i++) {
			double x = omo_sim_rng_u01(&a), y = omo_sim_rng_u01(&b);

			sx += x;
			sy += y;
			sxx += x * x;
			syy += y * y;
			sxy += x * y;
		}
		rho = (sxy - sx * sy / n) / sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
		assert_true(fabs(rho) < 4.0 / sqrt(n));
	}

	/* A jumped copy continues elsewhere, deterministically. */
	omo_sim_rng_init(&a, 9, 0);
	j = a;
	omo_sim_rng_jump(&j);
	c = a;
	omo_sim_rng_jump(&c);
	assert_memory_equal(&j, &c, sizeof(j));
	for (int i = 0; i < 100; i++)
		assert_true(omo_sim_rng_next(&a) != omo_sim_rng_next(&j));
}

static void test_uniforms(void **state)
{
	omo_sim_rng r;
	uint64_t counts[7] = {0};
	const int n = 700000;
	double chi2 = 0, lo = 1, hi = 0;

	(void)state;
	omo_sim_rng_init(&r, 3, 0);
	for (int i = 0; i < n; i++) {
		double u = omo_sim_rng_u01(&r), v = omo_sim_rng_u01_open(&r);

		assert_true(u >= 0.0 && u < 1.0);
		assert_true(v > 0.0 && v < 1.0);
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
		counts[omo_sim_rng_below(&r, 7)]++;
	}
	assert_true(lo < 1e-4 && hi > 1 - 1e-4);
	for (int k = 0; k < 7; k++) {
		double e = n / 7.0;

		chi2 += (counts[k] - e) * (counts[k] - e) / e;
	}
	/* chi-square, 6 degrees of freedom: P(> 22.46) = 0.001 */
	assert_true(chi2 < 22.46);
	assert_int_equal(omo_sim_rng_below(&r, 1), 0);
}

/* moments draws n variates of d and checks mean and variance against the
 * distribution's own, each within 5 standard errors (variance's from the
 * sample fourth moment). */
static void moments(const omo_sim_dist *d, uint64_t seed, int n)
{
	omo_sim_rng r;
	omo_sim_stat s = {0};
	double m4 = 0, mean = omo_sim_dist_mean(d), var = omo_sim_dist_variance(d), se_var;

	omo_sim_rng_init(&r, seed, 0);
	for (int i = 0; i < n; i++) {
		double x = omo_sim_dist_sample(d, &r), dx = x - mean;

		omo_sim_stat_add(&s, x);
		m4 += dx * dx * dx * dx;
	}
	m4 /= n;
	se_var = sqrt((m4 - var * var) / n);
	printf("  %-11s a=%-8g b=%-6g mean %.6g (%.6g)  var %.6g (%.6g)\n",
	       omo_sim_dist_name(d->kind), d->a, d->b, s.mean, mean, omo_sim_stat_variance(&s),
	       var);
	assert_true(fabs(s.mean - mean) <= 5.0 * sqrt(var / n) + 1e-12);
	assert_true(fabs(omo_sim_stat_variance(&s) - var) <= 5.0 * se_var + 1e-12);
}

static void test_distribution_moments(void **state)
{
	const omo_sim_dist dists[] = {
	    {.kind = OMO_SIM_DIST_CONSTANT, .a = 4.5},
	    {.kind = OMO_SIM_DIST_UNIFORM, .a = -2, .b = 6},
	    {.kind = OMO_SIM_DIST_EXPONENTIAL, .a = 0.9},
	    {.kind = OMO_SIM_DIST_NORMAL, .a = 50, .b = 8},
	    {.kind = OMO_SIM_DIST_LOGNORMAL, .a = 1.0, .b = 0.5},
	    {.kind = OMO_SIM_DIST_POISSON, .a = 0.3},
	    {.kind = OMO_SIM_DIST_POISSON, .a = 3},
	    {.kind = OMO_SIM_DIST_POISSON, .a = 9.99},
	    {.kind = OMO_SIM_DIST_POISSON, .a = 10},
	    {.kind = OMO_SIM_DIST_POISSON, .a = 50},
	    {.kind = OMO_SIM_DIST_POISSON, .a = 1e4},
	    {.kind = OMO_SIM_DIST_POISSON, .a = 1e9},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(dists) / sizeof(dists[0]); i++) {
		assert_int_equal(omo_sim_dist_check(&dists[i]), OMO_SIM_OK);
		moments(&dists[i], 100 + i, 400000);
	}
}

static void test_normal_quantiles(void **state)
{
	omo_sim_rng r;
	const int n = 1000000;
	const double z[] = {-3, -1.96, -1, 0, 0.5, 1.2815515655446004, 2.5};
	int below[7] = {0};

	(void)state;
	omo_sim_rng_init(&r, 17, 0);
	for (int i = 0; i < n; i++) {
		double x = omo_sim_rng_normal(&r, 0, 1);

		for (int k = 0; k < 7; k++)
			below[k] += x <= z[k];
	}
	for (int k = 0; k < 7; k++) {
		double p = omo_sim_norm_cdf(z[k]), f = (double)below[k] / n;

		assert_true(fabs(f - p) <= 5.0 * sqrt(p * (1 - p) / n));
	}
}

/* poisson_pmf_fit draws n Poisson(mean) variates and checks their
 * frequencies by chi-square over the cells with at least 50 expected. */
static void poisson_pmf_fit(double mean, int n)
{
	omo_sim_rng r;
	uint64_t *count = calloc(4096, sizeof(*count));
	double chi2 = 0, tail_p = 1, tail_n = n;
	int cells = 0;

	assert_non_null(count);
	omo_sim_rng_init(&r, 23, (uint64_t)mean);
	for (int i = 0; i < n; i++) {
		uint64_t k = omo_sim_rng_poisson(&r, mean);

		count[k < 4095 ? k : 4095]++;
	}
	for (uint64_t k = 0; k < 4095; k++) {
		double p = exp(-mean + k * log(mean) - omo_sim_log_factorial(k)), e = p * n;

		if (e < 50)
			continue;
		chi2 += (count[k] - e) * (count[k] - e) / e;
		tail_p -= p;
		tail_n -= count[k];
		cells++;
	}
	/* Lump the rest into one cell. */
	chi2 += (tail_n - tail_p * n) * (tail_n - tail_p * n) / (tail_p * n);
	/* Wilson-Hilferty: chi-square with cells dof exceeds this with p ~ 1e-4. */
	{
		double v = cells, lim = v * pow(1 - 2 / (9 * v) + 3.719 * sqrt(2 / (9 * v)), 3);

		printf("  poisson(%g): chi2 %.1f over %d cells (limit %.1f)\n", mean, chi2,
		       cells + 1, lim);
		assert_true(chi2 < lim);
	}
	free(count);
}

static void test_poisson_pmf(void **state)
{
	(void)state;
	poisson_pmf_fit(2.5, 500000);
	poisson_pmf_fit(10, 500000);
	poisson_pmf_fit(75, 500000);
	poisson_pmf_fit(600, 500000);
}

static void test_log_factorial(void **state)
{
	(void)state;
	assert_true(omo_sim_log_factorial(0) == 0.0);
	assert_true(omo_sim_log_factorial(1) == 0.0);
	for (uint64_t k = 2; k < 100000; k = k * 3 / 2 + 1)
		assert_true(fabs(omo_sim_log_factorial(k) - lgamma((double)k + 1)) <=
		            1e-14 * lgamma((double)k + 1) + 1e-14);
}

static void test_discrete(void **state)
{
	const double values[] = {10, 20, 30, 40, 50};
	const double weights[] = {1, 2, 3, 4, 0};
	omo_sim_discrete d;
	omo_sim_dist dist = {.kind = OMO_SIM_DIST_DISCRETE};
	omo_sim_rng r;
	uint64_t count[5] = {0};
	const int n = 1000000;

	(void)state;
	assert_int_equal(omo_sim_discrete_init(&d, values, weights, 5), OMO_SIM_OK);
	assert_true(fabs(d.mean - 30) < 1e-12);
	assert_true(fabs(d.variance - 100) < 1e-9);
	dist.table = &d;
	omo_sim_rng_init(&r, 29, 0);
	for (int i = 0; i < n; i++) {
		double x = omo_sim_dist_sample(&dist, &r);

		count[(int)(x / 10) - 1]++;
	}
	assert_int_equal(count[4], 0);
	for (int k = 0; k < 4; k++) {
		double p = weights[k] / 10.0;

		assert_true(fabs((double)count[k] / n - p) <= 5 * sqrt(p * (1 - p) / n));
	}
	moments(&dist, 31, 200000);
	omo_sim_discrete_fini(&d);

	/* Equal weights: an empirical distribution resampling a series. */
	assert_int_equal(omo_sim_discrete_init(&d, values, NULL, 5), OMO_SIM_OK);
	assert_true(fabs(d.mean - 30) < 1e-12);
	moments(&dist, 37, 200000);
	omo_sim_discrete_fini(&d);

	/* Bad tables are refused, leaving d empty. */
	{
		const double neg[] = {1, -1}, zero[] = {0, 0}, inf[] = {1, INFINITY};

		assert_int_equal(omo_sim_discrete_init(&d, values, neg, 2), OMO_SIM_EINVAL);
		assert_int_equal(omo_sim_discrete_init(&d, values, zero, 2), OMO_SIM_EINVAL);
		assert_int_equal(omo_sim_discrete_init(&d, values, inf, 2), OMO_SIM_EINVAL);
		assert_int_equal(omo_sim_discrete_init(&d, values, NULL, 0), OMO_SIM_EINVAL);
		assert_null(d.value);
		omo_sim_discrete_fini(&d);
	}
}

static void test_dist_check(void **state)
{
	const omo_sim_dist bad[] = {
	    {.kind = OMO_SIM_DIST_UNIFORM, .a = 2, .b = 1},
	    {.kind = OMO_SIM_DIST_EXPONENTIAL, .a = 0},
	    {.kind = OMO_SIM_DIST_NORMAL, .a = 1, .b = -1},
	    {.kind = OMO_SIM_DIST_POISSON, .a = -1},
	    {.kind = OMO_SIM_DIST_DISCRETE},
	    {.kind = OMO_SIM_DIST_NORMAL, .a = NAN, .b = 1},
	    {.kind = (omo_sim_dist_kind)99},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(omo_sim_dist_check(&bad[i]), OMO_SIM_EINVAL);
	assert_string_equal(omo_sim_dist_name(OMO_SIM_DIST_POISSON), "poisson");
	assert_string_equal(omo_sim_dist_name((omo_sim_dist_kind)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_splitmix_known_values),
	    cmocka_unit_test(test_xoshiro_known_values),
	    cmocka_unit_test(test_seeds_and_streams),
	    cmocka_unit_test(test_uniforms),
	    cmocka_unit_test(test_distribution_moments),
	    cmocka_unit_test(test_normal_quantiles),
	    cmocka_unit_test(test_poisson_pmf),
	    cmocka_unit_test(test_log_factorial),
	    cmocka_unit_test(test_discrete),
	    cmocka_unit_test(test_dist_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
