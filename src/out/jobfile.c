/* job.json: the identity of a job's input and its options, written once
 * before anything is sent, read back by `bulkcall resume`. The input is
 * identified by size and zlib's CRC-32 over its bytes (docs/durability.md
 * says why), and so are the --template and --profile-file the profile
 * reads; mtime is kept for the message only. cJSON and zlib. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include "bulkcall/error.h"
#include "bulkcall/journal.h"

#define JOBFILE_VERSION 1

int bc_file_identity(const char *path, uint64_t *size, int64_t *mtime_ms,
		     uint32_t *crc, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open '%s': %s", path,
			 strerror(errno));
		return BC_EIO;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot stat '%s': %s", path,
			 strerror(errno));
		close(fd);
		return BC_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		/* A pipe or device: reading it here would consume it. */
		snprintf(err, errlen, "'%s' is not a regular file", path);
		close(fd);
		return BC_EINVAL;
	}
	*size = (uint64_t)st.st_size;
	*mtime_ms =
	    (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	enum { CHUNK = 1 << 20 };
	unsigned char *buf = malloc(CHUNK);
	if (!buf) {
		close(fd);
		return BC_ENOMEM;
	}
	uLong c = crc32(0L, Z_NULL, 0);
	uint64_t total = 0;
	int result = BC_OK;
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read '%s': %s", path,
				 strerror(errno));
			result = BC_EIO;
			break;
		}
		if (n == 0)
			break;
		c = crc32(c, buf, (uInt)n);
		total += (uint64_t)n;
	}
	free(buf);
	close(fd);
	*crc = (uint32_t)c;
	/* Read size, not stat size: a file growing under us is caught. */
	*size = total;
	return result;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int e = fsync(fd) != 0 ? errno : 0;
	close(fd);
	return e == EINVAL ? 0 : e;
}

static int write_durably(const char *path, const char *tmp, const char *text,
			 char *err, size_t errlen)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create '%s': %s", tmp,
			 strerror(errno));
		return BC_EIO;
	}
	size_t len = strlen(text);
	const char *p = text;
	int e = 0;
	while (len && !e) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			e = errno;
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	if (!e && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) != 0)
		e = errno;
	if (e) {
		snprintf(err, errlen, "cannot write '%s': %s", path,
			 strerror(e));
		unlink(tmp);
		return BC_EIO;
	}
	return BC_OK;
}

/* A file's identity: its size and CRC-32 (hex), as resume compares them. */
static void add_identity(cJSON *o, uint64_t size, uint32_t crc32)
{
	char crc[16];
	snprintf(crc, sizeof crc, "%08" PRIx32, crc32);
	cJSON_AddNumberToObject(o, "size", (double)size);
	cJSON_AddStringToObject(o, "crc32", crc);
}

static void add_dep(cJSON *root, const char *name,
		    const struct bc_jobfile_dep *d)
{
	if (!d->path)
		return;
	cJSON *o = cJSON_AddObjectToObject(root, name);
	cJSON_AddStringToObject(o, "path", d->path);
	cJSON_AddBoolToObject(o, "regular", d->regular);
	if (d->regular)
		add_identity(o, d->size, d->crc32);
}

int bc_jobfile_write(const char *dir, const struct bc_jobfile *jf, char *err,
		     size_t errlen)
{
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return BC_ENOMEM;
	cJSON_AddNumberToObject(root, "bulkcall_job", JOBFILE_VERSION);
	cJSON *in = cJSON_AddObjectToObject(root, "input");
	cJSON_AddStringToObject(in, "path", jf->input);
	cJSON_AddBoolToObject(in, "resumable", jf->resumable);
	if (jf->resumable) {
		add_identity(in, jf->input_size, jf->input_crc32);
		cJSON_AddNumberToObject(in, "mtime_ms",
					(double)jf->input_mtime_ms);
	} else {
		cJSON_AddStringToObject(in, "why_not",
					"the input was read from stdin or a "
					"pipe, which cannot be read again");
	}
	cJSON_AddStringToObject(root, "profile", jf->profile);
	cJSON_AddBoolToObject(root, "idempotent", jf->idempotent);
	cJSON_AddNumberToObject(root, "started_ms", (double)jf->started_ms);
	add_dep(root, "template", &jf->template_file);
	add_dep(root, "profile_file", &jf->profile_file);
	cJSON *opts = jf->options_json ? cJSON_Parse(jf->options_json) : NULL;
	cJSON_AddItemToObject(root, "options",
			      opts ? opts : cJSON_CreateObject());
	cJSON *cfg = jf->config_json ? cJSON_Parse(jf->config_json) : NULL;
	cJSON_AddItemToObject(root, "config", cfg ? cfg : cJSON_CreateObject());
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return BC_ENOMEM;
	char path[4200], tmp[4210];
	snprintf(path, sizeof path, "%s/%s", dir, BC_JOBFILE_NAME);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	size_t tlen = strlen(text);
	char *withnl = malloc(tlen + 2);
	int result = BC_ENOMEM;
	if (withnl) {
		memcpy(withnl, text, tlen);
		memcpy(withnl + tlen, "\n", 2);
		result = write_durably(path, tmp, withnl, err, errlen);
		free(withnl);
	}
	cJSON_free(text);
	if (!result) {
		int e = fsync_dir(dir);
		if (e) {
			snprintf(err, errlen, "cannot sync folder '%s': %s",
				 dir, strerror(e));
			result = BC_EIO;
		}
	}
	return result;
}

