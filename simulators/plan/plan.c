/*
 * plan.c - replications, comparisons, outputs and the command line of
 * plan mode. See plan.h.
 */
#include "plan.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PROGRESS_AFTER_S 2.0 /* runs shorter than this show no bar */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- progress ------------------------------------------------------------ */

typedef struct progress {
	bool on;
	double start, last;
	unsigned runs, run; /* runs to do, this one */
} progress;

static void progress_cb(void *arg, unsigned done, unsigned days)
{
	progress *pr = arg;
	double t = now_s(), frac;
	int width = 40, filled;

	if (!pr->on || t - pr->start < PROGRESS_AFTER_S || (t - pr->last < 0.2 && done < days))
		return;
	pr->last = t;
	frac = ((double)pr->run + (double)done / days) / pr->runs;
	filled = (int)(frac * width);
	fprintf(stderr, "\r[%.*s%*s] %3d%%  run %u/%u  %.0f s", filled,
	        "========================================", width - filled, "", (int)(frac * 100),
	        pr->run + 1, pr->runs, t - pr->start);
	if (frac >= 1)
		fputc('\n', stderr);
	fflush(stderr);
}

/* ---- runs ---------------------------------------------------------------- */

void omo_plan_apply(omo_scenario *s, const omo_plan_options *o)
{
	if (o->replications)
		s->replications = o->replications;
	if (o->days)
		s->days = o->days;
	if (o->seed_set)
		s->seed = o->seed;
	if (s->warmup_days >= s->days)
		s->warmup_days = s->days / 10;
}

static void add_run(omo_plan *p, omo_net_result *r, unsigned rep)
{
	for (int k = 0; k < OMO_NET_N_KPIS; k++)
		omo_sim_stat_add(&p->kpi[k], r->kpi[k]);
	p->routed += r->routed;
	p->events += r->events;
	p->replications++;
	if (rep == 0)
		p->first = *r;
	else
		free(r->series);
}

omo_sim_err omo_plan_run(const omo_scenario *s, const omo_plan_options *o, omo_plan *p)
{
	progress pr = {.on = o->progress, .start = now_s(), .runs = s->replications};
	omo_sim_err err = OMO_SIM_OK;

	memset(p, 0, sizeof(*p));
	for (unsigned rep = 0; rep < s->replications && !err; rep++) {
		omo_net_result r;
		pr.run = rep;
		if ((err = omo_net_run(s, rep, rep == 0, &r, progress_cb, &pr)) == OMO_SIM_OK)
			add_run(p, &r, rep);
	}
	p->wall_s = now_s() - pr.start;
	if (err)
		omo_plan_fini(p);
	return err;
}

omo_sim_err omo_plan_compare_run(const omo_scenario *a, omo_scenario *b, const omo_plan_options *o,
                                 omo_plan_compare *c)
{
	progress pr = {.on = o->progress, .start = now_s(), .runs = 2 * a->replications};
	omo_sim_err err = OMO_SIM_OK;

	memset(c, 0, sizeof(*c));
	b->seed = a->seed; /* common random numbers */
	b->days = a->days;
	b->warmup_days = a->warmup_days;
	b->replications = a->replications;
	for (unsigned rep = 0; rep < a->replications && !err; rep++) {
		omo_net_result ra, rb;
		pr.run = 2 * rep;
		if ((err = omo_net_run(a, rep, rep == 0, &ra, progress_cb, &pr)))
			break;
		pr.run++;
		if ((err = omo_net_run(b, rep, rep == 0, &rb, progress_cb, &pr))) {
			free(ra.series);
			break;
		}
		for (int k = 0; k < OMO_NET_N_KPIS; k++)
			omo_sim_stat_add(&c->diff[k], rb.kpi[k] - ra.kpi[k]);
		add_run(&c->a, &ra, rep);
		add_run(&c->b, &rb, rep);
	}
	c->a.wall_s = c->b.wall_s = now_s() - pr.start;
	if (err) {
		omo_plan_fini(&c->a);
		omo_plan_fini(&c->b);
	}
	return err;
}

void omo_plan_fini(omo_plan *p)
{
	free(p->first.series);
	p->first.series = NULL;
}

/* ---- text ---------------------------------------------------------------- */

static void print_ci(FILE *f, const omo_sim_stat *st)
{
	omo_sim_ci ci = omo_sim_stat_ci95(st);

	if (isfinite(ci.half))
		fprintf(f, " %14.4f +/- %-10.4f", ci.mean, ci.half);
	else
		fprintf(f, " %14.4f %-14s", ci.mean, "(one run)");
}

