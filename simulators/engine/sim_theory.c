/*
 * sim_theory.c - normal-distribution functions and closed-form results.
 * See sim_theory.h.
 */
#include "sim_theory.h"

#include <math.h>

#define SIM_INV_SQRT_2PI 0.39894228040143267794 /* 1/sqrt(2 pi) */
#define SIM_INV_SQRT2    0.70710678118654752440 /* 1/sqrt(2) */

double omo_sim_norm_pdf(double x)
{
	return SIM_INV_SQRT_2PI * exp(-0.5 * x * x);
}

double omo_sim_norm_cdf(double x)
{
	return 0.5 * erfc(-x * SIM_INV_SQRT2);
}

double omo_sim_norm_sf(double x)
{
	return 0.5 * erfc(x * SIM_INV_SQRT2);
}

/* Wichura's AS241 coefficients (Applied Statistics 37(3), 1988). The
 * transcription matches the paper's hash sums (sums of the mantissas):
 * a and b 55.8831928806149014439, c and d 49.33206503301610289036, e and f
 * 47.52583317549289671629. */
static const double as241_a[8] = {
    3.3871328727963666080e0,  1.3314166789178437745e+2, 1.9715909503065514427e+3,
    1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
    3.3430575583588128105e+4, 2.5090809287301226727e+3,
};
static const double as241_b[8] = {
    1.0,
    4.2313330701600911252e+1,
    6.8718700749205790830e+2,
    5.3941960214247511077e+3,
    2.1213794301586595867e+4,
    3.9307895800092710610e+4,
    2.8729085735721942674e+4,
    5.2264952788528545610e+3,
};
static const double as241_c[8] = {
    1.42343711074968357734e0,  4.63033784615654529590e0,  5.76949722146069140550e0,
    3.64784832476320460504e0,  1.27045825245236838258e0,  2.41780725177450611770e-1,
    2.27238449892691845833e-2, 7.74545014278341407640e-4,
};
static const double as241_d[8] = {
    1.0,
    2.05319162663775882187e0,
    1.67638483018380384940e0,
    6.89767334985100004550e-1,
    1.48103976427480074590e-1,
    1.51986665636164571966e-2,
    5.47593808499534494600e-4,
    1.05075007164441684324e-9,
};
static const double as241_e[8] = {
    6.65790464350110377720e0,  5.46378491116411436990e0,  1.78482653991729133580e0,
    2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
    2.71155556874348757815e-5, 2.01033439929228813265e-7,
};
static const double as241_f[8] = {
    1.0,
    5.99832206555887937690e-1,
    1.36929880922735805310e-1,
    1.48753612908506148525e-2,
    7.86869131145613259100e-4,
    1.84631831751005468180e-5,
    1.42151175831644588870e-7,
    2.04426310338993978564e-15,
};

/* as241_ratio evaluates num(r)/den(r), both degree-7 polynomials. */
static double as241_ratio(const double *num, const double *den, double r)
{
	double n = num[7], d = den[7];

	for (int i = 6; i >= 0; i--) {
		n = n * r + num[i];
		d = d * r + den[i];
	}
	return n / d;
}

double omo_sim_norm_as241(double p)
{
	double q = p - 0.5, r, x;

	if (!(p >= 0.0 && p <= 1.0))
		return NAN;
	if (fabs(q) <= 0.425) {
		r = 0.180625 - q * q;
		return q * as241_ratio(as241_a, as241_b, r);
	}
	r = q < 0 ? p : 1.0 - p;
	if (r <= 0.0)
		return q < 0 ? -INFINITY : INFINITY;
	r = sqrt(-log(r));
	if (r <= 5.0)
		x = as241_ratio(as241_c, as241_d, r - 1.6);
	else
		x = as241_ratio(as241_e, as241_f, r - 5.0);
	return q < 0 ? -x : x;
}

double omo_sim_norm_inv(double p)
{
	double x = omo_sim_norm_as241(p), err, d;

	if (!isfinite(x))
		return x;
	d = omo_sim_norm_pdf(x);
	if (d <= 0.0)
		return x;
	/* Work in the tail p lies in, where the probabilities are exact. */
	err = p < 0.5 ? omo_sim_norm_cdf(x) - p : (1.0 - p) - omo_sim_norm_sf(x);
	return x - err / d;
}

