#include "service.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"

#define CLOSE_WATCHDOG_S 2
#define MAX_PEERS        16
#define BATCH_REQUESTS   512
#define BATCH_EVENTS     2048
#define HEARTBEAT_US     500000
#define SILENCE_US       (4 * HEARTBEAT_US) /* a producer this quiet is asked directly */
#define CALL_TIMEOUT_MS  5000
#define FETCH_TIMEOUT_MS                                                                           \
	500 /* catching up: a dead producer must not stall us; heartbeats retry                    \
	     */

typedef struct peer {
	const char *name;
	omo_sock *req;
	int timeout_ms;
	int failures; /* calls in a row that found no answer */
} peer;

#define REDIAL_AFTER 2 /* failed calls after which a peer's socket is made anew */

/*
 * Faults injected on purpose, for the fault harness only: OMO_FAULTS set to
 * "drop_event=P,dup_event=P,drop_reply=P,seed=S" (percentages) makes this
 * process lose or repeat events it receives and lose replies it sends, as
 * nng is allowed to. Off unless the variable is set.
 */
typedef struct faults {
	int drop_event, dup_event, drop_reply;
	uint64_t rng;
} faults;

static void faults_load(faults *f)
{
	const char *s = getenv("OMO_FAULTS");
	unsigned long long seed = 1;
	memset(f, 0, sizeof(*f));
	for (; s != NULL && *s; s += strcspn(s, ","), s += *s == ',') {
		sscanf(s, "drop_event=%d", &f->drop_event);
		sscanf(s, "dup_event=%d", &f->dup_event);
		sscanf(s, "drop_reply=%d", &f->drop_reply);
		sscanf(s, "seed=%llu", &seed);
	}
	f->rng = (seed ^ (uint64_t)getpid() * 0x9e3779b97f4a7c15ull) | 1;
	if (getenv("OMO_FAULTS") != NULL)
		OMO_WARN("faults_injected", "drop_event=%d dup_event=%d drop_reply=%d seed=%llu",
		         f->drop_event, f->dup_event, f->drop_reply, seed);
}

/* faults_hit says whether a fault of probability pct percent happens now. */
static bool faults_hit(faults *f, int pct)
{
	if (pct <= 0)
		return false;
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return (int)(f->rng % 100) < pct;
}

/*
 * What the HTTP server shows, made by the loop and read by nng's threads:
 * the metrics text of the last second and when the loop last went round.
 */
typedef struct observed {
	pthread_mutex_t mu;
	omo_buf metrics;
	int64_t loop_us;
	bool ready;
} observed;

#define METRICS_EVERY_US 1000000
#define STALLED_US       5000000 /* a loop this long silent is not healthy */

typedef struct shell {
	omo_core *core;
	omo_sock *rep, *pub, *sub;
	peer peers[MAX_PEERS];
	unsigned n_peers;
	const omo_common_config *cfg;
	const omo_service_def *def;
	faults faults;
	observed obs;
	omo_http *http;
} shell;

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int http_page(void *arg, const char *path, omo_buf *out, const char **type)
{
	shell *sh = arg;
	int status = 404;
	pthread_mutex_lock(&sh->obs.mu);
	bool alive = wall_us() - sh->obs.loop_us < STALLED_US;
	if (strcmp(path, "/metrics") == 0) {
		*type = "text/plain; version=0.0.4; charset=utf-8";
		omo_buf_append(out, sh->obs.metrics.data, sh->obs.metrics.len);
		status = 200;
	} else if (strcmp(path, "/healthz") == 0) {
		omo_buf_printf(out, alive ? "ok\n" : "stalled\n");
		status = alive ? 200 : 503;
	} else if (strcmp(path, "/readyz") == 0) {
		bool ready = alive && sh->obs.ready;
		omo_buf_printf(out, ready ? "ready\n" : "not ready\n");
		status = ready ? 200 : 503;
	}
	pthread_mutex_unlock(&sh->obs.mu);
	return status;
}

