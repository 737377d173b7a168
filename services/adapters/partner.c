#include "partner.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x12_util.h"
#include "yamldoc.h"

/* ---- documents ------------------------------------------------------- */

#define X_DOC_ID(num, doc) #num,
static const char *const doc_ids[] = {PARTNER_DOC_LIST(X_DOC_ID)};
#undef X_DOC_ID

partner_doc partner_doc_parse(const char *st01, size_t len)
{
	for (int d = 0; d < PARTNER_DOC_COUNT; d++)
		if (len == 3 && memcmp(st01, doc_ids[d], 3) == 0)
			return (partner_doc)d;
	return PARTNER_DOC_COUNT;
}

const char *partner_doc_id(partner_doc d)
{
	return d < PARTNER_DOC_COUNT ? doc_ids[d] : "?";
}

bool partner_handles(const partner *p, partner_doc d, bool in)
{
	return d < PARTNER_DOC_COUNT && ((in ? p->docs_in : p->docs_out) >> d & 1u);
}

/* ---- loading --------------------------------------------------------- */

typedef struct loader {
	const char *path;
	const omo_catalog *cat;
	char *err;
	size_t errlen;
	uint32_t cap_items, cap_locations;
} loader;

__attribute__((format(printf, 3, 4))) static int fail(loader *l, const char *where, const char *fmt,
                                                      ...)
{
	int n = snprintf(l->err, l->errlen, "%s: %s: ", l->path, where);
	if (n >= 0 && (size_t)n < l->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A code is a string (leading zeros matter) of 1 to cap - 1 bytes. */
static int get_code(loader *l, json_t *v, const char *where, char *out, size_t cap)
{
	if (!json_is_string(v))
		return fail(l, where, "must be a quoted string (leading zeros matter)");
	size_t n = json_string_length(v);
	if (n == 0 || n >= cap)
		return fail(l, where, "must be 1 to %zu characters", cap - 1);
	memcpy(out, json_string_value(v), n + 1);
	return 0;
}

static int get_text(loader *l, json_t *v, const char *where, char *out, size_t cap)
{
	if (v == NULL) {
		out[0] = 0;
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) >= cap)
		return fail(l, where, "must be a string of at most %zu characters", cap - 1);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int check_keys(loader *l, json_t *obj, const char *where, const char *const *keys)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v)
	{
		const char *const *q = keys;
		while (*q && strcmp(*q, k) != 0)
			q++;
		if (*q == NULL)
			return fail(l, where, "unknown key '%s'", k);
	}
	return 0;
}

static int get_node(loader *l, json_t *v, const char *where, char *out)
{
	if (get_code(l, v, where, out, RT_ID_MAX + 1))
		return -1;
	if (l->cat && !omo_catalog_node(l->cat, out))
		return fail(l, where, "node %s is not in the network", out);
	return 0;
}

/* "ZZ:ACME" -> qualifier ZZ, id ACME (X12 ISA05/06 or ISA07/08). */
static int get_isa_id(loader *l, json_t *v, const char *where, char qual[3], char id[16])
{
	const char *s = json_string_value(v);
	const char *colon = s ? strchr(s, ':') : NULL;
	if (!colon || colon - s != 2 || strlen(colon + 1) < 1 || strlen(colon + 1) > 15)
		return fail(l, where,
		            "must be \"QQ:ID\": a 2-character qualifier and 1 to 15 "
		            "characters of ID");
	memcpy(qual, s, 2);
	qual[2] = 0;
	snprintf(id, 16, "%s", colon + 1);
	return 0;
}

static int get_docs(loader *l, json_t *arr, const char *where, uint32_t *bits)
{
	size_t i;
	json_t *v;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return fail(l, where, "must be a list of transaction set numbers");
	json_array_foreach(arr, i, v)
	{
		char buf[8];
		if (json_is_integer(v))
			snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
		else
			snprintf(buf, sizeof buf, "%s",
			         json_is_string(v) ? json_string_value(v) : "");
		partner_doc d = partner_doc_parse(buf, strlen(buf));
		if (d == PARTNER_DOC_COUNT)
			return fail(l, where, "'%s' is not a document omo exchanges", buf);
		*bits |= 1u << d;
	}
	return 0;
}

