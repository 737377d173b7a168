#include "x12_flows.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x12_util.h"

/* ---- reading: the state of one set ------------------------------------ */

typedef struct rd {
	const partner *p;
	x12_doc *doc;
	const flow_env *env;
	flow_result *r;
	uint32_t set;    /* index in doc->sets */
	uint32_t st, se; /* its first and last segment */
	flow_set *out;
	bool rejected; /* a finding rejected the set */
	bool nomem;
} rd;

static x12_slice el(const rd *c, uint32_t seg, unsigned k)
{
	return x12_elem(c->doc, seg, k);
}

static bool is(const rd *c, uint32_t seg, const char *id)
{
	return strcmp(c->doc->segs[seg].id, id) == 0;
}

/* next returns the first segment id after from in the set, or X12_NONE. */
static uint32_t next(const rd *c, uint32_t from, const char *id)
{
	for (uint32_t i = from + 1; i < c->se; i++)
		if (is(c, i, id))
			return i;
	return X12_NONE;
}

/* reject records why the set cannot be applied (the first reason is its note). */
__attribute__((format(printf, 5, 6))) static void reject(rd *c, uint32_t seg, unsigned elem,
                                                         x12_err code, const char *fmt, ...)
{
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (!x12_report(c->doc, c->set, seg, elem, code, "%s", why))
		c->nomem = true;
	if (!c->rejected)
		snprintf(c->out->note, sizeof c->out->note, "rejected: %s", why);
	c->rejected = true;
}

static void note(rd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(rd *c, const char *fmt, ...)
{
	if (c->rejected)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->out->note, sizeof c->out->note, fmt, ap);
	va_end(ap);
}

static void copy(char *dst, size_t cap, x12_slice s)
{
	x12_slice_copy(dst, cap, s);
}

/* need copies element k of seg into dst, rejecting the set if it is absent or too long. */
static bool need(rd *c, uint32_t seg, unsigned k, char *dst, size_t cap)
{
	x12_slice v = el(c, seg, k);
	if (v.n == 0) {
		reject(c, seg, k, X12_E_ELEM_REQUIRED, "%s%02u is empty", c->doc->segs[seg].id, k);
		return false;
	}
	if (v.n >= cap) {
		reject(c, seg, k, X12_E_ELEM_INVALID, "%s%02u is longer than %zu characters",
		       c->doc->segs[seg].id, k, cap - 1);
		return false;
	}
	copy(dst, cap, v);
	return true;
}

/* count reads a whole number of units from element k, at least min. */
static bool count(rd *c, uint32_t seg, unsigned k, int64_t min, int64_t *out)
{
	x12_slice v = el(c, seg, k);
	int64_t n = 0;
	if (v.n == 0) {
		reject(c, seg, k, X12_E_ELEM_REQUIRED, "%s%02u (quantity) is empty",
		       c->doc->segs[seg].id, k);
		return false;
	}
	if (x12_decimal_parse(v.p, v.n, 0, 0, &n) != X12_E_OK || n < min || n > 100000) {
		char b[24];
		reject(c, seg, k, X12_E_ELEM_INVALID,
		       "%s%02u '%s' is not a whole number of units from %lld to 100000",
		       c->doc->segs[seg].id, k, x12_slice_copy(b, sizeof b, v), (long long)min);
		return false;
	}
	*out = n;
	return true;
}

/* money reads an optional R amount into cents; -1 when absent. */
static bool money(rd *c, uint32_t seg, unsigned k, int64_t *out)
{
	x12_slice v = el(c, seg, k);
	*out = -1;
	if (v.n == 0)
		return true;
	if (x12_decimal_parse(v.p, v.n, 0, 2, out) != X12_E_OK || *out < 0) {
		char b[24];
		reject(c, seg, k, X12_E_ELEM_INVALID, "%s%02u '%s' is not an amount in cents",
		       c->doc->segs[seg].id, k, x12_slice_copy(b, sizeof b, v));
		return false;
	}
	return true;
}

/* ---- items and places ------------------------------------------------- */

/* X12 product ID qualifiers (data element 235) and what they name. */
static const struct {
	char q[3];
	partner_item_kind kind;
} item_quals[] = {
    {"UP", PARTNER_ITEM_GTIN},   {"UK", PARTNER_ITEM_GTIN},   {"EN", PARTNER_ITEM_GTIN},
    {"IB", PARTNER_ITEM_GTIN},   {"IN", PARTNER_ITEM_BUYER},  {"BP", PARTNER_ITEM_BUYER},
    {"CB", PARTNER_ITEM_BUYER},  {"PI", PARTNER_ITEM_BUYER},  {"VN", PARTNER_ITEM_VENDOR},
    {"VP", PARTNER_ITEM_VENDOR}, {"VA", PARTNER_ITEM_VENDOR}, {"UA", PARTNER_ITEM_VENDOR},
    {"MG", PARTNER_ITEM_VENDOR},
};

static const char *sku_by(const partner *p, x12_slice q, x12_slice id)
{
	for (size_t i = 0; i < sizeof item_quals / sizeof item_quals[0]; i++)
		if (x12_slice_eq(q, item_quals[i].q))
			return partner_sku(p, item_quals[i].kind, id.p, id.n);
	return NULL;
}

/*
 * item finds our SKU among the (qualifier, id) pairs of seg from element k
 * on (and, if gtin_at, the bare GTIN at that element); rejects the set,
 * naming every id it tried, if none is in the mapping.
 */
