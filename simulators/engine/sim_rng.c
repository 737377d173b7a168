/*
 * sim_rng.c - seeding, streams and distributions. See sim_rng.h.
 */
#include "sim_rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_theory.h"

#define SIM_GOLDEN       0x9E3779B97F4A7C15u    /* splitmix64's increment */
#define SIM_STREAM       0xD1B54A32D192ED03u    /* odd: spreads stream numbers bijectively */
#define SIM_HALF_LOG_2PI 0.91893853320467274178 /* log(2 pi)/2 */

uint64_t omo_sim_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += SIM_GOLDEN);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

void omo_sim_rng_init(omo_sim_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed;

	/* Mix the seed first so seeds 1, 2, 3 are not neighbours in splitmix's
	 * sequence; then each stream number selects its own starting point. */
	x = omo_sim_splitmix64(&x) ^ (stream * SIM_STREAM);
	for (int i = 0; i < 4; i++)
		r->s[i] = omo_sim_splitmix64(&x);
	if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
		r->s[0] = SIM_GOLDEN;
}

void omo_sim_rng_jump(omo_sim_rng *r)
{
	static const uint64_t jump[4] = {0x180ec6d33cfd0abau, 0xd5a61266f0c9392cu,
	                                 0xa9582618e03fc9aau, 0x39abdc4529b1661cu};
	uint64_t t[4] = {0, 0, 0, 0};

	for (int i = 0; i < 4; i++) {
		for (int b = 0; b < 64; b++) {
			if (jump[i] & ((uint64_t)1 << b))
				for (int j = 0; j < 4; j++)
					t[j] ^= r->s[j];
			omo_sim_rng_next(r);
		}
	}
	memcpy(r->s, t, sizeof(t));
}

uint64_t omo_sim_rng_below(omo_sim_rng *r, uint64_t n)
{
	/* Reject the top partial copy of [0, n) so every residue is equally likely. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;

	do
		x = omo_sim_rng_next(r);
	while (x >= limit);
	return x % n;
}

double omo_sim_rng_uniform(omo_sim_rng *r, double a, double b)
{
	return a + (b - a) * omo_sim_rng_u01(r);
}

double omo_sim_rng_exponential(omo_sim_rng *r, double rate)
{
	return -log(omo_sim_rng_u01_open(r)) / rate;
}

double omo_sim_rng_normal(omo_sim_rng *r, double mean, double sd)
{
	return mean + sd * omo_sim_norm_as241(omo_sim_rng_u01_open(r));
}

double omo_sim_rng_lognormal(omo_sim_rng *r, double mu, double sigma)
{
	return exp(omo_sim_rng_normal(r, mu, sigma));
}

double omo_sim_log_factorial(uint64_t k)
{
	double x, x2, s = 0.0;

	if (k < 16) {
		for (uint64_t i = 2; i <= k; i++)
			s += log((double)i);
		return s;
	}
	x = (double)k;
	x2 = x * x;
	/* log k! = k log k - k + log(2 pi k)/2 + 1/12k - 1/360k^3 + 1/1260k^5 - 1/1680k^7 */
	return x * log(x) - x + SIM_HALF_LOG_2PI + 0.5 * log(x) +
	       (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - 1.0 / (1680.0 * x2)) / x2) / x2) / x;
}

/* poisson_inversion searches the CDF from 0 upward: mean < 10, so it takes
 * about mean + 1 steps. */
static uint64_t poisson_inversion(omo_sim_rng *r, double mean)
{
	double u = omo_sim_rng_u01(r), p = exp(-mean), F = p;
	uint64_t k = 0;

	/* A u above the sum of all representable terms stops where the terms vanish. */
	while (u >= F && p > 0.0) {
		k++;
		p *= mean / (double)k;
		F += p;
	}
	return k;
}

/* poisson_ptrs is Hormann's PTRS, "The transformed rejection method for
 * generating Poisson random variables" (1993), for mean >= 10. */