static int get_udeg(loader *l, json_t *v, const char *where, int64_t limit, int64_t *out)
{
	if (!json_is_number(v))
		return fail(l, where, "must be a number of degrees");
	double x = json_number_value(v);
	if (!(x >= (double)-limit && x <= (double)limit))
		return fail(l, where, "must be within +/-%lld degrees", (long long)limit);
	*out = (int64_t)llround(x * 1e6);
	return 0;
}

static int get_address(loader *l, json_t *v, const char *where, omo_address *a)
{
	static const char *const keys[] = {"name",    "line1", "city", "postal_code",
	                                   "country", "lat",   "lon",  NULL};
	if (!json_is_object(v))
		return fail(l, where, "must be a map with lat and lon");
	memset(a, 0, sizeof *a);
	if (check_keys(l, v, where, keys) ||
	    get_text(l, json_object_get(v, "name"), where, a->name, sizeof a->name) ||
	    get_text(l, json_object_get(v, "line1"), where, a->line1, sizeof a->line1) ||
	    get_text(l, json_object_get(v, "city"), where, a->city, sizeof a->city) ||
	    get_text(l, json_object_get(v, "postal_code"), where, a->postal_code,
	             sizeof a->postal_code) ||
	    get_text(l, json_object_get(v, "country"), where, a->country, sizeof a->country) ||
	    get_udeg(l, json_object_get(v, "lat"), where, 90, &a->lat_udeg) ||
	    get_udeg(l, json_object_get(v, "lon"), where, 180, &a->lon_udeg))
		return -1;
	return 0;
}

/* GTINs are kept as 14 digits so that a UPC-A and its GTIN-14 match. */
static bool gtin14(const char *s, size_t n, char out[15])
{
	if (!x12_gtin_valid(s, n))
		return false;
	memset(out, '0', 14 - n);
	memcpy(out + 14 - n, s, n);
	out[14] = 0;
	return true;
}

static void *grow(void *arr, uint32_t n, uint32_t *cap, size_t size)
{
	if (n < *cap)
		return arr;
	uint32_t c = *cap ? *cap * 2 : 16;
	void *p = realloc(arr, (size_t)c * size);
	if (p)
		*cap = c;
	return p;
}

static const char *const item_keys[] = {"gtin", "buyer", "vendor", "listing"};
#define N_ITEM_KEYS 4

static int add_item(loader *l, partner *p, partner_item_kind kind, const char *code,
                    const char *sku, const char *where)
{
	partner_item *a = grow(p->items, p->n_items, &l->cap_items, sizeof *a);
	if (a == NULL)
		return fail(l, where, "out of memory");
	p->items = a;
	partner_item *it = &p->items[p->n_items++];
	it->kind = kind;
	snprintf(it->code, sizeof it->code, "%s", code);
	snprintf(it->sku, sizeof it->sku, "%s", sku);
	return 0;
}

static int load_item(loader *l, partner *p, json_t *v, size_t i)
{
	static const char *const keys[] = {"sku", "gtin", "buyer", "vendor", "listing", NULL};
	char where[48], sku[65], code[49];
	snprintf(where, sizeof where, "items[%zu]", i);
	if (!json_is_object(v))
		return fail(l, where, "must be a map with sku and gtin, buyer or vendor");
	if (check_keys(l, v, where, keys) ||
	    get_code(l, json_object_get(v, "sku"), where, sku, sizeof sku))
		return -1;
	if (l->cat && !omo_catalog_sku(l->cat, sku))
		return fail(l, where, "SKU %s is not in the catalog", sku);
	int ids = 0;
	for (int k = 0; k < N_ITEM_KEYS; k++) {
		json_t *c = json_object_get(v, item_keys[k]);
		if (c == NULL)
			continue;
		if (get_code(l, c, where, code, sizeof code))
			return -1;
		if (k == PARTNER_ITEM_GTIN) {
			char g[15];
			if (!gtin14(code, strlen(code), g))
				return fail(
				    l, where,
				    "gtin %s is not a GTIN-8, -12, -13 or -14 with a correct "
				    "check digit",
				    code);
			snprintf(code, sizeof code, "%s", g);
		}
		if (add_item(l, p, (partner_item_kind)k, code, sku, where))
			return -1;
		ids++;
	}
	return ids ? 0 : fail(l, where, "needs at least one of gtin, buyer, vendor, listing");
}

static const char *const loc_keys[] = {"gln", "duns", "store"};

