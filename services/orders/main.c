/* omo-orders: the orders service process. */
#include "orders.h"

int main(int argc, char **argv)
{
	return omo_service_main(&orders_service, argc, argv);
}
