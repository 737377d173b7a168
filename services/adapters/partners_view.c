#include "partners_view.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "catalog.h"
#include "folder.h"
#include "partner.h"
#include "x12.h"

#define MAX_FILES 4096

/* A file of a partner's folder, with when it got there. */
typedef struct entry {
	char name[FOLDER_NAME_MAX + 1];
	const char *sub;
	time_t when;
} entry;

static int newest_first(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	return x->when != y->when ? (x->when < y->when) - (x->when > y->when)
	                          : strcmp(y->name, x->name);
}

/* gather appends the files of sub (not the .reason notes) to es[n..cap). */
static int gather(const char *root, const char *id, const char *sub, entry *es, int n, int cap)
{
	static char names[MAX_FILES][FOLDER_NAME_MAX + 1];
	int k = folder_list(root, id, sub, names, MAX_FILES);
	for (int i = 0; i < k && n < cap; i++) {
		size_t len = strlen(names[i]);
		if (len > 7 && strcmp(names[i] + len - 7, ".reason") == 0)
			continue;
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s/%s/%s", root, id, sub, names[i]);
		es[n] = (entry){.sub = sub, .when = stat(path, &st) == 0 ? st.st_mtime : 0};
		memcpy(es[n].name, names[i], len + 1);
		n++;
	}
	return n;
}

/* ack_status says what an acknowledgement of ours answered: AK9 or TA1. */
static void ack_status(const char *root, const char *id, const char *name, char *out, size_t cap)
{
	size_t len;
	char *data = folder_read(root, id, "outbox", name, 1u << 20, &len);
	x12_doc doc;
	out[0] = 0;
	if (!data)
		return;
	x12_parse(&doc, data, len, NULL);
	for (uint32_t i = 0; i < doc.nsegs; i++) {
		char a[4][16];
		if (strcmp(doc.segs[i].id, "AK9") == 0 || strcmp(doc.segs[i].id, "TA1") == 0) {
			bool ak9 = doc.segs[i].id[0] == 'A';
			for (unsigned k = 0; k < 4; k++)
				x12_slice_copy(a[k], sizeof a[k],
				               x12_elem(&doc, i, ak9 ? k + 1 : k + 2));
			if (ak9)
				snprintf(out, cap, "997 %s: %s of %s sets accepted", a[0], a[3],
				         a[1]);
			else
				snprintf(out, cap, "TA1 %s %s", a[2], a[3]);
			if (ak9 && a[0][0] != 'A')
				break;
		}
	}
	x12_doc_fini(&doc);
	free(data);
}

static void when_text(char *out, size_t cap, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static void show_partner(FILE *out, const partner *p, const char *root, int last, entry *es)
{
	fprintf(out, "%s (%s)", p->id, p->name[0] ? p->name : "-");
	if (p->node[0])
		fprintf(out, ", fulfils for %s", p->node);
	if (p->has_channel)
		fprintf(out, ", orders on %s", omo_enum_name(&omo_enum_channel, p->channel));
	if (p->isa_id[0])
		fprintf(out, ", X12 %s:%s", p->isa_qual, p->isa_id);
	fprintf(out, "\n");
	int n = gather(root, p->id, "archive", es, 0, MAX_FILES / 2);
	n = gather(root, p->id, "error", es, n, MAX_FILES);
	int errors = 0, waiting = gather(root, p->id, "inbox", es + n, 0, MAX_FILES - n);
	waiting += gather(root, p->id, "processing", es + n, 0, MAX_FILES - n);
	qsort(es, (size_t)n, sizeof *es, newest_first);
	for (int i = 0; i < n; i++) {
		bool bad = strcmp(es[i].sub, "error") == 0;
		errors += bad;
		if (i >= last && !bad)
			continue;
		char when[32], why[400] = "applied";
		when_text(when, sizeof when, es[i].when);
		if (bad) {
			char rname[FOLDER_NAME_MAX + 16];
			size_t len;
			snprintf(rname, sizeof rname, "%s.reason", es[i].name);
			char *r = folder_read(root, p->id, "error", rname, sizeof why - 20, &len);
			snprintf(why, sizeof why, "IN ERROR: %s", r ? r : "(no reason recorded)");
			free(r);
		}
		fprintf(out, "  in   %s  %-28s %s\n", when, es[i].name, why);
	}
	n = gather(root, p->id, "outbox", es, 0, MAX_FILES);
	qsort(es, (size_t)n, sizeof *es, newest_first);
	for (int i = 0; i < n && i < last; i++) {
		char when[32], ack[96];
		when_text(when, sizeof when, es[i].when);
		ack_status(root, p->id, es[i].name, ack, sizeof ack);
		fprintf(out, "  out  %s  %-28s %s\n", when, es[i].name, ack);
	}
	fprintf(out, "  %d waiting, %d in error\n", waiting, errors);
}

int partners_view(FILE *out, const char *partners_dir, const char *network_dir,
                  const char *folders_dir, int last, char *err, size_t errlen)
{
	omo_catalog cat;
	partner_set ps;
	if (omo_catalog_load(&cat, network_dir, err, errlen) != 0)
		return -1;
	int rc = partner_set_load(&ps, partners_dir, &cat, err, errlen);
	entry *es = rc == 0 ? calloc(MAX_FILES, sizeof *es) : NULL;
	if (rc == 0 && !es) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	for (uint32_t i = 0; rc == 0 && i < ps.n; i++)
		show_partner(out, &ps.partners[i], folders_dir, last, es);
	if (rc == 0 && ps.n == 0)
		fprintf(out, "no partners in %s\n", partners_dir);
	free(es);
	partner_set_fini(&ps);
	omo_catalog_fini(&cat);
	return rc;
}
