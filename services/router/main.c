/* omo-router: the router service process. */
#include <stdio.h>

#include "router.h"
#include "service.h"

static const omo_option options[] = {ROUTER_OPTIONS(OMO_CONFIG_ROW, router_config)};
static const char *const follows[] = {"orders", "node-manufacturer", "node-warehouse",
				      "node-store"};
static const char *const calls[] = {"inventory"};
static const omo_service_def def = {&router_handlers, follows, 4, calls, 1};

static int init(void *cfg, void **app)
{
	static router_app a;
	char err[300];
	if (omo_catalog_load(&a.catalog, ((router_config *)cfg)->network_dir, err, sizeof(err))) {
		fprintf(stderr, "router: %s\n", err);
		return -1;
	}
	if (router_app_init(&a, cfg) != 0)
		return -1;
	*app = &a;
	return 0;
}

int main(int argc, char **argv)
{
	static router_config cfg;
	return omo_service_main(&def, options, sizeof(options) / sizeof(options[0]), &cfg, init,
				argc, argv);
}
