/* omo-node: a node agent process for the nodes of one type. */
#include "node.h"

int main(int argc, char **argv)
{
	return omo_service_main(&node_service, argc, argv);
}
