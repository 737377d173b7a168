/*
 * sim_inventory.c - the periodic-review inventory model. See
 * sim_inventory.h for the sequence of events.
 */
#include "sim_inventory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define INV_DAY_US ((omo_sim_time)86400 * 1000000)

enum { INV_ORDER, INV_RECEIVE, INV_DEMAND, INV_COST, INV_STEPS };

struct omo_sim_inventory {
	omo_sim *sim;
	omo_sim_inventory_params p;
	omo_sim_rng rng;
	uint32_t kinds[INV_STEPS];
	omo_sim_err err;
	double k; /* periods the forecast policies cover */

	/* State. */
	uint64_t t;       /* current period */
	double level;     /* inventory level: on hand minus backorders */
	double *pipeline; /* L+1 slots: pipeline[u % (L+1)] is due in period u */
	double on_order;  /* sum of the pipeline */
	double *history;  /* last p demands, for the moving average */
	double history_sum;
	double forecast; /* exponential smoothing's */

	/* This period, as the steps fill it in. */
	double order;
	double received;
	double demand;
	double met;  /* from stock */
	double lost; /* with lost_sales */
	double order_cost;

	/* Measures (measured periods only). */
	omo_sim_batch cost;
	omo_sim_batch no_stockout;
	double holding_sum, backorder_sum, ordering_sum;
	double on_hand_sum, backorders_sum, lost_sum;
	double met_sum, demand_sum;
	double batch_met, batch_demand; /* of the batch being filled */
	omo_sim_stat fill_batches;
	uint64_t orders_placed;
	omo_sim_stat demand_stat;
	omo_sim_stat order_stat;
	omo_sim_stat batch_demand_stat; /* of the batch being filled */
	omo_sim_stat batch_order_stat;
	omo_sim_stat bullwhip_batches; /* Var(orders)/Var(demand) per batch */
};

static const char *const policy_names[] = {
#define INV_POLICY_NAME(name, text) text,
    OMO_SIM_POLICIES(INV_POLICY_NAME)
#undef INV_POLICY_NAME
};

const char *omo_sim_policy_name(omo_sim_policy_kind kind)
{
	if ((unsigned)kind >= sizeof(policy_names) / sizeof(policy_names[0]))
		return "unknown";
	return policy_names[kind];
}

int omo_sim_policy_parse(const char *name)
{
	for (size_t i = 0; name && i < sizeof(policy_names) / sizeof(policy_names[0]); i++)
		if (strcmp(policy_names[i], name) == 0)
			return (int)i;
	return -1;
}

static void inv_fail(omo_sim_inventory *inv, omo_sim_err err)
{
	if (inv->err == OMO_SIM_OK)
		inv->err = err;
	omo_sim_stop(inv->sim);
}

static bool inv_measuring(const omo_sim_inventory *inv)
{
	return inv->t >= inv->p.warmup;
}

static double inv_forecast(const omo_sim_inventory *inv)
{
	if (inv->p.policy.kind == OMO_SIM_POLICY_MOVING_AVERAGE)
		return inv->history_sum / (double)inv->p.policy.p;
	return inv->forecast;
}

/* inv_decide returns the policy's order for inventory position ip. */
static double inv_decide(const omo_sim_inventory *inv, double ip)
{
	const omo_sim_policy *pol = &inv->p.policy;
	double q = 0.0;

	switch (pol->kind) {
	case OMO_SIM_POLICY_BASE_STOCK: q = pol->S - ip; break;
	case OMO_SIM_POLICY_SS: q = ip <= pol->s ? pol->S - ip : 0.0; break;
	case OMO_SIM_POLICY_RQ:
		if (ip <= pol->s)
			q = (floor((pol->s - ip) / pol->Q) + 1.0) * pol->Q;
		break;
	case OMO_SIM_POLICY_MOVING_AVERAGE:
	case OMO_SIM_POLICY_SMOOTHING: q = inv->k * inv_forecast(inv) + pol->safety - ip; break;
	}
	if (q < 0.0 && !pol->negative)
		q = 0.0;
	return q;
}