/* observe records that the loop went round, and new metrics when rendered. */
static void observe(shell *sh, omo_buf *fresh, bool ready)
{
	pthread_mutex_lock(&sh->obs.mu);
	sh->obs.loop_us = wall_us();
	sh->obs.ready = ready;
	if (fresh != NULL && fresh->len > 0) {
		omo_buf old = sh->obs.metrics;
		sh->obs.metrics = *fresh;
		*fresh = old;
	}
	pthread_mutex_unlock(&sh->obs.mu);
}

/* http_start serves the pages and says where, for operators and `omo status`. */
static omo_err http_start(shell *sh, const char *name, omo_error_detail *d)
{
	static const char *const paths[] = {"/metrics", "/healthz", "/readyz"};
	char path[2048];
	if (sh->cfg->http[0] == '\0')
		return OMO_E_OK;
	omo_err e = omo_http_open(&sh->http, sh->cfg->http, paths, 3, http_page, sh, d);
	if (e != OMO_E_OK)
		return e;
	snprintf(path, sizeof(path), "%s/%s.http", sh->cfg->run_dir, name);
	FILE *f = fopen(path, "w");
	if (f != NULL) {
		fprintf(f, "127.0.0.1:%d\n", omo_http_port(sh->http));
		fclose(f);
	}
	OMO_INFO("http_listening", "port=%d", omo_http_port(sh->http));
	return OMO_E_OK;
}

static volatile sig_atomic_t stopping;

static void on_close_hang(int sig)
{
	(void)sig;
	_exit(0); /* the store is closed: nothing is lost by not closing sockets */
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	omo_bus_interrupt();
}

static peer *find_peer(shell *sh, const char *name)
{
	for (unsigned i = 0; i < sh->n_peers; i++)
		if (strcmp(sh->peers[i].name, name) == 0)
			return &sh->peers[i];
	return NULL;
}

static omo_err dial_peer(shell *sh, peer *p, omo_error_detail *d)
{
	char url[2048];
	const char *urls[1] = {url};
	omo_endpoint(url, sizeof(url), sh->cfg->endpoints, sh->cfg->run_dir, p->name, "rep");
	return omo_sock_dial(&p->req, OMO_REQ, urls, 1, p->timeout_ms, d);
}

static omo_err add_peer(shell *sh, const char *name, int timeout_ms, omo_error_detail *d)
{
	if (find_peer(sh, name) != NULL)
		return OMO_E_OK;
	if (sh->n_peers == MAX_PEERS)
		return omo_fail(d, OMO_E_CONFIG, "more than %d peers", MAX_PEERS);
	peer *p = &sh->peers[sh->n_peers];
	*p = (peer){.name = name, .timeout_ms = timeout_ms};
	omo_err e = dial_peer(sh, p, d);
	if (e == OMO_E_OK)
		sh->n_peers++;
	return e;
}

static omo_err shell_call(void *arg, const char *peer_name, const omo_msg *req, omo_msg *reply,
                          omo_error_detail *d)
{
	shell *sh = arg;
	peer *p = find_peer(sh, peer_name);
	if (p == NULL)
		return omo_fail(d, OMO_E_UNAVAILABLE, "%s is not a peer of %s", peer_name,
		                omo_core_name(sh->core));
	omo_err e = omo_call(p->req, req, reply, d);
	p->failures = e == OMO_E_UNAVAILABLE ? p->failures + 1 : 0;
	if (p->failures >= REDIAL_AFTER) {
		/* nng 1.5.2's dialer can stay disconnected after its peer restarts:
		 * a socket that keeps finding no one is replaced by a fresh one. */
		omo_error_detail dd;
		omo_sock_close(p->req);
		p->req = NULL;
		p->failures = 0;
		if (dial_peer(sh, p, &dd) != OMO_E_OK)
			OMO_ERROR("redial_failed", "peer=%s detail=\"%s\"", p->name, dd.text);
		else
			OMO_WARN("peer_redialled", "peer=%s", p->name);
	}
	return e;
}

