/* omo-router: the router service process. */
#include "router.h"

int main(int argc, char **argv)
{
	return omo_service_main(&router_service, argc, argv);
}