static uint64_t poisson_ptrs(omo_sim_rng *r, double mean)
{
	const double slam = sqrt(mean), loglam = log(mean);
	const double b = 0.931 + 2.53 * slam;
	const double a = -0.059 + 0.02483 * b;
	const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
	const double vr = 0.9277 - 3.6224 / (b - 2.0);

	for (;;) {
		double u = omo_sim_rng_u01(r) - 0.5;
		double v = omo_sim_rng_u01_open(r);
		double us = 0.5 - fabs(u);
		double k = floor((2.0 * a / us + b) * u + mean + 0.43);

		if (us >= 0.07 && v <= vr)
			return k >= 0x1p63 ? (uint64_t)1 << 63 : (uint64_t)k;
		if (k < 0.0 || (us < 0.013 && v > us))
			continue;
		if (k >= 0x1p63)
			return (uint64_t)1 << 63;
		if (log(v) + log(inv_alpha) - log(a / (us * us) + b) <=
		    -mean + k * loglam - omo_sim_log_factorial((uint64_t)k))
			return (uint64_t)k;
	}
}

uint64_t omo_sim_rng_poisson(omo_sim_rng *r, double mean)
{
	if (!(mean > 0.0))
		return 0;
	return mean < 10.0 ? poisson_inversion(r, mean) : poisson_ptrs(r, mean);
}

void omo_sim_discrete_fini(omo_sim_discrete *d)
{
	free(d->value);
	free(d->prob);
	free(d->alias);
	memset(d, 0, sizeof(*d));
}

omo_sim_err omo_sim_discrete_init(omo_sim_discrete *d, const double *values, const double *weights,
                                  size_t n)
{
	double total = 0.0, mean = 0.0, var = 0.0;
	uint32_t *small = NULL, *large = NULL;
	size_t ns = 0, nl = 0;

	memset(d, 0, sizeof(*d));
	if (n == 0 || n >= UINT32_MAX)
		return OMO_SIM_EINVAL;
	for (size_t i = 0; i < n; i++) {
		double w = weights ? weights[i] : 1.0;

		if (!(w >= 0.0) || !isfinite(w) || !isfinite(values[i]))
			return OMO_SIM_EINVAL;
		total += w;
	}
	if (!(total > 0.0) || !isfinite(total))
		return OMO_SIM_EINVAL;
	d->value = malloc(n * sizeof(*d->value));
	d->prob = malloc(n * sizeof(*d->prob));
	d->alias = malloc(n * sizeof(*d->alias));
	small = malloc(n * sizeof(*small));
	large = malloc(n * sizeof(*large));
	if (!d->value || !d->prob || !d->alias || !small || !large) {
		free(small);
		free(large);
		omo_sim_discrete_fini(d);
		return OMO_SIM_ENOMEM;
	}
	d->n = n;
	memcpy(d->value, values, n * sizeof(*values));
	for (size_t i = 0; i < n; i++) {
		double w = (weights ? weights[i] : 1.0) / total;

		mean += w * values[i];
		d->prob[i] = w * (double)n;
		d->alias[i] = (uint32_t)i;
		if (d->prob[i] < 1.0)
			small[ns++] = (uint32_t)i;
		else
			large[nl++] = (uint32_t)i;
	}
	for (size_t i = 0; i < n; i++) {
		double w = (weights ? weights[i] : 1.0) / total, dv = values[i] - mean;

		var += w * dv * dv;
	}
	d->mean = mean;
	d->variance = var;
	/* Vose: pair each under-full column with an over-full one that tops it up. */
	while (ns > 0 && nl > 0) {
		uint32_t s = small[--ns], l = large[nl - 1];

		d->alias[s] = l;
		d->prob[l] = (d->prob[l] + d->prob[s]) - 1.0;
		if (d->prob[l] < 1.0) {
			nl--;
			small[ns++] = l;
		}
	}
	/* Whatever is left is full up to rounding. */
	while (nl > 0)
		d->prob[large[--nl]] = 1.0;
	while (ns > 0)
		d->prob[small[--ns]] = 1.0;
	free(small);
	free(large);
	return OMO_SIM_OK;
}

double omo_sim_discrete_sample(const omo_sim_discrete *d, omo_sim_rng *r)
{
	double u = omo_sim_rng_u01(r) * (double)d->n;
	size_t i = (size_t)u;

	if (i >= d->n) /* u01 < 1, but n * u01 can round up to n */
		i = d->n - 1;
	return u - (double)i < d->prob[i] ? d->value[i] : d->value[d->alias[i]];
}