static char *dup_string(const cJSON *item)
{
	return cJSON_IsString(item) ? strdup(item->valuestring) : NULL;
}

/* A job.json written before files were recorded has none: path NULL. */
static void read_dep(const cJSON *root, const char *name,
		     struct bc_jobfile_dep *d)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, name);
	if (!cJSON_IsObject(o))
		return;
	d->path = dup_string(cJSON_GetObjectItemCaseSensitive(o, "path"));
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "size");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "crc32");
	d->regular =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "regular")) &&
	    cJSON_IsNumber(v) && cJSON_IsString(c);
	d->size = d->regular ? (uint64_t)v->valuedouble : 0;
	d->crc32 = d->regular ? (uint32_t)strtoul(c->valuestring, NULL, 16) : 0;
}

int bc_jobfile_read(const char *dir, struct bc_jobfile *jf, char *err,
		    size_t errlen)
{
	memset(jf, 0, sizeof *jf);
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, BC_JOBFILE_NAME);
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "cannot open '%s': %s", path,
			 strerror(e));
		return e == ENOENT ? BC_ENOTFOUND : BC_EIO;
	}
	enum { MAX = 4 << 20 };
	char *text = malloc(MAX);
	size_t n = text ? fread(text, 1, MAX - 1, f) : 0;
	fclose(f);
	if (!text)
		return BC_ENOMEM;
	text[n] = '\0';
	cJSON *root = cJSON_Parse(text);
	free(text);
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "input");
	const cJSON *ver =
	    cJSON_GetObjectItemCaseSensitive(root, "bulkcall_job");
	const cJSON *profile =
	    cJSON_GetObjectItemCaseSensitive(root, "profile");
	if (!cJSON_IsObject(root) || !cJSON_IsNumber(ver) ||
	    ver->valueint != JOBFILE_VERSION || !cJSON_IsObject(in) ||
	    !cJSON_IsString(profile)) {
		snprintf(err, errlen, "'%s' is not a bulkcall job file", path);
		cJSON_Delete(root);
		return BC_EPARSE;
	}
	jf->input = dup_string(cJSON_GetObjectItemCaseSensitive(in, "path"));
	jf->resumable =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "resumable"));
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "size");
	jf->input_size = cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
	v = cJSON_GetObjectItemCaseSensitive(in, "mtime_ms");
	jf->input_mtime_ms = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
	v = cJSON_GetObjectItemCaseSensitive(in, "crc32");
	jf->input_crc32 =
	    cJSON_IsString(v) ? (uint32_t)strtoul(v->valuestring, NULL, 16) : 0;
	jf->profile = strdup(profile->valuestring);
	jf->idempotent =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "idempotent"));
	v = cJSON_GetObjectItemCaseSensitive(root, "started_ms");
	jf->started_ms = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
	read_dep(root, "template", &jf->template_file);
	read_dep(root, "profile_file", &jf->profile_file);
	v = cJSON_GetObjectItemCaseSensitive(root, "options");
	jf->options_json = v ? cJSON_PrintUnformatted(v) : NULL;
	v = cJSON_GetObjectItemCaseSensitive(root, "config");
	jf->config_json = v ? cJSON_PrintUnformatted(v) : NULL;
	cJSON_Delete(root);
	if (!jf->input || !jf->profile) {
		snprintf(err, errlen, "'%s' is not a bulkcall job file", path);
		bc_jobfile_release(jf);
		return BC_EPARSE;
	}
	return BC_OK;
}

void bc_jobfile_release(struct bc_jobfile *jf)
{
	free(jf->input);
	free(jf->profile);
	/* cJSON_Print* uses the default allocator (malloc). */
	free(jf->options_json);
	free(jf->config_json);
	free(jf->template_file.path);
	free(jf->profile_file.path);
	memset(jf, 0, sizeof *jf);
}