void omo_plan_print(FILE *f, const omo_scenario *s, const omo_plan *p)
{
	fprintf(f, "scenario %s: %u days (warm-up %u), %u replications, seed %llu\n", s->name,
	        s->days, s->warmup_days, p->replications, (unsigned long long)s->seed);
	fprintf(f, "network: %u nodes, %u SKUs, %zu plants, %zu suppliers; %llu orders routed\n\n",
	        s->catalog.n_nodes, s->catalog.n_skus, s->n_plants, s->n_suppliers,
	        (unsigned long long)p->routed);
	fprintf(f, "%-20s %14s %-14s  %s\n", "kpi", "mean", "95% CI", "meaning");
	for (int k = 0; k < OMO_NET_N_KPIS; k++) {
		fprintf(f, "%-20s", omo_net_kpi_name((omo_net_kpi)k));
		print_ci(f, &p->kpi[k]);
		fprintf(f, " %s\n", omo_net_kpi_doc((omo_net_kpi)k));
	}
}

void omo_plan_compare_print(FILE *f, const omo_scenario *a, const omo_scenario *b,
                            const omo_plan_compare *c)
{
	fprintf(f, "A = %s, B = %s: %u days (warm-up %u), %u paired replications, seed %llu\n",
	        a->name, b->name, a->days, a->warmup_days, c->a.replications,
	        (unsigned long long)a->seed);
	fprintf(f, "common random numbers: replication i of A and B faces the same consumers\n\n");
	fprintf(f, "%-20s %14s %14s %14s %-14s\n", "kpi", "A", "B", "B - A", "95% CI");
	for (int k = 0; k < OMO_NET_N_KPIS; k++) {
		omo_sim_ci d = omo_sim_stat_ci95(&c->diff[k]);
		bool differs = isfinite(d.half) && fabs(d.mean) > d.half;
		fprintf(f, "%-20s %14.4f %14.4f", omo_net_kpi_name((omo_net_kpi)k),
		        c->a.kpi[k].mean, c->b.kpi[k].mean);
		print_ci(f, &c->diff[k]);
		fprintf(f, "%s\n", differs ? " *" : "");
	}
	fprintf(f, "\n* the interval of the difference excludes 0\n");
}

/* ---- files --------------------------------------------------------------- */

static FILE *open_out(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return f;
}

static int write_csv(FILE *f, const omo_scenario *s, const omo_plan *p)
{
	fprintf(f, "day");
	for (int c = 0; c < OMO_NET_N_COLS; c++)
		fprintf(f, ",%s", omo_net_col_name((omo_net_col)c));
	fprintf(f, "\n");
	for (unsigned d = 0; d < s->days && p->first.series; d++) {
		fprintf(f, "%u", d);
		for (int c = 0; c < OMO_NET_N_COLS; c++)
			fprintf(f, ",%.6g", p->first.series[(size_t)d * OMO_NET_N_COLS + c]);
		fprintf(f, "\n");
	}
	return 0;
}

static int write_json(FILE *f, const omo_scenario *s, const omo_plan *p)
{
	json_t *root = json_object(), *kpis = json_object(), *hist = json_array();
	int rc;

	json_object_set_new(root, "scenario", json_string(s->name));
	json_object_set_new(root, "seed", json_integer((json_int_t)s->seed));
	json_object_set_new(root, "days", json_integer(s->days));
	json_object_set_new(root, "warmup_days", json_integer(s->warmup_days));
	json_object_set_new(root, "replications", json_integer(p->replications));
	json_object_set_new(root, "orders_routed", json_integer((json_int_t)p->routed));
	for (int k = 0; k < OMO_NET_N_KPIS; k++) {
		omo_sim_ci ci = omo_sim_stat_ci95(&p->kpi[k]);
		json_t *v = json_object();
		json_object_set_new(v, "mean", json_real(ci.mean));
		json_object_set_new(v, "ci95_half",
		                    isfinite(ci.half) ? json_real(ci.half) : json_null());
		json_object_set_new(v, "meaning", json_string(omo_net_kpi_doc((omo_net_kpi)k)));
		json_object_set_new(kpis, omo_net_kpi_name((omo_net_kpi)k), v);
	}
	json_object_set_new(root, "kpis", kpis);
	for (int d = 0; d < OMO_NET_CYCLE_DAYS; d++)
		json_array_append_new(hist, json_integer((json_int_t)p->first.cycle_hist[d]));
	json_object_set_new(root, "cycle_days_histogram_first_replication", hist);
	rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	fputc('\n', f);
	json_decref(root);
	return rc;
}

