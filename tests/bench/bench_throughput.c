/*
 * bench_throughput.c - durable end-to-end throughput of the real stack.
 *
 * Starts the six services (fsync on every commit, the default) on a copy of
 * the demo network with deep stock, submits orders from concurrent
 * checkout clients, and reports: orders accepted, reserved and dispatched
 * as fulfilment requests per second; submit-to-accept latency p50/p99; and,
 * measured in the same run on the same disk, the raw rate of one durable
 * LMDB commit per order, which is what a service without group commit
 * could at best do.
 *
 * Usage: omo-bench-throughput [ORDERS=20000] [CLIENTS=32]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "bus.h"
#include "catalog.h"
#include "store.h"

static char bin_dir[512], src_dir[512], state[64];
static int n_orders = 20000, n_clients = 32;
static omo_catalog cat;

static int64_t now_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* raw_commit_rate: one durable commit per order, as fast as it goes, for 1 s. */
static double raw_commit_rate(int run_no)
{
	char dir[128];
	const char *tables[] = {"orders"};
	omo_store *s;
	omo_error_detail d;
	uint8_t order[300] = {1};
	snprintf(dir, sizeof(dir), "%s/raw%d", state, run_no);
	if (omo_store_open(&s, dir, tables, 1, 64u << 20, true, &d) != OMO_E_OK) {
		fprintf(stderr, "raw store: %s\n", d.text);
		exit(1);
	}
	int64_t start = now_us(), n = 0;
	while (now_us() - start < 1000000) {
		omo_txn *t;
		uint8_t key[8];
		omo_be64_put(key, (uint64_t)n);
		if (omo_txn_begin(s, NULL, true, &t) != OMO_E_OK ||
		    omo_put(t, 0, key, 8, order, sizeof(order)) != OMO_E_OK ||
		    omo_txn_commit(t) != OMO_E_OK)
			exit(1);
		n++;
	}
	double rate = n / ((now_us() - start) / 1e6);
	omo_store_close(s);
	return rate;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The disk is shared and its fsync time drifts: the raw rate is the median
 * of three runs before the load and two after. */
enum { RAW_RUNS = 5, RAW_BEFORE = 3 };

/* cpu_seconds reads a process's user + system time from /proc; -1 if gone. */
static double cpu_seconds(long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields 14 and 15, counted after the ")" that ends the command name */
	char *p = strrchr(buf, ')');
	unsigned long ut, st;
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* print_cpu says how much CPU each service spent per order, from the
 * supervisor's list of pids: the figure that bounds throughput on 2 cores. */
static void print_cpu(int orders, double client_s)
{
	char path[128], name[64];
	long pid;
	int restarts;
	double total = client_s;
	snprintf(path, sizeof(path), "%s/run/supervisor.state", state);
	FILE *f = fopen(path, "r");
	if (f == NULL || orders == 0)
		return;
	printf("  CPU per order:");
	while (fscanf(f, "%63s %ld %d", name, &pid, &restarts) == 3) {
		double s = cpu_seconds(pid);
		if (s >= 0) {
			printf(" %s %.0f us,", name, s * 1e6 / orders);
			total += s;
		}
	}
	fclose(f);
	printf(" bench clients %.0f us; total %.0f us (2 cores: at most %.0f orders/s)\n",
	       client_s * 1e6 / orders, total * 1e6 / orders, 2 / (total / orders));
}

static int run(const char *cmd)
{
	char line[2048];
	snprintf(line, sizeof(line), "%s > %s/cmd.log 2>&1", cmd, state);
	return system(line);
}

/* deep_network copies the demo network with stock no day could exhaust. */
static void deep_network(void)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
	         "mkdir -p %s/net && cp %s/simulators/scenarios/demo/nodes.csv "
	         "%s/simulators/scenarios/demo/skus.csv %s/net/ && "
	         "awk -F, 'NR==1{print;next}{print $1\",\"$2\",1000000000\"}' "
	         "%s/simulators/scenarios/demo/stock.csv > %s/net/stock.csv",
	         state, src_dir, src_dir, state, src_dir, state);
	if (system(cmd) != 0)
		exit(1);
}

