/*
 * omo.c - the operator's command line: start and stop the local stack on one
 * machine, see whether it is healthy, talk to the orders and inventory
 * services by hand, and follow one order across every service's events.
 *
 * `omo up` starts a supervisor (its own process, in its own session) that
 * starts the services in order, waits until each answers, then restarts any
 * that dies, with a back-off, until `omo down` asks it to stop them all in
 * reverse order. The stack lives under one state directory: run/ holds the
 * ipc:// sockets, a pid file per service and the supervisor's, data/<service>/ each service's LMDB
 * environment, log/<service>.log what each service wrote. The service
 * binaries are looked up next to this one (the build puts them all in one
 * bin/ directory).
 *
 * Commands are rows of one table (commands[]), which drives dispatch, the
 * argument count check and `omo help`; options are rows of another
 * (CLI_OPTIONS), as in every omo service. Exit codes: 0 success, 1 a request
 * or an operation failed, 2 the command line was wrong.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "config.h"
#include "partners_view.h"
#include "schema.h"

#define EXIT_OK       0
#define EXIT_FAILED   1
#define EXIT_USAGE    2
#define MAX_ARGS      8
#define START_WAIT_MS 10000 /* how long `up` waits for a service to answer */
#define STOP_WAIT_MS  10000 /* how long `down` waits for a service to exit */
#define POLL_MS       50

/* ---- options ---------------------------------------------------------- */

#define CLI_OPTIONS(X, T)                                                                          \
	OMO_CLIENT_OPTIONS(X, T)                                                                   \
	X(T, INT, sync, "1", "up: 1 fsync every commit (durable); 0 leave it to the OS")           \
	X(T, STR, log_level, "info", "up: the services' log level")                                \
	X(T, INT, reject_pct, "-1", "up: percent of fulfilments a node rejects (-1: its default)") \
	X(T, INT, pick_ms, "-1", "up: node time to pick an order (-1: its default)")               \
	X(T, INT, transit_ms, "-1", "up: carrier time to the door (-1: its default)")              \
	X(T, INT, pickup_ms, "-1", "up: time until a consumer collects (-1: its default)")         \
	X(T, STR, sku, "", "inventory: only this SKU")                                             \
	X(T, STR, node, "", "inventory: only this node")                                           \
	X(T, STR, partners, "", "partners: the mapping files (default: <network>/partners)")       \
	X(T, INT, last, "5", "partners: how many documents each way")

typedef struct cli_config {
	CLI_OPTIONS(OMO_CONFIG_FIELD, _)
} cli_config;

static const omo_option cli_options[] = {CLI_OPTIONS(OMO_CONFIG_ROW, cli_config)};
#define N_OPTIONS (sizeof(cli_options) / sizeof(cli_options[0]))

/* What a command handler gets: the options, its own arguments, derived paths. */
typedef struct cli {
	cli_config cfg;
	const char *args[MAX_ARGS]; /* after the command name */
	int n_args;
	char run_dir[PATH_MAX];
	char bin_dir[PATH_MAX];
} cli;

/* ---- the stack ---------------------------------------------------------- */

/* The services of the local stack, in start order (stopped in reverse). */
static const struct service {
	const char *name;   /* socket, pid file, data and log name */
	const char *binary; /* executable next to omo */
	const char *role;   /* --role for omo-node, else NULL */
} services[] = {
    {"inventory", "omo-inventory", NULL},
    {"node-manufacturer", "omo-node", "manufacturer"},
    {"node-warehouse", "omo-node", "warehouse"},
    {"node-store", "omo-node", "store"},
    {"router", "omo-router", NULL},
    {"orders", "omo-orders", NULL},
};
#define N_SERVICES (sizeof(services) / sizeof(services[0]))

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_ms_f(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void state_path(const cli *c, char *out, size_t n, const char *sub, const char *name,
                       const char *ext)
{
	snprintf(out, n, "%s/%s%s%s%s", c->cfg.state, sub, name ? "/" : "", name ? name : "",
	         ext ? ext : "");
}

/* mkdir_p creates dir and its parents; 0 or -1 with errno. */
static int mkdir_p(const char *dir)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0755) != 0 && errno != EEXIST)
				return -1;
			*s = '/';
		}
	return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* pid_read returns the pid in a service's pid file, or 0 if there is none. */
static pid_t pid_read(const cli *c, const struct service *s)
{
	char path[PATH_MAX];
	long pid = 0;
	state_path(c, path, sizeof(path), "run", s->name, ".pid");
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 1 || pid > INT_MAX)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

static int pid_write(const cli *c, const struct service *s, pid_t pid)
{
	char path[PATH_MAX];
	state_path(c, path, sizeof(path), "run", s->name, ".pid");
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%ld\n", (long)pid);
	return fclose(f);
}

static void pid_remove(const cli *c, const struct service *s)
{
	char path[PATH_MAX];
	state_path(c, path, sizeof(path), "run", s->name, ".pid");
	unlink(path);
}

/* proc_alive tells whether pid is a running (not zombie) process. */
static bool proc_alive(pid_t pid)
{
	char path[64], buf[256];
	if (kill(pid, 0) != 0 && errno != EPERM)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return true;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')'); /* the command name may hold spaces */
	return paren == NULL || paren[1] == '\0' || paren[2] != 'Z';
}

/*
 * proc_is_ours tells whether pid runs s's binary, so that a pid file left by
 * a crash, whose pid the system has since given to another program, never
 * gets that program signalled.
 */
static bool proc_is_ours(pid_t pid, const struct service *s)
{
	char path[64], argv0[PATH_MAX];
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return true; /* no /proc: trust the pid file */
	size_t n = fread(argv0, 1, sizeof(argv0) - 1, f);
	fclose(f);
	argv0[n] = '\0';
	const char *base = strrchr(argv0, '/');
	return strcmp(base ? base + 1 : argv0, s->binary) == 0;
}