static const char *const dist_names[] = {
#define SIM_DIST_NAME(name, text) text,
    OMO_SIM_DISTS(SIM_DIST_NAME)
#undef SIM_DIST_NAME
};

const char *omo_sim_dist_name(omo_sim_dist_kind kind)
{
	if ((unsigned)kind >= sizeof(dist_names) / sizeof(dist_names[0]))
		return "unknown";
	return dist_names[kind];
}

int omo_sim_dist_parse(const char *name)
{
	for (size_t i = 0; name && i < sizeof(dist_names) / sizeof(dist_names[0]); i++)
		if (strcmp(dist_names[i], name) == 0)
			return (int)i;
	return -1;
}

omo_sim_err omo_sim_dist_check(const omo_sim_dist *d)
{
	int ok = isfinite(d->a) && isfinite(d->b);

	switch (d->kind) {
	case OMO_SIM_DIST_CONSTANT: break;
	case OMO_SIM_DIST_UNIFORM: ok = ok && d->a <= d->b; break;
	case OMO_SIM_DIST_EXPONENTIAL: ok = ok && d->a > 0; break;
	case OMO_SIM_DIST_NORMAL:
	case OMO_SIM_DIST_LOGNORMAL: ok = ok && d->b >= 0; break;
	case OMO_SIM_DIST_POISSON: ok = ok && d->a >= 0; break;
	case OMO_SIM_DIST_DISCRETE: ok = d->table != NULL && d->table->n > 0; break;
	default: ok = 0; break;
	}
	return ok ? OMO_SIM_OK : OMO_SIM_EINVAL;
}

double omo_sim_dist_sample(const omo_sim_dist *d, omo_sim_rng *r)
{
	switch (d->kind) {
	case OMO_SIM_DIST_CONSTANT: return d->a;
	case OMO_SIM_DIST_UNIFORM: return omo_sim_rng_uniform(r, d->a, d->b);
	case OMO_SIM_DIST_EXPONENTIAL: return omo_sim_rng_exponential(r, d->a);
	case OMO_SIM_DIST_NORMAL: return omo_sim_rng_normal(r, d->a, d->b);
	case OMO_SIM_DIST_LOGNORMAL: return omo_sim_rng_lognormal(r, d->a, d->b);
	case OMO_SIM_DIST_POISSON: return (double)omo_sim_rng_poisson(r, d->a);
	case OMO_SIM_DIST_DISCRETE: return omo_sim_discrete_sample(d->table, r);
	}
	abort(); /* omo_sim_dist_check would have refused it */
}

double omo_sim_dist_mean(const omo_sim_dist *d)
{
	switch (d->kind) {
	case OMO_SIM_DIST_CONSTANT: return d->a;
	case OMO_SIM_DIST_UNIFORM: return 0.5 * (d->a + d->b);
	case OMO_SIM_DIST_EXPONENTIAL: return 1.0 / d->a;
	case OMO_SIM_DIST_NORMAL: return d->a;
	case OMO_SIM_DIST_LOGNORMAL: return exp(d->a + 0.5 * d->b * d->b);
	case OMO_SIM_DIST_POISSON: return d->a;
	case OMO_SIM_DIST_DISCRETE: return d->table->mean;
	}
	abort();
}

double omo_sim_dist_variance(const omo_sim_dist *d)
{
	double w;

	switch (d->kind) {
	case OMO_SIM_DIST_CONSTANT: return 0.0;
	case OMO_SIM_DIST_UNIFORM: w = d->b - d->a; return w * w / 12.0;
	case OMO_SIM_DIST_EXPONENTIAL: return 1.0 / (d->a * d->a);
	case OMO_SIM_DIST_NORMAL: return d->b * d->b;
	case OMO_SIM_DIST_LOGNORMAL: w = d->b * d->b; return expm1(w) * exp(2.0 * d->a + w);
	case OMO_SIM_DIST_POISSON: return d->a;
	case OMO_SIM_DIST_DISCRETE: return d->table->variance;
	}
	abort();
}