static void inv_order_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	omo_sim_inventory *inv = arg;
	unsigned slots = inv->p.lead_time + 1;
	double q;

	(void)sim;
	(void)ev;
	q = inv_decide(inv, inv->level + inv->on_order);
	inv->order = q;
	inv->pipeline[(inv->t + inv->p.lead_time) % slots] += q;
	inv->on_order += q;
	inv->order_cost = (q > 0.0 ? inv->p.order_fixed : 0.0) + inv->p.order_unit * q;
}

static void inv_receive_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	omo_sim_inventory *inv = arg;
	double *slot = &inv->pipeline[inv->t % (inv->p.lead_time + 1)];

	(void)sim;
	(void)ev;
	inv->received = *slot;
	inv->level += *slot;
	inv->on_order -= *slot;
	*slot = 0.0;
}

static void inv_demand_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	omo_sim_inventory *inv = arg;
	const omo_sim_policy *pol = &inv->p.policy;
	double d = omo_sim_dist_sample(&inv->p.demand, &inv->rng);
	double stock = inv->level > 0.0 ? inv->level : 0.0;

	(void)sim;
	(void)ev;
	inv->demand = d;
	inv->met = d <= 0.0 ? 0.0 : (d < stock ? d : stock);
	inv->lost = 0.0;
	if (inv->p.lost_sales && d > 0.0) {
		inv->lost = d - inv->met;
		inv->level -= inv->met;
	} else {
		inv->level -= d;
	}
	if (pol->kind == OMO_SIM_POLICY_MOVING_AVERAGE) {
		double *old = &inv->history[inv->t % pol->p];

		inv->history_sum += d - *old;
		*old = d;
	} else if (pol->kind == OMO_SIM_POLICY_SMOOTHING) {
		inv->forecast += pol->alpha * (d - inv->forecast);
	}
}

static void inv_measure(omo_sim_inventory *inv, double holding, double backorder)
{
	double cost = holding + backorder + inv->order_cost;
	bool ok = inv->p.lost_sales ? inv->lost <= 0.0 : inv->level >= 0.0;

	omo_sim_batch_add(&inv->cost, cost);
	omo_sim_batch_add(&inv->no_stockout, ok ? 1.0 : 0.0);
	inv->holding_sum += holding;
	inv->backorder_sum += backorder;
	inv->ordering_sum += inv->order_cost;
	inv->on_hand_sum += inv->level > 0.0 ? inv->level : 0.0;
	inv->backorders_sum += inv->level < 0.0 ? -inv->level : 0.0;
	inv->lost_sum += inv->lost;
	inv->met_sum += inv->met;
	inv->demand_sum += inv->demand;
	inv->batch_met += inv->met;
	inv->batch_demand += inv->demand;
	omo_sim_stat_add(&inv->batch_demand_stat, inv->demand);
	omo_sim_stat_add(&inv->batch_order_stat, inv->order);
	if (inv->cost.filled == 0) {
		/* The cost batch just closed: close the ratio batches with it. */
		double dvar = omo_sim_stat_variance(&inv->batch_demand_stat);

		if (inv->batch_demand > 0.0)
			omo_sim_stat_add(&inv->fill_batches, inv->batch_met / inv->batch_demand);
		if (dvar > 0.0)
			omo_sim_stat_add(&inv->bullwhip_batches,
			                 omo_sim_stat_variance(&inv->batch_order_stat) / dvar);
		inv->batch_met = inv->batch_demand = 0.0;
		inv->batch_demand_stat = inv->batch_order_stat = (omo_sim_stat){0};
	}
	if (inv->order > 0.0)
		inv->orders_placed++;
	omo_sim_stat_add(&inv->demand_stat, inv->demand);
	omo_sim_stat_add(&inv->order_stat, inv->order);
}

static omo_sim_err inv_schedule_period(omo_sim_inventory *inv, omo_sim_time at)
{
	for (int step = 0; step < INV_STEPS; step++) {
		omo_sim_err err = omo_sim_schedule(inv->sim, at, inv->kinds[step],
		                                   (omo_sim_payload){.u64 = inv->t});

		if (err != OMO_SIM_OK)
			return err;
	}
	return OMO_SIM_OK;
}