static const char *item(rd *c, uint32_t seg, unsigned k, unsigned gtin_at)
{
	const char *sku = NULL;
	char tried[160] = "";
	size_t n = 0;
	if (gtin_at) {
		x12_slice g = el(c, seg, gtin_at);
		sku = g.n ? partner_sku(c->p, PARTNER_ITEM_GTIN, g.p, g.n) : NULL;
		if (!sku && g.n)
			n += (size_t)snprintf(tried, sizeof tried, "%.*s", (int)g.n, g.p);
	}
	unsigned nelem = c->doc->segs[seg].nelem;
	for (unsigned i = k; !sku && i + 1 <= nelem; i += 2) {
		x12_slice q = el(c, seg, i), id = el(c, seg, i + 1);
		if (q.n == 0 || id.n == 0)
			continue;
		sku = sku_by(c->p, q, id);
		if (!sku && n < sizeof tried)
			n += (size_t)snprintf(tried + n, sizeof tried - n, "%s%.*s %.*s",
			                      n ? ", " : "", (int)q.n, q.p, (int)id.n, id.p);
	}
	if (!sku)
		reject(c, seg, gtin_at ? gtin_at : k + 1, X12_E_ELEM_CODE,
		       "no item id of this line (%s) is in partner %s's mapping",
		       n ? tried : "none given", c->p->id);
	return sku;
}

/* Location qualifiers (data element 66) and what they name. */
static bool loc_kind(x12_slice q, partner_loc_kind *k)
{
	if (x12_slice_eq(q, "UL"))
		*k = PARTNER_LOC_GLN;
	else if (x12_slice_eq(q, "1") || x12_slice_eq(q, "9"))
		*k = PARTNER_LOC_DUNS;
	else if (x12_slice_eq(q, "91") || x12_slice_eq(q, "92"))
		*k = PARTNER_LOC_STORE;
	else
		return false;
	return true;
}

/* place returns the partner's place named by N1 segment seg (N103/N104),
 * NULL with *coded false when the N1 carries no code, NULL and the set
 * rejected when the code is not in the mapping. */
static const partner_location *place(rd *c, uint32_t seg, bool *coded)
{
	x12_slice q = el(c, seg, 3), id = el(c, seg, 4);
	*coded = id.n > 0; /* N103 without N104 (the sample of staedi) names nothing */
	if (!*coded)
		return NULL;
	partner_loc_kind k;
	const partner_location *l =
	    loc_kind(q, &k) ? partner_location_find(c->p, k, id.p, id.n) : NULL;
	if (!l)
		reject(c, seg, 4, X12_E_ELEM_CODE,
		       "location %.*s %.*s (N1%.*s) is not in partner %s's mapping", (int)q.n, q.p,
		       (int)id.n, id.p, (int)el(c, seg, 1).n, el(c, seg, 1).p, c->p->id);
	return l;
}

/* party returns the first N1 of the set whose N101 is code, or X12_NONE. */
static uint32_t party(const rd *c, const char *code)
{
	for (uint32_t i = next(c, c->st, "N1"); i != X12_NONE; i = next(c, i, "N1"))
		if (x12_slice_eq(el(c, i, 1), code))
			return i;
	return X12_NONE;
}

/* ---- messages --------------------------------------------------------- */

static omo_msg *new_msg(rd *c, omo_msg_type type)
{
	flow_result *r = c->r;
	if (r->n_msgs == r->cap_msgs) {
		uint32_t cap = r->cap_msgs ? r->cap_msgs * 2 : 8;
		omo_msg *m = realloc(r->msgs, cap * sizeof *m);
		if (!m) {
			c->nomem = true;
			return NULL;
		}
		r->msgs = m;
		r->cap_msgs = cap;
	}
	omo_msg *m = &r->msgs[r->n_msgs++];
	omo_msg_init(m, type);
	omo_uuid_generate(&m->id);
	m->ts_us = c->env->now_us;
	c->out->n_msgs++;
	return m;
}

static omo_alloc_line *alloc_lines(rd *c, omo_msg *m, uint32_t n)
{
	omo_alloc_line *l = omo_arena_alloc(&m->arena, (n ? n : 1) * sizeof *l);
	if (!l)
		c->nomem = true;
	return l;
}

/* update emits a fulfillment_update for po; lines (n of them) only when partial. */
static void update(rd *c, const flow_po *po, omo_fulfillment_status st, const omo_alloc_line *lines,
                   uint32_t n, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void update(rd *c, const flow_po *po, omo_fulfillment_status st, const omo_alloc_line *lines,
                   uint32_t n, const char *fmt, ...)
{
	omo_msg *m = new_msg(c, OMO_MSG_FULFILLMENT_UPDATE);
	if (!m)
		return;
	omo_fulfillment_update *u = &m->body.fulfillment_update;
	u->fulfillment_id = po->fulfillment_id;
	u->order_id = po->order_id;
	m->corr = po->order_id;
	snprintf(u->node, sizeof u->node, "%s", po->node);
	u->status = st;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->detail, sizeof u->detail, fmt, ap);
	va_end(ap);
	if (n > 0 && (u->lines = alloc_lines(c, m, n)) != NULL) {
		memcpy(u->lines, lines, n * sizeof *lines);
		u->lines_count = n;
	}
}

/* our_po looks up our document number at element k of seg. */
static bool our_po(rd *c, uint32_t seg, unsigned k, flow_po *po)
{
	char ref[FLOW_REF_MAX + 1];
	if (!need(c, seg, k, ref, sizeof ref))
		return false;
	memset(po, 0, sizeof *po);
	if (!c->env->find_po || c->env->find_po(c->env->arg, ref, po) != 0) {
		reject(c, seg, k, X12_E_ELEM_CODE, "%s is not an order we sent partner %s", ref,
		       c->p->id);
		return false;
	}
	return true;
}

/* po_line returns the index of our line numbered line_no (or, if 0, the
 * first with that SKU) in po, or -1. */
static int po_line(const flow_po *po, int64_t line_no, const char *sku)
{
	for (uint32_t i = 0; i < po->n_lines; i++)
		if (line_no ? po->lines[i].line_no == line_no : strcmp(po->lines[i].sku, sku) == 0)
			return (int)i;
	return -1;
}

/* ---- orders in: 850 and 940 ------------------------------------------- */

typedef struct order_in {
	omo_order_line lines[FLOW_MAX_LINES];
	uint32_t n;
	const omo_address *ship_to;
} order_in;

