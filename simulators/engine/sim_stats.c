/*
 * sim_stats.c - running statistics and confidence intervals. See
 * sim_stats.h.
 */
#include "sim_stats.h"

#include <math.h>

void omo_sim_stat_add(omo_sim_stat *s, double x)
{
	double d;

	if (s->n == 0 || x < s->min)
		s->min = x;
	if (s->n == 0 || x > s->max)
		s->max = x;
	s->n++;
	d = x - s->mean;
	s->mean += d / (double)s->n;
	s->m2 += d * (x - s->mean);
}

double omo_sim_stat_variance(const omo_sim_stat *s)
{
	return s->n < 2 ? 0.0 : s->m2 / (double)(s->n - 1);
}

/* t(0.975) for 1..30 degrees of freedom. */
static const double t975[30] = {
    12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851,
    2.364624252,  2.306004135, 2.262157163, 2.228138852, 2.200985160, 2.178812830,
    2.160368656,  2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.100922040,
    2.093024054,  2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
    2.059538553,  2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
};

double omo_sim_t975(uint64_t dof)
{
	const double z = 1.959963984540054, z2 = z * z;
	double v;

	if (dof == 0)
		return INFINITY;
	if (dof <= 30)
		return t975[dof - 1];
	v = (double)dof;
	/* Cornish-Fisher expansion of t in powers of 1/v around z. */
	return z + z * (z2 + 1.0) / (4.0 * v) +
	       z * ((5.0 * z2 + 16.0) * z2 + 3.0) / (96.0 * v * v) +
	       z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / (384.0 * v * v * v);
}

omo_sim_ci omo_sim_stat_ci95(const omo_sim_stat *s)
{
	omo_sim_ci ci = {.mean = s->mean, .half = INFINITY, .n = s->n};

	if (s->n >= 2)
		ci.half = omo_sim_t975(s->n - 1) * sqrt(omo_sim_stat_variance(s) / (double)s->n);
	return ci;
}

bool omo_sim_ci_contains(const omo_sim_ci *ci, double x)
{
	return fabs(x - ci->mean) <= ci->half;
}

void omo_sim_batch_init(omo_sim_batch *b, uint64_t size)
{
	*b = (omo_sim_batch){.size = size ? size : 1};
}

void omo_sim_batch_add(omo_sim_batch *b, double x)
{
	/* Plain sums: observations arrive at tens of millions a second, and a
	 * division per observation (Welford) would show in the engine's rate. */
	b->n++;
	b->total += x;
	b->sum += x;
	if (++b->filled == b->size) {
		omo_sim_stat_add(&b->batches, b->sum / (double)b->size);
		b->sum = 0.0;
		b->filled = 0;
	}
}

omo_sim_ci omo_sim_batch_ci95(const omo_sim_batch *b)
{
	omo_sim_ci ci = omo_sim_stat_ci95(&b->batches);

	ci.mean = omo_sim_batch_mean(b);
	return ci;
}

double omo_sim_batch_mean(const omo_sim_batch *b)
{
	return b->n > 0 ? b->total / (double)b->n : 0.0;
}
