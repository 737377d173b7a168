/*
 * sim.c - the event calendar (a 4-ary min-heap keyed on (time, seq)) and
 * the run loop. See sim.h for the contract.
 *
 * The run loop does not remove the event it is firing before calling its
 * handler: the root slot becomes a "hole", and the first event the handler
 * schedules is sifted down from the root into it. A handler that schedules
 * one follow-up event (the common case: next arrival, next period) so costs
 * one sift, not a pop and a push. If the handler schedules nothing, the hole
 * is filled from the last slot after it returns.
 */
#include "sim.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SIM_ARITY        4
#define SIM_INITIAL_HEAP 64

typedef struct sim_kind {
	omo_sim_handler_cb cb;
	void *arg;
	const char *name;
} sim_kind;

struct omo_sim {
	omo_sim_event *heap; /* heap[0] is the earliest event, or the hole while firing */
	size_t n;            /* slots in use, the hole included */
	size_t cap;          /* slots allocated */
	bool hole;           /* heap[0] is the event being fired, already copied out */
	bool running;        /* inside omo_sim_run */
	bool stopped;        /* omo_sim_stop was called during this run */
	omo_sim_time now;
	uint64_t next_seq; /* sequence number of the next scheduled event */
	uint64_t fired;
	sim_kind *kinds;
	uint32_t n_kinds;
	uint32_t cap_kinds;
	FILE *trace;
};

static const char *const sim_messages[] = {
#define SIM_ERR_MSG(name, msg) msg,
    OMO_SIM_ERRORS(SIM_ERR_MSG)
#undef SIM_ERR_MSG
};

const char *omo_sim_strerror(omo_sim_err err)
{
	if ((unsigned)err >= sizeof(sim_messages) / sizeof(sim_messages[0]))
		return "unknown error";
	return sim_messages[err];
}

omo_sim_err omo_sim_alloc(omo_sim **sp, omo_sim_time start)
{
	omo_sim *s = calloc(1, sizeof(*s));

	*sp = NULL;
	if (s == NULL)
		return OMO_SIM_ENOMEM;
	s->heap = malloc(SIM_INITIAL_HEAP * sizeof(*s->heap));
	if (s->heap == NULL) {
		omo_sim_free(s);
		return OMO_SIM_ENOMEM;
	}
	s->cap = SIM_INITIAL_HEAP;
	s->now = start;
	*sp = s;
	return OMO_SIM_OK;
}

void omo_sim_free(omo_sim *sim)
{
	if (sim == NULL)
		return;
	assert(!sim->running);
	free(sim->heap);
	free(sim->kinds);
	free(sim);
}

omo_sim_err omo_sim_register(omo_sim *sim, const char *name, omo_sim_handler_cb cb, void *arg,
                             uint32_t *kindp)
{
	if (cb == NULL || name == NULL)
		return OMO_SIM_EINVAL;
	if (sim->n_kinds == sim->cap_kinds) {
		uint32_t cap = sim->cap_kinds ? sim->cap_kinds * 2 : 8;
		sim_kind *k = realloc(sim->kinds, cap * sizeof(*k));

		if (k == NULL)
			return OMO_SIM_ENOMEM;
		sim->kinds = k;
		sim->cap_kinds = cap;
	}
	sim->kinds[sim->n_kinds] = (sim_kind){.cb = cb, .arg = arg, .name = name};
	*kindp = sim->n_kinds++;
	return OMO_SIM_OK;
}

static inline bool sim_before(const omo_sim_event *a, const omo_sim_event *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

/* sim_sift_down places ev at slot i of a heap of n slots whose subtrees below i are heaps. */
static void sim_sift_down(omo_sim_event *h, size_t n, size_t i, omo_sim_event ev)
{
	for (;;) {
		size_t c = SIM_ARITY * i + 1;
		size_t end, best;

		if (c >= n)
			break;
		end = c + SIM_ARITY < n ? c + SIM_ARITY : n;
		best = c;
		for (size_t j = c + 1; j < end; j++)
			if (sim_before(&h[j], &h[best]))
				best = j;
		if (!sim_before(&h[best], &ev))
			break;
		h[i] = h[best];
		i = best;
	}
	h[i] = ev;
}

/* sim_sift_up places ev at slot i or above; the slots above i form a heap. */
static void sim_sift_up(omo_sim_event *h, size_t i, omo_sim_event ev)
{
	while (i > 0) {
		size_t parent = (i - 1) / SIM_ARITY;

		if (!sim_before(&ev, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = ev;
}

omo_sim_err omo_sim_schedule(omo_sim *sim, omo_sim_time at, uint32_t kind, omo_sim_payload payload)
{
	omo_sim_event ev;

	assert(kind < sim->n_kinds);
	if (at < sim->now)
		return OMO_SIM_EPAST;
	ev.time = at;
	ev.seq = sim->next_seq;
	ev.kind = kind;
	ev.payload = payload;
	if (sim->hole) {
		sim->hole = false;
		sim->next_seq++;
		sim_sift_down(sim->heap, sim->n, 0, ev);
		return OMO_SIM_OK;
	}
	if (sim->n == sim->cap) {
		size_t cap = sim->cap * 2;
		omo_sim_event *h = realloc(sim->heap, cap * sizeof(*h));

		if (h == NULL)
			return OMO_SIM_ENOMEM;
		sim->heap = h;
		sim->cap = cap;
	}
	sim->next_seq++;
	sim_sift_up(sim->heap, sim->n++, ev);
	return OMO_SIM_OK;
}

omo_sim_err omo_sim_schedule_in(omo_sim *sim, omo_sim_time delay, uint32_t kind,
                                omo_sim_payload payload)
{
	if (delay < 0 || delay > OMO_SIM_FOREVER - sim->now)
		return delay < 0 ? OMO_SIM_EPAST : OMO_SIM_EINVAL;
	return omo_sim_schedule(sim, sim->now + delay, kind, payload);
}

uint64_t omo_sim_run(omo_sim *sim, omo_sim_time until, uint64_t max_events)
{
	uint64_t count = 0;
	bool limited = false;

	assert(!sim->running);
	sim->running = true;
	sim->stopped = false;
	while (sim->n > 0 && sim->heap[0].time <= until) {
		omo_sim_event ev = sim->heap[0];
		const sim_kind *k = &sim->kinds[ev.kind];

		sim->now = ev.time;
		sim->hole = true;
		if (sim->trace != NULL)
			fprintf(sim->trace, "%" PRId64 " %" PRIu64 " %s %016" PRIx64 "\n", ev.time,
			        ev.seq, k->name, ev.payload.u64);
		k->cb(sim, &ev, k->arg);
		if (sim->hole) {
			sim->hole = false;
			sim->n--;
			if (sim->n > 0)
				sim_sift_down(sim->heap, sim->n, 0, sim->heap[sim->n]);
		}
		count++;
		limited = count == max_events;
		if (sim->stopped || limited)
			break;
	}
	if (!sim->stopped && !limited && until != OMO_SIM_FOREVER && sim->now < until)
		sim->now = until;
	sim->fired += count;
	sim->running = false;
	return count;
}

void omo_sim_stop(omo_sim *sim)
{
	sim->stopped = true;
}

omo_sim_time omo_sim_now(const omo_sim *sim)
{
	return sim->now;
}

size_t omo_sim_pending(const omo_sim *sim)
{
	return sim->n - (sim->hole ? 1 : 0);
}

uint64_t omo_sim_fired(const omo_sim *sim)
{
	return sim->fired;
}

void omo_sim_trace(omo_sim *sim, FILE *f)
{
	sim->trace = f;
}
