/* transport_bench: N requests at concurrency C against one URL through the
 * transport API, printing req/s. Compares the two event loops
 * (--loop epoll|poll) and multi-handle sizes (-k). Not a test: it prints
 * figures. Run bench/transport_bench.sh for the table in docs/transport.md.
 *
 * Build: add_subdirectory(bench) (bench/CMakeLists.txt), or by hand after
 * building libbulkcall in build/:
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude \
 *      bench/transport_bench.c build/libbulkcall.a $(pkg-config --libs libcurl) \
 *      -o build/transport_bench
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bulkcall/error.h"
#include "bulkcall/transport.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: a figure that other load on the machine
 * disturbs far less than wall-clock throughput. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: transport_bench [-n N] [-c C] [-k PER_MULTI] "
		"[-l epoll|poll] [-t THREADS] [-m METHOD] [-d BODY] [-i] URL\n"
		"  -n requests (200000)  -c in flight (100)\n"
		"  -k transfers per multi handle (100; C = one handle)\n"
		"  -l event loop (epoll)  -i insecure TLS (self-signed)\n"
		"  -t worker threads (0: this thread drives libcurl)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long n = 200000, c = 100, k = 100;
	const char *method = "GET", *body = NULL;
	struct bc_transport_options o = { 0 };
	int opt;
	while ((opt = getopt(argc, argv, "n:c:k:l:m:d:it:")) != -1) {
		switch (opt) {
		case 'n':
			n = atol(optarg);
			break;
		case 'c':
			c = atol(optarg);
			break;
		case 'k':
			k = atol(optarg);
			break;
		case 'l':
			if (!strcmp(optarg, "epoll"))
				o.loop = BC_LOOP_EPOLL;
			else if (!strcmp(optarg, "poll"))
				o.loop = BC_LOOP_POLL;
			else
				usage();
			break;
		case 'm':
			method = optarg;
			break;
		case 'd':
			body = optarg;
			break;
		case 'i':
			o.insecure = 1;
			break;
		case 't':
			o.threads = (unsigned)atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || n <= 0 || c <= 0 || k <= 0)
		usage();
	const char *url = argv[optind];
	o.max_in_flight = (size_t)c;
	o.conns_per_multi = (size_t)k;

	struct bc_transport *t;
	char err[256];
	int rc = bc_transport_new(&t, &o, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "transport_bench: %s\n", err);
		return 1;
	}
	/* curl's TOTAL_TIME and our own submit-to-done time */
	int64_t *lat = malloc((size_t)n * sizeof(*lat));
	int64_t *own = malloc((size_t)n * sizeof(*own));
	double *sent_at = malloc((size_t)n * sizeof(*sent_at));
	if (!lat || !own || !sent_at)
		return 1;

	long submitted = 0, done = 0, counts[5] = { 0 }, s2xx = 0;
	size_t body_len = body ? strlen(body) : 0;
	double t0 = now_s(), t_warm = 0, c0 = cpu_s();
	long warm_done = 0;
	while (done < n) {
		while (submitted < n && bc_transport_in_flight(t) < (size_t)c) {
			rc = bc_transport_submit(t, (uint64_t)submitted, method,
						 url, body, body_len, NULL);
			if (rc == BC_ETOOBIG)
				break;
			if (rc) {
				fprintf(stderr, "transport_bench: submit: %s\n",
					bc_strerror(rc));
				return 1;
			}
			sent_at[submitted++] = now_s();
		}
		rc = bc_transport_poll(t, 1000);
		if (rc < 0) {
			fprintf(stderr, "transport_bench: poll: %s\n",
				bc_strerror(rc));
			return 1;
		}
		struct bc_transfer_done d;
		while (bc_transport_next_done(t, &d)) {
			counts[d.result]++;
			if (d.status >= 200 && d.status < 300)
				s2xx++;
			else if (d.result != BC_NET_OK && counts[d.result] <= 3)
				fprintf(stderr, "# %s: %s\n",
					bc_net_result_name(d.result), d.error);
			own[done] = (int64_t)((now_s() - sent_at[d.tag]) * 1e6);
			lat[done++] = d.latency_us;
			/* steady state: after the first window has come back */
			if (done == c && !warm_done) {
				t_warm = now_s();
				warm_done = done;
			}
		}
	}
	double t1 = now_s(), c1 = cpu_s();
	qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
	qsort(own, (size_t)n, sizeof(*own), cmp_i64);
	long per = k < c ? k : c;
	printf("loop=%s threads=%u C=%ld per_multi=%ld multis=%ld N=%ld time=%.2fs "
	       "req/s=%.0f steady_req/s=%.0f cpu_us/req=%.1f 2xx=%ld not_sent=%ld "
	       "maybe_sent=%ld other=%ld curl_p50=%.2fms curl_p99=%.2fms "
	       "p50=%.2fms p99=%.2fms max=%.2fms\n",
	       o.loop == BC_LOOP_EPOLL ? "epoll" : "poll", o.threads, c, per,
	       (c + per - 1) / per, n, t1 - t0, (double)n / (t1 - t0),
	       warm_done && t1 > t_warm
		       ? (double)(n - warm_done) / (t1 - t_warm)
		       : 0.0,
	       (c1 - c0) * 1e6 / (double)n, s2xx, counts[BC_NET_NOT_SENT], counts[BC_NET_MAYBE_SENT],
	       counts[BC_NET_TOO_BIG] + counts[BC_NET_LOCAL],
	       (double)lat[n / 2] / 1000.0, (double)lat[n * 99 / 100] / 1000.0,
	       (double)own[n / 2] / 1000.0, (double)own[n * 99 / 100] / 1000.0,
	       (double)own[n - 1] / 1000.0);
	free(lat);
	free(own);
	free(sent_at);
	bc_transport_free(t);
	return 0;
}
