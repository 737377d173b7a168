#include "tls_link.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tls_link {
	nng_socket sock;
	nng_listener listener;
	nng_tls_config *tls;
	int port;
};

static int fail(char *err, size_t errlen, const char *what, int rv)
{
	snprintf(err, errlen, "%s: %s", what, nng_strerror(rv));
	return -1;
}

/* config builds a TLS configuration: ours (cert_key may be NULL), whom we trust, and
 * that the peer must prove itself with a certificate. */
static int config(nng_tls_config **cp, nng_tls_mode mode, const char *cert_key, const char *ca,
                  char *err, size_t errlen)
{
	int rv = nng_tls_config_alloc(cp, mode);
	if (rv != 0)
		return fail(err, errlen, "tls config", rv);
	if (cert_key && (rv = nng_tls_config_cert_key_file(*cp, cert_key, NULL)) != 0)
		return fail(err, errlen, cert_key, rv);
	if ((rv = nng_tls_config_ca_file(*cp, ca)) != 0)
		return fail(err, errlen, ca, rv);
	if ((rv = nng_tls_config_auth_mode(*cp, NNG_TLS_AUTH_MODE_REQUIRED)) != 0)
		return fail(err, errlen, "tls auth mode", rv);
	if (mode == NNG_TLS_MODE_CLIENT && (rv = nng_tls_config_server_name(*cp, "server")) != 0)
		return fail(err, errlen, "tls server name", rv);
	return 0;
}

int tls_link_listen(tls_link **lp, const char *url, const char *cert_key_pem,
                    const char *partner_ca_pem, char *err, size_t errlen)
{
	tls_link *l = calloc(1, sizeof *l);
	int rv;
	*lp = NULL;
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((rv = nng_rep0_open(&l->sock)) != 0) {
		free(l);
		return fail(err, errlen, "rep0", rv);
	}
	if (config(&l->tls, NNG_TLS_MODE_SERVER, cert_key_pem, partner_ca_pem, err, errlen) != 0 ||
	    (rv = nng_listener_create(&l->listener, l->sock, url)) != 0 ||
	    (rv = nng_listener_set_ptr(l->listener, NNG_OPT_TLS_CONFIG, l->tls)) != 0 ||
	    (rv = nng_listener_start(l->listener, 0)) != 0 ||
	    (rv = nng_listener_get_int(l->listener, NNG_OPT_TCP_BOUND_PORT, &l->port)) != 0) {
		if (rv != 0)
			fail(err, errlen, url, rv);
		tls_link_close(l);
		return -1;
	}
	*lp = l;
	return 0;
}

int tls_link_port(tls_link *l)
{
	return l->port;
}

void tls_link_close(tls_link *l)
{
	if (!l)
		return;
	nng_close(l->sock);
	if (l->tls)
		nng_tls_config_free(l->tls);
	free(l);
}

int tls_link_serve(tls_link *l, int ms, tls_link_fn fn, void *arg)
{
	nng_msg *m;
	nng_socket_set_ms(l->sock, NNG_OPT_RECVTIMEO, ms);
	int rv = nng_recvmsg(l->sock, &m, 0);
	if (rv == NNG_ETIMEDOUT)
		return 0;
	if (rv != 0)
		return -1;
	char *reply = NULL;
	size_t rlen = 0;
	fn(arg, nng_msg_body(m), nng_msg_len(m), &reply, &rlen);
	nng_msg_clear(m);
	if (nng_msg_append(m, reply, rlen) != 0 || nng_sendmsg(l->sock, m, 0) != 0)
		nng_msg_free(m);
	free(reply);
	return 1;
}

int tls_link_send(const char *url, const char *cert_key_pem, const char *server_ca_pem,
                  const void *req, size_t len, int ms, char **reply, size_t *reply_len, char *err,
                  size_t errlen)
{
	nng_socket s;
	nng_dialer d;
	nng_tls_config *tls = NULL;
	int rv = nng_req0_open(&s);
	*reply = NULL;
	if (rv != 0)
		return fail(err, errlen, "req0", rv);
	int rc = config(&tls, NNG_TLS_MODE_CLIENT, cert_key_pem, server_ca_pem, err, errlen);
	if (rc == 0 && ((rv = nng_dialer_create(&d, s, url)) != 0 ||
	                (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls)) != 0 ||
	                (rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0))
		rc = fail(err, errlen, url, rv);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, ms);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, ms);
	void *buf = NULL;
	size_t n = 0;
	if (rc == 0 && ((rv = nng_send(s, (void *)req, len, 0)) != 0 ||
	                (rv = nng_recv(s, &buf, &n, NNG_FLAG_ALLOC)) != 0))
		rc = fail(err, errlen, "no answer", rv);
	if (rc == 0 && (*reply = malloc(n + 1)) != NULL) {
		memcpy(*reply, buf, n);
		(*reply)[n] = 0;
		*reply_len = n;
	}
	if (buf)
		nng_free(buf, n);
	nng_close(s);
	if (tls)
		nng_tls_config_free(tls);
	return rc;
}

/* ---- partner messages ------------------------------------------------------ */

char *tls_link_frame(const char *id, int64_t sent_us, const void *doc, size_t len, size_t *out_len)
{
	char head[128];
	int n = snprintf(head, sizeof head, "OMO-MSG %.64s %lld\n", id, (long long)sent_us);
	char *out = malloc((size_t)n + len);
	if (out) {
		memcpy(out, head, (size_t)n);
		memcpy(out + n, doc, len);
		*out_len = (size_t)n + len;
	}
	return out;
}

const char *tls_link_check(tls_seen *seen, const char *msg, size_t len, int64_t now_us,
                           const char **doc, size_t *doc_len)
{
	const char *nl = memchr(msg, '\n', len < 128 ? len : 128);
	char head[129], id[65];
	long long sent;
	if (!nl)
		return "not a partner message";
	memcpy(head, msg, (size_t)(nl - msg));
	head[nl - msg] = 0;
	if (sscanf(head, "OMO-MSG %64s %lld", id, &sent) != 2)
		return "not a partner message";
	if (sent < now_us - TLS_LINK_WINDOW_US || sent > now_us + TLS_LINK_WINDOW_US)
		return "sent outside the replay window";
	for (uint32_t i = 0; i < sizeof seen->ids / sizeof seen->ids[0]; i++)
		if (seen->at[i] >= now_us - TLS_LINK_WINDOW_US && strcmp(seen->ids[i], id) == 0)
			return "replayed message id";
	uint32_t slot = seen->next++ % (sizeof seen->ids / sizeof seen->ids[0]);
	memcpy(seen->ids[slot], id, strlen(id) + 1);
	seen->at[slot] = now_us;
	*doc = nl + 1;
	*doc_len = len - (size_t)(nl + 1 - msg);
	return NULL;
}
