#include "folder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const subs[] = {"inbox", "processing", "archive", "error", "outbox"};

static void path_of(char *out, size_t cap, const char *root, const char *partner, const char *sub,
                    const char *name)
{
	snprintf(out, cap, "%s/%s%s%s%s%s", root, partner, sub ? "/" : "", sub ? sub : "",
	         name ? "/" : "", name ? name : "");
}

/* sync_dir makes a rename in dir durable. */
static int sync_dir(const char *root, const char *partner, const char *sub)
{
	char p[4096];
	path_of(p, sizeof p, root, partner, sub, NULL);
	int fd = open(p, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int mkdir_p(const char *p)
{
	return mkdir(p, 0750) == 0 || errno == EEXIST ? 0 : -1;
}

int folder_open(const char *root, const char *partner, char *err, size_t errlen)
{
	char p[4096];
	path_of(p, sizeof p, root, partner, NULL, NULL);
	if (mkdir_p(root) || mkdir_p(p)) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		path_of(p, sizeof p, root, partner, subs[i], NULL);
		if (mkdir_p(p)) {
			snprintf(err, errlen, "%s: %s", p, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int folder_list(const char *root, const char *partner, const char *sub,
                char (*names)[FOLDER_NAME_MAX + 1], int max)
{
	char p[4096];
	path_of(p, sizeof p, root, partner, sub, NULL);
	DIR *d = opendir(p);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while (n < max && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strlen(e->d_name) > FOLDER_NAME_MAX)
			continue;
		struct stat st;
		path_of(p, sizeof p, root, partner, sub, e->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			memcpy(names[n++], e->d_name,
			       strlen(e->d_name) + 1); /* length checked above */
	}
	closedir(d);
	if (n > 1)
		qsort(names, (size_t)n, sizeof *names, cmp_name);
	return n;
}

static int move(const char *root, const char *partner, const char *from, const char *to,
                const char *name)
{
	char a[4096], b[4096];
	path_of(a, sizeof a, root, partner, from, name);
	path_of(b, sizeof b, root, partner, to, name);
	if (rename(a, b) != 0)
		return errno == ENOENT ? 1 : -1; /* 1: already moved */
	return sync_dir(root, partner, to) || sync_dir(root, partner, from) ? -1 : 0;
}

int folder_claim(const char *root, const char *partner, int max)
{
	char(*names)[FOLDER_NAME_MAX + 1] = malloc((size_t)(max > 0 ? max : 1) * sizeof *names);
	if (!names)
		return -1;
	int n = folder_list(root, partner, "inbox", names, max), claimed = 0;
	for (int i = 0; i < n; i++)
		if (move(root, partner, "inbox", "processing", names[i]) == 0)
			claimed++;
	free(names);
	return n < 0 ? -1 : claimed;
}

char *folder_read(const char *root, const char *partner, const char *sub, const char *name,
                  size_t max, size_t *len)
{
	char p[4096];
	path_of(p, sizeof p, root, partner, sub, name);
	FILE *f = fopen(p, "rb");
	struct stat st;
	*len = 0;
	if (!f)
		return NULL;
	char *buf = NULL;
	if (fstat(fileno(f), &st) == 0) {
		*len = (size_t)st.st_size;
		if (*len <= max && (buf = malloc(*len + 1)) != NULL) {
			if (fread(buf, 1, *len, f) == *len)
				buf[*len] = 0;
			else {
				free(buf);
				buf = NULL;
			}
		}
	}
	fclose(f);
	return buf;
}

int folder_put(const char *root, const char *partner, const char *sub, const char *name,
               const void *data, size_t len)
{
	char tmp[4096], dst[4096], hidden[FOLDER_NAME_MAX + 8];
	snprintf(hidden, sizeof hidden, ".%s.tmp", name);
	path_of(tmp, sizeof tmp, root, partner, sub, hidden);
	path_of(dst, sizeof dst, root, partner, sub, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd < 0)
		return -1;
	const char *p = data;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);
		if (w <= 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, dst) != 0) {
		unlink(tmp);
		return -1;
	}
	return sync_dir(root, partner, sub);
}

int folder_file(const char *root, const char *partner, const char *name, bool ok,
                const char *reason)
{
	if (!ok) {
		char rname[FOLDER_NAME_MAX + 16];
		snprintf(rname, sizeof rname, "%s.reason", name);
		if (folder_put(root, partner, "error", rname, reason, strlen(reason)) != 0)
			return -1;
	}
	return move(root, partner, "processing", ok ? "archive" : "error", name) < 0 ? -1 : 0;
}
