#include "adapter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controls.h"
#include "folder.h"
#include "json_channels.h"
#include "log.h"
#include "x12_ack.h"
#include "x12_flows.h"

enum { T_CONTROLS, T_DOCS, T_POS };
static const char *const adapter_tables[] = {"controls", "docs", "pos"};

#define FILES_PER_TICK 16
#define MAX_FILE       (64u << 20) /* bytes; a larger file is refused unread */

static void app_fini(void *a)
{
	adapter_app *app = a;
	atomic_store(&app->stop, true);
	if (app->receiving)
		pthread_join(app->receiver, NULL);
	for (uint32_t i = 0; app->links && i < app->partners.n; i++)
		tls_link_close(app->links[i]);
	free(app->links);
	free(app->seen);
	partner_set_fini(&app->partners);
	omo_catalog_fini(&app->catalog);
}

/* ---- partners over tls+tcp:// ---------------------------------------------- */

typedef struct receipt {
	adapter_app *app;
	uint32_t partner;
} receipt;

/* receive files a verified, fresh message in the partner's inbox. */
static void receive(void *arg, const char *req, size_t len, char **reply, size_t *reply_len)
{
	receipt *r = arg;
	const partner *p = &r->app->partners.partners[r->partner];
	const char *doc;
	size_t n;
	char buf[300], name[96];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	const char *why = tls_link_check(&r->app->seen[r->partner], req, len, now, &doc, &n);
	if (!why) {
		/* the message id names the file, reduced to characters every file system takes */
		size_t k = (size_t)snprintf(name, sizeof name, "tls-");
		for (const char *q = req + 8; *q && *q != ' ' && k + 6 < sizeof name; q++)
			name[k++] = (char)(strchr("/.\\", *q) || *q < 0x21 || *q > 0x7e ? '_' : *q);
		snprintf(name + k, sizeof name - k, "%s", p->json ? ".json" : ".edi");
		if (folder_put(r->app->folders, p->id, "inbox", name, doc, n) != 0)
			why = "it could not be stored; send it again";
	}
	if (why)
		OMO_WARN("partner_message_ignored", "partner=%s reason=\"%s\"", p->id, why);
	snprintf(buf, sizeof buf, why ? "ignored: %s" : "queued %s", why ? why : name);
	*reply = strdup(buf);
	*reply_len = *reply ? strlen(buf) : 0;
}

static void *receiver(void *arg)
{
	adapter_app *app = arg;
	while (!atomic_load(&app->stop))
		for (uint32_t i = 0; i < app->partners.n && !atomic_load(&app->stop); i++)
			if (app->links[i]) {
				receipt r = {app, i};
				tls_link_serve(app->links[i], 20, receive, &r);
			}
	return NULL;
}

static int open_links(adapter_app *app, const char *cert, char *err, size_t errlen)
{
	uint32_t n = app->partners.n, open = 0;
	if (!cert[0] || n == 0)
		return 0;
	app->links = calloc(n, sizeof *app->links);
	app->seen = calloc(n, sizeof *app->seen);
	if (!app->links || !app->seen) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		const partner *p = &app->partners.partners[i];
		if (!p->tls_listen[0])
			continue;
		if (tls_link_listen(&app->links[i], p->tls_listen, cert, p->tls_ca, err, errlen) !=
		    0)
			return -1;
		OMO_INFO("partner_listening", "partner=%s url=%s port=%d", p->id, p->tls_listen,
		         tls_link_port(app->links[i]));
		open++;
	}
	if (open && pthread_create(&app->receiver, NULL, receiver, app) != 0) {
		snprintf(err, errlen, "cannot start the receiving thread");
		return -1;
	}
	app->receiving = open > 0;
	return 0;
}

static int app_init(void *a, const void *c, char *err, size_t errlen)
{
	adapter_app *app = a;
	const adapter_config *cfg = c;
	if (omo_catalog_load(&app->catalog, cfg->network_dir, err, errlen) != 0 ||
	    partner_set_load(&app->partners, cfg->partners_dir, &app->catalog, err, errlen) != 0)
		return -1;
	snprintf(app->folders, sizeof app->folders, "%s", cfg->folders_dir);
	app->poll_us = cfg->poll_ms * 1000;
	for (uint32_t i = 0; i < app->partners.n; i++)
		if (folder_open(app->folders, app->partners.partners[i].id, err, errlen) != 0)
			return -1;
	return open_links(app, cfg->tls_cert, err, errlen);
}

