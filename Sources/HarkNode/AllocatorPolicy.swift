#if canImport(Glibc)
import Glibc
#endif

/// The glibc malloc settings of a process that runs a node (mallopt(3)). Call once at process
/// start, before the node's threads allocate. No effect on other C libraries.
///
/// - A file transfer allocates and frees buffers of a chunk (1 MiB and more) at a high rate.
///   glibc's defaults serve those with mmap/munmap or give freed heap back at once, so every
///   chunk's buffers fault in fresh zeroed pages (a large share of the CPU of a transfer). The
///   policy keeps them in the heap (`M_MMAP_THRESHOLD` 32 MiB) and keeps up to 128 MiB of freed
///   heap for reuse (`M_TRIM_THRESHOLD`).
/// - Events are decoded and checked on every core and freed on the node's thread. With glibc's
///   default of eight arenas per core, memory freed that way stays spread over arenas that the
///   next allocation does not reuse: a new member's first sync of 100,000 events ended about
///   50 MB higher. Two arenas (`M_ARENA_MAX`) keep it at what the node holds.
///
/// Not thread-safe: call before starting threads.
public enum AllocatorPolicy {
    public static func applyForNode() {
        #if os(Linux)
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 32 << 20)
        _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, 128 << 20)
        _ = glibcMallopt(-8 /* M_ARENA_MAX */, 2)
        #endif
    }
}

#if os(Linux)
/// glibc's mallopt(3) (malloc.h is not part of the Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
