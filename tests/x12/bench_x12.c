/*
 * bench_x12.c - X12 parsing throughput on one core.
 *
 *     omo-bench-x12 [MB]        (default 100)
 *
 * Writes one interchange of retail 850s (VICS-like, about 1 KB each, six
 * lines) with the codec's own writer until it holds MB megabytes, then times
 * x12_parse over it - bytes to validated segments: delimiters, every byte
 * classified, every envelope and count checked - and prints MB/s, best and
 * median of five runs. It also times reading every element of every segment
 * after the parse, building the 997, and the whole way to omo messages:
 * parse, then each 850 translated by the partner flows (items and ship-to
 * through the buyer's mapping, quantities and money exact) into a
 * submit_order encoded as msgpack. Beside them, the raw limit measured in the
 * same run: one memchr pass counting segment terminators over the same bytes.
 * Figures, not pass/fail.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "x12.h"
#include "x12_ack.h"
#include "x12_flows.h"
#include "x12_write.h"

#define RUNS 5

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The buyer of these 850s, as its mapping file would say (xyz-retail). */
static partner_item buyer_items[] = {
    {PARTNER_ITEM_BUYER, "060733-110", "SKU-0003"}, {PARTNER_ITEM_BUYER, "065308-116", "SKU-0004"},
    {PARTNER_ITEM_BUYER, "065322-117", "SKU-0001"}, {PARTNER_ITEM_BUYER, "065374-118", "SKU-0005"},
    {PARTNER_ITEM_BUYER, "066850-116", "SKU-0002"}, {PARTNER_ITEM_BUYER, "067504-118", "SKU-0006"},
};
static partner_location buyer_places[] = {
    {.kind = PARTNER_LOC_DUNS,
     .code = "0003947268292",
     .has_ship_to = true,
     .ship_to = {.name = "XYZ RETAIL", .lat_udeg = 41389800, .lon_udeg = -81441200}},
};
static const partner buyer = {.id = "xyz-retail",
                              .has_channel = true,
                              .channel = OMO_CHANNEL_B2B,
                              .isa_qual = "12",
                              .isa_id = "4405197800",
                              .our_qual = "01",
                              .our_id = "999999999",
                              .docs_in = 1u << PARTNER_DOC_850,
                              .items = buyer_items,
                              .n_items = 6,
                              .locations = buyer_places,
                              .n_locations = 1};

static void write_850(x12_writer *w, uint32_t n)
{
	static const char *const items[] = {"065322-117", "066850-116", "060733-110",
	                                    "065308-116", "065374-118", "067504-118"};
	char po[32], upc[16];
	snprintf(po, sizeof po, "PO%08" PRIu32, n);
	x12_w_set_begin(w, "850", n, NULL);
	x12_w_segl(w, "BEG", "00", "SA", po, NULL, "20240305", "610385385");
	x12_w_segl(w, "REF", "DP", "038");
	x12_w_segl(w, "REF", "PS", "R");
	x12_w_segl(w, "ITD", "14", "3", "2", NULL, "45", NULL, "46");
	x12_w_segl(w, "DTM", "002", "20240314");
	x12_w_segl(w, "TD5", "A", "92", "P3", NULL, "SEE XYZ RETAIL ROUTING GUIDE");
	x12_w_segl(w, "N1", "ST", "XYZ RETAIL", "9", "0003947268292");
	x12_w_segl(w, "N3", "31875 SOLON RD");
	x12_w_segl(w, "N4", "SOLON", "OH", "44139");
	for (unsigned l = 1; l <= 6; l++) {
		snprintf(upc, sizeof upc, "0%05u%05u", l * 1111, (unsigned)(n % 100000));
		x12_w_seg(w, "PO1");
		x12_w_elem_uint(w, l);
		x12_w_elem_uint(w, 12 * l + n % 100);
		x12_w_elem(w, "EA");
		x12_w_elem_dec(w, 925 + 101 * l, 2);
		x12_w_elem(w, "TE");
		x12_w_elem(w, "CB");
		x12_w_elem(w, items[(n + l) % 6]);
		x12_w_elem(w, "UP");
		x12_w_elem(w, upc);
		x12_w_elem(w, "VN");
		x12_w_elem(w, "AB3542");
		x12_w_seg_end(w);
		x12_w_segl(w, "PID", "F", NULL, NULL, NULL, "SMALL WIDGET");
		x12_w_segl(w, "PO4", "4", "4", "EA", "PLT94", NULL, "3", "LR", "15", "CT");
	}
	x12_w_segl(w, "CTT", "6");
	x12_w_segl(w, "AMT", "1", "13045.94");
	x12_w_set_end(w);
}

