#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The receiving side of one manifest: a target folder opened once, and the staging folder
/// `<target>/.hark-partial/<manifest ID hex>/` (mode 0o700) where `StagedFile`s live until they
/// are complete (PROTOCOL.md §8.5).
///
/// The target folder itself is opened by path (a symlink there is the user's choice and is
/// followed); everything below it — the staging folders, the folders of a received path and
/// the files — is reached with `openat`/`mkdirat` one component at a time with O_NOFOLLOW, so
/// a symbolic link planted inside the target is never followed.
///
/// Not thread-safe: use a FetchTarget and its StagedFiles from one task or thread.
public final class FetchTarget {
    /// How staged files are written and committed.
    public struct Options: Sendable, Equatable {
        /// Replace an existing file at the destination (atomically, with renameat). Default false:
        /// an existing file makes `stage` and `commit` throw `FileError.alreadyExists`.
        public var force: Bool
        /// Persist the bitmap after this many newly written chunks (≥ 1; default 32). Each
        /// persist is fdatasync(part) then the bitmap write then fdatasync(bitmap), so a crash
        /// loses at most this many chunks, never marks an unwritten chunk as verified.
        public var flushEveryChunks: Int
        /// Permission bits kept from the manifest's mode (default 0o755: no group/other write).
        /// The owner read bit (0o400) is always set so the receiver can read what it received.
        public var modeMask: UInt32
        /// Before the rename, read the whole part file back and re-hash every chunk (default
        /// false: chunks were verified on arrival, and the bitmap is trusted). Counted in
        /// `StagedFile.Stats.bytesReadForVerification`.
        public var rehashOnCommit: Bool

        public init(force: Bool = false, flushEveryChunks: Int = 32, modeMask: UInt32 = 0o755, rehashOnCommit: Bool = false) {
            precondition(flushEveryChunks >= 1)
            self.force = force
            self.flushEveryChunks = flushEveryChunks
            self.modeMask = modeMask & 0o777
            self.rehashOnCommit = rehashOnCommit
        }
    }

    public let manifest: Manifest
    public let options: Options
    /// The target folder as given.
    public let directoryPath: String
    let root: Descriptor
    let stagingParent: Descriptor
    let staging: Descriptor
    let stagingName: String

    /// Opens `directory` (which must exist) and creates or reopens the staging folder of
    /// `manifest` inside it.
    /// - Throws: `FileError.io` (the folder is missing or unreadable), `.unsafeTarget` (a symlink
    ///   or file named `.hark-partial` or like the staging folder is in the way).
    public init(directory: String, manifest: Manifest, options: Options = Options()) throws(FileError) {
        self.manifest = manifest
        self.options = options
        directoryPath = directory
        let fd = openAt(AT_FDCWD, directory, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw ioError("open", directory) }
        root = Descriptor(fd)
        stagingName = manifest.id.hex
        let shown = directory + "/" + FileDomain.stagingFolder
        // mkdirat + openat(O_NOFOLLOW) per component; 0o700 so other users cannot read partials.
        guard mkdirat(root.raw, FileDomain.stagingFolder, 0o700) == 0 || errno == EEXIST else { throw ioError("mkdir", shown) }
        guard let parent = try openFolder(root, [FileDomain.stagingFolder], create: false, shownAs: shown) else {
            throw ioError("open", shown, ENOENT)
        }
        stagingParent = parent
        guard mkdirat(parent.raw, stagingName, 0o700) == 0 || errno == EEXIST else { throw ioError("mkdir", shown + "/" + stagingName) }
        guard let s = try openFolder(parent, [stagingName], create: false, shownAs: shown + "/" + stagingName) else {
            throw ioError("open", shown + "/" + stagingName, ENOENT)
        }
        staging = s
    }

    /// Opens the staged file of entry `entry`: resumes it when a matching part file and bitmap
    /// exist, otherwise starts it afresh (sparse, `ftruncate`d to the final size).
    /// - Throws: `FileError.alreadyExists` when the destination exists and `force` is off;
    ///   `.unsafeTarget` when a symlink or file is in the way of the destination's folders;
    ///   `.io` on file-system errors.
    public func stage(entry: Int) throws(FileError) -> StagedFile {
        precondition(entry >= 0 && entry < manifest.entries.count, "entry index out of range")
        return try StagedFile(target: self, entryIndex: entry)
    }

    /// Removes the staging folder (and `.hark-partial` if that becomes empty) when no staged
    /// file is left in it. Returns true when the staging folder is gone.
    @discardableResult
    public func removeStagingIfEmpty() -> Bool {
        guard unlinkat(stagingParent.raw, stagingName, AT_REMOVEDIR) == 0 else { return false }
        _ = unlinkat(root.raw, FileDomain.stagingFolder, AT_REMOVEDIR)
        return true
    }

    /// Whether the destination of entry `entry` already exists (any kind of file, including a
    /// symlink, which is not followed).
    /// - Throws: `.unsafeTarget` when a symlink or file sits where one of its folders should be.
    public func destinationExists(entry: Int) throws(FileError) -> Bool {
        let e = manifest.entries[entry]
        guard let dir = try openFolder(root, e.path.dropLast(), create: false, shownAs: e.relativePath) else { return false }
        return try statAt(dir.raw, e.path.last!, path: e.relativePath) != nil
    }
}
