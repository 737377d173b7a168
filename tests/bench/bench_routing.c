/*
 * bench_routing.c - how fast sourcing decides, and how fast a checkout can
 * ask for availability.
 *
 * 1. In process: rt_decide for a 10-line order over 1,000 candidate nodes
 *    (seeded random network and stock, every filter and objective on, up to
 *    3 packages, lines may split), one ship-to per decision; decision time
 *    p50, p99 and max. Measured beside it, the floor no decision can beat:
 *    reading the snapshot's 10,000 stock cells and measuring 1,000 distances.
 *
 * 2. Over the bus: a real omo-inventory process on ipc:// with every SKU of
 *    the demo network stocked at every node; checkout clients send the batch
 *    query (stock_query: many SKUs x every node per call) and count the
 *    SKU-node rows they get back per second. Measured beside it, the round
 *    trip of a query that reads nothing, on the same socket.
 *
 * Usage: omo-bench-routing [DECISIONS=2000] [SECONDS=3] [CLIENTS=2]
 * (from the top of the tree, or with OMO_SOURCE_DIR set). Prints figures;
 * it is not a pass/fail test.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "catalog.h"
#include "rules.h"

#define NODES 1000
#define LINES 10

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* cpu_ns: this thread's CPU time. On a shared machine wall time also counts
 * the time the thread waited for a core; both are reported. */
static int64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- 1. in process ------------------------------------------------------ */

static const char bench_rules[] =
    "name: bench\nversion: 1\n"
    "zones: [{max_km: 250, transit_days: 1, base_cost: 600, per_kg: 40},"
    " {max_km: 800, transit_days: 2, base_cost: 750, per_kg: 60},"
    " {max_km: 1800, transit_days: 3, base_cost: 900, per_kg: 85},"
    " {max_km: 5000, transit_days: 5, base_cost: 1100, per_kg: 120}]\n"
    "strategies: [{name: home, filters: [exclusions, online, capability, hazmat, "
    "daily_capacity, safety_stock, channel_reservation, promise], objective: {distance: 1, "
    "shipping: 1, handling: 1, package: 600, late: 1500, balance: 1}, max_splits: 3, "
    "line_split: true}]\n";

