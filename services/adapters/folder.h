/*
 * folder.h - a partner's watched folder: files in and out, moved by atomic
 * renames so that a crash at any moment loses and duplicates nothing.
 *
 *   <root>/<partner>/inbox       the partner (or its FTP/AS2 gateway) drops files here,
 *                                written under a name starting with '.' and renamed
 *   <root>/<partner>/processing  claimed: being applied, or applied and not yet filed
 *   <root>/<partner>/archive     applied (a file's acknowledgement is in outbox)
 *   <root>/<partner>/error       refused; <name>.reason says why
 *   <root>/<partner>/outbox      what we send: acknowledgements and our documents
 *
 * A file leaves processing only after what it did is durable (the adapter
 * records each document it applied under its digest, in the transaction of
 * its effects), so after a crash a file found in processing is either filed
 * (its record exists) or applied again from scratch (it does not).
 */
#ifndef OMO_FOLDER_H
#define OMO_FOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FOLDER_NAME_MAX 200

/* folder_open makes root/partner and its five folders; 0, or -1 with err. */
int folder_open(const char *root, const char *partner, char *err, size_t errlen);

/* folder_claim moves up to max files (oldest name first, none starting with
 * '.') from inbox to processing; returns how many, or -1. */
int folder_claim(const char *root, const char *partner, int max);

/* folder_list puts up to max names of files in sub ("processing", ...),
 * sorted, into names (each FOLDER_NAME_MAX + 1 bytes); returns the count or -1. */
int folder_list(const char *root, const char *partner, const char *sub,
                char (*names)[FOLDER_NAME_MAX + 1], int max);

/* folder_read returns the malloc'd bytes of sub/name (NUL added, *len without
 * it), or NULL; files beyond max bytes are not read (NULL, *len = their size). */
char *folder_read(const char *root, const char *partner, const char *sub, const char *name,
                  size_t max, size_t *len);

/* folder_file moves processing/name to archive (ok) or error, writing
 * error/name.reason first; a file already moved is fine. 0 or -1. */
int folder_file(const char *root, const char *partner, const char *name, bool ok,
                const char *reason);

/* folder_put writes data to sub/name durably and atomically (a hidden
 * temporary, fsync, rename); an existing file of that name is replaced. */
int folder_put(const char *root, const char *partner, const char *sub, const char *name,
               const void *data, size_t len);

#endif
