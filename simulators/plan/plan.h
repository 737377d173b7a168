/*
 * plan.h - what planners run: replications of a scenario with 95%
 * confidence intervals, and two scenarios side by side on common random
 * numbers (replication i of both uses the same seed, so their consumers
 * are the same and the paired differences carry only the scenarios'
 * difference). Outputs: a text table on stdout (the same bytes for the
 * same seed), and in an output directory a daily CSV time series of the
 * first replication, a JSON summary and an HTML report with SVG charts.
 *
 * Memory rule: results are values in the caller's storage except the first
 * replication's series, which omo_plan_fini frees.
 */
#ifndef OMO_PLAN_H
#define OMO_PLAN_H

#include <stdbool.h>
#include <stdio.h>

#include "network.h"
#include "scenario.h"
#include "sim_stats.h"

typedef struct omo_plan_options {
	unsigned replications; /* 0: the scenario's */
	unsigned days;         /* 0: the scenario's */
	bool seed_set;
	uint64_t seed; /* with seed_set, replaces the scenario's */
	bool progress; /* a progress bar on stderr once a run takes over 2 s */
} omo_plan_options;

typedef struct omo_plan {
	unsigned replications;
	omo_sim_stat kpi[OMO_NET_N_KPIS]; /* one observation per replication */
	omo_net_result first;             /* replication 0, with its series */
	uint64_t routed, events;          /* over all replications */
	double wall_s;                    /* not printed on stdout: it varies */
} omo_plan;

typedef struct omo_plan_compare {
	omo_plan a, b;
	omo_sim_stat diff[OMO_NET_N_KPIS]; /* b - a, paired by replication */
} omo_plan_compare;

/* omo_plan_apply sets s's seed, days and replications from o. */
void omo_plan_apply(omo_scenario *s, const omo_plan_options *o);

/* omo_plan_run runs s->replications replications of s. Returns an engine
 * error (out of memory) and frees what it made on failure. */
omo_sim_err omo_plan_run(const omo_scenario *s, const omo_plan_options *o, omo_plan *p);

/* omo_plan_compare_run runs a and b replication by replication on the same
 * seeds (a's seed, days and replications are used for both). */
omo_sim_err omo_plan_compare_run(const omo_scenario *a, omo_scenario *b, const omo_plan_options *o,
                                 omo_plan_compare *c);

void omo_plan_fini(omo_plan *p);

/* omo_plan_print writes the KPI table: mean and 95% half-width. */
void omo_plan_print(FILE *f, const omo_scenario *s, const omo_plan *p);

/* omo_plan_compare_print writes both means and the paired difference b - a
 * with its 95% interval, marking the differences whose interval excludes 0. */
void omo_plan_compare_print(FILE *f, const omo_scenario *a, const omo_scenario *b,
                            const omo_plan_compare *c);

/* omo_plan_write writes dir/timeseries.csv, dir/summary.json and
 * dir/report.html (dir must exist). Returns -1 with a sentence in err. */
int omo_plan_write(const char *dir, const omo_scenario *s, const omo_plan *p, char *err,
                   size_t errlen);

/* omo_sim_plan_main is `omo-sim plan SCENARIO [--name=value ...]` and
 * `omo-sim compare A B [...]` (argv[0] is the command). Exit status: 0, 1
 * on a run or output failure, 2 on a usage or scenario error. */
int omo_sim_plan_main(int argc, char **argv);

#endif
