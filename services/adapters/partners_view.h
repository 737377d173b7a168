/*
 * partners_view.h - the operator's view of the partners (omo partners):
 * for each partner, its last documents in and out with their
 * acknowledgement, what waits, and what is in error with the reason. It
 * reads only the mappings and the watched folders the adapter keeps, so it
 * works whether or not the adapter runs.
 */
#ifndef OMO_PARTNERS_VIEW_H
#define OMO_PARTNERS_VIEW_H

#include <stdio.h>

/*
 * partners_view prints the view to out: the partners of partners_dir
 * (checked against the network in network_dir), their folders under
 * folders_dir, the last `last` documents each way. Returns 0, or -1 with
 * the reason in err.
 */
int partners_view(FILE *out, const char *partners_dir, const char *network_dir,
                  const char *folders_dir, int last, char *err, size_t errlen);

#endif
