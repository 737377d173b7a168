/* omo-inventory: the inventory service process. */
#include <stdio.h>
#include <string.h>

#include "inventory.h"
#include "service.h"

static const omo_option options[] = {INVENTORY_OPTIONS(OMO_CONFIG_ROW, inventory_config)};
static const char *const follows[] = {"node-manufacturer", "node-warehouse", "node-store"};
static const omo_service_def def = {&inventory_handlers, follows, 3, NULL, 0};

static int init(void *cfg, void **app)
{
	static inventory_app a;
	inventory_config *c = cfg;
	char err[300];
	if (omo_catalog_load(&a.catalog, c->network_dir, err, sizeof(err))) {
		fprintf(stderr, "inventory: %s\n", err);
		return -1;
	}
	memcpy(a.seed_stock, c->seed_stock, sizeof(a.seed_stock));
	*app = &a;
	return 0;
}

int main(int argc, char **argv)
{
	static inventory_config cfg;
	return omo_service_main(&def, options, sizeof(options) / sizeof(options[0]), &cfg, init,
				argc, argv);
}