static void add_order_line(rd *c, order_in *o, uint32_t seg, x12_slice line_id, int64_t qty,
                           int64_t price, const char *sku)
{
	if (o->n == FLOW_MAX_LINES) {
		reject(c, seg, 0, X12_E_ELEM_INVALID, "more than %d lines", FLOW_MAX_LINES);
		return;
	}
	uint64_t no = 0;
	omo_order_line *l = &o->lines[o->n];
	l->line_no = x12_uint_parse(line_id.p, line_id.n, 1000, &no) == X12_E_OK && no > 0
	                 ? (int64_t)no
	                 : (int64_t)o->n + 1;
	snprintf(l->sku, sizeof l->sku, "%s", sku);
	l->quantity = qty;
	l->unit_price = price < 0 ? 0 : price;
	o->n++;
}

static void ship_to(rd *c, order_in *o)
{
	uint32_t n1 = party(c, "ST");
	bool coded = false;
	const partner_location *l = n1 != X12_NONE ? place(c, n1, &coded) : NULL;
	if (coded && !l)
		return;
	if (l && !l->has_ship_to) {
		reject(c, n1, 4, X12_E_ELEM_CODE, "location %s is one of our nodes, not a ship-to",
		       l->code);
		return;
	}
	o->ship_to = l ? &l->ship_to : c->p->has_default_ship_to ? &c->p->default_ship_to : NULL;
	if (!o->ship_to)
		reject(c, n1 != X12_NONE ? n1 : c->st, n1 != X12_NONE ? 4 : 0,
		       n1 != X12_NONE ? X12_E_ELEM_REQUIRED : X12_E_SET_SEGMENTS,
		       "no ship-to: no coded N1*ST and partner %s has no default_ship_to",
		       c->p->id);
}

static void submit(rd *c, const order_in *o)
{
	if (o->n == 0 && !c->rejected)
		reject(c, c->st, 0, X12_E_SET_SEGMENTS, "the order has no lines");
	if (c->rejected)
		return;
	omo_msg *m = new_msg(c, OMO_MSG_SUBMIT_ORDER);
	if (!m)
		return;
	omo_submit_order *so = &m->body.submit_order;
	snprintf(so->idempotency_key, sizeof so->idempotency_key, "%s:%s:%s", c->p->id,
	         partner_doc_id(c->out->doc), c->out->ref);
	so->channel = c->p->channel;
	so->fulfillment = OMO_SHIP_TO_HOME;
	snprintf(so->customer_id, sizeof so->customer_id, "%s", c->p->id);
	so->ship_to = *o->ship_to;
	so->lines = omo_arena_alloc(&m->arena, o->n * sizeof *so->lines);
	if (!so->lines) {
		c->nomem = true;
		return;
	}
	memcpy(so->lines, o->lines, o->n * sizeof *so->lines);
	so->lines_count = o->n;
	/* the schema's limits, defined once, decide what omo takes (a price too high, ...) */
	omo_buf b = {0};
	omo_error_detail d;
	omo_err e = omo_msg_encode(m, &b, &d);
	omo_buf_fini(&b);
	if (e != OMO_E_OK) {
		reject(c, c->st, 0, X12_E_SET_SEGMENTS, "%s", d.text);
		return;
	}
	note(c, "order %s: %u lines", c->out->ref, o->n);
}

static void read_850(rd *c)
{
	order_in o = {0};
	uint32_t beg = c->st + 1;
	if (!c->p->has_channel) {
		reject(c, c->st, 0, X12_E_SET_NOT_SUPPORTED, "partner %s places no orders",
		       c->p->id);
		return;
	}
	if (!need(c, beg, 3, c->out->ref, sizeof c->out->ref))
		return;
	ship_to(c, &o);
	for (uint32_t s = next(c, c->st, "PO1"); s != X12_NONE; s = next(c, s, "PO1")) {
		int64_t qty, price;
		const char *sku = item(c, s, 6, 0);
		if (count(c, s, 2, 1, &qty) && money(c, s, 4, &price) && sku)
			add_order_line(c, &o, s, el(c, s, 1), qty, price, sku);
	}
	submit(c, &o);
}

static void read_940(rd *c)
{
	order_in o = {0};
	if (!c->p->has_channel) {
		reject(c, c->st, 0, X12_E_SET_NOT_SUPPORTED, "partner %s places no orders",
		       c->p->id);
		return;
	}
	if (!need(c, c->st + 1, 2, c->out->ref, sizeof c->out->ref))
		return;
	ship_to(c, &o);
	x12_slice line_id = {NULL, 0};
	for (uint32_t s = c->st + 1; s < c->se; s++) {
		if (is(c, s, "LX"))
			line_id = el(c, s, 1);
		if (!is(c, s, "W01"))
			continue;
		int64_t qty;
		const char *sku = item(c, s, 4, 3);
		if (count(c, s, 1, 1, &qty) && sku)
			add_order_line(c, &o, s, line_id, qty, -1, sku);
	}
	submit(c, &o);
}

/* ---- a supplier's answers: 855, 856, 945 --------------------------------- */

/* ACK01 line status codes (data element 668) that decline a line. */
static int ack_code(x12_slice a)
{
	static const char *const accept[] = {"IA", "AC", "IC", "IE", "IF", "IH", "IP",
	                                     "IQ", "IS", "IW", "DR", "IB", NULL};
	static const char *const decline[] = {"IR", "ID", "R1", "R2", "R3", "R4", "R5", NULL};
	for (int i = 0; accept[i]; i++)
		if (x12_slice_eq(a, accept[i]))
			return 1;
	for (int i = 0; decline[i]; i++)
		if (x12_slice_eq(a, decline[i]))
			return 0;
	return -1;
}

