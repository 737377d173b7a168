#include "bus.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/http/http.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SLICE_MS 100 /* calls wait in slices so that an interrupt is seen */

/* How a listener is checked (see omo_sock_probe). */
#define PROBE_EVERY_US    2000000 /* a probe connects this often */
#define PROBE_PATIENCE_US 1000000 /* a handover on a healthy listener takes well under this */
#define PROBE_GRACE_US    200000  /* and once overdue, this much more of our own running time */

/* SP protocol numbers, for the probe's handshake (nng's sp/protocol ids). */
enum { SP_PUB = 0x20, SP_SUB = 0x21, SP_REQ = 0x30, SP_REP = 0x31 };

struct omo_sock {
	nng_socket s;
	omo_sock_kind kind;
	int fd;
	int timeout_ms; /* REQ: how long a call may take */
	/* listening sockets */
	nng_listener listener;
	char *url;
	int probe_fd;             /* a plain connection of our own, or -1 */
	bool probe_greeted;       /* it has read the listener's header and sent ours */
	atomic_uint pipes_added;  /* connections handed to this socket, counted on nng's threads */
	unsigned probe_base;      /* pipes_added when the probe connected */
	int64_t probe_at_us;      /* when the probe last connected */
	int64_t probe_overdue_us; /* when it was first seen overdue; 0 if not */
};

static volatile sig_atomic_t interrupted;

void omo_bus_interrupt(void)
{
	interrupted = 1;
}

static omo_err fail_nng(omo_error_detail *d, int rv, const char *what, const char *url)
{
	return omo_fail(d, rv == NNG_ENOMEM ? OMO_E_NOMEM : OMO_E_IO, "%s %s: %s", what,
	                url ? url : "", nng_strerror(rv));
}