/*
 * publish sends what the last batch committed: its events back to back in as
 * few PUB messages as fit OMO_MAX_MESSAGE. One message per batch instead of
 * one per event is what keeps the bus from costing more than the work.
 */
static void publish(shell *sh, omo_buf *pub)
{
	const omo_buf *evs;
	size_t n = omo_core_published(sh->core, &evs);
	pub->len = 0;
	for (size_t i = 0; i <= n; i++) {
		if (pub->len > 0 && (i == n || pub->len + evs[i].len > OMO_MAX_MESSAGE)) {
			omo_sock_send(sh->pub, pub->data, pub->len);
			pub->len = 0;
		}
		if (i < n && omo_buf_append(pub, evs[i].data, evs[i].len) != 0)
			OMO_ERROR("publish_failed",
			          "reason=\"no memory\""); /* repaired by heartbeats */
	}
}

/* take_events applies the events of one PUB message, in order. */
static void take_events(shell *sh, const uint8_t *data, size_t len)
{
	for (size_t off = 0, n; off < len; off += n)
		if ((n = omo_msg_size(data + off, len - off)) == 0) {
			OMO_WARN("events_malformed", "bytes=%zu", len - off);
			return;
		} else
			omo_core_take_event(sh->core, data + off, n);
}

typedef struct pending_reply {
	omo_bus_msg *req;
	size_t off, len;
} pending_reply;

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static void probe_listeners(shell *sh)
{
	omo_sock *listening[] = {sh->rep, sh->pub};
	const char *kinds[] = {"rep", "pub"};
	for (int i = 0; i < 2; i++) {
		int r = omo_sock_probe(listening[i], mono_us());
		if (r > 0)
			OMO_WARN("listener_renewed",
			         "socket=%s reason=\"handshakes stopped (nng #1518)\"", kinds[i]);
		else if (r < 0)
			OMO_ERROR("listener_renew_failed", "socket=%s", kinds[i]);
	}
}