typedef struct client {
	int id, from, to;
	int64_t *lat;
	int accepted, failed;
} client;

static void *client_main(void *arg)
{
	client *c = arg;
	char url[256];
	const char *urls[1] = {url};
	omo_sock *s;
	omo_error_detail d;
	snprintf(url, sizeof(url), "ipc://%s/run/orders.rep", state);
	if (omo_sock_dial(&s, OMO_REQ, urls, 1, 30000, &d) != OMO_E_OK)
		return NULL;
	uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(c->id + 1);
	for (int i = c->from; i < c->to; i++) {
		omo_msg req, reply;
		omo_order_line lines[3];
		omo_msg_init(&req, OMO_MSG_SUBMIT_ORDER);
		omo_uuid_generate(&req.id);
		omo_submit_order *o = &req.body.submit_order;
		snprintf(o->idempotency_key, sizeof(o->idempotency_key), "bench-%d", i);
		o->channel = OMO_CHANNEL_WEB;
		o->fulfillment = OMO_SHIP_TO_HOME;
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		const omo_node_info *near = &cat.nodes[rng % cat.n_nodes];
		o->ship_to.lat_udeg = near->lat_udeg + (int64_t)(rng % 200000) - 100000;
		o->ship_to.lon_udeg = near->lon_udeg + (int64_t)(rng >> 20) % 200000 - 100000;
		uint32_t n = 1 + (uint32_t)(rng % 3);
		for (uint32_t l = 0; l < n; l++) {
			memset(&lines[l], 0, sizeof(lines[l]));
			lines[l].line_no = l + 1;
			snprintf(lines[l].sku, sizeof(lines[l].sku), "SKU-%04u",
			         1 + (unsigned)((rng % 180 + 61 * l) % 180));
			lines[l].quantity = 1;
		}
		o->lines = lines;
		o->lines_count = n;
		int64_t t0 = now_us();
		omo_err e = omo_call(s, &req, &reply, &d);
		c->lat[i - c->from] = now_us() - t0;
		if (e == OMO_E_OK)
			c->accepted++;
		else if (c->failed++ == 0)
			fprintf(stderr, "client %d: order %d: %s %s\n", c->id, i, omo_err_name(e),
			        d.text);
		omo_msg_fini(&reply);
	}
	omo_sock_close(s);
	return NULL;
}

/* routed counts order_routed events in the router's outbox from *next on. */
static int routed_since(omo_sock *router, int64_t *next)
{
	omo_msg req, reply;
	omo_error_detail d;
	int n = 0;
	omo_msg_init(&req, OMO_MSG_FETCH_EVENTS);
	omo_uuid_generate(&req.id);
	req.body.fetch_events.from_seq = *next;
	req.body.fetch_events.max = 10000;
	if (omo_call(router, &req, &reply, &d) != OMO_E_OK)
		return 0;
	for (uint32_t i = 0; i < reply.body.events.events_count; i++) {
		omo_msg ev;
		if (omo_msg_decode(reply.body.events.events[i].bytes,
		                   reply.body.events.events[i].bytes_len, &ev, &d) == OMO_E_OK &&
		    ev.type == OMO_MSG_ORDER_ROUTED && ev.body.order_routed.attempt == 1)
			n++;
		omo_msg_fini(&ev);
		(*next)++;
	}
	omo_msg_fini(&reply);
	return n;
}