static void in_process(int n_decisions)
{
	static rt_node nodes[NODES];
	static rt_stock stock[LINES * NODES];
	static rt_candidate cands[NODES];
	rt_order_line lines[LINES];
	rt_rules rules;
	rt_plan plan;
	char err[200];
	uint64_t s = 0x0bad5eed;
	int64_t *took = calloc((size_t)n_decisions, sizeof(*took));
	int64_t *floor_ns = calloc((size_t)n_decisions, sizeof(*floor_ns));
	int64_t *cpu = calloc((size_t)n_decisions, sizeof(*cpu));
	int exact = 0, complete = 0;
	volatile int64_t sink = 0;

	if (took == NULL || floor_ns == NULL || cpu == NULL ||
	    rt_rules_parse_text(bench_rules, sizeof(bench_rules) - 1, &rules, err, sizeof(err)) !=
	        0) {
		fprintf(stderr, "bench rules: %s\n", err);
		exit(1);
	}
	for (int n = 0; n < NODES; n++) {
		rt_node *nd = &nodes[n];
		snprintf(nd->id, sizeof(nd->id), "N%04d", n);
		nd->type = n < 20 ? RT_WAREHOUSE : RT_STORE;
		nd->caps = RT_CAP_SHIP | (n < 20 ? RT_CAP_HAZMAT : RT_CAP_PICKUP);
		nd->lat_udeg = 26000000 + (int64_t)(rng(&s) % 22000000);
		nd->lon_udeg = -122000000 + (int64_t)(rng(&s) % 50000000);
		nd->online = rng(&s) % 50 != 0;
		nd->handling_cost = n < 20 ? 150 : 350;
		nd->cutoff_min = 15 * 60;
		nd->processing_days = n < 20 ? 0 : 1;
	}
	for (int i = 0; i < LINES * NODES; i++) {
		stock[i].on_hand = rng(&s) % 3 == 0 ? 0 : (int64_t)(rng(&s) % 30);
		stock[i].safety = 1;
		stock[i].target = 20;
	}
	for (int l = 0; l < LINES; l++)
		lines[l] = (rt_order_line){.line_no = (uint32_t)l + 1,
		                           .quantity = 1 + (int64_t)(rng(&s) % 3),
		                           .weight_g = 200 + (int64_t)(rng(&s) % 3000)};
	rt_snapshot snap = {.nodes = nodes, .n_nodes = NODES, .stock = stock};
	for (int i = 0; i < n_decisions; i++) {
		rt_order o = {.lines = lines,
		              .n_lines = LINES,
		              .channel = 0,
		              .fulfillment = RT_SHIP_TO_HOME,
		              .ship_lat_udeg = 26000000 + (int64_t)(rng(&s) % 22000000),
		              .ship_lon_udeg = -122000000 + (int64_t)(rng(&s) % 50000000),
		              .now_us = 1767225600000000LL + (int64_t)(rng(&s) % 86400000000LL),
		              .promise_by_us = 1767225600000000LL + 4 * 86400000000LL};
		int64_t c0 = cpu_ns(), t0 = now_ns();
		if (rt_decide(&rules, &o, &snap, &plan, cands) != RT_OK) {
			fprintf(stderr, "rt_decide refused\n");
			exit(1);
		}
		int64_t t1 = now_ns();
		cpu[i] = cpu_ns() - c0;
		/* the floor: every stock cell read, every distance measured */
		int64_t acc = 0;
		for (int n = 0; n < NODES; n++) {
			acc += rt_distance_m(o.ship_lat_udeg, o.ship_lon_udeg, nodes[n].lat_udeg,
			                     nodes[n].lon_udeg);
			for (int l = 0; l < LINES; l++)
				acc += stock[l * NODES + n].on_hand - stock[l * NODES + n].reserved;
		}
		sink += acc;
		floor_ns[i] = now_ns() - t1;
		took[i] = t1 - t0;
		exact += plan.exact;
		complete += plan.complete;
	}
	qsort(took, (size_t)n_decisions, sizeof(*took), cmp_i64);
	qsort(floor_ns, (size_t)n_decisions, sizeof(*floor_ns), cmp_i64);
	qsort(cpu, (size_t)n_decisions, sizeof(*cpu), cmp_i64);
	int64_t p50 = took[n_decisions / 2], p99 = took[n_decisions * 99 / 100];
	printf("routing decision, in process: %d orders of %d lines over %d candidate nodes\n",
	       n_decisions, LINES, NODES);
	printf("  decision time p50 %.1f us, p99 %.1f us, max %.1f us (target p99 < 200 us)\n",
	       p50 / 1e3, p99 / 1e3, took[n_decisions - 1] / 1e3);
	printf("  its CPU time p50 %.1f us, p99 %.1f us (without the waits for a core of a shared "
	       "machine)\n",
	       cpu[n_decisions / 2] / 1e3, cpu[n_decisions * 99 / 100] / 1e3);
	printf("  floor (read %d stock cells, measure %d distances): p50 %.1f us; decision p50 is "
	       "%.1fx it\n",
	       LINES * NODES, NODES, floor_ns[n_decisions / 2] / 1e3,
	       (double)p50 / (double)floor_ns[n_decisions / 2]);
	printf("  search: %d exact, %d shortlist; %d plans complete\n", exact, n_decisions - exact,
	       complete);
	(void)sink;
	rt_rules_fini(&rules);
	free(took);
	free(floor_ns);
	free(cpu);
}

/* ---- 2. over the bus ------------------------------------------------------ */

static char state[64], url[160];
static omo_catalog cat;
static int bench_seconds = 3;

typedef struct client {
	int64_t rows, calls, failed;
	int64_t *lat; /* per call, ns */
	int64_t cap;
} client;