/* svg_chart draws series columns of the first replication as lines. */
static void svg_chart(FILE *f, const omo_scenario *s, const omo_plan *p, const char *title,
                      const omo_net_col *cols, int n)
{
	static const char *const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};
	const double W = 720, H = 220, L = 60, B = 24;
	double max = 0;

	for (unsigned d = 0; d < s->days; d++)
		for (int c = 0; c < n; c++)
			if (p->first.series[(size_t)d * OMO_NET_N_COLS + cols[c]] > max)
				max = p->first.series[(size_t)d * OMO_NET_N_COLS + cols[c]];
	if (max <= 0)
		max = 1;
	fprintf(f,
	        "<h2>%s</h2>\n<svg width=\"%.0f\" height=\"%.0f\" "
	        "xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">\n",
	        title, W, H + B);
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>\n", L,
	        H, W, H);
	fprintf(f, "<text x=\"0\" y=\"12\">%.0f</text><text x=\"0\" y=\"%.0f\">0</text>\n", max, H);
	fprintf(
	    f,
	    "<text x=\"%.0f\" y=\"%.0f\">day 0</text><text x=\"%.0f\" y=\"%.0f\">day %u</text>\n",
	    L, H + 16, W - 60, H + 16, s->days - 1);
	for (int c = 0; c < n; c++) {
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" points=\"", colours[c % 4]);
		for (unsigned d = 0; d < s->days; d++)
			fprintf(f, "%.1f,%.1f ", L + (W - L) * d / (s->days > 1 ? s->days - 1 : 1),
			        H - H * p->first.series[(size_t)d * OMO_NET_N_COLS + cols[c]] /
			                max);
		fprintf(f, "\"/>\n<text x=\"%.0f\" y=\"%d\" fill=\"%s\">%s</text>\n",
		        L + 10 + 150 * c, 12, colours[c % 4], omo_net_col_name(cols[c]));
	}
	fprintf(f, "</svg>\n");
}

static int write_html(FILE *f, const omo_scenario *s, const omo_plan *p)
{
	static const omo_net_col inv[] = {OMO_NET_COL_store, OMO_NET_COL_warehouse,
	                                  OMO_NET_COL_plant, OMO_NET_COL_raw};
	static const omo_net_col service[] = {OMO_NET_COL_demand, OMO_NET_COL_filled,
	                                      OMO_NET_COL_lost, OMO_NET_COL_backordered};
	static const omo_net_col orders[] = {OMO_NET_COL_store_orders, OMO_NET_COL_warehouse_orders,
	                                     OMO_NET_COL_production, OMO_NET_COL_purchases};

	fprintf(f,
	        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>omo plan: %s</title>"
	        "<style>body{font-family:sans-serif;max-width:760px;margin:auto}"
	        "td,th{padding:2px 8px;text-align:right}td:first-child{text-align:left}"
	        "</style></head><body>\n<h1>Scenario %s</h1>\n"
	        "<p>%u days (warm-up %u), %u replications, seed %llu; %llu orders routed by "
	        "the production routing library. Means with 95%% confidence intervals over "
	        "replications; charts show replication 1, day by day.</p>\n<table>\n"
	        "<tr><th>kpi</th><th>mean</th><th>95%% CI</th><th>meaning</th></tr>\n",
	        s->name, s->name, s->days, s->warmup_days, p->replications,
	        (unsigned long long)s->seed, (unsigned long long)p->routed);
	for (int k = 0; k < OMO_NET_N_KPIS; k++) {
		omo_sim_ci ci = omo_sim_stat_ci95(&p->kpi[k]);
		fprintf(f, "<tr><td>%s</td><td>%.4f</td><td>%s%.4f</td><td>%s</td></tr>\n",
		        omo_net_kpi_name((omo_net_kpi)k), ci.mean, "&plusmn;",
		        isfinite(ci.half) ? ci.half : 0.0, omo_net_kpi_doc((omo_net_kpi)k));
	}
	fprintf(f, "</table>\n");
	if (p->first.series) {
		svg_chart(f, s, p, "Inventory by echelon (units on hand)", inv, 4);
		svg_chart(f, s, p, "Consumers: demand, filled at once, lost, owed", service, 4);
		svg_chart(f, s, p, "Orders up the chain (bullwhip)", orders, 4);
	}
	fprintf(f, "</body></html>\n");
	return 0;
}

int omo_plan_write(const char *dir, const omo_scenario *s, const omo_plan *p, char *err,
                   size_t errlen)
{
	static const struct {
		const char *name;
		int (*write)(FILE *, const omo_scenario *, const omo_plan *);
	} outputs[] = {{"timeseries.csv", write_csv},
	               {"summary.json", write_json},
	               {"report.html", write_html}};

	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		FILE *f = open_out(dir, outputs[i].name, err, errlen);
		int rc;
		if (f == NULL)
			return -1;
		rc = outputs[i].write(f, s, p);
		if (fclose(f) != 0 || rc != 0) {
			snprintf(err, errlen, "%s/%s: write failed", dir, outputs[i].name);
			return -1;
		}
	}
	return 0;
}

