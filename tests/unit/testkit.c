/*
 * testkit.c - the unit tests' shared fixture code (testkit.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testkit.h"

void tk_rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		while (d != NULL && (e = readdir(d)) != NULL) {
			char sub[512];
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			tk_rm_rf(sub);
		}
		if (d != NULL)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

char *tk_mkdtemp(char *dir, size_t size, const char *tag)
{
	snprintf(dir, size, "/tmp/omo-test-%s-XXXXXX", tag);
	return mkdtemp(dir);
}

const char *tk_demo_dir(void)
{
	static char path[512];
	const char *src = getenv("OMO_SOURCE_DIR");
	snprintf(path, sizeof(path), "%s/simulators/scenarios/demo", src ? src : ".");
	return path;
}

int64_t tk_clock(void *arg)
{
	return *(const int64_t *)arg;
}

omo_buf tk_encode(const omo_msg *m)
{
	omo_buf b = {0};
	omo_error_detail d = {0};
	if (omo_msg_encode(m, &b, &d) != OMO_E_OK)
		fail_msg("encode %s: %s", omo_msg_name(m->type), d.text);
	return b;
}

/* ---- a service core under test ----------------------------------------- */

static void svc_set(tk_svc *s, const char *name, const char *value)
{
	if (omo_config_set(s->def->options, s->def->n_options, s->cfg, name, value) != 0)
		fail_msg("option %s=%s refused", name, value);
}

void tk_svc_open(tk_svc *s, const omo_service_def *def, const char *tag, const char *const *opts)
{
	char err[300];
	memset(s, 0, sizeof(*s));
	s->def = def;
	s->now = TK_NOW;
	s->cfg = calloc(1, def->config_size);
	s->app = calloc(1, def->app_size);
	assert_non_null(s->cfg);
	assert_non_null(s->app);
	assert_non_null(tk_mkdtemp(s->dir, sizeof(s->dir), tag));
	if (omo_config_load(def->options, def->n_options, s->cfg, "test", 0, NULL, err,
	                    sizeof(err)) != 0)
		fail_msg("config: %s", err);
	snprintf(s->data, sizeof(s->data), "%s/data", s->dir);
	svc_set(s, "network_dir", tk_demo_dir());
	svc_set(s, "data_dir", s->data);
	svc_set(s, "sync", "0");
	for (const char *const *o = opts; o != NULL && *o != NULL; o++) {
		char name[64];
		const char *eq = strchr(*o, '=');
		assert_non_null(eq);
		snprintf(name, sizeof(name), "%.*s", (int)(eq - *o), *o);
		svc_set(s, name, eq + 1);
	}
	if (def->app_init(s->app, s->cfg, err, sizeof(err)) != 0)
		fail_msg("app_init: %s", err);
	tk_core_open(s);
}

void tk_core_open(tk_svc *s)
{
	omo_error_detail d = {0};
	omo_err e = omo_core_open(&s->core, omo_service_handlers(s->def, s->app), s->app, s->data,
	                          TK_MAP, false, &d);
	if (e != OMO_E_OK)
		fail_msg("core_open: %s %s", omo_err_name(e), d.text);
	omo_core_set_clock(s->core, tk_clock, &s->now);
}

void tk_svc_close(tk_svc *s)
{
	omo_core_close(s->core);
	s->core = NULL;
	if (s->app != NULL)
		s->def->app_fini(s->app);
	free(s->app);
	free(s->cfg);
	s->app = s->cfg = NULL;
	tk_rm_rf(s->dir);
}

void tk_got_fini(tk_got *g)
{
	for (size_t i = 0; i < g->n; i++)
		omo_msg_fini(&g->m[i]);
	g->n = 0;
}

void tk_got_take(omo_core *c, tk_got *g)
{
	const omo_buf *evs;
	omo_error_detail d = {0};
	tk_got_fini(g);
	size_t n = omo_core_published(c, &evs);
	assert_true(n <= TK_MAX_GOT);
	for (size_t i = 0; i < n; i++) {
		if (omo_msg_decode(evs[i].data, evs[i].len, &g->m[i], &d) != OMO_E_OK)
			fail_msg("published event %zu does not decode: %s", i, d.text);
		g->n++;
	}
}

void tk_request(tk_svc *s, tk_got *g, omo_msg *req, omo_msg *r, omo_buf *raw)
{
	omo_buf in, out = {0};
	omo_error_detail d = {0};
	if (omo_uuid_is_nil(&req->id))
		omo_uuid_generate(&req->id);
	in = tk_encode(req);
	assert_int_equal(omo_core_begin(s->core), OMO_E_OK);
	omo_core_request(s->core, in.data, in.len, &out);
	assert_int_equal(omo_core_commit(s->core), OMO_E_OK);
	tk_got_take(s->core, g);
	assert_true(out.len > 0);
	if (omo_msg_decode(out.data, out.len, r, &d) != OMO_E_OK)
		fail_msg("reply does not decode: %s", d.text);
	assert_memory_equal(r->corr.b, req->id.b, 16);
	if (raw != NULL)
		*raw = out;
	else
		omo_buf_fini(&out);
	omo_buf_fini(&in);
}

omo_applied tk_feed(tk_svc *s, tk_got *g, tk_stream *st, omo_msg *ev, uint64_t seq, omo_gap *gap,
                    int64_t *next)
{
	omo_gap ignored;
	snprintf(ev->producer, sizeof(ev->producer), "%s", st->producer);
	ev->epoch = st->epoch;
	ev->seq = seq ? seq : st->seq + 1;
	ev->ts_us = s->now;
	omo_uuid_generate(&ev->id);
	omo_buf b = tk_encode(ev);
	assert_int_equal(omo_core_begin(s->core), OMO_E_OK);
	omo_applied a = omo_core_event(s->core, b.data, b.len, gap ? gap : &ignored);
	if (next != NULL)
		*next = omo_core_tick(s->core);
	assert_int_equal(omo_core_commit(s->core), OMO_E_OK);
	tk_got_take(s->core, g);
	if (a == OMO_APPLIED && ev->seq > st->seq)
		st->seq = ev->seq;
	omo_buf_fini(&b);
	return a;
}

int64_t tk_tick(tk_svc *s, tk_got *g)
{
	assert_int_equal(omo_core_begin(s->core), OMO_E_OK);
	int64_t next = omo_core_tick(s->core);
	assert_int_equal(omo_core_commit(s->core), OMO_E_OK);
	if (g != NULL)
		tk_got_take(s->core, g);
	return next;
}

void tk_assert_error(const omo_msg *r, const char *code)
{
	if (r->type != OMO_MSG_ERROR)
		fail_msg("got a %s reply, want error %s", omo_msg_name(r->type), code);
	if (strcmp(r->body.error.code, code) != 0)
		fail_msg("got error %s (%s), want %s", r->body.error.code, r->body.error.message,
		         code);
}