static omo_sock *dial(void)
{
	omo_sock *s;
	omo_error_detail d;
	const char *urls[1] = {url};
	if (omo_sock_dial(&s, OMO_REQ, urls, 1, 10000, &d) != OMO_E_OK) {
		fprintf(stderr, "dial %s: %s\n", url, d.text);
		exit(1);
	}
	return s;
}

/* query asks for skus (all of the catalog if n is its size) at every node. */
static omo_err query(omo_sock *s, const omo_sku_ref *skus, uint32_t n, int64_t *rows)
{
	omo_msg req, reply;
	omo_error_detail d;
	omo_msg_init(&req, OMO_MSG_STOCK_QUERY);
	omo_uuid_generate(&req.id);
	req.body.stock_query.skus = (omo_sku_ref *)skus;
	req.body.stock_query.skus_count = n;
	omo_err e = omo_call(s, &req, &reply, &d);
	if (e == OMO_E_OK)
		*rows = reply.body.stock_reply.rows_count;
	omo_msg_fini(&reply);
	return e;
}

static omo_sku_ref *all_skus;

static void *client_main(void *arg)
{
	client *c = arg;
	omo_sock *s = dial();
	int64_t end = now_ns() + (int64_t)bench_seconds * 1000000000;
	while (now_ns() < end) {
		int64_t rows = 0, t0 = now_ns();
		if (query(s, all_skus, cat.n_skus, &rows) != OMO_E_OK) {
			c->failed++;
			continue;
		}
		if (c->calls < c->cap)
			c->lat[c->calls] = now_ns() - t0;
		c->calls++;
		c->rows += rows;
	}
	omo_sock_close(s);
	return NULL;
}

