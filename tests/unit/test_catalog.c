/*
 * test_catalog.c - the network catalog (services/runtime/catalog.h) loaded
 * from the demo scenario, its lookups, and its refusal of bad files, each
 * named by file and line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog.h"

typedef struct fx {
	omo_catalog cat;
	char err[512];
	char dir[64];
	char nodes[128], skus[128];
} fx;

static int setup_demo(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	const char *src = getenv("OMO_SOURCE_DIR");
	char dir[512];
	if (f == NULL)
		return -1;
	if (src == NULL) {
		fprintf(stderr, "OMO_SOURCE_DIR is not set (ctest sets it)\n");
		free(f);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/simulators/scenarios/demo", src);
	if (omo_catalog_load(&f->cat, dir, f->err, sizeof(f->err)) != 0) {
		fprintf(stderr, "load %s: %s\n", dir, f->err);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown_demo(void **state)
{
	fx *f = *state;
	omo_catalog_fini(&f->cat);
	free(f);
	return 0;
}

static int setup_tmp(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/omo-test-catalog-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->nodes, sizeof(f->nodes), "%s/nodes.csv", f->dir);
	snprintf(f->skus, sizeof(f->skus), "%s/skus.csv", f->dir);
	*state = f;
	return 0;
}

static int teardown_tmp(void **state)
{
	fx *f = *state;
	omo_catalog_fini(&f->cat);
	unlink(f->nodes);
	unlink(f->skus);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- the demo network ------------------------------------------------- */

static void test_demo_counts(void **state)
{
	fx *f = *state;
	assert_int_equal(f->cat.n_nodes, 15);
	assert_int_equal(f->cat.n_skus, 200);
	/* Sorted by id, as the binary searches need. */
	for (uint32_t i = 1; i < f->cat.n_nodes; i++)
		assert_true(strcmp(f->cat.nodes[i - 1].id, f->cat.nodes[i].id) < 0);
	for (uint32_t i = 1; i < f->cat.n_skus; i++)
		assert_true(strcmp(f->cat.skus[i - 1].sku, f->cat.skus[i].sku) < 0);
	assert_string_equal(f->cat.nodes[0].id, "DC-CA");
	assert_string_equal(f->cat.skus[0].sku, "SKU-0001");
	assert_string_equal(f->cat.skus[199].sku, "SKU-0200");
}

static void test_demo_nodes(void **state)
{
	fx *f = *state;
	const omo_node_info *n;

	n = omo_catalog_node(&f->cat, "MFG-OH");
	assert_non_null(n);
	assert_int_equal(n->type, OMO_NODE_MANUFACTURER);
	assert_int_equal(n->caps, RT_CAP_DROPSHIP);
	assert_string_equal(n->name, "Dayton plant");
	assert_true(n->lat_udeg == 39758900);
	assert_true(n->lon_udeg == -84191600);

	n = omo_catalog_node(&f->cat, "DC-NJ");
	assert_non_null(n);
	assert_int_equal(n->type, OMO_NODE_WAREHOUSE);
	assert_int_equal(n->caps, RT_CAP_SHIP);
	assert_string_equal(n->name, "Edison DC");

	n = omo_catalog_node(&f->cat, "ST-NYC");
	assert_non_null(n);
	assert_int_equal(n->type, OMO_NODE_STORE);
	assert_int_equal(n->caps, RT_CAP_SHIP | RT_CAP_PICKUP);
	assert_string_equal(n->name, "Manhattan");
	assert_true(n->lat_udeg == 40758000);
	assert_true(n->lon_udeg == -73985500);

	n = omo_catalog_node(&f->cat, "ST-SEA");
	assert_non_null(n);
	assert_true(n->lat_udeg == 47606200);
	assert_true(n->lon_udeg == -122332100);

	int stores = 0, warehouses = 0, makers = 0;
	for (uint32_t i = 0; i < f->cat.n_nodes; i++) {
		stores += f->cat.nodes[i].type == OMO_NODE_STORE;
		warehouses += f->cat.nodes[i].type == OMO_NODE_WAREHOUSE;
		makers += f->cat.nodes[i].type == OMO_NODE_MANUFACTURER;
	}
	assert_int_equal(stores, 10);
	assert_int_equal(warehouses, 3);
	assert_int_equal(makers, 2);
}

