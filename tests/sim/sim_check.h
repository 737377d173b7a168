/*
 * sim_check.h - the acceptance rule for simulated means, shared by the sim
 * tests: TESTING.md asks for a simulated mean within +/-1% of the exact
 * value, or within its own 95% confidence interval. Include after cmocka.h.
 */
#ifndef OMO_TEST_SIM_CHECK_H
#define OMO_TEST_SIM_CHECK_H

#include <math.h>
#include <stdio.h>

#include "sim_stats.h"

#define SIM_CHECK_TOLERANCE 0.01 /* relative */

/* sim_check prints the estimate against the reference and asserts the
 * rule above; max_half bounds the interval's relative half-width, so a
 * uselessly wide interval cannot pass the test on its own. An estimate
 * without an interval (half 0: a ratio of variances, a utilisation) must
 * meet the 1% rule. */
static inline void sim_check(const char *what, omo_sim_ci ci, double reference, double max_half)
{
	double err = (ci.mean - reference) / reference;
	double half = ci.half / fabs(reference);

	if (ci.half > 0)
		printf("  %-30s %11.6f  exact %11.6f  error %+7.3f%%  95%% CI +/-%.3f%%%s\n", what,
		       ci.mean, reference, 100 * err, 100 * half,
		       omo_sim_ci_contains(&ci, reference) ? "  (covers exact)" : "");
	else
		printf(
		    "  %-30s %11.6f  exact %11.6f  error %+7.3f%%  (no interval: 1%% rule only)\n",
		    what, ci.mean, reference, 100 * err);
	assert_true(half <= max_half);
	assert_true(fabs(err) <= SIM_CHECK_TOLERANCE || omo_sim_ci_contains(&ci, reference));
}

#endif