static pid_t start_inventory(const char *bin_dir, const char *src_dir)
{
	char csv[128], net[600], data[128], run_dir[128], seed[160];
	snprintf(csv, sizeof(csv), "%s/stock.csv", state);
	FILE *f = fopen(csv, "w");
	if (f == NULL)
		exit(1);
	fprintf(f, "node,sku,on_hand\n");
	for (uint32_t n = 0; n < cat.n_nodes; n++)
		for (uint32_t k = 0; k < cat.n_skus; k++)
			fprintf(f, "%s,%s,%u\n", cat.nodes[n].id, cat.skus[k].sku, 100 + k % 50);
	fclose(f);
	snprintf(net, sizeof(net), "--network_dir=%s/simulators/scenarios/demo", src_dir);
	snprintf(data, sizeof(data), "--data_dir=%s/data", state);
	snprintf(run_dir, sizeof(run_dir), "--run_dir=%s/run", state);
	snprintf(seed, sizeof(seed), "--seed_stock=%s", csv);
	snprintf(url, sizeof(url), "ipc://%s/run/inventory.rep", state);
	char mk[128];
	snprintf(mk, sizeof(mk), "%s/run", state);
	if (mkdir(mk, 0700) != 0)
		exit(1);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char exe[600], log[128];
		snprintf(exe, sizeof(exe), "%s/omo-inventory", bin_dir);
		snprintf(log, sizeof(log), "%s/inventory.log", state);
		if (freopen(log, "w", stdout) == NULL || freopen(log, "a", stderr) == NULL)
			_exit(127);
		execl(exe, exe, net, data, run_dir, seed, "--log_level=warn", "--http=127.0.0.1:0",
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void over_the_bus(const char *bin_dir, const char *src_dir, int n_clients)
{
	char err[256], netdir[600];
	snprintf(netdir, sizeof(netdir), "%s/simulators/scenarios/demo", src_dir);
	if (omo_catalog_load(&cat, netdir, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	all_skus = calloc(cat.n_skus, sizeof(*all_skus));
	for (uint32_t k = 0; k < cat.n_skus; k++)
		snprintf(all_skus[k].sku, sizeof(all_skus[k].sku), "%s", cat.skus[k].sku);
	snprintf(state, sizeof(state), "/tmp/omo-bench-routing-XXXXXX");
	if (mkdtemp(state) == NULL)
		exit(1);
	pid_t pid = start_inventory(bin_dir, src_dir);

	/* ready once every seeded row is there */
	omo_sock *s = dial();
	int64_t rows = 0, deadline = now_ns() + 30000000000LL;
	while ((query(s, all_skus, cat.n_skus, &rows) != OMO_E_OK ||
	        rows < (int64_t)(cat.n_skus * cat.n_nodes)) &&
	       now_ns() < deadline)
		usleep(50000);
	if (rows < (int64_t)(cat.n_skus * cat.n_nodes)) {
		fprintf(stderr, "inventory did not come up; see %s\n", state);
		kill(pid, SIGTERM);
		exit(1);
	}
	/* the floor: a query that reads nothing, on the same socket */
	omo_sku_ref none = {.sku = "NO-SUCH-SKU"};
	int64_t floor_lat[500];
	for (int i = 0; i < 500; i++) {
		int64_t t0 = now_ns(), r;
		query(s, &none, 1, &r);
		floor_lat[i] = now_ns() - t0;
	}
	omo_sock_close(s);
	qsort(floor_lat, 500, sizeof(floor_lat[0]), cmp_i64);

	client *cl = calloc((size_t)n_clients, sizeof(*cl));
	pthread_t *th = calloc((size_t)n_clients, sizeof(*th));
	for (int i = 0; i < n_clients; i++) {
		cl[i].cap = 1000000;
		cl[i].lat = calloc((size_t)cl[i].cap, sizeof(int64_t));
		pthread_create(&th[i], NULL, client_main, &cl[i]);
	}
	int64_t total_rows = 0, calls = 0, failed = 0;
	for (int i = 0; i < n_clients; i++) {
		pthread_join(th[i], NULL);
		total_rows += cl[i].rows;
		calls += cl[i].calls;
		failed += cl[i].failed;
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	qsort(cl[0].lat, (size_t)(cl[0].calls < cl[0].cap ? cl[0].calls : cl[0].cap),
	      sizeof(int64_t), cmp_i64);
	printf("availability over the bus: omo-inventory on ipc://, %u SKUs x %u nodes per batch "
	       "query, %d clients, %d s\n",
	       cat.n_skus, cat.n_nodes, n_clients, bench_seconds);
	printf("  %.0f SKU-node lookups/s (%lld calls, %lld failed; target >= 100,000/s)\n",
	       (double)total_rows / bench_seconds, (long long)calls, (long long)failed);
	if (cl[0].calls > 0)
		printf("  call latency p50 %.0f us (client 1)\n", cl[0].lat[cl[0].calls / 2] / 1e3);
	printf("  floor: a query that reads nothing takes p50 %.0f us round trip; a batch call "
	       "is %.1fx it for %u lookups\n",
	       floor_lat[250] / 1e3,
	       cl[0].calls > 0 ? (double)cl[0].lat[cl[0].calls / 2] / (double)floor_lat[250] : 0,
	       cat.n_skus * cat.n_nodes);
	for (int i = 0; i < n_clients; i++)
		free(cl[i].lat);
	free(cl);
	free(th);
	free(all_skus);
	omo_catalog_fini(&cat);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", state);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", state);
}

int main(int argc, char **argv)
{
	char bin_dir[512];
	int n_decisions = argc > 1 ? atoi(argv[1]) : 2000;
	int n_clients = argc > 3 ? atoi(argv[3]) : 2;
	if (argc > 2)
		bench_seconds = atoi(argv[2]);
	if (n_decisions < 100 || bench_seconds < 1 || n_clients < 1) {
		fprintf(stderr,
		        "usage: omo-bench-routing [DECISIONS>=100] [SECONDS>=1] [CLIENTS>=1]\n");
		return 2;
	}
	snprintf(bin_dir, sizeof(bin_dir), "%s", argv[0]);
	char *slash = strrchr(bin_dir, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		snprintf(bin_dir, sizeof(bin_dir), ".");
	const char *src = getenv("OMO_SOURCE_DIR") ? getenv("OMO_SOURCE_DIR") : ".";
	in_process(n_decisions);
	over_the_bus(bin_dir, src, n_clients);
	return 0;
}
