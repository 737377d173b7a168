/*
 * sim.h - the simulator's discrete-event engine: a virtual clock and an
 * event calendar, nothing else. Models (sim_queue.h, sim_inventory.h and
 * the network model to come) register event kinds with a handler and
 * schedule events; omo_sim_run fires them in time order.
 *
 * Time is virtual: an int64 count of microseconds (omo_sim_time), the same
 * unit as every other time in omo, so the engine can later drive the twin's
 * clock without conversion. It starts wherever omo_sim_alloc is told and
 * reads no real clock. Models state their own unit (a period, a second) as
 * a number of microseconds and round sampled durations to the nearest one.
 *
 * Order: events fire by time; events with equal times fire in the order
 * they were scheduled (a sequence number is the tie-break), so a run is a
 * pure function of the model, its parameters and its seed: same seed, same
 * events, same output bytes. The calendar is a 4-ary heap: O(log n) per
 * event with a small constant, and a handler's first schedule call reuses
 * the slot of the event being handled (one sift instead of two).
 *
 * Threads: an engine and everything attached to it belong to one thread;
 * separate engines share nothing and may run on separate threads.
 *
 * Memory rule: the engine owns its calendar; payloads are copied into it
 * by value and never dereferenced or freed by the engine - whatever a
 * payload points to belongs to the model that scheduled it.
 */
#ifndef OMO_SIM_H
#define OMO_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Virtual time and durations, in microseconds. */
typedef int64_t omo_sim_time;

#define OMO_SIM_FOREVER INT64_MAX /* omo_sim_run: no time limit */

/* One list gives the error codes and their messages. */
#define OMO_SIM_ERRORS(X)                                                                          \
	X(OMO_SIM_OK, "success")                                                                   \
	X(OMO_SIM_ENOMEM, "out of memory")                                                         \
	X(OMO_SIM_EINVAL, "invalid argument")                                                      \
	X(OMO_SIM_EPAST, "event scheduled before the current virtual time")                        \
	X(OMO_SIM_EUNSTABLE, "queue is unstable (utilisation >= 1)")

typedef enum omo_sim_err {
#define OMO_SIM_ERR_ENUM(name, msg) name,
	OMO_SIM_ERRORS(OMO_SIM_ERR_ENUM)
#undef OMO_SIM_ERR_ENUM
} omo_sim_err;

/* omo_sim_strerror returns a static message for err (never NULL). */
const char *omo_sim_strerror(omo_sim_err err);

/* What an event carries; the engine copies it and never looks inside. */
typedef union omo_sim_payload {
	void *ptr;
	uint64_t u64;
	int64_t i64;
	double f64;
} omo_sim_payload;

typedef struct omo_sim_event {
	omo_sim_time time;       /* when it fires */
	uint64_t seq;            /* scheduling order: the tie-break between equal times */
	uint32_t kind;           /* from omo_sim_register */
	omo_sim_payload payload; /* the scheduler's data */
} omo_sim_event;

typedef struct omo_sim omo_sim;

/* An event handler. ev is valid only during the call; the handler may
 * schedule events, call omo_sim_stop, and read the clock, but must not call
 * omo_sim_run or omo_sim_free. */
typedef void (*omo_sim_handler_cb)(omo_sim *sim, const omo_sim_event *ev, void *arg);

/* omo_sim_alloc makes an engine whose clock reads start and whose calendar
 * is empty. On success *sp belongs to the caller (omo_sim_free); returns
 * OMO_SIM_ENOMEM and sets *sp to NULL on failure. */
omo_sim_err omo_sim_alloc(omo_sim **sp, omo_sim_time start);

/* omo_sim_free frees the engine and its pending events (NULL is fine).
 * Payload pointers are not followed. */
void omo_sim_free(omo_sim *sim);

/* omo_sim_register adds an event kind whose events are handled by cb(sim,
 * ev, arg); name (static storage, or at least outliving the engine) appears
 * in traces. The new kind's number goes to *kindp. Returns OMO_SIM_EINVAL
 * if cb or name is NULL, OMO_SIM_ENOMEM if the table cannot grow. */
omo_sim_err omo_sim_register(omo_sim *sim, const char *name, omo_sim_handler_cb cb, void *arg,
                             uint32_t *kindp);

/* omo_sim_schedule puts an event of a registered kind on the calendar at
 * time at (>= now). Returns OMO_SIM_EPAST if at is before now, and
 * OMO_SIM_ENOMEM if the calendar cannot grow; the calendar is unchanged on
 * error. Scheduling an unregistered kind is a bug and aborts. May be called
 * from handlers. */
omo_sim_err omo_sim_schedule(omo_sim *sim, omo_sim_time at, uint32_t kind, omo_sim_payload payload);

/* omo_sim_schedule_in schedules an event delay microseconds from now
 * (delay >= 0; OMO_SIM_EPAST otherwise). */
omo_sim_err omo_sim_schedule_in(omo_sim *sim, omo_sim_time delay, uint32_t kind,
                                omo_sim_payload payload);

/* omo_sim_run fires events in (time, seq) order while one is due at or
 * before until, stopping early after max_events events (0: no limit) or
 * when a handler calls omo_sim_stop. The clock reads each event's time as
 * it fires; if the run ends because nothing is due by until (and until is
 * not OMO_SIM_FOREVER) the clock moves on to until. Returns the number of
 * events fired by this call. Not reentrant: handlers may not call it. */
uint64_t omo_sim_run(omo_sim *sim, omo_sim_time until, uint64_t max_events);

/* omo_sim_stop makes the current omo_sim_run return after the event being
 * handled; pending events stay on the calendar for a later run. */
void omo_sim_stop(omo_sim *sim);

/* omo_sim_now returns the virtual time. */
omo_sim_time omo_sim_now(const omo_sim *sim);

/* omo_sim_pending returns the number of events on the calendar. */
size_t omo_sim_pending(const omo_sim *sim);

/* omo_sim_fired returns the number of events fired since omo_sim_alloc. */
uint64_t omo_sim_fired(const omo_sim *sim);

/* omo_sim_trace writes one line per fired event to f ("time seq kind
 * payload-hex"), before its handler runs; NULL turns tracing off. f stays
 * the caller's. Two runs with the same seed write the same bytes. */
void omo_sim_trace(omo_sim *sim, FILE *f);

#endif