static void read_855(rd *c)
{
	flow_po po;
	uint32_t bak = c->st + 1;
	if (!need(c, bak, 3, c->out->ref, sizeof c->out->ref) || !our_po(c, bak, 3, &po))
		return;
	/* lines the 855 does not mention follow BAK02 */
	bool all_declined = x12_slice_eq(el(c, bak, 2), "RJ") || x12_slice_eq(el(c, bak, 2), "RD");
	signed char accepted[FLOW_MAX_LINES];
	memset(accepted, all_declined ? 0 : 1, sizeof accepted);
	uint32_t backordered = 0;
	for (uint32_t s = next(c, c->st, "PO1"); s != X12_NONE; s = next(c, s, "PO1")) {
		uint64_t no = 0;
		x12_slice id = el(c, s, 1);
		const char *sku = item(c, s, 6, 0);
		int i = x12_uint_parse(id.p, id.n, 1000, &no) == X12_E_OK
		            ? po_line(&po, (int64_t)no, "")
		            : -1;
		if (i < 0) {
			reject(c, s, 1, X12_E_ELEM_CODE, "PO %s has no line '%.*s'", c->out->ref,
			       (int)id.n, id.p);
			continue;
		}
		if (sku && strcmp(sku, po.lines[i].sku) != 0)
			reject(c, s, 7, X12_E_ELEM_CODE, "line %llu of PO %s is %s, not %s",
			       (unsigned long long)no, c->out->ref, po.lines[i].sku, sku);
		uint32_t ack = next(c, s, "ACK"), nx = next(c, s, "PO1");
		if (ack == X12_NONE || (nx != X12_NONE && ack > nx))
			continue;
		int a = ack_code(el(c, ack, 1));
		if (a < 0)
			reject(c, ack, 1, X12_E_ELEM_CODE, "'%.*s' is not a line status code",
			       (int)el(c, ack, 1).n, el(c, ack, 1).p);
		accepted[i] = (signed char)a;
		backordered += x12_slice_eq(el(c, ack, 1), "IB");
	}
	if (c->rejected)
		return;
	omo_alloc_line declined[FLOW_MAX_LINES];
	uint32_t n = 0;
	for (uint32_t i = 0; i < po.n_lines; i++)
		if (!accepted[i])
			declined[n++] = po.lines[i];
	if (n < po.n_lines)
		update(c, &po, OMO_FF_ACCEPTED, NULL, 0, "855 %s: %u of %u lines accepted",
		       c->out->ref, po.n_lines - n, po.n_lines);
	if (n > 0)
		update(c, &po, OMO_FF_REJECTED, declined, n == po.n_lines ? 0 : n,
		       "855 %s: %u of %u lines declined", c->out->ref, n, po.n_lines);
	note(c, "PO %s: %u accepted (%u back-ordered), %u declined", c->out->ref, po.n_lines - n,
	     backordered, n);
}

/* shipped sums units per line of po; short lists what is missing. */
typedef struct shipment {
	int64_t units[FLOW_MAX_LINES];
} shipment;

static void ship_units(rd *c, uint32_t seg, const flow_po *po, shipment *sh, const char *sku,
                       int64_t qty)
{
	int i = sku ? po_line(po, 0, sku) : -1;
	if (sku && i < 0)
		reject(c, seg, 0, X12_E_SET_SEGMENTS, "%s is not on PO %s", sku, c->out->ref);
	else if (i >= 0)
		sh->units[i] += qty;
}

/* shipped emits what left (lines only when not everything) and, if short,
 * the units that will not come as declined so they are sourced elsewhere. */
static void shipped(rd *c, const flow_po *po, const shipment *sh, bool short_declines,
                    const char *what)
{
	omo_alloc_line out[FLOW_MAX_LINES], missing[FLOW_MAX_LINES];
	uint32_t n = 0, m = 0;
	for (uint32_t i = 0; i < po->n_lines; i++) {
		if (sh->units[i] > 0) {
			out[n] = po->lines[i];
			out[n++].quantity = sh->units[i];
		}
		if (sh->units[i] < po->lines[i].quantity) {
			missing[m] = po->lines[i];
			missing[m++].quantity = po->lines[i].quantity - sh->units[i];
		}
	}
	if (n == 0) {
		reject(c, c->st, 0, X12_E_SET_SEGMENTS, "nothing shipped on PO %s", c->out->ref);
		return;
	}
	update(c, po, OMO_FF_SHIPPED, out, m ? n : 0, "%s", what);
	if (m && short_declines)
		update(c, po, OMO_FF_REJECTED, missing, m, "short-shipped");
}

/* The update's detail: the shipment and its tracking number. */
static const char *ship_detail(char what[128], const char *ship_id, const char *tracking)
{
	snprintf(what, 128, "856 %s%s%s", ship_id, tracking[0] ? " tracking " : "", tracking);
	return what;
}

static void read_856(rd *c)
{
	char ship_id[FLOW_REF_MAX + 1], tracking[64] = "", what[128];
	uint32_t bsn = c->st + 1, cartons = 0;
	if (!need(c, bsn, 2, ship_id, sizeof ship_id))
		return;
	flow_po po;
	shipment sh = {0};
	bool have_po = false;
	for (uint32_t s = c->st + 1; s < c->se && !c->rejected; s++) {
		/* the carrier's tracking number (CN), else the bill of lading (BM) */
		if (is(c, s, "REF") && (x12_slice_eq(el(c, s, 1), "CN") ||
		                        (!tracking[0] && x12_slice_eq(el(c, s, 1), "BM"))))
			copy(tracking, sizeof tracking, el(c, s, 2));
		if (is(c, s, "PRF")) {
			if (have_po) {
				shipped(c, &po, &sh, false, ship_detail(what, ship_id, tracking));
				memset(&sh, 0, sizeof sh);
			}
			if (!(have_po = our_po(c, s, 1, &po)))
				return;
			copy(c->out->ref, sizeof c->out->ref, el(c, s, 1));
		}
		if (is(c, s, "MAN") && x12_slice_eq(el(c, s, 1), "GM")) {
			x12_slice v = el(c, s, 2);
			if (!x12_sscc_valid(v.p, v.n))
				reject(c, s, 2, X12_E_ELEM_INVALID,
				       "SSCC %.*s has a wrong check digit or length", (int)v.n,
				       v.p);
			cartons++;
		}
		if (is(c, s, "LIN")) {
			uint32_t sn1 = next(c, s, "SN1");
			int64_t qty = 0;
			const char *sku = item(c, s, 2, 0);
			if (sn1 == X12_NONE)
				reject(c, s, 0, X12_E_SET_SEGMENTS, "LIN without SN1");
			else if (count(c, sn1, 2, 1, &qty) && have_po)
				ship_units(c, s, &po, &sh, sku, qty);
			else if (!have_po)
				reject(c, s, 0, X12_E_SET_SEGMENTS, "an item before any PRF order");
		}
	}
	if (!have_po && !c->rejected)
		reject(c, c->st, 0, X12_E_SET_SEGMENTS, "no PRF names one of our orders");
	if (c->rejected)
		return;
	shipped(c, &po, &sh, false, ship_detail(what, ship_id, tracking));
	note(c, "shipment %s of PO %s: %u SSCC cartons", ship_id, c->out->ref, cartons);
}

