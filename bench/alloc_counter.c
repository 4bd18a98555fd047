// An LD_PRELOAD shim that counts heap allocations, for bench/gateway.
//
//   cc -O2 -shared -fPIC -o alloc_counter.so bench/alloc_counter.c -ldl
//   ALLOC_COUNTER_FILE=/tmp/x LD_PRELOAD=./alloc_counter.so portico serve ...
//
// The counters live in a MAP_SHARED mapping of ALLOC_COUNTER_FILE, so a benchmark reads them
// at any moment with a plain read of the file (eight little-endian uint64: malloc, calloc,
// realloc, aligned, free, bytes requested, magic, pid) without signals or a thread in the
// counted process. Increments are relaxed atomics: the totals are exact, the order between
// threads does not matter. Without ALLOC_COUNTER_FILE the process runs counted but unread.
// One counted process per file: forked children (nginx's worker) keep counting into it, but
// a child that execs a new program with the variable set would take the file over.
//
// C++ operator new and the containers' allocators end in malloc (libstdc++), so they are
// counted here; so are OpenSSL's and SQLite's allocations.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { kMalloc, kCalloc, kRealloc, kAligned, kFree, kBytes, kMagic, kPid, kSlots };
#define MAGIC 0x616c6c6f63636e74ULL  // "allocnt"

static uint64_t local_counters[kSlots];
static uint64_t* counters = local_counters;

static void* (*real_malloc)(size_t);
static void* (*real_calloc)(size_t, size_t);
static void* (*real_realloc)(void*, size_t);
static void (*real_free)(void*);
static int (*real_posix_memalign)(void**, size_t, size_t);
static void* (*real_aligned_alloc)(size_t, size_t);
static void* (*real_memalign)(size_t, size_t);

// dlsym may itself call calloc before real_calloc is known; those few early requests are
// served from this arena and never freed to the real allocator.
static char bootstrap[4096] __attribute__((aligned(16)));
static size_t bootstrap_used;

static int from_bootstrap(const void* p) {
  return (const char*)p >= bootstrap && (const char*)p < bootstrap + sizeof bootstrap;
}

static void* bootstrap_alloc(size_t n) {
  size_t at = (bootstrap_used + 15) & ~(size_t)15;
  if (at + n > sizeof bootstrap) return NULL;
  bootstrap_used = at + n;
  return bootstrap + at;  // static storage: already zero, as calloc must return
}

static void count(int slot, size_t bytes) {
  __atomic_fetch_add(&counters[slot], 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&counters[kBytes], bytes, __ATOMIC_RELAXED);
}

static int resolving;

static void resolve(void) {
  if (real_malloc || resolving) return;
  resolving = 1;
  real_calloc = (void* (*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
  real_malloc = (void* (*)(size_t))dlsym(RTLD_NEXT, "malloc");
  real_realloc = (void* (*)(void*, size_t))dlsym(RTLD_NEXT, "realloc");
  real_free = (void (*)(void*))dlsym(RTLD_NEXT, "free");
  real_posix_memalign = (int (*)(void**, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
  real_aligned_alloc = (void* (*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
  real_memalign = (void* (*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
  resolving = 0;
}

// The process that maps the file owns it and starts the counts from zero; a process that
// execs (taskset, a wrapper) hands the file to its new image, which starts them again under
// the same pid. The pid slot tells the reader whose counts it sees.
__attribute__((constructor)) static void map_counters(void) {
  resolve();
  const char* path = getenv("ALLOC_COUNTER_FILE");
  if (!path || !*path) return;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  size_t size = sizeof(uint64_t) * kSlots;
  if (ftruncate(fd, (off_t)size) == 0) {
    void* m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m != MAP_FAILED) {
      uint64_t* shared = (uint64_t*)m;
      for (int i = 0; i < kSlots; ++i) __atomic_store_n(&shared[i], 0, __ATOMIC_RELAXED);
      shared[kMagic] = MAGIC;
      shared[kPid] = (uint64_t)getpid();
      __atomic_store_n(&counters, shared, __ATOMIC_RELEASE);
    }
  }
  close(fd);
}

void* malloc(size_t n) {
  resolve();
  if (!real_malloc) return bootstrap_alloc(n);
  count(kMalloc, n);
  return real_malloc(n);
}

void* calloc(size_t k, size_t n) {
  resolve();
  if (!real_calloc) return n && k > SIZE_MAX / n ? NULL : bootstrap_alloc(k * n);
  count(kCalloc, k * n);
  return real_calloc(k, n);
}

void* realloc(void* p, size_t n) {
  resolve();
  if (from_bootstrap(p)) {
    void* q = malloc(n);
    size_t room = (size_t)(bootstrap + sizeof bootstrap - (char*)p);
    if (q) memcpy(q, p, n < room ? n : room);
    return q;
  }
  count(kRealloc, n);
  return real_realloc(p, n);
}

void free(void* p) {
  if (!p || from_bootstrap(p)) return;
  resolve();
  __atomic_fetch_add(&counters[kFree], 1, __ATOMIC_RELAXED);
  real_free(p);
}

int posix_memalign(void** out, size_t align, size_t n) {
  resolve();
  count(kAligned, n);
  return real_posix_memalign(out, align, n);
}

void* aligned_alloc(size_t align, size_t n) {
  resolve();
  count(kAligned, n);
  return real_aligned_alloc(align, n);
}

void* memalign(size_t align, size_t n) {
  resolve();
  count(kAligned, n);
  return real_memalign(align, n);
}
