/*
 * bench_sim_plan.c - how fast the planners' simulator runs, on one core.
 *
 *   omo-bench-sim-plan [scenario [days [mm1_runs]]]   (default: national 365 3)
 *
 * Prints, with the raw limits they compare to measured in the same run:
 *   1. engine events per second on the M/M/1 model (arrival 0.9, service
 *      1.0; two events per customer), the median of mm1_runs runs, next to
 *      the rate of its random draws alone (two exponential variates per
 *      customer, no engine): issue 6's target is 20 million events/s;
 *   2. the wall time of one simulated year of the national retailer in plan
 *      mode (every online order and every back-order retry sourced by the
 *      production routing library), next to the routing library alone: the
 *      same number of calls (rt_decide with the scenario's rule set, else
 *      rt_route) on requests of the same shape (all the retailer's nodes,
 *      two lines, stock everywhere), so the ratio is what the rest of the
 *      model costs. Target: under 5 minutes. Wall and CPU time are both
 *      printed: on a shared machine the CPU time is what one core gave.
 *
 * A benchmark, not a test: it asserts nothing about speed. Run from the top
 * of the tree (or set OMO_SOURCE_DIR).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan.h"
#include "routing.h"
#include "rules.h"
#include "sim_queue.h"
#include "sim_rng.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall time, and this process's CPU time: on a shared machine the second
 * is what one core gave the run. */
