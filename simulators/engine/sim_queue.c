/*
 * sim_queue.c - the single-server queue model. See sim_queue.h.
 */
#include "sim_queue.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

struct omo_sim_queue {
	omo_sim *sim;
	omo_sim_queue_params p;
	omo_sim_rng arrivals;
	omo_sim_rng services;
	uint32_t arrive_kind;
	uint32_t depart_kind;
	omo_sim_err err;

	/* The line: arrival times of the customers in the system, oldest first. */
	omo_sim_time *line;
	size_t cap;       /* a power of two */
	size_t head;      /* index of the customer in service */
	size_t n;         /* customers in the system */
	double head_wait; /* time units the customer in service waited */

	/* Time integrals since measuring began, in customer-microseconds. */
	omo_sim_time last;   /* time of the last change in n */
	double area;         /* of the number in the system */
	double area_q;       /* of the number waiting */
	double busy;         /* microseconds with a customer in service */
	omo_sim_time t0;     /* when measuring began */
	uint64_t departures; /* since the start */
	uint64_t measured;   /* departures since measuring began */
	bool measuring;

	omo_sim_batch W;          /* time in system, per departure */
	omo_sim_batch Wq;         /* waiting time, per departure */
	omo_sim_stat L_batches;   /* time average of n over each batch */
	omo_sim_stat Lq_batches;  /* time average of the queue over each batch */
	omo_sim_time batch_start; /* when the current batch began */
	double batch_area;        /* area at batch_start */
	double batch_area_q;      /* area_q at batch_start */
};

static omo_sim_time q_duration(omo_sim_queue *q, const omo_sim_dist *d, omo_sim_rng *r)
{
	double us = omo_sim_dist_sample(d, r) * (double)q->p.unit_us;

	if (!(us > 0.0))
		return 0;
	if (us >= 0x1p62)
		return (omo_sim_time)1 << 62;
	return (omo_sim_time)(us + 0.5); /* nearest, as llround for us > 0, and cheaper */
}

static void q_fail(omo_sim_queue *q, omo_sim_err err)
{
	if (q->err == OMO_SIM_OK)
		q->err = err;
	omo_sim_stop(q->sim);
}

/* q_advance integrates the number in the system up to now. */
static void q_advance(omo_sim_queue *q, omo_sim_time now)
{
	double dt = (double)(now - q->last);

	if (q->n > 0) {
		q->area += (double)q->n * dt;
		q->area_q += (double)(q->n - 1) * dt;
		q->busy += dt;
	}
	q->last = now;
}

static void q_start_service(omo_sim_queue *q, omo_sim_time now)
{
	omo_sim_err err;

	q->head_wait = (double)(now - q->line[q->head]) / (double)q->p.unit_us;
	err = omo_sim_schedule_in(q->sim, q_duration(q, &q->p.service, &q->services),
	                          q->depart_kind, (omo_sim_payload){.u64 = 0});
	if (err != OMO_SIM_OK)
		q_fail(q, err);
}

static void q_arrive_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	omo_sim_queue *q = arg;
	omo_sim_err err;

	(void)sim;
	q_advance(q, ev->time);
	if (q->n == q->cap) {
		size_t cap = q->cap * 2;
		omo_sim_time *line = malloc(cap * sizeof(*line));

		if (line == NULL) {
			q_fail(q, OMO_SIM_ENOMEM);
			return;
		}
		for (size_t i = 0; i < q->n; i++)
			line[i] = q->line[(q->head + i) & (q->cap - 1)];
		free(q->line);
		q->line = line;
		q->cap = cap;
		q->head = 0;
	}
	q->line[(q->head + q->n) & (q->cap - 1)] = ev->time;
	q->n++;
	/* The next arrival goes first: a handler's first schedule reuses this event's slot. */
	err = omo_sim_schedule_in(q->sim, q_duration(q, &q->p.interarrival, &q->arrivals),
	                          q->arrive_kind, (omo_sim_payload){.u64 = 0});
	if (err != OMO_SIM_OK) {
		q_fail(q, err);
		return;
	}
	if (q->n == 1)
		q_start_service(q, ev->time);
}

static void q_begin_measuring(omo_sim_queue *q, omo_sim_time now)
{
	q->measuring = true;
	q->area = q->area_q = q->busy = 0.0;
	q->t0 = q->batch_start = now;
	q->batch_area = q->batch_area_q = 0.0;
}

static void q_close_batch(omo_sim_queue *q, omo_sim_time now)
{
	double dt = (double)(now - q->batch_start);

	if (dt > 0) {
		omo_sim_stat_add(&q->L_batches, (q->area - q->batch_area) / dt);
		omo_sim_stat_add(&q->Lq_batches, (q->area_q - q->batch_area_q) / dt);
	}
	q->batch_start = now;
	q->batch_area = q->area;
	q->batch_area_q = q->area_q;
}

