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
#include <sys/stat.h>
#include <time.h>

#include "adapter.h"
#include "adapter_testkit.h"
#include "folder.h"
#include "x12_test_util.h"
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

/* ---- the adapter service's listeners -------------------------------------- */

static omo_err orders_ok(void *arg, const char *peer, const omo_msg *req, omo_msg *reply,
                         omo_error_detail *d)
{
	(void)peer;
	(void)d;
	(*(int *)arg) += req->type == OMO_MSG_SUBMIT_ORDER;
	omo_msg_init(reply,
	             req->type == OMO_MSG_SUBMIT_ORDER ? OMO_MSG_SUBMIT_ORDER_REPLY : OMO_MSG_ACK);
	return OMO_E_OK;
}

static char *send_doc(const char *url, fx *f, const char *cert_pem, const char *id, const char *doc,
                      size_t len)
{
	size_t n, rlen;
	char *msg = tls_link_frame(id, wall_us(), doc, len, &n), *reply = NULL, err[256];
	int rc = tls_link_send(url, cert_pem ? cert(f, cert_pem) : NULL, cert(f, "omo-ca.pem"), msg,
	                       n, 1500, &reply, &rlen, err, sizeof err);
	free(msg);
	return rc == 0 ? reply : NULL;
}

static void test_adapter_listener(void **state)
{
	fx *f = *state;
	if (!f)
		skip();
	/* a partner whose mapping gives it a listener and its own authority */
	char dir[128], path[256], folders[160], opt[3][300];
	snprintf(dir, sizeof dir, "%s/partners", f->dir);
	snprintf(folders, sizeof folders, "%s/folders", f->dir);
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/acme.yaml", dir);
	FILE *y = fopen(path, "w");
	fprintf(y,
	        "partner: acme\nchannel: b2b\nx12: {id: \"12:4405197800\", our_id: "
	        "\"01:999999999\"}\ndocuments: {in: [850]}\n"
	        "tls: {listen: \"tls+tcp://127.0.0.1:0\", ca: %s/acme-ca.pem}\n"
	        "default_ship_to: {lat: 41.4, lon: -81.4}\nitems:\n",
	        f->dir);
	const char *codes[] = {"065322-117", "066850-116", "060733-110",
	                       "065308-116", "065374-118", "067504-118"};
	for (int i = 0; i < 6; i++)
		fprintf(y, "  - {sku: SKU-000%d, buyer: \"%s\"}\n", i + 1, codes[i]);
	fprintf(y, "locations:\n  - {duns: \"0003947268292\", ship_to: {lat: 41.4, lon: -81.4}}\n");
	fclose(y);
	snprintf(opt[0], sizeof opt[0], "partners_dir=%s", dir);
	snprintf(opt[1], sizeof opt[1], "folders_dir=%s", folders);
	snprintf(opt[2], sizeof opt[2], "tls_cert=%s", cert(f, "server.pem"));
	tk_svc s;
	int submitted = 0;
	tk_svc_open(&s, &adapter_service, "adapter-tls",
	            (const char *const[]){opt[0], opt[1], opt[2], NULL});
	omo_core_set_caller(s.core, orders_ok, &submitted);
	adapter_app *app = s.app;
	char url[64];
	snprintf(url, sizeof url, "tls+tcp://127.0.0.1:%d", tls_link_port(app->links[0]));

	size_t len;
	char *po = x12t_load("x12_850_nodex12_vics.edi", &len);
	char *r = send_doc(url, f, "acme-client.pem", "po/1", po, len);
	assert_non_null(r);
	assert_string_equal(r, "queued tls-po_1.edi");
	free(r);
	r = send_doc(url, f, "acme-client.pem", "po/1", po, len); /* the same message again */
	assert_string_equal(r, "ignored: replayed message id");
	free(r);
	assert_null(send_doc(url, f, "other-client.pem", "po/2", po, len));
	assert_null(send_doc(url, f, NULL, "po/3", po, len));
	free(po);

	tk_tick(&s, NULL); /* applied */
	tk_tick(&s, NULL); /* filed */
	assert_int_equal(submitted, 1);
	char names[4][FOLDER_NAME_MAX + 1];
	assert_int_equal(folder_list(folders, "acme", "archive", names, 4), 1);
	assert_string_equal(names[0], "tls-po_1.edi");
	assert_int_equal(folder_list(folders, "acme", "inbox", names, 4), 0);
	tk_svc_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_partner_certificate),
	    cmocka_unit_test(test_refused_certificates),
	    cmocka_unit_test(test_replays_ignored),
	    cmocka_unit_test(test_adapter_listener),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