static void inv_cost_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	omo_sim_inventory *inv = arg;
	double holding, backorder;
	omo_sim_err err;

	holding = inv->p.holding * (inv->level > 0.0 ? inv->level : 0.0);
	if (inv->p.lost_sales)
		backorder = inv->p.backorder * inv->lost;
	else
		backorder = inv->p.backorder * (inv->level < 0.0 ? -inv->level : 0.0);
	if (inv->p.trace != NULL)
		fprintf(inv->p.trace, "%llu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n",
		        (unsigned long long)inv->t, inv->demand, inv->order, inv->received,
		        inv->level, inv->lost, holding + backorder + inv->order_cost);
	if (inv_measuring(inv))
		inv_measure(inv, holding, backorder);
	inv->t++;
	if (inv->t >= inv->p.warmup + inv->p.periods) {
		omo_sim_stop(sim);
		return;
	}
	err = inv_schedule_period(inv, ev->time + inv->p.period_us);
	if (err != OMO_SIM_OK)
		inv_fail(inv, err);
}

static bool inv_params_ok(const omo_sim_inventory_params *p)
{
	const omo_sim_policy *pol = &p->policy;

	if (omo_sim_dist_check(&p->demand) != OMO_SIM_OK || p->period_us < 0 ||
	    p->lead_time >= 1u << 20)
		return false;
	if (!(p->holding >= 0) || !(p->backorder >= 0) || !(p->order_fixed >= 0) ||
	    !isfinite(p->order_unit) || !isfinite(p->holding) || !isfinite(p->backorder) ||
	    !isfinite(p->order_fixed))
		return false;
	switch (pol->kind) {
	case OMO_SIM_POLICY_BASE_STOCK: return isfinite(pol->S);
	case OMO_SIM_POLICY_SS: return isfinite(pol->S) && isfinite(pol->s) && pol->s <= pol->S;
	case OMO_SIM_POLICY_RQ: return isfinite(pol->s) && pol->Q > 0 && isfinite(pol->Q);
	case OMO_SIM_POLICY_MOVING_AVERAGE:
		return pol->p >= 1 && pol->p < 1u << 24 && pol->k >= 0 && isfinite(pol->k) &&
		       isfinite(pol->safety);
	case OMO_SIM_POLICY_SMOOTHING:
		return pol->alpha > 0 && pol->alpha <= 1 && pol->k >= 0 && isfinite(pol->k) &&
		       isfinite(pol->safety);
	}
	return false;
}

omo_sim_err omo_sim_inventory_alloc(omo_sim_inventory **ip, omo_sim *sim,
                                    const omo_sim_inventory_params *p)
{
	static const char *const names[INV_STEPS] = {"order", "receive", "demand", "cost"};
	static const omo_sim_handler_cb cbs[INV_STEPS] = {inv_order_cb, inv_receive_cb,
	                                                  inv_demand_cb, inv_cost_cb};
	omo_sim_inventory *inv;
	double mean;

	*ip = NULL;
	if (!inv_params_ok(p))
		return OMO_SIM_EINVAL;
	inv = calloc(1, sizeof(*inv));
	if (inv == NULL)
		return OMO_SIM_ENOMEM;
	inv->sim = sim;
	inv->p = *p;
	if (inv->p.period_us == 0)
		inv->p.period_us = INV_DAY_US;
	inv->k = p->policy.k > 0 ? p->policy.k : (double)p->lead_time + 1.0;
	inv->pipeline = calloc(p->lead_time + 1, sizeof(*inv->pipeline));
	if (p->policy.kind == OMO_SIM_POLICY_MOVING_AVERAGE)
		inv->history = calloc(p->policy.p, sizeof(*inv->history));
	if (inv->pipeline == NULL ||
	    (p->policy.kind == OMO_SIM_POLICY_MOVING_AVERAGE && inv->history == NULL)) {
		omo_sim_inventory_free(inv);
		return OMO_SIM_ENOMEM;
	}
	/* Forecasts start at the true mean, as if the past had been average. */
	mean = omo_sim_dist_mean(&p->demand);
	inv->forecast = mean;
	for (unsigned i = 0; inv->history != NULL && i < p->policy.p; i++)
		inv->history[i] = mean;
	inv->history_sum = mean * (double)p->policy.p;
	switch (p->policy.kind) {
	case OMO_SIM_POLICY_BASE_STOCK:
	case OMO_SIM_POLICY_SS: inv->level = p->policy.S; break;
	case OMO_SIM_POLICY_RQ: inv->level = p->policy.s + p->policy.Q; break;
	case OMO_SIM_POLICY_MOVING_AVERAGE:
	case OMO_SIM_POLICY_SMOOTHING: inv->level = inv->k * mean + p->policy.safety; break;
	}
	omo_sim_rng_init(&inv->rng, p->seed, p->stream);
	omo_sim_batch_init(&inv->cost, p->batch ? p->batch : p->periods / 20);
	omo_sim_batch_init(&inv->no_stockout, inv->cost.size);
	for (int step = 0; step < INV_STEPS; step++) {
		omo_sim_err err =
		    omo_sim_register(sim, names[step], cbs[step], inv, &inv->kinds[step]);

		if (err != OMO_SIM_OK) {
			omo_sim_inventory_free(inv);
			return err;
		}
	}
	*ip = inv;
	return OMO_SIM_OK;
}

