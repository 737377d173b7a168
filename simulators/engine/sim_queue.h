/*
 * sim_queue.h - a single-server FIFO queue on the engine, with any
 * interarrival and service-time distributions (M/M/1, M/G/1, G/G/1): the
 * engine's reference model and its benchmark.
 *
 * Events: "arrive" (a customer joins; the next arrival is scheduled) and
 * "depart" (service ends; the next customer, if any, starts). A customer's
 * service time is drawn when its service starts. Arrivals draw from stream
 * `stream` and service times from `stream + 1`, so two queues run with the
 * same seed see the same arrivals (common random numbers) and, in FIFO
 * order, the same service times.
 *
 * Measures: L and Lq are time averages of the number in the system and in
 * the queue; W and Wq are averages over departed customers; all over the
 * window from the warmup-th departure to the last measured one. Intervals
 * are batch means over departures (L's batches are time averages over the
 * same spans).
 *
 * Time: durations are drawn in the model's time unit and rounded to the
 * nearest of the engine's microseconds (unit_us of them per unit); results
 * are reported in time units.
 */
#ifndef OMO_SIM_QUEUE_H
#define OMO_SIM_QUEUE_H

#include <stdint.h>

#include "sim.h"
#include "sim_rng.h"
#include "sim_stats.h"

typedef struct omo_sim_queue_params {
	omo_sim_dist interarrival; /* time units between arrivals */
	omo_sim_dist service;      /* time units of service */
	omo_sim_time unit_us;      /* microseconds per time unit; 0 means 1,000,000 */
	uint64_t warmup;           /* departures before measuring starts */
	uint64_t customers;        /* departures measured, then the model stops the engine;
	                              0: never stops */
	uint64_t batch;            /* departures per batch; 0 means customers / 20 */
	uint64_t seed;             /* run seed */
	uint64_t stream;           /* arrivals use this stream, service times the next */
} omo_sim_queue_params;

typedef struct omo_sim_queue_result {
	uint64_t customers; /* departures measured */
	double elapsed;     /* measured time, in time units */
	double L;           /* mean number in the system (time average) */
	double Lq;          /* mean number waiting (time average) */
	double W;           /* mean time in the system */
	double Wq;          /* mean time waiting */
	double utilisation; /* fraction of the measured time the server was busy */
	omo_sim_ci L_ci, Lq_ci, W_ci, Wq_ci;
} omo_sim_queue_result;

typedef struct omo_sim_queue omo_sim_queue;

/* omo_sim_queue_alloc attaches a queue to sim, registering its two event
 * kinds; nothing happens until omo_sim_queue_start. *qp belongs to the
 * caller (omo_sim_queue_free, before omo_sim_free). Returns OMO_SIM_EINVAL
 * for a bad distribution or unit, OMO_SIM_ENOMEM on allocation failure
 * (*qp is then NULL). */
omo_sim_err omo_sim_queue_alloc(omo_sim_queue **qp, omo_sim *sim, const omo_sim_queue_params *p);

/* omo_sim_queue_free frees the queue (NULL is fine). Its event kinds stay
 * registered: free the engine too, or never run it again. */
void omo_sim_queue_free(omo_sim_queue *q);

/* omo_sim_queue_start schedules the first arrival at the current time. */
omo_sim_err omo_sim_queue_start(omo_sim_queue *q);

/* omo_sim_queue_error returns the first error met inside a handler
 * (OMO_SIM_ENOMEM when the calendar or the line could not grow); the
 * model stops the engine when that happens. */
omo_sim_err omo_sim_queue_error(const omo_sim_queue *q);

/* omo_sim_queue_report fills *r with the measures so far. */
void omo_sim_queue_report(const omo_sim_queue *q, omo_sim_queue_result *r);

/* omo_sim_queue_run runs a queue on its own engine until p->customers
 * (> 0) have been measured, fills *r, and writes the number of events
 * fired to *events (may be NULL). trace, if not NULL, receives the
 * engine's event trace. Returns an error from the calls above. */
omo_sim_err omo_sim_queue_run(const omo_sim_queue_params *p, omo_sim_queue_result *r,
                              uint64_t *events, FILE *trace);

#endif
