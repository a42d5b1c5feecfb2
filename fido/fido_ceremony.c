/* What create and get share: the ceremony object, opening the chosen (or
 * first) key, cancellation from another thread, error text. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fido_internal.h"
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
