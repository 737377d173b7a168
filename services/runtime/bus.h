/*
 * bus.h - omo's sockets. The only code in omo that includes nng is bus.c.
 *
 * A service listens on one REP socket (raw, so that one thread can hold many
 * requests at once and answer them after a group commit) and one PUB socket,
 * subscribes with one SUB socket dialled to every producer it follows, and
 * calls other services through REQ sockets. Every socket refuses messages
 * over OMO_MAX_MESSAGE and dials again with back-off after a loss.
 *
 * Ownership: a received omo_bus_msg is the caller's until it passes it to
 * omo_bus_reply or omo_bus_msg_free.
 */
#ifndef OMO_BUS_H
#define OMO_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"

typedef struct omo_sock omo_sock;
typedef struct omo_bus_msg omo_bus_msg;

typedef enum omo_sock_kind { OMO_REP, OMO_PUB, OMO_SUB, OMO_REQ } omo_sock_kind;

/* omo_sock_listen opens a REP or PUB socket listening on url. */
omo_err omo_sock_listen(omo_sock **sp, omo_sock_kind kind, const char *url, omo_error_detail *d);
/* omo_sock_dial opens a SUB (subscribed to everything) or REQ socket and dials
 * each url without waiting for the peer to be up. timeout_ms bounds a REQ call. */
omo_err omo_sock_dial(omo_sock **sp, omo_sock_kind kind, const char *const *urls, unsigned n,
                      int timeout_ms, omo_error_detail *d);
/* omo_sock_close closes s; NULL is fine. */
void omo_sock_close(omo_sock *s);

/*
 * omo_sock_probe keeps a listening socket accepting. nng 1.5.2 stops
 * handing new connections to the socket once a peer disconnects in the
 * middle of its handshake (nng issue #1518: a client killed or timed out while this
 * process was stopped or busy), and nothing else would notice. Called
 * often (every loop), it dials the socket from a probe of its own every 2 s
 * and listens anew when no connection has reached the socket a second later.
 * Returns 1 when it listened anew, -1 if that failed, else 0.
 */
int omo_sock_probe(omo_sock *s, int64_t now_us);

/* omo_sock_fd returns a descriptor that poll() reports readable when a receive may succeed. */
int omo_sock_fd(omo_sock *s);

/* omo_sock_recv receives one message; without wait, OMO_E_NOT_FOUND if none is queued. */
omo_err omo_sock_recv(omo_sock *s, omo_bus_msg **m, bool wait);
const void *omo_bus_msg_data(const omo_bus_msg *m);
size_t omo_bus_msg_len(const omo_bus_msg *m);
void omo_bus_msg_free(omo_bus_msg *m);

/* omo_bus_reply answers request req (from a REP socket) with data; req is consumed. */
omo_err omo_bus_reply(omo_sock *s, omo_bus_msg *req, const void *data, size_t len);
/* omo_sock_send sends data on a PUB socket (never blocks; slow subscribers lose it). */
omo_err omo_sock_send(omo_sock *s, const void *data, size_t len);

/*
 * omo_call sends req on a REQ socket and waits for its reply, which it decodes
 * into reply (initialised by the call; the caller finis it). An error reply is
 * decoded too and returned as its code. UNAVAILABLE if no reply came in time.
 */
omo_err omo_call(omo_sock *s, const omo_msg *req, omo_msg *reply, omo_error_detail *d);

/*
 * A small HTTP server (nng's own) for /metrics and health checks. page is
 * called on nng's threads, concurrently with everything else: it must only
 * read what is safe to read from another thread. It writes the body to out,
 * sets *content_type, and returns the HTTP status.
 */
typedef struct omo_http omo_http;
typedef int (*omo_http_page_fn)(void *arg, const char *path, omo_buf *out,
                                const char **content_type);
/* omo_http_open serves paths at addr ("host:port"; port 0 picks a free one). */
omo_err omo_http_open(omo_http **hp, const char *addr, const char *const *paths, unsigned n,
                      omo_http_page_fn page, void *arg, omo_error_detail *d);
/* omo_http_port returns the port the server listens on. */
int omo_http_port(omo_http *h);
/* omo_http_close stops the server; NULL is fine. */
void omo_http_close(omo_http *h);

/* omo_bus_interrupt makes calls under way give up (UNAVAILABLE) within a
 * tenth of a second, so a service can stop promptly. Async-signal-safe. */
void omo_bus_interrupt(void);

/*
 * omo_endpoint writes the address of a service's socket (kind "rep" or
 * "pub"): the one endpoints names ("orders.rep=tcp://10.0.0.2:7001,..."; NULL
 * or empty: none), else the local default ipc://<run_dir>/<service>.<kind>.
 */
void omo_endpoint(char *out, size_t n, const char *endpoints, const char *run_dir,
                  const char *service, const char *kind);

#endif