/* ---- what a document became ------------------------------------------------ */

/* The record of a document applied: its outcome, a sentence, what we answered. */
typedef struct done {
	char status;     /* 'A' applied, 'H' applied but held for an operator, 'R' refused */
	char kind[8];    /* "850", "json", ... */
	char note[1024]; /* what it became, or why not */
	char *ack;       /* the acknowledgement to send (heap), or NULL */
	size_t ack_len;
	char ack_name[64];
} done;

/* docs key: partner id, '/', the document's digest (FNV-1a 64 and length) */
static size_t doc_key(char *out, size_t cap, const char *partner_id, const char *data, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)data[i]) * 1099511628211ull;
	return (size_t)snprintf(out, cap, "%s/%016llx-%zu", partner_id, (unsigned long long)h, len);
}

/* stored as "<status> <kind> <ack name>\n<note>\n<ack bytes>" */
static omo_err done_put(omo_ctx *ctx, const char *key, const done *d)
{
	omo_buf b = {0};
	int rc = omo_buf_printf(&b, "%c %s %s\n%s\n", d->status, d->kind,
	                        d->ack_name[0] ? d->ack_name : "-", d->note);
	if (rc == 0 && d->ack)
		rc = omo_buf_append(&b, d->ack, d->ack_len);
	omo_err e = rc ? OMO_E_NOMEM : omo_put(ctx->txn, T_DOCS, key, strlen(key), b.data, b.len);
	omo_buf_fini(&b);
	return e;
}

static bool done_get(omo_ctx *ctx, const char *key, done *d)
{
	omo_val v;
	memset(d, 0, sizeof *d);
	if (omo_get(ctx->txn, T_DOCS, key, strlen(key), &v) != OMO_E_OK)
		return false;
	const char *s = v.data, *end = s + v.len, *nl = memchr(s, '\n', v.len);
	const char *nl2 = nl ? memchr(nl + 1, '\n', (size_t)(end - nl - 1)) : NULL;
	if (!nl2 || sscanf(s, "%c %7s %63s", &d->status, d->kind, d->ack_name) != 3)
		return false;
	if (strcmp(d->ack_name, "-") == 0)
		d->ack_name[0] = 0;
	snprintf(d->note, sizeof d->note, "%.*s", (int)(nl2 - nl - 1), nl + 1);
	d->ack_len = (size_t)(end - nl2 - 1);
	if (d->ack_len && (d->ack = malloc(d->ack_len)) != NULL)
		memcpy(d->ack, nl2 + 1, d->ack_len);
	return true;
}

/* ---- our orders, as the partners' answers name them ------------------------ */

typedef struct env_arg {
	omo_ctx *ctx;
} env_arg;

static int find_po(void *arg, const char *ref, flow_po *po)
{
	omo_ctx *ctx = ((env_arg *)arg)->ctx;
	omo_fulfillment_requested fr;
	omo_arena a = {0};
	int rc = -1;
	if (omo_get_rec(ctx->txn, T_POS, ref, strlen(ref), &omo_rec_fulfillment_requested, &fr,
	                &a) == OMO_E_OK &&
	    fr.lines_count <= FLOW_MAX_LINES) {
		po->fulfillment_id = fr.fulfillment_id;
		po->order_id = fr.order_id;
		snprintf(po->node, sizeof po->node, "%s", fr.node);
		memcpy(po->lines, fr.lines, fr.lines_count * sizeof *fr.lines);
		po->n_lines = fr.lines_count;
		rc = 0;
	}
	omo_arena_fini(&a);
	return rc;
}

