/*
 * far.c - the members of a room that sit on other instances (call peers,
 * telemedicine members), remembered from the bus so that a newcomer here
 * is told about them.  A table is a fixed array of (hash of the room
 * name, 64-bit id); the id carries its instance's tag, and a member whose
 * instance left the cluster is dropped when met.  A family keeps what
 * else it needs about a member in arrays of its own, indexed alike, and
 * moves them with the table (move).
 */
#include <string.h>

#include "svc.h"

uint64_t
far_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h;
}

uint64_t
far_room(int g)
{
	return far_hash(fanout_name(g), strlen(fanout_name(g)));
}

long
far_find(const struct far *t, uint64_t room, uint64_t id)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->room[i] == room && t->id[i] == id)
			return (long)i;
	return -1;
}

/* Remember id in room: false when it was known already; true when new,
 * with *slot its index, or UINT32_MAX when the table is full. */
bool
far_add(struct far *t, uint64_t room, uint64_t id, uint32_t *slot)
{
	if (far_find(t, room, id) >= 0)
		return false;
	*slot = UINT32_MAX;
	if (t->n < t->cap) {
		*slot = t->n++;
		t->room[*slot] = room;
		t->id[*slot] = id;
	}
	return true;
}

void
far_del(struct far *t, long i)
{
	if (i < 0 || (uint32_t)i >= t->n)
		return;
	t->n--;
	t->room[i] = t->room[t->n];
	t->id[i] = t->id[t->n];
	if (t->move != NULL)
		t->move((uint32_t)i, t->n);
}

/* The index of the next member of room from *i on whose instance is
 * live, or -1 at the end; members of dead instances are dropped. */
long
far_next(struct far *t, uint64_t room, uint32_t *i)
{
	while (*i < t->n) {
		if (t->room[*i] != room)
			(*i)++;
		else if (!bus_tag_live(t->tag(t->id[*i])))
			far_del(t, (long)*i);
		else
			return (long)(*i)++;
	}
	return -1;
}

uint32_t
far_count(struct far *t, uint64_t room)
{
	uint32_t i = 0, n = 0;

	while (far_next(t, room, &i) >= 0)
		n++;
	return n;
}

/* At the tick: while Redis is down what was remembered may go stale (a
 * leave missed), so it is forgotten; the roster answers refill it. */
void
far_tick(struct far *t)
{
	if (strcmp(bus_state(), "up") != 0)
		t->n = 0;
}