static int sock_open(omo_sock *s, omo_sock_kind kind)
{
	int rv;
	switch (kind) {
	case OMO_REP: rv = nng_rep0_open_raw(&s->s); break;
	case OMO_PUB: rv = nng_pub0_open(&s->s); break;
	case OMO_SUB: rv = nng_sub0_open(&s->s); break;
	default: rv = nng_req0_open(&s->s); break;
	}
	if (rv != 0)
		return rv;
	s->kind = kind;
	/* Twice the schema limit: a somewhat oversized request still gets a TOO_LARGE
	 * answer; anything larger costs the sender its connection, not our memory. */
	nng_socket_set_size(s->s, NNG_OPT_RECVMAXSZ, 2 * (size_t)OMO_MAX_MESSAGE);
	nng_socket_set_ms(s->s, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(s->s, NNG_OPT_RECONNMAXT, 2000);
	nng_socket_set_bool(s->s, NNG_OPT_TCP_KEEPALIVE, true);
	/* Deep queues make drops rare; the outbox and gap repair make them harmless.
	 * A REP socket needs one too: a batch answers many requests at once. */
	if (kind == OMO_PUB || kind == OMO_REP)
		nng_socket_set_int(s->s, NNG_OPT_SENDBUF, 8192);
	if (kind == OMO_SUB || kind == OMO_REP)
		nng_socket_set_int(s->s, NNG_OPT_RECVBUF, 8192);
	if (kind == OMO_SUB)
		rv = nng_socket_set(s->s, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	if (rv == 0 && kind != OMO_PUB)
		rv = nng_socket_get_int(s->s, NNG_OPT_RECVFD, &s->fd);
	return rv;
}

static void pipe_added(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)ev;
	atomic_fetch_add((atomic_uint *)arg, 1);
}

omo_err omo_sock_listen(omo_sock **sp, omo_sock_kind kind, const char *url, omo_error_detail *d)
{
	omo_sock *s = calloc(1, sizeof(*s));
	int rv;
	*sp = NULL;
	if (s == NULL)
		return omo_fail(d, OMO_E_NOMEM, "out of memory");
	s->fd = -1;
	s->probe_fd = -1;
	if ((s->url = strdup(url)) == NULL) {
		free(s);
		return omo_fail(d, OMO_E_NOMEM, "out of memory");
	}
	if ((rv = sock_open(s, kind)) != 0 ||
	    (rv = nng_pipe_notify(s->s, NNG_PIPE_EV_ADD_POST, pipe_added, &s->pipes_added)) != 0 ||
	    (rv = nng_listen(s->s, url, &s->listener, 0)) != 0) {
		nng_close(s->s);
		free(s->url);
		free(s);
		return fail_nng(d, rv, "listen on", url);
	}
	*sp = s;
	return OMO_E_OK;
}

/*
 * The probe is a plain socket speaking just the SP handshake, not an nng
 * socket: nng 1.5.2 can hang in nng_close of a socket that is receiving,
 * which a probe closed every 2 s would sooner or later meet. It completes the
 * handshake before it hangs up, so that it never wedges the listener itself.
 */
static int probe_connect(const char *url)
{
	int fd = -1;
	if (strncmp(url, "ipc://", 6) == 0) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		if (strlen(url + 6) >= sizeof(a.sun_path) ||
		    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
			return -1;
		memcpy(a.sun_path, url + 6, strlen(url + 6) + 1);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS) {
			close(fd);
			return -1;
		}
		return fd;
	}
	if (strncmp(url, "tcp://", 6) != 0)
		return -1;
	char host[256];
	const char *hp = url + 6, *colon = strrchr(hp, ':');
	if (colon == NULL || (size_t)(colon - hp) >= sizeof(host))
		return -1;
	memcpy(host, hp, (size_t)(colon - hp));
	host[colon - hp] = '\0';
	/* A listener on every address is reached on loopback. */
	const char *name = host[0] == '\0' || strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0
	                       ? "127.0.0.1"
	                   : strcmp(host, "[::]") == 0 ? "::1"
	                                               : host;
	char bare[256];
	size_t n = strlen(name);
	if (name[0] == '[' && n > 2 && name[n - 1] == ']') { /* [v6 address] */
		memcpy(bare, name + 1, n - 2);
		bare[n - 2] = '\0';
		name = bare;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
	if (getaddrinfo(name, colon + 1, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static void probe_end(omo_sock *s)
{
	if (s->probe_fd >= 0)
		close(s->probe_fd);
	s->probe_fd = -1;
	s->probe_greeted = false;
	s->probe_overdue_us = 0;
}

/* probe_greet reads the listener's 8-byte SP header once it has come and
 * answers with the header of the peer protocol; false if the connection failed. */
static bool probe_greet(omo_sock *s)
{
	uint8_t theirs[8];
	ssize_t n = recv(s->probe_fd, theirs, sizeof(theirs), MSG_PEEK);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN;
	if (n == 0)
		return false;
	if (n < 8)
		return true; /* the rest is on its way */
	int ours = s->kind == OMO_REP ? SP_REQ : SP_SUB;
	uint8_t hello[8] = {0, 'S', 'P', 0, (uint8_t)(ours >> 8), (uint8_t)ours, 0, 0};
	if (recv(s->probe_fd, theirs, sizeof(theirs), 0) != 8 ||
	    send(s->probe_fd, hello, sizeof(hello), MSG_NOSIGNAL) != 8)
		return false;
	s->probe_greeted = true;
	return true;
}

int omo_sock_probe(omo_sock *s, int64_t now_us)
{
	if (s->url == NULL || strncmp(s->url, "tls+", 4) == 0)
		return 0; /* not listening, or a TLS listener, which would want a certificate */
	if (s->probe_fd < 0) {
		if (now_us - s->probe_at_us >= PROBE_EVERY_US) {
			s->probe_at_us = now_us;
			s->probe_base = atomic_load(&s->pipes_added);
			s->probe_fd = probe_connect(s->url);
		}
		return 0;
	}
	/* Any connection handed over since the probe connected shows the listener works. */
	if (atomic_load(&s->pipes_added) != s->probe_base) {
		probe_end(s);
		return 0;
	}
	if (!s->probe_greeted && !probe_greet(s)) {
		probe_end(s); /* refused or dropped: the listener is there but busy; try later */
		return 0;
	}
	if (now_us - s->probe_at_us < PROBE_PATIENCE_US)
		return 0;
	/* Overdue: give nng's threads a moment more, in case this process was the
	 * one stopped (SIGSTOP, swapping) rather than the listener wedged. */
	if (s->probe_overdue_us == 0)
		s->probe_overdue_us = now_us;
	if (now_us - s->probe_overdue_us < PROBE_GRACE_US)
		return 0;
	/* Listening anew drops the connections this listener accepted; their
	 * peers dial again and anything lost in between is repaired upstream. */
	probe_end(s);
	nng_listener_close(s->listener);
	return nng_listen(s->s, s->url, &s->listener, 0) == 0 ? 1 : -1;
}

omo_err omo_sock_dial(omo_sock **sp, omo_sock_kind kind, const char *const *urls, unsigned n,
                      int timeout_ms, omo_error_detail *d)
{
	omo_sock *s = calloc(1, sizeof(*s));
	int rv;
	*sp = NULL;
	if (s == NULL)
		return omo_fail(d, OMO_E_NOMEM, "out of memory");
	s->fd = -1;
	s->probe_fd = -1;
	if ((rv = sock_open(s, kind)) != 0) {
		free(s);
		return fail_nng(d, rv, "open", NULL);
	}
	if (kind == OMO_REQ) {
		s->timeout_ms = timeout_ms;
		/* A REQ receive that times out abandons its request, so calls wait for
		 * the reply by polling the receive descriptor instead (omo_call). */
		nng_socket_set_ms(s->s, NNG_OPT_RECVTIMEO, timeout_ms);
		nng_socket_set_ms(s->s, NNG_OPT_SENDTIMEO, SLICE_MS);
		/* Resend sooner than nng's 60 s: the server answers a repeat from its stored reply.
		 */
		nng_socket_set_ms(s->s, NNG_OPT_REQ_RESENDTIME,
		                  timeout_ms / 4 > 250 ? timeout_ms / 4 : 250);
	}
	for (unsigned i = 0; i < n; i++)
		if ((rv = nng_dial(s->s, urls[i], NULL, NNG_FLAG_NONBLOCK)) != 0) {
			nng_close(s->s);
			free(s);
			return fail_nng(d, rv, "dial", urls[i]);
		}
	*sp = s;
	return OMO_E_OK;
}

void omo_sock_close(omo_sock *s)
{
	if (s == NULL)
		return;
	probe_end(s);
	nng_close(s->s);
	free(s->url);
	free(s);
}

int omo_sock_fd(omo_sock *s)
{
	return s->fd;
}

omo_err omo_sock_recv(omo_sock *s, omo_bus_msg **m, bool wait)
{
	nng_msg *msg;
	int rv = nng_recvmsg(s->s, &msg, wait ? 0 : NNG_FLAG_NONBLOCK);
	if (rv == NNG_EAGAIN)
		return OMO_E_NOT_FOUND;
	if (rv == NNG_ETIMEDOUT)
		return OMO_E_UNAVAILABLE;
	if (rv != 0)
		return OMO_E_IO;
	*m = (omo_bus_msg *)msg;
	return OMO_E_OK;
}

const void *omo_bus_msg_data(const omo_bus_msg *m)
{
	return nng_msg_body((nng_msg *)m);
}

size_t omo_bus_msg_len(const omo_bus_msg *m)
{
	return nng_msg_len((nng_msg *)m);
}

void omo_bus_msg_free(omo_bus_msg *m)
{
	if (m != NULL)
		nng_msg_free((nng_msg *)m);
}

omo_err omo_bus_reply(omo_sock *s, omo_bus_msg *req, const void *data, size_t len)
{
	nng_msg *m = (nng_msg *)req;
	/* Raw REP: keep the header (the route back to the requester), swap the body. */
	nng_msg_clear(m);
	if (nng_msg_append(m, data, len) != 0) {
		nng_msg_free(m);
		return OMO_E_NOMEM;
	}
	int rv = nng_sendmsg(s->s, m, NNG_FLAG_NONBLOCK);
	if (rv != 0) {
		nng_msg_free(m); /* a failed send leaves the message ours */
		return OMO_E_IO;
	}
	return OMO_E_OK;
}

omo_err omo_sock_send(omo_sock *s, const void *data, size_t len)
{
	int rv = nng_send(s->s, (void *)data, len, NNG_FLAG_NONBLOCK);
	return rv == 0 ? OMO_E_OK : rv == NNG_EAGAIN ? OMO_E_UNAVAILABLE : OMO_E_IO;
}

omo_err omo_call(omo_sock *s, const omo_msg *req, omo_msg *reply, omo_error_detail *d)
{
	omo_buf b = {0};
	omo_err e = omo_msg_encode(req, &b, d);
	int rv, waited = 0;
	memset(reply, 0, sizeof(*reply));
	if (e != OMO_E_OK)
		return e;
	/* A REQ send waits for a peer, its receive for the reply; both in slices. */
	while ((rv = nng_send(s->s, b.data, b.len, 0)) == NNG_ETIMEDOUT && !interrupted &&
	       (waited += SLICE_MS) < s->timeout_ms)
		;
	omo_buf_fini(&b);
	if (rv != 0)
		return omo_fail(d, OMO_E_UNAVAILABLE, "send %s: %s", omo_msg_name(req->type),
		                interrupted ? "interrupted" : nng_strerror(rv));
	for (;;) {
		nng_msg *m;
		bool ours;
		struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
		if (poll(&pfd, 1, SLICE_MS) == 0 && !interrupted &&
		    (waited += SLICE_MS) < s->timeout_ms)
			continue;
		rv = interrupted               ? NNG_EINTR
		     : waited >= s->timeout_ms ? NNG_ETIMEDOUT
		                               : nng_recvmsg(s->s, &m, 0);
		if (rv != 0)
			return omo_fail(d, OMO_E_UNAVAILABLE, "no reply to %s: %s",
			                omo_msg_name(req->type),
			                interrupted ? "interrupted" : nng_strerror(rv));
		e = omo_msg_decode_reply(nng_msg_body(m), nng_msg_len(m), req, reply, &ours, d);
		nng_msg_free(m);
		if (ours) /* else a late reply to an earlier request */
			return e;
	}
}

void omo_endpoint(char *out, size_t n, const char *endpoints, const char *run_dir,
                  const char *service, const char *kind)
{
	char key[80];
	int klen = snprintf(key, sizeof(key), "%s.%s=", service, kind);
	for (const char *p = endpoints; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, ",");
		if (klen > 0 && len > (size_t)klen && strncmp(p, key, (size_t)klen) == 0) {
			snprintf(out, n, "%.*s", (int)(len - (size_t)klen), p + klen);
			return;
		}
		p += len + (p[len] == ',');
	}
	snprintf(out, n, "ipc://%s/%s.%s", run_dir, service, kind);
}

/* ---- HTTP -------------------------------------------------------------- */

#define HTTP_PATHS 8

struct omo_http {
	nng_http_server *server;
	omo_http_page_fn page;
	void *arg;
	int port;
};

static void http_cb(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	omo_http *srv = nng_http_handler_get_data(h);
	nng_http_res *res;
	omo_buf body = {0};
	const char *type = "text/plain; charset=utf-8";
	if (nng_http_res_alloc(&res) != 0) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	int status = srv->page(srv->arg, nng_http_req_get_uri(req), &body, &type);
	nng_http_res_set_status(res, (uint16_t)status);
	nng_http_res_set_header(res, "Content-Type", type);
	nng_http_res_copy_data(res, body.data ? (void *)body.data : "", body.len);
	omo_buf_fini(&body);
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

omo_err omo_http_open(omo_http **hp, const char *addr, const char *const *paths, unsigned n,
                      omo_http_page_fn page, void *arg, omo_error_detail *d)
{
	char url[300];
	nng_url *u = NULL;
	nng_sockaddr sa;
	omo_http *h = calloc(1, sizeof(*h));
	int rv;
	*hp = NULL;
	if (h == NULL)
		return omo_fail(d, OMO_E_NOMEM, "out of memory");
	h->page = page;
	h->arg = arg;
	snprintf(url, sizeof(url), "http://%s", addr);
	if ((rv = nng_url_parse(&u, url)) != 0 || (rv = nng_http_server_hold(&h->server, u)) != 0)
		goto fail;
	for (unsigned i = 0; i < n && i < HTTP_PATHS; i++) {
		nng_http_handler *hd;
		if ((rv = nng_http_handler_alloc(&hd, paths[i], http_cb)) != 0)
			goto fail;
		nng_http_handler_set_data(hd, h, NULL);
		if ((rv = nng_http_server_add_handler(h->server, hd)) != 0) {
			nng_http_handler_free(hd);
			goto fail;
		}
	}
	if ((rv = nng_http_server_start(h->server)) != 0)
		goto fail;
	if (nng_http_server_get_addr(h->server, &sa) == 0 && sa.s_family == NNG_AF_INET)
		h->port = ((sa.s_in.sa_port & 0xff) << 8) | (sa.s_in.sa_port >> 8);
	nng_url_free(u);
	*hp = h;
	return OMO_E_OK;
fail:
	if (h->server != NULL)
		nng_http_server_release(h->server);
	if (u != NULL)
		nng_url_free(u);
	free(h);
	return fail_nng(d, rv, "http on", addr);
}

int omo_http_port(omo_http *h)
{
	return h->port;
}

void omo_http_close(omo_http *h)
{
	if (h == NULL)
		return;
	nng_http_server_stop(h->server);
	nng_http_server_release(h->server);
	free(h);
}
