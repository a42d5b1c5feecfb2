/* libFuzzer target: the agent's input path without tokens. The input is a
 * byte stream as the browser would write it to the agent's stdin: frames are
 * read with the agent's reader (1 KiB limit here, so oversized frames are
 * exercised) and each body goes through agent_handle with a configuration
 * whose PKCS#11 module does not exist (and p11-kit's list off) and whose
 * pinentry is /bin/false, so every command runs its argument and origin
 * checks and then fails cleanly. Every answer must be a JSON object of bounded size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "log.h"

struct mem {
	const uint8_t *p;
	size_t left;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n)
{
	struct mem *m = ctx;
	if (n > m->left)
		n = m->left;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct agent_ctx a;
	static int init;
	if (!init) {
		llv_log_set_level(LLV_LOG_ERROR);
		agent_ctx_init(&a);
		a.cfg.modules[0] = strdup("/nonexistent/llavero-fuzz.so");
		a.cfg.n_modules = 1;
		/* Not p11-kit's modules either (the AUTO fallback when the
		 * configured one fails): no real token is ever reached. */
		a.cfg.p11kit = AGENT_P11KIT_OFF;
		a.cfg.pinentry = strdup("/bin/false");
		init = 1;
	}
	struct mem m = { data, size };
	for (int i = 0; i < 16; i++) {
		char *body = NULL;
		size_t len = 0;
		uint32_t declared = 0;
		int rc = agent_frame_read(mem_read, &m, 1024, &body, &len, &declared);
		if (rc != AGENT_FRAME_OK)
			break;
		char *resp = agent_handle(&a, body, len);
		if (!resp || resp[0] != '{' || strlen(resp) > AGENT_MAX_OUT)
			abort();
		free(resp);
		free(body);
	}
	/* The request parser alone on the whole input, too. */
	char *resp = agent_handle(&a, (const char *)data, size);
	if (!resp || resp[0] != '{')
		abort();
	free(resp);
	return 0;
}
