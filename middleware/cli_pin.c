/* Reading PINs: from a file for scripts, or from the terminal with echo off.
 * PINs are never logged; the caller wipes the buffer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "secmem.h"

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

int cli_pin_from_file(const char *path, char *pin, size_t len)
{
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		fprintf(stderr, "llavero: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fgets(pin, (int)len, f) == NULL) {
		fclose(f);
		fprintf(stderr, "llavero: %s: %s\n", path, T("archivo de PIN vacío", "empty PIN file"));
		return -1;
	}
	fclose(f);
	chomp(pin);
	return 0;
}

int cli_pin_from_tty(const char *prompt, char *pin, size_t len)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	size_t n = 0;
	char ch;
	bool restore;

	if (fd < 0) {
		fprintf(stderr, "llavero: %s\n",
			T("no hay terminal para pedir el PIN (use --pin-file)",
			  "no terminal to ask for the PIN (use --pin-file)"));
		return -1;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		close(fd);
		return -1;
	}
	restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	while (read(fd, &ch, 1) == 1 && ch != '\n' && ch != '\r') {
		if (n + 1 < len)
			pin[n++] = ch;
	}
	pin[n] = '\0';
	llv_wipe(&ch, sizeof(ch));
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* nothing to do */
	}
	close(fd);
	return 0;
}