static int load_location(loader *l, partner *p, json_t *v, size_t i)
{
	static const char *const keys[] = {"gln", "duns", "store", "node", "ship_to", NULL};
	char where[48];
	snprintf(where, sizeof where, "locations[%zu]", i);
	if (!json_is_object(v) || check_keys(l, v, where, keys))
		return json_is_object(v) ? -1 : fail(l, where, "must be a map");
	partner_location loc = {0};
	int found = 0;
	for (int k = 0; k < 3; k++) {
		json_t *c = json_object_get(v, loc_keys[k]);
		if (c == NULL)
			continue;
		found++;
		loc.kind = (partner_loc_kind)k;
		if (get_code(l, c, where, loc.code, sizeof loc.code))
			return -1;
	}
	if (found != 1)
		return fail(l, where, "needs exactly one of gln, duns, store");
	size_t n = strlen(loc.code);
	if (loc.kind == PARTNER_LOC_GLN && !x12_gln_valid(loc.code, n))
		return fail(l, where, "gln %s is not 13 digits with a correct check digit",
		            loc.code);
	if (loc.kind == PARTNER_LOC_DUNS &&
	    ((n != 9 && n != 13) || strspn(loc.code, "0123456789") != n))
		return fail(l, where, "duns %s is not 9 digits (or 13 with its suffix)", loc.code);
	json_t *node = json_object_get(v, "node"), *ship = json_object_get(v, "ship_to");
	if ((node == NULL) == (ship == NULL))
		return fail(l, where, "needs exactly one of node, ship_to");
	if (node && get_node(l, node, where, loc.node))
		return -1;
	if (ship && get_address(l, ship, where, &loc.ship_to))
		return -1;
	loc.has_ship_to = ship != NULL;
	partner_location *a = grow(p->locations, p->n_locations, &l->cap_locations, sizeof *a);
	if (a == NULL)
		return fail(l, where, "out of memory");
	p->locations = a;
	p->locations[p->n_locations++] = loc;
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	const partner_item *x = a, *y = b;
	return x->kind != y->kind ? (int)x->kind - (int)y->kind : strcmp(x->code, y->code);
}

static int cmp_location(const void *a, const void *b)
{
	const partner_location *x = a, *y = b;
	return x->kind != y->kind ? (int)x->kind - (int)y->kind : strcmp(x->code, y->code);
}

static int load_x12(loader *l, partner *p, json_t *x)
{
	static const char *const keys[] = {"id", "our_id", "version", NULL};
	if (x == NULL)
		return 0;
	if (!json_is_object(x) || check_keys(l, x, "x12", keys) ||
	    get_isa_id(l, json_object_get(x, "id"), "x12.id", p->isa_qual, p->isa_id) ||
	    get_isa_id(l, json_object_get(x, "our_id"), "x12.our_id", p->our_qual, p->our_id))
		return json_is_object(x) ? -1 : fail(l, "x12", "must be a map");
	json_t *v = json_object_get(x, "version");
	long long ver = json_is_integer(v)  ? json_integer_value(v)
	                : json_is_string(v) ? strtoll(json_string_value(v), NULL, 10)
	                                    : 401;
	if (ver != 401 && ver != 501)
		return fail(l, "x12.version", "must be 00401 or 00501");
	p->version = (unsigned)ver;
	return 0;
}

/* tls: {listen: URL, ca: FILE}; a relative ca is beside the mapping file. */
static int load_tls(loader *l, partner *p, json_t *t)
{
	static const char *const keys[] = {"listen", "ca", NULL};
	char ca[512];
	if (t == NULL)
		return 0;
	if (!json_is_object(t) || check_keys(l, t, "tls", keys) ||
	    get_code(l, json_object_get(t, "listen"), "tls.listen", p->tls_listen,
	             sizeof p->tls_listen) ||
	    get_code(l, json_object_get(t, "ca"), "tls.ca", ca, sizeof ca))
		return json_is_object(t) ? -1 : fail(l, "tls", "must be a map with listen and ca");
	if (strncmp(p->tls_listen, "tls+tcp://", 10) != 0)
		return fail(l, "tls.listen", "must be a tls+tcp:// address");
	const char *slash = strrchr(l->path, '/');
	if (ca[0] == '/' || !slash)
		snprintf(p->tls_ca, sizeof p->tls_ca, "%s", ca);
	else
		snprintf(p->tls_ca, sizeof p->tls_ca, "%.*s/%s", (int)(slash - l->path), l->path,
		         ca);
	return 0;
}

