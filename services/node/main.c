/* omo-node: a node agent process for the nodes of one type. */
#include <stdio.h>

#include "node.h"
#include "service.h"

static const omo_option options[] = {NODE_OPTIONS(OMO_CONFIG_ROW, node_config)};
static const char *const follows[] = {"router"};
static node_app app;
static omo_service_def def = {&node_handlers, follows, 1, NULL, 0};

static int init(void *cfg, void **out)
{
	char err[300];
	if (omo_catalog_load(&app.catalog, ((node_config *)cfg)->network_dir, err, sizeof(err))) {
		fprintf(stderr, "node: %s\n", err);
		return -1;
	}
	if (node_app_init(&app, cfg) != 0)
		return -1;
	def.handlers = &app.handlers;
	*out = &app;
	return 0;
}

int main(int argc, char **argv)
{
	static node_config cfg;
	return omo_service_main(&def, options, sizeof(options) / sizeof(options[0]), &cfg, init,
				argc, argv);
}
