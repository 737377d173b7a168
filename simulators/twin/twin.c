#include "twin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "node.h"
#include "orders.h"
#include "router.h"

#define N_SERVICES 6

typedef struct member {
	const omo_service_def *def;
	const char *role; /* node agents only */
	void *cfg, *app;
	const omo_handlers *h;
	omo_core *core;
	int64_t next_tick;
} member;

/* One committed event on its way to the followers of its producer. */
typedef struct queued {
	int producer;
	omo_buf bytes;
} queued;

struct omo_twin {
	member m[N_SERVICES];
	int64_t now;
	queued *q;
	size_t q_head, q_len, q_cap;
};

static int64_t twin_clock(void *arg)
{
	return ((omo_twin *)arg)->now;
}

static int find(omo_twin *t, const char *name)
{
	for (int i = 0; i < N_SERVICES; i++)
		if (t->m[i].h != NULL && strcmp(t->m[i].h->name, name) == 0)
			return i;
	return -1;
}

/* enqueue takes the events the last batch of member i committed. */
static void enqueue(omo_twin *t, int i)
{
	const omo_buf *evs;
	size_t n = omo_core_published(t->m[i].core, &evs);
	for (size_t k = 0; k < n; k++) {
		if (t->q_len == t->q_cap) {
			size_t cap = t->q_cap ? 2 * t->q_cap : 1024;
			queued *q = malloc(cap * sizeof(*q));
			if (q == NULL)
				abort(); /* the twin is a test and planning tool: no memory, no run
				          */
			for (size_t j = 0; j < t->q_len; j++)
				q[j] = t->q[(t->q_head + j) % t->q_cap];
			free(t->q);
			t->q = q;
			t->q_head = 0;
			t->q_cap = cap;
		}
		queued *e = &t->q[(t->q_head + t->q_len++) % t->q_cap];
		e->producer = i;
		e->bytes = (omo_buf){0};
		omo_buf_append(&e->bytes, evs[k].data, evs[k].len);
	}
}

static omo_err batch_request(omo_twin *t, int i, const void *data, size_t len, omo_buf *out)
{
	omo_err e = omo_core_begin(t->m[i].core);
	if (e != OMO_E_OK)
		return e;
	omo_core_request(t->m[i].core, data, len, out);
	if ((e = omo_core_commit(t->m[i].core)) == OMO_E_OK)
		enqueue(t, i);
	return e;
}

static omo_err twin_call(void *arg, const char *peer, const omo_msg *req, omo_msg *reply,
                         omo_error_detail *d)
{
	omo_twin *t = arg;
	omo_buf in = {0}, out = {0};
	bool ours;
	int i = find(t, peer);
	omo_err e = i < 0 ? omo_fail(d, OMO_E_UNAVAILABLE, "no service %s", peer)
	                  : omo_msg_encode(req, &in, d);
	memset(reply, 0, sizeof(*reply));
	if (e == OMO_E_OK && (e = batch_request(t, i, in.data, in.len, &out)) != OMO_E_OK)
		omo_fail(d, e, "%s could not commit", peer);
	if (e == OMO_E_OK)
		e = omo_msg_decode_reply(out.data, out.len, req, reply, &ours, d);
	omo_buf_fini(&in);
	omo_buf_fini(&out);
	return e;
}

void omo_twin_raw(omo_twin *t, const char *service, const void *data, size_t len, omo_buf *out)
{
	int i = find(t, service);
	if (i >= 0)
		batch_request(t, i, data, len, out);
}

omo_err omo_twin_request(omo_twin *t, const char *service, const omo_msg *req, omo_msg *reply,
                         omo_error_detail *d)
{
	return twin_call(t, service, req, reply, d);
}

static bool follows(const member *m, const char *producer)
{
	for (unsigned k = 0; k < m->def->n_follows; k++)
		if (strcmp(m->def->follows[k], producer) == 0)
			return true;
	return false;
}

long omo_twin_run(omo_twin *t, int64_t until_us)
{
	long delivered = 0;
	for (;;) {
		while (t->q_len > 0) {
			queued e = t->q[t->q_head];
			t->q_head = (t->q_head + 1) % t->q_cap;
			t->q_len--;
			const char *producer = t->m[e.producer].h->name;
			for (int i = 0; i < N_SERVICES; i++) {
				if (!follows(&t->m[i], producer) || omo_core_begin(t->m[i].core))
					continue;
				omo_core_take_event(t->m[i].core, e.bytes.data, e.bytes.len);
				t->m[i].next_tick = omo_core_tick(t->m[i].core);
				if (omo_core_commit(t->m[i].core) == OMO_E_OK)
					enqueue(t, i);
				delivered++;
			}
			omo_buf_fini(&e.bytes);
		}
		int64_t next = INT64_MAX;
		for (int i = 0; i < N_SERVICES; i++)
			if (t->m[i].next_tick < next)
				next = t->m[i].next_tick;
		if (next > until_us)
			return delivered;
		if (next > t->now)
			t->now = next;
		for (int i = 0; i < N_SERVICES; i++) {
			if (t->m[i].next_tick > t->now || omo_core_begin(t->m[i].core) != OMO_E_OK)
				continue;
			t->m[i].next_tick = omo_core_tick(t->m[i].core);
			if (omo_core_commit(t->m[i].core) == OMO_E_OK)
				enqueue(t, i);
		}
	}
}

