#include "catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int omo_csv_split(char *line, char **fields, int max)
{
	int n = 0;
	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		fields[n++] = line;
		char *comma = strchr(line, ',');
		if (comma == NULL)
			break;
		*comma = '\0';
		line = comma + 1;
	}
	return n;
}

static int parse_i64(const char *s, int64_t *v)
{
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*v = x;
	return 0;
}

/* degrees (at most limit) with up to 6 decimals to micro-degrees, without
 * floating point */
static int parse_udeg(const char *s, int64_t limit, int64_t *v)
{
	int64_t whole = 0, frac = 0;
	int neg = *s == '-', digits = 0;
	if (neg || *s == '+')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9')
		if ((whole = whole * 10 + (*s++ - '0')) > limit)
			return -1;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			if (digits < 6) {
				frac = frac * 10 + (*s - '0');
				digits++;
			}
	while (digits++ < 6)
		frac *= 10;
	if (*s || whole * 1000000 + frac > limit * 1000000)
		return -1;
	*v = (neg ? -1 : 1) * (whole * 1000000 + frac);
	return 0;
}

static uint32_t parse_caps(char *s)
{
	uint32_t caps = 0;
	for (char *tok = strtok(s, "|"); tok; tok = strtok(NULL, "|")) {
		if (strcmp(tok, "ship") == 0)
			caps |= RT_CAP_SHIP;
		else if (strcmp(tok, "pickup") == 0)
			caps |= RT_CAP_PICKUP;
		else if (strcmp(tok, "dropship") == 0)
			caps |= RT_CAP_DROPSHIP;
		else
			return UINT32_MAX;
	}
	return caps;
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp(((const omo_node_info *)a)->id, ((const omo_node_info *)b)->id);
}

static int cmp_sku(const void *a, const void *b)
{
	return strcmp(((const omo_sku_info *)a)->sku, ((const omo_sku_info *)b)->sku);
}

/* grow doubles *items when full; returns -1 without memory. */
static int grow(void **items, uint32_t n, uint32_t *cap, size_t size)
{
	if (n < *cap)
		return 0;
	uint32_t c = *cap ? *cap * 2 : 64;
	void *p = realloc(*items, (size_t)c * size);
	if (p == NULL)
		return -1;
	*items = p;
	*cap = c;
	return 0;
}

int omo_csv_read(const char *path, int ncols, const char *expect, omo_csv_row_fn fn, void *arg,
                 char *err, size_t errlen)
{
	char line[512], *f[16];
	int lineno = 0, rc = 0;
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), fp)) {
		if (++lineno == 1 || line[0] == '\n' || line[0] == '#')
			continue; /* the header, blank lines and comments */
		/* one field more than expected, so that extra columns are seen */
		if (omo_csv_split(line, f, ncols + 1) != ncols || fn(arg, f) != 0) {
			snprintf(err, errlen, "%s:%d: expected %s", path, lineno, expect);
			rc = -1;
		}
	}
	fclose(fp);
	return rc;
}

static int node_row(void *arg, char **f)
{
	omo_catalog *c = arg;
	omo_node_info n = {0};
	int type;
	if (strlen(f[0]) == 0 || strlen(f[0]) > RT_ID_MAX ||
	    (type = omo_enum_parse(&omo_enum_node_type, f[1], strlen(f[1]))) < 0 ||
	    parse_udeg(f[3], 90, &n.lat_udeg) || parse_udeg(f[4], 180, &n.lon_udeg) ||
	    (n.caps = parse_caps(f[5])) == UINT32_MAX ||
	    grow((void **)&c->nodes, c->n_nodes, &c->cap_nodes, sizeof(n)))
		return -1;
	snprintf(n.id, sizeof(n.id), "%s", f[0]);
	snprintf(n.name, sizeof(n.name), "%s", f[2]);
	n.type = (omo_node_type)type;
	c->nodes[c->n_nodes++] = n;
	return 0;
}

static int sku_row(void *arg, char **f)
{
	omo_catalog *c = arg;
	omo_sku_info s = {0};
	if (strlen(f[0]) == 0 || strlen(f[0]) > 64 || parse_i64(f[2], &s.weight_g) ||
	    parse_i64(f[3], &s.price_minor) ||
	    grow((void **)&c->skus, c->n_skus, &c->cap_skus, sizeof(s)))
		return -1;
	snprintf(s.sku, sizeof(s.sku), "%s", f[0]);
	snprintf(s.name, sizeof(s.name), "%s", f[1]);
	c->skus[c->n_skus++] = s;
	return 0;
}

int omo_catalog_load(omo_catalog *c, const char *dir, char *err, size_t errlen)
{
	char path[600];
	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/nodes.csv", dir);
	if (omo_csv_read(path, 6, "id,type,name,lat,lon,capabilities", node_row, c, err, errlen))
		goto fail;
	snprintf(path, sizeof(path), "%s/skus.csv", dir);
	if (omo_csv_read(path, 4, "sku,name,weight_g,price_minor", sku_row, c, err, errlen))
		goto fail;
	if (c->n_nodes > 0)
		qsort(c->nodes, c->n_nodes, sizeof(*c->nodes), cmp_node);
	if (c->n_skus > 0)
		qsort(c->skus, c->n_skus, sizeof(*c->skus), cmp_sku);
	for (uint32_t i = 1; i < c->n_nodes; i++)
		if (strcmp(c->nodes[i - 1].id, c->nodes[i].id) == 0) {
			snprintf(err, errlen, "%s/nodes.csv: node %s twice", dir, c->nodes[i].id);
			goto fail;
		}
	for (uint32_t i = 1; i < c->n_skus; i++)
		if (strcmp(c->skus[i - 1].sku, c->skus[i].sku) == 0) {
			snprintf(err, errlen, "%s/skus.csv: SKU %s twice", dir, c->skus[i].sku);
			goto fail;
		}
	return 0;
fail:
	omo_catalog_fini(c);
	return -1;
}

void omo_catalog_fini(omo_catalog *c)
{
	free(c->nodes);
	free(c->skus);
	memset(c, 0, sizeof(*c));
}

int omo_catalog_node_index(const omo_catalog *c, const char *id)
{
	omo_node_info key;
	snprintf(key.id, sizeof(key.id), "%s", id);
	if (strlen(id) > RT_ID_MAX || c->n_nodes == 0)
		return -1;
	const omo_node_info *n = bsearch(&key, c->nodes, c->n_nodes, sizeof(key), cmp_node);
	return n ? (int)(n - c->nodes) : -1;
}

const omo_node_info *omo_catalog_node(const omo_catalog *c, const char *id)
{
	int i = omo_catalog_node_index(c, id);
	return i < 0 ? NULL : &c->nodes[i];
}

const omo_sku_info *omo_catalog_sku(const omo_catalog *c, const char *sku)
{
	omo_sku_info key;
	if (strlen(sku) > 64 || c->n_skus == 0)
		return NULL;
	snprintf(key.sku, sizeof(key.sku), "%s", sku);
	return bsearch(&key, c->skus, c->n_skus, sizeof(key), cmp_sku);
}