static void read_945(rd *c)
{
	flow_po po;
	uint32_t w06 = c->st + 1;
	if (!need(c, w06, 2, c->out->ref, sizeof c->out->ref) || !our_po(c, w06, 2, &po))
		return;
	shipment sh = {0};
	for (uint32_t s = next(c, c->st, "W12"); s != X12_NONE; s = next(c, s, "W12")) {
		int64_t qty = 0;
		const char *sku = item(c, s, 7, 6);
		if (count(c, s, 3, 0, &qty))
			ship_units(c, s, &po, &sh, sku, qty);
	}
	if (c->rejected)
		return;
	char what[128];
	snprintf(what, sizeof what, "945 %s bill of lading %.*s", c->out->ref, (int)el(c, w06, 4).n,
	         el(c, w06, 4).p);
	shipped(c, &po, &sh, true, what);
	note(c, "shipping advice for %s", c->out->ref);
}

/* ---- stock: 846 and 180 ----------------------------------------------------- */

/* lin_units reads the item of LIN segment lin and the units (at least min)
 * of the QTY that follows it; NULL if either is wrong (the set is rejected). */
static const char *lin_units(rd *c, uint32_t lin, int64_t min, int64_t *units)
{
	const char *sku = item(c, lin, 2, 0);
	uint32_t qty = next(c, lin, "QTY"), nx = next(c, lin, "LIN");
	if (qty == X12_NONE || (nx != X12_NONE && qty > nx)) {
		reject(c, lin, 0, X12_E_SET_SEGMENTS, "LIN without QTY");
		return NULL;
	}
	return count(c, qty, 2, min, units) && sku && !c->rejected ? sku : NULL;
}

static void read_846(rd *c)
{
	if (!c->p->node[0]) {
		reject(c, c->st, 0, X12_E_SET_NOT_SUPPORTED, "partner %s holds none of our stock",
		       c->p->id);
		return;
	}
	if (!need(c, c->st + 1, 3, c->out->ref, sizeof c->out->ref))
		return;
	uint32_t adjusted = 0, known = 0;
	for (uint32_t s = next(c, c->st, "LIN"); s != X12_NONE; s = next(c, s, "LIN")) {
		int64_t units = 0;
		const char *sku = lin_units(c, s, 0, &units);
		if (!sku)
			continue;
		int64_t have = c->env->on_hand ? c->env->on_hand(c->env->arg, c->p->node, sku) : -1;
		if (have < 0)
			continue;
		known++;
		if (units == have)
			continue;
		omo_msg *m = new_msg(c, OMO_MSG_ADJUST_STOCK);
		if (!m)
			return;
		omo_adjust_stock *a = &m->body.adjust_stock;
		snprintf(a->node, sizeof a->node, "%s", c->p->node);
		snprintf(a->sku, sizeof a->sku, "%s", sku);
		a->delta = units - have;
		snprintf(a->reason, sizeof a->reason, "846 %.30s from %.20s", c->out->ref,
		         c->p->id);
		adjusted++;
	}
	note(c, "stock of %s: %u items known, %u adjusted", c->p->node, known, adjusted);
}

static void read_180(rd *c)
{
	if (!need(c, c->st + 1, 2, c->out->ref, sizeof c->out->ref))
		return;
	uint32_t n1 = party(c, "ST");
	bool coded = false;
	const partner_location *l = n1 != X12_NONE ? place(c, n1, &coded) : NULL;
	if (!l || !l->node[0]) {
		if (!c->rejected)
			reject(c, n1 != X12_NONE ? n1 : c->st, n1 != X12_NONE ? 4 : 0,
			       n1 != X12_NONE ? X12_E_ELEM_CODE : X12_E_SET_SEGMENTS,
			       "the return names none of our nodes to go back to (N1*ST)");
		return;
	}
	uint32_t items = 0;
	for (uint32_t s = next(c, c->st, "LIN"); s != X12_NONE; s = next(c, s, "LIN")) {
		int64_t units = 0;
		const char *sku = lin_units(c, s, 1, &units);
		if (!sku)
			continue;
		omo_msg *m = new_msg(c, OMO_MSG_RECEIVE_STOCK);
		if (!m)
			return;
		omo_receive_stock *rs = &m->body.receive_stock;
		snprintf(rs->node, sizeof rs->node, "%s", l->node);
		snprintf(rs->sku, sizeof rs->sku, "%s", sku);
		rs->quantity = units;
		snprintf(rs->reference, sizeof rs->reference, "return %.30s from %.20s",
		         c->out->ref, c->p->id);
		items++;
	}
	if (items == 0 && !c->rejected)
		reject(c, c->st, 0, X12_E_SET_SEGMENTS, "the return has no items");
	note(c, "return %s: %u items back to %s", c->out->ref, items, l->node);
}

/* ---- nothing to apply: 810 and 997 ------------------------------------------ */