int main(int argc, char **argv)
{
	char cmd[2048], err[256], url[256];
	if (argc > 1)
		n_orders = atoi(argv[1]);
	if (argc > 2)
		n_clients = atoi(argv[2]);
	snprintf(bin_dir, sizeof(bin_dir), "%s", argv[0]);
	*strrchr(bin_dir, '/') = '\0';
	snprintf(src_dir, sizeof(src_dir), "%s",
	         getenv("OMO_SOURCE_DIR") ? getenv("OMO_SOURCE_DIR") : ".");
	snprintf(state, sizeof(state), "/tmp/omo-bench-XXXXXX");
	if (mkdtemp(state) == NULL)
		return 1;
	deep_network();
	char netdir[128];
	snprintf(netdir, sizeof(netdir), "%s/net", state);
	if (omo_catalog_load(&cat, netdir, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	double raws[RAW_RUNS];
	for (int i = 0; i < RAW_BEFORE; i++)
		raws[i] = raw_commit_rate(i);

	snprintf(cmd, sizeof(cmd),
	         "%s/omo --state=%s --network=%s up --pick_ms=600000 --log_level=warn", bin_dir,
	         state, netdir);
	if (run(cmd) != 0) {
		fprintf(stderr, "omo up failed; see %s\n", state);
		return 1;
	}
	client *cl = calloc((size_t)n_clients, sizeof(*cl));
	pthread_t *th = calloc((size_t)n_clients, sizeof(*th));
	int64_t *lat = calloc((size_t)n_orders, sizeof(*lat));
	int64_t start = now_us();
	for (int i = 0; i < n_clients; i++) {
		cl[i] = (client){.id = i,
		                 .from = n_orders * i / n_clients,
		                 .to = n_orders * (i + 1) / n_clients};
		cl[i].lat = lat + cl[i].from;
		pthread_create(&th[i], NULL, client_main, &cl[i]);
	}
	int accepted = 0, failed = 0;
	for (int i = 0; i < n_clients; i++) {
		pthread_join(th[i], NULL);
		accepted += cl[i].accepted;
		failed += cl[i].failed;
	}
	int64_t submitted = now_us();
	omo_sock *router;
	omo_error_detail d;
	const char *urls[1] = {url};
	snprintf(url, sizeof(url), "ipc://%s/run/router.rep", state);
	omo_sock_dial(&router, OMO_REQ, urls, 1, 30000, &d);
	int64_t next = 1;
	int routed = 0;
	while (routed < accepted && now_us() - submitted < 300000000)
		if ((routed += routed_since(router, &next)) < accepted)
			usleep(2000);
	int64_t done = now_us();
	omo_sock_close(router);
	struct rusage self;
	getrusage(RUSAGE_SELF, &self);
	double client_s = self.ru_utime.tv_sec + self.ru_stime.tv_sec +
	                  (self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
	print_cpu(routed, client_s);
	snprintf(cmd, sizeof(cmd), "%s/omo --state=%s down", bin_dir, state);
	run(cmd);

	for (int i = RAW_BEFORE; i < RAW_RUNS; i++)
		raws[i] = raw_commit_rate(i);
	qsort(raws, RAW_RUNS, sizeof(raws[0]), cmp_dbl);
	double raw = raws[RAW_RUNS / 2];
	qsort(lat, (size_t)n_orders, sizeof(*lat), cmp_i64);
	double secs = (done - start) / 1e6;
	printf("omo throughput: %d orders from %d clients, fsync on every commit\n", n_orders,
	       n_clients);
	printf("  accepted %d, failed %d, routed and dispatched %d\n", accepted, failed, routed);
	printf("  end to end (accepted, reserved, dispatched): %.0f orders/s over %.2f s\n",
	       routed / secs, secs);
	printf("  submit -> accepted latency: p50 %.2f ms, p99 %.2f ms\n",
	       lat[n_orders / 2] / 1000.0, lat[n_orders * 99 / 100] / 1000.0);
	printf("  raw LMDB, one durable commit per order, same disk: median %.0f commits/s "
	       "(5 runs of 1 s, %.0f to %.0f)\n",
	       raw, raws[0], raws[RAW_RUNS - 1]);
	printf("  ratio end to end / raw: %.1fx (target 10x)\n", routed / secs / raw);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", state);
	if (system(cmd) != 0)
		return 1;
	return 0;
}