static int load_tree(loader *l, partner *p, json_t *root)
{
	static const char *const keys[] = {
	    "partner",         "name", "node", "channel", "x12", "documents", "items", "locations",
	    "default_ship_to", "json", "tls",  NULL};
	static const char *const doc_keys[] = {"in", "out", NULL};
	if (!json_is_object(root))
		return fail(l, "top", "must be a map");
	if (check_keys(l, root, "top", keys) ||
	    get_code(l, json_object_get(root, "partner"), "partner", p->id, sizeof p->id) ||
	    get_text(l, json_object_get(root, "name"), "name", p->name, sizeof p->name))
		return -1;
	const char *base = strrchr(l->path, '/');
	base = base ? base + 1 : l->path;
	if (strncmp(base, p->id, strlen(p->id)) != 0 || strcmp(base + strlen(p->id), ".yaml") != 0)
		return fail(l, "partner", "'%s' must be the file's name (%s.yaml)", p->id, p->id);
	json_t *node = json_object_get(root, "node"), *ch = json_object_get(root, "channel");
	if (node && get_node(l, node, "node", p->node))
		return -1;
	if (ch) {
		int c = json_is_string(ch)
		            ? omo_enum_parse(&omo_enum_channel, json_string_value(ch),
		                             json_string_length(ch))
		            : -1;
		if (c < 0)
			return fail(l, "channel",
			            "must be a sales channel (b2b, marketplace, ...)");
		p->has_channel = true;
		p->channel = (omo_channel)c;
	}
	json_t *js = json_object_get(root, "json");
	if (js) {
		static const char *const shapes[] = {"shopify", "amazon", "commercetools", NULL};
		for (int i = 0; shapes[i] && !p->json; i++)
			if (json_is_string(js) && strcmp(json_string_value(js), shapes[i]) == 0)
				p->json = (partner_json)(i + 1);
		if (!p->json)
			return fail(l, "json", "must be shopify, amazon or commercetools");
		if (!p->has_channel)
			return fail(l, "json", "a JSON channel needs its sales channel (channel:)");
	}
	json_t *docs = json_object_get(root, "documents");
	if (docs && (!json_is_object(docs) || check_keys(l, docs, "documents", doc_keys)))
		return json_is_object(docs) ? -1 : fail(l, "documents", "must be a map");
	if (load_x12(l, p, json_object_get(root, "x12")) ||
	    get_docs(l, json_object_get(docs, "in"), "documents.in", &p->docs_in) ||
	    get_docs(l, json_object_get(docs, "out"), "documents.out", &p->docs_out))
		return -1;
	if ((p->docs_in | p->docs_out) && !p->isa_id[0])
		return fail(l, "x12", "a partner exchanging X12 documents needs x12.id and our_id");
	json_t *ship = json_object_get(root, "default_ship_to");
	if (ship && get_address(l, ship, "default_ship_to", &p->default_ship_to))
		return -1;
	p->has_default_ship_to = ship != NULL;
	if (load_tls(l, p, json_object_get(root, "tls")))
		return -1;

	json_t *arr = json_object_get(root, "items"), *v;
	size_t i;
	if (arr && !json_is_array(arr))
		return fail(l, "items", "must be a list");
	json_array_foreach(arr, i, v) if (load_item(l, p, v, i)) return -1;
	arr = json_object_get(root, "locations");
	if (arr && !json_is_array(arr))
		return fail(l, "locations", "must be a list");
	json_array_foreach(arr, i, v) if (load_location(l, p, v, i)) return -1;

	if (p->n_items)
		qsort(p->items, p->n_items, sizeof *p->items, cmp_item);
	for (uint32_t k = 1; k < p->n_items; k++)
		if (cmp_item(&p->items[k - 1], &p->items[k]) == 0)
			return fail(l, "items", "%s %s names two SKUs", item_keys[p->items[k].kind],
			            p->items[k].code);
	if (p->n_locations)
		qsort(p->locations, p->n_locations, sizeof *p->locations, cmp_location);
	for (uint32_t k = 1; k < p->n_locations; k++)
		if (cmp_location(&p->locations[k - 1], &p->locations[k]) == 0)
			return fail(l, "locations", "%s %s is listed twice",
			            loc_keys[p->locations[k].kind], p->locations[k].code);
	return 0;
}