int64_t omo_twin_now(const omo_twin *t)
{
	return t->now;
}

omo_core *omo_twin_core(omo_twin *t, const char *service)
{
	int i = find(t, service);
	return i < 0 ? NULL : t->m[i].core;
}

/* configure loads member m's defaults, then the twin's own settings and overrides. */
static omo_err configure(member *m, const omo_twin_options *o, omo_error_detail *d)
{
	char err[300], path[600];
	const char *name = m->def->handlers->name;
	char full[OMO_PRODUCER_MAX + 1];
	snprintf(full, sizeof(full), m->role ? "node-%s" : "%s", m->role ? m->role : name);
	if (omo_config_load(m->def->options, m->def->n_options, m->cfg, full, 0, NULL, err,
	                    sizeof(err)) != 0)
		return omo_fail(d, OMO_E_CONFIG, "%s: %s", full, err);
	const omo_option *opts = m->def->options;
	size_t n = m->def->n_options;
	snprintf(path, sizeof(path), "%s/%s", o->data_dir, full);
	omo_config_set(opts, n, m->cfg, "data_dir", path);
	omo_config_set(opts, n, m->cfg, "sync", "0"); /* a twin's store is scratch */
	omo_config_set(opts, n, m->cfg, "map_mb", "256");
	omo_config_set(opts, n, m->cfg, "network_dir", o->network_dir);
	if (m->role)
		omo_config_set(opts, n, m->cfg, "role", m->role);
	if (strcmp(name, "inventory") == 0) {
		snprintf(path, sizeof(path), "%s/stock.csv", o->network_dir);
		omo_config_set(opts, n, m->cfg, "seed_stock", path);
	}
	for (const char *const *ov = o->overrides; ov && *ov; ov++) {
		size_t len = strlen(full);
		const char *eq = strchr(*ov, '=');
		if (strncmp(*ov, full, len) != 0 || (*ov)[len] != '.' || eq == NULL)
			continue;
		char opt[64];
		snprintf(opt, sizeof(opt), "%.*s", (int)(eq - *ov - len - 1), *ov + len + 1);
		if (omo_config_set(opts, n, m->cfg, opt, eq + 1) != 0)
			return omo_fail(d, OMO_E_CONFIG, "override %s: unknown option or bad value",
			                *ov);
	}
	return OMO_E_OK;
}

omo_err omo_twin_open(omo_twin **tp, const omo_twin_options *o, omo_error_detail *d)
{
	static const struct {
		const omo_service_def *def;
		const char *role;
	} stack[N_SERVICES] = {
	    {&inventory_service, NULL},   {&node_service, "manufacturer"},
	    {&node_service, "warehouse"}, {&node_service, "store"},
	    {&router_service, NULL},      {&orders_service, NULL},
	};
	omo_twin *t = calloc(1, sizeof(*t));
	char err[300];
	omo_err e = OMO_E_OK;
	*tp = NULL;
	if (t == NULL)
		return omo_fail(d, OMO_E_NOMEM, "out of memory");
	t->now = o->start_us ? o->start_us : 1767225600000000; /* 2026-01-01T00:00:00Z */
	for (int i = 0; i < N_SERVICES && e == OMO_E_OK; i++) {
		member *m = &t->m[i];
		m->def = stack[i].def;
		m->role = stack[i].role;
		m->cfg = calloc(1, m->def->config_size);
		m->app = calloc(1, m->def->app_size);
		if (m->cfg == NULL || m->app == NULL) {
			e = omo_fail(d, OMO_E_NOMEM, "out of memory");
			break;
		}
		if ((e = configure(m, o, d)) != OMO_E_OK)
			break;
		if (m->def->app_init(m->app, m->cfg, err, sizeof(err)) != 0) {
			e = omo_fail(d, OMO_E_CONFIG, "%s", err);
			break;
		}
		m->h = omo_service_handlers(m->def, m->app);
		const omo_common_config *c = m->cfg;
		if ((e = omo_core_open(&m->core, m->h, m->app, c->data_dir, (size_t)c->map_mb << 20,
		                       c->sync != 0, d)) != OMO_E_OK)
			break;
		omo_core_set_clock(m->core, twin_clock, t);
		omo_core_set_caller(m->core, twin_call, t);
		m->next_tick = t->now; /* every service ticks once at start (inventory seeds) */
	}
	if (e != OMO_E_OK) {
		omo_twin_close(t);
		return e;
	}
	omo_twin_run(t, t->now);
	*tp = t;
	return OMO_E_OK;
}

void omo_twin_close(omo_twin *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < N_SERVICES; i++) {
		omo_core_close(t->m[i].core);
		if (t->m[i].app != NULL)
			t->m[i].def->app_fini(t->m[i].app);
		free(t->m[i].cfg);
		free(t->m[i].app);
	}
	while (t->q_len > 0) {
		omo_buf_fini(&t->q[t->q_head].bytes);
		t->q_head = (t->q_head + 1) % t->q_cap;
		t->q_len--;
	}
	free(t->q);
	free(t);
}
