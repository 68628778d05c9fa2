/* ref-verify-server.c — the yardstick for bench-verify: libmicrohttpd in
 * the same mode as civicard (internal polling threads, epoll, thread pool),
 * answering every request with a fixed JSON body after checking one
 * Ed25519 signature. Whatever civicard's /api/v1/verify reaches is
 * compared with what this reaches in the same run.
 *
 *   ref-verify-server PORT [THREADS]      (stops on SIGINT/SIGTERM) */
#include <microhttpd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
static const char msg[] = "civicard-token-v1 reference message of token size, about 100 bytes long......";
static const char answer[] = "{\"result\":\"valid\",\"card_number\":\"K7QM4TXP9W2\",\"version\":1,"
			     "\"given_names\":\"Thi Anh\",\"family_name\":\"Nguyen\","
			     "\"date_of_birth\":\"1990-02-14\",\"expires_on\":\"2031-11-23\"}";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **state)
{
	(void)cls; (void)url; (void)method; (void)version; (void)data;
	if (!*state) {
		*state = (void *)1;
		return MHD_YES;
	}
	if (*size) {
		*size = 0;
		return MHD_YES;
	}
	int ok = crypto_sign_verify_detached(sig, (const uint8_t *)msg, sizeof msg - 1, pk) == 0;
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof answer - 1, (void *)answer,
								  MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result q = MHD_queue_response(c, ok ? 200 : 500, r);
	MHD_destroy_response(r);
	return q;
}

int main(int argc, char **argv)
{
	if (argc < 2 || sodium_init() < 0)
		return 2;
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_keypair(pk, sk);
	crypto_sign_detached(sig, NULL, (const uint8_t *)msg, sizeof msg - 1, sk);
	unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD, (uint16_t)atoi(argv[1]),
						NULL, NULL, on_request, NULL,
						MHD_OPTION_THREAD_POOL_SIZE, threads,
						MHD_OPTION_CONNECTION_TIMEOUT, 30u,
						MHD_OPTION_END);
	if (!d)
		return 1;
	int sig_no;
	sigwait(&set, &sig_no);
	MHD_stop_daemon(d);
	return 0;
}
