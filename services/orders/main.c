/* omo-orders: the orders service process. */
#include <stdio.h>

#include "orders.h"
#include "service.h"

static const omo_option options[] = {ORDERS_OPTIONS(OMO_CONFIG_ROW, orders_config)};
static const char *const follows[] = {"router", "node-manufacturer", "node-warehouse",
				      "node-store"};
static const omo_service_def def = {&orders_handlers, follows, 4, NULL, 0};

static int init(void *cfg, void **app)
{
	static orders_app a;
	char err[300];
	if (omo_catalog_load(&a.catalog, ((orders_config *)cfg)->network_dir, err, sizeof(err))) {
		fprintf(stderr, "orders: %s\n", err);
		return -1;
	}
	*app = &a;
	return 0;
}

int main(int argc, char **argv)
{
	static orders_config cfg;
	return omo_service_main(&def, options, sizeof(options) / sizeof(options[0]), &cfg, init,
				argc, argv);
}
