/*
 * sim_theory.h - exact textbook results the simulator is checked against,
 * and the normal-distribution functions they rest on.
 *
 * Sources: Snyder & Shen, Fundamentals of Supply Chain Theory (newsvendor,
 * base-stock with lead time, service levels, EOQ); Chen, Drezner, Ryan &
 * Simchi-Levi (2000) and Chen, Ryan & Simchi-Levi (2000) for the bullwhip
 * effect of order-up-to policies fed by moving-average and exponential-
 * smoothing forecasts; queueing theory for M/M/1 and M/G/1
 * (Pollaczek-Khinchine).
 *
 * Conventions shared with the simulated models (sim_inventory.h): in each
 * period orders are placed, then shipments received, then demand met, then
 * costs charged on the ending inventory level. An order placed in period t
 * with lead time L arrives in period t+L before that period's demand, so a
 * base-stock level covers the demand of L+1 periods.
 *
 * Everything here is a pure function of its arguments: no state, no
 * allocation, safe on any thread. Functions with several results return an
 * omo_sim_err and write through out-parameters only on success.
 */
#ifndef OMO_SIM_THEORY_H
#define OMO_SIM_THEORY_H

#include "sim.h"

/* omo_sim_norm_pdf returns the standard normal density at x. */
double omo_sim_norm_pdf(double x);

/* omo_sim_norm_cdf returns P(Z <= x) for a standard normal Z, as
 * erfc(-x/sqrt 2)/2 (full relative precision in the lower tail). */
double omo_sim_norm_cdf(double x);

/* omo_sim_norm_sf returns P(Z > x) (full relative precision in the upper
 * tail). */
double omo_sim_norm_sf(double x);

/* omo_sim_norm_as241 returns the standard normal quantile of p in (0, 1)
 * by Wichura's algorithm AS241 (PPND16), accurate to about 1e-16 relative;
 * the fast path the samplers use. Returns -inf/+inf at p = 0/1 and NaN
 * outside [0, 1]. */
double omo_sim_norm_as241(double p);

/* omo_sim_norm_inv returns the standard normal quantile of p: AS241 then
 * one Newton step on omo_sim_norm_cdf, so that the two functions agree to
 * the last bits. Same edge values as omo_sim_norm_as241. */
double omo_sim_norm_inv(double p);

/* omo_sim_norm_loss returns the standard normal loss function
 * G(z) = E[(Z - z)+] = pdf(z) - z P(Z > z). */
double omo_sim_norm_loss(double z);

/*
 * A single stage facing i.i.d. normal demand under a base-stock policy with
 * backorders: the newsvendor when lead_time is 0.
 */
typedef struct omo_sim_normal_stage {
	double holding;     /* h: cost per unit on hand at the end of a period */
	double backorder;   /* p: cost per unit backordered at the end of a period */
	double mean;        /* mu: demand per period */
	double sd;          /* sigma: demand per period, > 0 */
	unsigned lead_time; /* L, in periods: the level covers L+1 periods */
} omo_sim_normal_stage;

/* omo_sim_base_stock_optimum writes the cost-minimising base-stock level,
 * S* = mu(L+1) + z* sigma sqrt(L+1) with z* the quantile of p/(p+h), to *S
 * and its expected cost per period, (h+p) sigma sqrt(L+1) pdf(z*), to
 * *cost. Returns OMO_SIM_EINVAL if h or p is not positive or sd is not. */
omo_sim_err omo_sim_base_stock_optimum(const omo_sim_normal_stage *st, double *S, double *cost);

/* omo_sim_base_stock_cost returns the expected holding plus backorder cost
 * per period at level S: h(S - mu') + (h+p) sigma' G((S - mu')/sigma'),
 * where mu' and sigma' are the mean and deviation of L+1 periods' demand. */
double omo_sim_base_stock_cost(const omo_sim_normal_stage *st, double S);

/* omo_sim_base_stock_no_stockout returns the type-1 service level at S: the
 * probability that a period ends with no backorders,
 * P(D[L+1 periods] <= S). */
double omo_sim_base_stock_no_stockout(const omo_sim_normal_stage *st, double S);

/* omo_sim_base_stock_fill_rate returns the type-2 service level at S: the
 * expected fraction of demand met from stock in the period it arrives,
 * 1 - (E[(D[L+1] - S)+] - E[(D[L] - S)+]) / mu. The second term is the part
 * of the backorders carried into the period (zero when L = 0); dropping it
 * gives the common approximation 1 - E[B]/mu. */
double omo_sim_base_stock_fill_rate(const omo_sim_normal_stage *st, double S);

/* omo_sim_eoq writes the economic order quantity sqrt(2KD/h) to *Q and its
 * cost per unit time, ordering plus holding, sqrt(2KDh), to *cost, for fixed
 * order cost K, holding cost h per unit per unit time and demand rate D.
 * Returns OMO_SIM_EINVAL unless all three are positive. */
omo_sim_err omo_sim_eoq(double K, double h, double D, double *Q, double *cost);

/* omo_sim_eoq_cost returns KD/Q + hQ/2, the cost per unit time of ordering
 * Q (> 0) at a time. */
double omo_sim_eoq_cost(double K, double h, double D, double Q);

/* Long-run means of a single-server FIFO queue. */
typedef struct omo_sim_queue_theory {
	double rho; /* utilisation, lambda E[S] */
	double L;   /* customers in the system */
	double Lq;  /* customers waiting */
	double W;   /* time in the system */
	double Wq;  /* time waiting */
} omo_sim_queue_theory;

/* omo_sim_mm1 fills *out for Poisson arrivals at rate lambda and
 * exponential service at rate mu. Returns OMO_SIM_EINVAL for non-positive
 * rates, OMO_SIM_EUNSTABLE if lambda >= mu. */
omo_sim_err omo_sim_mm1(double lambda, double mu, omo_sim_queue_theory *out);

/* omo_sim_mg1 fills *out for Poisson arrivals at rate lambda and i.i.d.
 * service times of the given mean and variance (Pollaczek-Khinchine:
 * Wq = lambda E[S^2] / (2(1 - rho))). Returns OMO_SIM_EINVAL for bad
 * parameters, OMO_SIM_EUNSTABLE if rho >= 1. */
omo_sim_err omo_sim_mg1(double lambda, double service_mean, double service_var,
                        omo_sim_queue_theory *out);

/* omo_sim_bullwhip_ma returns Var(orders)/Var(demand) for i.i.d. demand
 * and an order-up-to level k times a p-period moving average (plus a
 * constant): 1 + 2k/p + 2k^2/p^2 (Chen et al. 2000, with k the periods the
 * level covers). Orders may be negative (returns), as in the paper. */
double omo_sim_bullwhip_ma(double k, unsigned p);

/* omo_sim_bullwhip_es returns the same ratio for an exponential-smoothing
 * forecast with constant alpha in (0, 1]: 1 + 2k alpha + 2k^2 alpha^2/(2 -
 * alpha). */
double omo_sim_bullwhip_es(double k, double alpha);

#endif
