/*
 * sim_rng.h - random numbers for the simulator: the xoshiro256** generator
 * (Blackman & Vigna, 2018) seeded through splitmix64, independent streams
 * per purpose, and the distributions models draw from.
 *
 * Streams: omo_sim_rng_init(r, seed, stream) derives a generator from a run
 * seed and a stream number by hashing both through splitmix64. Give every
 * purpose its own stream (arrivals, service times, demand at each node) and
 * two scenarios run with the same seed see the same arrivals and demands -
 * common random numbers - however differently they consume other streams.
 * With a period of 2^256 - 1, the chance that two hashed streams overlap
 * within any feasible run is negligible; omo_sim_rng_jump gives provably
 * disjoint subsequences where that matters.
 *
 * Each variate takes exactly one uniform - by inversion for the uniform,
 * exponential, normal, lognormal and Poisson below mean 10, by the alias
 * method for discrete tables - so a stream stays aligned draw for draw when
 * a parameter changes, and common random numbers stay common. The
 * large-mean Poisson uses rejection (PTRS) and takes a variable number.
 *
 * Determinism: the same seed and stream give the same numbers on every run
 * of the same build. The generator is integer arithmetic, the same on every
 * platform; the continuous variates also depend on libm's log and exp.
 * (Release and sanitizer builds of this tree print identical results.)
 *
 * Memory rule: generators and distributions live in the caller's storage;
 * only omo_sim_discrete owns heap memory (omo_sim_discrete_fini frees it).
 */
#ifndef OMO_SIM_RNG_H
#define OMO_SIM_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

typedef struct omo_sim_rng {
	uint64_t s[4]; /* xoshiro256** state; never all zero */
} omo_sim_rng;

/* omo_sim_splitmix64 advances *state by the golden-ratio increment and
 * returns its mixed output (Steele, Lea & Flood 2014). */
uint64_t omo_sim_splitmix64(uint64_t *state);

/* omo_sim_rng_init seeds r for (seed, stream). Any two pairs give
 * unrelated sequences. */
void omo_sim_rng_init(omo_sim_rng *r, uint64_t seed, uint64_t stream);

/* omo_sim_rng_jump advances r by 2^128 draws: calling it k times on copies
 * of one generator gives k non-overlapping sequences. */
void omo_sim_rng_jump(omo_sim_rng *r);

static inline uint64_t omo_sim_rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* omo_sim_rng_next returns the next 64 random bits. */
static inline uint64_t omo_sim_rng_next(omo_sim_rng *r)
{
	uint64_t *s = r->s;
	const uint64_t out = omo_sim_rotl64(s[1] * 5, 7) * 9;
	const uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = omo_sim_rotl64(s[3], 45);
	return out;
}

/* omo_sim_rng_u01 returns a uniform double in [0, 1) on a 2^-53 grid. */
static inline double omo_sim_rng_u01(omo_sim_rng *r)
{
	return (double)(omo_sim_rng_next(r) >> 11) * 0x1.0p-53;
}

/* omo_sim_rng_u01_open returns a uniform double in (0, 1): the midpoints of
 * the 2^-53 grid, so log() and inverse CDFs never see 0 or 1. */