static void read_810(rd *c)
{
	flow_po po;
	uint32_t big = c->st + 1;
	if (!need(c, big, 2, c->out->ref, sizeof c->out->ref) || !our_po(c, big, 4, &po))
		return;
	int64_t invoiced[FLOW_MAX_LINES] = {0}, total = 0;
	for (uint32_t s = next(c, c->st, "IT1"); s != X12_NONE; s = next(c, s, "IT1")) {
		int64_t qty = 0, price = 0;
		const char *sku = item(c, s, 6, 0);
		if (!count(c, s, 2, 1, &qty) || !money(c, s, 4, &price) || !sku)
			continue;
		int i = po_line(&po, 0, sku);
		if (i < 0) {
			reject(c, s, 7, X12_E_ELEM_CODE, "%s is not on PO %.*s", sku,
			       (int)el(c, big, 4).n, el(c, big, 4).p);
			continue;
		}
		invoiced[i] += qty;
		total += qty * (price < 0 ? 0 : price);
	}
	uint32_t tds = next(c, c->st, "TDS");
	int64_t tds01 = -1;
	x12_slice t = tds != X12_NONE ? el(c, tds, 1) : (x12_slice){NULL, 0};
	if (tds == X12_NONE || x12_decimal_parse(t.p, t.n, 2, 2, &tds01) != X12_E_OK)
		reject(c, tds != X12_NONE ? tds : c->st, tds != X12_NONE ? 1 : 0,
		       tds != X12_NONE ? X12_E_ELEM_INVALID : X12_E_SET_SEGMENTS,
		       "TDS01 (total amount) is missing or not an amount");
	if (c->rejected)
		return;
	/* the invoice is well-formed; whether it matches is the business's question */
	char diff[160] = "";
	size_t n = 0;
	for (uint32_t i = 0; i < po.n_lines && n < sizeof diff; i++)
		if (invoiced[i] != po.shipped[i])
			n += (size_t)snprintf(diff + n, sizeof diff - n,
			                      "%sline %lld invoiced %lld, shipped %lld",
			                      n ? "; " : "", (long long)po.lines[i].line_no,
			                      (long long)invoiced[i], (long long)po.shipped[i]);
	if (total != tds01 && n < sizeof diff)
		n += (size_t)snprintf(diff + n, sizeof diff - n,
		                      "%slines sum to %lld cents, TDS01 says %lld", n ? "; " : "",
		                      (long long)total, (long long)tds01);
	c->out->held = n > 0;
	note(c, "invoice %s for PO %.*s: %s%s, %lld cents", c->out->ref, (int)el(c, big, 4).n,
	     el(c, big, 4).p, n ? "held: " : "matches what shipped", diff, (long long)tds01);
}

static void read_997(rd *c)
{
	uint32_t ak1 = c->st + 1, rejected = 0, sets = 0;
	char first[64] = "";
	for (uint32_t s = next(c, c->st, "AK5"); s != X12_NONE; s = next(c, s, "AK5")) {
		sets++;
		if (x12_slice_eq(el(c, s, 1), "R")) {
			if (!rejected) {
				uint32_t ak2 = s;
				while (ak2 > c->st && !is(c, ak2, "AK2"))
					ak2--;
				snprintf(first, sizeof first, " (first: %.*s %.*s, AK502 %.*s)",
				         (int)el(c, ak2, 1).n, el(c, ak2, 1).p,
				         (int)el(c, ak2, 2).n, el(c, ak2, 2).p, (int)el(c, s, 2).n,
				         el(c, s, 2).p);
			}
			rejected++;
		}
	}
	copy(c->out->ref, sizeof c->out->ref, el(c, ak1, 2));
	uint32_t ak9 = next(c, c->st, "AK9");
	note(c, "acknowledges our %.*s group %s: %.*s, %u of %u sets rejected%s",
	     (int)el(c, ak1, 1).n, el(c, ak1, 1).p, c->out->ref,
	     ak9 != X12_NONE ? (int)el(c, ak9, 1).n : 1, ak9 != X12_NONE ? el(c, ak9, 1).p : "?",
	     rejected, sets, first);
}

/* ---- reading: the whole interchange --------------------------------------- */

static bool same_id(x12_slice qual, x12_slice id, const char *q, const char *want)
{
	while (id.n > 0 && id.p[id.n - 1] == ' ')
		id.n--; /* ISA06/08 are padded to 15 */
	return x12_slice_eq(qual, q) && x12_slice_eq(id, want);
}

static void check_interchanges(const partner *p, x12_doc *doc)
{
	for (uint32_t i = 0; i < doc->nics; i++) {
		const x12_interchange *ic = &doc->ics[i];
		if (ic->err != X12_E_OK)
			continue;
		uint32_t isa = ic->isa;
		if (!same_id(x12_elem(doc, isa, 5), x12_elem(doc, isa, 6), p->isa_qual, p->isa_id))
			x12_report(doc, X12_NONE, isa, 6, X12_E_PARTNER_SENDER,
			           "partner %s is %s:%s", p->id, p->isa_qual, p->isa_id);
		else if (!same_id(x12_elem(doc, isa, 7), x12_elem(doc, isa, 8), p->our_qual,
		                  p->our_id))
			x12_report(doc, X12_NONE, isa, 8, X12_E_PARTNER_RECEIVER,
			           "partner %s addresses us as %s:%s", p->id, p->our_qual,
			           p->our_id);
	}
}

/* first_defect names what rejected set i: its own first error, or its group's
 * or interchange's. */
static const char *first_defect(const x12_doc *doc, uint32_t i)
{
	const x12_set *s = &doc->sets[i];
	uint32_t ic = doc->groups[s->group].ic;
	for (uint32_t k = 0; k < doc->ndiags; k++) {
		const x12_diag *g = &doc->diags[k];
		if (g->set == i || (g->set == X12_NONE && g->group == s->group) ||
		    (g->group == X12_NONE && g->ic == ic &&
		     x12_err_level(g->code) == X12_LEVEL_INTERCHANGE))
			return g->text;
	}
	return "the envelope or syntax checks";
}

static flow_set *new_set(flow_result *r)
{
	if (r->n_sets == r->cap_sets) {
		uint32_t cap = r->cap_sets ? r->cap_sets * 2 : 8;
		flow_set *s = realloc(r->sets, cap * sizeof *s);
		if (!s)
			return NULL;
		r->sets = s;
		r->cap_sets = cap;
	}
	flow_set *s = &r->sets[r->n_sets++];
	memset(s, 0, sizeof *s);
	return s;
}