/* running returns the live pid of s from its pid file, or 0. */
static pid_t running(const cli *c, const struct service *s)
{
	pid_t pid = pid_read(c, s);
	return pid > 0 && proc_alive(pid) && proc_is_ours(pid, s) ? pid : 0;
}

/* reap collects pid if it is our child and has exited; true if it is gone. */
static bool reap(pid_t pid, int *status)
{
	int st;
	pid_t r = waitpid(pid, &st, WNOHANG);
	if (r == pid) {
		if (status)
			*status = st;
		return true;
	}
	return r < 0 && errno == ECHILD && !proc_alive(pid);
}

/* stop sends SIGTERM, waits up to STOP_WAIT_MS, then SIGKILL; returns false if
 * the SIGKILL was needed. */
static bool stop(pid_t pid)
{
	int64_t deadline = now_ms() + STOP_WAIT_MS;
	kill(pid, SIGTERM);
	while (now_ms() < deadline) {
		if (reap(pid, NULL))
			return true;
		sleep_ms(POLL_MS);
	}
	kill(pid, SIGKILL);
	for (int i = 0; i < 40 && !reap(pid, NULL); i++)
		sleep_ms(POLL_MS);
	return false;
}

static void request_init(omo_msg *m, omo_msg_type type)
{
	struct timespec ts;
	omo_msg_init(m, type);
	omo_uuid_generate(&m->id);
	clock_gettime(CLOCK_REALTIME, &ts);
	m->ts_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static omo_err dial(const cli *c, const char *service, int timeout_ms, omo_sock **s,
                    omo_error_detail *d)
{
	char url[PATH_MAX + 32];
	const char *urls[1] = {url};
	omo_endpoint(url, sizeof(url), getenv("OMO_ENDPOINTS"), c->run_dir, service, "rep");
	return omo_sock_dial(s, OMO_REQ, urls, 1, timeout_ms, d);
}

/*
 * call_within sends req until a reply comes or timeout_ms has passed. A
 * repeat carries the same request id, so the service answers it from the
 * reply it stored: nothing is done twice.
 */
static omo_err call_within(omo_sock *s, const omo_msg *req, omo_msg *reply, int timeout_ms,
                           omo_error_detail *d)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		omo_err e = omo_call(s, req, reply, d);
		if (e != OMO_E_UNAVAILABLE || now_ms() >= deadline)
			return e;
		omo_msg_fini(reply);
		sleep_ms(5);
	}
}

/* fetch asks s for its events of epoch (0: its current one) from from_seq on. */
static omo_err fetch(omo_sock *s, int64_t epoch, int64_t from_seq, int64_t max, int timeout_ms,
                     omo_msg *reply, omo_error_detail *d)
{
	omo_msg req;
	request_init(&req, OMO_MSG_FETCH_EVENTS);
	req.body.fetch_events.epoch = epoch;
	req.body.fetch_events.from_seq = from_seq;
	req.body.fetch_events.max = max;
	omo_err e = call_within(s, &req, reply, timeout_ms, d);
	if (e == OMO_E_OK && reply->type != OMO_MSG_EVENTS)
		e = omo_fail(d, OMO_E_INTERNAL, "fetch_events answered with %s",
		             omo_msg_name(reply->type));
	return e;
}

/* health asks s for its event stream's head (its first event at most). */
static omo_err health(omo_sock *s, int timeout_ms, int64_t *latest_seq, omo_error_detail *d)
{
	omo_msg reply;
	omo_err e = fetch(s, 0, 1, 1, timeout_ms, &reply, d);
	if (e == OMO_E_OK)
		*latest_seq = reply.body.events.latest_seq;
	omo_msg_fini(&reply);
	return e;
}

/* call sends req to service and prints the error, if any, on stderr. */
static omo_err call(const cli *c, const char *service, const omo_msg *req, omo_msg *reply)
{
	omo_sock *s;
	omo_error_detail d = {0};
	omo_err e = dial(c, service, (int)c->cfg.timeout_ms, &s, &d);
	if (e == OMO_E_OK) {
		e = call_within(s, req, reply, (int)c->cfg.timeout_ms, &d);
		omo_sock_close(s);
	} else {
		memset(reply, 0, sizeof(*reply));
	}
	if (e == OMO_E_UNAVAILABLE)
		fprintf(stderr, "omo: %s: %s: %s (is the stack up? try: omo status)\n",
		        omo_err_name(e), service, d.text);
	else if (e != OMO_E_OK)
		fprintf(stderr, "omo: %s: %s\n", omo_err_name(e), d.text);
	return e;
}

static int print_json(const omo_rec_desc *desc, const void *rec)
{
	char *json = omo_rec_to_json(desc, rec, true);
	if (json == NULL) {
		fprintf(stderr, "omo: out of memory\n");
		return EXIT_FAILED;
	}
	printf("%s\n", json);
	free(json);
	return EXIT_OK;
}

/* ---- up ---------------------------------------------------------------- */