static void q_depart_cb(omo_sim *sim, const omo_sim_event *ev, void *arg)
{
	omo_sim_queue *q = arg;
	double sojourn;

	q_advance(q, ev->time);
	sojourn = (double)(ev->time - q->line[q->head]) / (double)q->p.unit_us;
	if (q->measuring) {
		omo_sim_batch_add(&q->W, sojourn);
		omo_sim_batch_add(&q->Wq, q->head_wait);
		q->measured++;
		if (q->measured % q->W.size == 0)
			q_close_batch(q, ev->time);
	}
	q->head = (q->head + 1) & (q->cap - 1);
	q->n--;
	q->departures++;
	if (!q->measuring && q->departures >= q->p.warmup)
		q_begin_measuring(q, ev->time);
	if (q->n > 0)
		q_start_service(q, ev->time);
	if (q->p.customers > 0 && q->measured >= q->p.customers)
		omo_sim_stop(sim);
}

omo_sim_err omo_sim_queue_alloc(omo_sim_queue **qp, omo_sim *sim, const omo_sim_queue_params *p)
{
	omo_sim_queue *q;
	omo_sim_err err;
	uint64_t batch;

	*qp = NULL;
	if (omo_sim_dist_check(&p->interarrival) != OMO_SIM_OK ||
	    omo_sim_dist_check(&p->service) != OMO_SIM_OK || p->unit_us < 0)
		return OMO_SIM_EINVAL;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return OMO_SIM_ENOMEM;
	q->sim = sim;
	q->p = *p;
	if (q->p.unit_us == 0)
		q->p.unit_us = 1000000;
	q->cap = 64;
	q->line = malloc(q->cap * sizeof(*q->line));
	if (q->line == NULL) {
		omo_sim_queue_free(q);
		return OMO_SIM_ENOMEM;
	}
	omo_sim_rng_init(&q->arrivals, p->seed, p->stream);
	omo_sim_rng_init(&q->services, p->seed, p->stream + 1);
	batch = p->batch ? p->batch : p->customers / 20;
	omo_sim_batch_init(&q->W, batch);
	omo_sim_batch_init(&q->Wq, batch);
	q->last = omo_sim_now(sim);
	if (p->warmup == 0)
		q_begin_measuring(q, omo_sim_now(sim));
	err = omo_sim_register(sim, "arrive", q_arrive_cb, q, &q->arrive_kind);
	if (err == OMO_SIM_OK)
		err = omo_sim_register(sim, "depart", q_depart_cb, q, &q->depart_kind);
	if (err != OMO_SIM_OK) {
		omo_sim_queue_free(q);
		return err;
	}
	*qp = q;
	return OMO_SIM_OK;
}

void omo_sim_queue_free(omo_sim_queue *q)
{
	if (q == NULL)
		return;
	free(q->line);
	free(q);
}

omo_sim_err omo_sim_queue_start(omo_sim_queue *q)
{
	return omo_sim_schedule_in(q->sim, 0, q->arrive_kind, (omo_sim_payload){.u64 = 0});
}

omo_sim_err omo_sim_queue_error(const omo_sim_queue *q)
{
	return q->err;
}

void omo_sim_queue_report(const omo_sim_queue *q, omo_sim_queue_result *r)
{
	double unit = (double)q->p.unit_us;
	double span = (double)(q->last - q->t0);

	r->customers = q->measured;
	r->elapsed = span / unit;
	r->L = span > 0 ? q->area / span : 0.0;
	r->Lq = span > 0 ? q->area_q / span : 0.0;
	r->utilisation = span > 0 ? q->busy / span : 0.0;
	r->W = omo_sim_batch_mean(&q->W);
	r->Wq = omo_sim_batch_mean(&q->Wq);
	r->W_ci = omo_sim_batch_ci95(&q->W);
	r->Wq_ci = omo_sim_batch_ci95(&q->Wq);
	r->L_ci = omo_sim_stat_ci95(&q->L_batches);
	r->L_ci.mean = r->L;
	r->Lq_ci = omo_sim_stat_ci95(&q->Lq_batches);
	r->Lq_ci.mean = r->Lq;
}

omo_sim_err omo_sim_queue_run(const omo_sim_queue_params *p, omo_sim_queue_result *r,
                              uint64_t *events, FILE *trace)
{
	omo_sim *sim = NULL;
	omo_sim_queue *q = NULL;
	omo_sim_err err;

	if (p->customers == 0)
		return OMO_SIM_EINVAL;
	err = omo_sim_alloc(&sim, 0);
	if (err == OMO_SIM_OK)
		err = omo_sim_queue_alloc(&q, sim, p);
	if (err == OMO_SIM_OK)
		err = omo_sim_queue_start(q);
	if (err == OMO_SIM_OK) {
		omo_sim_trace(sim, trace);
		omo_sim_run(sim, OMO_SIM_FOREVER, 0);
		err = omo_sim_queue_error(q);
	}
	if (err == OMO_SIM_OK) {
		omo_sim_queue_report(q, r);
		if (events != NULL)
			*events = omo_sim_fired(sim);
	}
	omo_sim_queue_free(q);
	omo_sim_free(sim);
	return err;
}
