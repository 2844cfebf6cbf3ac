/*
 * index.c - the one list of endpoint families.  Adding a family is one
 * file (src/svc/x.c, with its route table, socket types, keys and a
 * `const struct family x_family`) and one line X(x) in FAMILIES below.
 * The order is the route-matching and documentation order; socket types
 * are numbered in it too.
 */
#include "svc.h"
#include "../auth.h"

#define FAMILIES(X) \
	X(health) \
	X(echo) \
	X(status) \
	X(call) \
	X(stt) \
	X(metrics) \
	X(consult) \
	X(notify) \
	X(doctors) \
	X(unified) \
	X(diagnosis) \
	X(docs) \
	X(admin) \
	X(audit) \
	X(web) \
	/* the list ends here */

#define DECLARE(name)	extern const struct family name##_family;
#define ENTRY(name)	&name##_family,

FAMILIES(DECLARE)

static const struct family *const families[] = { FAMILIES(ENTRY) };

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

const struct ward_pool *
svc_index_pool(size_t i)
{
	for (size_t f = 0; f < ARRAY_LEN(families); f++)
		for (const struct ward_pool *p = families[f]->pools;
		    p != NULL && p->name != NULL; p++)
			if (i-- == 0)
				return p;
	for (const struct ward_pool *p = svc_common_pools; p->name != NULL;
	    p++)
		if (i-- == 0)
			return p;
	return NULL;
}