static int64_t on_hand(void *arg, const char *node, const char *sku)
{
	omo_ctx *ctx = ((env_arg *)arg)->ctx;
	omo_msg req, reply;
	omo_sku_ref s;
	omo_node_ref n;
	omo_error_detail d;
	snprintf(s.sku, sizeof s.sku, "%s", sku);
	snprintf(n.node, sizeof n.node, "%s", node);
	omo_msg_init(&req, OMO_MSG_STOCK_QUERY);
	omo_uuid_generate(&req.id);
	req.body.stock_query.skus = &s;
	req.body.stock_query.skus_count = 1;
	req.body.stock_query.nodes = &n;
	req.body.stock_query.nodes_count = 1;
	int64_t have = -1;
	if (omo_ctx_call(ctx, "inventory", &req, &reply, &d) == OMO_E_OK)
		have =
		    reply.body.stock_reply.rows_count ? reply.body.stock_reply.rows[0].on_hand : 0;
	omo_msg_fini(&reply);
	return have;
}

/* ---- applying ----------------------------------------------------------------- */

/* call sends a command to its service; a refusal is noted, a service that
 * does not answer makes the whole document wait for the next tick. */
static omo_err call(omo_ctx *ctx, const omo_msg *m, done *dn)
{
	const char *peer = m->type == OMO_MSG_SUBMIT_ORDER ? "orders" : "inventory";
	omo_msg reply;
	omo_error_detail d = {0};
	omo_err e = omo_ctx_call(ctx, peer, m, &reply, &d);
	omo_msg_fini(&reply);
	if (e != OMO_E_OK && omo_err_retryable(e))
		return e;
	if (e != OMO_E_OK) {
		size_t n = strlen(dn->note);
		snprintf(dn->note + n, sizeof dn->note - n, "%s%s refused %s: %s %s", n ? "; " : "",
		         peer, omo_msg_name(m->type), omo_err_name(e), d.text);
		dn->status = 'R';
	}
	return OMO_E_OK;
}

/* apply sends msgs' commands, then publishes its events (after every command
 * was taken, so a retried document never publishes twice). */
static omo_err apply(omo_ctx *ctx, omo_msg *msgs, uint32_t n, done *dn)
{
	omo_err e = OMO_E_OK;
	for (uint32_t i = 0; i < n && e == OMO_E_OK; i++)
		if (msgs[i].type != OMO_MSG_FULFILLMENT_UPDATE)
			e = call(ctx, &msgs[i], dn);
	for (uint32_t i = 0; i < n && e == OMO_E_OK; i++)
		if (msgs[i].type == OMO_MSG_FULFILLMENT_UPDATE)
			e = omo_emit(ctx, &msgs[i]);
	return e;
}

static void add_note(done *dn, const char *s)
{
	size_t n = strlen(dn->note);
	snprintf(dn->note + n, sizeof dn->note - n, "%s%s", n ? "; " : "", s);
}

static omo_err read_x12(omo_ctx *ctx, const partner *p, const char *data, size_t len, done *dn)
{
	x12_doc doc;
	flow_result r = {0};
	env_arg arg = {ctx};
	flow_env env = {.find_po = find_po, .on_hand = on_hand, .arg = &arg, .now_us = ctx->now_us};
	snprintf(dn->kind, sizeof dn->kind, "x12");
	x12_parse(&doc, data, len, NULL);
	omo_err e = flow_read(p, &doc, &env, &r) == 0 ? OMO_E_OK : OMO_E_NOMEM;
	dn->status = doc.nics ? 'A' : 'R';
	if (!doc.nics)
		add_note(dn, x12_strerror(doc.err));
	for (uint32_t i = 0; e == OMO_E_OK && i < r.n_sets; i++) {
		const flow_set *s = &r.sets[i];
		char line[480];
		snprintf(line, sizeof line, "%s %s: %s", partner_doc_id(s->doc), s->ref, s->note);
		add_note(dn, line);
		if (!s->accepted)
			dn->status = 'R';
		else if (s->held && dn->status == 'A')
			dn->status = 'H';
		if (s->accepted)
			e = apply(ctx, &r.msgs[s->first_msg], s->n_msgs, dn);
		if (i == 0)
			snprintf(dn->kind, sizeof dn->kind, "%s", partner_doc_id(s->doc));
	}
	/* one acknowledgement per interchange, numbered from the partner's counter */
	x12_buf ack = {0};
	for (uint32_t ic = 0; e == OMO_E_OK && ic < doc.nics; ic++) {
		uint32_t first;
		x12_ack_result res;
		if ((e = controls_take(ctx->txn, T_CONTROLS, p->id, 2 + doc.ngroups, &first)) !=
		    OMO_E_OK)
			break;
		x12_ack_opts o = {.isa13 = first,
		                  .gs06 = first + 1,
		                  .st02 = first + 2,
		                  .now_us = ctx->now_us,
		                  .newline = true};
		if (x12_ack_build(&doc, ic, &o, &ack, &res) != X12_E_OK)
			e = OMO_E_INTERNAL;
		if (ic == 0 && !res.empty)
			snprintf(dn->ack_name, sizeof dn->ack_name, "%s-%09u.edi",
			         res.ta1 && !res.group ? "TA1" : "997", first);
	}
	if (e == OMO_E_OK && ack.len) {
		dn->ack = ack.data;
		dn->ack_len = ack.len;
	} else {
		x12_buf_fini(&ack);
	}
	flow_result_fini(&r);
	x12_doc_fini(&doc);
	return e;
}

