/* handlers.h — every request handler, named in routes.c. */
#ifndef CIVICARD_HANDLERS_H
#define CIVICARD_HANDLERS_H

#include "http.h"

/* Operations: src/http/ops.c */
void op_healthz(struct request *req);
void op_metrics(struct request *req);
void op_static(struct request *req);

/* Staff API: src/http/api_auth.c */
void api_login(struct request *req);
void api_logout(struct request *req);
void api_me(struct request *req);
void api_password(struct request *req);

/* Staff pages: src/ui/pages_auth.c */
void ui_home(struct request *req);
void ui_login_page(struct request *req);
void ui_login(struct request *req);
void ui_logout(struct request *req);
void ui_dashboard(struct request *req);
void ui_password_page(struct request *req);
void ui_password(struct request *req);

#endif
