/* What create and get share: the ceremony object, opening the chosen (or
 * first) key, cancellation from another thread, error text. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fido_internal.h"
#include "json.h"
#include "log.h"

void fido_bridge_ceremony_init(struct fido_bridge_ceremony *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

void fido_bridge_ceremony_clear(struct fido_bridge_ceremony *c)
{
	pthread_mutex_destroy(&c->lock);
}

void fido_bridge_set_error(struct fido_bridge_ceremony *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	llv_info("%s", c->error);
}

int fido_bridge_ceremony_origin(struct fido_bridge_ceremony *c, char *host, size_t host_max)
{
	int r;

	if (!json_is_object(c->options)) {
		fido_bridge_set_error(c, "las opciones no son un objeto JSON");
		return FIDO_BRIDGE_ERR_BAD_ARG;
	}
	/* The origin first: nothing else matters if it is not allowed. */
	if ((r = fido_bridge_origin_host(c->origin, host, host_max)) != FIDO_BRIDGE_OK)
		fido_bridge_set_error(c, "origen no permitido: %s", c->origin ? c->origin : "(ninguno)");
	return r;
}

int fido_bridge_ceremony_rpid(struct fido_bridge_ceremony *c, const char *rp_id)
{
	int r;

	if ((r = fido_bridge_rpid_check(c->origin, rp_id)) != FIDO_BRIDGE_OK)
		fido_bridge_set_error(c, "el RP ID «%s» no vale para el origen %s", rp_id, c->origin);
	return r;
}

int fido_bridge_ceremony_failed(struct fido_bridge_ceremony *c, int fr, const char *op)
{
	int r = fido_bridge_map_fido_err(fr);

	if (c->cancelled)
		r = FIDO_BRIDGE_ERR_CANCELLED;
	fido_bridge_set_error(c, "%s: %s", op, fido_strerr(fr));
	return r;
}

int fido_bridge_pkc_new(struct fido_bridge_pkc *p)
{
	p->res = json_object();
	p->resp = json_object();
	p->ext = json_object();
	if (p->res == NULL || p->resp == NULL || p->ext == NULL)
		return FIDO_BRIDGE_ERR_INTERNAL;
	return FIDO_BRIDGE_OK;
}

int fido_bridge_pkc_start(struct fido_bridge_pkc *p, const uint8_t *id, size_t id_len,
			  const char *cdj, size_t cdj_len)
{
	if (llv_json_set_b64url(p->res, "id", id, id_len) != 0 ||
	    llv_json_set_b64url(p->res, "rawId", id, id_len) != 0 ||
	    json_object_set_new(p->res, "type", json_string("public-key")) != 0 ||
	    json_object_set_new(p->res, "authenticatorAttachment", json_string("cross-platform")) != 0 ||
	    llv_json_set_b64url(p->resp, "clientDataJSON", (const uint8_t *)cdj, cdj_len) != 0)
		return FIDO_BRIDGE_ERR_INTERNAL;
	return FIDO_BRIDGE_OK;
}

void fido_bridge_pkc_finish(struct fido_bridge_pkc *p, json_t **out)
{
	json_object_set(p->res, "response", p->resp);
	json_object_set(p->res, "clientExtensionResults", p->ext);
	*out = json_incref(p->res);
}

void fido_bridge_pkc_free(struct fido_bridge_pkc *p)
{
	json_decref(p->res);
	json_decref(p->resp);
	json_decref(p->ext);
}

int fido_bridge_ceremony_open(struct fido_bridge_ceremony *c, fido_dev_t **dev)
{
	struct fido_bridge_device *list = NULL;
	size_t n = 0;
	int r;

	*dev = NULL;
	if (c->device == NULL) {
		if ((r = fido_bridge_discover(&list, &n)) != FIDO_BRIDGE_OK)
			return r;
		if (n == 0) {
			free(list);
			fido_bridge_set_error(c, "no se encontró ninguna llave de seguridad");
			return FIDO_BRIDGE_ERR_NO_DEVICE;
		}
		snprintf(c->chosen, sizeof(c->chosen), "%s", list[0].path);
		free(list);
		c->device = c->chosen;
	}
	if ((r = fido_bridge_open(c->device, dev)) != FIDO_BRIDGE_OK) {
		fido_bridge_set_error(c, "no se pudo abrir %s", c->device);
		return r;
	}
	pthread_mutex_lock(&c->lock);
	c->dev = *dev;
	r = c->cancelled ? FIDO_BRIDGE_ERR_CANCELLED : FIDO_BRIDGE_OK;
	pthread_mutex_unlock(&c->lock);
	if (r != FIDO_BRIDGE_OK)
		fido_bridge_ceremony_close(c, dev);
	return r;
}

void fido_bridge_ceremony_close(struct fido_bridge_ceremony *c, fido_dev_t **dev)
{
	pthread_mutex_lock(&c->lock);
	c->dev = NULL;
	pthread_mutex_unlock(&c->lock);
	fido_bridge_close(dev);
}

void fido_bridge_cancel(struct fido_bridge_ceremony *c)
{
	pthread_mutex_lock(&c->lock);
	c->cancelled = true;
	if (c->dev != NULL)
		fido_dev_cancel(c->dev);
	pthread_mutex_unlock(&c->lock);
}