static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static double cpu_s(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void bench_mm1(int runs)
{
	const uint64_t customers = 5000000;
	double engine[16], engine_cpu[16], draws[16];
	volatile double sink = 0; /* keeps the draws from being optimised away */

	for (int i = 0; i < runs; i++) {
		omo_sim_queue_params p = {
		    .interarrival = {.kind = OMO_SIM_DIST_EXPONENTIAL, .a = 0.9},
		    .service = {.kind = OMO_SIM_DIST_EXPONENTIAL, .a = 1.0},
		    .customers = customers,
		    .seed = 1 + (uint64_t)i,
		};
		omo_sim_queue_result r;
		omo_sim_rng a, s;
		uint64_t events = 0;
		double t0 = now_s(), c0 = cpu_s();

		if (omo_sim_queue_run(&p, &r, &events, NULL) != OMO_SIM_OK) {
			fprintf(stderr, "M/M/1 run failed\n");
			exit(1);
		}
		engine[i] = (double)events / (now_s() - t0);
		engine_cpu[i] = (double)events / (cpu_s() - c0);
		omo_sim_rng_init(&a, p.seed, 0);
		omo_sim_rng_init(&s, p.seed, 1);
		t0 = now_s();
		for (uint64_t c = 0; c < events / 2; c++)
			sink += omo_sim_rng_exponential(&a, 0.9) + omo_sim_rng_exponential(&s, 1.0);
		draws[i] = (double)events / (now_s() - t0);
	}
	printf("M/M/1 on the engine, %d runs of %llu customers (median):\n", runs,
	       (unsigned long long)customers);
	printf("  engine            %8.2f M events/s   (target >= 20; SimPy ~0.25)\n",
	       median(engine, runs) / 1e6);
	printf("  engine, CPU time  %8.2f M events/s   (per second of this process's CPU)\n",
	       median(engine_cpu, runs) / 1e6);
	printf("  draws alone       %8.2f M events/s   (raw limit: the random numbers)\n",
	       median(draws, runs) / 1e6);
	printf("  engine / limit    %8.3f\n", median(engine, runs) / median(draws, runs));
}

static void progress_cb(void *arg, unsigned done, unsigned days)
{
	double *last = arg, t = now_s();

	if (t - *last > 5 || done == days) {
		fprintf(stderr, "  ... day %u of %u\n", done, days);
		*last = t;
	}
}

/* routing_floor returns the CPU time of `calls` routing calls on requests
 * shaped like the scenario's: all its nodes, two lines, every node stocked. */
static double routing_floor(const omo_scenario *s, uint64_t calls)
{
	uint32_t nn = s->catalog.n_nodes;
	rt_node *nodes = calloc(nn, sizeof(rt_node));
	rt_candidate *cands = calloc(nn, sizeof(rt_candidate));
	int64_t *avail = malloc(2 * nn * sizeof(int64_t));
	static rt_plan plan;
	omo_sim_rng rng;
	double t0;

	omo_sim_rng_init(&rng, 42, 0);
	for (uint32_t i = 0; i < nn; i++) {
		const omo_node_info *c = &s->catalog.nodes[i];
		nodes[i] = (rt_node){.type = (rt_node_type)c->type,
		                     .caps = c->caps,
		                     .lat_udeg = c->lat_udeg,
		                     .lon_udeg = c->lon_udeg,
		                     .online = true};
		avail[i] = avail[nn + i] = 1 + (int64_t)omo_sim_rng_below(&rng, 20);
	}
	rt_line lines[2] = {{1, 1}, {2, 1}};
	rt_order_line olines[2] = {{.line_no = 1, .quantity = 1, .weight_g = 500},
	                           {.line_no = 2, .quantity = 1, .weight_g = 500}};
	rt_stock *cells = calloc(2 * nn, sizeof(rt_stock));
	for (uint32_t i = 0; i < 2 * nn; i++)
		cells[i].on_hand = avail[i];
	for (uint32_t i = 0; s->has_rules && i < nn; i++)
		if (rt_rules_node(&s->rules, s->catalog.nodes[i].id))
			rt_node_apply(&nodes[i], rt_rules_node(&s->rules, s->catalog.nodes[i].id));
	t0 = cpu_s();
	for (uint64_t c = 0; c < calls; c++) {
		const omo_scn_region *g = &s->regions[c % s->n_regions];
		if (s->has_rules) { /* as the model calls it: rt_decide with the rule set */
			rt_order ord = {.lines = olines,
			                .n_lines = 2,
			                .fulfillment = RT_SHIP_TO_HOME,
			                .ship_lat_udeg = g->lat_udeg,
			                .ship_lon_udeg = g->lon_udeg,
			                .pickup_node = -1,
			                .now_us = (int64_t)1767571200 * 1000000};
			rt_snapshot snap = {.nodes = nodes, .n_nodes = nn, .stock = cells};
			rt_decide(&s->rules, &ord, &snap, &plan, cands);
			continue;
		}
		rt_request req = {.lines = lines,
		                  .n_lines = 2,
		                  .nodes = nodes,
		                  .n_nodes = nn,
		                  .available = avail,
		                  .fulfillment = RT_SHIP_TO_HOME,
		                  .ship_lat_udeg = g->lat_udeg,
		                  .ship_lon_udeg = g->lon_udeg};
		rt_route(&req, &plan, cands);
	}
	t0 = cpu_s() - t0;
	free(nodes), free(cands), free(avail), free(cells);
	return t0;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "national", *src = getenv("OMO_SOURCE_DIR");
	unsigned days = argc > 2 ? (unsigned)atoi(argv[2]) : 365;
	int runs = argc > 3 ? atoi(argv[3]) : 3;
	char dir[1100], err[2600];
	omo_scenario s;
	omo_net_result r;
	double t0, c0, wall, cpu, floor_s, last;
	uint64_t sample;

	if (runs < 1 || runs > 16 || days < 1) {
		fprintf(stderr, "usage: omo-bench-sim-plan [scenario [days [mm1_runs 1..16]]]\n");
		return 2;
	}
	bench_mm1(runs);
	snprintf(dir, sizeof(dir), "%s/simulators/scenarios", src && *src ? src : ".");
	if (omo_scenario_load(&s, name, dir, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		omo_scenario_fini(&s);
		return 2;
	}
	s.days = days;
	if (s.warmup_days >= days)
		s.warmup_days = 0;
	printf("\n%s: %u nodes, %u SKUs, %zu plants, %zu suppliers, %u days in plan mode\n", s.name,
	       s.catalog.n_nodes, s.catalog.n_skus, s.n_plants, s.n_suppliers, days);
	last = t0 = now_s();
	c0 = cpu_s();
	if (omo_net_run(&s, 0, false, &r, progress_cb, &last) != OMO_SIM_OK) {
		fprintf(stderr, "run failed: out of memory\n");
		return 1;
	}
	wall = now_s() - t0;
	cpu = cpu_s() - c0;
	sample = r.routed < 200000 ? r.routed : 200000;
	floor_s = routing_floor(&s, sample) * (double)r.routed / (double)(sample ? sample : 1);
	printf("  wall time          %8.1f s   (target < 300 s for 365 days)\n", wall);
	printf("  orders placed      %10llu  (online, measured days)\n",
	       (unsigned long long)r.orders);
	printf("  CPU time           %8.1f s   (what one core gave the run)\n", cpu);
	printf("  routing calls      %10llu  (%s; %.0f per CPU second)\n",
	       (unsigned long long)r.routed, s.has_rules ? "rt_decide, the rule set" : "rt_route",
	       (double)r.routed / cpu);
	printf("  engine events      %10llu\n", (unsigned long long)r.events);
	printf("  routing alone      %8.1f s   (raw limit, CPU: as many calls on all %u nodes)\n",
	       floor_s, s.catalog.n_nodes);
	printf("  CPU / routing      %8.2f\n", cpu / floor_s);
	printf("  fill rate %.4f, OTIF %.4f, split rate %.4f, lost sales %.0f units/day\n",
	       r.kpi[OMO_NET_KPI_fill_rate_2], r.kpi[OMO_NET_KPI_otif],
	       r.kpi[OMO_NET_KPI_split_rate], r.kpi[OMO_NET_KPI_lost_sales]);
	omo_scenario_fini(&s);
	return 0;
}