int partner_load(partner *p, const char *path, const omo_catalog *cat, char *err, size_t errlen)
{
	loader l = {.path = path, .cat = cat, .err = err, .errlen = errlen};
	memset(p, 0, sizeof *p);
	p->version = 401;
	json_t *root = omo_yaml_load(path, err, errlen); /* its errors name the file */
	if (root == NULL)
		return -1;
	int rc = load_tree(&l, p, root);
	json_decref(root);
	if (rc)
		partner_fini(p);
	return rc;
}

void partner_fini(partner *p)
{
	free(p->items);
	free(p->locations);
	memset(p, 0, sizeof *p);
}

/* ---- lookups --------------------------------------------------------- */

const char *partner_sku(const partner *p, partner_item_kind kind, const char *code, size_t len)
{
	partner_item key = {.kind = kind};
	if (kind == PARTNER_ITEM_GTIN) {
		if (!gtin14(code, len, key.code))
			return NULL;
	} else {
		if (len == 0 || len >= sizeof key.code)
			return NULL;
		memcpy(key.code, code, len);
	}
	const partner_item *it =
	    p->n_items == 0 ? NULL : bsearch(&key, p->items, p->n_items, sizeof key, cmp_item);
	return it ? it->sku : NULL;
}

const char *partner_item_code(const partner *p, partner_item_kind kind, const char *sku)
{
	for (uint32_t i = 0; i < p->n_items; i++)
		if (p->items[i].kind == kind && strcmp(p->items[i].sku, sku) == 0)
			return p->items[i].code;
	return NULL;
}

const partner_location *partner_location_find(const partner *p, partner_loc_kind kind,
                                              const char *code, size_t len)
{
	partner_location key = {.kind = kind};
	if (len == 0 || len >= sizeof key.code)
		return NULL;
	memcpy(key.code, code, len);
	return p->n_locations
	           ? bsearch(&key, p->locations, p->n_locations, sizeof key, cmp_location)
	           : NULL;
}

const partner_location *partner_location_of_node(const partner *p, const char *node)
{
	for (uint32_t i = 0; i < p->n_locations; i++)
		if (strcmp(p->locations[i].node, node) == 0)
			return &p->locations[i];
	return NULL;
}

/* ---- a folder of partners -------------------------------------------- */

static int cmp_partner(const void *a, const void *b)
{
	return strcmp(((const partner *)a)->id, ((const partner *)b)->id);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int partner_set_load(partner_set *s, const char *dir, const omo_catalog *cat, char *err,
                     size_t errlen)
{
	memset(s, 0, sizeof *s);
	DIR *d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errlen, "%s: cannot open the partners folder", dir);
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || e->d_name[0] == '.' || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **q = realloc(names, cap * sizeof *q);
			if (q == NULL) {
				rc = -1;
				break;
			}
			names = q;
		}
		if ((names[n] = strdup(e->d_name)) == NULL)
			rc = -1;
		else
			n++;
	}
	closedir(d);
	if (rc == 0 && n > 0 && (s->partners = calloc(n, sizeof *s->partners)) == NULL)
		rc = -1;
	if (rc)
		snprintf(err, errlen, "%s: out of memory", dir);
	if (n)
		qsort(names, n, sizeof *names, cmp_name);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		rc = partner_load(&s->partners[s->n], path, cat, err, errlen);
		if (rc == 0)
			s->n++;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc) {
		partner_set_fini(s);
		return -1;
	}
	if (s->n)
		qsort(s->partners, s->n, sizeof *s->partners, cmp_partner);
	for (uint32_t i = 0; i < s->n; i++)
		for (uint32_t j = i + 1; j < s->n; j++)
			if (s->partners[i].node[0] &&
			    strcmp(s->partners[i].node, s->partners[j].node) == 0) {
				snprintf(err, errlen,
				         "%s: partners %s and %s both fulfil for node %s", dir,
				         s->partners[i].id, s->partners[j].id, s->partners[i].node);
				partner_set_fini(s);
				return -1;
			}
	return 0;
}

void partner_set_fini(partner_set *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		partner_fini(&s->partners[i]);
	free(s->partners);
	memset(s, 0, sizeof *s);
}

const partner *partner_set_find(const partner_set *s, const char *id)
{
	partner key;
	snprintf(key.id, sizeof key.id, "%s", id);
	return s->n ? bsearch(&key, s->partners, s->n, sizeof key, cmp_partner) : NULL;
}

const partner *partner_set_for_node(const partner_set *s, const char *node)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (strcmp(s->partners[i].node, node) == 0)
			return &s->partners[i];
	return NULL;
}