double omo_sim_norm_loss(double z)
{
	return omo_sim_norm_pdf(z) - z * omo_sim_norm_sf(z);
}

static int stage_ok(const omo_sim_normal_stage *st)
{
	return st->holding > 0 && st->backorder > 0 && st->sd > 0 && isfinite(st->mean) &&
	       isfinite(st->holding) && isfinite(st->backorder) && isfinite(st->sd);
}

omo_sim_err omo_sim_base_stock_optimum(const omo_sim_normal_stage *st, double *S, double *cost)
{
	double n, z, sd;

	if (!stage_ok(st))
		return OMO_SIM_EINVAL;
	n = (double)st->lead_time + 1.0;
	sd = st->sd * sqrt(n);
	z = omo_sim_norm_inv(st->backorder / (st->backorder + st->holding));
	*S = st->mean * n + z * sd;
	*cost = (st->holding + st->backorder) * sd * omo_sim_norm_pdf(z);
	return OMO_SIM_OK;
}

double omo_sim_base_stock_cost(const omo_sim_normal_stage *st, double S)
{
	double n = (double)st->lead_time + 1.0;
	double mu = st->mean * n, sd = st->sd * sqrt(n);

	return st->holding * (S - mu) +
	       (st->holding + st->backorder) * sd * omo_sim_norm_loss((S - mu) / sd);
}

double omo_sim_base_stock_no_stockout(const omo_sim_normal_stage *st, double S)
{
	double n = (double)st->lead_time + 1.0;

	return omo_sim_norm_cdf((S - st->mean * n) / (st->sd * sqrt(n)));
}

/* expected_excess returns E[(X - S)+] for X the demand of n periods. */
static double expected_excess(const omo_sim_normal_stage *st, unsigned n, double S)
{
	double sd;

	if (n == 0)
		return S < 0 ? -S : 0.0;
	sd = st->sd * sqrt((double)n);
	return sd * omo_sim_norm_loss((S - st->mean * n) / sd);
}

double omo_sim_base_stock_fill_rate(const omo_sim_normal_stage *st, double S)
{
	double short_now = expected_excess(st, st->lead_time + 1, S);
	double short_before = expected_excess(st, st->lead_time, S);

	return 1.0 - (short_now - short_before) / st->mean;
}

omo_sim_err omo_sim_eoq(double K, double h, double D, double *Q, double *cost)
{
	if (!(K > 0 && h > 0 && D > 0) || !isfinite(K * h * D))
		return OMO_SIM_EINVAL;
	*Q = sqrt(2.0 * K * D / h);
	*cost = sqrt(2.0 * K * D * h);
	return OMO_SIM_OK;
}

double omo_sim_eoq_cost(double K, double h, double D, double Q)
{
	return K * D / Q + h * Q / 2.0;
}

omo_sim_err omo_sim_mm1(double lambda, double mu, omo_sim_queue_theory *out)
{
	if (!(lambda > 0 && mu > 0) || !isfinite(lambda) || !isfinite(mu))
		return OMO_SIM_EINVAL;
	return omo_sim_mg1(lambda, 1.0 / mu, 1.0 / (mu * mu), out);
}

omo_sim_err omo_sim_mg1(double lambda, double service_mean, double service_var,
                        omo_sim_queue_theory *out)
{
	double rho, wq;

	if (!(lambda > 0 && service_mean > 0 && service_var >= 0) || !isfinite(lambda) ||
	    !isfinite(service_mean) || !isfinite(service_var))
		return OMO_SIM_EINVAL;
	rho = lambda * service_mean;
	if (rho >= 1.0)
		return OMO_SIM_EUNSTABLE;
	wq = lambda * (service_var + service_mean * service_mean) / (2.0 * (1.0 - rho));
	out->rho = rho;
	out->Wq = wq;
	out->W = wq + service_mean;
	out->Lq = lambda * wq;
	out->L = lambda * out->W;
	return OMO_SIM_OK;
}

double omo_sim_bullwhip_ma(double k, unsigned p)
{
	double r = k / (double)p;

	return 1.0 + 2.0 * r + 2.0 * r * r;
}

double omo_sim_bullwhip_es(double k, double alpha)
{
	return 1.0 + 2.0 * k * alpha + 2.0 * k * k * alpha * alpha / (2.0 - alpha);
}
