/* omo-adapters: the partner adapter service process. */
#include "adapter.h"

int main(int argc, char **argv)
{
	return omo_service_main(&adapter_service, argc, argv);
}