/* ---- command line -------------------------------------------------------- */

#define EXIT_RUN   1
#define EXIT_USAGE 2

static void plan_usage(FILE *f)
{
	fprintf(f, "usage: omo-sim plan SCENARIO [options]\n"
	           "       omo-sim compare SCENARIO_A SCENARIO_B [options]\n\n"
	           "SCENARIO is a directory holding scenario.yaml, a YAML file, or a name under\n"
	           "simulators/scenarios/ (of $OMO_SOURCE_DIR, else of the current directory).\n\n"
	           "options:\n"
	           "  --replications=N  replications (default: the scenario's)\n"
	           "  --days=N          simulated days (default: the scenario's)\n"
	           "  --seed=N          run seed (default: the scenario's); the same seed gives\n"
	           "                    the same output, byte for byte\n"
	           "  --out=DIR         write timeseries.csv, summary.json and report.html there\n"
	           "                    (compare: DIR/a and DIR/b)\n"
	           "  --quiet           no progress bar\n");
}

static int parse_uint(const char *text, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int write_to(const char *dir, const char *sub, const omo_scenario *s, const omo_plan *p)
{
	char path[1100], err[1400];

	snprintf(path, sizeof(path), "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
	if (mkdir(path, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "omo-sim: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (omo_plan_write(path, s, p, err, sizeof(err))) {
		fprintf(stderr, "omo-sim: %s\n", err);
		return -1;
	}
	return 0;
}

int omo_sim_plan_main(int argc, char **argv)
{
	omo_plan_options o = {.progress = true};
	const char *names[2] = {NULL, NULL}, *out = NULL, *src = getenv("OMO_SOURCE_DIR");
	bool compare = strcmp(argv[0], "compare") == 0;
	int n_names = 0, rc = EXIT_RUN;
	char dir[1100], err[2600];
	omo_scenario a, b;
	uint64_t v;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			plan_usage(stdout);
			return 0;
		} else if (strncmp(arg, "--replications=", 15) == 0 &&
		           !parse_uint(arg + 15, 100000, &v) && v > 0) {
			o.replications = (unsigned)v;
		} else if (strncmp(arg, "--days=", 7) == 0 && !parse_uint(arg + 7, 100000, &v) &&
		           v > 0) {
			o.days = (unsigned)v;
		} else if (strncmp(arg, "--seed=", 7) == 0 &&
		           !parse_uint(arg + 7, UINT64_MAX, &o.seed)) {
			o.seed_set = true;
		} else if (strncmp(arg, "--out=", 6) == 0 && arg[6]) {
			out = arg + 6;
		} else if (strcmp(arg, "--quiet") == 0) {
			o.progress = false;
		} else if (strncmp(arg, "--", 2) != 0 && n_names < 1 + compare) {
			names[n_names++] = arg;
		} else {
			fprintf(stderr, "omo-sim %s: unexpected argument or bad value: %s\n",
			        argv[0], arg);
			plan_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (n_names != 1 + compare) {
		plan_usage(stderr);
		return EXIT_USAGE;
	}
	snprintf(dir, sizeof(dir), "%s/simulators/scenarios", src && *src ? src : ".");
	if (omo_scenario_load(&a, names[0], dir, err, sizeof(err))) {
		fprintf(stderr, "omo-sim: %s\n", err);
		omo_scenario_fini(&a);
		return EXIT_USAGE;
	}
	omo_plan_apply(&a, &o);
	if (!compare) {
		omo_plan p;
		if (omo_plan_run(&a, &o, &p)) {
			fprintf(stderr, "omo-sim: out of memory\n");
		} else {
			omo_plan_print(stdout, &a, &p);
			rc = out && write_to(out, NULL, &a, &p) ? EXIT_RUN : 0;
			omo_plan_fini(&p);
		}
		omo_scenario_fini(&a);
		return rc;
	}
	if (omo_scenario_load(&b, names[1], dir, err, sizeof(err))) {
		fprintf(stderr, "omo-sim: %s\n", err);
		omo_scenario_fini(&a);
		omo_scenario_fini(&b);
		return EXIT_USAGE;
	}
	omo_plan_compare c;
	if (omo_plan_compare_run(&a, &b, &o, &c)) {
		fprintf(stderr, "omo-sim: out of memory\n");
	} else {
		omo_plan_compare_print(stdout, &a, &b, &c);
		rc = out && (write_to(out, NULL, &a, &c.a) || write_to(out, "a", &a, &c.a) ||
		             write_to(out, "b", &b, &c.b))
		         ? EXIT_RUN
		         : 0;
		omo_plan_fini(&c.a);
		omo_plan_fini(&c.b);
	}
	omo_scenario_fini(&a);
	omo_scenario_fini(&b);
	return rc;
}