static void test_demo_lookups(void **state)
{
	fx *f = *state;
	int i = omo_catalog_node_index(&f->cat, "ST-NYC");
	assert_true(i >= 0);
	assert_string_equal(f->cat.nodes[i].id, "ST-NYC");
	assert_ptr_equal(omo_catalog_node(&f->cat, "ST-NYC"), &f->cat.nodes[i]);

	assert_null(omo_catalog_node(&f->cat, "ST-XYZ"));
	assert_null(omo_catalog_node(&f->cat, ""));
	assert_null(omo_catalog_node(&f->cat, "st-nyc"));
	assert_null(omo_catalog_node(&f->cat, "ST-NYC "));
	assert_int_equal(omo_catalog_node_index(&f->cat, "NOPE"), -1);
	/* An id longer than any node id must not match a truncated prefix. */
	assert_int_equal(omo_catalog_node_index(&f->cat, "ST-NYC-0123456789-0123456789-012345"),
	                 -1);

	const omo_sku_info *s = omo_catalog_sku(&f->cat, "SKU-0001");
	assert_non_null(s);
	assert_string_equal(s->name, "Hoodie 1");
	assert_true(s->weight_g == 809);
	assert_true(s->price_minor == 611);
	s = omo_catalog_sku(&f->cat, "SKU-0200");
	assert_non_null(s);
	assert_string_equal(s->name, "Sofa 200");
	assert_true(s->weight_g == 20590);
	assert_true(s->price_minor == 139293);
	assert_null(omo_catalog_sku(&f->cat, "SKU-0201"));
	assert_null(omo_catalog_sku(&f->cat, "SKU-0000"));
	assert_null(omo_catalog_sku(&f->cat, ""));
}

static void test_empty_catalog_lookups(void **state)
{
	omo_catalog c;
	(void)state;
	memset(&c, 0, sizeof(c));
	assert_null(omo_catalog_node(&c, "DC-NJ"));
	assert_null(omo_catalog_sku(&c, "SKU-0001"));
	omo_catalog_fini(&c);
}

static void test_csv_split(void **state)
{
	char line[] = "a,,b c,d\r\n";
	char *f[8];
	(void)state;
	assert_int_equal(omo_csv_split(line, f, 8), 4);
	assert_string_equal(f[0], "a");
	assert_string_equal(f[1], "");
	assert_string_equal(f[2], "b c");
	assert_string_equal(f[3], "d");
	char line2[] = "1,2,3,4,5";
	assert_int_equal(omo_csv_split(line2, f, 3), 3); /* at most max */
	assert_string_equal(f[0], "1");
	assert_string_equal(f[1], "2");
	char line3[] = "";
	assert_int_equal(omo_csv_split(line3, f, 3), 1);
	assert_string_equal(f[0], "");
}

/* ---- bad files ------------------------------------------------------- */

/* in_child runs fn in a forked process and fails the test unless it exits 0:
 * a sanitizer abort in fn is reported here, and the tests after it still run. */
static void in_child(int (*fn)(void *), void *arg, const char *what)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d", what, WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s: exit status %d (see its stderr above)", what, WEXITSTATUS(status));
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

#define NODES_HEAD "id,type,name,lat,lon,capabilities\n"
#define SKUS_HEAD  "sku,name,weight_g,price_minor\n"
#define GOOD_NODE  "DC-NJ,warehouse,Edison DC,40.5187,-74.4121,ship\n"
#define GOOD_SKU   "SKU-0001,Hoodie 1,809,611\n"

/* expect_error loads the temp dir with these files and checks the error names file:line. */
static void expect_error(fx *f, const char *nodes, const char *skus, const char *file, int line)
{
	char want[200];
	write_file(f->nodes, nodes);
	write_file(f->skus, skus);
	f->err[0] = '\0';
	if (line > 0)
		snprintf(want, sizeof(want), "%s/%s:%d:", f->dir, file, line);
	else
		snprintf(want, sizeof(want), "%s/%s", f->dir, file);
	if (omo_catalog_load(&f->cat, f->dir, f->err, sizeof(f->err)) != -1) {
		const omo_node_info *n = f->cat.n_nodes ? &f->cat.nodes[0] : NULL;
		fail_msg("loaded without error (first node %s lat %lld lon %lld caps %u); want an "
		         "error naming %s",
		         n ? n->id : "-", n ? (long long)n->lat_udeg : 0,
		         n ? (long long)n->lon_udeg : 0, n ? n->caps : 0, want);
	}
	assert_int_equal(f->cat.n_nodes, 0); /* nothing half-loaded is left */
	assert_null(f->cat.nodes);
	if (strstr(f->err, want) == NULL)
		fail_msg("\"%s\" does not name %s", f->err, want);
}

