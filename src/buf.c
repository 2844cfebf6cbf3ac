/*
 * buf.c - fixed pools of reference-counted buffers.
 *
 * Five classes: small (control frames, short JSON), medium (answers up to
 * 2 KiB), io (reads in flight,
 * HTTP heads, responses, stream fragments), big (a reassembled message or a
 * request with its body) and ext (headers pointing at static bytes).  All
 * storage is static; a free list per class makes get/unref O(1).  A frame
 * encoded once is shared by every recipient's queue through its reference
 * count, and returns to its pool with the last unref.
 */
#include "internal.h"

struct buf {
	uint8_t		*base;
	uint32_t	 cap;
	uint32_t	 off, len;
	uint32_t	 refs;
	uint32_t	 next_free;	/* handle, 0 = end */
	uint8_t		 cls;
};

#define N_SMALL	WARD_SMALLBUF_COUNT
#define N_MED	WARD_MEDBUF_COUNT
#define N_IO	WARD_IOBUF_COUNT
#define N_BIG	WARD_BIGBUF_COUNT
#define N_EXT	WARD_EXTBUF_COUNT
#define N_ALL	(N_SMALL + N_IO + N_BIG + N_EXT + N_MED)

static _Alignas(16) uint8_t mem_small[N_SMALL][WARD_SMALLBUF_SIZE];
static _Alignas(16) uint8_t mem_io[N_IO][WARD_IOBUF_SIZE];
static _Alignas(16) uint8_t mem_med[N_MED][WARD_MEDBUF_SIZE];
static _Alignas(16) uint8_t mem_big[N_BIG][WARD_BIGBUF_SIZE];
static struct buf bufs[N_ALL + 1];	/* [0] unused: handle 0 = none */

static uint32_t free_head[BUF_NCLASS];
static struct buf_stats st;

static void
fill(int cls, uint32_t first, uint32_t count, uint8_t *mem, uint32_t size)
{
	st.cap[cls] = count;
	st.size[cls] = size;
	free_head[cls] = count ? first : 0;
	for (uint32_t i = 0; i < count; i++) {
		struct buf *b = &bufs[first + i];

		b->base = mem ? mem + (size_t)i * size : NULL;
		b->cap = size;
		b->cls = (uint8_t)cls;
		b->refs = 0;
		b->next_free = i + 1 < count ? first + i + 1 : 0;
	}
}

void
buf_init(void)
{
	memset(&st, 0, sizeof st);
	fill(BUF_SMALL, 1, N_SMALL, &mem_small[0][0], WARD_SMALLBUF_SIZE);
	fill(BUF_IO, 1 + N_SMALL, N_IO, &mem_io[0][0], WARD_IOBUF_SIZE);
	fill(BUF_BIG, 1 + N_SMALL + N_IO, N_BIG, &mem_big[0][0],
	    WARD_BIGBUF_SIZE);
	fill(BUF_EXT, 1 + N_SMALL + N_IO + N_BIG, N_EXT, NULL, 0);
	fill(BUF_MED, 1 + N_SMALL + N_IO + N_BIG + N_EXT, N_MED, &mem_med[0][0],
	    WARD_MEDBUF_SIZE);
}

uint32_t
buf_get_class(int cls)
{
	uint32_t h = free_head[cls];
	struct buf *b;

	if (h == 0) {
		st.fails++;
		return 0;
	}
	b = &bufs[h];
	free_head[cls] = b->next_free;
	b->refs = 1;
	b->off = 0;
	b->len = 0;
	if (++st.used[cls] > st.peak[cls])
		st.peak[cls] = st.used[cls];
	return h;
}

uint32_t
buf_get(size_t need)
{
	static const int order[] = { BUF_SMALL, BUF_MED, BUF_IO, BUF_BIG };

	for (size_t i = 0; i < ARRAY_LEN(order); i++) {
		int cls = order[i];

		if (need <= st.size[cls] && free_head[cls] != 0)
			return buf_get_class(cls);
	}
	st.fails++;
	return 0;
}

uint32_t
buf_ext(const void *data, size_t len)
{
	uint32_t h = buf_get_class(BUF_EXT);

	if (h != 0) {
		bufs[h].base = (uint8_t *)(uintptr_t)data;
		bufs[h].cap = (uint32_t)len;
		bufs[h].len = (uint32_t)len;
	}
	return h;
}

uint8_t *
buf_base(uint32_t h)
{
	return bufs[h].base;
}

size_t
buf_cap(uint32_t h)
{
	return bufs[h].cap;
}

uint8_t *
buf_data(uint32_t h)
{
	return bufs[h].base + bufs[h].off;
}

uint32_t
buf_len(uint32_t h)
{
	return bufs[h].len;
}

void
buf_set(uint32_t h, uint32_t off, uint32_t len)
{
	bufs[h].off = off;
	bufs[h].len = len;
}

void
buf_ref(uint32_t h)
{
	bufs[h].refs++;
}

void
buf_unref(uint32_t h)
{
	struct buf *b;

	if (h == 0)
		return;
	b = &bufs[h];
	if (b->refs == 0 || --b->refs > 0)
		return;
	b->next_free = free_head[b->cls];
	free_head[b->cls] = h;
	st.used[b->cls]--;
}

bool
buf_free_in(int cls)
{
	return free_head[cls] != 0;
}

/* The last buffers of a class are kept for complete work (answers,
 * frames, a request or message already whole): an eighth, at least one
 * where the class has four or more. */
uint32_t
buf_reserve(int cls)
{
	uint32_t cap = st.cap[cls];

	if (cls == BUF_EXT || cap < 4)
		return 0;
	return cap / 8 > 0 ? cap / 8 : 1;
}

bool
buf_spare_in(int cls)
{
	return st.cap[cls] - st.used[cls] > buf_reserve(cls);
}

uint32_t
buf_get_spare(int cls)
{
	if (!buf_spare_in(cls)) {
		st.fails++;
		return 0;
	}
	return buf_get_class(cls);
}

uint32_t
buf_refs(uint32_t h)
{
	return bufs[h].refs;
}

int
buf_class(uint32_t h)
{
	return bufs[h].cls;
}

int
buf_class_for(size_t need)
{
	static const int order[] = { BUF_SMALL, BUF_MED, BUF_IO, BUF_BIG };

	for (size_t i = 0; i < ARRAY_LEN(order); i++)
		if (need <= st.size[order[i]] && st.cap[order[i]] > 0)
			return order[i];
	return -1;
}

uint32_t
buf_get_spare_fit(size_t need, int *wait)
{
	static const int order[] = { BUF_SMALL, BUF_MED, BUF_IO, BUF_BIG };

	*wait = buf_class_for(need);
	for (size_t i = 0; i < ARRAY_LEN(order); i++) {
		int cls = order[i];

		if (need <= st.size[cls] && buf_spare_in(cls))
			return buf_get_class(cls);
	}
	st.fails++;
	return 0;
}

size_t
buf_desc_bytes(void)
{
	return sizeof(struct buf);
}

void
buf_stats(struct buf_stats *out)
{
	*out = st;
}
