/* Message language of the command line: Spanish first, English when the
 * locale says so. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool cli_english(void)
{
	static const char *vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v != NULL && *v != '\0')
			return strncmp(v, "en", 2) == 0;
	}
	return false;
}

const char *cli_tr(const char *es, const char *en)
{
	return cli_english() ? en : es;
}