static omo_err read_json(omo_ctx *ctx, const partner *p, const char *data, size_t len, done *dn)
{
	omo_msg m;
	char id[JC_ID_MAX + 1];
	omo_error_detail d = {0};
	snprintf(dn->kind, sizeof dn->kind, "json");
	omo_err e = OMO_E_OK;
	if (jc_order(p, data, len, NULL, 0, &m, id, &d) != OMO_E_OK) {
		dn->status = 'R';
		snprintf(dn->note, sizeof dn->note, "%s: %s", omo_err_name(d.code), d.text);
	} else {
		dn->status = 'A';
		snprintf(dn->note, sizeof dn->note, "order %s: %u lines", id,
		         m.body.submit_order.lines_count);
		e = apply(ctx, &m, 1, dn);
	}
	omo_msg_fini(&m);
	return e;
}

/* take applies one claimed file unless it was applied before. */
static omo_err take(omo_ctx *ctx, const partner *p, const char *name)
{
	const adapter_app *app = ctx->app;
	size_t len;
	char key[128];
	done dn = {0};
	char *data = folder_read(app->folders, p->id, "processing", name, MAX_FILE, &len);
	if (!data && len <= MAX_FILE)
		return OMO_E_OK; /* gone (filed meanwhile) */
	doc_key(key, sizeof key, p->id, data ? data : name, data ? len : strlen(name));
	if (done_get(ctx, key, &dn)) {
		free(dn.ack);
		free(data);
		return OMO_E_OK; /* applied before: filed by the next tick */
	}
	omo_err e = OMO_E_OK;
	if (!data) {
		dn.status = 'R';
		snprintf(dn.kind, sizeof dn.kind, "?");
		snprintf(dn.note, sizeof dn.note, "%zu bytes: larger than %u", len, MAX_FILE);
	} else {
		size_t n = strlen(name);
		bool json = p->json && n > 5 && strcmp(name + n - 5, ".json") == 0;
		e = json ? read_json(ctx, p, data, len, &dn) : read_x12(ctx, p, data, len, &dn);
	}
	if (e == OMO_E_OK)
		e = done_put(ctx, key, &dn);
	OMO_INFO("partner_document", "partner=%s file=%s status=%c note=\"%.200s\"", p->id, name,
	         dn.status, dn.note);
	free(dn.ack);
	free(data);
	return e;
}

/* file moves a done file out of processing, its acknowledgement first. */
static void file(omo_ctx *ctx, const partner *p, const char *name)
{
	const adapter_app *app = ctx->app;
	size_t len;
	char key[128];
	done dn;
	char *data = folder_read(app->folders, p->id, "processing", name, MAX_FILE, &len);
	doc_key(key, sizeof key, p->id, data ? data : name, data ? len : strlen(name));
	free(data);
	if (!done_get(ctx, key, &dn))
		return;
	if (!dn.ack ||
	    folder_put(app->folders, p->id, "outbox", dn.ack_name, dn.ack, dn.ack_len) == 0)
		folder_file(app->folders, p->id, name, dn.status != 'R', dn.note);
	free(dn.ack);
}