/* spawn starts s with its output appended to its log file. */
static pid_t spawn(const cli *c, const struct service *s)
{
	char exe[PATH_MAX + 32], log[PATH_MAX], data[PATH_MAX], stock[PATH_MAX + 16];
	char a[12][PATH_MAX + 32];
	char *argv[13];
	int n = 0;

	snprintf(exe, sizeof(exe), "%s/%s", c->bin_dir, s->binary);
	state_path(c, log, sizeof(log), "log", s->name, ".log");
	state_path(c, data, sizeof(data), "data", s->name, NULL);
	if (mkdir_p(data) != 0) {
		fprintf(stderr, "omo up: cannot create %s: %s\n", data, strerror(errno));
		return -1;
	}
	snprintf(a[n++], sizeof(a[0]), "%s", exe);
	snprintf(a[n++], sizeof(a[0]), "--run_dir=%s", c->run_dir);
	snprintf(a[n++], sizeof(a[0]), "--data_dir=%s", data);
	snprintf(a[n++], sizeof(a[0]), "--log_level=%s", c->cfg.log_level);
	snprintf(a[n++], sizeof(a[0]), "--sync=%d", c->cfg.sync ? 1 : 0);
	snprintf(a[n++], sizeof(a[0]), "--network_dir=%s", c->cfg.network);
	if (strcmp(s->name, "inventory") == 0) {
		snprintf(stock, sizeof(stock), "%s/stock.csv", c->cfg.network);
		snprintf(a[n++], sizeof(a[0]), "--seed_stock=%s", stock);
	}
	if (s->role != NULL) {
		snprintf(a[n++], sizeof(a[0]), "--role=%s", s->role);
		const struct {
			const char *name;
			int64_t v;
		} knobs[] = {{"reject_pct", c->cfg.reject_pct},
		             {"pick_ms", c->cfg.pick_ms},
		             {"transit_ms", c->cfg.transit_ms},
		             {"pickup_ms", c->cfg.pickup_ms}};
		for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
			if (knobs[i].v >= 0)
				snprintf(a[n++], sizeof(a[0]), "--%s=%lld", knobs[i].name,
				         (long long)knobs[i].v);
	}
	for (int i = 0; i < n; i++)
		argv[i] = a[i];
	argv[n] = NULL;

	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "omo up: cannot open %s: %s\n", log, strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* Its own session: the stack outlives this command and the terminal's ^C. */
		int null = open("/dev/null", O_RDONLY);
		setsid();
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		execv(exe, argv);
		dprintf(STDERR_FILENO, "omo up: cannot run %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	int err = errno;
	close(fd);
	if (pid < 0)
		fprintf(stderr, "omo up: cannot start %s: %s\n", s->name, strerror(err));
	return pid;
}

/* await_health polls s's health until it answers, it exits, or START_WAIT_MS. */
static bool await_health(const cli *c, const struct service *s, pid_t pid, int64_t *elapsed_ms)
{
	int64_t start = now_ms(), seq;
	omo_sock *sock;
	omo_error_detail d = {0};
	omo_err e = dial(c, s->name, 250, &sock, &d);
	int status = 0;
	bool exited = false;

	while (e == OMO_E_OK || e == OMO_E_UNAVAILABLE) {
		if ((exited = reap(pid, &status)))
			break;
		if ((e = health(sock, 250, &seq, &d)) == OMO_E_OK ||
		    now_ms() - start > START_WAIT_MS)
			break;
		sleep_ms(20);
	}
	omo_sock_close(sock);
	*elapsed_ms = now_ms() - start;
	if (e == OMO_E_OK && !exited)
		return true;
	if (exited && WIFEXITED(status))
		fprintf(stderr, "omo up: %s exited with status %d\n", s->name, WEXITSTATUS(status));
	else if (exited)
		fprintf(stderr, "omo up: %s was killed by signal %d\n", s->name,
		        WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	else
		fprintf(stderr, "omo up: %s did not answer in %d ms: %s: %s\n", s->name,
		        START_WAIT_MS, omo_err_name(e), d.text);
	return false;
}

static void print_log_tail(const cli *c, const struct service *s)
{
	char path[PATH_MAX], line[512], tail[5][512];
	int n = 0;
	state_path(c, path, sizeof(path), "log", s->name, ".log");
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		snprintf(tail[n++ % 5], sizeof(tail[0]), "%s", line);
	fclose(f);
	fprintf(stderr, "omo up: last lines of %s:\n", path);
	for (int i = n > 5 ? n - 5 : 0; i < n; i++)
		fprintf(stderr, "  %s", tail[i % 5]);
}

static int check_installation(const cli *c)
{
	char path[PATH_MAX + 32];
	int missing = 0;
	for (size_t i = 0; i < N_SERVICES; i++) {
		snprintf(path, sizeof(path), "%s/%s", c->bin_dir, services[i].binary);
		if (i > 0 && strcmp(services[i].binary, services[i - 1].binary) == 0)
			continue; /* the node roles share one binary */
		if (access(path, X_OK) != 0) {
			fprintf(stderr, "omo up: %s: %s (build it: make %s)\n", path,
			        strerror(errno), services[i].binary);
			missing++;
		}
	}
	const char *files[] = {"nodes.csv", "skus.csv", "stock.csv"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", c->cfg.network, files[i]);
		if (access(path, R_OK) != 0) {
			fprintf(stderr, "omo up: network file %s: %s (see --network)\n", path,
			        strerror(errno));
			missing++;
		}
	}
	return missing;
}

/* ---- the supervisor ----------------------------------------------------- */

#define RESTART_MIN_MS 100   /* first wait before restarting a service that died */
#define RESTART_MAX_MS 10000 /* the wait doubles up to this while it keeps dying */
#define STABLE_MS      60000 /* up this long, and the wait starts again from the minimum */

static volatile sig_atomic_t supervisor_stopping;

static void supervisor_on_signal(int sig)
{
	(void)sig;
	supervisor_stopping = 1;
}

typedef struct supervised {
	pid_t pid;
	int restarts;
	int64_t started_ms, backoff_ms, restart_at_ms;
} supervised;

static const struct service supervisor = {"supervisor", "omo", NULL};

/* supervisor_state writes run/supervisor.state: "service pid restarts" lines
 * for `omo status`. */
static void supervisor_state(const cli *c, const supervised *sv)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	state_path(c, path, sizeof(path), "run", "supervisor", ".state");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return;
	for (size_t i = 0; i < N_SERVICES; i++)
		fprintf(f, "%s %ld %d\n", services[i].name, (long)sv[i].pid, sv[i].restarts);
	if (fclose(f) == 0)
		rename(tmp, path);
}

static void supervisor_log(const char *level, const char *event, const struct service *s,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void supervisor_log(const char *level, const char *event, const struct service *s,
                           const char *fmt, ...)
{
	char when[32];
	time_t t = time(NULL);
	va_list ap;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(stderr, "ts=%s level=%s svc=supervisor event=%s service=%s ", when, level, event,
	        s->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* supervise_loop restarts services that die until asked to stop, then stops them. */
static void supervise_loop(const cli *c, supervised *sv)
{
	while (!supervisor_stopping) {
		int64_t now = now_ms();
		for (size_t i = 0; i < N_SERVICES; i++) {
			const struct service *s = &services[i];
			int status = 0;
			if (sv[i].pid > 0 && reap(sv[i].pid, &status)) {
				bool stable = now - sv[i].started_ms > STABLE_MS;
				sv[i].backoff_ms = stable ? RESTART_MIN_MS
				                          : (sv[i].backoff_ms * 2 > RESTART_MAX_MS
				                                 ? RESTART_MAX_MS
				                                 : sv[i].backoff_ms * 2);
				if (sv[i].backoff_ms < RESTART_MIN_MS)
					sv[i].backoff_ms = RESTART_MIN_MS;
				sv[i].restart_at_ms = now + sv[i].backoff_ms;
				supervisor_log(
				    "warn", "service_died", s, "pid=%ld %s=%d restart_in_ms=%lld",
				    (long)sv[i].pid, WIFSIGNALED(status) ? "signal" : "status",
				    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
				    (long long)sv[i].backoff_ms);
				sv[i].pid = 0;
				pid_remove(c, s);
				supervisor_state(c, sv);
			}
			if (sv[i].pid == 0 && now >= sv[i].restart_at_ms) {
				pid_t pid = spawn(c, s);
				if (pid > 0) {
					sv[i].pid = pid;
					sv[i].restarts++;
					sv[i].started_ms = now;
					pid_write(c, s, pid);
					supervisor_log("info", "service_restarted", s,
					               "pid=%ld restarts=%d", (long)pid,
					               sv[i].restarts);
				} else
					sv[i].restart_at_ms = now + RESTART_MAX_MS;
				supervisor_state(c, sv);
			}
		}
		sleep_ms(POLL_MS);
	}
	for (size_t i = N_SERVICES; i-- > 0;) {
		if (sv[i].pid > 0) {
			bool clean = stop(sv[i].pid);
			supervisor_log("info", "service_stopped", &services[i], "pid=%ld clean=%d",
			               (long)sv[i].pid, clean);
		}
		pid_remove(c, &services[i]);
	}
}

/*
 * supervise is the supervisor process: it starts the services in order,
 * telling `omo up` through report how each came up ("ready" or "failed" at
 * the end), then keeps them running until SIGTERM. Returns its exit status.
 */
static int supervise(const cli *c, int report)
{
	supervised sv[N_SERVICES] = {{0}};
	char path[PATH_MAX];
	size_t started = 0;
	bool ok = true;
	struct sigaction sa = {.sa_handler = supervisor_on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	for (; started < N_SERVICES && ok && !supervisor_stopping; started++) {
		const struct service *s = &services[started];
		int64_t ms;
		if ((sv[started].pid = spawn(c, s)) < 0) {
			sv[started].pid = 0;
			ok = false;
			break;
		}
		sv[started].started_ms = now_ms();
		pid_write(c, s, sv[started].pid);
		if ((ok = await_health(c, s, sv[started].pid, &ms)))
			dprintf(report, "%-18s pid %-7ld up, answered in %lld ms\n", s->name,
			        (long)sv[started].pid, (long long)ms);
		else
			print_log_tail(c, s);
	}
	if (!ok || supervisor_stopping) {
		for (size_t i = started + (ok ? 0 : 1); i-- > 0;) {
			if (sv[i].pid > 0)
				stop(sv[i].pid);
			pid_remove(c, &services[i]);
		}
		dprintf(report, "failed\n");
		return EXIT_FAILED;
	}
	pid_write(c, &supervisor, getpid());
	supervisor_state(c, sv);
	/* From here on it speaks only to its log. */
	state_path(c, path, sizeof(path), "log", "supervisor", ".log");
	int log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log >= 0) {
		fflush(NULL);
		dup2(log, STDOUT_FILENO);
		dup2(log, STDERR_FILENO);
		close(log);
	}
	dprintf(report, "ready\n");
	close(report);
	supervise_loop(c, sv);
	pid_remove(c, &supervisor);
	state_path(c, path, sizeof(path), "run", "supervisor", ".state");
	unlink(path);
	return EXIT_OK;
}

static int cmd_up(cli *c)
{
	char dir[PATH_MAX], line[512];
	int report[2];

	if (check_installation(c) != 0)
		return EXIT_FAILED;
	for (size_t i = 0; i <= N_SERVICES; i++) {
		const struct service *s = i < N_SERVICES ? &services[i] : &supervisor;
		pid_t pid = running(c, s);
		if (pid != 0) {
			fprintf(stderr, "omo up: %s is already running (pid %ld); try: omo down\n",
			        s->name, (long)pid);
			return EXIT_FAILED;
		}
	}
	const char *subs[] = {"run", "data", "log"};
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		state_path(c, dir, sizeof(dir), subs[i], NULL, NULL);
		if (mkdir_p(dir) != 0) {
			fprintf(stderr, "omo up: cannot create %s: %s\n", dir, strerror(errno));
			return EXIT_FAILED;
		}
	}
	/* close-on-exec: the services must not hold it open */
	if (pipe(report) != 0 || fcntl(report[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(report[1], F_SETFD, FD_CLOEXEC) != 0) {
		fprintf(stderr, "omo up: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "omo up: cannot start the supervisor: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	if (pid == 0) {
		/* Its own session: the stack outlives this command and the terminal's ^C. */
		close(report[0]);
		setsid();
		_exit(supervise(c, report[1]));
	}
	close(report[1]);
	FILE *in = fdopen(report[0], "r");
	bool ready = false;
	while (in != NULL && !ready && fgets(line, sizeof(line), in) != NULL) {
		if (strcmp(line, "ready\n") == 0)
			ready = true;
		else if (strcmp(line, "failed\n") != 0)
			fputs(line, stdout);
	}
	if (in != NULL)
		fclose(in);
	if (!ready) {
		waitpid(pid, NULL, 0);
		fprintf(stderr, "omo up: the stack did not come up; nothing is left running\n");
		return EXIT_FAILED;
	}
	printf("stack up: state %s, network %s, supervisor pid %ld\n", c->cfg.state, c->cfg.network,
	       (long)pid);
	return EXIT_OK;
}

/* ---- down, status ------------------------------------------------------ */

static int cmd_down(cli *c)
{
	int rc = EXIT_OK;
	pid_t sup = running(c, &supervisor);
	if (sup != 0) {
		/* The supervisor stops the services in reverse order, then itself. */
		int64_t start = now_ms();
		kill(sup, SIGTERM);
		while (proc_alive(sup) &&
		       now_ms() - start < (int64_t)(N_SERVICES + 1) * STOP_WAIT_MS)
			sleep_ms(POLL_MS);
		if (proc_alive(sup)) {
			fprintf(stderr, "omo down: the supervisor (pid %ld) would not stop\n",
			        (long)sup);
			return EXIT_FAILED;
		}
		printf("stack stopped by its supervisor (pid %ld) in %lld ms\n", (long)sup,
		       (long long)(now_ms() - start));
		pid_remove(c, &supervisor);
	}
	for (size_t i = N_SERVICES; i-- > 0;) {
		const struct service *s = &services[i];
		pid_t pid = pid_read(c, s);
		if (pid == 0) {
			if (sup == 0)
				printf("%-18s not running (no pid file)\n", s->name);
			continue;
		}
		if (!proc_alive(pid) || !proc_is_ours(pid, s)) {
			printf("%-18s not running (stale pid file for %ld removed)\n", s->name,
			       (long)pid);
			pid_remove(c, s);
			continue;
		}
		int64_t start = now_ms();
		bool clean = stop(pid);
		if (!clean && proc_alive(pid)) {
			fprintf(stderr, "omo down: %s (pid %ld) would not stop\n", s->name,
			        (long)pid);
			rc = EXIT_FAILED;
			continue;
		}
		printf("%-18s pid %-7ld %s in %lld ms\n", s->name, (long)pid,
		       clean ? "stopped" : "killed (did not stop on SIGTERM)",
		       (long long)(now_ms() - start));
		pid_remove(c, s);
	}
	return rc;
}

static int cmd_status(cli *c)
{
	int rc = EXIT_OK;
	char notes[N_SERVICES][300];
	size_t n_notes = 0;
	int restarts[N_SERVICES] = {0};
	char path[PATH_MAX], name[64];
	long spid;
	int r;
	state_path(c, path, sizeof(path), "run", "supervisor", ".state");
	FILE *st = fopen(path, "r");
	while (st != NULL && fscanf(st, "%63s %ld %d", name, &spid, &r) == 3)
		for (size_t i = 0; i < N_SERVICES; i++)
			if (strcmp(services[i].name, name) == 0)
				restarts[i] = r;
	if (st != NULL)
		fclose(st);
	pid_t sup = running(c, &supervisor);
	if (sup != 0)
		printf("supervisor pid %ld\n", (long)sup);
	else
		printf("supervisor not running: nothing restarts a service that dies\n");
	printf("%-18s %-8s %-6s %10s %10s %9s\n", "service", "pid", "alive", "answer_ms",
	       "latest_seq", "restarts");
	for (size_t i = 0; i < N_SERVICES; i++) {
		const struct service *s = &services[i];
		pid_t pid = pid_read(c, s);
		bool alive = pid > 0 && proc_alive(pid) && proc_is_ours(pid, s);
		char pidtxt[16] = "-", ms[16] = "-", seqtxt[24] = "-";
		omo_sock *sock;
		omo_error_detail d = {0};
		int64_t seq = 0;
		if (pid > 0)
			snprintf(pidtxt, sizeof(pidtxt), "%ld", (long)pid);
		double t0 = now_ms_f();
		omo_err e = dial(c, s->name, 1000, &sock, &d);
		if (e == OMO_E_OK) {
			e = health(sock, 1000, &seq, &d);
			omo_sock_close(sock);
		}
		if (e == OMO_E_OK) {
			snprintf(ms, sizeof(ms), "%.2f", now_ms_f() - t0);
			snprintf(seqtxt, sizeof(seqtxt), "%lld", (long long)seq);
		} else {
			snprintf(ms, sizeof(ms), "%s",
			         e == OMO_E_UNAVAILABLE ? "no answer" : "error");
			snprintf(notes[n_notes++], sizeof(notes[0]), "%s: %s: %s", s->name,
			         omo_err_name(e), d.text);
			rc = EXIT_FAILED;
		}
		printf("%-18s %-8s %-6s %10s %10s %9d\n", s->name, pidtxt, alive ? "yes" : "no", ms,
		       seqtxt, restarts[i]);
	}
	for (size_t i = 0; i < n_notes; i++)
		fprintf(stderr, "omo status: %s\n", notes[i]);
	return rc;
}

/* ---- orders and inventory ---------------------------------------------- */

static int read_file(const char *path, char **text, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	if (f == NULL || buf == NULL) {
		free(buf);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			char *bigger = cap > OMO_MAX_MESSAGE ? NULL : realloc(buf, cap * 2);
			if (bigger == NULL) {
				errno = EFBIG;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	bool bad = ferror(f) || n == cap;
	if (f != stdin)
		fclose(f);
	if (bad) {
		free(buf);
		return -1;
	}
	*text = buf;
	*len = n;
	return 0;
}

static int cmd_submit(cli *c)
{
	omo_msg req, reply;
	omo_error_detail d = {0};
	char *text;
	size_t len;

	if (read_file(c->args[0], &text, &len) != 0) {
		fprintf(stderr, "omo submit: %s: %s\n", c->args[0], strerror(errno));
		return EXIT_FAILED;
	}
	request_init(&req, OMO_MSG_SUBMIT_ORDER);
	omo_err e = omo_rec_from_json(&omo_rec_submit_order, text, len, &req.body.submit_order,
	                              &req.arena, &d);
	free(text);
	if (e != OMO_E_OK) {
		fprintf(stderr, "omo submit: %s: %s: %s\n", c->args[0], omo_err_name(e), d.text);
		omo_msg_fini(&req);
		return EXIT_FAILED;
	}
	e = call(c, "orders", &req, &reply);
	int rc = e == OMO_E_OK
	             ? print_json(&omo_rec_submit_order_reply, &reply.body.submit_order_reply)
	             : EXIT_FAILED;
	omo_msg_fini(&reply);
	omo_msg_fini(&req);
	return rc;
}

static int parse_order_id(const char *text, omo_uuid *id)
{
	if (omo_uuid_parse(text, id))
		return 0;
	fprintf(stderr,
	        "omo: \"%s\" is not an order id (a UUID like "
	        "0f8fad5b-d9cb-469f-a165-70867728950e)\n",
	        text);
	return -1;
}

static int cmd_order(cli *c)
{
	omo_msg req, reply;
	request_init(&req, OMO_MSG_GET_ORDER);
	if (parse_order_id(c->args[0], &req.body.get_order.order_id) != 0)
		return EXIT_USAGE;
	int rc = call(c, "orders", &req, &reply) == OMO_E_OK
	             ? print_json(&omo_rec_order_view, &reply.body.order_view)
	             : EXIT_FAILED;
	omo_msg_fini(&reply);
	return rc;
}

static int cmd_explain(cli *c)
{
	omo_msg req, reply;
	request_init(&req, OMO_MSG_EXPLAIN);
	if (parse_order_id(c->args[0], &req.body.explain.order_id) != 0)
		return EXIT_USAGE;
	int rc = call(c, "router", &req, &reply) == OMO_E_OK
	             ? print_json(&omo_rec_explanation, &reply.body.explanation)
	             : EXIT_FAILED;
	omo_msg_fini(&reply);
	return rc;
}

static int cmd_cancel(cli *c)
{
	omo_msg req, reply;
	request_init(&req, OMO_MSG_CANCEL_ORDER);
	if (parse_order_id(c->args[0], &req.body.cancel_order.order_id) != 0)
		return EXIT_USAGE;
	const char *reason = c->n_args > 1 ? c->args[1] : "cancelled by an operator";
	if (strlen(reason) >= sizeof(req.body.cancel_order.reason)) {
		fprintf(stderr, "omo cancel: the reason is longer than %zu bytes\n",
		        sizeof(req.body.cancel_order.reason) - 1);
		return EXIT_USAGE;
	}
	strcpy(req.body.cancel_order.reason, reason);
	int rc = call(c, "orders", &req, &reply) == OMO_E_OK
	             ? print_json(&omo_rec_order_view, &reply.body.order_view)
	             : EXIT_FAILED;
	omo_msg_fini(&reply);
	return rc;
}

static int cmd_inventory(cli *c)
{
	omo_msg req, reply;
	omo_sku_ref sku;
	omo_node_ref node;
	request_init(&req, OMO_MSG_STOCK_QUERY);
	if (c->cfg.sku[0] != '\0') {
		if (strlen(c->cfg.sku) >= sizeof(sku.sku)) {
			fprintf(stderr, "omo inventory: --sku is too long\n");
			return EXIT_USAGE;
		}
		strcpy(sku.sku, c->cfg.sku);
		req.body.stock_query.skus = &sku;
		req.body.stock_query.skus_count = 1;
	}
	if (c->cfg.node[0] != '\0') {
		if (strlen(c->cfg.node) >= sizeof(node.node)) {
			fprintf(stderr, "omo inventory: --node is too long\n");
			return EXIT_USAGE;
		}
		strcpy(node.node, c->cfg.node);
		req.body.stock_query.nodes = &node;
		req.body.stock_query.nodes_count = 1;
	}
	if (call(c, "inventory", &req, &reply) != OMO_E_OK)
		return EXIT_FAILED;
	const omo_stock_reply *r = &reply.body.stock_reply;
	int64_t on_hand = 0, reserved = 0, available = 0;
	printf("%-12s %-10s %10s %10s %10s\n", "sku", "node", "on_hand", "reserved", "available");
	for (uint32_t i = 0; i < r->rows_count; i++) {
		const omo_stock_row *row = &r->rows[i];
		printf("%-12s %-10s %10lld %10lld %10lld\n", row->sku, row->node,
		       (long long)row->on_hand, (long long)row->reserved,
		       (long long)row->available);
		on_hand += row->on_hand;
		reserved += row->reserved;
		available += row->available;
	}
	printf("%-12s %-10s %10lld %10lld %10lld\n", "total", "", (long long)on_hand,
	       (long long)reserved, (long long)available);
	omo_msg_fini(&reply);
	return EXIT_OK;
}

/* ---- trace ------------------------------------------------------------- */

#define TRACE_PAGE 10000 /* events per fetch: the most fetch_events returns */

/* One event of the traced order, as its producer's outbox keeps it. */
typedef struct traced {
	int64_t ts_us;
	uint64_t seq;
	const char *service;
	omo_msg_type type;
	char detail[320];
} traced;

typedef struct trace {
	traced *events;
	size_t n, cap;
} trace;

/* describe writes an event's scalar fields as logfmt (name=value ...), its order id left out. */
static void describe(const omo_msg *m, char *out, size_t n)
{
	const omo_rec_desc *body = omo_msg_descs[m->type].body;
	const char *rec = (const char *)&m->body;
	size_t len = 0;
	out[0] = '\0';
	for (uint32_t i = 0; i < body->n_fields && len < n; i++) {
		const omo_field_desc *f = &body->fields[i];
		const char *p = rec + f->offset;
		char v[160];
		if (f->kind == OMO_K_STR && *p != '\0')
			snprintf(v, sizeof(v), strchr(p, ' ') ? "\"%s\"" : "%s", p);
		else if (f->kind == OMO_K_ENUM)
			snprintf(v, sizeof(v), "%s", omo_enum_name(f->en, *(const int *)p));
		else if (f->kind == OMO_K_I64)
			snprintf(v, sizeof(v), "%lld", (long long)*(const int64_t *)p);
		else if (f->kind == OMO_K_LIST)
			snprintf(v, sizeof(v), "%u", *(const uint32_t *)(rec + f->aux_offset));
		else if (f->kind == OMO_K_UUID && strcmp(f->name, "order_id") != 0)
			omo_uuid_format((const omo_uuid *)p, v);
		else
			continue;
		len += (size_t)snprintf(out + len, n - len, "%s%s=%s", len ? " " : "", f->name, v);
	}
}

static int trace_add(trace *t, const omo_msg *m, const char *service)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		traced *more = realloc(t->events, cap * sizeof(*more));
		if (more == NULL)
			return -1;
		t->events = more;
		t->cap = cap;
	}
	traced *e = &t->events[t->n++];
	*e = (traced){m->ts_us, m->seq, service, m->type, ""};
	describe(m, e->detail, sizeof(e->detail));
	return 0;
}

/*
 * oldest_kept finds the first event s still keeps in [from, latest]: retention
 * drops the oldest first, so what is kept is one range, found by bisection.
 */
static omo_err oldest_kept(omo_sock *s, int64_t epoch, int64_t from, int64_t latest, int timeout_ms,
                           int64_t *oldest, omo_error_detail *d)
{
	while (from < latest) {
		int64_t mid = from + (latest - from) / 2;
		omo_msg reply;
		omo_err e = fetch(s, epoch, mid, 1, timeout_ms, &reply, d);
		bool kept = e == OMO_E_OK && reply.body.events.events_count > 0;
		omo_msg_fini(&reply);
		if (e != OMO_E_OK)
			return e;
		if (kept)
			latest = mid;
		else
			from = mid + 1;
	}
	*oldest = from;
	return OMO_E_OK;
}

/* trace_service adds the events of order that service still keeps to t. */
static omo_err trace_service(const cli *c, const char *service, const omo_uuid *order, trace *t,
                             omo_error_detail *d)
{
	int timeout_ms = (int)c->cfg.timeout_ms;
	int64_t epoch = 0, from = 1;
	bool bisected = false;
	omo_sock *s = NULL;
	omo_err e = dial(c, service, timeout_ms, &s, d);
	while (e == OMO_E_OK) {
		omo_msg reply;
		if ((e = fetch(s, epoch, from, TRACE_PAGE, timeout_ms, &reply, d)) != OMO_E_OK)
			break;
		const omo_events *r = &reply.body.events;
		int64_t latest = r->latest_seq;
		uint32_t n = r->events_count;
		if (epoch != 0 && r->epoch != epoch)
			e = omo_fail(d, OMO_E_UNAVAILABLE, "%s restarted afresh while read",
			             service);
		epoch = r->epoch;
		for (uint32_t i = 0; e == OMO_E_OK && i < n; i++) {
			omo_msg ev;
			omo_error_detail bad = {0};
			if (omo_msg_decode(r->events[i].bytes, r->events[i].bytes_len, &ev, &bad) !=
			    OMO_E_OK) {
				fprintf(stderr, "omo trace: %s seq %lld: %s\n", service,
				        (long long)(from + i), bad.text);
				continue;
			}
			if (memcmp(ev.corr.b, order->b, sizeof(order->b)) == 0 &&
			    trace_add(t, &ev, service) != 0)
				e = omo_fail(d, OMO_E_NOMEM, "out of memory");
			omo_msg_fini(&ev);
		}
		omo_msg_fini(&reply);
		if (e != OMO_E_OK || (n == 0 && (bisected || latest < from)))
			break;
		if (n == 0) {
			/* the oldest events are gone: start from the first one kept */
			int64_t oldest = from;
			e = oldest_kept(s, epoch, from, latest, timeout_ms, &oldest, d);
			if (e == OMO_E_OK)
				fprintf(stderr, "omo trace: %s keeps events from seq %lld on\n",
				        service, (long long)oldest);
			from = oldest;
			bisected = true;
			continue;
		}
		from += n;
		if (from > latest)
			break;
	}
	omo_sock_close(s);
	return e;
}

static int traced_cmp(const void *a, const void *b)
{
	const traced *x = a, *y = b;
	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	int by_service = strcmp(x->service, y->service);
	return by_service != 0 ? by_service : (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmd_trace(cli *c)
{
	omo_uuid order;
	trace t = {0};
	size_t answered = 0;
	if (parse_order_id(c->args[0], &order) != 0)
		return EXIT_USAGE;
	for (size_t i = 0; i < N_SERVICES; i++) {
		omo_error_detail d = {0};
		omo_err e = trace_service(c, services[i].name, &order, &t, &d);
		if (e == OMO_E_OK)
			answered++;
		else
			fprintf(stderr, "omo trace: %s: %s: %s (its events are missing below)\n",
			        services[i].name, omo_err_name(e), d.text);
	}
	if (t.n > 1) /* qsort must not be given the NULL of an empty trace */
		qsort(t.events, t.n, sizeof(*t.events), traced_cmp);
	printf("%-27s %-18s %8s %-22s %s\n", "time", "service", "seq", "event", "detail");
	for (size_t i = 0; i < t.n; i++) {
		const traced *e = &t.events[i];
		char when[32];
		time_t sec = (time_t)(e->ts_us / 1000000);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime(&sec));
		printf("%s.%06lldZ %-18s %8llu %-22s %s\n", when, (long long)(e->ts_us % 1000000),
		       e->service, (unsigned long long)e->seq, omo_msg_name(e->type), e->detail);
	}
	printf("%zu events of order %s from %zu of %zu services\n", t.n, c->args[0], answered,
	       N_SERVICES);
	free(t.events);
	if (t.n == 0)
		fprintf(stderr, "omo trace: no service keeps an event of order %s\n", c->args[0]);
	return t.n > 0 && answered == N_SERVICES ? EXIT_OK : EXIT_FAILED;
}

/* ---- commands ---------------------------------------------------------- */

/* cmd_partners shows what the partner adapter did, from its folders in <state>/partners. */
static int cmd_partners(cli *c)
{
	char mappings[PATH_MAX], folders[PATH_MAX], err[512];
	if (c->cfg.partners[0])
		snprintf(mappings, sizeof(mappings), "%s", c->cfg.partners);
	else
		snprintf(mappings, sizeof(mappings), "%s/partners", c->cfg.network);
	state_path(c, folders, sizeof(folders), "partners", NULL, NULL);
	if (partners_view(stdout, mappings, c->cfg.network, folders, (int)c->cfg.last, err,
	                  sizeof(err)) != 0) {
		fprintf(stderr, "omo: %s\n", err);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static int cmd_help(cli *c);

static const struct command {
	const char *name;
	const char *args; /* for the usage line */
	int min_args, max_args;
	int (*fn)(cli *c);
	const char *help;
} commands[] = {
    {"up", "[--sync=0|1] [--reject_pct=N]", 0, 0, cmd_up,
     "start the local stack and wait until every service answers"},
    {"down", "", 0, 0, cmd_down, "stop the services this state directory started"},
    {"status", "", 0, 0, cmd_status, "each service's pid, liveness, answer time and latest_seq"},
    {"submit", "FILE", 1, 1, cmd_submit,
     "submit the order in FILE (JSON submit_order; - reads stdin); print the reply"},
    {"order", "ORDER_ID", 1, 1, cmd_order, "print an order with its parts and history"},
    {"cancel", "ORDER_ID [REASON]", 1, 2, cmd_cancel, "cancel an order; print it"},
    {"explain", "ORDER_ID", 1, 1, cmd_explain,
     "why the router sourced an order as it did: rule set, candidates, plan, replay"},
    {"inventory", "[--sku=S] [--node=N]", 0, 0, cmd_inventory,
     "stock per SKU and node: on_hand, reserved, available"},
    {"partners", "[--partners=DIR] [--last=N]", 0, 0, cmd_partners,
     "each partner's last documents in and out, acknowledgements, what is in error and why"},
    {"trace", "ORDER_ID", 1, 1, cmd_trace,
     "one order's events from every service, in time order (service, seq, event)"},
    {"help", "", 0, 0, cmd_help, "this text"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static int cmd_help(cli *c)
{
	(void)c;
	printf("usage: omo [--state=DIR] [--network=DIR] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		char usage[64];
		snprintf(usage, sizeof(usage), "%s %s", commands[i].name, commands[i].args);
		printf("  %-38s %s\n", usage, commands[i].help);
	}
	printf("\noptions (--name=value, anywhere on the line):\n");
	for (size_t i = 0; i < N_OPTIONS; i++)
		printf("  --%-16s %s (default: %s)\n", cli_options[i].name, cli_options[i].doc,
		       cli_options[i].def);
	printf("\nexit status: 0 success, 1 a request or operation failed, 2 usage error\n");
	return EXIT_OK;
}

/* parse_args fills c from argv and returns the command, or NULL (message printed). */
static const struct command *parse_args(cli *c, int argc, char **argv)
{
	const char *name = NULL;
	for (size_t i = 0; i < N_OPTIONS; i++)
		omo_config_set(cli_options, N_OPTIONS, &c->cfg, cli_options[i].name,
		               cli_options[i].def);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			name = "help";
		} else if (strncmp(a, "--", 2) == 0) {
			char opt[64];
			if (eq == NULL || eq - a - 2 >= (long)sizeof(opt)) {
				fprintf(stderr, "omo: bad option %s (options are --name=value)\n",
				        a);
				return NULL;
			}
			snprintf(opt, sizeof(opt), "%.*s", (int)(eq - a - 2), a + 2);
			if (omo_config_set(cli_options, N_OPTIONS, &c->cfg, opt, eq + 1) != 0) {
				fprintf(stderr, "omo: unknown option or bad value: %s\n", a);
				return NULL;
			}
		} else if (name == NULL) {
			name = a;
		} else if (c->n_args < MAX_ARGS) {
			c->args[c->n_args++] = a;
		} else {
			fprintf(stderr, "omo: too many arguments\n");
			return NULL;
		}
	}
	if (name == NULL) {
		fprintf(stderr, "usage: omo [--state=DIR] [--network=DIR] COMMAND [ARGS]; "
		                "omo help lists the commands\n");
		return NULL;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *cmd = &commands[i];
		if (strcmp(cmd->name, name) != 0)
			continue;
		if (c->n_args < cmd->min_args || c->n_args > cmd->max_args) {
			fprintf(stderr, "usage: omo %s %s\n", cmd->name, cmd->args);
			return NULL;
		}
		return cmd;
	}
	fprintf(stderr, "omo: unknown command \"%s\"; omo help lists the commands\n", name);
	return NULL;
}

/* locate fills the bin and run directories; -1 (message printed) if it cannot. */
static int locate(cli *c)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "omo: cannot find my own executable: %s\n", strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	*slash = '\0';
	snprintf(c->bin_dir, sizeof(c->bin_dir), "%s", exe);
	state_path(c, c->run_dir, sizeof(c->run_dir), "run", NULL, NULL);
	/* An ipc:// path must fit a socket address (108 bytes). */
	if (strlen(c->run_dir) + sizeof("/node-manufacturer.rep") > 108) {
		fprintf(stderr, "omo: --state=%s is too long a path for ipc:// sockets\n",
		        c->cfg.state);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static cli c;
	const struct command *cmd = parse_args(&c, argc, argv);
	if (cmd == NULL)
		return EXIT_USAGE;
	if (locate(&c) != 0)
		return EXIT_FAILED;
	return cmd->fn(&c);
}
