/*
 * sim_stats.h - output analysis: running means and variances, batch means,
 * and Student-t 95% confidence intervals.
 *
 * Observations inside one run are correlated (a queue's waiting times, an
 * inventory's levels), so a run's confidence interval comes from batch
 * means: the run is cut into consecutive batches much longer than the
 * correlation, and the batch averages are treated as i.i.d. Replications
 * and paired differences between two scenarios on common random numbers
 * feed omo_sim_stat directly.
 *
 * Memory rule: all of these are plain values in the caller's storage; a
 * zeroed struct is an empty statistic.
 */
#ifndef OMO_SIM_STATS_H
#define OMO_SIM_STATS_H

#include <stdbool.h>
#include <stdint.h>

/* Running mean and variance (Welford), with extremes. */
typedef struct omo_sim_stat {
	uint64_t n;  /* observations */
	double mean; /* of the observations so far */
	double m2;   /* sum of squared deviations from the mean */
	double min;  /* smallest observation (0 when n == 0) */
	double max;  /* largest observation (0 when n == 0) */
} omo_sim_stat;

/* A 95% confidence interval: mean +/- half. */
typedef struct omo_sim_ci {
	double mean;
	double half; /* half-width; infinite with fewer than two observations */
	uint64_t n;  /* observations (or batches) behind it */
} omo_sim_ci;

/* omo_sim_stat_add adds observation x to s. */
void omo_sim_stat_add(omo_sim_stat *s, double x);

/* omo_sim_stat_variance returns s's sample variance (n - 1 divisor), or 0
 * below two observations. */
double omo_sim_stat_variance(const omo_sim_stat *s);

/* omo_sim_stat_ci95 returns the t-based 95% interval for the mean of i.i.d.
 * observations s. */
omo_sim_ci omo_sim_stat_ci95(const omo_sim_stat *s);

/* omo_sim_ci_contains reports whether x lies within ci. */
bool omo_sim_ci_contains(const omo_sim_ci *ci, double x);

/* omo_sim_t975 returns the 0.975 quantile of Student's t with dof degrees
 * of freedom (>= 1): tabulated to 1e-9 up to 30, a Cornish-Fisher
 * expansion (error below 1e-5) above, and the normal 1.959964 at infinity. */
double omo_sim_t975(uint64_t dof);

/* Batch means: observations are grouped into batches of a fixed size; each
 * full batch's average is one observation of the batches statistic. */
typedef struct omo_sim_batch {
	uint64_t size;        /* observations per batch, >= 1 */
	uint64_t filled;      /* observations in the batch being filled */
	double sum;           /* of the batch being filled */
	uint64_t n;           /* every observation */
	double total;         /* of every observation */
	omo_sim_stat batches; /* one observation per full batch */
} omo_sim_batch;

/* omo_sim_batch_init empties b and sets its batch size (0 counts as 1). */
void omo_sim_batch_init(omo_sim_batch *b, uint64_t size);

/* omo_sim_batch_add adds observation x. */
void omo_sim_batch_add(omo_sim_batch *b, double x);

/* omo_sim_batch_mean returns the mean of every observation (0 if none). */
double omo_sim_batch_mean(const omo_sim_batch *b);

/* omo_sim_batch_ci95 returns the mean of every observation with the
 * half-width of the batch means' 95% interval (infinite below two full
 * batches). */
omo_sim_ci omo_sim_batch_ci95(const omo_sim_batch *b);

#endif
