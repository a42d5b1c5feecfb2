/* HTML pages of llavero-idp (Spanish): a shared layout and the pages. */
#ifndef LLAVERO_IDP_PAGES_H
#define LLAVERO_IDP_PAGES_H

#include "buf.h"

/* Opens a page: <head> with the title, the CSRF token (meta csrf-token) and
 * the static CSS/JS; <body><main>. */
void idp_page_begin(struct llv_buf *b, const char *title, const char *csrf);
void idp_page_end(struct llv_buf *b);

#endif