static void drop_msgs(flow_result *r, uint32_t from)
{
	while (r->n_msgs > from)
		omo_msg_fini(&r->msgs[--r->n_msgs]);
}

typedef void (*reader_fn)(rd *c);

static reader_fn reader_of(partner_doc d)
{
	switch (d) {
	case PARTNER_DOC_180: return read_180;
	case PARTNER_DOC_810: return read_810;
	case PARTNER_DOC_846: return read_846;
	case PARTNER_DOC_850: return read_850;
	case PARTNER_DOC_855: return read_855;
	case PARTNER_DOC_856: return read_856;
	case PARTNER_DOC_940: return read_940;
	case PARTNER_DOC_945: return read_945;
	case PARTNER_DOC_997: return read_997;
	case PARTNER_DOC_COUNT: break;
	}
	return NULL;
}

int flow_read(const partner *p, x12_doc *doc, const flow_env *env, flow_result *r)
{
	check_interchanges(p, doc);
	for (uint32_t i = 0; i < doc->nsets; i++) {
		flow_set *fs = new_set(r);
		if (!fs)
			return -1;
		const x12_set *s = &doc->sets[i];
		fs->set = i;
		fs->doc = partner_doc_parse(s->id, strlen(s->id));
		fs->first_msg = r->n_msgs;
		rd c = {.p = p,
		        .doc = doc,
		        .env = env,
		        .r = r,
		        .set = i,
		        .st = s->st,
		        .se = s->se,
		        .out = fs};
		if (!x12_set_accepted(doc, i)) {
			snprintf(fs->note, sizeof fs->note, "rejected: %s", first_defect(doc, i));
			continue;
		}
		if (!partner_handles(p, fs->doc, true)) {
			reject(&c, s->st, 0, X12_E_SET_NOT_SUPPORTED,
			       "partner %s is not set up to send %s", p->id, s->id);
			continue;
		}
		reader_of(fs->doc)(&c);
		if (c.nomem)
			return -1;
		if (c.rejected)
			drop_msgs(r, fs->first_msg);
		fs->n_msgs = r->n_msgs - fs->first_msg;
		fs->accepted = !c.rejected;
	}
	return 0;
}

void flow_result_fini(flow_result *r)
{
	drop_msgs(r, 0);
	free(r->msgs);
	free(r->sets);
	memset(r, 0, sizeof *r);
}

/* ---- writing ------------------------------------------------------------- */

/* A value of ours made safe for X12: delimiters and control bytes become spaces. */
static const char *clean(char *dst, size_t cap, const char *s)
{
	size_t n = 0;
	for (; *s && n + 1 < cap; s++)
		dst[n++] = strchr("*>^~", *s) || (unsigned char)*s < 0x20 ? ' ' : *s;
	dst[n] = 0;
	return n ? dst : NULL;
}

static void begin(x12_writer *w, const partner *p, const flow_controls *c, const char *func,
                  const char *set, x12_buf *out)
{
	x12_writer_init(w, out,
	                &(x12_envelope){.sender_qual = p->our_qual,
	                                .sender_id = p->our_id,
	                                .receiver_qual = p->isa_qual,
	                                .receiver_id = p->isa_id,
	                                .control = c->isa13,
	                                .version = p->version,
	                                .now_us = c->now_us,
	                                .newline = true});
	x12_w_group_begin(w, func, p->our_id, p->isa_id, c->gs06, NULL);
	x12_w_set_begin(w, set, c->st02, NULL);
}

static x12_err finish(x12_writer *w)
{
	x12_w_set_end(w);
	x12_w_group_end(w);
	return x12_writer_finish(w);
}

static const char *date8(char out[9], int64_t us)
{
	int y, mo, d, h, mi;
	x12_utc_parts(us, &y, &mo, &d, &h, &mi);
	snprintf(out, 9, "%04u%02u%02u", (unsigned)y % 10000u, (unsigned)mo % 100u,
	         (unsigned)d % 100u);
	return out;
}

static void ship_to_party(x12_writer *w, const omo_address *a)
{
	char b[3][128];
	x12_w_segl(w, "N1", "ST", clean(b[0], sizeof b[0], a->name[0] ? a->name : "CONSUMER"));
	if (a->line1[0])
		x12_w_segl(w, "N3", clean(b[0], sizeof b[0], a->line1));
	if (a->city[0] || a->postal_code[0])
		x12_w_segl(w, "N4", clean(b[0], sizeof b[0], a->city), NULL,
		           clean(b[1], sizeof b[1], a->postal_code),
		           clean(b[2], sizeof b[2], a->country));
}

/* item_ids writes the partner's GTIN (UP, EN or UK by its length) and
 * vendor number for sku; false (and W_VALUE) if the mapping has neither. */
static bool item_ids(x12_writer *w, const partner *p, const char *sku)
{
	const char *g = partner_item_code(p, PARTNER_ITEM_GTIN, sku);
	const char *v = partner_item_code(p, PARTNER_ITEM_VENDOR, sku);
	if (g) {
		bool upc = strncmp(g, "00", 2) == 0, ean = !upc && g[0] == '0';
		x12_w_elem(w, upc ? "UP" : ean ? "EN" : "UK");
		x12_w_elem(w, g + (upc ? 2 : ean ? 1 : 0));
	}
	if (v) {
		x12_w_elem(w, "VN");
		x12_w_elem(w, v);
	}
	if (!g && !v && w->err == X12_E_OK)
		w->err = X12_E_W_VALUE;
	return g || v;
}

