/*
 * test_tls_link.c - partner documents over tls+tcp:// with mutual TLS
 * (services/adapters/tls_link.h), with certificates made for the run by
 * tests/adapters/make_certs.sh (openssl): the partner's certificate gets its
 * document through; no certificate, a certificate of another partner's
 * authority, and an expired certificate of the partner's own authority are
 * refused; a replayed message id and a message sent outside the window are
 * ignored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter_testkit.h"
#include "testkit.h"
#include "tls_link.h"

typedef struct fx {
	char dir[64], url[64];
	tls_link *link;
	tls_seen seen;
	int served;
	atomic_bool stop;
	pthread_t server;
} fx;

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* What the adapter answers a partner message: applied, or why it is ignored. */
static void answer(void *arg, const char *req, size_t len, char **reply, size_t *reply_len)
{
	fx *f = arg;
	const char *doc;
	size_t n;
	const char *why = tls_link_check(&f->seen, req, len, wall_us(), &doc, &n);
	char buf[256];
	if (why)
		snprintf(buf, sizeof buf, "ignored: %s", why);
	else
		snprintf(buf, sizeof buf, "accepted: %.*s", (int)n, doc);
	*reply = strdup(buf);
	*reply_len = strlen(buf);
	f->served++;
}

static void *serve(void *arg)
{
	fx *f = arg;
	while (!atomic_load(&f->stop))
		tls_link_serve(f->link, 100, answer, f);
	return NULL;
}

static const char *cert(fx *f, const char *name)
{
	static char paths[4][256];
	static int k;
	char *p = paths[k++ % 4];
	snprintf(p, 256, "%s/%s", f->dir, name);
	return p;
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	char script[512], cmd[1024], err[256];
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		fprintf(stderr, "skipped: the openssl command is missing (deploy/install-deps)\n");
		free(f);
		*state = NULL;
		return 0;
	}
	tk_mkdtemp(f->dir, sizeof f->dir, "tls");
	snprintf(cmd, sizeof cmd, "sh %s %s", at_tests(script, sizeof script, "make_certs.sh"),
	         f->dir);
	if (system(cmd) != 0)
		return -1;
	if (tls_link_listen(&f->link, "tls+tcp://127.0.0.1:0", cert(f, "server.pem"),
	                    cert(f, "acme-ca.pem"), err, sizeof err) != 0) {
		fprintf(stderr, "listen: %s\n", err);
		return -1;
	}
	snprintf(f->url, sizeof f->url, "tls+tcp://127.0.0.1:%d", tls_link_port(f->link));
	pthread_create(&f->server, NULL, serve, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	if (!f)
		return 0;
	atomic_store(&f->stop, true);
	pthread_join(f->server, NULL);
	tls_link_close(f->link);
	tk_rm_rf(f->dir);
	free(f);
	return 0;
}

/* send_as sends a framed document as the holder of cert_pem (NULL: none);
 * returns the reply (heap) or NULL when the link refused. */
static char *send_as(fx *f, const char *cert_pem, const char *id, int64_t sent_us)
{
	size_t len, rlen;
	char *msg = tls_link_frame(id, sent_us, "ISA*...", 7, &len), *reply = NULL, err[256];
	int rc = tls_link_send(f->url, cert_pem ? cert(f, cert_pem) : NULL, cert(f, "omo-ca.pem"),
	                       msg, len, 1500, &reply, &rlen, err, sizeof err);
	free(msg);
	return rc == 0 ? reply : NULL;
}

static void test_partner_certificate(void **state)
{
	fx *f = *state;
	if (!f)
		skip();
	char *r = send_as(f, "acme-client.pem", "m-1", wall_us());
	assert_non_null(r);
	assert_string_equal(r, "accepted: ISA*...");
	free(r);
}

static void test_refused_certificates(void **state)
{
	fx *f = *state;
	if (!f)
		skip();
	int before = f->served;
	assert_null(send_as(f, NULL, "m-2", wall_us()));
	assert_null(send_as(f, "other-client.pem", "m-3", wall_us()));
	assert_null(send_as(f, "acme-expired.pem", "m-4", wall_us()));
	assert_int_equal(f->served, before); /* not one of them was read */
}

static void test_replays_ignored(void **state)
{
	fx *f = *state;
	if (!f)
		skip();
	int64_t now = wall_us();
	char *r = send_as(f, "acme-client.pem", "m-5", now);
	assert_string_equal(r, "accepted: ISA*...");
	free(r);
	r = send_as(f, "acme-client.pem", "m-5", now);
	assert_string_equal(r, "ignored: replayed message id");
	free(r);
	r = send_as(f, "acme-client.pem", "m-6", now - TLS_LINK_WINDOW_US - 1000000);
	assert_string_equal(r, "ignored: sent outside the replay window");
	free(r);
	r = send_as(f, "acme-client.pem", "m-7", now + TLS_LINK_WINDOW_US + 1000000);
	assert_string_equal(r, "ignored: sent outside the replay window");
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_partner_certificate),
	    cmocka_unit_test(test_refused_certificates),
	    cmocka_unit_test(test_replays_ignored),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