static omo_err on_tick(omo_ctx *ctx, int64_t *next_us)
{
	const adapter_app *app = ctx->app;
	char(*names)[FOLDER_NAME_MAX + 1] = malloc(FILES_PER_TICK * sizeof *names);
	omo_err e = names ? OMO_E_OK : OMO_E_NOMEM;
	for (uint32_t i = 0; i < app->partners.n && e == OMO_E_OK; i++) {
		const partner *p = &app->partners.partners[i];
		/* filed: what earlier batches recorded, now durable */
		int n = folder_list(app->folders, p->id, "processing", names, FILES_PER_TICK);
		for (int k = 0; k < n; k++)
			file(ctx, p, names[k]);
		folder_claim(app->folders, p->id, FILES_PER_TICK);
		n = folder_list(app->folders, p->id, "processing", names, FILES_PER_TICK);
		for (int k = 0; k < n && e == OMO_E_OK; k++)
			e = take(ctx, p, names[k]);
	}
	free(names);
	*next_us = ctx->now_us + app->poll_us;
	return e;
}

/* ---- our documents to partners ----------------------------------------------- */

static omo_err on_requested(omo_ctx *ctx, const omo_fulfillment_requested *r)
{
	const adapter_app *app = ctx->app;
	const partner *p = partner_set_for_node(&app->partners, r->node);
	bool po = p && partner_handles(p, PARTNER_DOC_850, false);
	if (!p || (!po && !partner_handles(p, PARTNER_DOC_940, false)))
		return OMO_E_OK; /* not a partner's node */
	char ref[FLOW_REF_MAX + 1], name[64];
	snprintf(ref, sizeof ref, "P");
	for (int i = 0; i < 10; i++)
		snprintf(ref + 1 + 2 * i, sizeof ref - 1 - 2 * (size_t)i, "%02X",
		         r->fulfillment_id.b[i + 6]);
	omo_val v;
	if (omo_get(ctx->txn, T_POS, ref, strlen(ref), &v) == OMO_E_OK)
		return OMO_E_OK; /* sent already */
	uint32_t first;
	omo_err e = controls_take(ctx->txn, T_CONTROLS, p->id, 3, &first);
	if (e == OMO_E_OK)
		e = omo_put_rec(ctx->txn, T_POS, ref, strlen(ref), &omo_rec_fulfillment_requested,
		                r);
	if (e != OMO_E_OK)
		return e;
	flow_controls c = {
	    .isa13 = first, .gs06 = first + 1, .st02 = first + 2, .now_us = ctx->now_us};
	x12_buf out = {0};
	x12_err xe = po ? flow_write_850(p, r, ref, &c, &out) : flow_write_940(p, r, ref, &c, &out);
	snprintf(name, sizeof name, "%s-%s.edi", po ? "850" : "940", ref);
	if (xe != X12_E_OK)
		OMO_WARN("partner_document_unwritable", "partner=%s ref=%s error=%s", p->id, ref,
		         x12_err_name(xe));
	else if (folder_put(app->folders, p->id, "outbox", name, out.data, out.len) != 0)
		e = OMO_E_IO;
	x12_buf_fini(&out);
	return e;
}

static omo_err on_event(omo_ctx *ctx, const omo_msg *ev, omo_error_detail *d)
{
	omo_err e = OMO_E_OK;
	if (ev->type == OMO_MSG_FULFILLMENT_REQUESTED)
		e = on_requested(ctx, &ev->body.fulfillment_requested);
	return e == OMO_E_OK ? e : omo_fail(d, e, "%s not applied", omo_msg_name(ev->type));
}

static const omo_handlers adapter_handlers = {
    .name = "adapters",
    .tables = adapter_tables,
    .n_tables = 3,
    .on_event = on_event,
    .on_tick = on_tick,
};

static const omo_option options[] = {ADAPTER_OPTIONS(OMO_CONFIG_ROW, adapter_config)};
static const char *const follows[] = {"router"};
static const char *const calls[] = {"orders", "inventory"};

const omo_service_def adapter_service = {
    .handlers = &adapter_handlers,
    .follows = follows,
    .n_follows = 1,
    .calls = calls,
    .n_calls = 2,
    .options = options,
    .n_options = sizeof(options) / sizeof(options[0]),
    .config_size = sizeof(adapter_config),
    .app_size = sizeof(adapter_app),
    .app_init = app_init,
    .app_fini = app_fini,
};