int main(int argc, char **argv)
{
	double mb = argc > 1 ? atof(argv[1]) : 100;
	if (mb <= 0 || mb > 900) {
		fprintf(stderr, "usage: omo-bench-x12 [MB, 1..900]\n");
		return 2;
	}
	size_t target = (size_t)(mb * 1e6);
	x12_buf buf = {0};
	x12_writer w;
	x12_envelope env = {.sender_qual = "12",
	                    .sender_id = "4405197800",
	                    .receiver_qual = "01",
	                    .receiver_id = "999999999",
	                    .control = 1,
	                    .version = 401,
	                    .now_us = 1709649000LL * 1000000,
	                    .newline = true};
	double t0 = now_s();
	x12_writer_init(&w, &buf, &env);
	x12_w_group_begin(&w, "PO", "BUYER", "OMO", 1, "004010VICS");
	uint32_t sets = 0;
	while (buf.len < target && x12_writer_err(&w) == X12_E_OK)
		write_850(&w, ++sets);
	x12_w_group_end(&w);
	x12_err e = x12_writer_finish(&w);
	double t_write = now_s() - t0;
	if (e != X12_E_OK) {
		fprintf(stderr, "writer: %s\n", x12_strerror(e));
		return 1;
	}
	double size_mb = (double)buf.len / 1e6;
	printf("interchange: %.1f MB, %" PRIu32 " 850s, written at %.0f MB/s\n", size_mb, sets,
	       size_mb / t_write);

	double parse[RUNS], walk[RUNS];
	uint64_t elems = 0;
	uint32_t nsegs = 0;
	for (int r = 0; r < RUNS; r++) {
		x12_doc doc;
		t0 = now_s();
		e = x12_parse(&doc, buf.data, buf.len, NULL);
		parse[r] = now_s() - t0;
		if (e != X12_E_OK || doc.nsets != sets) {
			fprintf(stderr, "parse: %s, %u sets\n", x12_err_name(e), doc.nsets);
			return 1;
		}
		nsegs = doc.nsegs;
		/* then every element of every segment, as a mapping would read them */
		t0 = now_s();
		x12_slice f[32];
		uint64_t n = 0, bytes = 0;
		for (uint32_t i = 0; i < doc.nsegs; i++) {
			unsigned k = x12_split(&doc, i, f, 32);
			n += k;
			for (unsigned j = 0; j < k && j < 32; j++)
				bytes += f[j].n;
		}
		walk[r] = now_s() - t0;
		elems = n + (bytes == 0);
		if (r == RUNS - 1) {
			x12_ack_opts o = {.isa13 = 2, .gs06 = 2, .st02 = 1, .now_us = env.now_us};
			x12_buf ack = {0};
			x12_ack_result res;
			t0 = now_s();
			e = x12_ack_build(&doc, 0, &o, &ack, &res);
			double t_ack = now_s() - t0;
			printf("997 for %" PRIu32 " sets: %zu bytes in %.1f ms (%s)\n", sets,
			       ack.len, t_ack * 1e3, x12_err_name(e));
			x12_buf_fini(&ack);
		}
		x12_doc_fini(&doc);
	}
	qsort(parse, RUNS, sizeof parse[0], cmp_double);
	qsort(walk, RUNS, sizeof walk[0], cmp_double);
	printf("parse, bytes to validated segments: best %.0f MB/s, median %.0f MB/s "
	       "(%u segments, %.1f M segments/s)\n",
	       size_mb / parse[0], size_mb / parse[RUNS / 2], nsegs, nsegs / parse[0] / 1e6);
	printf("then every element read (%" PRIu64 " elements): best %.0f MB/s; parse + elements "
	       "%.0f MB/s\n",
	       elems, size_mb / walk[0], size_mb / (parse[0] + walk[0]));
	double flows[RUNS];
	uint32_t msgs = 0;
	for (int r = 0; r < RUNS; r++) {
		x12_doc doc;
		flow_result res = {0};
		flow_env fenv = {.now_us = env.now_us};
		omo_buf wire = {0};
		t0 = now_s();
		x12_parse(&doc, buf.data, buf.len, NULL);
		int rc = flow_read(&buyer, &doc, &fenv, &res);
		for (uint32_t i = 0; rc == 0 && i < res.n_msgs; i++) {
			wire.len = 0;
			if (omo_msg_encode(&res.msgs[i], &wire, NULL) != OMO_E_OK)
				rc = -1;
		}
		flows[r] = now_s() - t0;
		msgs = res.n_msgs;
		if (rc != 0 || msgs != sets) {
			fprintf(stderr, "flows: %u messages for %u sets (%s)\n", msgs, sets,
			        res.n_sets ? res.sets[0].note : "");
			return 1;
		}
		omo_buf_fini(&wire);
		flow_result_fini(&res);
		x12_doc_fini(&doc);
	}
	double scan[RUNS];
	size_t terms = 0;
	for (int r = 0; r < RUNS; r++) {
		t0 = now_s();
		terms = 0;
		for (const char *q = buf.data, *end = buf.data + buf.len;
		     (q = memchr(q, '~', (size_t)(end - q))) != NULL; q++)
			terms++;
		scan[r] = now_s() - t0;
	}
	qsort(flows, RUNS, sizeof flows[0], cmp_double);
	qsort(scan, RUNS, sizeof scan[0], cmp_double);
	printf("bytes to omo messages (parse, 850 -> submit_order, msgpack; %u orders): best %.0f "
	       "MB/s, median %.0f MB/s, %.0f orders/s\n",
	       msgs, size_mb / flows[0], size_mb / flows[RUNS / 2], msgs / flows[RUNS / 2]);
	printf("raw limit, one memchr pass over the same bytes (%zu terminators): median %.0f "
	       "MB/s; parse is %.2f of it, messages %.2f\n",
	       terms, size_mb / scan[RUNS / 2], scan[RUNS / 2] / parse[RUNS / 2],
	       scan[RUNS / 2] / flows[RUNS / 2]);
	printf("targets: 200 MB/s bytes to validated segments, 50 MB/s to omo messages, one "
	       "core\n");
	x12_buf_fini(&buf);
	return 0;
}
