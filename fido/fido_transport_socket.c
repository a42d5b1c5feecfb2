/* CTAPHID over llavero-vkey's SOCK_SEQPACKET Unix socket: one 64-byte HID
 * report per packet. libfido2 does the CTAPHID framing; these are its custom
 * io functions (fido_dev_set_io_functions). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fido_internal.h"
#include "log.h"

struct sock_handle {
	int fd;
};

static int sock_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path == NULL || strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

bool fido_bridge_socket_alive(const char *path)
{
	int fd = sock_connect(path);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void *sock_open(const char *path)
{
	struct sock_handle *h;
	int fd = sock_connect(path);

	if (fd < 0) {
		llv_warn("no se pudo conectar con la llave simulada %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((h = malloc(sizeof(*h))) == NULL) {
		close(fd);
		return NULL;
	}
	h->fd = fd;
	return h;
}

static void sock_close(void *handle)
{
	struct sock_handle *h = handle;

	if (h == NULL)
		return;
	close(h->fd);
	free(h);
}

static int sock_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct sock_handle *h = handle;
	struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
	ssize_t n;
	int rc;

	do
		rc = poll(&pfd, 1, ms < 0 ? -1 : ms);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return -1;
	n = recv(h->fd, buf, len, 0);
	if (n <= 0) {
		if (n == 0)
			llv_warn("la llave simulada cerró la conexión");
		return -1;
	}
	return (int)n;
}

/* libfido2 hands over an output report: report ID 0, then 64 bytes. */
static int sock_write(void *handle, const unsigned char *buf, size_t len)
{
	struct sock_handle *h = handle;

	if (len < 2)
		return -1;
	if (send(h->fd, buf + 1, len - 1, MSG_NOSIGNAL) != (ssize_t)(len - 1))
		return -1;
	return (int)len;
}

const fido_dev_io_t fido_bridge_socket_io = {
	sock_open, sock_close, sock_read, sock_write,
};
