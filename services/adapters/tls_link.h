/*
 * tls_link.h - partners' documents over nng tls+tcp:// with mutual TLS.
 *
 * One listener per partner, each trusting only that partner's certificate
 * authority and requiring a client certificate: a connection that
 * completes its handshake on partner X's listener is partner X, whatever
 * its payload says. No certificate, one from another authority, or one
 * out of its validity dates never completes the handshake, so its request
 * is never read. (This file, like the runtime's bus.c, includes nng: the
 * runtime's bus has no TLS.)
 *
 * A request is a partner message: a header naming a message id and the
 * time it was sent, then the document. tls_link_check refuses a replay: an
 * id seen before, or a time outside the window around now.
 */
#ifndef OMO_TLS_LINK_H
#define OMO_TLS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tls_link tls_link;

/* tls_link_listen listens for one partner at url (tls+tcp://host:port; port
 * 0 picks a free one) with our certificate and key (one PEM file) and the
 * partner's authority. 0, or -1 with err. */
int tls_link_listen(tls_link **lp, const char *url, const char *cert_key_pem,
                    const char *partner_ca_pem, char *err, size_t errlen);
/* tls_link_port returns the port listened on. */
int tls_link_port(tls_link *l);
void tls_link_close(tls_link *l);

/* tls_link_serve waits up to ms for one request and answers it with
 * fn(arg, request, len, &reply, &reply_len) (reply malloc'd, freed here).
 * Returns 1 if one was served, 0 on timeout, -1 on error. */
typedef void (*tls_link_fn)(void *arg, const char *req, size_t len, char **reply,
                            size_t *reply_len);
int tls_link_serve(tls_link *l, int ms, tls_link_fn fn, void *arg);

/* tls_link_send is the partner's side: dials url with cert_key_pem (NULL:
 * none) trusting server_ca_pem, sends req and waits up to ms for the reply
 * (malloc'd). 0, or -1 with err (refused connections time out). */
int tls_link_send(const char *url, const char *cert_key_pem, const char *server_ca_pem,
                  const void *req, size_t len, int ms, char **reply, size_t *reply_len, char *err,
                  size_t errlen);

/* ---- partner messages -------------------------------------------------- */

#define TLS_LINK_WINDOW_US (300LL * 1000000) /* sent at most 5 minutes from now */

/* tls_link_frame writes "OMO-MSG <id> <sent_us>\n" and the document into a
 * malloc'd buffer; returns it with its length. */
char *tls_link_frame(const char *id, int64_t sent_us, const void *doc, size_t len, size_t *out_len);

/* A set of message ids seen, newest kept (a partner's replay memory). */
typedef struct tls_seen {
	char ids[1024][65];
	int64_t at[1024];
	uint32_t next;
} tls_seen;

/*
 * tls_link_check parses a framed message: on success points *doc and *doc_len
 * at its document, records its id in seen and returns NULL; otherwise
 * returns why it is ignored ("not a partner message", "replayed message
 * id", "sent outside the replay window").
 */
const char *tls_link_check(tls_seen *seen, const char *msg, size_t len, int64_t now_us,
                           const char **doc, size_t *doc_len);

#endif
