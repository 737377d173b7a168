/* omo-inventory: the inventory service process. */
#include "inventory.h"

int main(int argc, char **argv)
{
	return omo_service_main(&inventory_service, argc, argv);
}