static inline double omo_sim_rng_u01_open(omo_sim_rng *r)
{
	return ((double)(omo_sim_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* omo_sim_rng_below returns a uniform integer in [0, n), without modulo
 * bias; n must be > 0. */
uint64_t omo_sim_rng_below(omo_sim_rng *r, uint64_t n);

/* omo_sim_rng_uniform returns a uniform double in [a, b). */
double omo_sim_rng_uniform(omo_sim_rng *r, double a, double b);

/* omo_sim_rng_exponential returns an exponential variate with the given
 * rate (> 0), mean 1/rate, by inversion. */
double omo_sim_rng_exponential(omo_sim_rng *r, double rate);

/* omo_sim_rng_normal returns a normal variate N(mean, sd^2) by inversion
 * (omo_sim_norm_inv, Wichura's AS241); it is never truncated. */
double omo_sim_rng_normal(omo_sim_rng *r, double mean, double sd);

/* omo_sim_rng_lognormal returns exp(N(mu, sigma^2)); mu and sigma are the
 * parameters of the logarithm, not the variate's mean and deviation. */
double omo_sim_rng_lognormal(omo_sim_rng *r, double mu, double sigma);

/* omo_sim_rng_poisson returns a Poisson variate with the given mean
 * (>= 0): by inversion below mean 10, and above by Hormann's transformed
 * rejection with squeeze (PTRS, 1993), which is exact for any mean (the
 * result saturates at 2^63 for absurd means). */
uint64_t omo_sim_rng_poisson(omo_sim_rng *r, double mean);

/* omo_sim_log_factorial returns log(k!), exactly summed below 16 and by
 * Stirling's series (error below 1e-15 relative) above. */
double omo_sim_log_factorial(uint64_t k);

/*
 * A finite discrete distribution: values with weights, sampled in O(1) by
 * Walker's alias method (Vose's construction). An empirical distribution
 * (resampling an observed series) is one with equal weights.
 */
typedef struct omo_sim_discrete {
	size_t n;        /* number of values */
	double *value;   /* n values, in the order given */
	double *prob;    /* n probabilities of keeping column i rather than its alias */
	uint32_t *alias; /* n alias columns */
	double mean;     /* of the distribution */
	double variance; /* of the distribution */
} omo_sim_discrete;

/* omo_sim_discrete_init builds d from n values and their weights (>= 0,
 * finite, not all zero; NULL weights means equal weights). d owns copies
 * afterwards. Returns OMO_SIM_EINVAL for bad input (n == 0, n >= 2^32, a
 * negative, non-finite or all-zero weight) and OMO_SIM_ENOMEM, leaving d
 * zeroed, on failure. */
omo_sim_err omo_sim_discrete_init(omo_sim_discrete *d, const double *values, const double *weights,
                                  size_t n);

/* omo_sim_discrete_fini frees what d owns; a zeroed or failed d is fine. */
void omo_sim_discrete_fini(omo_sim_discrete *d);

/* omo_sim_discrete_sample returns one of d's values, drawing one uniform. */
double omo_sim_discrete_sample(const omo_sim_discrete *d, omo_sim_rng *r);

/*
 * A distribution as a value: what models take as parameters (demand per
 * period, interarrival and service times, lead times), and what scenario
 * files will name. One list gives the kinds, their names and parameters.
 */
#define OMO_SIM_DISTS(X)                                                                           \
	X(OMO_SIM_DIST_CONSTANT, "constant")       /* a */                                         \
	X(OMO_SIM_DIST_UNIFORM, "uniform")         /* on [a, b) */                                 \
	X(OMO_SIM_DIST_EXPONENTIAL, "exponential") /* rate a */                                    \
	X(OMO_SIM_DIST_NORMAL, "normal")           /* mean a, standard deviation b */              \
	X(OMO_SIM_DIST_LOGNORMAL, "lognormal")     /* log-mean a, log-deviation b */               \
	X(OMO_SIM_DIST_POISSON, "poisson")         /* mean a */                                    \
	X(OMO_SIM_DIST_DISCRETE, "discrete")       /* table */

typedef enum omo_sim_dist_kind {
#define OMO_SIM_DIST_ENUM(name, text) name,
	OMO_SIM_DISTS(OMO_SIM_DIST_ENUM)
#undef OMO_SIM_DIST_ENUM
} omo_sim_dist_kind;

typedef struct omo_sim_dist {
	omo_sim_dist_kind kind;
	double a, b;                   /* parameters, as listed above */
	const omo_sim_discrete *table; /* OMO_SIM_DIST_DISCRETE: borrowed, must outlive the dist */
} omo_sim_dist;

/* omo_sim_dist_name returns the kind's name in scenario files ("normal"). */
const char *omo_sim_dist_name(omo_sim_dist_kind kind);

/* omo_sim_dist_parse returns the kind named name, or -1. */
int omo_sim_dist_parse(const char *name);

/* omo_sim_dist_check returns OMO_SIM_OK if d's parameters make sense
 * (rates and means positive, deviations non-negative, a table present),
 * else OMO_SIM_EINVAL. */
omo_sim_err omo_sim_dist_check(const omo_sim_dist *d);

/* omo_sim_dist_sample draws one variate of d from r; d must pass
 * omo_sim_dist_check. */
double omo_sim_dist_sample(const omo_sim_dist *d, omo_sim_rng *r);

/* omo_sim_dist_mean returns d's mean. */
double omo_sim_dist_mean(const omo_sim_dist *d);

/* omo_sim_dist_variance returns d's variance. */
double omo_sim_dist_variance(const omo_sim_dist *d);

#endif