x12_err flow_write_850(const partner *p, const omo_fulfillment_requested *fr, const char *po,
                       const flow_controls *c, x12_buf *out)
{
	x12_writer w;
	char d[9];
	int64_t units = 0;
	begin(&w, p, c, "PO", "850", out);
	x12_w_segl(&w, "BEG", "00", "DS", po, NULL, date8(d, c->now_us));
	ship_to_party(&w, &fr->ship_to);
	for (uint32_t i = 0; i < fr->lines_count; i++) {
		const omo_alloc_line *l = &fr->lines[i];
		x12_w_seg(&w, "PO1");
		x12_w_elem_uint(&w, (uint64_t)l->line_no);
		x12_w_elem_uint(&w, (uint64_t)l->quantity);
		x12_w_elem(&w, "EA");
		x12_w_elem(&w, NULL);
		x12_w_elem(&w, NULL);
		item_ids(&w, p, l->sku);
		x12_w_seg_end(&w);
		units += l->quantity;
	}
	char n[2][24];
	snprintf(n[0], sizeof n[0], "%u", fr->lines_count);
	snprintf(n[1], sizeof n[1], "%lld", (long long)units);
	x12_w_segl(&w, "CTT", n[0], n[1]);
	return finish(&w);
}

x12_err flow_write_940(const partner *p, const omo_fulfillment_requested *fr, const char *po,
                       const flow_controls *c, x12_buf *out)
{
	x12_writer w;
	char d[9], n[24];
	int64_t units = 0;
	begin(&w, p, c, "OW", "940", out);
	x12_w_segl(&w, "W05", "N", po, po);
	ship_to_party(&w, &fr->ship_to);
	x12_w_segl(&w, "G62", "10", date8(d, c->now_us));
	for (uint32_t i = 0; i < fr->lines_count; i++) {
		const omo_alloc_line *l = &fr->lines[i];
		snprintf(n, sizeof n, "%lld", (long long)l->line_no);
		x12_w_segl(&w, "LX", n);
		const char *g = partner_item_code(p, PARTNER_ITEM_GTIN, l->sku);
		x12_w_seg(&w, "W01");
		x12_w_elem_uint(&w, (uint64_t)l->quantity);
		x12_w_elem(&w, "EA");
		x12_w_elem(&w, g && strncmp(g, "00", 2) == 0 ? g + 2 : NULL);
		const char *v = partner_item_code(p, PARTNER_ITEM_VENDOR, l->sku);
		if (v) {
			x12_w_elem(&w, "VN");
			x12_w_elem(&w, v);
		} else if (!g || strncmp(g, "00", 2) != 0) {
			item_ids(&w, p, l->sku);
		}
		x12_w_seg_end(&w);
		units += l->quantity;
	}
	snprintf(n, sizeof n, "%lld", (long long)units);
	x12_w_segl(&w, "W76", n);
	return finish(&w);
}

x12_err flow_write_855(const partner *p, const char *their_po, const omo_submit_order *order,
                       bool accepted, const char *reason, const flow_controls *c, x12_buf *out)
{
	x12_writer w;
	char d[9], b[128];
	begin(&w, p, c, "PR", "855", out);
	x12_w_segl(&w, "BAK", "00", accepted ? "AD" : "RD", their_po, date8(d, c->now_us));
	if (!accepted && reason && reason[0])
		x12_w_segl(&w, "REF", "ZZ", clean(b, 80, reason));
	for (uint32_t i = 0; i < order->lines_count; i++) {
		const omo_order_line *l = &order->lines[i];
		const char *buyer = partner_item_code(p, PARTNER_ITEM_BUYER, l->sku);
		x12_w_seg(&w, "PO1");
		x12_w_elem_uint(&w, (uint64_t)l->line_no);
		x12_w_elem_uint(&w, (uint64_t)l->quantity);
		x12_w_elem(&w, "EA");
		if (l->unit_price > 0)
			x12_w_elem_dec(&w, l->unit_price, 2);
		else
			x12_w_elem(&w, NULL);
		x12_w_elem(&w, NULL);
		if (buyer) {
			x12_w_elem(&w, "IN");
			x12_w_elem(&w, buyer);
		} else {
			item_ids(&w, p, l->sku);
		}
		x12_w_seg_end(&w);
		x12_w_seg(&w, "ACK");
		x12_w_elem(&w, accepted ? "IA" : "IR");
		x12_w_elem_uint(&w, accepted ? (uint64_t)l->quantity : 0);
		x12_w_elem(&w, "EA");
		x12_w_seg_end(&w);
	}
	snprintf(b, sizeof b, "%u", order->lines_count);
	x12_w_segl(&w, "CTT", b);
	return finish(&w);
}

x12_err flow_write_856(const partner *p, const char *their_po, const char *shipment_id,
                       const omo_alloc_line *lines, uint32_t n, const char *tracking,
                       const flow_controls *c, x12_buf *out)
{
	x12_writer w;
	char d[9], hl[3][16], b[64];
	int y, mo, day, h, mi;
	x12_utc_parts(c->now_us, &y, &mo, &day, &h, &mi);
	snprintf(b, sizeof b, "%02d%02d", h, mi);
	begin(&w, p, c, "SH", "856", out);
	x12_w_segl(&w, "BSN", "00", shipment_id, date8(d, c->now_us), b);
	x12_w_segl(&w, "HL", "1", NULL, "S");
	if (tracking && tracking[0])
		x12_w_segl(&w, "REF", "CN", clean(b, sizeof b, tracking));
	x12_w_segl(&w, "HL", "2", "1", "O");
	x12_w_segl(&w, "PRF", their_po);
	for (uint32_t i = 0; i < n; i++) {
		const char *buyer = partner_item_code(p, PARTNER_ITEM_BUYER, lines[i].sku);
		snprintf(hl[0], sizeof hl[0], "%u", i + 3);
		x12_w_segl(&w, "HL", hl[0], "2", "I");
		snprintf(hl[1], sizeof hl[1], "%lld", (long long)lines[i].line_no);
		x12_w_seg(&w, "LIN");
		x12_w_elem(&w, hl[1]);
		if (buyer) {
			x12_w_elem(&w, "IN");
			x12_w_elem(&w, buyer);
		} else {
			item_ids(&w, p, lines[i].sku);
		}
		x12_w_seg_end(&w);
		snprintf(hl[2], sizeof hl[2], "%lld", (long long)lines[i].quantity);
		x12_w_segl(&w, "SN1", hl[1], hl[2], "EA");
	}
	snprintf(b, sizeof b, "%u", n + 2);
	x12_w_segl(&w, "CTT", b);
	return finish(&w);
}
