/* The OCSP transport libllavero-verify asks for: an HTTP POST of the request
 * (application/ocsp-request) to the configured responder with libcurl,
 * bounded in time and size. SAT's e.firma certificates carry no OCSP URL, so
 * the responder always comes from the config ("ocsp_url"); pre-approved
 * responder certificates from "ocsp_responders" (idp_config_ocsp_opts). */
#include "idp.h"

#include "log.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define OCSP_MAX_RESPONSE (256 * 1024)

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct llv_buf *b = userdata;
	size_t n = size * nmemb;
	if (b->len + n > OCSP_MAX_RESPONSE)
		return 0;   /* aborts the transfer */
	llv_buf_put(b, ptr, n);
	return llv_buf_ok(b) ? n : 0;
}

static int transport(void *ctx, const char *url, const uint8_t *req, size_t req_len,
		     uint8_t **resp, size_t *resp_len)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct llv_buf b = LLV_BUF_INIT;
	long status = 0;
	CURLcode rc;

	(void)ctx;
	if (!c)
		return -1;
	h = curl_slist_append(h, "Content-Type: application/ocsp-request");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)req);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req_len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK || status != 200 || !b.len) {
		llv_warn("ocsp: %s no respondió (%s, HTTP %ld)", url,
			 rc != CURLE_OK ? curl_easy_strerror(rc) : "ok", status);
		llv_buf_free(&b);
		return -1;
	}
	*resp = llv_buf_steal(&b, resp_len);
	return 0;
}

int idp_ocsp_init(struct idp_ctx *ctx)
{
	/* URL, skew and the pre-approved responders ("ocsp_responders"). */
	int rc = idp_config_ocsp_opts(&ctx->cfg, &ctx->ocsp, &ctx->ocsp_responders);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		sk_X509_pop_free(ctx->ocsp_responders, X509_free);
		ctx->ocsp_responders = NULL;
		ctx->ocsp.responders = NULL;
		return -1;
	}
	ctx->ocsp.transport = transport;
	ctx->ocsp.transport_ctx = ctx;
	ctx->ocsp_enabled = true;
	if (ctx->ocsp_responders)
		llv_info("config: %d certificado(s) de respondedor OCSP preaprobado(s)",
			 sk_X509_num(ctx->ocsp_responders));
	return 0;
}

void idp_ocsp_cleanup(struct idp_ctx *ctx)
{
	if (ctx->ocsp_enabled)
		curl_global_cleanup();
	ctx->ocsp_enabled = false;
	sk_X509_pop_free(ctx->ocsp_responders, X509_free);
	ctx->ocsp_responders = NULL;
	ctx->ocsp.responders = NULL;
}