static int serve(shell *sh)
{
	static pending_reply replies[BATCH_REQUESTS];
	omo_buf out = {0}, hb = {0}, pub = {0}, metrics = {0};
	int64_t next_tick = 0, next_hb = 0, next_metrics = 0;

	while (!stopping) {
		int64_t now = omo_core_now(sh->core);
		int64_t wait_us = min64(next_tick, next_hb) - now;
		int timeout = wait_us <= 0        ? 0
		              : wait_us > 1000000 ? 1000
		                                  : (int)(wait_us / 1000) + 1;
		struct pollfd fds[2] = {
		    {.fd = omo_sock_fd(sh->rep), .events = POLLIN},
		    {.fd = sh->sub ? omo_sock_fd(sh->sub) : -1, .events = POLLIN}};
		if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
			OMO_ERROR("poll_failed", "errno=%d", errno);
			return 1;
		}
		if (stopping)
			break;

		size_t n_replies = 0;
		out.len = 0;
		if (omo_core_begin(sh->core) != OMO_E_OK) {
			OMO_ERROR("batch_begin_failed", "service=%s", omo_core_name(sh->core));
			return 1;
		}
		omo_bus_msg *m;
		int n_events = 0;
		while (n_replies < BATCH_REQUESTS &&
		       omo_sock_recv(sh->rep, &m, false) == OMO_E_OK) {
			size_t off = out.len;
			omo_core_request(sh->core, omo_bus_msg_data(m), omo_bus_msg_len(m), &out);
			replies[n_replies++] = (pending_reply){m, off, out.len - off};
		}
		while (sh->sub && n_events < BATCH_EVENTS &&
		       omo_sock_recv(sh->sub, &m, false) == OMO_E_OK) {
			int times = faults_hit(&sh->faults, sh->faults.drop_event)  ? 0
			            : faults_hit(&sh->faults, sh->faults.dup_event) ? 2
			                                                            : 1;
			for (int i = 0; i < times; i++)
				take_events(sh, omo_bus_msg_data(m), omo_bus_msg_len(m));
			omo_bus_msg_free(m);
			n_events++;
		}
		for (unsigned i = 0; i < sh->def->n_follows; i++)
			omo_core_check_silence(sh->core, sh->def->follows[i], SILENCE_US);
		now = omo_core_now(sh->core);
		/* New work may be due sooner than the last tick knew of. */
		if (now >= next_tick || n_events > 0 || n_replies > 0)
			next_tick = omo_core_tick(sh->core);
		bool rendered = wall_us() >= next_metrics;
		if (rendered) {
			metrics.len = 0;
			omo_core_metrics(sh->core, &metrics);
			next_metrics = wall_us() + METRICS_EVERY_US;
		}
		omo_err e = omo_core_commit(sh->core);
		observe(sh, rendered ? &metrics : NULL, e == OMO_E_OK);
		if (e != OMO_E_OK) {
			/* Nothing of the batch happened: say so to every requester. */
			OMO_ERROR("batch_commit_failed", "code=%s", omo_err_name(e));
			for (size_t i = 0; i < n_replies; i++)
				omo_bus_msg_free(replies[i].req);
			continue;
		}
		for (size_t i = 0; i < n_replies; i++)
			if (faults_hit(&sh->faults, sh->faults.drop_reply))
				omo_bus_msg_free(replies[i].req); /* lost: the requester resends */
			else if (omo_bus_reply(sh->rep, replies[i].req, out.data + replies[i].off,
			                       replies[i].len) != OMO_E_OK)
				OMO_WARN("reply_dropped", "bytes=%zu",
				         replies[i].len); /* the requester resends */
		publish(sh, &pub);
		probe_listeners(sh);
		if (now >= next_hb) {
			hb.len = 0;
			if (omo_core_heartbeat_msg(sh->core, &hb) == OMO_E_OK)
				omo_sock_send(sh->pub, hb.data, hb.len);
			next_hb = now + HEARTBEAT_US;
		}
	}
	omo_buf_fini(&out);
	omo_buf_fini(&hb);
	omo_buf_fini(&pub);
	omo_buf_fini(&metrics);
	return 0;
}