void omo_sim_inventory_free(omo_sim_inventory *inv)
{
	if (inv == NULL)
		return;
	free(inv->pipeline);
	free(inv->history);
	free(inv);
}

omo_sim_err omo_sim_inventory_start(omo_sim_inventory *inv)
{
	if (inv->p.trace != NULL)
		fprintf(inv->p.trace, "period,demand,order,received,level,lost,cost\n");
	return inv_schedule_period(inv, omo_sim_now(inv->sim));
}

omo_sim_err omo_sim_inventory_error(const omo_sim_inventory *inv)
{
	return inv->err;
}

void omo_sim_inventory_report(const omo_sim_inventory *inv, omo_sim_inventory_result *r)
{
	double n = (double)inv->cost.n;
	double dvar = omo_sim_stat_variance(&inv->demand_stat);

	r->periods = inv->cost.n;
	r->cost = omo_sim_batch_mean(&inv->cost);
	r->cost_ci = omo_sim_batch_ci95(&inv->cost);
	r->holding_cost = n > 0 ? inv->holding_sum / n : 0.0;
	r->backorder_cost = n > 0 ? inv->backorder_sum / n : 0.0;
	r->ordering_cost = n > 0 ? inv->ordering_sum / n : 0.0;
	r->no_stockout = omo_sim_batch_mean(&inv->no_stockout);
	r->no_stockout_ci = omo_sim_batch_ci95(&inv->no_stockout);
	r->fill_rate = inv->demand_sum > 0 ? inv->met_sum / inv->demand_sum : 1.0;
	r->fill_rate_ci = omo_sim_stat_ci95(&inv->fill_batches);
	r->fill_rate_ci.mean = r->fill_rate;
	r->on_hand = n > 0 ? inv->on_hand_sum / n : 0.0;
	r->backorders = n > 0 ? inv->backorders_sum / n : 0.0;
	r->lost = n > 0 ? inv->lost_sum / n : 0.0;
	r->orders_placed = n > 0 ? (double)inv->orders_placed / n : 0.0;
	r->demand = inv->demand_stat;
	r->orders = inv->order_stat;
	r->bullwhip = dvar > 0 ? omo_sim_stat_variance(&inv->order_stat) / dvar : 0.0;
	r->bullwhip_ci = omo_sim_stat_ci95(&inv->bullwhip_batches);
	r->bullwhip_ci.mean = r->bullwhip;
}

omo_sim_err omo_sim_inventory_run(const omo_sim_inventory_params *p, omo_sim_inventory_result *r)
{
	omo_sim *sim = NULL;
	omo_sim_inventory *inv = NULL;
	omo_sim_err err;

	if (p->periods == 0)
		return OMO_SIM_EINVAL;
	err = omo_sim_alloc(&sim, 0);
	if (err == OMO_SIM_OK)
		err = omo_sim_inventory_alloc(&inv, sim, p);
	if (err == OMO_SIM_OK)
		err = omo_sim_inventory_start(inv);
	if (err == OMO_SIM_OK) {
		omo_sim_run(sim, OMO_SIM_FOREVER, 0);
		err = omo_sim_inventory_error(inv);
	}
	if (err == OMO_SIM_OK)
		omo_sim_inventory_report(inv, r);
	omo_sim_inventory_free(inv);
	omo_sim_free(sim);
	return err;
}