static void test_tmp_good_files(void **state)
{
	fx *f = *state;
	write_file(f->nodes, NODES_HEAD GOOD_NODE "\n# a comment\nST-X,store,X,-0.5,+0.000001,\n");
	write_file(f->skus, SKUS_HEAD GOOD_SKU "SKU-0002,Mug,0,-5\n");
	assert_int_equal(omo_catalog_load(&f->cat, f->dir, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->cat.n_nodes, 2);
	assert_int_equal(f->cat.n_skus, 2);
	const omo_node_info *n = omo_catalog_node(&f->cat, "ST-X");
	assert_non_null(n);
	assert_true(n->lat_udeg == -500000);
	assert_true(n->lon_udeg == 1);
	assert_int_equal(n->caps, 0);
}

static void test_bad_node_type(void **state)
{
	fx *f = *state;
	expect_error(f, NODES_HEAD GOOD_NODE "X1,spaceport,X,1,1,ship\n", SKUS_HEAD GOOD_SKU,
	             "nodes.csv", 3);
}

static void test_bad_node_fields(void **state)
{
	fx *f = *state;
	expect_error(f, NODES_HEAD "X1,store,X,1,1\n", SKUS_HEAD GOOD_SKU, "nodes.csv", 2);
	omo_catalog_fini(&f->cat);
	expect_error(f, NODES_HEAD "X1,store,X,north,1,ship\n", SKUS_HEAD GOOD_SKU, "nodes.csv", 2);
	omo_catalog_fini(&f->cat);
	expect_error(f, NODES_HEAD "X1,store,X,1.5,1,ship|teleport\n", SKUS_HEAD GOOD_SKU,
	             "nodes.csv", 2);
	omo_catalog_fini(&f->cat);
	expect_error(f, NODES_HEAD ",store,X,1,1,ship\n", SKUS_HEAD GOOD_SKU, "nodes.csv", 2);
	omo_catalog_fini(&f->cat);
	expect_error(f, NODES_HEAD "ID-THAT-IS-FAR-TOO-LONG-FOR-A-NODE,store,X,1,1,ship\n",
	             SKUS_HEAD GOOD_SKU, "nodes.csv", 2);
	omo_catalog_fini(&f->cat);
	expect_error(f, NODES_HEAD "X1,store,X,1,200.5,ship\n", SKUS_HEAD GOOD_SKU, "nodes.csv", 2);
}

/* A node's coordinates become an address's, which allows latitude -90..90 and
 * longitude -180..180 only. */
static void test_coordinates_out_of_range(void **state)
{
	fx *f = *state;
	expect_error(f, NODES_HEAD "X1,store,X,91,1,ship\n", SKUS_HEAD GOOD_SKU, "nodes.csv", 2);
	omo_catalog_fini(&f->cat);
	expect_error(f, NODES_HEAD "X1,store,X,1,180.5,ship\n", SKUS_HEAD GOOD_SKU, "nodes.csv", 2);
}

static int load_expect_error(void *arg)
{
	fx *f = arg;
	char want[200];
	snprintf(want, sizeof(want), "%s/nodes.csv:2:", f->dir);
	if (omo_catalog_load(&f->cat, f->dir, f->err, sizeof(f->err)) == 0) {
		fprintf(stderr, "loaded: %s lat %lld lon %lld\n", f->cat.nodes[0].id,
		        (long long)f->cat.nodes[0].lat_udeg, (long long)f->cat.nodes[0].lon_udeg);
		return 2;
	}
	return strstr(f->err, want) != NULL ? 0 : 3;
}

/* Partner files are hostile input: a number too long for int64 is an error,
 * not undefined behaviour (signed overflow) with a value that may pass. */
static void test_huge_coordinate(void **state)
{
	fx *f = *state;
	write_file(f->skus, SKUS_HEAD GOOD_SKU);
	write_file(f->nodes, NODES_HEAD "X1,store,X,1,99999999999999999999999999,ship\n");
	in_child(load_expect_error, f, "longitude 99999999999999999999999999");
	write_file(f->nodes, NODES_HEAD "X1,store,X,-18446744073709551616180,1,ship\n");
	in_child(load_expect_error, f, "latitude -18446744073709551616180");
}

/* A row with more columns than the file has is an error, not silently cut:
 * "ship,pickup" written for "ship|pickup" would lose a capability. */
static void test_extra_column(void **state)
{
	fx *f = *state;
	expect_error(f, NODES_HEAD "ST-X,store,X,1,1,ship,pickup\n", SKUS_HEAD GOOD_SKU,
	             "nodes.csv", 2);
	omo_catalog_fini(&f->cat);
	expect_error(f, NODES_HEAD GOOD_NODE, SKUS_HEAD "SKU-0002,Mug,100,200,9\n", "skus.csv", 2);
}

static void test_bad_sku(void **state)
{
	fx *f = *state;
	expect_error(f, NODES_HEAD GOOD_NODE, SKUS_HEAD GOOD_SKU "SKU-0002,Mug,heavy,100\n",
	             "skus.csv", 3);
	omo_catalog_fini(&f->cat);
	expect_error(f, NODES_HEAD GOOD_NODE, SKUS_HEAD "SKU-0002,Mug,100\n", "skus.csv", 2);
	omo_catalog_fini(&f->cat);
	expect_error(f, NODES_HEAD GOOD_NODE, SKUS_HEAD GOOD_SKU GOOD_SKU "SKU-0003,Mug,1,1.50\n",
	             "skus.csv", 4);
}

static void test_duplicates(void **state)
{
	fx *f = *state;
	expect_error(f, NODES_HEAD GOOD_NODE GOOD_NODE, SKUS_HEAD GOOD_SKU, "nodes.csv", 0);
	assert_non_null(strstr(f->err, "DC-NJ"));
	omo_catalog_fini(&f->cat);
	expect_error(f, NODES_HEAD GOOD_NODE, SKUS_HEAD GOOD_SKU GOOD_SKU, "skus.csv", 0);
	assert_non_null(strstr(f->err, "SKU-0001"));
}

static int load_header_only(void *arg)
{
	fx *f = arg;
	int r = omo_catalog_load(&f->cat, f->dir, f->err, sizeof(f->err));
	if (r == 0)
		return f->cat.n_skus == 0 && omo_catalog_node(&f->cat, "NOPE") == NULL &&
		               omo_catalog_sku(&f->cat, "SKU-0001") == NULL
		           ? 0
		           : 2;
	return r == -1 && strstr(f->err, f->dir) != NULL ? 0 : 3;
}

/* Files with a header and no rows: an empty catalog (or an error), never
 * undefined behaviour: under UBSan, qsort(NULL, 0, ...) is flagged. */
static void test_header_only_files(void **state)
{
	fx *f = *state;
	write_file(f->nodes, NODES_HEAD);
	write_file(f->skus, SKUS_HEAD);
	in_child(load_header_only, f, "loading header-only files");
	write_file(f->nodes, NODES_HEAD GOOD_NODE);
	in_child(load_header_only, f, "loading a header-only skus.csv");
}

static void test_missing_file(void **state)
{
	fx *f = *state;
	char want[200];
	write_file(f->nodes, NODES_HEAD GOOD_NODE);
	unlink(f->skus);
	assert_int_equal(omo_catalog_load(&f->cat, f->dir, f->err, sizeof(f->err)), -1);
	snprintf(want, sizeof(want), "%s/skus.csv", f->dir);
	assert_non_null(strstr(f->err, want));
	assert_int_equal(f->cat.n_nodes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_demo_counts, setup_demo, teardown_demo),
	    cmocka_unit_test_setup_teardown(test_demo_nodes, setup_demo, teardown_demo),
	    cmocka_unit_test_setup_teardown(test_demo_lookups, setup_demo, teardown_demo),
	    cmocka_unit_test(test_empty_catalog_lookups),
	    cmocka_unit_test(test_csv_split),
	    cmocka_unit_test_setup_teardown(test_tmp_good_files, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_bad_node_type, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_bad_node_fields, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_coordinates_out_of_range, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_extra_column, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_bad_sku, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_duplicates, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_missing_file, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_header_only_files, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_huge_coordinate, setup_tmp, teardown_tmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
