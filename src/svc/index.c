/*
 * index.c - the one list of endpoint families.  Adding a family is one
 * file (src/svc/x.c, with its route table, socket types and a `struct
 * family x_family`) and one line here.  The order is the route-matching
 * and documentation order; socket types are numbered in it too.
 */
#include "svc.h"
#include "../auth.h"

static const struct family *const families[] = {
	&health_family,
	&echo_family,
	&status_family,
	&call_family,
	&stt_family,
	&metrics_family,
	&consult_family,
	&notify_family,
	&doctors_family,
	&unified_family,
	&diagnosis_family,
	&docs_family,
	&admin_family,
	&audit_family,
	&web_family,
#ifdef WARD_TEST_FAMILY
	&WARD_TEST_FAMILY,
#endif
};

int
svc_index_register(char *err, size_t errlen)
{
	static bool done;

	if (done)
		return 0;
	auth_tenant_claim_set("practice_id");
	for (size_t i = 0; i < ARRAY_LEN(families); i++)
		if (router_add_family(families[i], err, errlen) != 0)
			return WARD_EINVAL;
	done = true;
	return 0;
}

void
svc_index_start(void)
{
	for (size_t i = 0; i < ARRAY_LEN(families); i++)
		if (families[i]->start != NULL)
			families[i]->start();
}