int omo_service_run(const omo_service_def *def, const omo_common_config *cfg, void *app)
{
	const omo_handlers *h = omo_service_handlers(def, app);
	shell sh = {.cfg = cfg, .def = def, .obs = {.mu = PTHREAD_MUTEX_INITIALIZER}};
	omo_error_detail d = {0};
	char url[2048], urls[MAX_PEERS][2048];
	const char *sub_urls[MAX_PEERS];
	int rc = 1;
	omo_err e;

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	faults_load(&sh.faults);
	e = omo_core_open(&sh.core, h, app, cfg->data_dir, (size_t)cfg->map_mb << 20,
	                  cfg->sync != 0, &d);
	if (e != OMO_E_OK)
		goto out;
	omo_core_set_caller(sh.core, shell_call, &sh);
	omo_core_set_limits(sh.core, &(omo_core_limits){
	                                 .retain_events = cfg->retain_events,
	                                 .retain_replies_us = cfg->retain_replies_s * 1000000,
	                                 .map_max_bytes = (size_t)cfg->map_max_mb << 20,
	                             });
	omo_endpoint(url, sizeof(url), cfg->endpoints, cfg->run_dir, h->name, "rep");
	if ((e = omo_sock_listen(&sh.rep, OMO_REP, url, &d)) != OMO_E_OK)
		goto out;
	omo_endpoint(url, sizeof(url), cfg->endpoints, cfg->run_dir, h->name, "pub");
	if ((e = omo_sock_listen(&sh.pub, OMO_PUB, url, &d)) != OMO_E_OK)
		goto out;
	for (unsigned i = 0; i < def->n_calls; i++)
		if ((e = add_peer(&sh, def->calls[i], CALL_TIMEOUT_MS, &d)) != OMO_E_OK)
			goto out;
	for (unsigned i = 0; i < def->n_follows && i < MAX_PEERS; i++) {
		omo_endpoint(urls[i], sizeof(urls[i]), cfg->endpoints, cfg->run_dir,
		             def->follows[i], "pub");
		sub_urls[i] = urls[i];
		if ((e = add_peer(&sh, def->follows[i], FETCH_TIMEOUT_MS, &d)) != OMO_E_OK)
			goto out;
	}
	if (def->n_follows > 0 &&
	    (e = omo_sock_dial(&sh.sub, OMO_SUB, sub_urls, def->n_follows, 0, &d)) != OMO_E_OK)
		goto out;
	if ((e = http_start(&sh, h->name, &d)) != OMO_E_OK)
		goto out;
	uint64_t epoch, seq;
	omo_core_latest(sh.core, &epoch, &seq);
	OMO_INFO("started", "pid=%d epoch=%llu seq=%llu data_dir=%s", (int)getpid(),
	         (unsigned long long)epoch, (unsigned long long)seq, cfg->data_dir);
	rc = serve(&sh);
	OMO_INFO("stopped", "rc=%d", rc);
out:
	if (e != OMO_E_OK)
		OMO_ERROR("start_failed", "code=%s detail=\"%s\"", omo_err_name(e), d.text);
	/* State first: once the store is closed, nothing acknowledged can be lost.
	 * nng 1.5.2 can hang in nng_close (fixed upstream later), so the sockets
	 * are closed under a watchdog that ends the process if they do. */
	omo_core_close(sh.core);
	observe(&sh, NULL, false);
	omo_http_close(sh.http);
	struct sigaction wd = {.sa_handler = on_close_hang};
	sigaction(SIGALRM, &wd, NULL);
	alarm(CLOSE_WATCHDOG_S);
	omo_sock_close(sh.sub);
	for (unsigned i = 0; i < sh.n_peers; i++)
		omo_sock_close(sh.peers[i].req);
	omo_sock_close(sh.pub);
	omo_sock_close(sh.rep);
	alarm(0);
	omo_buf_fini(&sh.obs.metrics);
	return rc;
}

const omo_handlers *omo_service_handlers(const omo_service_def *def, const void *app)
{
	return def->app_handlers ? def->app_handlers(app) : def->handlers;
}

int omo_service_main(const omo_service_def *def, int argc, char **argv)
{
	char err[300];
	const char *name = def->handlers->name;
	void *cfg = calloc(1, def->config_size), *app = calloc(1, def->app_size);
	int rc = 2;
	if (cfg == NULL || app == NULL) {
		fprintf(stderr, "%s: out of memory\n", name);
		goto out;
	}
	int loaded =
	    omo_config_load(def->options, def->n_options, cfg, name, argc, argv, err, sizeof(err));
	if (loaded != 0) {
		if (loaded < 0)
			fprintf(stderr, "%s: %s\n", name, err);
		rc = loaded < 0 ? 2 : 0;
		goto out;
	}
	const omo_common_config *common = cfg;
	/* before the app is built, so that what it logs names the service too */
	if (omo_log_init(name, common->log_level) != 0) {
		fprintf(stderr, "%s: log_level must be error, warn, info or debug\n", name);
		goto out;
	}
	if (def->app_init(app, cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", name, err);
		goto out;
	}
	const omo_handlers *h = omo_service_handlers(def, app);
	omo_log_init(h->name, common->log_level); /* a node's name comes with its role */
	rc = omo_service_run(def, common, app);
out:
	if (app != NULL)
		def->app_fini(app);
	free(cfg);
	free(app);
	return rc;
}
